// Anti-aliased scanline rasterizer with exact-area coverage (signed-area accumulation, one
// cell per pixel). Edges are added in the pixel space of the target; they are clipped to the
// working box (edges left of it still count: they are clamped onto its left border). The sweep
// turns accumulated winding into coverage with the nonzero or even-odd rule and hands each
// row's non-empty span to a callback.
#pragma once
#include <cmath>
#include <cstdint>
#include <vector>

#include "core/geom.h"
#include "raster/pixmap.h"
#include "scene/display_list.h"

namespace verm::raster {

class CoverageRaster {
 public:
  // Starts a new shape whose coverage is wanted inside `box` (target pixel space).
  void reset(IRect box);
  const IRect& box() const { return box_; }
  // Adds a directed edge. Non-finite coordinates are ignored.
  void line(Point a, Point b);
  // Adds a closed polygon (the closing edge is implied).
  void polygon(const Point* pts, size_t n);
  bool touched() const { return any_; }
  // Quarter-pixel vertex snapping (resvg/tiny-skia anti-aliasing conventions); on by default.
  void set_snap(bool on) { snap_ = on; }

  // Calls fn(y, x, len, coverage) for every row span with some coverage, in target space.
  // `aa == false` rounds coverage to 0/1 (pixel-centre sampling approximation).
  template <class Fn>
  void sweep(scene::FillRule rule, bool aa, Fn&& fn);

 private:
  void cell_line(double x0, double y0, double x1, double y1);  // box-local, clamped
  IRect box_;
  int stride_ = 0;
  bool any_ = false;
  bool snap_ = true;
  std::vector<float> cells_;
  std::vector<int> row_min_, row_max_;
  std::vector<float> cov_;
};

template <class Fn>
void CoverageRaster::sweep(scene::FillRule rule, bool aa, Fn&& fn) {
  if (!any_) return;
  const bool evenodd = rule == scene::FillRule::EvenOdd;
  for (int ry = 0; ry < box_.h; ++ry) {
    int lo = row_min_[ry], hi = row_max_[ry];
    if (lo > hi) continue;
    hi = std::min(hi, box_.w - 1);
    float* c = cells_.data() + static_cast<size_t>(ry) * stride_;
    float acc = 0;
    int start = -1;
    auto flush = [&](int end) {
      if (start >= 0) fn(box_.y + ry, box_.x + start, end - start, cov_.data() + start);
      start = -1;
    };
    for (int i = lo; i <= hi; ++i) {
      acc += c[i];
      c[i] = 0;
      float v = std::fabs(acc);
      if (evenodd) {
        v = std::fmod(v, 2.f);
        if (v > 1.f) v = 2.f - v;
      } else if (v > 1.f) {
        v = 1.f;
      }
      if (!aa) v = v >= 0.5f ? 1.f : 0.f;
      if (v < 1.f / 1024.f) {
        flush(i);
        continue;
      }
      if (start < 0) start = i;
      cov_[i] = v;
    }
    flush(hi + 1);
    for (int i = hi + 1; i < stride_; ++i) c[i] = 0;
    row_min_[ry] = stride_;
    row_max_[ry] = -1;
  }
  any_ = false;
}

}  // namespace verm::raster
