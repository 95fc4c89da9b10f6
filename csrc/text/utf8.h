// UTF-8 decoding shared by the text engine.
#pragma once
#include <cstdint>
#include <string>

namespace verm::text {

// Decodes one code point starting at i (i < s.size()) and advances i; invalid or truncated
// sequences decode as U+FFFD and advance one byte.
inline uint32_t decode_utf8(const std::string& s, size_t& i) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) { ++i; return c; }
  int n = (c >= 0xF0 && c < 0xF8) ? 3 : (c >= 0xE0 && c < 0xF0) ? 2 : (c >= 0xC0 && c < 0xE0) ? 1 : -1;
  if (n < 0 || i + n >= s.size()) { ++i; return 0xFFFD; }
  uint32_t cp = c & (0x3F >> n);
  for (int k = 1; k <= n; ++k) {
    unsigned char b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) { ++i; return 0xFFFD; }
    cp = (cp << 6) | (b & 0x3F);
  }
  i += n + 1;
  return cp;
}

}  // namespace verm::text
