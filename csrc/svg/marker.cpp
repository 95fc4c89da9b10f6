// Markers: instantiated at path vertices as groups (usvg marker.rs equivalent).
#include <cmath>
#include <limits>

#include "svg/convert.h"

namespace verm::svg {

namespace {

struct Seg {
  enum Kind : uint8_t { Move, Line, Curve, Close } kind;
  Point p1, p2, p;  // Curve: p1, p2 controls
};

std::vector<Seg> to_segments(const Path& path) {
  std::vector<Seg> out;
  const auto& pts = path.points();
  size_t i = 0;
  Point prev{}, prev_move{};
  for (Verb v : path.verbs()) {
    switch (v) {
      case Verb::Move:
        out.push_back({Seg::Move, {}, {}, pts[i]});
        prev = prev_move = pts[i];
        i += 1;
        break;
      case Verb::Line:
        out.push_back({Seg::Line, {}, {}, pts[i]});
        prev = pts[i];
        i += 1;
        break;
      case Verb::Quad: {
        Point q = pts[i], e = pts[i + 1];
        Point c1 = prev + (q - prev) * (2.0 / 3.0);
        Point c2 = e + (q - e) * (2.0 / 3.0);
        out.push_back({Seg::Curve, c1, c2, e});
        prev = e;
        i += 2;
        break;
      }
      case Verb::Cubic:
        out.push_back({Seg::Curve, pts[i], pts[i + 1], pts[i + 2]});
        prev = pts[i + 2];
        i += 3;
        break;
      case Verb::Close:
        out.push_back({Seg::Close, {}, {}, {}});
        prev = prev_move;
        break;
    }
  }
  return out;
}

// Angles are computed in single precision, as usvg does, so that exact cusps (in and out
// directions 180 degrees apart) resolve the same way.
float normalize(float rad) {
  float v = std::fmod(rad, static_cast<float>(2 * M_PI));
  return v < 0 ? v + static_cast<float>(2 * M_PI) : v;
}
float vector_angle(float vx, float vy) {
  float r = std::atan2(vy, vx);
  return std::isnan(r) ? 0.f : normalize(r);
}
double calc_angle(double x1d, double y1d, double x2d, double y2d, double x3d, double y3d,
                  double x4d, double y4d) {
  float x1 = static_cast<float>(x1d), y1 = static_cast<float>(y1d), x2 = static_cast<float>(x2d),
        y2 = static_cast<float>(y2d), x3 = static_cast<float>(x3d), y3 = static_cast<float>(y3d),
        x4 = static_cast<float>(x4d), y4 = static_cast<float>(y4d);
  float in_a = vector_angle(x2 - x1, y2 - y1);
  float out_a = vector_angle(x4 - x3, y4 - y3);
  float d = (out_a - in_a) * 0.5f;
  float a = in_a + d;
  if (static_cast<float>(M_PI / 2) < std::fabs(d)) a -= static_cast<float>(M_PI);
  return normalize(a) * static_cast<float>(180.0 / M_PI);
}
double line_angle(double x1, double y1, double x2, double y2) {
  return calc_angle(x1, y1, x2, y2, x1, y1, x2, y2);
}
bool approx(double a, double b) {
  float fa = static_cast<float>(a), fb = static_cast<float>(b);
  return std::fabs(fa - fb) <= 4 * std::numeric_limits<float>::epsilon() * std::max(1.f, std::fabs(fa));
}
double curves_angle(double px, double py, double cx1, double cy1, double x, double y, double cx2,
                    double cy2, double nx, double ny) {
  if (approx(cx1, x) && approx(cy1, y)) return line_angle(px, py, cx2, cy2);
  if (approx(x, cx2) && approx(y, cy2)) return line_angle(cx1, cy1, nx, ny);
  return calc_angle(cx1, cy1, x, y, x, y, cx2, cy2);
}

Point subpath_start(const std::vector<Seg>& s, size_t idx) {
  for (size_t i = idx + 1; i-- > 0;)
    if (s[i].kind == Seg::Move) return s[i].p;
  return {};
}
Point prev_vertex(const std::vector<Seg>& s, size_t idx) {
  const Seg& g = s[idx - 1];
  if (g.kind == Seg::Close) return subpath_start(s, idx);
  return g.p;
}

double vertex_angle(const std::vector<Seg>& s, size_t idx) {
  if (idx == 0) {
    if (s.size() < 2) return 0;
    const Seg &a = s[0], &b = s[1];
    if (a.kind == Seg::Move && b.kind == Seg::Line) return line_angle(a.p.x, a.p.y, b.p.x, b.p.y);
    if (a.kind == Seg::Move && b.kind == Seg::Curve) {
      // Direction towards the first control point distinct from the start.
      Point q = !approx(b.p1.x, a.p.x) || !approx(b.p1.y, a.p.y) ? b.p1
                : (!approx(b.p2.x, a.p.x) || !approx(b.p2.y, a.p.y) ? b.p2 : b.p);
      return line_angle(a.p.x, a.p.y, q.x, q.y);
    }
    return 0;
  }
  if (idx == s.size() - 1) {
    const Seg &a = s[idx - 1], &b = s[idx];
    if (b.kind == Seg::Move) return 0;
    if (b.kind == Seg::Line) {
      Point pv = prev_vertex(s, idx);
      return line_angle(pv.x, pv.y, b.p.x, b.p.y);
    }
    if (b.kind == Seg::Curve) {
      // Direction from the last control point distinct from the end.
      Point pv = prev_vertex(s, idx);
      Point q = !approx(b.p2.x, b.p.x) || !approx(b.p2.y, b.p.y) ? b.p2
                : (!approx(b.p1.x, b.p.x) || !approx(b.p1.y, b.p.y) ? b.p1 : pv);
      return line_angle(q.x, q.y, b.p.x, b.p.y);
    }
    if (a.kind == Seg::Line) {  // then Close
      Point nx = subpath_start(s, idx);
      return line_angle(a.p.x, a.p.y, nx.x, nx.y);
    }
    return 0;
  }
  const Seg &a = s[idx], &b = s[idx + 1];
  if (a.kind == Seg::Move && b.kind == Seg::Line) return line_angle(a.p.x, a.p.y, b.p.x, b.p.y);
  if (a.kind == Seg::Move && b.kind == Seg::Curve) return line_angle(a.p.x, a.p.y, b.p1.x, b.p1.y);
  if (a.kind == Seg::Line && b.kind == Seg::Line) {
    Point pv = prev_vertex(s, idx);
    return calc_angle(pv.x, pv.y, a.p.x, a.p.y, a.p.x, a.p.y, b.p.x, b.p.y);
  }
  if (a.kind == Seg::Curve && b.kind == Seg::Curve) {
    Point pv = prev_vertex(s, idx);
    return curves_angle(pv.x, pv.y, a.p2.x, a.p2.y, a.p.x, a.p.y, b.p1.x, b.p1.y, b.p.x, b.p.y);
  }
  if (a.kind == Seg::Line && b.kind == Seg::Curve) {
    Point pv = prev_vertex(s, idx);
    return curves_angle(pv.x, pv.y, pv.x, pv.y, a.p.x, a.p.y, b.p1.x, b.p1.y, b.p.x, b.p.y);
  }
  if (a.kind == Seg::Curve && b.kind == Seg::Line) {
    Point pv = prev_vertex(s, idx);
    return curves_angle(pv.x, pv.y, a.p2.x, a.p2.y, a.p.x, a.p.y, b.p.x, b.p.y, b.p.x, b.p.y);
  }
  if (a.kind == Seg::Line && b.kind == Seg::Move) {
    Point pv = prev_vertex(s, idx);
    return line_angle(pv.x, pv.y, a.p.x, a.p.y);
  }
  if (a.kind == Seg::Curve && b.kind == Seg::Move) {
    Point pv = prev_vertex(s, idx);
    return curves_angle(pv.x, pv.y, a.p2.x, a.p2.y, a.p.x, a.p.y, a.p.x, a.p.y, a.p.x, a.p.y);
  }
  if (a.kind == Seg::Line && b.kind == Seg::Close) {
    Point pv = prev_vertex(s, idx);
    Point nx = subpath_start(s, idx);
    return calc_angle(pv.x, pv.y, a.p.x, a.p.y, a.p.x, a.p.y, nx.x, nx.y);
  }
  if (b.kind == Seg::Close) {
    Point pv = prev_vertex(s, idx);
    Point nx = subpath_start(s, idx);
    return line_angle(pv.x, pv.y, nx.x, nx.y);
  }
  return 0;
}

bool parse_angle(std::string_view v, double& deg) {
  Stream st{trim(v)};
  double x;
  if (!st.parse_number(x)) return false;
  std::string_view u = st.s.substr(st.pos);
  if (u.empty() || u == "deg") deg = x;
  else if (u == "grad") deg = x * 0.9;
  else if (u == "rad") deg = x * 180.0 / M_PI;
  else if (u == "turn") deg = x * 360.0;
  else return false;
  return true;
}

}  // namespace

bool Converter::has_markers(NodeId n) const {
  for (NodeId a = n; a != kNoNode; a = doc_.parent(a))
    if (doc_.tag(a) == EId::ClipPath) return false;
  for (AId a : {AId::MarkerStart, AId::MarkerMid, AId::MarkerEnd}) {
    const std::string* v = doc_.find_attr(n, a);
    if (v && doc_.by_id(parse_func_iri(*v)) != kNoNode) return true;
  }
  return false;
}

void Converter::convert_markers(NodeId n, const Path& path, const State& st, scene::Group& out) {
  std::vector<Seg> segs = to_segments(path);
  if (segs.empty()) return;
  const std::pair<AId, int> kinds[] = {{AId::MarkerStart, 0}, {AId::MarkerMid, 1}, {AId::MarkerEnd, 2}};
  for (const auto& [aid, kind] : kinds) {
    const std::string* v = doc_.find_attr(n, aid);
    if (!v) continue;
    NodeId m = doc_.by_id(parse_func_iri(*v));
    if (m == kNoNode || doc_.tag(m) != EId::Marker) continue;
    if (is_active(m)) continue;  // recursive marker
    DepthGuard dg(*this);
    ActiveGuard ag(*this, m);

    double stroke_scale = 1;
    if (str_attr(m, AId::MarkerUnits) != "userSpaceOnUse") {
      stroke_scale = resolve_length(n, AId::StrokeWidth, st, 1.0);
      if (!(stroke_scale > 0)) continue;
    }
    Rect r{convert_user_length(m, AId::RefX, st, Length{}),
           convert_user_length(m, AId::RefY, st, Length{}),
           convert_user_length(m, AId::MarkerWidth, st, Length{3, Unit::None}),
           convert_user_length(m, AId::MarkerHeight, st, Length{3, Unit::None})};
    if (!(r.w > 0) || !(r.h > 0)) continue;
    auto vb = viewbox(m);
    AspectRatio ar = aspect(m);
    std::string_view ov = str_attr(m, AId::Overflow);
    bool clip = ov.empty() || ov == "hidden" || ov == "scroll";
    std::shared_ptr<const scene::ClipPath> clip_path;
    if (clip) {
      Rect cr = vb ? Rect{vb->x, vb->y, vb->w, vb->h} : Rect{0, 0, r.w, r.h};
      auto cp = std::make_shared<scene::ClipPath>();
      scene::PathNode p;
      p.path.move_to(cr.x, cr.y);
      p.path.line_to(cr.right(), cr.y);
      p.path.line_to(cr.right(), cr.bottom());
      p.path.line_to(cr.x, cr.bottom());
      p.path.close();
      p.fill = scene::Fill{};
      cp->children.push_back(make_node(std::move(p)));
      clip_path = cp;
    }
    std::string_view orient = str_attr(m, AId::Orient);
    int orient_kind = 0;  // 0 angle, 1 auto, 2 auto-start-reverse
    double fixed_angle = 0;
    if (orient == "auto") orient_kind = 1;
    else if (orient == "auto-start-reverse") orient_kind = 2;
    else if (!parse_angle(orient, fixed_angle)) fixed_angle = 0;

    State mst = st;
    mst.in_marker = true;
    auto draw = [&](Point p, size_t idx) {
      Transform ts = Transform::translate(p.x, p.y);
      double angle;
      if (orient_kind == 2 && idx == 0) angle = std::fmod(vertex_angle(segs, idx) + 180.0, 360.0);
      else if (orient_kind != 0) angle = vertex_angle(segs, idx);
      else angle = fixed_angle;
      if (std::fabs(angle) > 1e-9) ts = ts * Transform::rotate_deg(angle);
      if (vb) {
        Transform vts = view_box_transform(*vb, ar, r.w * stroke_scale, r.h * stroke_scale);
        ts = ts * Transform::scale(vts.scale_x(), vts.scale_y());
      } else {
        ts = ts * Transform::scale(stroke_scale, stroke_scale);
      }
      ts = ts * Transform::translate(-r.x, -r.y);
      scene::Group g;
      g.transform = ts;
      g.clip_path = clip_path;
      State inst = mst;
      inst.ctx_ts = ts;  // marker content -> the path's user space (the context's space)
      inst.abs_ts = f32_abs(mst.abs_ts, ts);
      inst.ctx_abs_ts = mst.abs_ts;
      convert_children(m, inst, g);
      if (!g.children.empty()) out.children.push_back(make_node(std::move(g)));
    };
    if (kind == 0) {
      if (segs[0].kind == Seg::Move) draw(segs[0].p, 0);
    } else if (kind == 1) {
      for (size_t i = 1; i + 1 < segs.size(); ++i) {
        if (segs[i].kind == Seg::Close) continue;
        draw(segs[i].p, i);
      }
    } else {
      size_t idx = segs.size() - 1;
      const Seg& last = segs[idx];
      if (last.kind == Seg::Line || last.kind == Seg::Curve) draw(last.p, idx);
      else if (last.kind == Seg::Close) draw(subpath_start(segs, idx), idx);
    }
  }
}

}  // namespace verm::svg
