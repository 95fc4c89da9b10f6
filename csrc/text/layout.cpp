// SVG text layout (see layout.h). Stub until the engine lands.
#include "text/layout.h"

namespace verm::text {
TextLayout layout_text(const TextInput&, const FontDB&) { throw Unsupported("text:layout-not-built"); }
}  // namespace verm::text
