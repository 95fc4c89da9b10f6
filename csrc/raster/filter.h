// SVG filter effects on a group layer (resvg semantics): the filter region is the working
// canvas, each primitive produces a region-sized premultiplied image in its colour space
// (sRGB or linearRGB) clipped to its subregion, and the last result replaces the layer.
#pragma once
#include <functional>

#include "raster/pixmap.h"
#include "scene/display_list.h"

namespace verm::raster {

struct FilterContext {
  size_t max_pixels = 0;
  PixelBudget* budget = nullptr;  // charged for every intermediate image
  // Renders a group (feImage content) with transform `ts` into `dst`.
  std::function<void(const scene::Group&, const Transform&, Layer&)> render_image;
};

// `ts` maps the filtered element's user space to `layer` pixels.
void apply_filter_chain(const scene::Filter& filter, const Transform& ts, Layer& layer,
                        const FilterContext& ctx);

// Blurs a premultiplied layer in place (box blur x5 for sigma >= 2 as resvg, else an exact
// Gaussian kernel). Sigmas are in pixels.
void gaussian_blur(Layer& img, double sigma_x, double sigma_y);

}  // namespace verm::raster
