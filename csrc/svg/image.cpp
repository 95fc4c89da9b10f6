#include "svg/convert.h"
namespace verm::svg {
void Converter::convert_image(NodeId, const State&, scene::Group&) { throw Unsupported("image"); }
}  // namespace verm::svg
