#include "core/path.h"

#include <cmath>

namespace verm {

void Path::append(const Path& other) {
  verbs_.insert(verbs_.end(), other.verbs_.begin(), other.verbs_.end());
  pts_.insert(pts_.end(), other.pts_.begin(), other.pts_.end());
}

Path Path::transformed(const Transform& ts) const {
  Path out = *this;
  for (auto& p : out.pts_) p = ts.apply(p);
  return out;
}

Rect Path::control_bounds() const {
  if (pts_.empty()) return {};
  double l = pts_[0].x, t = pts_[0].y, r = l, b = t;
  for (const auto& p : pts_) {
    l = std::min(l, p.x); t = std::min(t, p.y);
    r = std::max(r, p.x); b = std::max(b, p.y);
  }
  return Rect::from_ltrb(l, t, r, b);
}

namespace {

void extend(double& lo, double& hi, double v) {
  lo = std::min(lo, v);
  hi = std::max(hi, v);
}

// Extrema of a 1-D cubic Bezier on (0,1).
void cubic_extrema(double p0, double p1, double p2, double p3, double& lo, double& hi) {
  double a = -p0 + 3 * p1 - 3 * p2 + p3;
  double b = 2 * (p0 - 2 * p1 + p2);
  double c = p1 - p0;
  auto eval = [&](double t) {
    double mt = 1 - t;
    return mt * mt * mt * p0 + 3 * mt * mt * t * p1 + 3 * mt * t * t * p2 + t * t * t * p3;
  };
  auto check = [&](double t) {
    if (t > 0 && t < 1) extend(lo, hi, eval(t));
  };
  if (std::fabs(a) < 1e-12) {
    if (std::fabs(b) > 1e-12) check(-c / b);
    return;
  }
  double disc = b * b - 4 * a * c;
  if (disc < 0) return;
  double s = std::sqrt(disc);
  check((-b + s) / (2 * a));
  check((-b - s) / (2 * a));
}

void quad_extrema(double p0, double p1, double p2, double& lo, double& hi) {
  double den = p0 - 2 * p1 + p2;
  if (std::fabs(den) < 1e-12) return;
  double t = (p0 - p1) / den;
  if (t > 0 && t < 1) {
    double mt = 1 - t;
    extend(lo, hi, mt * mt * p0 + 2 * mt * t * p1 + t * t * p2);
  }
}

}  // namespace

Rect Path::exact_bounds() const {
  if (pts_.empty()) return {};
  double l = INFINITY, t = INFINITY, r = -INFINITY, b = -INFINITY;
  size_t i = 0;
  Point last{0, 0};
  for (Verb v : verbs_) {
    switch (v) {
      case Verb::Move:
      case Verb::Line:
        last = pts_[i++];
        extend(l, r, last.x); extend(t, b, last.y);
        break;
      case Verb::Quad: {
        Point p1 = pts_[i], p2 = pts_[i + 1];
        i += 2;
        extend(l, r, p2.x); extend(t, b, p2.y);
        quad_extrema(last.x, p1.x, p2.x, l, r);
        quad_extrema(last.y, p1.y, p2.y, t, b);
        last = p2;
        break;
      }
      case Verb::Cubic: {
        Point p1 = pts_[i], p2 = pts_[i + 1], p3 = pts_[i + 2];
        i += 3;
        extend(l, r, p3.x); extend(t, b, p3.y);
        cubic_extrema(last.x, p1.x, p2.x, p3.x, l, r);
        cubic_extrema(last.y, p1.y, p2.y, p3.y, t, b);
        last = p3;
        break;
      }
      case Verb::Close:
        break;
    }
  }
  if (!(l <= r) || !(t <= b)) return {};
  return Rect::from_ltrb(l, t, r, b);
}

std::vector<Path::Polyline> Path::flatten(double tolerance) const {
  std::vector<Polyline> out;
  if (!(tolerance > 0)) tolerance = 0.25;
  size_t i = 0;
  Point start{0, 0}, last{0, 0};
  auto current = [&]() -> Polyline& {
    if (out.empty() || out.back().closed) {
      out.push_back({});
      out.back().pts.push_back(last);
    }
    return out.back();
  };
  for (Verb v : verbs_) {
    switch (v) {
      case Verb::Move:
        last = start = pts_[i++];
        out.push_back({});
        out.back().pts.push_back(last);
        break;
      case Verb::Line:
        last = pts_[i++];
        current().pts.push_back(last);
        break;
      case Verb::Quad: {
        Point p1 = pts_[i], p2 = pts_[i + 1];
        i += 2;
        auto& pl = current();
        Point d = (last - p1 * 2 + p2);
        double dd = d.length();
        int n = std::max(1, (int)std::ceil(std::sqrt(dd / (4 * tolerance))));
        n = std::min(n, 1000);
        for (int k = 1; k <= n; ++k) {
          double t = (double)k / n, mt = 1 - t;
          pl.pts.push_back(last * (mt * mt) + p1 * (2 * mt * t) + p2 * (t * t));
        }
        last = p2;
        break;
      }
      case Verb::Cubic: {
        Point p1 = pts_[i], p2 = pts_[i + 1], p3 = pts_[i + 2];
        i += 3;
        auto& pl = current();
        Point d1 = last - p1 * 2 + p2, d2 = p1 - p2 * 2 + p3;
        double dd = std::max(d1.length(), d2.length());
        int n = std::max(1, (int)std::ceil(std::sqrt(3 * dd / (4 * tolerance))));
        n = std::min(n, 1000);
        for (int k = 1; k <= n; ++k) {
          double t = (double)k / n, mt = 1 - t;
          pl.pts.push_back(last * (mt * mt * mt) + p1 * (3 * mt * mt * t) +
                           p2 * (3 * mt * t * t) + p3 * (t * t * t));
        }
        last = p3;
        break;
      }
      case Verb::Close:
        if (!out.empty() && !out.back().closed) out.back().closed = true;
        last = start;
        break;
    }
  }
  return out;
}

}  // namespace verm
