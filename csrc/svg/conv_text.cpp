#include "svg/convert.h"
namespace verm::svg {
void Converter::convert_text(NodeId, const State&, scene::Group&) { throw Unsupported("text"); }
}  // namespace verm::svg
