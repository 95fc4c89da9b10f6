#include "raster/flatten.h"

#include <algorithm>
#include <cmath>

#include "core/status.h"

namespace verm::raster {
namespace {

bool finite(Point p) { return std::isfinite(p.x) && std::isfinite(p.y); }

struct Builder {
  std::vector<Contour>& out;
  size_t max_points;
  size_t count = 0;
  void push(Point p, bool smooth) {
    Contour& c = out.back();
    if (!c.pts.empty()) {
      Point d = p - c.pts.back();
      if (std::fabs(d.x) < 1e-9 && std::fabs(d.y) < 1e-9) {
        if (!smooth) c.smooth.back() = 0;  // a corner lands on the same spot
        return;
      }
    }
    if (++count > max_points) throw InputError("raster: path too complex to flatten");
    c.pts.push_back(p);
    c.smooth.push_back(smooth ? 1 : 0);
    if (measuring) c.measure.push_back(1.f);
  }
  bool measuring = false;
  // Sets the measure factor of the points pushed since index `from` of the current contour.
  void set_measure(size_t from, Point start, double coarse) {
    if (!measuring) return;
    Contour& c = out.back();
    double fine = 0;
    Point prev = start;
    for (size_t i = from; i < c.pts.size(); ++i) {
      fine += (c.pts[i] - prev).length();
      prev = c.pts[i];
    }
    float k = fine > 0 && coarse > 0 ? static_cast<float>(coarse / fine) : 1.f;
    for (size_t i = from; i < c.measure.size(); ++i) c.measure[i] = k;
  }
};

// Skia's ContourMeasure curve lengths: subdivide at t = 1/2 while the control points stray
// more than `tol` (max-norm) from the chord, then sum chord lengths.
double cheap_far(Point a, Point b, double tol) {
  return std::max(std::fabs(a.x - b.x), std::fabs(a.y - b.y)) > tol;
}

double quad_measure(Point p0, Point p1, Point p2, double tol, int depth) {
  double dx = p1.x / 2 - (p0.x + p2.x) / 4, dy = p1.y / 2 - (p0.y + p2.y) / 4;
  if (depth < 10 && std::max(std::fabs(dx), std::fabs(dy)) > tol) {
    Point a = (p0 + p1) * 0.5, b = (p1 + p2) * 0.5, m = (a + b) * 0.5;
    return quad_measure(p0, a, m, tol, depth + 1) + quad_measure(m, b, p2, tol, depth + 1);
  }
  return (p2 - p0).length();
}

double cubic_measure(Point p0, Point p1, Point p2, Point p3, double tol, int depth) {
  Point t1 = p0 + (p3 - p0) * (1.0 / 3), t2 = p0 + (p3 - p0) * (2.0 / 3);
  if (depth < 10 && (cheap_far(p1, t1, tol) || cheap_far(p2, t2, tol))) {
    Point ab = (p0 + p1) * 0.5, bc = (p1 + p2) * 0.5, cd = (p2 + p3) * 0.5;
    Point abc = (ab + bc) * 0.5, bcd = (bc + cd) * 0.5, m = (abc + bcd) * 0.5;
    return cubic_measure(p0, ab, abc, m, tol, depth + 1) +
           cubic_measure(m, bcd, cd, p3, tol, depth + 1);
  }
  return (p3 - p0).length();
}

int segments_for(double dd, double tol) {
  double n = std::ceil(std::sqrt(dd / tol));
  if (!(n >= 1)) return 1;
  return static_cast<int>(std::min(n, 500.0));
}

}  // namespace

std::vector<Contour> flatten(const Path& path, const Transform& ts, double tol,
                             size_t max_points, double measure_tol) {
  std::vector<Contour> out;
  if (!(tol > 0)) tol = 0.1;
  Builder b{out, max_points};
  b.measuring = measure_tol > 0;
  const auto& verbs = path.verbs();
  const auto& pts = path.points();
  size_t i = 0;
  Point start{0, 0}, last{0, 0};
  bool open = false;  // a current contour exists and is not closed
  auto ensure = [&]() {
    if (!open) {
      out.push_back({});
      b.push(last, false);
      start = last;
      open = true;
    }
  };
  for (Verb v : verbs) {
    switch (v) {
      case Verb::Move: {
        if (i >= pts.size()) return out;
        Point p = ts.apply(pts[i++]);
        if (!finite(p)) return out;
        out.push_back({});
        last = start = p;
        b.push(p, false);
        open = true;
        break;
      }
      case Verb::Line: {
        if (i >= pts.size()) return out;
        Point p = ts.apply(pts[i++]);
        if (!finite(p)) return out;
        ensure();
        b.push(p, false);
        last = p;
        break;
      }
      case Verb::Quad: {
        if (i + 1 >= pts.size()) return out;
        Point p1 = ts.apply(pts[i]), p2 = ts.apply(pts[i + 1]);
        i += 2;
        if (!finite(p1) || !finite(p2)) return out;
        ensure();
        size_t from = out.back().pts.size();
        Point d = last - p1 * 2 + p2;
        int n = segments_for(d.length() / 4, tol);
        for (int k = 1; k < n; ++k) {
          double t = static_cast<double>(k) / n, mt = 1 - t;
          b.push(last * (mt * mt) + p1 * (2 * mt * t) + p2 * (t * t), true);
        }
        b.push(p2, false);
        if (b.measuring) b.set_measure(from, last, quad_measure(last, p1, p2, measure_tol, 0));
        last = p2;
        break;
      }
      case Verb::Cubic: {
        if (i + 2 >= pts.size()) return out;
        Point p1 = ts.apply(pts[i]), p2 = ts.apply(pts[i + 1]), p3 = ts.apply(pts[i + 2]);
        i += 3;
        if (!finite(p1) || !finite(p2) || !finite(p3)) return out;
        ensure();
        size_t from = out.back().pts.size();
        Point d1 = last - p1 * 2 + p2, d2 = p1 - p2 * 2 + p3;
        double dd = std::max(d1.length(), d2.length());
        int n = segments_for(0.75 * dd, tol);
        for (int k = 1; k < n; ++k) {
          double t = static_cast<double>(k) / n, mt = 1 - t;
          b.push(last * (mt * mt * mt) + p1 * (3 * mt * mt * t) + p2 * (3 * mt * t * t) +
                     p3 * (t * t * t),
                 true);
        }
        b.push(p3, false);
        if (b.measuring)
          b.set_measure(from, last, cubic_measure(last, p1, p2, p3, measure_tol, 0));
        last = p3;
        break;
      }
      case Verb::Close:
        if (open && !out.empty()) {
          Contour& c = out.back();
          // Drop an explicit closing point equal to the start.
          if (c.pts.size() > 1) {
            Point d = c.pts.back() - c.pts.front();
            if (std::fabs(d.x) < 1e-9 && std::fabs(d.y) < 1e-9) {
              c.pts.pop_back();
              c.smooth.pop_back();
              if (!c.measure.empty()) c.measure.pop_back();
            }
          }
          c.closed = true;
          c.smooth[0] = 0;
        }
        open = false;
        last = start;
        break;
    }
  }
  return out;
}

std::vector<Contour> dash(const std::vector<Contour>& in, const std::vector<double>& pattern,
                          double offset) {
  std::vector<Contour> out;
  double total = 0;
  for (double d : pattern) total += d;
  if (!(total > 0) || !std::isfinite(total) || pattern.empty()) return in;
  const size_t np = pattern.size();
  double off = std::fmod(offset, total);
  if (off < 0) off += total;
  for (const Contour& c : in) {
    size_t n = c.pts.size();
    if (n < 2) continue;
    size_t nseg = c.closed ? n : n - 1;
    // Guard against patterns far too fine for the contour length.
    double len = 0;
    for (size_t s = 0; s < nseg; ++s) len += (c.pts[(s + 1) % n] - c.pts[s]).length();
    if (len / total * static_cast<double>(np) > 1e6) throw InputError("raster: dash pattern too dense");
    // Pattern state at the contour start.
    size_t idx = 0;
    double rem = pattern[0];
    double o = off;
    while (o > 0) {
      if (o >= rem) {
        o -= rem;
        idx = (idx + 1) % np;
        rem = pattern[idx];
      } else {
        rem -= o;
        o = 0;
      }
    }
    bool on = (idx % 2) == 0;
    Contour cur;
    if (on) {
      cur.pts.push_back(c.pts[0]);
      cur.smooth.push_back(0);
    }
    for (size_t s = 0; s < nseg; ++s) {
      Point a = c.pts[s], b = c.pts[(s + 1) % n];
      double seg = (b - a).length();
      if (!c.measure.empty() && s + 1 < n) seg *= c.measure[s + 1];
      double pos = 0;
      while (seg - pos > rem) {
        pos += rem;
        Point p = a + (b - a) * (pos / seg);
        if (on) {
          cur.pts.push_back(p);
          cur.smooth.push_back(0);
          out.push_back(std::move(cur));
          cur = Contour{};
        } else {
          cur = Contour{};
          cur.pts.push_back(p);
          cur.smooth.push_back(0);
        }
        on = !on;
        idx = (idx + 1) % np;
        rem = pattern[idx];
      }
      rem -= seg - pos;
      if (on) {
        bool last = s + 1 == nseg;
        cur.pts.push_back(b);
        cur.smooth.push_back(last ? 0 : c.smooth[(s + 1) % n]);
      }
    }
    if (on && cur.pts.size() >= 2) out.push_back(std::move(cur));
  }
  // Zero-length dashes (pattern entries of 0) produce single-point contours that caps draw.
  return out;
}

}  // namespace verm::raster
