// Attribute value grammars: numbers, lengths, colours, transforms, paints, viewBox, aspect.
// Parsers return false / nullopt on invalid input; callers then apply SVG's fallback rules.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/geom.h"
#include "scene/display_list.h"

namespace verm::svg {

// A small cursor over attribute text shared by the list parsers.
struct Stream {
  std::string_view s;
  size_t pos = 0;
  bool at_end() const { return pos >= s.size(); }
  char peek() const { return pos < s.size() ? s[pos] : '\0'; }
  void skip_ws();
  void skip_ws_comma();  // whitespace, at most one comma, whitespace
  bool parse_number(double& out);  // SVG number grammar (no unit); finite only
  bool parse_flag(bool& out);      // arc flags: '0' or '1'
};

enum class Unit : uint8_t { None, Px, Em, Ex, In, Cm, Mm, Pt, Pc, Percent };
struct Length {
  double value = 0;
  Unit unit = Unit::None;
};

std::string_view trim(std::string_view s);
bool parse_number(std::string_view s, double& out);           // whole string
bool parse_length(std::string_view s, Length& out);           // whole string
bool parse_length_at(Stream& st, Length& out);
bool parse_number_list(std::string_view s, std::vector<double>& out);
bool parse_length_list(std::string_view s, std::vector<Length>& out);

struct RGBA { uint8_t r = 0, g = 0, b = 0; float a = 1; };
bool parse_color(std::string_view s, RGBA& out);  // excludes currentColor
scene::Color to_color(const RGBA& c, float opacity = 1);

// transform="" (also accepts CSS units deg/rad/turn/px in the CSS form).
bool parse_transform(std::string_view s, Transform& out);

struct PaintValue {
  enum class Kind : uint8_t { None, Color, CurrentColor, Url, ContextFill, ContextStroke } kind;
  RGBA color;
  std::string url;  // id without '#'
  enum class Fallback : uint8_t { Unset, None, Color, CurrentColor } fallback = Fallback::Unset;
  RGBA fallback_color;
};
bool parse_paint(std::string_view s, PaintValue& out);

struct ViewBox { double x = 0, y = 0, w = 0, h = 0; };
bool parse_viewbox(std::string_view s, ViewBox& out);

struct AspectRatio {
  enum class Align : uint8_t { None, XMinYMin, XMidYMin, XMaxYMin, XMinYMid, XMidYMid, XMaxYMid,
                               XMinYMax, XMidYMax, XMaxYMax } align = Align::XMidYMid;
  bool slice = false;
};
bool parse_aspect(std::string_view s, AspectRatio& out);
// mix-blend-mode / feBlend mode keyword; nullopt for anything else.
std::optional<scene::BlendMode> parse_blend_mode(std::string_view s);
// Maps viewBox into a viewport of size (w, h) at the origin.
Transform view_box_transform(const ViewBox& vb, const AspectRatio& ar, double w, double h);

}  // namespace verm::svg
