#include "svg/values.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <unordered_map>

namespace verm::svg {
namespace {

bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

struct NamedColor { const char* name; uint32_t rgb; };
const NamedColor kColors[] = {
#include "svg/named_colors.inc"
};

const std::unordered_map<std::string, uint32_t>& color_map() {
  static const std::unordered_map<std::string, uint32_t> m = [] {
    std::unordered_map<std::string, uint32_t> m;
    for (const auto& c : kColors) m.emplace(c.name, c.rgb);
    return m;
  }();
  return m;
}

std::string lower(std::string_view s) {
  std::string o(s);
  for (char& c : o) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return o;
}

int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

uint8_t clamp_u8(double v) {
  return static_cast<uint8_t>(std::clamp(std::round(v), 0.0, 255.0));
}

double hue_to_rgb(double t1, double t2, double h) {
  if (h < 0) h += 6;
  if (h >= 6) h -= 6;
  if (h < 1) return (t2 - t1) * h + t1;
  if (h < 3) return t2;
  if (h < 4) return (t2 - t1) * (4 - h) + t1;
  return t1;
}

}  // namespace

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_ws(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ws(s.back())) s.remove_suffix(1);
  return s;
}

void Stream::skip_ws() { while (pos < s.size() && is_ws(s[pos])) ++pos; }
void Stream::skip_ws_comma() {
  skip_ws();
  if (pos < s.size() && s[pos] == ',') ++pos;
  skip_ws();
}

bool Stream::parse_number(double& out) {
  size_t i = pos, n = s.size();
  size_t start = i;
  if (i < n && (s[i] == '+' || s[i] == '-')) ++i;
  bool digits = false;
  while (i < n && std::isdigit(static_cast<unsigned char>(s[i]))) { ++i; digits = true; }
  if (i < n && s[i] == '.') {
    ++i;
    bool frac = false;
    while (i < n && std::isdigit(static_cast<unsigned char>(s[i]))) { ++i; frac = true; }
    digits = digits || frac;
    if (!frac && !digits) return false;
  }
  if (!digits) return false;
  // Exponent, but not the start of a unit like "em"/"ex".
  if (i < n && (s[i] == 'e' || s[i] == 'E') && !(i + 1 < n && (s[i + 1] == 'm' || s[i + 1] == 'x'))) {
    size_t j = i + 1;
    if (j < n && (s[j] == '+' || s[j] == '-')) ++j;
    if (j < n && std::isdigit(static_cast<unsigned char>(s[j]))) {
      while (j < n && std::isdigit(static_cast<unsigned char>(s[j]))) ++j;
      i = j;
    }
  }
  std::string tmp(s.substr(start, i - start));
  char* end = nullptr;
  double v = std::strtod(tmp.c_str(), &end);
  if (!std::isfinite(v)) return false;
  out = v;
  pos = i;
  return true;
}

bool Stream::parse_flag(bool& out) {
  if (pos < s.size() && (s[pos] == '0' || s[pos] == '1')) {
    out = s[pos] == '1';
    ++pos;
    return true;
  }
  return false;
}

bool parse_number(std::string_view s, double& out) {
  Stream st{trim(s)};
  if (!st.parse_number(out)) return false;
  return st.at_end();
}

bool parse_length_at(Stream& st, Length& out) {
  double v;
  if (!st.parse_number(v)) return false;
  Unit u = Unit::None;
  std::string_view r = st.s.substr(st.pos);
  auto starts = [&](const char* p) { return r.size() >= std::strlen(p) && r.compare(0, std::strlen(p), p) == 0; };
  if (starts("%")) { u = Unit::Percent; st.pos += 1; }
  else if (starts("px")) { u = Unit::Px; st.pos += 2; }
  else if (starts("em")) { u = Unit::Em; st.pos += 2; }
  else if (starts("ex")) { u = Unit::Ex; st.pos += 2; }
  else if (starts("in")) { u = Unit::In; st.pos += 2; }
  else if (starts("cm")) { u = Unit::Cm; st.pos += 2; }
  else if (starts("mm")) { u = Unit::Mm; st.pos += 2; }
  else if (starts("pt")) { u = Unit::Pt; st.pos += 2; }
  else if (starts("pc")) { u = Unit::Pc; st.pos += 2; }
  out = {v, u};
  return true;
}

bool parse_length(std::string_view s, Length& out) {
  Stream st{trim(s)};
  if (!parse_length_at(st, out)) return false;
  return st.at_end();
}

bool parse_number_list(std::string_view s, std::vector<double>& out) {
  Stream st{s};
  st.skip_ws();
  while (!st.at_end()) {
    double v;
    if (!st.parse_number(v)) return false;
    out.push_back(v);
    st.skip_ws_comma();
  }
  return true;
}

bool parse_length_list(std::string_view s, std::vector<Length>& out) {
  Stream st{s};
  st.skip_ws();
  while (!st.at_end()) {
    Length l;
    if (!parse_length_at(st, l)) return false;
    out.push_back(l);
    st.skip_ws_comma();
  }
  return true;
}

bool parse_color(std::string_view in, RGBA& out) {
  std::string_view s = trim(in);
  if (s.empty()) return false;
  if (s[0] == '#') {
    std::string_view h = s.substr(1);
    for (char c : h) if (hexval(c) < 0) return false;
    if (h.size() == 3 || h.size() == 4) {
      out.r = static_cast<uint8_t>(hexval(h[0]) * 17);
      out.g = static_cast<uint8_t>(hexval(h[1]) * 17);
      out.b = static_cast<uint8_t>(hexval(h[2]) * 17);
      out.a = h.size() == 4 ? hexval(h[3]) * 17 / 255.f : 1.f;
      return true;
    }
    if (h.size() == 6 || h.size() == 8) {
      out.r = static_cast<uint8_t>(hexval(h[0]) * 16 + hexval(h[1]));
      out.g = static_cast<uint8_t>(hexval(h[2]) * 16 + hexval(h[3]));
      out.b = static_cast<uint8_t>(hexval(h[4]) * 16 + hexval(h[5]));
      out.a = h.size() == 8 ? (hexval(h[6]) * 16 + hexval(h[7])) / 255.f : 1.f;
      return true;
    }
    return false;
  }
  std::string low = lower(s);
  size_t paren = low.find('(');
  if (paren != std::string::npos) {
    std::string fn(trim(std::string_view(low).substr(0, paren)));
    if (low.back() != ')') return false;
    std::string_view args = std::string_view(low).substr(paren + 1, low.size() - paren - 2);
    // Split on commas, whitespace and '/'.
    std::vector<std::pair<double, bool>> vals;  // value, is_percent
    Stream st{args};
    st.skip_ws();
    while (!st.at_end()) {
      double v;
      if (!st.parse_number(v)) return false;
      bool pct = false;
      if (st.peek() == '%') { pct = true; ++st.pos; }
      else if (st.s.compare(st.pos, 3, "deg") == 0) st.pos += 3;
      vals.push_back({v, pct});
      st.skip_ws();
      if (st.peek() == ',' || st.peek() == '/') ++st.pos;
      st.skip_ws();
    }
    if (fn == "rgb" || fn == "rgba") {
      if (vals.size() != 3 && vals.size() != 4) return false;
      // Integer/percent mixing and percent alpha are invalid (as svgtypes).
      if (vals[0].second != vals[1].second || vals[1].second != vals[2].second) return false;
      if (vals.size() == 4 && vals[3].second) return false;
      double c[3];
      for (int i = 0; i < 3; ++i) c[i] = vals[i].second ? vals[i].first * 255.0 / 100.0 : vals[i].first;
      out.r = clamp_u8(c[0]); out.g = clamp_u8(c[1]); out.b = clamp_u8(c[2]);
      out.a = 1;
      if (vals.size() == 4) {
        double a = vals[3].second ? vals[3].first / 100.0 : vals[3].first;
        out.a = static_cast<float>(std::clamp(a, 0.0, 1.0));
      }
      return true;
    }
    if (fn == "hsl" || fn == "hsla") {
      if (vals.size() != 3 && vals.size() != 4) return false;
      double h = std::fmod(std::fmod(vals[0].first, 360.0) + 360.0, 360.0) / 60.0;
      double sat = std::clamp(vals[1].first / 100.0, 0.0, 1.0);
      double l = std::clamp(vals[2].first / 100.0, 0.0, 1.0);
      double t2 = l <= 0.5 ? l * (sat + 1) : l + sat - l * sat;
      double t1 = l * 2 - t2;
      out.r = clamp_u8(hue_to_rgb(t1, t2, h + 2) * 255);
      out.g = clamp_u8(hue_to_rgb(t1, t2, h) * 255);
      out.b = clamp_u8(hue_to_rgb(t1, t2, h - 2) * 255);
      out.a = 1;
      if (vals.size() == 4) {
        double a = vals[3].second ? vals[3].first / 100.0 : vals[3].first;
        out.a = static_cast<float>(std::clamp(a, 0.0, 1.0));
      }
      return true;
    }
    return false;
  }
  if (low == "transparent") { out = {0, 0, 0, 0}; return true; }
  const auto& m = color_map();
  auto it = m.find(low);
  if (it == m.end()) return false;
  out.r = static_cast<uint8_t>(it->second >> 16);
  out.g = static_cast<uint8_t>(it->second >> 8);
  out.b = static_cast<uint8_t>(it->second);
  out.a = 1;
  return true;
}

scene::Color to_color(const RGBA& c, float opacity) {
  return {c.r / 255.f, c.g / 255.f, c.b / 255.f, c.a * opacity};
}

bool parse_transform(std::string_view in, Transform& out) {
  Stream st{in};
  Transform ts;
  st.skip_ws();
  while (!st.at_end()) {
    size_t b = st.pos;
    while (!st.at_end() && std::isalpha(static_cast<unsigned char>(st.peek()))) ++st.pos;
    std::string name(st.s.substr(b, st.pos - b));
    st.skip_ws();
    if (name.empty() || st.peek() != '(') return false;
    ++st.pos;
    double v[6];
    int n = 0;
    st.skip_ws();
    while (!st.at_end() && st.peek() != ')') {
      if (n == 6) return false;
      double x;
      if (!st.parse_number(x)) return false;
      // CSS units.
      std::string_view r = st.s.substr(st.pos);
      if (r.compare(0, 3, "deg") == 0) st.pos += 3;
      else if (r.compare(0, 4, "grad") == 0) { x *= 0.9; st.pos += 4; }
      else if (r.compare(0, 3, "rad") == 0) { x *= 180.0 / M_PI; st.pos += 3; }
      else if (r.compare(0, 4, "turn") == 0) { x *= 360.0; st.pos += 4; }
      else if (r.compare(0, 2, "px") == 0) st.pos += 2;
      v[n++] = x;
      st.skip_ws_comma();
    }
    if (st.peek() != ')') return false;
    ++st.pos;
    Transform t;
    if (name == "matrix") {
      if (n != 6) return false;
      t = {v[0], v[1], v[2], v[3], v[4], v[5]};
    } else if (name == "translate") {
      if (n == 1) t = Transform::translate(v[0], 0);
      else if (n == 2) t = Transform::translate(v[0], v[1]);
      else return false;
    } else if (name == "scale") {
      if (n == 1) t = Transform::scale(v[0], v[0]);
      else if (n == 2) t = Transform::scale(v[0], v[1]);
      else return false;
    } else if (name == "rotate") {
      if (n == 1) t = Transform::rotate_deg(v[0]);
      else if (n == 3)
        t = Transform::translate(v[1], v[2]) * Transform::rotate_deg(v[0]) *
            Transform::translate(-v[1], -v[2]);
      else return false;
    } else if (name == "skewX") {
      if (n != 1) return false;
      t = Transform::skew_x_deg(v[0]);
    } else if (name == "skewY") {
      if (n != 1) return false;
      t = Transform::skew_y_deg(v[0]);
    } else {
      return false;
    }
    ts = ts * t;
    st.skip_ws_comma();
  }
  out = ts;
  return true;
}

bool parse_paint(std::string_view in, PaintValue& out) {
  std::string_view s = trim(in);
  out = PaintValue{};
  if (s == "none") { out.kind = PaintValue::Kind::None; return true; }
  if (s == "currentColor") { out.kind = PaintValue::Kind::CurrentColor; return true; }
  if (s == "context-fill") { out.kind = PaintValue::Kind::ContextFill; return true; }
  if (s == "context-stroke") { out.kind = PaintValue::Kind::ContextStroke; return true; }
  if (s.substr(0, 4) == "url(") {
    size_t close = s.find(')');
    if (close == std::string_view::npos) return false;
    std::string_view inner = trim(s.substr(4, close - 4));
    if (inner.size() >= 2 && (inner.front() == '\'' || inner.front() == '"') && inner.back() == inner.front())
      inner = trim(inner.substr(1, inner.size() - 2));
    if (inner.empty() || inner[0] != '#') return false;
    out.kind = PaintValue::Kind::Url;
    out.url = std::string(inner.substr(1));
    std::string_view rest = trim(s.substr(close + 1));
    if (!rest.empty()) {
      if (rest == "none") out.fallback = PaintValue::Fallback::None;
      else if (rest == "currentColor") out.fallback = PaintValue::Fallback::CurrentColor;
      else if (parse_color(rest, out.fallback_color)) out.fallback = PaintValue::Fallback::Color;
      else return false;
    }
    return true;
  }
  if (parse_color(s, out.color)) { out.kind = PaintValue::Kind::Color; return true; }
  return false;
}

bool parse_viewbox(std::string_view s, ViewBox& out) {
  std::vector<double> v;
  if (!parse_number_list(s, v) || v.size() != 4) return false;
  if (!(v[2] > 0) || !(v[3] > 0)) return false;
  out = {v[0], v[1], v[2], v[3]};
  return true;
}

bool parse_aspect(std::string_view in, AspectRatio& out) {
  Stream st{trim(in)};
  std::string_view s = st.s;
  if (s.substr(0, 5) == "defer") { s = trim(s.substr(5)); }
  size_t sp = s.find_first_of(" \t\n\r");
  std::string_view align = s.substr(0, sp);
  std::string_view rest = sp == std::string_view::npos ? std::string_view() : trim(s.substr(sp));
  using A = AspectRatio::Align;
  static const std::pair<const char*, A> names[] = {
      {"none", A::None}, {"xMinYMin", A::XMinYMin}, {"xMidYMin", A::XMidYMin},
      {"xMaxYMin", A::XMaxYMin}, {"xMinYMid", A::XMinYMid}, {"xMidYMid", A::XMidYMid},
      {"xMaxYMid", A::XMaxYMid}, {"xMinYMax", A::XMinYMax}, {"xMidYMax", A::XMidYMax},
      {"xMaxYMax", A::XMaxYMax}};
  bool found = false;
  for (const auto& [n, a] : names)
    if (align == n) { out.align = a; found = true; }
  if (!found) return false;
  out.slice = false;
  if (rest == "slice") out.slice = true;
  else if (!rest.empty() && rest != "meet") return false;
  return true;
}

Transform view_box_transform(const ViewBox& vb, const AspectRatio& ar, double w, double h) {
  double sx = w / vb.w, sy = h / vb.h;
  using A = AspectRatio::Align;
  if (ar.align == A::None) return Transform{sx, 0, 0, sy, -vb.x * sx, -vb.y * sy};
  double s = ar.slice ? std::max(sx, sy) : std::min(sx, sy);
  double vw = vb.w * s, vh = vb.h * s;
  double x = -vb.x * s, y = -vb.y * s;
  switch (ar.align) {
    case A::XMidYMin: case A::XMidYMid: case A::XMidYMax: x += (w - vw) / 2; break;
    case A::XMaxYMin: case A::XMaxYMid: case A::XMaxYMax: x += w - vw; break;
    default: break;
  }
  switch (ar.align) {
    case A::XMinYMid: case A::XMidYMid: case A::XMaxYMid: y += (h - vh) / 2; break;
    case A::XMinYMax: case A::XMidYMax: case A::XMaxYMax: y += h - vh; break;
    default: break;
  }
  return Transform{s, 0, 0, s, x, y};
}

std::optional<scene::BlendMode> parse_blend_mode(std::string_view s) {
  using BM = scene::BlendMode;
  static const std::pair<std::string_view, BM> kModes[] = {
      {"normal", BM::Normal}, {"multiply", BM::Multiply}, {"screen", BM::Screen},
      {"overlay", BM::Overlay}, {"darken", BM::Darken}, {"lighten", BM::Lighten},
      {"color-dodge", BM::ColorDodge}, {"color-burn", BM::ColorBurn},
      {"hard-light", BM::HardLight}, {"soft-light", BM::SoftLight},
      {"difference", BM::Difference}, {"exclusion", BM::Exclusion}, {"hue", BM::Hue},
      {"saturation", BM::Saturation}, {"color", BM::Color}, {"luminosity", BM::Luminosity}};
  for (const auto& [name, mode] : kModes)
    if (s == name) return mode;
  return std::nullopt;
}

}  // namespace verm::svg
