// Placeholder until the rasterizer lands.
#include "raster/render.h"

namespace verm::raster {
void render(const scene::Scene&, uint8_t*, const Limits&) { throw Unsupported("native:raster-not-built"); }
}  // namespace verm::raster
