// <text>: whitespace processing, per-character positions, style spans -> text::layout_text.
// (usvg svgtree/text.rs + parser/text.rs equivalents; layout itself lives in csrc/text/.)
#include <cmath>

#include "svg/convert.h"
#include "text/layout.h"
#include "text/text.h"

namespace verm::svg {

namespace {

struct TextNode {
  NodeId id;
  size_t depth;
  std::string text;
};

bool space_of(const Document& doc, NodeId el, bool def_preserve) {
  const std::string* v = doc.attr(el, AId::Space);
  if (!v) return def_preserve;
  return trim(*v) == "preserve";
}

std::string trim_text(std::string_view s, bool preserve) {
  std::string out;
  out.reserve(s.size());
  char prev = '0';
  for (char c : s) {
    if (c == '\r' || c == '\n' || c == '\t') c = ' ';
    if (!preserve && c == ' ' && prev == ' ') continue;
    prev = c;
    out.push_back(c);
  }
  return out;
}

void collect(const Document& doc, NodeId parent, size_t depth, bool preserve,
             std::vector<TextNode>& out) {
  for (NodeId c = doc.first_child(parent); c != kNoNode; c = doc.next_sibling(c)) {
    const NodeData& d = doc.node(c);
    if (d.is_text) {
      out.push_back({c, depth, trim_text(d.text, preserve)});
    } else {
      collect(doc, c, depth + 1, space_of(doc, c, preserve), out);
    }
  }
}

void trim_nodes(const Document& doc, std::vector<TextNode>& nodes, bool xmlspace) {
  if (nodes.size() == 1) {
    if (!xmlspace) {
      std::string& t = nodes[0].text;
      if (t.size() == 1) {
        if (t[0] == ' ') t.clear();
      } else if (t.size() >= 2) {
        if (t.front() == ' ') t.erase(0, 1);
        if (!t.empty() && t.back() == ' ') t.pop_back();
      }
    }
    return;
  }
  if (nodes.size() < 2) return;
  size_t len = nodes.size() - 1;
  long last_non_empty = -1;
  for (size_t i = 0; i < len; ++i) {
    size_t n1 = i, n2 = i + 1;
    size_t depth1 = nodes[i].depth, depth2 = nodes[i + 1].depth;
    if (nodes[n1].text.empty() && last_non_empty >= 0) n1 = static_cast<size_t>(last_non_empty);
    bool sp1 = space_of(doc, doc.parent(nodes[n1].id), xmlspace);
    bool sp2 = space_of(doc, doc.parent(nodes[n2].id), xmlspace);
    auto first = [](const std::string& s) { return s.empty() ? '\0' : s.front(); };
    auto last = [](const std::string& s) { return s.empty() ? '\0' : s.back(); };
    char c1 = first(nodes[n1].text), c2 = last(nodes[n1].text);
    char c3 = first(nodes[n2].text), c4 = last(nodes[n2].text);
    if (depth1 < depth2) {
      if (c3 == ' ' && !sp2) nodes[n2].text.erase(0, 1);
    } else if (c2 == ' ' && c2 == c3) {
      if (!sp1 && !sp2) nodes[n1].text.pop_back();
      else if (sp1 && !sp2) nodes[n2].text.erase(0, 1);
    }
    bool is_first = i == 0, is_last = i == len - 1;
    if (is_first && c1 == ' ' && !sp1 && !nodes[n1].text.empty()) {
      nodes[n1].text.erase(0, 1);
    } else if (is_last && c4 == ' ' && !nodes[n2].text.empty() && !sp2) {
      nodes[n2].text.pop_back();
    }
    if (is_last && c2 == ' ' && !nodes[n1].text.empty() && nodes[n2].text.empty() &&
        nodes[n1].text.back() == ' ')
      nodes[n1].text.pop_back();
    if (trim(nodes[n1].text).size() > 0) last_non_empty = static_cast<long>(n1);
  }
}

size_t count_cps(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

std::vector<std::string> parse_families(std::string_view s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == ',' || s[i] == '\t' || s[i] == '\n')) ++i;
    if (i >= s.size()) break;
    if (s[i] == '"' || s[i] == '\'') {
      char q = s[i];
      size_t e = s.find(q, i + 1);
      if (e == std::string_view::npos) e = s.size();
      out.emplace_back(s.substr(i + 1, e - i - 1));
      i = e + 1;
    } else {
      size_t e = s.find(',', i);
      if (e == std::string_view::npos) e = s.size();
      std::string_view name = trim(s.substr(i, e - i));
      // Collapse inner whitespace.
      std::string n;
      bool sp = false;
      for (char c : name) {
        if (c == ' ' || c == '\t' || c == '\n') { sp = true; continue; }
        if (sp && !n.empty()) n.push_back(' ');
        sp = false;
        n.push_back(c);
      }
      if (!n.empty()) out.push_back(n);
      i = e;
    }
  }
  return out;
}

text::Baseline parse_baseline(std::string_view v) {
  using B = text::Baseline;
  if (v == "baseline") return B::Baseline;
  if (v == "before-edge") return B::BeforeEdge;
  if (v == "text-before-edge") return B::TextBeforeEdge;
  if (v == "middle") return B::Middle;
  if (v == "central") return B::Central;
  if (v == "after-edge") return B::AfterEdge;
  if (v == "text-after-edge") return B::TextAfterEdge;
  if (v == "ideographic") return B::Ideographic;
  if (v == "alphabetic") return B::Alphabetic;
  if (v == "hanging") return B::Hanging;
  if (v == "mathematical") return B::Mathematical;
  if (v == "use-script") return B::UseScript;
  if (v == "no-change") return B::NoChange;
  if (v == "reset-size") return B::ResetSize;
  return B::Auto;
}

}  // namespace

void Converter::convert_text(NodeId tn, const State& st, scene::Group& parent) {
  if (!opts_.fonts) throw Unsupported("text:no-fonts");

  // 1. Whitespace.
  bool xmlspace = false;
  for (NodeId a = tn; a != kNoNode; a = doc_.parent(a))
    if (doc_.has_attr(a, AId::Space)) { xmlspace = space_of(doc_, a, false); break; }
  std::vector<TextNode> nodes;
  collect(doc_, tn, 0, xmlspace, nodes);
  trim_nodes(doc_, nodes, xmlspace);

  text::TextInput in;
  std::unordered_map<NodeId, size_t> node_index;
  std::vector<size_t> node_cp_offset(nodes.size()), node_byte_offset(nodes.size());
  size_t total_cps = 0;
  for (size_t i = 0; i < nodes.size(); ++i) {
    node_index[nodes[i].id] = i;
    node_cp_offset[i] = total_cps;
    node_byte_offset[i] = in.text.size();
    in.text += nodes[i].text;
    total_cps += count_cps(nodes[i].text);
  }
  if (total_cps == 0) return;

  // Characters of an element (with descendants): text nodes are contiguous in document order.
  auto char_range = [&](NodeId el, size_t& first_cp, size_t& count) {
    first_cp = SIZE_MAX;
    count = 0;
    std::vector<NodeId> stack{el};
    // iterative DFS in document order
    std::function<void(NodeId)> walk = [&](NodeId n) {
      for (NodeId c = doc_.first_child(n); c != kNoNode; c = doc_.next_sibling(c)) {
        if (doc_.node(c).is_text) {
          auto it = node_index.find(c);
          if (it == node_index.end()) continue;
          if (first_cp == SIZE_MAX) first_cp = node_cp_offset[it->second];
          count += count_cps(nodes[it->second].text);
        } else {
          walk(c);
        }
      }
    };
    walk(el);
    if (first_cp == SIZE_MAX) first_cp = 0;
  };

  // 2. Positions and rotation (elements in document order: text, then tspans).
  in.positions.assign(total_cps, {});
  in.rotate.assign(total_cps, 0.0);
  bool any_rotate = false;
  {
    std::vector<NodeId> order;
    std::function<void(NodeId)> walk = [&](NodeId n) {
      order.push_back(n);
      for (NodeId c = doc_.first_child(n); c != kNoNode; c = doc_.next_sibling(c))
        if (!doc_.node(c).is_text) walk(c);
    };
    walk(tn);
    double last_rot = 0;
    for (NodeId el : order) {
      size_t first, count;
      char_range(el, first, count);
      EId t = doc_.tag(el);
      if (t == EId::Text || t == EId::Tspan) {
        const std::pair<AId, int> lists[] = {{AId::X, 0}, {AId::Y, 1}, {AId::Dx, 2}, {AId::Dy, 3}};
        for (const auto& [aid, k] : lists) {
          const std::string* v = doc_.attr(el, aid);
          if (!v) continue;
          std::vector<Length> ls;
          if (!parse_length_list(*v, ls)) continue;
          size_t n = std::min(ls.size(), count);
          for (size_t i = 0; i < n && first + i < total_cps; ++i) {
            double val = convert_length(ls[i], el, aid, Units::UserSpaceOnUse, st);
            auto& p = in.positions[first + i];
            (k == 0 ? p.x : k == 1 ? p.y : k == 2 ? p.dx : p.dy) = val;
          }
        }
      }
      if (const std::string* rv = doc_.attr(el, AId::Rotate)) {
        std::vector<double> rl;
        if (parse_number_list(*rv, rl)) {
          for (size_t i = 0; i < count && first + i < total_cps; ++i) {
            if (i < rl.size()) { in.rotate[first + i] = rl[i]; last_rot = rl[i]; }
            else in.rotate[first + i] = last_rot;
            any_rotate = true;
          }
        }
      }
    }
  }
  if (!any_rotate) in.rotate.clear();

  // 3. writing-mode.
  for (NodeId a = tn; a != kNoNode; a = doc_.parent(a)) {
    if (const std::string* wm = doc_.attr(a, AId::WritingMode)) {
      std::string_view v = trim(*wm);
      in.vertical = v == "tb" || v == "tb-rl" || v == "vertical-rl" || v == "vertical-lr";
      break;
    }
  }

  // text-rendering: optimizeSpeed draws text without anti-aliasing (resvg: crispEdges).
  in.anti_alias = find_str(tn, AId::TextRendering) != "optimizeSpeed";

  // 4. Spans.
  std::unordered_map<NodeId, std::shared_ptr<const text::TextPathInfo>> text_paths;
  auto resolve_text_path = [&](NodeId tp) -> std::shared_ptr<const text::TextPathInfo> {
    auto it = text_paths.find(tp);
    if (it != text_paths.end()) return it->second;
    std::shared_ptr<const text::TextPathInfo> res;
    NodeId link = doc_.href(tp);
    if (link != kNoNode && is_shape(doc_.tag(link))) {
      if (auto p = convert_shape(link, st)) {
        Transform ts = resolve_transform(link, AId::Transform, st);
        auto info = std::make_shared<text::TextPathInfo>();
        info->path = ts.is_identity() ? std::move(*p) : p->transformed(ts);
        Length so{};
        if (auto l = length_attr(tp, AId::StartOffset)) so = *l;
        if (so.unit == Unit::Percent) info->start_offset = text::path_length(info->path) * so.value / 100.0;
        else info->start_offset = resolve_length(tp, AId::StartOffset, st, 0.0);
        res = info;
      }
    }
    text_paths[tp] = res;
    return res;
  };

  auto decoration = [&](NodeId el, std::string_view kind) -> std::optional<text::DecorationPaint> {
    auto has = [&](NodeId n) {
      const std::string* v = doc_.attr(n, AId::TextDecoration);
      if (!v) return false;
      std::string_view s = *v;
      size_t i = 0;
      while (i < s.size()) {
        size_t sp = s.find(' ', i);
        if (sp == std::string_view::npos) sp = s.size();
        if (s.substr(i, sp - i) == kind) return true;
        i = sp + 1;
      }
      return false;
    };
    bool any = false;
    for (NodeId a = el; a != kNoNode; a = doc_.parent(a)) if (has(a)) { any = true; break; }
    if (!any) return std::nullopt;
    NodeId src = el;
    for (NodeId a = el; a != kNoNode; a = doc_.parent(a)) {
      src = a;
      if (has(a) || doc_.tag(a) == EId::Text) break;
    }
    text::DecorationPaint dp;
    Rect unit{0, 0, 1, 1};
    dp.fill = resolve_fill(src, true, unit, st);
    dp.stroke = resolve_stroke(src, true, unit, st);
    if (dp.fill && !std::holds_alternative<scene::Color>(dp.fill->paint))
      dp.fill_for_bbox = [this, src, st](const Rect& bb) { return resolve_fill(src, true, bb, st); };
    if (dp.stroke && !std::holds_alternative<scene::Color>(dp.stroke->paint))
      dp.stroke_for_bbox = [this, src, st](const Rect& bb) { return resolve_stroke(src, true, bb, st); };
    return dp;
  };

  for (size_t i = 0; i < nodes.size(); ++i) {
    if (nodes[i].text.empty()) continue;
    NodeId el = doc_.parent(nodes[i].id);
    if (!is_visible_element(el)) continue;
    // Inside an element that is hidden (display:none) further up? usvg checks the parent only.
    double fs = font_size(el);
    if (!(fs > 0) || !std::isfinite(fs)) continue;
    // Text path (the nearest textPath ancestor, which is a direct child of <text>).
    std::shared_ptr<const text::TextPathInfo> tp;
    bool in_tp = false;
    for (NodeId a = el; a != kNoNode && a != tn; a = doc_.parent(a)) {
      if (doc_.tag(a) == EId::TextPath) {
        in_tp = true;
        tp = resolve_text_path(a);
        break;
      }
    }
    if (in_tp && !tp) continue;  // invalid textPath: characters skipped

    // `unicode-bidi` is ignored, as resvg ignores it: its layout runs the plain bidi algorithm
    // on the text (the suite's reference draws bidi-override text in logical bidi order).
    text::TextSpan sp;
    sp.start = node_byte_offset[i];
    sp.end = node_byte_offset[i] + nodes[i].text.size();
    sp.font_size = fs;
    // Font.
    {
      const std::string* ff = doc_.find_attr(el, AId::FontFamily);
      if (ff) sp.font.families = parse_families(*ff);
      std::string_view style = find_str(el, AId::FontStyle);
      sp.font.italic = style == "italic";
      sp.font.oblique = style == "oblique";
      std::string_view stretch = find_str(el, AId::FontStretch);
      int pct = 100;
      if (stretch == "narrower" || stretch == "condensed") pct = 75;
      else if (stretch == "ultra-condensed") pct = 50;
      else if (stretch == "extra-condensed") pct = 62;
      else if (stretch == "semi-condensed") pct = 87;
      else if (stretch == "semi-expanded") pct = 112;
      else if (stretch == "wider" || stretch == "expanded") pct = 125;
      else if (stretch == "extra-expanded") pct = 150;
      else if (stretch == "ultra-expanded") pct = 200;
      sp.font.stretch = pct;
      std::vector<NodeId> chain;
      for (NodeId a = el; a != kNoNode; a = doc_.parent(a)) chain.push_back(a);
      int w = 400;
      for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
        std::string_view v = str_attr(*it, AId::FontWeight);
        if (v.empty()) continue;
        if (v == "normal") w = 400;
        else if (v == "bold") w = 700;
        else if (v == "bolder") w = std::clamp(w + (w == 400 ? 300 : 100), 100, 900);
        else if (v == "lighter") w = std::clamp(w - (w == 400 ? 200 : 100), 100, 900);
        else if (v.size() == 3 && v[1] == '0' && v[2] == '0' && v[0] >= '1' && v[0] <= '9')
          w = (v[0] - '0') * 100;
      }
      sp.font.weight = w;
      // font-variation-settings only changes faces with variation axes; on a static face it
      // is a no-op (as in resvg), so only a variable face needs the fallback.
      std::string_view fvs = find_str(el, AId::FontVariationSettings);
      if (!fvs.empty() && fvs != "normal" &&
          opts_.fonts->face_is_variable(opts_.fonts->match(sp.font)))
        throw Unsupported("text:font-variation-settings");
    }
    sp.small_caps = find_str(el, AId::FontVariant) == "small-caps";
    sp.kerning = !(resolve_length(el, AId::Kerning, st, -1.0) == 0.0 ||
                   find_str(el, AId::FontKerning) == "none");
    sp.letter_spacing = resolve_length(el, AId::LetterSpacing, st, 0.0);
    sp.word_spacing = resolve_length(el, AId::WordSpacing, st, 0.0);
    std::string_view anchor = find_str(el, AId::TextAnchor);
    sp.anchor = anchor == "middle" ? text::TextAnchor::Middle
                : anchor == "end" ? text::TextAnchor::End : text::TextAnchor::Start;
    sp.dominant_baseline = parse_baseline(find_str(el, AId::DominantBaseline));
    if (sp.dominant_baseline == text::Baseline::NoChange) {
      NodeId p = doc_.parent(el);
      sp.dominant_baseline = p == kNoNode ? text::Baseline::Auto
                                          : parse_baseline(find_str(p, AId::DominantBaseline));
    }
    sp.alignment_baseline = parse_baseline(find_str(el, AId::AlignmentBaseline));
    {
      std::vector<text::BaselineShift> shifts;  // innermost first, reversed below
      for (NodeId a = el; a != kNoNode && doc_.tag(a) != EId::Text; a = doc_.parent(a)) {
        const std::string* v = doc_.attr(a, AId::BaselineShift);
        if (!v) continue;
        text::BaselineShift bs;
        Length l;
        if (parse_length(*v, l)) {
          bs.kind = text::BaselineShift::Kind::Length;
          bs.value = l.unit == Unit::Percent
                         ? font_size(a) * l.value / 100.0
                         : convert_length(l, a, AId::BaselineShift, Units::ObjectBoundingBox, st);
        } else {
          std::string_view s = trim(*v);
          bs.kind = s == "sub" ? text::BaselineShift::Kind::Sub
                    : s == "super" ? text::BaselineShift::Kind::Super
                                   : text::BaselineShift::Kind::Baseline;
        }
        shifts.push_back(bs);
      }
      bool all_base = true;
      for (const auto& b : shifts) if (b.kind != text::BaselineShift::Kind::Baseline) all_base = false;
      if (!all_base) sp.baseline_shift.assign(shifts.rbegin(), shifts.rend());
    }
    // Paint.
    Rect unit{0, 0, 1, 1};
    sp.fill = resolve_fill(el, true, unit, st);
    sp.stroke = resolve_stroke(el, true, unit, st);
    // fill-rule does not apply to text (glyphs are filled nonzero).
    if (sp.fill) sp.fill->rule = scene::FillRule::NonZero;
    if (sp.fill && !std::holds_alternative<scene::Color>(sp.fill->paint))
      sp.fill_for_bbox = [this, el, st](const Rect& bb) {
        auto f = resolve_fill(el, true, bb, st);
        if (f) f->rule = scene::FillRule::NonZero;
        return f;
      };
    if (sp.stroke && !std::holds_alternative<scene::Color>(sp.stroke->paint))
      sp.stroke_for_bbox = [this, el, st](const Rect& bb) { return resolve_stroke(el, true, bb, st); };
    {
      std::string_view po = trim(find_str(el, AId::PaintOrder));
      // usvg: stroke first when the order starts with stroke, or with markers then stroke.
      size_t fpos = po.find("fill"), spos = po.find("stroke"), mpos = po.find("markers");
      bool stroke_first = false;
      if (!po.empty() && po != "normal") {
        if (spos == 0) stroke_first = true;
        else if (mpos == 0 && spos != std::string_view::npos &&
                 (fpos == std::string_view::npos || spos < fpos))
          stroke_first = true;
      }
      sp.stroke_first = stroke_first;
    }
    std::string_view vis = find_str(el, AId::Visibility);
    sp.visible = vis.empty() || vis == "visible";
    sp.text_path = tp;
    sp.underline = decoration(el, "underline");
    sp.overline = decoration(el, "overline");
    sp.line_through = decoration(el, "line-through");
    if (auto tl = length_attr(el, AId::TextLength)) {
      double v = convert_length(*tl, el, AId::TextLength, Units::UserSpaceOnUse, st);
      if (v >= 0) sp.text_length = v;
    }
    sp.length_adjust_spacing_and_glyphs = find_str(el, AId::LengthAdjust) == "spacingAndGlyphs";
    in.spans.push_back(std::move(sp));
  }
  if (in.spans.empty()) return;

  text::TextLayout lay = text::layout_text(in, *opts_.fonts);
  if (lay.bbox.empty()) return;
  // An invisible box so that objectBoundingBox users (clip/mask/filter) see the text's layout
  // box, as usvg does.
  scene::PathNode box;
  box.path.move_to(lay.bbox.x, lay.bbox.y);
  box.path.line_to(lay.bbox.right(), lay.bbox.y);
  box.path.line_to(lay.bbox.right(), lay.bbox.bottom());
  box.path.line_to(lay.bbox.x, lay.bbox.bottom());
  box.path.close();
  parent.children.push_back(make_node(std::move(box)));
  if (find_str(tn, AId::TextRendering) == "optimizeSpeed") {
    // text-rendering: optimizeSpeed draws glyphs without anti-aliasing (as resvg).
    std::function<NodePtr(const NodePtr&)> no_aa = [&](const NodePtr& n) -> NodePtr {
      if (const auto* p = std::get_if<scene::PathNode>(&n->value)) {
        scene::PathNode q = *p;
        if (q.fill) q.fill->anti_alias = false;
        if (q.stroke) q.stroke->anti_alias = false;
        return make_node(std::move(q));
      }
      if (const auto* g = std::get_if<scene::Group>(&n->value)) {
        scene::Group h = *g;
        for (auto& c : h.children) c = no_aa(c);
        return make_node(std::move(h));
      }
      return n;
    };
    for (auto& c : lay.group.children) c = no_aa(c);
  }
  if (lay.group.transform.is_identity() && !lay.group.needs_layer()) {
    for (auto& c : lay.group.children) parent.children.push_back(std::move(c));
  } else {
    parent.children.push_back(make_node(std::move(lay.group)));
  }
}

}  // namespace verm::svg
