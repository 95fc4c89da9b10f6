// Anti-aliased scanline rasterizer (signed accumulation, one cell per pixel), with two
// coverage models: tiny-skia's 4x4 supersampling (default, matches resvg) or exact area. Edges are added in the pixel space of the target; they are clipped to the
// working box (edges left of it still count: they are clamped onto its left border). The sweep
// turns accumulated winding into coverage with the nonzero or even-odd rule and hands each
// row's non-empty span to a callback.
#pragma once
#include <algorithm>
#include <cmath>
#include <utility>
#include <cstdint>
#include <vector>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "core/geom.h"
#include "raster/pixmap.h"
#include "scene/display_list.h"

namespace verm::raster {

class CoverageRaster {
 public:
  // Starts a new shape whose coverage is wanted inside `box` (target pixel space). With
  // `aa == false` the shape is sampled at pixel centres instead (aliased, as tiny-skia).
  void reset(IRect box, bool aa = true);
  const IRect& box() const { return box_; }
  // Adds a directed edge. Non-finite coordinates are ignored.
  void line(Point a, Point b);
  // Adds a closed polygon (the closing edge is implied).
  void polygon(const Point* pts, size_t n);
  bool touched() const { return any_; }
  // Anti-aliasing model: false (default) = tiny-skia's 4x4 supersampling, which is what
  // resvg's reference renderings use; true = exact-area coverage. Takes effect at reset().
  void set_exact_area(bool on) { want_exact_ = on; }

  // Calls fn(y, x, len, coverage) for every row span with some coverage, in target space.
  // The `aa` flag must match the one given to reset().
  template <class Fn>
  void sweep(scene::FillRule rule, bool aa, Fn&& fn);

 private:
  void cell_line(double x0, double y0, double x1, double y1);  // box-local, clamped
  void supersample_line(Point a, Point b);  // target space
  template <class Fn>
  void sweep_aliased(scene::FillRule rule, Fn&& fn);
  struct Edge { double x0, y0, x1, y1; int dir; };
  bool aa_ = true;
  std::vector<Edge> edges_;
  IRect box_;
  int stride_ = 0;
  bool any_ = false;
  bool exact_ = false, want_exact_ = false;
  std::vector<float> cells_;
  // Supersampling model: sparse sub-scanline crossings, bucketed by pixel row at sweep time,
  // plus one difference-array row reused for every row.
  struct Crossing { int sub; int q; float w; };
  std::vector<Crossing> crossings_, sorted_;
  std::vector<int> row_start_, row_fill_;
  std::vector<float> row_cells_;
  std::vector<int> row_min_, row_max_;
  std::vector<float> cov_;
  std::vector<float> ones_;
};

template <class Fn>
void CoverageRaster::sweep_aliased(scene::FillRule rule, Fn&& fn) {
  const bool evenodd = rule == scene::FillRule::EvenOdd;
  std::vector<std::pair<double, int>> xs;
  for (int ry = 0; ry < box_.h; ++ry) {
    const int row = box_.y + ry;
    const double yc = row + 0.5;
    xs.clear();
    // Skia's convention: an edge covers the rows round(y0) .. round(y1) - 1.
    for (const Edge& e : edges_)
      if (std::floor(e.y0 + 0.5) <= row && row < std::floor(e.y1 + 0.5)) xs.push_back({e.x0 + (yc - e.y0) * (e.x1 - e.x0) / (e.y1 - e.y0), e.dir});
    if (xs.empty()) continue;
    std::sort(xs.begin(), xs.end());
    int wind = 0;
    for (size_t i = 0; i + 1 < xs.size(); ++i) {
      wind += xs[i].second;
      bool inside = evenodd ? (wind & 1) != 0 : wind != 0;
      if (!inside) continue;
      // Pixels round(xa) .. round(xb) - 1.
      int a = static_cast<int>(std::floor(xs[i].first + 0.5));
      int b = static_cast<int>(std::floor(xs[i + 1].first + 0.5));
      a = std::max(a, box_.x);
      b = std::min(b, box_.right());
      if (b > a) fn(box_.y + ry, a, b - a, ones_.data());
    }
  }
  edges_.clear();
  any_ = false;
}

template <class Fn>
void CoverageRaster::sweep(scene::FillRule rule, bool aa, Fn&& fn) {
  if (!any_) return;
  if (!aa_) {
    sweep_aliased(rule, fn);
    return;
  }
  (void)aa;
  const bool evenodd = rule == scene::FillRule::EvenOdd;
  if (!exact_) {
    // Counting sort of the crossings by pixel row.
    row_start_.assign(static_cast<size_t>(box_.h) + 1, 0);
    for (const Crossing& x : crossings_) ++row_start_[(x.sub >> 2) + 1];
    for (int r = 0; r < box_.h; ++r) row_start_[r + 1] += row_start_[r];
    sorted_.resize(crossings_.size());
    {
      std::vector<int>& next = row_fill_;
      next.assign(row_start_.begin(), row_start_.end() - 1);
      for (const Crossing& x : crossings_) sorted_[next[x.sub >> 2]++] = x;
    }
    crossings_.clear();
    if (row_cells_.size() < static_cast<size_t>(stride_) + 1)
      row_cells_.assign(static_cast<size_t>(stride_) + 1, 0.f);
  }
  const float eps = 1.f / 1024.f;
  for (int ry = 0; ry < box_.h; ++ry) {
    const int lo = row_min_[ry];
    int hi = row_max_[ry];
    if (lo > hi) continue;
    hi = std::min(hi, box_.w - 1);
    float* c = exact_ ? cells_.data() + static_cast<size_t>(ry) * stride_ : nullptr;
    float* cov = cov_.data();
    if (!exact_) {
      // Supersampling model. Per sub-scanline, walk its crossings in x order with the fill
      // rule and turn each inside span [qa, qb) (quarter pixels) into coverage: partial end
      // pixels directly, whole pixels through a difference array (one pass at the end).
      float* diff = row_cells_.data();
      const int zhi = std::min(row_max_[ry] + 1, stride_);
      for (int i = lo; i <= zhi; ++i) cov[i] = diff[i] = 0;
      Crossing* b0 = sorted_.data() + row_start_[ry];
      Crossing* b1 = sorted_.data() + row_start_[ry + 1];
      std::sort(b0, b1, [](const Crossing& u, const Crossing& v) {
        return u.sub != v.sub ? u.sub < v.sub : u.q < v.q;
      });
      for (Crossing* it = b0; it != b1;) {
        const int sub = it->sub;
        int wind = 0;
        for (; it != b1 && it->sub == sub; ++it) {
          wind += it->w > 0 ? 1 : -1;
          if (it + 1 == b1 || (it + 1)->sub != sub) break;
          const bool inside = evenodd ? (wind & 1) != 0 : wind != 0;
          const int qa = it->q, qb = (it + 1)->q;
          if (!inside || qb <= qa) continue;
          const int ia = qa >> 2, ib = qb >> 2;
          if (ia == ib) {
            cov[ia] += static_cast<float>(qb - qa) * (1.f / 16.f);
          } else {
            cov[ia] += static_cast<float>(4 - (qa & 3)) * (1.f / 16.f);
            diff[ia + 1] += 0.25f;
            diff[ib] -= 0.25f;
            cov[ib] += static_cast<float>(qb & 3) * (1.f / 16.f);
          }
        }
        if (it != b1) ++it;
      }
      float run = 0;
      int i = lo;
#if defined(__SSE2__)
      // Prefix sum four cells at a time. Every term is a multiple of 1/16 (diff: +-1/4, cov:
      // k/16), so float sums are exact in any order and the result equals the scalar loop's.
      {
        const __m128 one = _mm_set1_ps(1.f);
        __m128 carry = _mm_setzero_ps();
        for (; i + 3 <= hi; i += 4) {
          __m128 d = _mm_loadu_ps(diff + i);
          d = _mm_add_ps(d, _mm_castsi128_ps(_mm_slli_si128(_mm_castps_si128(d), 4)));
          d = _mm_add_ps(d, _mm_castsi128_ps(_mm_slli_si128(_mm_castps_si128(d), 8)));
          d = _mm_add_ps(d, carry);
          _mm_storeu_ps(cov + i, _mm_min_ps(_mm_add_ps(_mm_loadu_ps(cov + i), d), one));
          carry = _mm_shuffle_ps(d, d, _MM_SHUFFLE(3, 3, 3, 3));
        }
        run = _mm_cvtss_f32(carry);
      }
#endif
      for (; i <= hi; ++i) {
        run += diff[i];
        cov[i] = std::min(cov[i] + run, 1.f);
      }
    }
    // Pass 1: prefix sum -> coverage (kept in registers; cells are cleared as we go).
    float acc = 0;
    if (!exact_) {
      // coverage already computed above
    } else if (evenodd) {
      for (int i = lo; i <= hi; ++i) {
        acc += c[i];
        c[i] = 0;
        float v = std::fabs(acc);
        v = v - 2.f * std::floor(v * 0.5f);
        cov[i] = v > 1.f ? 2.f - v : v;
      }
    } else {
      for (int i = lo; i <= hi; ++i) {
        acc += c[i];
        c[i] = 0;
        cov[i] = std::min(std::fabs(acc), 1.f);
      }
    }
    if (exact_)
      for (int i = hi + 1; i < stride_; ++i) c[i] = 0;
    row_min_[ry] = stride_;
    row_max_[ry] = -1;
    // Pass 2: emit runs of non-zero coverage.
    int i = lo;
    while (i <= hi) {
      while (i <= hi && cov[i] < eps) ++i;
      if (i > hi) break;
      int start = i;
      while (i <= hi && cov[i] >= eps) ++i;
      fn(box_.y + ry, box_.x + start, i - start, cov + start);
    }
  }
  any_ = false;
}

}  // namespace verm::raster
