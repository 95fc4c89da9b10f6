#include "svg/convert.h"
namespace verm::svg {
bool Converter::convert_filters(NodeId, const State&, const std::optional<Rect>&,
                                std::vector<std::shared_ptr<const scene::Filter>>&) {
  throw Unsupported("filter");
}
}  // namespace verm::svg
