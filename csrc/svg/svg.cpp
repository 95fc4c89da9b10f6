// Placeholder until the SVG front end lands: everything is reported unsupported.
#include "svg/svg.h"

namespace verm::svg {
scene::Scene load(std::string_view, const Options&) { throw Unsupported("native:svg-not-built"); }
}  // namespace verm::svg
