// Basic geometry shared by every stage of the native core.
#pragma once
#include <algorithm>
#include <cmath>
#include <limits>

namespace verm {

struct Point {
  double x = 0, y = 0;
  Point operator+(Point o) const { return {x + o.x, y + o.y}; }
  Point operator-(Point o) const { return {x - o.x, y - o.y}; }
  Point operator*(double s) const { return {x * s, y * s}; }
  double dot(Point o) const { return x * o.x + y * o.y; }
  double cross(Point o) const { return x * o.y - y * o.x; }
  double length() const { return std::hypot(x, y); }
};

struct Rect {
  double x = 0, y = 0, w = 0, h = 0;
  double right() const { return x + w; }
  double bottom() const { return y + h; }
  bool empty() const { return !(w > 0) || !(h > 0); }
  static Rect from_ltrb(double l, double t, double r, double b) { return {l, t, r - l, b - t}; }
  Rect unite(const Rect& o) const {
    if (empty()) return o;
    if (o.empty()) return *this;
    return from_ltrb(std::min(x, o.x), std::min(y, o.y), std::max(right(), o.right()),
                     std::max(bottom(), o.bottom()));
  }
  Rect intersect(const Rect& o) const {
    double l = std::max(x, o.x), t = std::max(y, o.y);
    double r = std::min(right(), o.right()), b = std::min(bottom(), o.bottom());
    if (r <= l || b <= t) return {};
    return from_ltrb(l, t, r, b);
  }
};

// Affine transform [a c e; b d f; 0 0 1], SVG matrix(a b c d e f) order.
struct Transform {
  double a = 1, b = 0, c = 0, d = 1, e = 0, f = 0;

  static Transform translate(double tx, double ty) { return {1, 0, 0, 1, tx, ty}; }
  static Transform scale(double sx, double sy) { return {sx, 0, 0, sy, 0, 0}; }
  static Transform rotate_deg(double deg) {
    double r = deg * M_PI / 180.0, cs = std::cos(r), sn = std::sin(r);
    return {cs, sn, -sn, cs, 0, 0};
  }
  static Transform skew_x_deg(double deg) { return {1, 0, std::tan(deg * M_PI / 180.0), 1, 0, 0}; }
  static Transform skew_y_deg(double deg) { return {1, std::tan(deg * M_PI / 180.0), 0, 1, 0, 0}; }

  // (*this) * o : apply o first, then *this.
  Transform operator*(const Transform& o) const {
    return {a * o.a + c * o.b,     b * o.a + d * o.b,     a * o.c + c * o.d,
            b * o.c + d * o.d,     a * o.e + c * o.f + e, b * o.e + d * o.f + f};
  }
  // Post-multiply: returns this * o (o applied first, in local space). Same as SVG nesting.
  Transform pre_concat(const Transform& o) const { return (*this) * o; }
  Point apply(Point p) const { return {a * p.x + c * p.y + e, b * p.x + d * p.y + f}; }
  Point apply_vector(Point p) const { return {a * p.x + c * p.y, b * p.x + d * p.y}; }
  double determinant() const { return a * d - b * c; }
  bool is_identity() const { return a == 1 && b == 0 && c == 0 && d == 1 && e == 0 && f == 0; }
  bool is_invertible() const {
    double det = determinant();
    return std::isfinite(det) && std::fabs(det) > 1e-12;
  }
  bool is_finite() const {
    return std::isfinite(a) && std::isfinite(b) && std::isfinite(c) && std::isfinite(d) &&
           std::isfinite(e) && std::isfinite(f);
  }
  Transform inverted() const {
    double det = determinant();
    double id = 1.0 / det;
    return {d * id, -b * id, -c * id, a * id, (c * f - d * e) * id, (b * e - a * f) * id};
  }
  // Mean scale factor, used to size strokes, blur radii and curve tolerance in device space.
  double mean_scale() const { return std::sqrt(std::fabs(determinant())); }
  double scale_x() const { return std::hypot(a, b); }
  double scale_y() const { return std::hypot(c, d); }
  Rect map_rect(const Rect& r) const {
    Point p[4] = {apply({r.x, r.y}), apply({r.right(), r.y}), apply({r.x, r.bottom()}),
                  apply({r.right(), r.bottom()})};
    double l = p[0].x, t = p[0].y, rr = p[0].x, bb = p[0].y;
    for (auto& q : p) {
      l = std::min(l, q.x); t = std::min(t, q.y);
      rr = std::max(rr, q.x); bb = std::max(bb, q.y);
    }
    return Rect::from_ltrb(l, t, rr, bb);
  }
};

}  // namespace verm
