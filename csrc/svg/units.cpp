// Units and common attribute accessors of the converter (usvg units.rs equivalents).
#include <cmath>

#include "svg/convert.h"

namespace verm::svg {

namespace {
constexpr double kDpi = 96.0;
constexpr double kDefaultFontSize = 12.0;

double named_font_size(std::string_view name, double parent) {
  int f = 0;
  if (name == "xx-small") f = -3;
  else if (name == "x-small") f = -2;
  else if (name == "small") f = -1;
  else if (name == "medium") f = 0;
  else if (name == "large") f = 1;
  else if (name == "x-large") f = 2;
  else if (name == "xx-large") f = 3;
  else if (name == "larger") return parent * 1.2;
  else if (name == "smaller") return parent / 1.2;
  return kDefaultFontSize * std::pow(1.2, f);
}
}  // namespace

double Converter::font_size(NodeId n) const {
  // Walk from the root down to n.
  std::vector<NodeId> chain;
  for (NodeId a = n; a != kNoNode; a = doc_.parent(a))
    if (!doc_.node(a).is_text) chain.push_back(a);
  double fs = kDefaultFontSize;
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    const std::string* v = doc_.attr(*it, AId::FontSize);
    if (!v) continue;
    Length l;
    if (parse_length(*v, l)) {
      double x = l.value;
      switch (l.unit) {
        case Unit::None: case Unit::Px: fs = x; break;
        case Unit::Em: fs = x * fs; break;
        case Unit::Ex: fs = x * fs / 2; break;
        case Unit::In: fs = x * kDpi; break;
        case Unit::Cm: fs = x * kDpi / 2.54; break;
        case Unit::Mm: fs = x * kDpi / 25.4; break;
        case Unit::Pt: fs = x * kDpi / 72.0; break;
        case Unit::Pc: fs = x * kDpi / 6.0; break;
        case Unit::Percent: fs = x * fs * 0.01; break;
      }
    } else {
      fs = named_font_size(trim(*v), fs);
    }
  }
  return fs;
}

double Converter::convert_length(Length l, NodeId n, AId aid, Units u, const State& st) const {
  double x = l.value;
  switch (l.unit) {
    case Unit::None: case Unit::Px: return x;
    case Unit::Em: return x * font_size(n);
    case Unit::Ex: return x * font_size(n) / 2;
    case Unit::In: return x * kDpi;
    case Unit::Cm: return x * kDpi / 2.54;
    case Unit::Mm: return x * kDpi / 25.4;
    case Unit::Pt: return x * kDpi / 72.0;
    case Unit::Pc: return x * kDpi / 6.0;
    case Unit::Percent:
      if (u == Units::ObjectBoundingBox) return x / 100.0;
      switch (aid) {
        case AId::Cx: case AId::Dx: case AId::Fx: case AId::MarkerWidth: case AId::RefX:
        case AId::Rx: case AId::Width: case AId::X: case AId::X1: case AId::X2:
          return st.view_box.w * x / 100.0;
        case AId::Cy: case AId::Dy: case AId::Fy: case AId::Height: case AId::MarkerHeight:
        case AId::RefY: case AId::Ry: case AId::Y: case AId::Y1: case AId::Y2:
          return st.view_box.h * x / 100.0;
        default: {
          double len = std::sqrt(st.view_box.w * st.view_box.w + st.view_box.h * st.view_box.h) /
                       std::sqrt(2.0);
          return len * x / 100.0;
        }
      }
  }
  return x;
}

std::optional<Length> Converter::length_attr(NodeId n, AId aid) const {
  const std::string* s = doc_.attr(n, aid);
  if (!s) return std::nullopt;
  Length l;
  if (!parse_length(*s, l)) return std::nullopt;
  return l;
}

std::optional<double> Converter::number_attr(NodeId n, AId aid) const {
  const std::string* s = doc_.attr(n, aid);
  if (!s) return std::nullopt;
  double v;
  if (!parse_number(*s, v)) return std::nullopt;
  return v;
}

double Converter::resolve_length(NodeId n, AId aid, const State& st, double def) const {
  for (NodeId a = n; a != kNoNode; a = doc_.parent(a)) {
    if (doc_.has_attr(a, aid)) {
      auto l = length_attr(a, aid);
      if (l) return convert_length(*l, a, aid, Units::UserSpaceOnUse, st);
      return def;
    }
  }
  return def;
}

static bool parse_opacity(std::string_view s, float& out) {
  Length l;
  if (!parse_length(s, l)) return false;
  double v;
  if (l.unit == Unit::Percent) v = l.value / 100.0;
  else if (l.unit == Unit::None) v = l.value;
  else return false;
  out = static_cast<float>(std::clamp(v, 0.0, 1.0));
  return true;
}

float Converter::opacity_attr(NodeId n, AId aid) const {
  const std::string* s = doc_.attr(n, aid);
  float v = 1;
  if (s && parse_opacity(*s, v)) return v;
  return 1;
}

float Converter::find_opacity(NodeId n, AId aid) const {
  NodeId src = doc_.find_attr_node(n, aid);
  return src == kNoNode ? 1.f : opacity_attr(src, aid);
}

Transform Converter::transform_attr(NodeId n, AId aid) const {
  const std::string* s = doc_.attr(n, aid);
  Transform t;
  if (!s || !parse_transform(*s, t)) return Transform{};
  if (!t.is_finite() || !t.is_invertible()) return Transform{};
  return t;
}

bool Converter::has_valid_transform(NodeId n, AId aid) const {
  const std::string* s = doc_.attr(n, aid);
  Transform t;
  if (!s || !parse_transform(*s, t)) return true;
  return t.is_finite() && t.is_invertible();
}

Transform Converter::resolve_transform(NodeId n, AId aid, const State& st) const {
  Transform ts = transform_attr(n, aid);
  const std::string* origin = doc_.attr(n, AId::TransformOrigin);
  if (origin) {
    // transform-origin: one or two lengths/keywords (a third z value is ignored).
    std::vector<std::string_view> parts;
    std::string_view s = trim(*origin);
    size_t i = 0;
    while (i < s.size()) {
      while (i < s.size() && (s[i] == ' ' || s[i] == ',' || s[i] == '\t' || s[i] == '\n')) ++i;
      size_t b = i;
      while (i < s.size() && !(s[i] == ' ' || s[i] == ',' || s[i] == '\t' || s[i] == '\n')) ++i;
      if (i > b) parts.push_back(s.substr(b, i - b));
    }
    auto kw = [](std::string_view p, bool& horizontal, bool& vertical, Length& out) {
      horizontal = vertical = false;
      if (p == "left") { out = {0, Unit::Percent}; horizontal = true; return true; }
      if (p == "right") { out = {100, Unit::Percent}; horizontal = true; return true; }
      if (p == "top") { out = {0, Unit::Percent}; vertical = true; return true; }
      if (p == "bottom") { out = {100, Unit::Percent}; vertical = true; return true; }
      if (p == "center") { out = {50, Unit::Percent}; return true; }
      return parse_length(p, out);
    };
    Length x{50, Unit::Percent}, y{50, Unit::Percent};
    bool ok = !parts.empty() && parts.size() <= 3;
    if (ok) {
      bool h0, v0, h1 = false, v1 = false;
      Length a, b{50, Unit::Percent};
      ok = kw(parts[0], h0, v0, a);
      if (ok && parts.size() >= 2) ok = kw(parts[1], h1, v1, b);
      if (ok) {
        if (v0 || h1) { x = b; y = a; }  // "top left" order swapped
        else { x = a; y = b; }
        if (parts.size() == 1 && v0) { x = {50, Unit::Percent}; y = a; }
      }
    }
    if (ok) {
      double dx = convert_length(x, n, AId::Width, Units::UserSpaceOnUse, st);
      double dy = convert_length(y, n, AId::Height, Units::UserSpaceOnUse, st);
      ts = Transform::translate(dx, dy) * ts * Transform::translate(-dx, -dy);
    }
  }
  return ts;
}

bool Converter::is_condition_passed(NodeId n) const {
  if (doc_.node(n).is_text) return false;
  if (doc_.has_attr(n, AId::RequiredExtensions)) return false;
  if (const std::string* f = doc_.attr(n, AId::RequiredFeatures)) {
    static const char* kFeatures[] = {
        "SVGDOM-static", "SVG-static", "CoreAttribute", "Structure", "BasicStructure",
        "ContainerAttribute", "ConditionalProcessing", "Image", "Style", "ViewportAttribute",
        "Shape", "Text", "BasicText", "PaintAttribute", "BasicPaintAttribute",
        "OpacityAttribute", "GraphicsAttribute", "BasicGraphicsAttribute", "Marker", "Gradient",
        "Pattern", "Clip", "BasicClip", "Mask", "Filter", "BasicFilter", "XlinkAttribute",
        "Hyperlinking"};
    std::string_view s = *f;
    size_t i = 0;
    bool any = false;
    while (i <= s.size()) {
      size_t sp = s.find(' ', i);
      if (sp == std::string_view::npos) sp = s.size();
      std::string_view feat = s.substr(i, sp - i);
      i = sp + 1;
      if (feat.empty()) continue;
      any = true;
      const std::string_view prefix = "http://www.w3.org/TR/SVG11/feature#";
      bool ok = false;
      if (feat.substr(0, prefix.size()) == prefix) {
        std::string_view name = feat.substr(prefix.size());
        for (const char* k : kFeatures) if (name == k) ok = true;
      }
      if (!ok) return false;
    }
    if (!any) return false;
  }
  if (const std::string* langs = doc_.attr(n, AId::SystemLanguage)) {
    bool match = false;
    std::string_view s = *langs;
    size_t i = 0;
    while (i <= s.size()) {
      size_t c = s.find(',', i);
      if (c == std::string_view::npos) c = s.size();
      std::string_view lang = trim(s.substr(i, c - i));
      i = c + 1;
      if (lang == "en") { match = true; break; }
      size_t dash = lang.find('-');
      if (dash != std::string_view::npos && lang.substr(0, dash) == "en") { match = true; break; }
    }
    if (!match) return false;
  }
  return true;
}

bool Converter::is_visible_element(NodeId n) const {
  return str_attr(n, AId::Display) != "none" && has_valid_transform(n, AId::Transform) &&
         is_condition_passed(n);
}

std::optional<ViewBox> Converter::viewbox(NodeId n) const {
  const std::string* s = doc_.attr(n, AId::ViewBox);
  ViewBox vb;
  if (!s || !parse_viewbox(*s, vb)) return std::nullopt;
  return vb;
}

AspectRatio Converter::aspect(NodeId n) const {
  const std::string* s = doc_.attr(n, AId::PreserveAspectRatio);
  AspectRatio ar;
  if (s && !parse_aspect(*s, ar)) ar = AspectRatio{};
  return ar;
}

Units Converter::units_attr(NodeId n, AId a, Units def) const {
  std::string_view v = str_attr(n, a);
  if (v == "userSpaceOnUse") return Units::UserSpaceOnUse;
  if (v == "objectBoundingBox") return Units::ObjectBoundingBox;
  return def;
}

Transform from_bbox(const Rect& r) { return Transform{r.w, 0, 0, r.h, r.x, r.y}; }

std::optional<Rect> node_bbox(const scene::Node& n) {
  if (const auto* p = std::get_if<scene::PathNode>(&n.value)) {
    if (p->path.empty()) return std::nullopt;
    Rect r = p->path.exact_bounds();
    return r;
  }
  if (const auto* i = std::get_if<scene::ImageNode>(&n.value)) return i->view;
  const auto& g = std::get<scene::Group>(n.value);
  auto r = object_bbox(g);
  if (!r) return std::nullopt;
  return g.transform.map_rect(*r);
}

std::optional<Rect> object_bbox(const scene::Group& g) {
  bool any = false;
  double l = 0, t = 0, r = 0, b = 0;
  for (const auto& c : g.children) {
    auto cb = node_bbox(*c);
    if (!cb) continue;
    if (!std::isfinite(cb->x) || !std::isfinite(cb->w)) continue;
    if (!any) { l = cb->x; t = cb->y; r = cb->right(); b = cb->bottom(); any = true; }
    else {
      l = std::min(l, cb->x); t = std::min(t, cb->y);
      r = std::max(r, cb->right()); b = std::max(b, cb->bottom());
    }
  }
  if (!any) return std::nullopt;
  return Rect::from_ltrb(l, t, r, b);
}

}  // namespace verm::svg
