// Resolved SVG element tree (after CSS): every element carries its final attribute list
// (presentation attributes, then style sheet rules by specificity, then the `style` attribute,
// with !important and `inherit` resolved). `use` targets are instantiated as children of the
// `use` element, so inheritance follows the rendered tree. Modelled on usvg's svgtree.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/status.h"
#include "svg/names.h"
#include "xml/xml.h"

namespace verm::svg {

using NodeId = uint32_t;
constexpr NodeId kNoNode = UINT32_MAX;

struct Attr {
  AId id;
  bool important = false;
  std::string value;
};

struct NodeData {
  EId tag = EId::Unknown;
  bool is_text = false;          // character data inside <text>
  NodeId parent = kNoNode, first_child = kNoNode, last_child = kNoNode, next_sibling = kNoNode;
  uint32_t attr_begin = 0, attr_end = 0;
  std::string text;              // for text nodes
  bool space_preserve = false;   // xml:space="preserve" in effect (text nodes)
};

class Document {
 public:
  // Builds the tree; throws InputError when limits are exceeded or the root is not <svg>.
  static std::unique_ptr<Document> build(const xml::Document& xml, const Limits& limits);

  NodeId root() const { return root_; }
  const NodeData& node(NodeId n) const { return nodes_[n]; }
  EId tag(NodeId n) const { return nodes_[n].tag; }
  NodeId parent(NodeId n) const { return nodes_[n].parent; }
  NodeId first_child(NodeId n) const { return nodes_[n].first_child; }
  NodeId next_sibling(NodeId n) const { return nodes_[n].next_sibling; }
  size_t size() const { return nodes_.size(); }

  // Attribute on this element only.
  const std::string* attr(NodeId n, AId a) const;
  bool has_attr(NodeId n, AId a) const { return attr(n, a) != nullptr; }
  // Element that supplies attribute `a` for `n` under SVG inheritance rules (inheritable:
  // nearest ancestor-or-self that has it; otherwise self or the direct parent), or kNoNode.
  NodeId find_attr_node(NodeId n, AId a) const;
  const std::string* find_attr(NodeId n, AId a) const {
    NodeId s = find_attr_node(n, a);
    return s == kNoNode ? nullptr : attr(s, a);
  }

  NodeId by_id(std::string_view id) const;
  // Element referenced by href="#id" (kNoNode if none/external).
  NodeId href(NodeId n) const;
  // Element referenced by a url(#id) attribute such as clip-path, mask, filter, marker-*.
  NodeId func_iri(NodeId n, AId a) const;
  std::string_view element_id(NodeId n) const {
    const std::string* s = attr(n, AId::Id);
    return s ? std::string_view(*s) : std::string_view();
  }

  std::vector<NodeData> nodes_;
  std::vector<Attr> attrs_;
  std::unordered_map<std::string, NodeId> links_;
  NodeId root_ = kNoNode;
};

// Parses "#id" (IRI) or "url(#id)" (FuncIRI); returns the id or empty.
std::string_view parse_iri(std::string_view s);
std::string_view parse_func_iri(std::string_view s);

}  // namespace verm::svg
