#include "raster/coverage.h"

#include <algorithm>
#include <cstdint>

namespace verm::raster {

void CoverageRaster::reset(IRect box, bool aa) {
  if (box.empty()) box = {};
  aa_ = aa;
  exact_ = want_exact_;
  edges_.clear();
  if (!aa && ones_.size() < static_cast<size_t>(std::max(box.w, 0))) ones_.assign(box.w, 1.f);
  box_ = box;
  stride_ = box.w + 2;
  size_t need = static_cast<size_t>(stride_) * static_cast<size_t>(std::max(box.h, 0));
  if (exact_ && cells_.size() < need) cells_.assign(need, 0.f);
  // Cells are kept zeroed by sweep(); a reset without a sweep must clear what was touched.
  if (any_) {
    std::fill(cells_.begin(), cells_.end(), 0.f);
    std::fill(row_cells_.begin(), row_cells_.end(), 0.f);
  }
  row_min_.assign(std::max(box.h, 0), stride_);
  row_max_.assign(std::max(box.h, 0), -1);
  if (cov_.size() < static_cast<size_t>(stride_) + 1) cov_.resize(stride_ + 1);
  crossings_.clear();
  any_ = false;
}

void CoverageRaster::polygon(const Point* pts, size_t n) {
  if (n < 2) return;
  for (size_t i = 0; i + 1 < n; ++i) line(pts[i], pts[i + 1]);
  line(pts[n - 1], pts[0]);
}

void CoverageRaster::line(Point a, Point b) {
  if (box_.empty()) return;
  if (!std::isfinite(a.x) || !std::isfinite(a.y) || !std::isfinite(b.x) || !std::isfinite(b.y))
    return;
  if (!aa_) {
    if (a.y == b.y) return;
    int dir = 1;
    if (a.y > b.y) {
      std::swap(a, b);
      dir = -1;
    }
    if (b.y <= box_.y || a.y >= box_.bottom()) return;
    // Clamp far-away x so the crossing arithmetic stays finite.
    const double lim = 1e7;
    edges_.push_back({std::clamp(a.x, -lim, lim), a.y, std::clamp(b.x, -lim, lim), b.y, dir});
    any_ = true;
    return;
  }
  if (!exact_) {
    supersample_line(a, b);
    return;
  }
  if (a.y == b.y) return;
  const double top = box_.y, bot = box_.bottom();
  if (std::max(a.y, b.y) <= top || std::min(a.y, b.y) >= bot) return;
  // Clip vertically (keeps direction).
  auto clip_y = [&](Point& p, const Point& q, double yv) {
    p.x = p.x + (q.x - p.x) * ((yv - p.y) / (q.y - p.y));
    p.y = yv;
  };
  if (a.y < top) clip_y(a, b, top);
  if (b.y < top) clip_y(b, a, top);
  if (a.y > bot) clip_y(a, b, bot);
  if (b.y > bot) clip_y(b, a, bot);
  // Split at the left/right borders and clamp x: parts outside become vertical border edges,
  // which keeps the winding of everything to their right.
  const double left = box_.x, right = box_.right();
  double ts[4] = {0, 1, 0, 0};
  int nt = 2;
  if (a.x != b.x) {
    double t1 = (left - a.x) / (b.x - a.x), t2 = (right - a.x) / (b.x - a.x);
    if (t1 > 0 && t1 < 1) ts[nt++] = t1;
    if (t2 > 0 && t2 < 1) ts[nt++] = t2;
    std::sort(ts, ts + nt);
  }
  Point prev = a;
  for (int i = 1; i < nt; ++i) {
    Point cur = i == nt - 1 ? b : Point{a.x + (b.x - a.x) * ts[i], a.y + (b.y - a.y) * ts[i]};
    double x0 = std::clamp(prev.x, left, right) - left, x1 = std::clamp(cur.x, left, right) - left;
    cell_line(x0, prev.y - top, x1, cur.y - top);
    prev = cur;
  }
}

// tiny-skia's anti-aliasing (Skia's SuperBlitter, SUPERSAMPLE_SHIFT 2): four sub-scanlines
// per pixel row; an edge covers the sub-scanlines round(4*y0) .. round(4*y1) - 1 and crosses
// each at its centre, at an x rounded to a quarter pixel. Each crossing adds its winding,
// split between the two cells around the quarter position, so that the prefix sum of a row
// is the supersampled coverage (a quarter column weighs 1/4 of its sub-scanline).
void CoverageRaster::supersample_line(Point a, Point b) {
  // Skia's fixed-point edge setup (SkEdge::setLine) in supersampled space: 26.6 coordinates,
  // 16.16 slope truncated toward zero, x stepped per sub-scanline and rounded to a quarter.
  const double lim = 1 << 22;  // keep every fixed-point product inside int64
  auto fdot6 = [&](double v) {
    return static_cast<int64_t>(std::floor(std::clamp(v, -lim, lim) * 256 + 0.5));
  };
  int64_t x0 = fdot6(a.x - box_.x), y0 = fdot6(a.y - box_.y);
  int64_t x1 = fdot6(b.x - box_.x), y1 = fdot6(b.y - box_.y);
  float dir = 1.f;
  if (y0 > y1) {
    std::swap(x0, x1);
    std::swap(y0, y1);
    dir = -1.f;
  }
  // (Right shifts of negative values are arithmetic on every supported compiler; left shifts
  // are written as multiplications to stay defined.)
  int64_t top = (y0 + 32) >> 6, bot = (y1 + 32) >> 6;
  if (top == bot) return;
  const int64_t nsub = static_cast<int64_t>(box_.h) * 4;
  if (bot <= 0 || top >= nsub) return;
  int64_t slope = ((x1 - x0) * 65536) / (y1 - y0);  // truncates toward zero, like C
  int64_t dy = top * 64 + 32 - y0;
  int64_t fx = (x0 + ((slope * dy) >> 16)) * 1024;  // 16.16, at the first sub-scanline centre
  int64_t s0 = top, s1 = std::min(bot, nsub);
  if (s0 < 0) {
    fx += slope * (-s0);
    s0 = 0;
  }
  any_ = true;
  const int64_t wq = static_cast<int64_t>(box_.w) * 4;
  const float unit = dir / 4.f;
  for (int64_t s = s0; s < s1; ++s, fx += slope) {
    int64_t q = std::clamp<int64_t>((fx + 0x8000) >> 16, 0, wq);
    int ix = static_cast<int>(q >> 2);
    int row = static_cast<int>(s >> 2);
    crossings_.push_back({static_cast<int>(s), static_cast<int>(q), unit});
    row_min_[row] = std::min(row_min_[row], ix);
    row_max_[row] = std::max(row_max_[row], ix + 1);
  }
}

// Signed-area accumulation of one edge (box-local coordinates, x in [0, w], y in [0, h]).
void CoverageRaster::cell_line(double px0, double py0, double px1, double py1) {
  if (py0 == py1) return;
  any_ = true;
  float dir = 1.f;
  if (py0 > py1) {
    std::swap(px0, px1);
    std::swap(py0, py1);
    dir = -1.f;
  }
  const double dxdy = (px1 - px0) / (py1 - py0);
  const int w = box_.w;
  int ystart = std::max(0, static_cast<int>(std::floor(py0)));
  int yend = std::min(box_.h, static_cast<int>(std::ceil(py1)));
  double x = px0 + (ystart > py0 ? (ystart - py0) * dxdy : 0.0);
  for (int y = ystart; y < yend; ++y) {
    double ya = std::max<double>(y, py0), yb = std::min<double>(y + 1, py1);
    double dy = yb - ya;
    if (dy <= 0) continue;
    double xnext = x + dxdy * dy;
    // Guard against drift outside [0, w].
    xnext = std::clamp(xnext, 0.0, static_cast<double>(w));
    float d = static_cast<float>(dy) * dir;
    double x0 = std::min(x, xnext), x1 = std::max(x, xnext);
    float* row = cells_.data() + static_cast<size_t>(y) * stride_;
    int x0i = static_cast<int>(std::floor(x0));
    int x1i = static_cast<int>(std::ceil(x1));
    x0i = std::clamp(x0i, 0, w);
    x1i = std::clamp(x1i, 0, w + 1);
    int& rmin = row_min_[y];
    int& rmax = row_max_[y];
    if (x1i <= x0i + 1) {
      float xmf = static_cast<float>(0.5 * (x + xnext) - x0i);
      row[x0i] += d - d * xmf;
      row[x0i + 1] += d * xmf;
      rmin = std::min(rmin, x0i);
      rmax = std::max(rmax, x0i + 1);
    } else {
      float s = static_cast<float>(1.0 / (x1 - x0));
      float x0f = static_cast<float>(x0 - x0i);
      float a0 = 0.5f * s * (1.f - x0f) * (1.f - x0f);
      float x1f = static_cast<float>(x1 - x1i + 1);
      float am = 0.5f * s * x1f * x1f;
      row[x0i] += d * a0;
      if (x1i == x0i + 2) {
        row[x0i + 1] += d * (1.f - a0 - am);
      } else {
        float a1 = s * (1.5f - x0f);
        row[x0i + 1] += d * (a1 - a0);
        for (int xi = x0i + 2; xi < x1i - 1; ++xi) row[xi] += d * s;
        float a2 = a1 + static_cast<float>(x1i - x0i - 3) * s;
        row[x1i - 1] += d * (1.f - a2 - am);
      }
      row[x1i] += d * am;
      rmin = std::min(rmin, x0i);
      rmax = std::max(rmax, x1i);
    }
    x = xnext;
  }
}

}  // namespace verm::raster
