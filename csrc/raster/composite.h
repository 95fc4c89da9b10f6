// Compositing: coverage spans painted source-over into a layer, layers drawn onto layers with
// opacity and every SVG/CSS blend mode (separable and non-separable, W3C formulas on
// premultiplied colour), and layer -> mask conversions (luminance / alpha).
#pragma once
#include <vector>

#include "raster/paint.h"
#include "raster/pixmap.h"
#include "scene/display_list.h"

namespace verm::raster {

// Paints `len` pixels of row `y` from `x`, weighted by `cov`, source-over. `scratch` is a
// caller-owned buffer reused between calls.
void paint_span(Layer& dst, int y, int x, int len, const float* cov, const Shader& sh,
                std::vector<float>& scratch);

// Draws `src` with its top-left at (dx, dy) in `dst`'s pixel space.
void draw_layer(Layer& dst, const Layer& src, int dx, int dy, float opacity,
                scene::BlendMode mode);

// Blends one premultiplied pixel `s` onto `d` with `mode` (shared with feBlend).
void blend_pixel(float* d, const float* s, scene::BlendMode mode);

// Luminance (sRGB coefficients, times alpha) or alpha of every pixel.
MaskBuf layer_to_mask(const Layer& layer, scene::MaskType type, size_t max_pixels);

}  // namespace verm::raster
