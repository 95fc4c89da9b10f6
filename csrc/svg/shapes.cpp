// Basic shapes -> paths, and path nodes with fill/stroke/markers/paint-order.
#include <array>
#include <cmath>

#include "svg/convert.h"
#include "svg/path_data.h"

namespace verm::svg {

namespace {

void ellipse_path(Path& p, double cx, double cy, double rx, double ry) {
  p.move_to(cx + rx, cy);
  arc_to(p, cx + rx, cy, rx, ry, 0, false, true, cx, cy + ry);
  arc_to(p, cx, cy + ry, rx, ry, 0, false, true, cx - rx, cy);
  arc_to(p, cx - rx, cy, rx, ry, 0, false, true, cx, cy - ry);
  arc_to(p, cx, cy - ry, rx, ry, 0, false, true, cx + rx, cy);
  p.close();
}

size_t point_count(const Path& p) { return p.points().size(); }

enum class PaintOrderKind : uint8_t { Fill, Stroke, Markers };

std::array<PaintOrderKind, 3> parse_paint_order(std::string_view s) {
  std::array<PaintOrderKind, 3> def = {PaintOrderKind::Fill, PaintOrderKind::Stroke,
                                       PaintOrderKind::Markers};
  s = trim(s);
  if (s.empty() || s == "normal") return def;
  std::vector<PaintOrderKind> order;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && s[i] == ' ') ++i;
    size_t b = i;
    while (i < s.size() && s[i] != ' ') ++i;
    std::string_view w = s.substr(b, i - b);
    if (w.empty()) continue;
    PaintOrderKind k;
    if (w == "fill") k = PaintOrderKind::Fill;
    else if (w == "stroke") k = PaintOrderKind::Stroke;
    else if (w == "markers") k = PaintOrderKind::Markers;
    else return def;
    for (auto o : order) if (o == k) return def;
    order.push_back(k);
  }
  for (auto k : def) {
    bool present = false;
    for (auto o : order) if (o == k) present = true;
    if (!present) order.push_back(k);
  }
  if (order.size() != 3) return def;
  return {order[0], order[1], order[2]};
}

}  // namespace

std::pair<double, double> Converter::resolve_rx_ry(NodeId n, const State& st) {
  auto rx = length_attr(n, AId::Rx), ry = length_attr(n, AId::Ry);
  if (rx && rx->value < 0) rx.reset();
  if (ry && ry->value < 0) ry.reset();
  if (!rx && !ry) return {0, 0};
  if (rx && !ry) {
    double v = convert_length(*rx, n, AId::Rx, Units::UserSpaceOnUse, st);
    return {v, v};
  }
  if (!rx && ry) {
    double v = convert_length(*ry, n, AId::Ry, Units::UserSpaceOnUse, st);
    return {v, v};
  }
  return {convert_length(*rx, n, AId::Rx, Units::UserSpaceOnUse, st),
          convert_length(*ry, n, AId::Ry, Units::UserSpaceOnUse, st)};
}

std::optional<Path> Converter::convert_shape(NodeId n, const State& st) {
  Path p;
  switch (doc_.tag(n)) {
    case EId::Rect: {
      double w = convert_user_length(n, AId::Width, st, Length{});
      double h = convert_user_length(n, AId::Height, st, Length{});
      if (!(w > 0) || !(h > 0)) return std::nullopt;
      double x = convert_user_length(n, AId::X, st, Length{});
      double y = convert_user_length(n, AId::Y, st, Length{});
      auto [rx, ry] = resolve_rx_ry(n, st);
      rx = std::min(rx, w / 2);
      ry = std::min(ry, h / 2);
      if (std::fabs(rx) < 1e-9) {
        p.move_to(x, y);
        p.line_to(x + w, y);
        p.line_to(x + w, y + h);
        p.line_to(x, y + h);
        p.close();
      } else {
        p.move_to(x + rx, y);
        p.line_to(x + w - rx, y);
        arc_to(p, x + w - rx, y, rx, ry, 0, false, true, x + w, y + ry);
        p.line_to(x + w, y + h - ry);
        arc_to(p, x + w, y + h - ry, rx, ry, 0, false, true, x + w - rx, y + h);
        p.line_to(x + rx, y + h);
        arc_to(p, x + rx, y + h, rx, ry, 0, false, true, x, y + h - ry);
        p.line_to(x, y + ry);
        arc_to(p, x, y + ry, rx, ry, 0, false, true, x + rx, y);
        p.close();
      }
      break;
    }
    case EId::Circle: {
      double cx = convert_user_length(n, AId::Cx, st, Length{});
      double cy = convert_user_length(n, AId::Cy, st, Length{});
      double r = convert_user_length(n, AId::R, st, Length{});
      if (!(r > 0)) return std::nullopt;
      ellipse_path(p, cx, cy, r, r);
      break;
    }
    case EId::Ellipse: {
      double cx = convert_user_length(n, AId::Cx, st, Length{});
      double cy = convert_user_length(n, AId::Cy, st, Length{});
      auto [rx, ry] = resolve_rx_ry(n, st);
      if (!(rx > 0) || !(ry > 0)) return std::nullopt;
      ellipse_path(p, cx, cy, rx, ry);
      break;
    }
    case EId::Line: {
      double x1 = convert_user_length(n, AId::X1, st, Length{});
      double y1 = convert_user_length(n, AId::Y1, st, Length{});
      double x2 = convert_user_length(n, AId::X2, st, Length{});
      double y2 = convert_user_length(n, AId::Y2, st, Length{});
      p.move_to(x1, y1);
      p.line_to(x2, y2);
      break;
    }
    case EId::Polyline:
    case EId::Polygon: {
      const std::string* pts = doc_.attr(n, AId::Points);
      if (!pts) return std::nullopt;
      p = parse_points(*pts, doc_.tag(n) == EId::Polygon);
      if (point_count(p) < 2) return std::nullopt;
      break;
    }
    case EId::Path: {
      const std::string* d = doc_.attr(n, AId::D);
      if (!d) return std::nullopt;
      parse_path_data(*d, p);
      if (p.verbs().size() < 2) return std::nullopt;
      break;
    }
    default:
      return std::nullopt;
  }
  if (p.points().size() > opts_.limits.max_path_segments)
    throw InputError("SVG: path exceeds max_path_segments");
  for (const auto& pt : p.points())
    if (!std::isfinite(pt.x) || !std::isfinite(pt.y)) return std::nullopt;
  return p;
}

void Converter::convert_path(NodeId n, Path path, const State& st, scene::Group& parent) {
  if (path.verbs().size() < 2) return;
  Rect cb = path.control_bounds();
  bool has_bbox = cb.w > 0 && cb.h > 0;
  Rect bbox = path.exact_bounds();
  auto fill = resolve_fill(n, has_bbox, bbox, st);
  auto stroke = resolve_stroke(n, has_bbox, bbox, st);
  std::string_view vis = find_str(n, AId::Visibility);
  bool visible = vis.empty() || vis == "visible";
  auto order = parse_paint_order(find_str(n, AId::PaintOrder));

  std::optional<scene::Group> markers;
  if (visible && st.parent_clip_path == kNoNode && has_markers(n)) {
    scene::Group mg;
    State mst = st;
    auto ctx = std::make_shared<ContextPaint>();
    ctx->fill = fill;
    ctx->stroke = stroke;
    mst.context = ctx;
    convert_markers(n, path, mst, mg);
    markers = std::move(mg);
  }

  scene::PathNode pn;
  pn.path = std::move(path);
  if (visible) {
    pn.fill = fill;
    pn.stroke = stroke;
  }
  // paint-order: stroke first when stroke precedes fill (markers aside).
  auto pos = [&](PaintOrderKind k) { for (int i = 0; i < 3; ++i) if (order[i] == k) return i; return 0; };
  pn.stroke_first = pos(PaintOrderKind::Stroke) < pos(PaintOrderKind::Fill);
  bool aa = find_str(n, AId::ShapeRendering) != "optimizeSpeed" &&
            find_str(n, AId::ShapeRendering) != "crispEdges";
  if (pn.fill) pn.fill->anti_alias = aa;
  if (pn.stroke) pn.stroke->anti_alias = aa;

  auto push_markers = [&]() {
    if (markers && !markers->children.empty()) parent.children.push_back(make_node(std::move(*markers)));
  };
  if (markers && order[0] == PaintOrderKind::Markers) {
    push_markers();
    parent.children.push_back(make_node(std::move(pn)));
  } else if (markers && order[1] == PaintOrderKind::Markers) {
    // first, markers, last
    scene::PathNode first = pn, last = pn;
    if (order[0] == PaintOrderKind::Fill) { first.stroke.reset(); last.fill.reset(); }
    else { first.fill.reset(); last.stroke.reset(); }
    if (first.fill || first.stroke) parent.children.push_back(make_node(std::move(first)));
    push_markers();
    if (last.fill || last.stroke) parent.children.push_back(make_node(std::move(last)));
  } else {
    parent.children.push_back(make_node(std::move(pn)));
    push_markers();
  }
}

}  // namespace verm::svg
