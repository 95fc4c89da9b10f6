// Path flattening for the raster back end: curves -> polylines that remember which vertices
// are real corners (verb end points) and which lie inside a curve (smooth), so the stroker
// can apply line joins only where the path has them.
#pragma once
#include <cstdint>
#include <vector>

#include "core/geom.h"
#include "core/path.h"

namespace verm::raster {

struct Contour {
  std::vector<Point> pts;
  std::vector<uint8_t> smooth;  // per point: 1 if inside a curve (no line join there)
  // Per point i: length factor of the segment ending at i, (Skia-measured curve length) /
  // (flattened length), so dash phases follow resvg's contour measure. Empty = all 1.
  std::vector<float> measure;
  bool closed = false;
};

// Flattens `path` after mapping it through `ts`, with at most `tolerance` deviation (in the
// output space). Consecutive duplicate points are dropped; every subpath is kept, even one of
// a single point (zero-length subpaths still get caps). Non-finite points end the path there
// (the valid prefix is kept). `max_points` bounds the output size.
// `measure_tolerance` > 0 also fills Contour::measure using Skia's ContourMeasure subdivision
// rule with that tolerance (0.5 / resolution scale in tiny-skia's dasher).
std::vector<Contour> flatten(const Path& path, const Transform& ts, double tolerance,
                             size_t max_points = 20'000'000, double measure_tolerance = 0);

// Applies a dash pattern (user units, even count, sum > 0) to flattened contours.
std::vector<Contour> dash(const std::vector<Contour>& in, const std::vector<double>& pattern,
                          double offset);

}  // namespace verm::raster
