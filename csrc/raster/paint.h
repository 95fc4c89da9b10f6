// Paint shaders: per-row premultiplied colour for solid colours, linear and two-point conical
// (radial with focal circle) gradients in sRGB space, and sampled images (pattern tiles and
// raster images) with nearest/bilinear/bicubic filtering and pad/repeat tiling.
#pragma once
#include <memory>
#include <vector>

#include "core/geom.h"
#include "raster/pixmap.h"
#include "scene/display_list.h"

namespace verm::raster {

enum class Filter : uint8_t { Nearest, Bilinear, Bicubic };

class Shader {
 public:
  enum class Kind : uint8_t { Solid, Linear, Radial, Image, None };

  // A solid colour (straight), times opacity.
  static Shader solid(const scene::Color& c, float opacity);
  // `ts` maps the painted shape's user space to target pixels.
  static Shader linear(const scene::LinearGradient& g, const Transform& ts, float opacity);
  static Shader radial(const scene::RadialGradient& g, const Transform& ts, float opacity);
  // `img_to_target` maps image pixel space (0..w, 0..h) to target pixels.
  static Shader image(std::shared_ptr<const Layer> img, const Transform& img_to_target,
                      Filter filter, bool repeat, float opacity, bool always_filter = false);

  Kind kind() const { return kind_; }
  bool is_solid() const { return kind_ == Kind::Solid; }
  bool is_none() const { return kind_ == Kind::None; }
  const float* color() const { return color_; }
  // Writes `len` premultiplied RGBA pixels for the pixel centres (x + i + 0.5, y + 0.5).
  void shade(int x, int y, int len, float* out) const;

 private:
  void gradient_color(double t, float* out) const;
  void build_lut();
  void lut_color(double t, float* out) const;
  void sample(double u, double v, float* out) const;
  Kind kind_ = Kind::None;
  float color_[4] = {0, 0, 0, 0};
  float opacity_ = 1;
  Transform inv_;  // target pixels -> paint space
  // gradients
  std::vector<scene::GradientStop> stops_;
  std::vector<float> lut_;  // kLut premultiplied colours over t in [0, 1]
  scene::SpreadMethod spread_ = scene::SpreadMethod::Pad;
  double x1_ = 0, y1_ = 0, dx_ = 0, dy_ = 0, inv_len2_ = 0;      // linear
  double fx_ = 0, fy_ = 0, fr_ = 0, cdx_ = 0, cdy_ = 0, dr_ = 0, a_ = 0;  // radial
  // images
  std::shared_ptr<const Layer> img_;
  Filter filter_ = Filter::Bilinear;
  bool repeat_ = false;
};

// Premultiplies a straight RGBA8 buffer into a float layer.
std::shared_ptr<Layer> layer_from_rgba8(const uint8_t* rgba, int w, int h, size_t max_pixels);

}  // namespace verm::raster
