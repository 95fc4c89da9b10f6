#include "svg/css.h"

#include <algorithm>
#include <cctype>
#include <cstring>

namespace verm::svg::css {
namespace {

bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_ws(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ws(s.back())) s.remove_suffix(1);
  return s;
}

bool is_ident_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' ||
         static_cast<unsigned char>(c) >= 0x80;
}

// Removes /* comments */ (outside strings).
std::string strip_comments(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    if (s[i] == '/' && i + 1 < s.size() && s[i + 1] == '*') {
      size_t e = s.find("*/", i + 2);
      if (e == std::string_view::npos) break;
      i = e + 2;
      out.push_back(' ');
      continue;
    }
    if (s[i] == '"' || s[i] == '\'') {
      size_t e = s.find(s[i], i + 1);
      if (e == std::string_view::npos) e = s.size() - 1;
      out.append(s.substr(i, e - i + 1));
      i = e + 1;
      continue;
    }
    out.push_back(s[i++]);
  }
  return out;
}

bool parse_compound(std::string_view s, size_t& i, Compound& c, int& spec) {
  bool any = false;
  if (i < s.size() && s[i] == '*') { ++i; any = true; }
  else if (i < s.size() && is_ident_char(s[i])) {
    size_t b = i;
    while (i < s.size() && (is_ident_char(s[i]) || s[i] == '|')) ++i;
    c.tag = std::string(s.substr(b, i - b));
    if (auto bar = c.tag.find('|'); bar != std::string::npos) c.tag = c.tag.substr(bar + 1);
    spec += 1;
    any = true;
  }
  while (i < s.size()) {
    char ch = s[i];
    if (ch == '#' || ch == '.') {
      ++i;
      size_t b = i;
      while (i < s.size() && is_ident_char(s[i])) ++i;
      if (b == i) return false;
      AttrSel a;
      a.name = ch == '#' ? "id" : "class";
      a.op = ch == '#' ? AttrSel::Op::Eq : AttrSel::Op::Contains;
      a.value = std::string(s.substr(b, i - b));
      c.attrs.push_back(std::move(a));
      spec += ch == '#' ? 10000 : 100;
      any = true;
    } else if (ch == '[') {
      size_t e = s.find(']', i);
      if (e == std::string_view::npos) return false;
      std::string_view body = trim(s.substr(i + 1, e - i - 1));
      i = e + 1;
      AttrSel a;
      size_t op = body.find_first_of("=~|^$*");
      if (op == std::string_view::npos) {
        a.op = AttrSel::Op::Exists;
        a.name = std::string(body);
      } else {
        a.name = std::string(trim(body.substr(0, op)));
        size_t vstart;
        if (body[op] == '=') { a.op = AttrSel::Op::Eq; vstart = op + 1; }
        else {
          if (op + 1 >= body.size() || body[op + 1] != '=') return false;
          switch (body[op]) {
            case '~': a.op = AttrSel::Op::Contains; break;
            case '|': a.op = AttrSel::Op::Dash; break;
            case '^': a.op = AttrSel::Op::Prefix; break;
            case '$': a.op = AttrSel::Op::Suffix; break;
            default: a.op = AttrSel::Op::Substr; break;
          }
          vstart = op + 2;
        }
        std::string_view v = trim(body.substr(vstart));
        if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front())
          v = v.substr(1, v.size() - 2);
        a.value = std::string(v);
      }
      if (a.name.empty()) return false;
      c.attrs.push_back(std::move(a));
      spec += 100;
      any = true;
    } else if (ch == ':') {
      ++i;
      if (i < s.size() && s[i] == ':') return false;  // pseudo-elements
      size_t b = i;
      while (i < s.size() && is_ident_char(s[i])) ++i;
      std::string_view name = s.substr(b, i - b);
      if (i < s.size() && s[i] == '(') return false;  // functional pseudo-classes
      if (name == "first-child") c.first_child = true;
      else c.never = true;  // :hover, :link, ... never match a static document
      spec += 100;
      any = true;
    } else {
      break;
    }
  }
  return any;
}

bool parse_selector(std::string_view s, Selector& sel) {
  s = trim(s);
  size_t i = 0;
  Compound::Comb comb = Compound::Comb::None;
  while (i < s.size()) {
    Compound c;
    c.comb = comb;
    if (!parse_compound(s, i, c, sel.specificity)) return false;
    sel.parts.push_back(std::move(c));
    bool ws = false;
    while (i < s.size() && is_ws(s[i])) { ++i; ws = true; }
    if (i >= s.size()) break;
    if (s[i] == '>') {
      comb = Compound::Comb::Child;
      ++i;
      while (i < s.size() && is_ws(s[i])) ++i;
    } else if (s[i] == '+') {
      comb = Compound::Comb::Adjacent;
      ++i;
      while (i < s.size() && is_ws(s[i])) ++i;
    } else if (s[i] == '~') {
      return false;  // general sibling combinator: unsupported (as simplecss), rule ignored
    } else if (ws) {
      comb = Compound::Comb::Descendant;
    } else {
      return false;
    }
  }
  return !sel.parts.empty();
}

const char* attr_value(pugi::xml_node el, const std::string& name) {
  for (pugi::xml_attribute a = el.first_attribute(); a; a = a.next_attribute()) {
    if (local_name(a.name()) == name) return a.value();
  }
  return nullptr;
}

bool attr_matches(pugi::xml_node el, const AttrSel& a) {
  const char* v = attr_value(el, a.name);
  if (!v) return false;
  std::string_view val(v);
  switch (a.op) {
    case AttrSel::Op::Exists: return true;
    case AttrSel::Op::Eq: return val == a.value;
    case AttrSel::Op::Contains: {
      size_t i = 0;
      while (i < val.size()) {
        while (i < val.size() && is_ws(val[i])) ++i;
        size_t b = i;
        while (i < val.size() && !is_ws(val[i])) ++i;
        if (i > b && val.substr(b, i - b) == a.value) return true;
      }
      return false;
    }
    case AttrSel::Op::Dash:
      return val == a.value || (val.size() > a.value.size() && val.substr(0, a.value.size()) == a.value &&
                                val[a.value.size()] == '-');
    case AttrSel::Op::Prefix: return !a.value.empty() && val.substr(0, a.value.size()) == a.value;
    case AttrSel::Op::Suffix:
      return !a.value.empty() && val.size() >= a.value.size() &&
             val.substr(val.size() - a.value.size()) == a.value;
    case AttrSel::Op::Substr: return !a.value.empty() && val.find(a.value) != std::string_view::npos;
  }
  return false;
}

pugi::xml_node prev_element(pugi::xml_node n) {
  for (n = n.previous_sibling(); n; n = n.previous_sibling())
    if (n.type() == pugi::node_element) return n;
  return {};
}

bool compound_matches(pugi::xml_node el, const Compound& c) {
  if (c.never) return false;
  if (!c.tag.empty() && local_name(el.name()) != c.tag) return false;
  for (const auto& a : c.attrs)
    if (!attr_matches(el, a)) return false;
  if (c.first_child && prev_element(el)) return false;
  return true;
}

bool matches_from(const std::vector<Compound>& parts, size_t idx, pugi::xml_node el) {
  const Compound& c = parts[idx];
  if (!compound_matches(el, c)) return false;
  if (idx == 0) return true;
  if (c.comb == Compound::Comb::Adjacent) {
    pugi::xml_node prev = prev_element(el);
    return prev && matches_from(parts, idx - 1, prev);
  }
  if (c.comb == Compound::Comb::Child) {
    pugi::xml_node p = el.parent();
    return p && p.type() == pugi::node_element && matches_from(parts, idx - 1, p);
  }
  for (pugi::xml_node p = el.parent(); p && p.type() == pugi::node_element; p = p.parent())
    if (matches_from(parts, idx - 1, p)) return true;
  return false;
}

}  // namespace

std::string_view local_name(const char* qname) {
  std::string_view n(qname);
  size_t c = n.find(':');
  return c == std::string_view::npos ? n : n.substr(c + 1);
}

bool Selector::matches(pugi::xml_node el) const {
  return !parts.empty() && matches_from(parts, parts.size() - 1, el);
}

std::vector<Declaration> parse_declarations(std::string_view text) {
  std::vector<Declaration> out;
  std::string stripped = strip_comments(text);
  std::string_view s = stripped;
  size_t i = 0;
  while (i < s.size()) {
    // One declaration ends at ';' outside quotes and parentheses.
    size_t b = i;
    int paren = 0;
    while (i < s.size()) {
      char c = s[i];
      if (c == '"' || c == '\'') {
        size_t e = s.find(c, i + 1);
        i = e == std::string_view::npos ? s.size() : e + 1;
        continue;
      }
      if (c == '(') ++paren;
      else if (c == ')' && paren > 0) --paren;
      else if (c == ';' && paren == 0) break;
      ++i;
    }
    std::string_view d = trim(s.substr(b, i - b));
    if (i < s.size()) ++i;
    size_t colon = d.find(':');
    if (colon == std::string_view::npos) continue;
    Declaration decl;
    decl.name = std::string(trim(d.substr(0, colon)));
    std::string_view v = trim(d.substr(colon + 1));
    if (v.size() >= 10) {
      size_t bang = v.rfind('!');
      if (bang != std::string_view::npos) {
        std::string_view imp = trim(v.substr(bang + 1));
        if (imp == "important") {
          decl.important = true;
          v = trim(v.substr(0, bang));
        }
      }
    } else if (size_t bang = v.rfind('!'); bang != std::string_view::npos &&
                                            trim(v.substr(bang + 1)) == "important") {
      decl.important = true;
      v = trim(v.substr(0, bang));
    }
    if (decl.name.empty() || v.empty()) continue;
    decl.value = std::string(v);
    out.push_back(std::move(decl));
  }
  return out;
}

void StyleSheet::parse_more(std::string_view text) {
  std::string stripped = strip_comments(text);
  std::string_view s = stripped;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && is_ws(s[i])) ++i;
    if (i >= s.size()) break;
    if (s.compare(i, 4, "<!--") == 0) { i += 4; continue; }
    if (s.compare(i, 3, "-->") == 0) { i += 3; continue; }
    if (s[i] == '@') {
      // At-rule: skip to ';' or over its block.
      size_t semi = s.find(';', i), brace = s.find('{', i);
      if (brace == std::string_view::npos || (semi != std::string_view::npos && semi < brace)) {
        i = semi == std::string_view::npos ? s.size() : semi + 1;
        continue;
      }
      int depth = 0;
      for (i = brace; i < s.size(); ++i) {
        if (s[i] == '{') ++depth;
        else if (s[i] == '}' && --depth == 0) { ++i; break; }
      }
      continue;
    }
    size_t brace = s.find('{', i);
    if (brace == std::string_view::npos) break;
    size_t end = s.find('}', brace);
    if (end == std::string_view::npos) end = s.size();
    std::string_view sel_text = s.substr(i, brace - i);
    std::vector<Declaration> decls = parse_declarations(s.substr(brace + 1, end - brace - 1));
    i = end + 1;
    size_t start = 0;
    while (start <= sel_text.size()) {
      size_t comma = sel_text.find(',', start);
      if (comma == std::string_view::npos) comma = sel_text.size();
      Rule r;
      if (parse_selector(sel_text.substr(start, comma - start), r.selector)) {
        r.decls = decls;
        r.order = rules.size();
        rules.push_back(std::move(r));
      }
      start = comma + 1;
    }
  }
}

void StyleSheet::finish() {
  std::stable_sort(rules.begin(), rules.end(), [](const Rule& a, const Rule& b) {
    return a.selector.specificity < b.selector.specificity;
  });
}

}  // namespace verm::svg::css
