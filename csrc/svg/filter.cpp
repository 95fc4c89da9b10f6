// filter="url(#f)" resolution into scene::Filter (usvg filter.rs equivalent). Only the
// primitives the display list has are converted; the others are reported as
// Unsupported("filter:<element>"), CSS filter functions as Unsupported("filter:function").
#include <cmath>
#include <unordered_set>

#include "svg/convert.h"

namespace verm::svg {

namespace {

using scene::FilterInput;

struct Results {
  std::unordered_set<std::string> names;
  int idx = 1;
};

std::string gen_result(const Converter& c, NodeId fe, Results& r) {
  if (const std::string* v = c.doc().attr(fe, AId::Result)) {
    r.names.insert(*v);
    r.idx += 1;
    return *v;
  }
  while (true) {
    std::string name = "result" + std::to_string(r.idx++);
    if (!r.names.count(name)) return name;
  }
}

FilterInput resolve_input(const Converter& c, NodeId fe, AId aid,
                          const std::vector<scene::FilterPrimitive>& prims) {
  FilterInput in;
  const std::string* v = c.doc().attr(fe, aid);
  if (!v) {
    if (!prims.empty()) { in.kind = FilterInput::Kind::Reference; in.name = prims.back().result; }
    return in;
  }
  std::string_view s = trim(*v);
  if (s == "SourceGraphic") return in;
  if (s == "SourceAlpha") { in.kind = FilterInput::Kind::SourceAlpha; return in; }
  if (s == "BackgroundImage" || s == "BackgroundAlpha" || s == "FillPaint" || s == "StrokePaint")
    return in;  // not supported by resvg either: SourceGraphic
  bool known = false;
  for (const auto& p : prims) if (p.result == s) known = true;
  if (!known) {
    if (!prims.empty()) { in.kind = FilterInput::Kind::Reference; in.name = prims.back().result; }
    return in;
  }
  in.kind = FilterInput::Kind::Reference;
  in.name = std::string(s);
  return in;
}

std::pair<double, double> std_dev(const Converter& c, NodeId fe, const char* def, double sx, double sy) {
  const std::string* v = c.doc().attr(fe, AId::StdDeviation);
  std::vector<double> l;
  std::string_view text = v ? std::string_view(*v) : std::string_view(def);
  double x = 0, y = 0;
  if (parse_number_list(text, l)) {
    if (l.size() == 2) { x = l[0]; y = l[1]; }
    else if (l.size() == 1) { x = y = l[0]; }
  }
  x *= sx;
  y *= sy;
  return {x > 0 ? x : 0, y > 0 ? y : 0};
}

scene::Color flood_color(const Converter& c, NodeId fe) {
  RGBA col{0, 0, 0, 1};
  if (const std::string* v = c.doc().attr(fe, AId::FloodColor)) {
    std::string_view s = trim(*v);
    if (s == "currentColor") {
      const std::string* cc = c.doc().find_attr(fe, AId::Color);
      if (!cc || !parse_color(*cc, col)) col = RGBA{0, 0, 0, 1};
    } else if (!parse_color(s, col)) {
      col = RGBA{0, 0, 0, 1};
    }
  }
  scene::Color out = to_color(col);
  out.a = col.a * c.opacity_attr(fe, AId::FloodOpacity);
  return out;
}

std::optional<double> num(const Converter& c, NodeId n, AId a) { return c.number_attr(n, a); }

std::vector<double> color_matrix(const Converter& c, NodeId fe) {
  std::vector<double> id = {1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0};
  std::string_view type = c.str_attr(fe, AId::Type);
  const std::string* vs = c.doc().attr(fe, AId::Values);
  std::vector<double> list;
  bool has_list = vs && parse_number_list(*vs, list);
  if (type == "saturate") {
    if (!has_list) return id;
    double s = list.empty() ? 1.0 : std::clamp(list[0], 0.0, 1.0);
    return {0.213 + 0.787 * s, 0.715 - 0.715 * s, 0.072 - 0.072 * s, 0, 0,
            0.213 - 0.213 * s, 0.715 + 0.285 * s, 0.072 - 0.072 * s, 0, 0,
            0.213 - 0.213 * s, 0.715 - 0.715 * s, 0.072 + 0.928 * s, 0, 0,
            0, 0, 0, 1, 0};
  }
  if (type == "hueRotate") {
    if (!has_list) return id;
    double a = (list.empty() ? 0.0 : list[0]) * M_PI / 180.0;
    double cs = std::cos(a), sn = std::sin(a);
    return {0.213 + cs * 0.787 - sn * 0.213, 0.715 - cs * 0.715 - sn * 0.715,
            0.072 - cs * 0.072 + sn * 0.928, 0, 0,
            0.213 - cs * 0.213 + sn * 0.143, 0.715 + cs * 0.285 + sn * 0.140,
            0.072 - cs * 0.072 - sn * 0.283, 0, 0,
            0.213 - cs * 0.213 - sn * 0.787, 0.715 - cs * 0.715 + sn * 0.715,
            0.072 + cs * 0.928 + sn * 0.072, 0, 0,
            0, 0, 0, 1, 0};
  }
  if (type == "luminanceToAlpha") {
    return {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.2125, 0.7154, 0.0721, 0, 0};
  }
  if (has_list && list.size() == 20) return list;
  return id;
}

scene::FeComponentTransfer::Func transfer_func(const Converter& c, NodeId f, bool& ok) {
  scene::FeComponentTransfer::Func fn;
  ok = true;
  std::string_view type = c.str_attr(f, AId::Type);
  auto table = [&]() {
    std::vector<double> l;
    const std::string* v = c.doc().attr(f, AId::TableValues);
    if (v && parse_number_list(*v, l)) return l;
    return std::vector<double>{};
  };
  if (type == "identity") fn.type = 0;
  else if (type == "table") { fn.type = 1; fn.table = table(); }
  else if (type == "discrete") { fn.type = 2; fn.table = table(); }
  else if (type == "linear") {
    fn.type = 3;
    fn.slope = num(c, f, AId::Slope).value_or(1.0);
    fn.intercept = num(c, f, AId::Intercept).value_or(0.0);
  } else if (type == "gamma") {
    fn.type = 4;
    fn.amplitude = num(c, f, AId::Amplitude).value_or(1.0);
    fn.exponent = num(c, f, AId::Exponent).value_or(1.0);
    fn.offset = num(c, f, AId::Offset).value_or(0.0);
  } else {
    ok = false;
  }
  return fn;
}

// Parses a CSS filter function argument list into tokens (split on whitespace/commas, keeping
// colour functions like rgb(...) whole).
std::vector<std::string_view> split_args(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == ',' || s[i] == '\t' || s[i] == '\n')) ++i;
    if (i >= s.size()) break;
    size_t b = i;
    int depth = 0;
    while (i < s.size()) {
      if (s[i] == '(') ++depth;
      else if (s[i] == ')') --depth;
      else if (depth == 0 && (s[i] == ' ' || s[i] == ',' || s[i] == '\t' || s[i] == '\n')) break;
      ++i;
    }
    out.push_back(s.substr(b, i - b));
  }
  return out;
}

// number or percentage; nullopt on error (negative values are errors).
std::optional<double> amount_arg(const std::vector<std::string_view>& a, double def) {
  if (a.empty()) return def;
  if (a.size() != 1) return std::nullopt;
  Length l;
  if (!parse_length(a[0], l)) return std::nullopt;
  double v;
  if (l.unit == Unit::Percent) v = l.value / 100.0;
  else if (l.unit == Unit::None) v = l.value;
  else return std::nullopt;
  if (v < 0) return std::nullopt;
  return v;
}

}  // namespace

bool Converter::convert_filters(NodeId n, const State& st, const std::optional<Rect>& bbox,
                                std::vector<std::shared_ptr<const scene::Filter>>& out) {
  std::string_view value = str_attr(n, AId::Filter);
  if (value.empty() || value == "none") return true;
  bool invalid_urls = false;
  // The value is a list of url(#id) references and CSS filter functions. A parse error drops
  // the whole list (as resvg).
  struct Item { std::string_view fn, args, whole; };
  std::vector<Item> items;
  {
    size_t i = 0;
    while (i < value.size()) {
      while (i < value.size() && (value[i] == ' ' || value[i] == ',' || value[i] == '\t' || value[i] == '\n')) ++i;
      if (i >= value.size()) break;
      size_t paren = value.find('(', i);
      if (paren == std::string_view::npos) return true;
      int depth = 0;
      size_t close = std::string_view::npos;
      for (size_t k = paren; k < value.size(); ++k) {
        if (value[k] == '(') ++depth;
        else if (value[k] == ')' && --depth == 0) { close = k; break; }
      }
      if (close == std::string_view::npos) return true;
      items.push_back({trim(value.substr(i, paren - i)), value.substr(paren + 1, close - paren - 1),
                       value.substr(i, close - i + 1)});
      i = close + 1;
    }
  }
  // Filter functions (CSS): one primitive each, region relative to the bbox, sRGB.
  auto add_function = [&](const Item& it) -> bool {
    auto args = split_args(it.args);
    scene::FilterPrimitive p;
    p.color_space = scene::ColorSpace::SRGB;
    p.result = "result";
    bool wide = false;
    auto linear = [](double slope, double intercept) {
      scene::FeComponentTransfer::Func f;
      f.type = 3;
      f.slope = slope;
      f.intercept = intercept;
      return f;
    };
    auto table = [](std::vector<double> t) {
      scene::FeComponentTransfer::Func f;
      f.type = 1;
      f.table = std::move(t);
      return f;
    };
    if (it.fn == "blur") {
      double sd = 0;
      if (args.size() > 1) return false;
      if (args.size() == 1) {
        Length l;
        if (!parse_length(args[0], l) || l.unit == Unit::Percent) return false;
        sd = convert_length(l, n, AId::Dx, Units::UserSpaceOnUse, st);
      }
      p.kind = scene::FeGaussianBlur{FilterInput{}, std::max(sd, 0.0), std::max(sd, 0.0)};
      wide = true;
    } else if (it.fn == "drop-shadow") {
      // resvg composites sRGB drop shadows with a linear->sRGB converted flood colour; the
      // rasterizer does not reproduce that yet.
      throw Unsupported("filter:feDropShadow-srgb");
      std::optional<RGBA> color;
      std::vector<Length> lens;
      for (auto a : args) {
        Length l;
        RGBA c;
        if (parse_length(a, l)) lens.push_back(l);
        else if (!color && parse_color(a, c)) color = c;
        else if (!color && a == "currentColor") {
          RGBA cc{0, 0, 0, 1};
          if (const std::string* v = doc_.find_attr(n, AId::Color)) parse_color(*v, cc);
          color = cc;
        } else return false;
      }
      if (lens.size() != 2 && lens.size() != 3) return false;
      if (!color) {
        RGBA cc{0, 0, 0, 1};
        if (const std::string* v = doc_.find_attr(n, AId::Color)) parse_color(*v, cc);
        color = cc;
      }
      scene::FeDropShadow d;
      d.dx = convert_length(lens[0], n, AId::Dx, Units::UserSpaceOnUse, st);
      d.dy = convert_length(lens[1], n, AId::Dy, Units::UserSpaceOnUse, st);
      double sd = lens.size() == 3 ? convert_length(lens[2], n, AId::Dx, Units::UserSpaceOnUse, st) : 0;
      d.std_dev_x = d.std_dev_y = std::max(sd, 0.0);
      d.color = to_color(*color);
      p.kind = d;
      wide = true;
    } else if (it.fn == "brightness" || it.fn == "contrast" || it.fn == "invert" ||
               it.fn == "opacity") {
      auto a = amount_arg(args, 1.0);
      if (!a) return false;
      double v = *a;
      scene::FeComponentTransfer ct;
      if (it.fn == "brightness") {
        ct.funcs[0] = ct.funcs[1] = ct.funcs[2] = linear(v, 0);
      } else if (it.fn == "contrast") {
        ct.funcs[0] = ct.funcs[1] = ct.funcs[2] = linear(v, -(0.5 * v) + 0.5);
      } else if (it.fn == "invert") {
        v = std::min(v, 1.0);
        ct.funcs[0] = ct.funcs[1] = ct.funcs[2] = table({v, 1.0 - v});
      } else {
        v = std::min(v, 1.0);
        ct.funcs[3] = table({0.0, v});
      }
      p.kind = ct;
    } else if (it.fn == "grayscale" || it.fn == "sepia" || it.fn == "saturate") {
      auto a = amount_arg(args, 1.0);
      if (!a) return false;
      double v = *a;
      std::vector<double> m;
      if (it.fn == "grayscale") {
        double k = 1.0 - std::min(v, 1.0);
        m = {0.2126 + 0.7874 * k, 0.7152 - 0.7152 * k, 0.0722 - 0.0722 * k, 0, 0,
             0.2126 - 0.2126 * k, 0.7152 + 0.2848 * k, 0.0722 - 0.0722 * k, 0, 0,
             0.2126 - 0.2126 * k, 0.7152 - 0.7152 * k, 0.0722 + 0.9278 * k, 0, 0,
             0, 0, 0, 1, 0};
      } else if (it.fn == "sepia") {
        double k = 1.0 - std::min(v, 1.0);
        m = {0.393 + 0.607 * k, 0.769 - 0.769 * k, 0.189 - 0.189 * k, 0, 0,
             0.349 - 0.349 * k, 0.686 + 0.314 * k, 0.168 - 0.168 * k, 0, 0,
             0.272 - 0.272 * k, 0.534 - 0.534 * k, 0.131 + 0.869 * k, 0, 0,
             0, 0, 0, 1, 0};
      } else {
        double s = v;
        m = {0.213 + 0.787 * s, 0.715 - 0.715 * s, 0.072 - 0.072 * s, 0, 0,
             0.213 - 0.213 * s, 0.715 + 0.285 * s, 0.072 - 0.072 * s, 0, 0,
             0.213 - 0.213 * s, 0.715 - 0.715 * s, 0.072 + 0.928 * s, 0, 0,
             0, 0, 0, 1, 0};
      }
      p.kind = scene::FeColorMatrix{FilterInput{}, std::move(m)};
    } else if (it.fn == "hue-rotate") {
      double deg = 0;
      if (args.size() > 1) return false;
      if (args.size() == 1) {
        Stream sa{args[0]};
        double x;
        if (!sa.parse_number(x)) return false;
        std::string_view u = sa.s.substr(sa.pos);
        if (u == "deg") deg = x;
        else if (u == "grad") deg = x * 0.9;
        else if (u == "rad") deg = x * 180.0 / M_PI;
        else if (u == "turn") deg = x * 360.0;
        else if (u.empty() && x == 0) deg = 0;
        else return false;
      }
      double a = deg * M_PI / 180.0, cs = std::cos(a), sn = std::sin(a);
      p.kind = scene::FeColorMatrix{
          FilterInput{},
          {0.213 + cs * 0.787 - sn * 0.213, 0.715 - cs * 0.715 - sn * 0.715,
           0.072 - cs * 0.072 + sn * 0.928, 0, 0,
           0.213 - cs * 0.213 + sn * 0.143, 0.715 + cs * 0.285 + sn * 0.140,
           0.072 - cs * 0.072 - sn * 0.283, 0, 0,
           0.213 - cs * 0.213 - sn * 0.787, 0.715 - cs * 0.715 + sn * 0.715,
           0.072 + cs * 0.928 + sn * 0.072, 0, 0,
           0, 0, 0, 1, 0}};
    } else {
      return false;
    }
    if (!bbox) return true;  // no region without a bbox: skipped
    Rect r = wide ? Rect{-0.5, -0.5, 2, 2} : Rect{-0.1, -0.1, 1.2, 1.2};
    r = {bbox->x + r.x * bbox->w, bbox->y + r.y * bbox->h, r.w * bbox->w, r.h * bbox->h};
    p.subregion = r;
    auto f = std::make_shared<scene::Filter>();
    f->region = r;
    f->primitives.push_back(std::move(p));
    out.push_back(f);
    return true;
  };
  for (const Item& it : items) {
    if (it.fn != "url") {
      if (!add_function(it)) { out.clear(); return true; }
      continue;
    }
    std::string_view item = it.whole;
    NodeId link = doc_.by_id(parse_func_iri(item));
    if (link == kNoNode || doc_.tag(link) != EId::Filter) { invalid_urls = true; continue; }
    if (is_active(link)) { invalid_urls = true; continue; }
    DepthGuard dg(*this);
    ActiveGuard ag(*this, link);

    auto res_node = [&](AId a) {
      // Filter attributes inherit through href (usvg resolve_attr).
      NodeId cur = link;
      for (int g = 0; g < 64 && cur != kNoNode; ++g) {
        if (doc_.has_attr(cur, a)) return cur;
        NodeId next = doc_.href(cur);
        if (next == kNoNode || next == link || doc_.tag(next) != EId::Filter) break;
        cur = next;
      }
      return link;
    };
    Units units = units_attr(res_node(AId::FilterUnits), AId::FilterUnits, Units::ObjectBoundingBox);
    Units punits = units_attr(res_node(AId::PrimitiveUnits), AId::PrimitiveUnits, Units::UserSpaceOnUse);
    auto rn = [&](AId a, Length def) {
      NodeId s = res_node(a);
      return convert_length(length_attr(s, a).value_or(def), s, a, units, st);
    };
    Rect region{rn(AId::X, {-10, Unit::Percent}), rn(AId::Y, {-10, Unit::Percent}),
                rn(AId::Width, {120, Unit::Percent}), rn(AId::Height, {120, Unit::Percent})};
    if (!(region.w > 0) || !(region.h > 0)) { invalid_urls = true; continue; }
    if (units == Units::ObjectBoundingBox) {
      if (!bbox) { invalid_urls = true; continue; }
      region = {bbox->x + region.x * bbox->w, bbox->y + region.y * bbox->h, region.w * bbox->w,
                region.h * bbox->h};
    }
    // Filter with primitives (through href).
    NodeId with_prims = kNoNode;
    for (NodeId cur = link, g = 0; g < 64 && cur != kNoNode; ++g) {
      if (doc_.tag(cur) != EId::Filter) break;
      if (doc_.first_child(cur) != kNoNode) { with_prims = cur; break; }
      NodeId next = doc_.href(cur);
      if (next == link || next == cur) break;
      cur = next;
    }
    if (with_prims == kNoNode) { invalid_urls = true; continue; }
    double sx = 1, sy = 1;
    if (punits == Units::ObjectBoundingBox) {
      if (!bbox) { invalid_urls = true; continue; }
      sx = bbox->w;
      sy = bbox->h;
    }
    auto f = std::make_shared<scene::Filter>();
    f->region = region;
    Results results;
    bool broken = false;
    for (NodeId fe = doc_.first_child(with_prims); fe != kNoNode; fe = doc_.next_sibling(fe)) {
      if (doc_.node(fe).is_text) continue;
      EId tag = doc_.tag(fe);
      if (!is_filter_primitive(tag)) continue;
      // Subregion.
      auto tl = [&](AId a) -> std::optional<double> {
        auto l = length_attr(fe, a);
        if (!l) return std::nullopt;
        return convert_length(*l, fe, a, punits, st);
      };
      auto x = tl(AId::X), y = tl(AId::Y), w = tl(AId::Width), h = tl(AId::Height);
      Rect base = region, sub;
      if ((tag == EId::FeFlood || tag == EId::FeImage) && punits == Units::ObjectBoundingBox) {
        if (!bbox) { broken = true; break; }
        Rect r{x.value_or(0), y.value_or(0), w.value_or(1), h.value_or(1)};
        if (!(r.w > 0) || !(r.h > 0)) { broken = true; break; }
        sub = {bbox->x + r.x * bbox->w, bbox->y + r.y * bbox->h, r.w * bbox->w, r.h * bbox->h};
      } else if (punits == Units::ObjectBoundingBox) {
        Rect r{x.value_or(0), y.value_or(0), w.value_or(1), h.value_or(1)};
        if (!(r.w > 0) || !(r.h > 0)) { broken = true; break; }
        sub = {base.x + r.x * base.w, base.y + r.y * base.h, r.w * base.w, r.h * base.h};
      } else {
        sub = {x.value_or(base.x), y.value_or(base.y), w.value_or(base.w), h.value_or(base.h)};
        if (!(sub.w > 0) || !(sub.h > 0)) { broken = true; break; }
      }
      scene::FilterPrimitive p;
      p.subregion = sub;
      const auto& prims = f->primitives;
      switch (tag) {
        case EId::FeGaussianBlur: {
          auto [dx, dy] = std_dev(*this, fe, "0 0", sx, sy);
          p.kind = scene::FeGaussianBlur{resolve_input(*this, fe, AId::In, prims), dx, dy};
          break;
        }
        case EId::FeDropShadow: {
          auto [dx, dy] = std_dev(*this, fe, "2 2", sx, sy);
          scene::FeDropShadow d;
          d.in = resolve_input(*this, fe, AId::In, prims);
          d.dx = num(*this, fe, AId::Dx).value_or(2.0) * sx;
          d.dy = num(*this, fe, AId::Dy).value_or(2.0) * sy;
          d.std_dev_x = dx;
          d.std_dev_y = dy;
          d.color = flood_color(*this, fe);
          p.kind = d;
          break;
        }
        case EId::FeOffset:
          p.kind = scene::FeOffset{resolve_input(*this, fe, AId::In, prims),
                                   num(*this, fe, AId::Dx).value_or(0.0) * sx,
                                   num(*this, fe, AId::Dy).value_or(0.0) * sy};
          break;
        case EId::FeFlood:
          p.kind = scene::FeFlood{flood_color(*this, fe)};
          break;
        case EId::FeBlend: {
          scene::FeBlend b;
          b.in1 = resolve_input(*this, fe, AId::In, prims);
          b.in2 = resolve_input(*this, fe, AId::In2, prims);
          std::string_view m = str_attr(fe, AId::Mode);
          if (auto mode = parse_blend_mode(m)) b.mode = *mode;
          p.kind = b;
          break;
        }
        case EId::FeComposite: {
          scene::FeComposite c;
          std::string_view op = str_attr(fe, AId::Operator);
          using Op = scene::FeComposite::Op;
          if (op == "in") c.op = Op::In;
          else if (op == "out") c.op = Op::Out;
          else if (op == "atop") c.op = Op::Atop;
          else if (op == "xor") c.op = Op::Xor;
          else if (op == "lighter") throw Unsupported("filter:feComposite-lighter");
          else if (op == "arithmetic") {
            c.op = Op::Arithmetic;
            c.k1 = num(*this, fe, AId::K1).value_or(0);
            c.k2 = num(*this, fe, AId::K2).value_or(0);
            c.k3 = num(*this, fe, AId::K3).value_or(0);
            c.k4 = num(*this, fe, AId::K4).value_or(0);
          }
          c.in1 = resolve_input(*this, fe, AId::In, prims);
          c.in2 = resolve_input(*this, fe, AId::In2, prims);
          p.kind = c;
          break;
        }
        case EId::FeMerge: {
          scene::FeMerge m;
          for (NodeId mn = doc_.first_child(fe); mn != kNoNode; mn = doc_.next_sibling(mn))
            if (!doc_.node(mn).is_text && doc_.tag(mn) == EId::FeMergeNode)
              m.inputs.push_back(resolve_input(*this, mn, AId::In, prims));
          p.kind = m;
          break;
        }
        case EId::FeTile:
          p.kind = scene::FeTile{resolve_input(*this, fe, AId::In, prims)};
          break;
        case EId::FeColorMatrix:
          p.kind = scene::FeColorMatrix{resolve_input(*this, fe, AId::In, prims),
                                        color_matrix(*this, fe)};
          break;
        case EId::FeComponentTransfer: {
          scene::FeComponentTransfer ct;
          ct.in = resolve_input(*this, fe, AId::In, prims);
          for (NodeId fn = doc_.first_child(fe); fn != kNoNode; fn = doc_.next_sibling(fn)) {
            if (doc_.node(fn).is_text) continue;
            int idx = doc_.tag(fn) == EId::FeFuncR ? 0 : doc_.tag(fn) == EId::FeFuncG ? 1
                      : doc_.tag(fn) == EId::FeFuncB ? 2 : doc_.tag(fn) == EId::FeFuncA ? 3 : -1;
            if (idx < 0) continue;
            bool ok;
            auto func = transfer_func(*this, fn, ok);
            if (ok) ct.funcs[idx] = func;
          }
          p.kind = ct;
          break;
        }
        case EId::FeImage:
          p.kind = scene::FeImage{fe_image_content(fe, sub)};
          break;
        case EId::FeMorphology: {
          scene::FeMorphology mo;
          mo.in = resolve_input(*this, fe, AId::In, prims);
          mo.dilate = str_attr(fe, AId::Operator) == "dilate";
          mo.rx = sx;
          mo.ry = sy;
          if (const std::string* rv = doc_.attr(fe, AId::Radius)) {
            std::vector<double> l;
            if (parse_number_list(*rv, l)) {
              double rx = 0, ry = 0;
              if (l.size() == 2) { rx = l[0]; ry = l[1]; }
              else if (l.size() == 1) { rx = ry = l[0]; }
              if (rx == 0 && ry == 0) { rx = ry = 1; }
              if (rx == 0 && ry != 0) rx = 1;
              if (rx != 0 && ry == 0) ry = 1;
              if (rx > 0 && ry > 0) { mo.rx = rx * sx; mo.ry = ry * sy; }
            }
          }
          p.kind = mo;
          break;
        }
        default:
          throw Unsupported("filter:" + std::string(element_name(tag)));
      }
      std::string_view ci = find_str(fe, AId::ColorInterpolationFilters);
      p.color_space = ci == "sRGB" ? scene::ColorSpace::SRGB : scene::ColorSpace::LinearRGB;
      if (tag == EId::FeDropShadow && p.color_space == scene::ColorSpace::SRGB)
        throw Unsupported("filter:feDropShadow-srgb");  // see the drop-shadow() note above
      p.result = gen_result(*this, fe, results);
      f->primitives.push_back(std::move(p));
    }
    if (broken) {
      // resvg stops at an invalid subregion; keep the valid prefix.
    }
    if (f->primitives.empty()) { invalid_urls = true; continue; }
    out.push_back(f);
  }
  if (out.empty() && invalid_urls) return false;
  return true;
}

}  // namespace verm::svg
