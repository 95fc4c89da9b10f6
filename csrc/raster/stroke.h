// Stroker: flattened contours -> closed polygons whose nonzero fill is the stroke area.
// Each contour becomes one outline (open contours: left side, end cap, right side reversed,
// start cap) or two (closed contours: outer and inner rings), with joins applied only at
// corners and round joins inside curves. Inner joins route through the pivot point, so the
// result must be filled with the nonzero rule.
#pragma once
#include <vector>

#include "raster/flatten.h"
#include "scene/display_list.h"

namespace verm::raster {

struct StrokeStyle {
  double width = 1;
  scene::LineCap cap = scene::LineCap::Butt;
  scene::LineJoin join = scene::LineJoin::Miter;
  double miter_limit = 4;
};

// `tolerance` is the allowed deviation of round joins/caps, in the contours' units.
void stroke_contours(const std::vector<Contour>& contours, const StrokeStyle& style,
                     double tolerance, std::vector<std::vector<Point>>& polygons);

}  // namespace verm::raster
