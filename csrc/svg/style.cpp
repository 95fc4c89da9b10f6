// Fill, stroke and paint servers (usvg style.rs + paint_server.rs equivalents).
#include <cmath>
#include <limits>

#include "svg/convert.h"

namespace verm::svg {

namespace {

RGBA current_color(const Document& doc, NodeId n) {
  RGBA c{0, 0, 0, 1};
  const std::string* v = doc.find_attr(n, AId::Color);
  if (v && !parse_color(*v, c)) c = RGBA{0, 0, 0, 1};
  return c;
}

scene::Color rgb_only(const RGBA& c) { return {c.r / 255.f, c.g / 255.f, c.b / 255.f, 1.f}; }

// Element in the href chain of `n` that supplies attribute `a` (usvg resolve_attr).
NodeId resolve_attr(const Document& doc, NodeId n, AId a) {
  if (doc.has_attr(n, a)) return n;
  EId tag = doc.tag(n);
  NodeId cur = n;
  for (int guard = 0; guard < 64; ++guard) {
    NodeId link = doc.href(cur);
    if (link == kNoNode || link == n || link == cur) break;
    EId lt = doc.tag(link);
    bool ok = false;
    if (tag == EId::LinearGradient || tag == EId::RadialGradient) {
      bool geom_lg = a == AId::X1 || a == AId::Y1 || a == AId::X2 || a == AId::Y2;
      bool geom_rg = a == AId::Cx || a == AId::Cy || a == AId::R || a == AId::Fx ||
                     a == AId::Fy || a == AId::Fr;
      bool common = a == AId::GradientUnits || a == AId::SpreadMethod || a == AId::GradientTransform;
      if (geom_lg) ok = tag == EId::LinearGradient && lt == EId::LinearGradient;
      else if (geom_rg) ok = tag == EId::RadialGradient && lt == EId::RadialGradient;
      else if (common) ok = lt == EId::LinearGradient || lt == EId::RadialGradient;
    } else if (tag == EId::Pattern) {
      ok = lt == EId::Pattern;
    } else if (tag == EId::Filter) {
      ok = lt == EId::Filter;
    }
    if (!ok) break;
    if (doc.has_attr(link, a)) return link;
    cur = link;
  }
  return n;
}

scene::SpreadMethod spread_method(const Converter& c, NodeId n) {
  NodeId s = resolve_attr(c.doc(), n, AId::SpreadMethod);
  std::string_view v = c.str_attr(s, AId::SpreadMethod);
  if (v == "reflect") return scene::SpreadMethod::Reflect;
  if (v == "repeat") return scene::SpreadMethod::Repeat;
  return scene::SpreadMethod::Pad;
}

NodeId find_gradient_with_stops(const Document& doc, NodeId n) {
  NodeId cur = n;
  for (int guard = 0; guard < 64 && cur != kNoNode; ++guard) {
    EId t = doc.tag(cur);
    if (t != EId::LinearGradient && t != EId::RadialGradient) return kNoNode;
    for (NodeId c = doc.first_child(cur); c != kNoNode; c = doc.next_sibling(c))
      if (!doc.node(c).is_text && doc.tag(c) == EId::Stop) return cur;
    NodeId next = doc.href(cur);
    if (next == n || next == cur) return kNoNode;
    cur = next;
  }
  return kNoNode;
}

std::vector<scene::GradientStop> convert_stops(const Converter& c, NodeId grad) {
  const Document& doc = c.doc();
  std::vector<scene::GradientStop> stops;
  std::vector<float> opac;
  double prev = 0;
  for (NodeId s = doc.first_child(grad); s != kNoNode; s = doc.next_sibling(s)) {
    if (doc.node(s).is_text || doc.tag(s) != EId::Stop) continue;
    double off = prev;
    if (const std::string* ov = doc.attr(s, AId::Offset)) {
      Length l;
      if (parse_length(*ov, l)) {
        if (l.unit == Unit::None) off = l.value;
        else if (l.unit == Unit::Percent) off = l.value / 100.0;
      }
    }
    prev = off;
    off = std::clamp(off, 0.0, 1.0);
    RGBA col{0, 0, 0, 1};
    if (const std::string* sc = doc.attr(s, AId::StopColor)) {
      std::string_view v = trim(*sc);
      if (v == "currentColor") col = current_color(doc, s);
      else if (!parse_color(v, col)) col = RGBA{0, 0, 0, 1};
    }
    float so = c.opacity_attr(s, AId::StopOpacity);
    scene::GradientStop gs;
    gs.offset = static_cast<float>(off);
    gs.color = rgb_only(col);
    gs.color.a = col.a * so;
    stops.push_back(gs);
  }
  auto eq = [](float a, float b) { return std::fabs(a - b) <= 4 * std::numeric_limits<float>::epsilon() * std::max(1.f, std::fabs(a)); };
  if (stops.size() >= 3) {
    size_t i = 0;
    while (i + 2 < stops.size()) {
      if (eq(stops[i].offset, stops[i + 1].offset) && eq(stops[i + 1].offset, stops[i + 2].offset))
        stops.erase(stops.begin() + static_cast<long>(i) + 1);
      else
        ++i;
    }
  }
  if (stops.size() >= 2) {
    for (size_t i = 0; i + 1 < stops.size(); ++i)
      if (eq(stops[i].offset, 0) && eq(stops[i + 1].offset, 0))
        stops[i + 1].offset = std::min(1.f, stops[i].offset + std::numeric_limits<float>::epsilon());
  }
  for (size_t i = 1; i < stops.size(); ++i) {
    float o1 = stops[i - 1].offset, o2 = stops[i].offset;
    if (o1 > o2 || eq(o1, o2)) {
      stops[i - 1].offset = std::clamp(o1 - std::numeric_limits<float>::epsilon(), 0.f, 1.f);
      stops[i].offset = std::clamp(o1, 0.f, 1.f);
    }
  }
  return stops;
}

double resolve_number(const Converter& c, NodeId n, AId a, Units u, const State& st, Length def) {
  NodeId s = resolve_attr(c.doc(), n, a);
  return c.convert_length(c.length_attr(s, a).value_or(def), s, a, u, st);
}

}  // namespace

std::optional<scene::Paint> Converter::convert_paint_server(NodeId server, const Rect& bbox,
                                                            bool has_bbox, const State& st,
                                                            bool& is_color, float& color_opacity,
                                                            bool& invalid) {
  is_color = false;
  invalid = false;
  EId tag = doc_.tag(server);
  if (tag == EId::LinearGradient || tag == EId::RadialGradient) {
    NodeId with_stops = find_gradient_with_stops(doc_, server);
    if (with_stops == kNoNode) { invalid = true; return std::nullopt; }
    auto stops = convert_stops(*this, with_stops);
    if (stops.empty()) { invalid = true; return std::nullopt; }
    if (stops.size() == 1) {
      is_color = true;
      scene::Color col = stops[0].color;
      color_opacity = col.a;
      col.a = 1;
      return scene::Paint{col};
    }
    Units units = units_attr(resolve_attr(doc_, server, AId::GradientUnits), AId::GradientUnits,
                             Units::ObjectBoundingBox);
    NodeId tsn = resolve_attr(doc_, server, AId::GradientTransform);
    Transform gts = resolve_transform(tsn, AId::GradientTransform, st);
    if (units == Units::ObjectBoundingBox && !has_bbox) { invalid = true; return std::nullopt; }
    Transform ts = units == Units::ObjectBoundingBox ? from_bbox(bbox) * gts : gts;
    if (tag == EId::LinearGradient) {
      scene::LinearGradient lg;
      lg.x1 = resolve_number(*this, server, AId::X1, units, st, Length{});
      lg.y1 = resolve_number(*this, server, AId::Y1, units, st, Length{});
      lg.x2 = resolve_number(*this, server, AId::X2, units, st, Length{100, Unit::Percent});
      lg.y2 = resolve_number(*this, server, AId::Y2, units, st, Length{});
      lg.transform = ts;
      lg.spread = spread_method(*this, server);
      lg.stops = std::move(stops);
      return scene::Paint{std::move(lg)};
    }
    double r = resolve_number(*this, server, AId::R, units, st, Length{50, Unit::Percent});
    if (!(r > 0)) {
      is_color = true;
      scene::Color col = stops.back().color;
      color_opacity = col.a;
      col.a = 1;
      return scene::Paint{col};
    }
    scene::RadialGradient rg;
    rg.r = r;
    rg.cx = resolve_number(*this, server, AId::Cx, units, st, Length{50, Unit::Percent});
    rg.cy = resolve_number(*this, server, AId::Cy, units, st, Length{50, Unit::Percent});
    rg.fx = resolve_number(*this, server, AId::Fx, units, st, Length{rg.cx, Unit::None});
    rg.fy = resolve_number(*this, server, AId::Fy, units, st, Length{rg.cy, Unit::None});
    rg.fr = resolve_number(*this, server, AId::Fr, units, st, Length{});
    rg.transform = ts;
    rg.spread = spread_method(*this, server);
    rg.stops = std::move(stops);
    return scene::Paint{std::move(rg)};
  }
  if (tag == EId::Pattern) {
    // Pattern with children (through the href chain).
    NodeId with_children = kNoNode;
    {
      NodeId cur = server;
      for (int guard = 0; guard < 64 && cur != kNoNode; ++guard) {
        if (doc_.tag(cur) != EId::Pattern) break;
        bool any = false;
        for (NodeId c = doc_.first_child(cur); c != kNoNode; c = doc_.next_sibling(c))
          if (!doc_.node(c).is_text) { any = true; break; }
        if (any) { with_children = cur; break; }
        NodeId next = doc_.href(cur);
        if (next == server || next == cur) break;
        cur = next;
      }
    }
    if (with_children == kNoNode) { invalid = true; return std::nullopt; }
    if (is_active(server) || is_active(with_children)) { invalid = true; return std::nullopt; }
    Units units = units_attr(resolve_attr(doc_, server, AId::PatternUnits), AId::PatternUnits,
                             Units::ObjectBoundingBox);
    Units cunits = units_attr(resolve_attr(doc_, server, AId::PatternContentUnits),
                              AId::PatternContentUnits, Units::UserSpaceOnUse);
    Transform pts = resolve_transform(resolve_attr(doc_, server, AId::PatternTransform),
                                      AId::PatternTransform, st);
    Rect rect{resolve_number(*this, server, AId::X, units, st, Length{}),
              resolve_number(*this, server, AId::Y, units, st, Length{}),
              resolve_number(*this, server, AId::Width, units, st, Length{}),
              resolve_number(*this, server, AId::Height, units, st, Length{})};
    if (!(rect.w > 0) || !(rect.h > 0)) { invalid = true; return std::nullopt; }
    if ((units == Units::ObjectBoundingBox || cunits == Units::ObjectBoundingBox) && !has_bbox) {
      invalid = true;
      return std::nullopt;
    }
    std::optional<ViewBox> vb = viewbox(resolve_attr(doc_, server, AId::ViewBox));
    AspectRatio ar = aspect(resolve_attr(doc_, server, AId::PreserveAspectRatio));
    if (units == Units::ObjectBoundingBox)
      rect = {bbox.x + rect.x * bbox.w, bbox.y + rect.y * bbox.h, rect.w * bbox.w, rect.h * bbox.h};
    Transform content_ts = Transform::translate(rect.x, rect.y);
    if (vb) content_ts = content_ts * view_box_transform(*vb, ar, rect.w, rect.h);
    else if (cunits == Units::ObjectBoundingBox) content_ts = content_ts * Transform::scale(bbox.w, bbox.h);
    auto content = std::make_shared<scene::Group>();
    {
      ActiveGuard ag(*this, server);
      ActiveGuard ag2(*this, with_children);
      State pst = st;
      pst.context.reset();
      scene::Group inner;
      convert_children(with_children, pst, inner);
      content->transform = content_ts;
      content->children = std::move(inner.children);
    }
    scene::Pattern pat;
    pat.rect = rect;
    pat.transform = pts;
    pat.content = content;
    return scene::Paint{std::move(pat)};
  }
  invalid = true;
  return std::nullopt;
}

bool Converter::convert_paint(NodeId n, AId aid, bool has_bbox, const Rect& bbox,
                              const State& st, scene::Paint& out, float& opacity,
                              NodeId painted) {
  if (painted == kNoNode) painted = n;
  const std::string* v = doc_.attr(n, aid);
  if (!v) return false;
  PaintValue pv;
  if (!parse_paint(*v, pv)) {
    if (aid != AId::Fill) return false;
    pv = PaintValue{};
    pv.kind = PaintValue::Kind::Color;
    pv.color = RGBA{0, 0, 0, 1};
  }
  auto from_fallback = [&]() -> bool {
    switch (pv.fallback) {
      case PaintValue::Fallback::Unset:
      case PaintValue::Fallback::None:
        return false;
      case PaintValue::Fallback::CurrentColor: {
        RGBA c = current_color(doc_, painted);
        out = rgb_only(c);
        opacity = c.a;
        return true;
      }
      case PaintValue::Fallback::Color:
        out = rgb_only(pv.fallback_color);
        opacity = pv.fallback_color.a;
        return true;
    }
    return false;
  };
  switch (pv.kind) {
    case PaintValue::Kind::None:
      return false;
    case PaintValue::Kind::ContextFill:
    case PaintValue::Kind::ContextStroke: {
      if (!st.context) return false;
      bool fill = pv.kind == PaintValue::Kind::ContextFill;
      ContextPaint ctx = *st.context;
      if (ctx.use_node != kNoNode) {
        State ust = st;
        ust.context.reset();
        ust.ctx_ts = Transform{};
        Rect unit{0, 0, 1, 1};
        bool has = ctx.bbox.has_value();
        const Rect& bb = has ? *ctx.bbox : unit;
        if (fill) ctx.fill = resolve_fill(ctx.use_node, has, bb, ust);
        else ctx.stroke = resolve_stroke(ctx.use_node, has, bb, ust);
      }
      if (fill ? !ctx.fill : !ctx.stroke) return false;
      scene::Paint p = fill ? ctx.fill->paint : ctx.stroke->paint;
      if (!std::holds_alternative<scene::Color>(p)) {
        if (ctx.probing) {  // first pass only measures geometry
          out = scene::Color{0, 0, 0, 1};
          return true;
        }
        // The paint lives in the context element's user space: map it into ours.
        if (!st.ctx_ts.is_invertible()) return false;
        Transform to_local = st.ctx_ts.inverted();
        if (auto* lg = std::get_if<scene::LinearGradient>(&p)) lg->transform = to_local * lg->transform;
        else if (auto* rg = std::get_if<scene::RadialGradient>(&p)) rg->transform = to_local * rg->transform;
        else if (auto* pt = std::get_if<scene::Pattern>(&p)) {
          pt->remapped = true;
          pt->abs_ts = st.abs_ts;
          pt->context_abs_ts = st.ctx_abs_ts;
          pt->base_transform = pt->transform;
          pt->transform = to_local * pt->transform;
        }
      }
      out = std::move(p);  // usvg takes only the paint; the context's opacity is not carried over
      return true;
    }
    case PaintValue::Kind::CurrentColor: {
      RGBA c = current_color(doc_, painted);
      out = rgb_only(c);
      opacity = c.a;
      return true;
    }
    case PaintValue::Kind::Color:
      out = rgb_only(pv.color);
      opacity = pv.color.a;
      return true;
    case PaintValue::Kind::Url: {
      NodeId link = doc_.by_id(pv.url);
      if (link == kNoNode) return from_fallback();
      EId t = doc_.tag(link);
      if (t != EId::LinearGradient && t != EId::RadialGradient && t != EId::Pattern) return false;
      bool is_color = false, invalid = false;
      float co = 1;
      auto p = convert_paint_server(link, bbox, has_bbox, st, is_color, co, invalid);
      if (!p) return from_fallback();
      out = std::move(*p);
      if (is_color) opacity = co;
      return true;
    }
  }
  return false;
}

std::optional<scene::Fill> Converter::resolve_fill(NodeId n, bool has_bbox, const Rect& bbox,
                                                   const State& st) {
  scene::Fill f;
  std::string_view rule;
  if (st.parent_clip_path != kNoNode) {
    f.paint = scene::Color{0, 0, 0, 1};
    rule = find_str(n, AId::ClipRule);
    f.rule = rule == "evenodd" ? scene::FillRule::EvenOdd : scene::FillRule::NonZero;
    return f;
  }
  float sub = 1;
  NodeId src = kNoNode;
  for (NodeId a = n; a != kNoNode; a = doc_.parent(a))
    if (doc_.has_attr(a, AId::Fill)) { src = a; break; }
  if (src != kNoNode) {
    if (!convert_paint(src, AId::Fill, has_bbox, bbox, st, f.paint, sub, n)) return std::nullopt;
  } else {
    f.paint = scene::Color{0, 0, 0, 1};
  }
  f.opacity = sub * find_opacity(n, AId::FillOpacity);
  rule = find_str(n, AId::FillRule);
  f.rule = rule == "evenodd" ? scene::FillRule::EvenOdd : scene::FillRule::NonZero;
  return f;
}

std::optional<scene::Stroke> Converter::resolve_stroke(NodeId n, bool has_bbox, const Rect& bbox,
                                                       const State& st) {
  if (st.parent_clip_path != kNoNode) return std::nullopt;
  NodeId src = kNoNode;
  for (NodeId a = n; a != kNoNode; a = doc_.parent(a))
    if (doc_.has_attr(a, AId::Stroke)) { src = a; break; }
  if (src == kNoNode) return std::nullopt;
  scene::Stroke s;
  float sub = 1;
  if (!convert_paint(src, AId::Stroke, has_bbox, bbox, st, s.paint, sub, n)) return std::nullopt;
  double width = resolve_length(n, AId::StrokeWidth, st, 1.0);
  if (!(width > 0) || !std::isfinite(width)) return std::nullopt;
  s.width = width;
  double ml = 4;
  if (NodeId m = doc_.find_attr_node(n, AId::StrokeMiterlimit); m != kNoNode) {
    if (auto v = number_attr(m, AId::StrokeMiterlimit)) ml = *v;
  }
  s.miter_limit = ml < 1 ? 1 : ml;
  s.opacity = sub * find_opacity(n, AId::StrokeOpacity);
  std::string_view cap = find_str(n, AId::StrokeLinecap);
  s.cap = cap == "round" ? scene::LineCap::Round
          : cap == "square" ? scene::LineCap::Square : scene::LineCap::Butt;
  std::string_view join = find_str(n, AId::StrokeLinejoin);
  s.join = join == "round" ? scene::LineJoin::Round
           : join == "bevel" ? scene::LineJoin::Bevel
           : join == "miter-clip" ? scene::LineJoin::MiterClip : scene::LineJoin::Miter;
  // Dashes.
  for (NodeId a = n; a != kNoNode; a = doc_.parent(a)) {
    const std::string* dv = doc_.attr(a, AId::StrokeDasharray);
    if (!dv) continue;
    std::string_view d = trim(*dv);
    if (d == "none") break;
    std::vector<Length> list;
    if (!parse_length_list(d, list) || list.empty()) break;
    std::vector<double> vals;
    double sum = 0;
    bool neg = false;
    for (const auto& l : list) {
      double x = convert_length(l, a, AId::StrokeDasharray, Units::UserSpaceOnUse, st);
      if (x < 0 || !std::isfinite(x)) neg = true;
      vals.push_back(x);
      sum += x;
    }
    if (neg || !(sum > 0)) break;
    if (vals.size() % 2) {
      size_t k = vals.size();
      for (size_t i = 0; i < k; ++i) vals.push_back(vals[i]);
    }
    s.dasharray = std::move(vals);
    break;
  }
  s.dash_offset = resolve_length(n, AId::StrokeDashoffset, st, 0.0);
  return s;
}

}  // namespace verm::svg
