#include "svg/names.h"

#include <string>
#include <unordered_map>
#include <vector>

namespace verm::svg {
namespace {

template <class Id>
struct Table {
  std::unordered_map<std::string_view, Id> by_name;
  std::vector<std::string_view> names;
};

const Table<EId>& elements() {
  static const Table<EId> t = [] {
    Table<EId> t;
#define VERM_ENTRY(id, name) t.by_name.emplace(name, EId::id); t.names.push_back(name);
    VERM_SVG_ELEMENTS(VERM_ENTRY)
#undef VERM_ENTRY
    return t;
  }();
  return t;
}

const Table<AId>& attrs() {
  static const Table<AId> t = [] {
    Table<AId> t;
#define VERM_ENTRY(id, name) t.by_name.emplace(name, AId::id); t.names.push_back(name);
    VERM_SVG_ATTRS(VERM_ENTRY)
#undef VERM_ENTRY
    return t;
  }();
  return t;
}

}  // namespace

EId element_id(std::string_view name) {
  const auto& t = elements();
  auto it = t.by_name.find(name);
  return it == t.by_name.end() ? EId::Unknown : it->second;
}

AId attr_id(std::string_view name) {
  const auto& t = attrs();
  auto it = t.by_name.find(name);
  return it == t.by_name.end() ? AId::Unknown : it->second;
}

std::string_view element_name(EId id) {
  const auto& t = elements();
  size_t i = static_cast<size_t>(id);
  return i < t.names.size() ? t.names[i] : std::string_view("unknown");
}

std::string_view attr_name(AId id) {
  const auto& t = attrs();
  size_t i = static_cast<size_t>(id);
  return i < t.names.size() ? t.names[i] : std::string_view("unknown");
}

bool is_presentation(AId a) {
  switch (a) {
    case AId::AlignmentBaseline: case AId::BaselineShift: case AId::BackgroundColor:
    case AId::ClipPath: case AId::ClipRule: case AId::Color: case AId::ColorInterpolation:
    case AId::ColorInterpolationFilters: case AId::ColorRendering: case AId::Direction:
    case AId::Display: case AId::DominantBaseline: case AId::Fill: case AId::FillOpacity:
    case AId::FillRule: case AId::Filter: case AId::FloodColor: case AId::FloodOpacity:
    case AId::FontFamily: case AId::FontKerning: case AId::FontSize: case AId::FontSizeAdjust:
    case AId::FontStretch: case AId::FontStyle: case AId::FontVariant: case AId::FontWeight:
    case AId::FontVariationSettings: case AId::GlyphOrientationHorizontal:
    case AId::GlyphOrientationVertical: case AId::ImageRendering: case AId::Isolation:
    case AId::LetterSpacing: case AId::LightingColor: case AId::MarkerEnd: case AId::MarkerMid:
    case AId::MarkerStart: case AId::Mask: case AId::MaskType: case AId::MixBlendMode:
    case AId::Opacity: case AId::Overflow: case AId::PaintOrder: case AId::ShapeRendering:
    case AId::StopColor: case AId::StopOpacity: case AId::Stroke: case AId::StrokeDasharray:
    case AId::StrokeDashoffset: case AId::StrokeLinecap: case AId::StrokeLinejoin:
    case AId::StrokeMiterlimit: case AId::StrokeOpacity: case AId::StrokeWidth:
    case AId::TextAnchor: case AId::TextDecoration: case AId::TextOverflow:
    case AId::TextRendering: case AId::Transform: case AId::TransformOrigin:
    case AId::UnicodeBidi: case AId::VectorEffect: case AId::Visibility: case AId::WhiteSpace:
    case AId::WordSpacing: case AId::WritingMode:
      return true;
    default:
      return false;
  }
}

bool is_inheritable(AId a) {
  if (!is_presentation(a)) return false;
  switch (a) {
    case AId::AlignmentBaseline: case AId::BaselineShift: case AId::ClipPath: case AId::Display:
    case AId::DominantBaseline: case AId::Filter: case AId::FloodColor: case AId::FloodOpacity:
    case AId::Mask: case AId::Opacity: case AId::Overflow: case AId::LightingColor:
    case AId::StopColor: case AId::StopOpacity: case AId::TextDecoration: case AId::Transform:
    case AId::TransformOrigin:
      return false;
    default:
      return true;
  }
}

bool allows_inherit_value(AId a) {
  switch (a) {
    case AId::AlignmentBaseline: case AId::BaselineShift: case AId::ClipPath: case AId::ClipRule:
    case AId::Color: case AId::ColorInterpolationFilters: case AId::Direction: case AId::Display:
    case AId::DominantBaseline: case AId::Fill: case AId::FillOpacity: case AId::FillRule:
    case AId::Filter: case AId::FloodColor: case AId::FloodOpacity: case AId::FontFamily:
    case AId::FontKerning: case AId::FontSize: case AId::FontStretch: case AId::FontStyle:
    case AId::FontVariant: case AId::FontWeight: case AId::ImageRendering: case AId::Kerning:
    case AId::LetterSpacing: case AId::MarkerEnd: case AId::MarkerMid: case AId::MarkerStart:
    case AId::Mask: case AId::Opacity: case AId::Overflow: case AId::ShapeRendering:
    case AId::StopColor: case AId::StopOpacity: case AId::Stroke: case AId::StrokeDasharray:
    case AId::StrokeDashoffset: case AId::StrokeLinecap: case AId::StrokeLinejoin:
    case AId::StrokeMiterlimit: case AId::StrokeOpacity: case AId::StrokeWidth:
    case AId::TextAnchor: case AId::TextDecoration: case AId::TextRendering:
    case AId::Visibility: case AId::WordSpacing: case AId::WritingMode:
      return true;
    default:
      return false;
  }
}

}  // namespace verm::svg
