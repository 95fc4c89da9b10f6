// CSS stage: a small CSS parser (style sheets and `style` attributes) and selector matching
// against pugixml elements. Supports type, universal, #id, .class, [attr], [attr=v], [attr~=v],
// [attr|=v], [attr^=v], [attr$=v], [attr*=v], :first-child, and descendant/child/adjacent (+)
// combinators;
// a rule with any other selector syntax is ignored (as simplecss/resvg do).
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include <pugixml.hpp>

namespace verm::svg::css {

struct Declaration {
  std::string name, value;
  bool important = false;
};

struct AttrSel {
  enum class Op : uint8_t { Exists, Eq, Contains /*~=*/, Dash, Prefix, Suffix, Substr } op;
  std::string name, value;
};

struct Compound {
  std::string tag;  // empty = any
  std::vector<AttrSel> attrs;
  bool first_child = false;
  bool never = false;  // an unsupported pseudo-class: matches nothing
  enum class Comb : uint8_t { None, Descendant, Child, Adjacent } comb = Comb::None;  // to the previous compound
};

struct Selector {
  std::vector<Compound> parts;  // left to right
  int specificity = 0;          // ids*10000 + classes*100 + types
  bool matches(pugi::xml_node el) const;
};

struct Rule {
  Selector selector;
  std::vector<Declaration> decls;
  size_t order = 0;
};

struct StyleSheet {
  std::vector<Rule> rules;  // sorted by specificity (stable) after finish()
  void parse_more(std::string_view text);
  void finish();
};

// Splits a `style` attribute (or a rule body) into declarations.
std::vector<Declaration> parse_declarations(std::string_view text);

std::string_view local_name(const char* qname);

}  // namespace verm::svg::css
