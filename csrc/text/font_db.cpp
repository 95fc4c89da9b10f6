// Placeholder until the text engine lands.
#include "text/text.h"

namespace verm::text {
struct FontDB::Impl {};
FontDB::FontDB(const std::vector<std::string>&) : impl_(std::make_unique<Impl>()) {}
FontDB::~FontDB() = default;
void FontDB::set_generic(const std::string&, const std::string&) {}
size_t FontDB::face_count() const { return 0; }
std::vector<std::string> FontDB::families() const { return {}; }
ShapedRun FontDB::shape(const std::string&, const FontQuery&, double) const { return {}; }
double FontDB::measure(const std::string&, const FontQuery&, double) const { return 0; }
}  // namespace verm::text
