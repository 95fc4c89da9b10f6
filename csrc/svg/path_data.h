// The SVG path grammar (`d`, polyline/polygon `points`) -> verm::Path, arcs -> cubics.
// On a syntax error the valid prefix is kept (as browsers and resvg do).
#pragma once
#include <string_view>

#include "core/path.h"

namespace verm::svg {

// Appends the parsed path to `out`; returns false when an error cut it short.
bool parse_path_data(std::string_view d, Path& out);
// polyline/polygon points; an odd trailing coordinate is dropped.
Path parse_points(std::string_view s, bool close);
// Appends an elliptical arc from `from` (SVG arc parameters) as cubics.
void arc_to(Path& p, double x0, double y0, double rx, double ry, double x_axis_rotation,
            bool large_arc, bool sweep, double x, double y);

}  // namespace verm::svg
