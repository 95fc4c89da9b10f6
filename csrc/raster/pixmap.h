// Pixel buffers of the raster back end: premultiplied float32 RGBA layers and float masks.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace verm::raster {

// Integer pixel rectangle [x, x+w) x [y, y+h).
struct IRect {
  int x = 0, y = 0, w = 0, h = 0;
  bool empty() const { return w <= 0 || h <= 0; }
  int right() const { return x + w; }
  int bottom() const { return y + h; }
  IRect intersect(const IRect& o) const {
    int l = std::max(x, o.x), t = std::max(y, o.y);
    int r = std::min(right(), o.right()), b = std::min(bottom(), o.bottom());
    if (r <= l || b <= t) return {};
    return {l, t, r - l, b - t};
  }
};

// tiny-skia's Rect::to_int_rect: floor the origin, ceil the size (empty when invalid).
inline IRect to_int_rect(double x, double y, double w, double h) {
  if (!(w > 0) || !(h > 0) || !std::isfinite(x) || !std::isfinite(y) || !std::isfinite(w) ||
      !std::isfinite(h))
    return {};
  const double lim = 1 << 28;
  x = std::clamp(std::floor(x), -lim, lim);
  y = std::clamp(std::floor(y), -lim, lim);
  w = std::clamp(std::ceil(w), 0.0, lim);
  h = std::clamp(std::ceil(h), 0.0, lim);
  return {static_cast<int>(x), static_cast<int>(y), static_cast<int>(w), static_cast<int>(h)};
}

// Float pixels alive at once in one render (all layers together), so that nested groups,
// masks, pattern tiles and filter intermediates cannot exhaust memory.
class PixelBudget {
 public:
  explicit PixelBudget(size_t limit) : limit_(limit) {}
  void charge(size_t n) {
    if (n > limit_ - used_)
      throw InputError("raster: layers need more than " + std::to_string(limit_) +
                       " pixels at once (layer memory budget)");
    used_ += n;
  }
  void refund(size_t n) { used_ -= std::min(n, used_); }
  size_t used() const { return used_; }

 private:
  size_t limit_;
  size_t used_ = 0;
};

// Premultiplied RGBA, 4 floats per pixel in [0, 1], row-major, no padding. When created with
// a budget, the layer's pixels are charged to it for the layer's lifetime (copies too).
struct Layer {
  int w = 0, h = 0;
  std::vector<float> px;

  Layer() = default;
  Layer(int w_, int h_, size_t max_pixels, PixelBudget* budget = nullptr) : w(w_), h(h_) {
    if (w <= 0 || h <= 0) { w = h = 0; return; }
    size_t n = static_cast<size_t>(w) * static_cast<size_t>(h);
    if (n > max_pixels)
      throw InputError("raster: layer of " + std::to_string(w) + "x" + std::to_string(h) +
                       " pixels exceeds the pixel limit");
    if (budget) budget->charge(n);
    budget_ = budget;
    px.assign(n * 4, 0.f);
  }
  Layer(const Layer& o) : w(o.w), h(o.h) {
    if (o.budget_) o.budget_->charge(o.pixels());
    budget_ = o.budget_;
    px = o.px;
  }
  Layer(Layer&& o) noexcept : w(o.w), h(o.h), px(std::move(o.px)), budget_(o.budget_) {
    o.budget_ = nullptr;
    o.w = o.h = 0;
  }
  Layer& operator=(const Layer& o) {
    if (this != &o) {
      Layer tmp(o);
      *this = std::move(tmp);
    }
    return *this;
  }
  Layer& operator=(Layer&& o) noexcept {
    if (this != &o) {
      release();
      w = o.w;
      h = o.h;
      px = std::move(o.px);
      budget_ = o.budget_;
      o.budget_ = nullptr;
      o.w = o.h = 0;
    }
    return *this;
  }
  ~Layer() { release(); }

  bool empty() const { return px.empty(); }
  size_t pixels() const { return static_cast<size_t>(w) * static_cast<size_t>(h); }
  float* row(int y) { return px.data() + static_cast<size_t>(y) * w * 4; }
  const float* row(int y) const { return px.data() + static_cast<size_t>(y) * w * 4; }
  float* at(int x, int y) { return px.data() + (static_cast<size_t>(y) * w + x) * 4; }
  const float* at(int x, int y) const { return px.data() + (static_cast<size_t>(y) * w + x) * 4; }

 private:
  void release() {
    if (budget_) budget_->refund(pixels());
    budget_ = nullptr;
  }
  PixelBudget* budget_ = nullptr;
};

// One float per pixel in [0, 1] (coverage or mask value).
struct MaskBuf {
  int w = 0, h = 0;
  std::vector<float> a;
  MaskBuf() = default;
  MaskBuf(int w_, int h_, float fill, size_t max_pixels) : w(w_), h(h_) {
    if (w <= 0 || h <= 0) { w = h = 0; return; }
    size_t n = static_cast<size_t>(w) * static_cast<size_t>(h);
    if (n > max_pixels) throw InputError("raster: mask exceeds the pixel limit");
    a.assign(n, fill);
  }
  float* row(int y) { return a.data() + static_cast<size_t>(y) * w; }
  const float* row(int y) const { return a.data() + static_cast<size_t>(y) * w; }
};

// Multiplies every pixel of `layer` by the mask value at the same position.
void apply_mask(Layer& layer, const MaskBuf& mask);

// Converts a premultiplied float layer to straight-alpha RGBA8.
void to_rgba8(const Layer& layer, uint8_t* out);

}  // namespace verm::raster
