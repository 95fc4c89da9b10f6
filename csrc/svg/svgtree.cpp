#include "svg/svgtree.h"

#include <cstring>

#include "svg/css.h"

namespace verm::svg {
namespace {

constexpr const char* kSvgNs = "http://www.w3.org/2000/svg";
constexpr const char* kXlinkNs = "http://www.w3.org/1999/xlink";

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// Namespace URI bound to `prefix` ("" = default namespace) at `n`, or nullptr.
const char* lookup_ns(pugi::xml_node n, std::string_view prefix) {
  if (prefix == "xml") return "http://www.w3.org/XML/1998/namespace";
  std::string attr = prefix.empty() ? std::string("xmlns") : "xmlns:" + std::string(prefix);
  for (; n && n.type() == pugi::node_element; n = n.parent()) {
    pugi::xml_attribute a = n.attribute(attr.c_str());
    if (a) return a.value();
  }
  return nullptr;
}

EId svg_tag(pugi::xml_node n) {
  if (n.type() != pugi::node_element) return EId::Unknown;
  std::string_view name(n.name());
  size_t colon = name.find(':');
  std::string_view prefix = colon == std::string_view::npos ? std::string_view() : name.substr(0, colon);
  std::string_view local = colon == std::string_view::npos ? name : name.substr(colon + 1);
  const char* ns = lookup_ns(n, prefix);
  if (prefix.empty()) {
    if (ns && *ns && std::strcmp(ns, kSvgNs) != 0) return EId::Unknown;
  } else if (!ns || std::strcmp(ns, kSvgNs) != 0) {
    return EId::Unknown;
  }
  return element_id(local);
}

const char* default_for_inherit(AId a) {
  switch (a) {
    case AId::ImageRendering: case AId::ShapeRendering: case AId::TextRendering: return "auto";
    case AId::ClipPath: case AId::Filter: case AId::MarkerEnd: case AId::MarkerMid:
    case AId::MarkerStart: case AId::Mask: case AId::Stroke: case AId::StrokeDasharray:
    case AId::TextDecoration: return "none";
    case AId::FontStretch: case AId::FontStyle: case AId::FontVariant: case AId::FontWeight:
    case AId::LetterSpacing: case AId::WordSpacing: return "normal";
    case AId::Fill: case AId::FloodColor: case AId::StopColor: return "black";
    case AId::FillOpacity: case AId::FloodOpacity: case AId::Opacity: case AId::StopOpacity:
    case AId::StrokeOpacity: return "1";
    case AId::ClipRule: case AId::FillRule: return "nonzero";
    case AId::BaselineShift: return "baseline";
    case AId::ColorInterpolationFilters: return "linearRGB";
    case AId::Direction: return "ltr";
    case AId::Display: return "inline";
    case AId::FontSize: return "medium";
    case AId::Overflow: return "visible";
    case AId::StrokeDashoffset: return "0";
    case AId::StrokeLinecap: return "butt";
    case AId::StrokeLinejoin: return "miter";
    case AId::StrokeMiterlimit: return "4";
    case AId::StrokeWidth: return "1";
    case AId::TextAnchor: return "start";
    case AId::Visibility: return "visible";
    case AId::WritingMode: return "lr-tb";
    default: return nullptr;
  }
}

class Builder {
 public:
  Builder(const xml::Document& xml, const Limits& limits, Document& doc)
      : xml_(xml), limits_(limits), doc_(doc) {}

  void run() {
    // id map over the XML (first wins), style sheets.
    for (pugi::xml_node n = xml_.dom.first_child(); n;) {
      if (n.type() == pugi::node_element) {
        if (pugi::xml_attribute id = n.attribute("id")) id_map_.emplace(id.value(), n);
        if (css::local_name(n.name()) == "style") {
          pugi::xml_attribute type = n.attribute("type");
          if (!type || std::string_view(type.value()).empty() ||
              std::string_view(type.value()) == "text/css") {
            std::string text;
            for (pugi::xml_node c = n.first_child(); c; c = c.next_sibling())
              if (c.type() == pugi::node_pcdata || c.type() == pugi::node_cdata) text += c.value();
            sheet_.parse_more(text);
          }
        }
      }
      if (n.first_child()) { n = n.first_child(); continue; }
      while (n && !n.next_sibling()) n = n.parent();
      if (n) n = n.next_sibling();
    }
    sheet_.finish();
    // Selector matching costs rules x elements; bound it for hostile style sheets.
    if (static_cast<double>(sheet_.rules.size()) * static_cast<double>(xml_.element_count) > 2e8)
      throw InputError("SVG: style sheet too large (" + std::to_string(sheet_.rules.size()) +
                       " rules x " + std::to_string(xml_.element_count) + " elements)");

    pugi::xml_node root = xml_.dom.document_element();
    if (!root || svg_tag(root) != EId::Svg) throw InputError("SVG: the root element is not <svg>");
    parse_node(root, root, kNoNode, false, 0, false, false);
    doc_.root_ = 0;
    for (NodeId i = 0; i < doc_.nodes_.size(); ++i) {
      if (const std::string* id = doc_.attr(i, AId::Id)) doc_.links_[*id] = i;
    }
    fix_recursive_patterns(AId::Fill);
    fix_recursive_patterns(AId::Stroke);
    fix_recursive_links(EId::ClipPath, AId::ClipPath);
    fix_recursive_links(EId::Mask, AId::Mask);
    fix_recursive_links(EId::Filter, AId::Filter);
  }

 private:
  NodeId append(NodeId parent, NodeData d) {
    if (doc_.nodes_.size() >= limits_.max_elements)
      throw InputError("SVG: more than max_elements=" + std::to_string(limits_.max_elements) +
                       " elements after <use> expansion");
    NodeId id = static_cast<NodeId>(doc_.nodes_.size());
    d.parent = parent;
    doc_.nodes_.push_back(std::move(d));
    if (parent != kNoNode) {
      NodeData& p = doc_.nodes_[parent];
      if (p.last_child != kNoNode) doc_.nodes_[p.last_child].next_sibling = id;
      else p.first_child = id;
      p.last_child = id;
    }
    return id;
  }

  // Appends (or, with `replace`, overrides) one attribute of the element being built.
  bool append_attr(NodeId parent, EId tag, AId aid, std::string_view value, bool important) {
    if (aid == AId::Style || aid == AId::Class) return false;
    if (tag == EId::Tspan && aid == AId::Href) return false;
    if (allows_inherit_value(aid) && trim(value) == "inherit") return resolve_inherit(parent, aid);
    doc_.attrs_.push_back({aid, important, std::string(value)});
    return true;
  }

  bool resolve_inherit(NodeId parent, AId aid) {
    if (parent != kNoNode) {
      NodeId src = kNoNode;
      if (is_inheritable(aid)) {
        for (NodeId n = parent; n != kNoNode; n = doc_.parent(n))
          if (doc_.has_attr(n, aid)) { src = n; break; }
      } else if (doc_.has_attr(parent, aid)) {
        src = parent;
      }
      if (src != kNoNode) {
        const std::string* v = doc_.attr(src, aid);
        Attr a{aid, false, *v};
        doc_.attrs_.push_back(std::move(a));
        return true;
      }
    }
    const char* def = default_for_inherit(aid);
    if (!def) return false;
    doc_.attrs_.push_back({aid, false, def});
    return true;
  }

  void insert_attr(size_t start, NodeId parent, EId tag, AId aid, std::string_view value,
                   bool important) {
    size_t existing = SIZE_MAX;
    for (size_t i = start; i < doc_.attrs_.size(); ++i)
      if (doc_.attrs_[i].id == aid) { existing = i; break; }
    if (!append_attr(parent, tag, aid, value, important)) return;
    if (existing != SIZE_MAX) {
      size_t last = doc_.attrs_.size() - 1;
      if (!doc_.attrs_[existing].important) std::swap(doc_.attrs_[existing], doc_.attrs_[last]);
      doc_.attrs_.pop_back();
    }
  }

  void write_decl(size_t start, NodeId parent, EId tag, const css::Declaration& d) {
    if (d.name == "marker") {
      insert_attr(start, parent, tag, AId::MarkerStart, d.value, d.important);
      insert_attr(start, parent, tag, AId::MarkerMid, d.value, d.important);
      insert_attr(start, parent, tag, AId::MarkerEnd, d.value, d.important);
      return;
    }
    if (d.name == "font") {
      expand_font_shorthand(start, parent, tag, d);
      return;
    }
    AId aid = attr_id(d.name);
    if (aid != AId::Unknown && is_presentation(aid))
      insert_attr(start, parent, tag, aid, d.value, d.important);
  }

  // CSS `font` shorthand: [style] [variant] [weight] [stretch] size[/line-height] family.
  // Invalid values are ignored; valid ones reset the font longhands first (as usvg).
  void expand_font_shorthand(size_t start, NodeId parent, EId tag, const css::Declaration& d) {
    std::string_view v = trim(d.value);
    std::vector<std::string_view> pre;
    size_t i = 0;
    std::string_view size_tok;
    while (i < v.size()) {
      while (i < v.size() && std::isspace(static_cast<unsigned char>(v[i]))) ++i;
      size_t b = i;
      while (i < v.size() && !std::isspace(static_cast<unsigned char>(v[i]))) ++i;
      std::string_view tok = v.substr(b, i - b);
      if (tok.empty()) break;
      bool is_kw = tok == "normal" || tok == "italic" || tok == "oblique" || tok == "small-caps" ||
                   tok == "bold" || tok == "bolder" || tok == "lighter" ||
                   tok.find("condensed") != std::string_view::npos ||
                   tok.find("expanded") != std::string_view::npos ||
                   (tok.size() == 3 && tok[1] == '0' && tok[2] == '0' && tok[0] >= '1' && tok[0] <= '9');
      if (is_kw && pre.size() < 4) { pre.push_back(tok); continue; }
      size_tok = tok;
      break;
    }
    if (size_tok.empty()) return;
    std::string_view family = trim(v.substr(i));
    size_t slash = size_tok.find('/');
    std::string_view size = size_tok.substr(0, slash);
    if (family.empty() || size.empty()) return;
    std::string fam(family);
    const char* resets[][2] = {{"font-style", "normal"}, {"font-variant", "normal"},
                               {"font-weight", "normal"}, {"font-stretch", "normal"},
                               {"font-size-adjust", "none"}, {"font-kerning", "auto"}};
    for (const auto& r : resets) insert_attr(start, parent, tag, attr_id(r[0]), r[1], d.important);
    for (std::string_view tok : pre) {
      if (tok == "normal") continue;
      const char* prop = "font-weight";
      if (tok == "italic" || tok == "oblique") prop = "font-style";
      else if (tok == "small-caps") prop = "font-variant";
      else if (tok.find("condensed") != std::string_view::npos ||
               tok.find("expanded") != std::string_view::npos) prop = "font-stretch";
      insert_attr(start, parent, tag, attr_id(prop), tok, d.important);
    }
    insert_attr(start, parent, tag, AId::FontSize, size, d.important);
    insert_attr(start, parent, tag, AId::FontFamily, fam, d.important);
  }

  NodeId parse_element(pugi::xml_node xn, NodeId parent, EId tag, bool ignore_ids) {
    size_t start = doc_.attrs_.size();
    size_t href_idx = SIZE_MAX;
    for (pugi::xml_attribute a = xn.first_attribute(); a; a = a.next_attribute()) {
      std::string_view name(a.name());
      size_t colon = name.find(':');
      bool xlink = false, svg_ns = false;
      if (colon != std::string_view::npos) {
        std::string_view prefix = name.substr(0, colon);
        if (prefix == "xmlns") continue;
        const char* ns = lookup_ns(xn, prefix);
        if (prefix == "xml") {
          name = name.substr(colon + 1);
          if (name != "space" && name != "lang") continue;
        } else if (ns && std::strcmp(ns, kXlinkNs) == 0) {
          xlink = true;
          name = name.substr(colon + 1);
        } else if (ns && std::strcmp(ns, kSvgNs) == 0) {
          name = name.substr(colon + 1);
          svg_ns = true;
        } else {
          continue;
        }
      }
      AId aid = attr_id(name);
      if (aid == AId::Unknown) continue;
      if (ignore_ids && aid == AId::Id) continue;
      if (aid == AId::MixBlendMode || aid == AId::Isolation || aid == AId::FontKerning) continue;
      std::string_view value(a.value());
      if (aid == AId::ImageRendering &&
          (value == "smooth" || value == "high-quality" || value == "crisp-edges" ||
           value == "pixelated"))
        continue;
      if (aid == AId::Href) {
        if (svg_ns) continue;  // only href and xlink:href count
        if (href_idx != SIZE_MAX) {
          if (!xlink) doc_.attrs_[href_idx].value = std::string(value);
          continue;
        }
      }
      bool added = append_attr(parent, tag, aid, value, false);
      if (added && aid == AId::Href) href_idx = doc_.attrs_.size() - 1;
    }
    for (const css::Rule& r : sheet_.rules) {
      if (!r.selector.matches(xn)) continue;
      for (const auto& d : r.decls) write_decl(start, parent, tag, d);
    }
    if (pugi::xml_attribute style = xn.attribute("style")) {
      for (const auto& d : css::parse_declarations(style.value())) write_decl(start, parent, tag, d);
    }
    NodeData d;
    d.tag = tag;
    d.attr_begin = static_cast<uint32_t>(start);
    d.attr_end = static_cast<uint32_t>(doc_.attrs_.size());
    return append(parent, std::move(d));
  }

  void check_depth(int depth) {
    if (depth > limits_.max_depth * 4)
      throw InputError("SVG: element/<use> nesting deeper than " +
                       std::to_string(limits_.max_depth * 4));
  }

  void parse_children(pugi::xml_node xn, pugi::xml_node origin, NodeId parent, bool ignore_ids,
                      int depth, bool in_text, bool preserve) {
    for (pugi::xml_node c = xn.first_child(); c; c = c.next_sibling())
      parse_node(c, origin, parent, ignore_ids, depth, in_text, preserve);
  }

  void parse_node(pugi::xml_node xn, pugi::xml_node origin, NodeId parent, bool ignore_ids,
                  int depth, bool in_text, bool preserve) {
    check_depth(depth);
    if (in_text && (xn.type() == pugi::node_pcdata || xn.type() == pugi::node_cdata)) {
      NodeData d;
      d.is_text = true;
      d.text = xn.value();
      d.space_preserve = preserve;
      append(parent, std::move(d));
      return;
    }
    EId tag = svg_tag(xn);
    if (tag == EId::Unknown || tag == EId::Style) return;
    if (pugi::xml_attribute sp = xn.attribute("xml:space")) {
      std::string_view v(sp.value());
      if (v == "preserve") preserve = true;
      else if (v == "default") preserve = false;
    }
    if (in_text) {
      if (tag == EId::A) tag = EId::Tspan;
      if (tag != EId::Tspan && tag != EId::Tref && tag != EId::TextPath) return;
      // `textPath` must be a direct child of `text` (otherwise dropped with its content).
      if (tag == EId::TextPath && (parent == kNoNode || doc_.tag(parent) != EId::Text)) return;
    } else if (tag == EId::A) {
      tag = EId::G;
    }
    if (tag == EId::Tref) {
      NodeId id = parse_element(xn, parent, EId::Tspan, ignore_ids);
      pugi::xml_node link = resolve_href(xn);
      if (link) {
        NodeData d;
        d.is_text = true;
        d.space_preserve = preserve;
        for (pugi::xml_node n = link.first_child(); n;) {  // all descendant text
          if (n.type() == pugi::node_pcdata || n.type() == pugi::node_cdata) d.text += n.value();
          if (n.first_child()) { n = n.first_child(); continue; }
          while (n && n != link && !n.next_sibling()) n = n.parent();
          if (!n || n == link) break;
          n = n.next_sibling();
        }
        append(id, std::move(d));
      }
      return;
    }
    NodeId id = parse_element(xn, parent, tag, ignore_ids);
    if (tag == EId::Text) {
      parse_children(xn, origin, id, ignore_ids, depth + 1, true, preserve);
    } else if (tag == EId::Use) {
      parse_use(xn, origin, id, depth + 1);
    } else {
      parse_children(xn, origin, id, ignore_ids, depth + 1, in_text, preserve);
    }
  }

  pugi::xml_node resolve_href(pugi::xml_node xn) {
    const char* v = nullptr;
    for (pugi::xml_attribute a = xn.first_attribute(); a; a = a.next_attribute()) {
      std::string_view name(a.name());
      if (name == "href") { v = a.value(); break; }
      if (name.size() > 5 && name.substr(name.size() - 5) == ":href" && !v) v = a.value();
    }
    if (!v) return {};
    std::string_view id = parse_iri(v);
    if (id.empty()) return {};
    auto it = id_map_.find(id);
    return it == id_map_.end() ? pugi::xml_node() : it->second;
  }

  static bool is_ancestor_or_self(pugi::xml_node anc, pugi::xml_node n) {
    for (; n; n = n.parent())
      if (n == anc) return true;
    return false;
  }

  void parse_use(pugi::xml_node xn, pugi::xml_node origin, NodeId parent, int depth) {
    pugi::xml_node link = resolve_href(xn);
    if (!link || link == xn || link == origin) return;
    if (svg_tag(link) == EId::Unknown) return;
    // A use may not instantiate one of its own ancestors, nor content that refers back.
    if (is_ancestor_or_self(link, xn)) return;
    for (pugi::xml_node n = link.first_child(); n;) {
      if (n.type() == pugi::node_element && css::local_name(n.name()) == "use") {
        pugi::xml_node l2 = resolve_href(n);
        if (l2 == xn || l2 == link) return;
      }
      if (n.first_child()) { n = n.first_child(); continue; }
      while (n && n != link && !n.next_sibling()) n = n.parent();
      if (!n || n == link) break;
      n = n.next_sibling();
    }
    for (const auto& u : use_stack_)
      if (u == link) return;  // longer reference cycles
    use_stack_.push_back(link);
    parse_node(link, xn, parent, true, depth + 1, false, false);
    use_stack_.pop_back();
  }

  // Calls fn(d) for n and every descendant element of n, in document order.
  template <class Fn>
  bool any_descendant(NodeId n, Fn&& fn) {
    NodeId cur = n;
    while (cur != kNoNode) {
      if (!doc_.node(cur).is_text && fn(cur)) return true;
      if (doc_.first_child(cur) != kNoNode) { cur = doc_.first_child(cur); continue; }
      while (cur != n && doc_.next_sibling(cur) == kNoNode) cur = doc_.parent(cur);
      if (cur == n) break;
      cur = doc_.next_sibling(cur);
    }
    return false;
  }

  void set_none(NodeId n, AId a) {
    const NodeData& d = doc_.node(n);
    for (uint32_t i = d.attr_begin; i < d.attr_end; ++i)
      if (doc_.attrs_[i].id == a) doc_.attrs_[i].value = "none";
  }

  NodeId paint_link(NodeId n, AId a) {
    const std::string* v = doc_.attr(n, a);
    if (!v) return kNoNode;
    std::string_view s = trim(*v);
    if (s.substr(0, 4) != "url(") return kNoNode;
    return doc_.by_id(parse_func_iri(s.substr(0, s.find(')') + 1)));
  }

  // usvg's fix_recursive_patterns / fix_recursive_links: an element of kind `e` whose content
  // links (attribute `a`) back to it, directly or through one linked element, gets that link
  // replaced by "none". One pass; per element, each linked target is scanned once.
  template <class LinkOf>
  void fix_recursive(EId e, AId a, LinkOf&& link_of) {
    for (NodeId p = 0; p < doc_.nodes_.size(); ++p) {
      if (doc_.node(p).is_text || doc_.tag(p) != e) continue;
      std::unordered_map<NodeId, bool> refers_back;  // linked element -> links back to p
      std::vector<NodeId> offenders;
      any_descendant(p, [&](NodeId d) {
        NodeId link = link_of(d, a);
        if (link == kNoNode) return false;
        if (link == p) { offenders.push_back(d); return false; }
        auto it = refers_back.find(link);
        if (it == refers_back.end()) {
          std::vector<NodeId> found;
          any_descendant(link, [&](NodeId d2) {
            if (link_of(d2, a) == p) found.push_back(d2);
            return false;
          });
          for (NodeId f : found) offenders.push_back(f);
          refers_back.emplace(link, !found.empty());
        }
        return false;
      });
      for (NodeId o : offenders) set_none(o, a);
    }
  }

  void fix_recursive_patterns(AId a) {
    fix_recursive(EId::Pattern, a, [&](NodeId n, AId at) { return paint_link(n, at); });
  }

  void fix_recursive_links(EId e, AId a) {
    fix_recursive(e, a, [&](NodeId n, AId at) { return doc_.func_iri(n, at); });
  }

  const xml::Document& xml_;
  const Limits& limits_;
  Document& doc_;
  css::StyleSheet sheet_;
  std::unordered_map<std::string_view, pugi::xml_node> id_map_;
  std::vector<pugi::xml_node> use_stack_;
};

}  // namespace

std::string_view parse_iri(std::string_view s) {
  s = trim(s);
  if (s.size() < 2 || s[0] != '#') return {};
  return s.substr(1);
}

std::string_view parse_func_iri(std::string_view s) {
  s = trim(s);
  if (s.size() < 6 || s.substr(0, 4) != "url(") return {};
  size_t close = s.find(')');
  if (close == std::string_view::npos) return {};
  std::string_view in = trim(s.substr(4, close - 4));
  if (in.size() >= 2 && (in.front() == '\'' || in.front() == '"') && in.back() == in.front())
    in = trim(in.substr(1, in.size() - 2));
  return parse_iri(in);
}

std::unique_ptr<Document> Document::build(const xml::Document& xml, const Limits& limits) {
  auto doc = std::make_unique<Document>();
  doc->nodes_.reserve(xml.element_count + 16);
  Builder(xml, limits, *doc).run();
  return doc;
}

const std::string* Document::attr(NodeId n, AId a) const {
  if (n == kNoNode) return nullptr;
  const NodeData& d = nodes_[n];
  for (uint32_t i = d.attr_begin; i < d.attr_end; ++i)
    if (attrs_[i].id == a) return &attrs_[i].value;
  return nullptr;
}

NodeId Document::find_attr_node(NodeId n, AId a) const {
  if (is_inheritable(a)) {
    for (; n != kNoNode; n = parent(n))
      if (!nodes_[n].is_text && has_attr(n, a)) return n;
    return kNoNode;
  }
  if (has_attr(n, a)) return n;
  NodeId p = parent(n);
  return (p != kNoNode && has_attr(p, a)) ? p : kNoNode;
}

NodeId Document::by_id(std::string_view id) const {
  if (id.empty()) return kNoNode;
  auto it = links_.find(std::string(id));
  return it == links_.end() ? kNoNode : it->second;
}

NodeId Document::href(NodeId n) const {
  const std::string* v = attr(n, AId::Href);
  if (!v) return kNoNode;
  return by_id(parse_iri(*v));
}

NodeId Document::func_iri(NodeId n, AId a) const {
  const std::string* v = attr(n, a);
  if (!v) return kNoNode;
  return by_id(parse_func_iri(*v));
}

}  // namespace verm::svg
