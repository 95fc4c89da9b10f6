// Structure: document size and root transform, groups, use/symbol/nested svg, switch.
#include "svg/convert.h"

#include <cmath>

namespace verm::svg {

namespace {
bool nonzero(const std::optional<Rect>& r) { return r && r->w > 0 && r->h > 0; }
}  // namespace

scene::Group Converter::convert_document(double& W, double& H) {
  NodeId svg = doc_.root();
  State st;
  const Length def{100, Unit::Percent};
  Length w = length_attr(svg, AId::Width).value_or(def);
  Length h = length_attr(svg, AId::Height).value_or(def);
  auto vb = viewbox(svg);
  bool restore = false;
  if ((w.unit == Unit::Percent || h.unit == Unit::Percent) && !vb) {
    if (w.unit == Unit::Percent) w = {w.value, Unit::None};  // % of the 100x100 default size
    if (h.unit == Unit::Percent) h = {h.value, Unit::None};
    restore = true;
  }
  if (vb) {
    st.view_box = {vb->x, vb->y, vb->w, vb->h};
    W = w.unit == Unit::Percent ? vb->w * w.value / 100.0
                                : convert_length(w, svg, AId::Width, Units::UserSpaceOnUse, st);
    H = h.unit == Unit::Percent ? vb->h * h.value / 100.0
                                : convert_length(h, svg, AId::Height, Units::UserSpaceOnUse, st);
  } else {
    W = convert_length(w, svg, AId::Width, Units::UserSpaceOnUse, st);
    H = convert_length(h, svg, AId::Height, Units::UserSpaceOnUse, st);
  }
  if (!(W > 0) || !(H > 0) || !std::isfinite(W) || !std::isfinite(H))
    throw InputError("SVG: the document has an invalid size");
  ViewBox view = vb ? *vb : ViewBox{0, 0, W, H};
  if (!vb) st.view_box = {0, 0, W, H};
  scene::Group root;
  root.transform = view_box_transform(view, aspect(svg), W, H);

  if (is_visible_element(svg)) convert_element(svg, st, root);

  if (restore) {
    scene::Node wrapper{root};
    if (auto bb = node_bbox(wrapper); bb && bb->right() > 0 && bb->bottom() > 0) {
      W = bb->right();
      H = bb->bottom();
    }
  }
  // background-color on the root svg (non-standard, as resvg).
  if (const std::string* bg = doc_.attr(svg, AId::BackgroundColor)) {
    PaintValue pv;
    if (parse_paint(*bg, pv) && pv.kind == PaintValue::Kind::Color) {
      scene::PathNode p;
      p.path.move_to(view.x, view.y);
      p.path.line_to(view.x + view.w, view.y);
      p.path.line_to(view.x + view.w, view.y + view.h);
      p.path.line_to(view.x, view.y + view.h);
      p.path.close();
      scene::Fill f;
      f.paint = to_color({pv.color.r, pv.color.g, pv.color.b, 1});
      f.opacity = pv.color.a;
      p.fill = f;
      root.children.insert(root.children.begin(), make_node(std::move(p)));
    }
  }
  return root;
}

scene::Scene Converter::convert() {
  double W = 0, H = 0;
  scene::Group content = convert_document(W, H);
  auto round_dim = [](double v) { return std::max(1.0, std::round(v)); };
  double iw = round_dim(W), ih = round_dim(H);
  double ow = iw, oh = ih;
  if (opts_.width > 0 && opts_.height > 0) {
    // Fit inside width x height keeping the aspect ratio (resvg's size_scale).
    double rw = std::ceil(static_cast<float>(opts_.height) * static_cast<float>(iw) / static_cast<float>(ih));
    if (rw < opts_.width) {
      ow = rw;
      oh = opts_.height;
    } else {
      ow = opts_.width;
      oh = std::ceil(static_cast<float>(opts_.width) * static_cast<float>(ih) / static_cast<float>(iw));
    }
  } else if (opts_.width > 0) {
    ow = opts_.width;
    oh = std::ceil(ow * ih / iw);
  } else if (opts_.height > 0) {
    oh = opts_.height;
    ow = std::ceil(oh * iw / ih);
  }
  if (!(ow * oh <= static_cast<double>(opts_.limits.max_pixels)) || ow > 1e8 || oh > 1e8)
    throw InputError("output of " + std::to_string(static_cast<long long>(std::min(ow, 1e18))) +
                     "x" + std::to_string(static_cast<long long>(std::min(oh, 1e18))) +
                     " pixels exceeds max_pixels=" + std::to_string(opts_.limits.max_pixels));
  scene::Scene sc;
  sc.width = static_cast<int>(ow);
  sc.height = static_cast<int>(oh);
  sc.root.transform = Transform::scale(ow / iw, oh / ih) * content.transform;
  sc.root.children = std::move(content.children);
  return sc;
}

void Converter::convert_children(NodeId parent, const State& st, scene::Group& out) {
  for (NodeId c = doc_.first_child(parent); c != kNoNode; c = doc_.next_sibling(c))
    convert_element(c, st, out);
}

void Converter::convert_element(NodeId n, const State& st, scene::Group& parent) {
  const NodeData& d = doc_.node(n);
  if (d.is_text) return;
  EId tag = d.tag;
  if (!is_graphic(tag) && tag != EId::G && tag != EId::Switch && tag != EId::Svg) return;
  if (!is_visible_element(n)) return;
  if (tag == EId::Use) { convert_use(n, st, parent); return; }
  if (tag == EId::Svg && doc_.parent(n) != kNoNode) {
    // Nested svg: its group attributes are applied once, by convert_svg's inner group.
    convert_svg(n, st, parent);
    return;
  }
  if (tag == EId::Switch) {
    NodeId child = kNoNode;
    for (NodeId c = doc_.first_child(n); c != kNoNode; c = doc_.next_sibling(c))
      if (!doc_.node(c).is_text && is_condition_passed(c)) { child = c; break; }
    if (child == kNoNode) return;
    convert_group(n, st, false, parent,
                  [&](scene::Group& g, const State& cs) { convert_element(child, cs, g); });
    return;
  }
  convert_group(n, st, false, parent, [&](scene::Group& g, const State& cs) {
    if (is_shape(tag)) {
      if (auto p = convert_shape(n, cs)) convert_path(n, std::move(*p), cs, g);
    } else if (tag == EId::Image) {
      convert_image(n, cs, g);
    } else if (tag == EId::Text) {
      convert_text(n, cs, g);
    } else if (tag == EId::Svg) {
      if (doc_.parent(n) != kNoNode) convert_svg(n, cs, g);
      else convert_children(n, cs, g);
    } else if (tag == EId::G) {
      convert_children(n, cs, g);
    }
  });
}

void Converter::convert_clip_path_elements(NodeId clip, const State& st, scene::Group& out) {
  for (NodeId c = doc_.first_child(clip); c != kNoNode; c = doc_.next_sibling(c)) {
    const NodeData& d = doc_.node(c);
    if (d.is_text || !is_graphic(d.tag)) continue;
    if (!is_visible_element(c)) continue;
    if (d.tag == EId::Use) { convert_use(c, st, out); continue; }
    EId tag = d.tag;
    convert_group(c, st, false, out, [&](scene::Group& g, const State& cs) {
      if (is_shape(tag) && tag != EId::Line) {
        if (auto p = convert_shape(c, cs)) convert_path(c, std::move(*p), cs, g);
      } else if (tag == EId::Text) {
        convert_text(c, cs, g);
      }
    });
  }
}

void Converter::convert_group(NodeId n, const State& st, bool force, scene::Group& parent,
                              const std::function<void(scene::Group&, const State&)>& collect,
                              std::optional<Transform> transform_override) {
  DepthGuard dg(*this);
  scene::Group g;
  bool in_clip = st.parent_clip_path != kNoNode;
  g.opacity = in_clip ? 1.f : opacity_attr(n, AId::Opacity);
  g.transform = transform_override ? *transform_override : resolve_transform(n, AId::Transform, st);
  std::string_view blend = str_attr(n, AId::MixBlendMode);
  if (auto mode = parse_blend_mode(blend)) g.blend = *mode;
  g.isolate = str_attr(n, AId::Isolation) == "isolate";
  EId tag = doc_.tag(n);
  bool is_g_or_use = tag == EId::G || tag == EId::Use;

  {
    State cs = st;
    cs.ctx_ts = st.ctx_ts * g.transform;
    cs.abs_ts = f32_abs(st.abs_ts, g.transform);
    collect(g, cs);
  }

  bool has_clip = doc_.has_attr(n, AId::ClipPath) && str_attr(n, AId::ClipPath) != "none";
  bool has_mask = !in_clip && doc_.has_attr(n, AId::Mask) && str_attr(n, AId::Mask) != "none";
  bool has_filter = !in_clip && doc_.has_attr(n, AId::Filter) && str_attr(n, AId::Filter) != "none";
  std::optional<Rect> bbox;
  if (has_clip || has_mask || has_filter) {
    bbox = object_bbox(g);
    if (!nonzero(bbox)) bbox.reset();
  }
  if (has_clip) {
    NodeId link = doc_.func_iri(n, AId::ClipPath);
    if (link != kNoNode) {
      if (is_active(link)) {
        // Recursive reference: treated as clip-path="none".
      } else {
        g.clip_path = convert_clip_path(link, st, bbox);
        if (!g.clip_path) return;
      }
    }
  }
  if (has_mask) {
    NodeId link = doc_.func_iri(n, AId::Mask);
    if (link != kNoNode && !is_active(link)) {
      g.mask = convert_mask(link, st, bbox);
      if (!g.mask) return;
    }
  }
  if (has_filter) {
    if (!convert_filters(n, st, bbox, g.filters)) return;
  }
  bool required = g.opacity != 1.f || g.clip_path || g.mask || !g.filters.empty() ||
                  !g.transform.is_identity() || g.blend != scene::BlendMode::Normal ||
                  g.isolate || is_g_or_use || force;
  (void)required;
  if (g.children.empty() && g.filters.empty()) return;  // nothing to draw
  if (!g.needs_layer() && g.transform.is_identity()) {
    for (auto& c : g.children) parent.children.push_back(std::move(c));
    return;
  }
  parent.children.push_back(make_node(std::move(g)));
}

// ---- use / symbol / nested svg -------------------------------------------------------------

void Converter::use_children(NodeId n, const Transform& ts, const State& st, scene::Group& parent) {
  convert_group(
      n, st, !ts.is_identity(), parent,
      [&](scene::Group& g, const State& cs) {
        if (cs.parent_clip_path != kNoNode) convert_clip_path_elements(n, cs, g);
        else convert_children(n, cs, g);
      },
      ts);
}

namespace {
std::optional<Transform> symbol_viewbox_transform(Converter& c, NodeId node, NodeId linked,
                                                  const State& st) {
  const Length def{100, Unit::Percent};
  double w = c.convert_user_length(node, AId::Width, st, def);
  double h = c.convert_user_length(node, AId::Height, st, def);
  if (c.doc().tag(node) == EId::Svg) {
    if (st.use_w) w = *st.use_w;
    if (st.use_h) h = *st.use_h;
  }
  if (!(w > 0) || !(h > 0)) return std::nullopt;
  auto vb = c.viewbox(linked);
  if (!vb) return std::nullopt;
  return view_box_transform(*vb, c.aspect(linked), w, h);
}

std::optional<Rect> get_clip_rect(Converter& c, NodeId use_node, NodeId symbol, const State& st) {
  std::string_view ov = c.str_attr(symbol, AId::Overflow);
  if (ov == "visible" || ov == "auto") return std::nullopt;
  if (c.doc().tag(use_node) == EId::Svg) {
    if (!st.use_w && !st.use_h) {
      if (!(c.doc().has_attr(use_node, AId::Width) && c.doc().has_attr(use_node, AId::Height)))
        return std::nullopt;
    }
  }
  const Length def{100, Unit::Percent};
  double x = c.convert_user_length(use_node, AId::X, st, Length{});
  double y = c.convert_user_length(use_node, AId::Y, st, Length{});
  double w = c.convert_user_length(use_node, AId::Width, st, def);
  double h = c.convert_user_length(use_node, AId::Height, st, def);
  if (c.doc().tag(use_node) == EId::Svg) {
    if (st.use_w) w = *st.use_w;
    if (st.use_h) h = *st.use_h;
  }
  if (!(w > 0) || !(h > 0)) return std::nullopt;
  return Rect{x, y, w, h};
}

scene::Group clip_element(const Rect& r, const Transform& ts) {
  auto cp = std::make_shared<scene::ClipPath>();
  scene::PathNode p;
  p.path.move_to(r.x, r.y);
  p.path.line_to(r.right(), r.y);
  p.path.line_to(r.right(), r.bottom());
  p.path.line_to(r.x, r.bottom());
  p.path.close();
  p.fill = scene::Fill{};
  cp->children.push_back(make_node(std::move(p)));
  scene::Group g;
  g.transform = ts;
  g.clip_path = cp;
  return g;
}
}  // namespace

void Converter::convert_use(NodeId n, const State& st, scene::Group& parent) {
  NodeId child = doc_.first_child(n);
  if (child == kNoNode) return;
  EId ctag = doc_.tag(child);
  if (st.parent_clip_path != kNoNode && ctag == EId::Symbol) return;
  State ust = st;
  {
    auto ctx = std::make_shared<ContextPaint>();
    ctx->use_node = n;
    ust.context = ctx;
  }
  Transform orig_ts = resolve_transform(n, AId::Transform, st);
  double x = convert_user_length(n, AId::X, ust, Length{});
  double y = convert_user_length(n, AId::Y, ust, Length{});
  Transform new_ts = Transform::translate(x, y);
  bool symbol = ctag == EId::Symbol;
  std::optional<Rect> clip;
  if (symbol) {
    if (auto vts = symbol_viewbox_transform(*this, n, child, ust)) new_ts = new_ts * *vts;
    clip = get_clip_rect(*this, n, child, ust);
  }
  if (!symbol) orig_ts = orig_ts * new_ts;
  if (symbol && !clip) orig_ts = orig_ts * new_ts;
  if (!symbol && ctag == EId::Svg) {
    const Length def{100, Unit::Percent};
    ust.use_w.reset();
    ust.use_h.reset();
    if (doc_.has_attr(n, AId::Width)) ust.use_w = convert_user_length(n, AId::Width, ust, def);
    if (doc_.has_attr(n, AId::Height)) ust.use_h = convert_user_length(n, AId::Height, ust, def);
  }
  // The use's group content in the context (use group) space.
  auto content = [&](const State& cs, scene::Group& out) {
    if (symbol && clip) {
      convert_group(
          n, cs, true, out,
          [&](scene::Group& g2, const State& cs2) { use_children(child, new_ts, cs2, g2); },
          Transform{});
    } else if (symbol) {
      use_children(child, Transform{}, cs, out);
    } else if (cs.parent_clip_path != kNoNode) {
      convert_clip_path_elements(n, cs, out);
    } else {
      convert_children(n, cs, out);
    }
  };
  // context-fill/stroke with a paint server need the content's bbox first (usvg resolves them
  // with the use group's bounding box): measure it in a first pass.
  {
    auto uses_server = [&](AId a) {
      for (NodeId p = n; p != kNoNode; p = doc_.parent(p))
        if (const std::string* v = doc_.attr(p, a)) return trim(*v).substr(0, 4) == "url(";
      return false;
    };
    auto uses_context = [&]() {
      bool found = false;
      for (NodeId c = doc_.first_child(n); c != kNoNode && !found; c = doc_.next_sibling(c)) {
        // Scan the instantiated subtree for context-fill / context-stroke.
        std::vector<NodeId> stack{c};
        while (!stack.empty() && !found) {
          NodeId x = stack.back();
          stack.pop_back();
          for (AId a : {AId::Fill, AId::Stroke}) {
            const std::string* v = doc_.attr(x, a);
            if (v && trim(*v).substr(0, 8) == "context-") found = true;
          }
          for (NodeId k = doc_.first_child(x); k != kNoNode; k = doc_.next_sibling(k))
            if (!doc_.node(k).is_text) stack.push_back(k);
        }
      }
      return found;
    };
    if (st.parent_clip_path == kNoNode && !st.measuring &&
        (uses_server(AId::Fill) || uses_server(AId::Stroke)) && uses_context()) {
      auto probe = std::make_shared<ContextPaint>();
      probe->use_node = n;
      probe->probing = true;
      State pst = ust;
      pst.context = probe;
      pst.ctx_ts = Transform{};
      pst.measuring = true;
      scene::Group tmp;
      content(pst, tmp);
      auto bb = object_bbox(tmp);
      auto ctx = std::make_shared<ContextPaint>();
      ctx->use_node = n;
      if (bb && bb->w > 0 && bb->h > 0) ctx->bbox = bb;
      ust.context = ctx;
    }
  }
  if (symbol && clip) {
    scene::Group g = clip_element(*clip, orig_ts);
    State cs = ust;
    cs.ctx_ts = Transform{};
    cs.abs_ts = cs.ctx_abs_ts = f32_abs(st.abs_ts, orig_ts);
    content(cs, g);
    if (g.children.empty()) return;
    parent.children.push_back(make_node(std::move(g)));
    return;
  }
  ust.ctx_ts = orig_ts.inverted();
  ust.ctx_abs_ts = f32_abs(st.abs_ts, orig_ts);
  convert_group(
      n, ust, !orig_ts.is_identity(), parent,
      [&](scene::Group& g, const State& cs) {
        if (symbol) use_children(child, Transform{}, cs, g);
        else if (cs.parent_clip_path != kNoNode) convert_clip_path_elements(n, cs, g);
        else convert_children(n, cs, g);
      },
      orig_ts);
}

void Converter::convert_svg(NodeId n, const State& st, scene::Group& parent) {
  Transform orig_ts = resolve_transform(n, AId::Transform, st);
  double x = convert_user_length(n, AId::X, st, Length{});
  double y = convert_user_length(n, AId::Y, st, Length{});
  Transform new_ts = Transform::translate(x, y);
  if (auto vts = symbol_viewbox_transform(*this, n, n, st)) new_ts = new_ts * *vts;
  State nst = st;
  if (auto vb = viewbox(n)) {
    nst.view_box = {vb->x, vb->y, vb->w, vb->h};
  } else {
    const Length def{100, Unit::Percent};
    double w = convert_user_length(n, AId::Width, st, def);
    double h = convert_user_length(n, AId::Height, st, def);
    if (st.use_w) w = *st.use_w;
    if (st.use_h) h = *st.use_h;
    if (w > 0 && h > 0) nst.view_box = {x, y, w, h};
  }
  if (auto clip = get_clip_rect(*this, n, n, st)) {
    scene::Group g = clip_element(*clip, orig_ts);
    nst.ctx_ts = st.ctx_ts * orig_ts;
    nst.abs_ts = f32_abs(st.abs_ts, orig_ts);
    use_children(n, new_ts, nst, g);
    if (g.children.empty()) return;
    parent.children.push_back(make_node(std::move(g)));
  } else {
    use_children(n, orig_ts * new_ts, nst, parent);
  }
}

}  // namespace verm::svg
