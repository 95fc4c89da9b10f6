#include "xml/xml.h"

#include <cctype>
#include <cstring>
#include <unordered_map>
#include <vector>

namespace verm::xml {
namespace {

constexpr size_t kMaxEntityExpansion = 1u << 20;  // bytes one entity may expand to

// Returns the byte offset of the first invalid UTF-8 sequence, or npos.
size_t find_invalid_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  size_t n = s.size(), i = 0;
  while (i < n) {
    unsigned char c = p[i];
    if (c < 0x80) { ++i; continue; }
    size_t len;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) { len = 2; cp = c & 0x1F; }
    else if ((c & 0xF0) == 0xE0) { len = 3; cp = c & 0x0F; }
    else if ((c & 0xF8) == 0xF0) { len = 4; cp = c & 0x07; }
    else return i;
    if (i + len > n) return i;
    for (size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
      return i;
    i += len;
  }
  return std::string_view::npos;
}

bool is_name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' ||
         c == ':' || (static_cast<unsigned char>(c) >= 0x80);
}

struct Dtd {
  size_t begin = 0, end = 0;  // [begin, end) of "<!DOCTYPE ... >" in the source
  std::unordered_map<std::string, std::string> raw;  // general entity name -> literal value
};

// Locates a DOCTYPE before the root element and collects its internal entity declarations.
bool scan_doctype(std::string_view s, Dtd& dtd) {
  size_t i = 0;
  auto skip_ws = [&]() { while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i; };
  while (true) {
    skip_ws();
    if (s.compare(i, 2, "<?") == 0) {
      size_t e = s.find("?>", i + 2);
      if (e == std::string_view::npos) return false;
      i = e + 2;
    } else if (s.compare(i, 4, "<!--") == 0) {
      size_t e = s.find("-->", i + 4);
      if (e == std::string_view::npos) return false;
      i = e + 3;
    } else {
      break;
    }
  }
  if (s.compare(i, 9, "<!DOCTYPE") != 0) return false;
  dtd.begin = i;
  i += 9;
  // Walk to the closing '>' of the DOCTYPE, honouring quotes and the internal subset.
  bool in_subset = false;
  while (i < s.size()) {
    char c = s[i];
    if (c == '"' || c == '\'') {
      size_t e = s.find(c, i + 1);
      if (e == std::string_view::npos) throw InputError("XML: unterminated quote in DOCTYPE");
      i = e + 1;
      continue;
    }
    if (!in_subset) {
      if (c == '[') { in_subset = true; ++i; continue; }
      if (c == '>') { dtd.end = i + 1; return true; }
      ++i;
      continue;
    }
    if (c == ']') { in_subset = false; ++i; continue; }
    if (s.compare(i, 4, "<!--") == 0) {
      size_t e = s.find("-->", i + 4);
      if (e == std::string_view::npos) throw InputError("XML: unterminated comment in DOCTYPE");
      i = e + 3;
      continue;
    }
    if (s.compare(i, 8, "<!ENTITY") == 0) {
      i += 8;
      skip_ws();
      if (i < s.size() && s[i] == '%')
        throw InputError("XML: DTD parameter entities are not allowed");
      size_t ns = i;
      while (i < s.size() && is_name_char(s[i])) ++i;
      std::string name(s.substr(ns, i - ns));
      skip_ws();
      if (name.empty() || i >= s.size()) throw InputError("XML: malformed ENTITY declaration");
      if (s[i] != '"' && s[i] != '\'')
        throw InputError("XML: external entity '" + name + "' is not allowed (never fetched)");
      char q = s[i];
      size_t e = s.find(q, i + 1);
      if (e == std::string_view::npos) throw InputError("XML: unterminated ENTITY value");
      dtd.raw.emplace(name, std::string(s.substr(i + 1, e - i - 1)));
      i = e + 1;
      skip_ws();
      if (i < s.size() && s[i] != '>')
        throw InputError("XML: external or unparsed entity '" + name + "' is not allowed");
      continue;
    }
    if (s[i] == '<' && s.compare(i, 2, "<!") == 0) {
      // Other markup declarations (ELEMENT, ATTLIST, ...): skip, honouring quotes.
      ++i;
      while (i < s.size() && s[i] != '>') {
        if (s[i] == '"' || s[i] == '\'') {
          size_t e = s.find(s[i], i + 1);
          if (e == std::string_view::npos) throw InputError("XML: unterminated quote in DTD");
          i = e;
        }
        ++i;
      }
      continue;
    }
    ++i;
  }
  throw InputError("XML: unterminated DOCTYPE");
}

class EntityExpander {
 public:
  explicit EntityExpander(const Dtd& dtd) : dtd_(dtd) {}

  // Replaces every reference to a declared entity in `text` (bounded by `cap` bytes).
  std::string substitute(std::string_view text, size_t cap, int depth) {
    if (depth > 32) throw InputError("XML: entity nesting too deep (possible entity bomb)");
    std::string out;
    out.reserve(std::min(text.size(), cap));
    size_t i = 0;
    while (i < text.size()) {
      size_t amp = text.find('&', i);
      if (amp == std::string_view::npos) { out.append(text.substr(i)); break; }
      out.append(text.substr(i, amp - i));
      size_t semi = text.find(';', amp + 1);
      bool replaced = false;
      if (semi != std::string_view::npos && semi - amp - 1 > 0 && semi - amp < 256 &&
          text[amp + 1] != '#') {
        std::string name(text.substr(amp + 1, semi - amp - 1));
        auto it = dtd_.raw.find(name);
        if (it != dtd_.raw.end()) {
          out.append(expand(name, it->second, depth));
          i = semi + 1;
          replaced = true;
        }
      }
      if (!replaced) { out.push_back('&'); i = amp + 1; }
      if (out.size() > cap)
        throw InputError("XML: entity expansion exceeds " + std::to_string(cap) +
                         " bytes (entity bomb)");
    }
    return out;
  }

 private:
  const std::string& expand(const std::string& name, const std::string& raw, int depth) {
    auto done = memo_.find(name);
    if (done != memo_.end()) return done->second;
    for (const auto& s : stack_)
      if (s == name) throw InputError("XML: entity reference loop through '" + name + "'");
    stack_.push_back(name);
    std::string v = substitute(raw, kMaxEntityExpansion, depth + 1);
    stack_.pop_back();
    return memo_.emplace(name, std::move(v)).first->second;
  }

  const Dtd& dtd_;
  std::unordered_map<std::string, std::string> memo_;
  std::vector<std::string> stack_;
};

}  // namespace

std::unique_ptr<Document> parse(std::string_view data, const Limits& limits) {
  if (data.size() > limits.max_input_bytes)
    throw InputError("input of " + std::to_string(data.size()) + " bytes exceeds max_input_bytes=" +
                     std::to_string(limits.max_input_bytes));
  if (data.size() >= 3 && static_cast<unsigned char>(data[0]) == 0xEF &&
      static_cast<unsigned char>(data[1]) == 0xBB && static_cast<unsigned char>(data[2]) == 0xBF)
    data.remove_prefix(3);
  if (data.size() >= 2 && ((static_cast<unsigned char>(data[0]) == 0xFF &&
                            static_cast<unsigned char>(data[1]) == 0xFE) ||
                           (static_cast<unsigned char>(data[0]) == 0xFE &&
                            static_cast<unsigned char>(data[1]) == 0xFF)))
    throw InputError("XML: UTF-16 input is not supported (expected UTF-8)");
  size_t bad = find_invalid_utf8(data);
  if (bad != std::string_view::npos)
    throw InputError("input is not valid UTF-8 (first bad byte at offset " + std::to_string(bad) +
                     ")");
  if (data.find('\0') != std::string_view::npos) throw InputError("XML: input contains NUL bytes");

  auto doc = std::make_unique<Document>();
  Dtd dtd;
  if (scan_doctype(data, dtd)) {
    std::string_view head = data.substr(0, dtd.begin), body = data.substr(dtd.end);
    doc->text.reserve(data.size());
    doc->text.append(head);
    if (dtd.raw.empty()) {
      doc->text.append(body);
    } else {
      EntityExpander ex(dtd);
      size_t cap = std::max(limits.max_input_bytes, data.size());
      doc->text.append(ex.substitute(body, cap, 0));
    }
  } else {
    doc->text.assign(data);
  }

  unsigned opts = pugi::parse_default | pugi::parse_ws_pcdata;
  pugi::xml_parse_result r =
      doc->dom.load_buffer_inplace(doc->text.data(), doc->text.size(), opts, pugi::encoding_utf8);
  if (!r)
    throw InputError(std::string("XML: ") + r.description() + " at offset " +
                     std::to_string(r.offset));

  // Depth and element count, iteratively (no recursion on hostile nesting).
  size_t count = 0;
  int depth = 0, max_depth = 0;
  pugi::xml_node n = doc->dom.first_child();
  while (n) {
    if (n.type() == pugi::node_element) {
      ++count;
      if (count > limits.max_elements)
        throw InputError("XML: more than max_elements=" + std::to_string(limits.max_elements) +
                         " elements");
    }
    if (n.first_child()) {
      n = n.first_child();
      ++depth;
      max_depth = std::max(max_depth, depth);
      if (depth > limits.max_depth)
        throw InputError("XML: element nesting deeper than max_depth=" +
                         std::to_string(limits.max_depth));
      continue;
    }
    while (n && !n.next_sibling()) {
      n = n.parent();
      --depth;
      if (n == doc->dom) { n = pugi::xml_node(); break; }
    }
    if (n) n = n.next_sibling();
  }
  doc->element_count = count;
  doc->max_depth = max_depth;
  return doc;
}

}  // namespace verm::xml
