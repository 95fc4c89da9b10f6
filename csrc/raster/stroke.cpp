#include "raster/stroke.h"

#include <cmath>

namespace verm::raster {
namespace {

using scene::LineCap;
using scene::LineJoin;

Point unit(Point d) {
  double l = d.length();
  return l > 0 ? d * (1.0 / l) : Point{1, 0};
}
Point perp(Point d) { return {-d.y, d.x}; }  // normal on the "left" (+n) side

class Outliner {
 public:
  Outliner(const StrokeStyle& s, double tol) : st_(s), hw_(s.width / 2) {
    double r = std::max(hw_, 1e-9);
    double x = 1 - std::min(tol, r) / r;
    step_ = 2 * std::acos(std::clamp(x, -1.0, 1.0));
    if (!(step_ > 0.01)) step_ = 0.01;
  }

  // Appends an arc around `c` from angle a0 sweeping `sweep` radians (excluding the start point,
  // including the end point).
  void arc(std::vector<Point>& out, Point c, double a0, double sweep) const {
    int n = std::max(1, static_cast<int>(std::ceil(std::fabs(sweep) / step_)));
    n = std::min(n, 1000);
    for (int k = 1; k <= n; ++k) {
      double a = a0 + sweep * k / n;
      out.push_back({c.x + hw_ * std::cos(a), c.y + hw_ * std::sin(a)});
    }
  }

  // Join at `p` between incoming direction d0 and outgoing d1, on the side of normal +n
  // (n = perp(d) * hw). Appends from p + n0 to p + n1.
  void join(std::vector<Point>& out, Point p, Point d0, Point d1, bool smooth) const {
    Point n0 = perp(d0) * hw_, n1 = perp(d1) * hw_;
    double cr = d0.cross(d1), dt = d0.dot(d1);
    out.push_back(p + n0);
    if (std::fabs(cr) < 1e-12 && dt > 0) return;  // collinear, same direction
    if (cr > 0) {  // this side is the inner side of the turn
      out.push_back(p);
      out.push_back(p + n1);
      return;
    }
    LineJoin j = smooth ? LineJoin::Round : st_.join;
    switch (j) {
      case LineJoin::Round: {
        double a0 = std::atan2(n0.y, n0.x);
        double sweep = std::atan2(n0.cross(n1), n0.dot(n1));
        arc(out, p, a0, sweep);
        return;
      }
      case LineJoin::Bevel:
        out.push_back(p + n1);
        return;
      case LineJoin::Miter:
      case LineJoin::MiterClip: {
        double cos_half = std::sqrt(std::max(0.0, (1 + dt) / 2));  // cos of half the turn
        double ratio = cos_half > 1e-12 ? 1 / cos_half : INFINITY;
        Point bis = unit(n0 + n1);
        if (dt <= -1 + 1e-12) bis = unit(d0);  // 180 degree turn: clip line ahead
        if (ratio <= st_.miter_limit) {
          out.push_back(p + bis * (hw_ * ratio));
          out.push_back(p + n1);
          return;
        }
        if (j == LineJoin::MiterClip) {
          double L = st_.miter_limit * hw_;
          double pn = n0.dot(bis);
          if (L > pn) {
            double t0 = (L - pn) / std::max(d0.dot(bis), 1e-12);
            double t1 = (L - n1.dot(bis)) / std::max((d1 * -1).dot(bis), 1e-12);
            out.push_back(p + n0 + d0 * t0);
            out.push_back(p + n1 - d1 * t1);
          }
        }
        out.push_back(p + n1);
        return;
      }
    }
  }

  // Cap at end point p with direction d (pointing out of the line); out already holds p + n.
  void cap(std::vector<Point>& out, Point p, Point d) const {
    Point n = perp(d) * hw_;
    switch (st_.cap) {
      case LineCap::Butt:
        break;
      case LineCap::Square:
        out.push_back(p + n + d * hw_);
        out.push_back(p - n + d * hw_);
        break;
      case LineCap::Round: {
        double a0 = std::atan2(n.y, n.x);
        arc(out, p, a0, -M_PI);
        out.pop_back();
        break;
      }
    }
    out.push_back(p - n);
  }

  void contour(const Contour& c, std::vector<std::vector<Point>>& polys) const {
    const auto& p = c.pts;
    size_t n = p.size();
    if (n == 0) return;
    if (n == 1) {
      dot(p[0], polys);
      return;
    }
    size_t nseg = c.closed ? n : n - 1;
    std::vector<Point> dir(nseg);
    for (size_t s = 0; s < nseg; ++s) dir[s] = unit(p[(s + 1) % n] - p[s]);
    if (!c.closed) {
      std::vector<Point> out;
      out.reserve(n * 4 + 16);
      out.push_back(p[0] + perp(dir[0]) * hw_);
      for (size_t i = 1; i + 1 < n; ++i) join(out, p[i], dir[i - 1], dir[i], c.smooth[i]);
      out.push_back(p[n - 1] + perp(dir[nseg - 1]) * hw_);
      cap(out, p[n - 1], dir[nseg - 1]);
      for (size_t i = n - 2; i >= 1; --i) join(out, p[i], dir[i] * -1, dir[i - 1] * -1, c.smooth[i]);
      out.push_back(p[0] - perp(dir[0]) * hw_);
      cap(out, p[0], dir[0] * -1);
      polys.push_back(std::move(out));
      return;
    }
    // Closed: left ring forward, right ring backward.
    std::vector<Point> left, right;
    left.reserve(n * 4);
    right.reserve(n * 4);
    for (size_t i = 0; i < n; ++i) {
      Point din = dir[(i + nseg - 1) % nseg], dout = dir[i];
      join(left, p[i], din, dout, c.smooth[i]);
    }
    for (size_t k = 0; k < n; ++k) {
      size_t i = (n - k) % n;  // 0, n-1, ..., 1
      Point din = dir[i] * -1, dout = dir[(i + nseg - 1) % nseg] * -1;
      join(right, p[i], din, dout, c.smooth[i]);
    }
    polys.push_back(std::move(left));
    polys.push_back(std::move(right));
  }

  void dot(Point c, std::vector<std::vector<Point>>& polys) const {
    std::vector<Point> out;
    if (st_.cap == LineCap::Round) {
      out.push_back({c.x + hw_, c.y});
      arc(out, c, 0, 2 * M_PI);
      out.pop_back();
    } else if (st_.cap == LineCap::Square) {
      out = {{c.x - hw_, c.y - hw_}, {c.x + hw_, c.y - hw_}, {c.x + hw_, c.y + hw_},
             {c.x - hw_, c.y + hw_}};
    } else {
      return;
    }
    polys.push_back(std::move(out));
  }

 private:
  StrokeStyle st_;
  double hw_;
  double step_;
};

}  // namespace

void stroke_contours(const std::vector<Contour>& contours, const StrokeStyle& style,
                     double tolerance, std::vector<std::vector<Point>>& polygons) {
  if (!(style.width > 0) || !std::isfinite(style.width)) return;
  Outliner o(style, tolerance);
  for (const Contour& c : contours) o.contour(c, polygons);
}

}  // namespace verm::raster
