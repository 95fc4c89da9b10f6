// Raster back end: scene::Scene -> straight-alpha RGBA8 pixels.
#pragma once
#include <cstdint>
#include <vector>

#include "core/status.h"
#include "scene/display_list.h"

namespace verm::raster {

// Renders `scene` into `out` (scene.width * scene.height * 4 bytes, straight alpha, row-major,
// no padding). `out` is first cleared to transparent. Throws Unsupported for display-list
// features the rasterizer cannot draw and InputError when a limit is exceeded.
void render(const scene::Scene& scene, uint8_t* out, const Limits& limits = {});

}  // namespace verm::raster
