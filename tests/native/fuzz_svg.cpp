// Mutation fuzz driver for the SVG front end + rasterizer, meant for the ASan/UBSan build.
// Usage: fuzz_svg SEED MUTATIONS_PER_FILE FILE...
// Each file is rendered as is and after MUTATIONS_PER_FILE deterministic mutations (byte flips,
// truncation, chunk duplication, hostile numbers). Typed failures (Unsupported / InputError) are
// expected; anything the sanitizers flag aborts the process with a non-zero status.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "batch/batch.h"
#include "text/text.h"

namespace {

std::string read_file(const char* path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string mutate(const std::string& src, std::mt19937& rng) {
  std::string s = src;
  if (s.empty()) return s;
  static const char* kHostile[] = {"NaN", "inf", "-1e308", "1e9", "-0", "99999999999999999999",
                                   "1e-320", "#", "url(#a)", "\xff\xfe", "&amp;", "<g>", "\"",
                                   "0 0 0 0", "M", "A 1 1 0 1 1"};
  int kind = rng() % 5;
  size_t pos = rng() % s.size();
  switch (kind) {
    case 0:  // flip a few bytes
      for (int i = 0; i < 4; ++i) s[rng() % s.size()] ^= static_cast<char>(1 << (rng() % 8));
      break;
    case 1:  // truncate
      s.resize(pos);
      break;
    case 2: {  // duplicate a chunk
      size_t len = std::min<size_t>(rng() % 200, s.size() - pos);
      s.insert(pos, s.substr(pos, len));
      break;
    }
    case 3: {  // replace a number with a hostile token
      size_t p = s.find_first_of("0123456789", pos);
      if (p != std::string::npos) {
        size_t e = s.find_first_not_of("0123456789.-e", p);
        s.replace(p, (e == std::string::npos ? s.size() : e) - p, kHostile[rng() % 16]);
      }
      break;
    }
    default:  // insert a hostile token anywhere
      s.insert(pos, kHostile[rng() % 16]);
      break;
  }
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s SEED MUTATIONS FILE...\n", argv[0]);
    return 2;
  }
  std::mt19937 rng(static_cast<uint32_t>(std::stoul(argv[1])));
  int mutations = std::stoi(argv[2]);
  const char* font_dir = std::getenv("VERM_FUZZ_FONTS");
  std::vector<std::string> dirs;
  if (font_dir) dirs.push_back(font_dir);
  verm::batch::SvgOptions opts;
  opts.fonts = std::make_shared<verm::text::FontDB>(dirs);
  opts.width = 64;  // small canvases keep the sanitized run fast
  opts.limits.max_pixels = 1u << 20;
  size_t counts[3] = {0, 0, 0};
  for (int i = 3; i < argc; ++i) {
    std::string src = read_file(argv[i]);
    for (int m = 0; m <= mutations; ++m) {
      std::string doc = m == 0 ? src : mutate(src, rng);
      auto r = verm::batch::render_svg(doc, opts);
      counts[static_cast<int>(r.status)]++;
    }
  }
  std::printf("ok=%zu unsupported=%zu error=%zu\n", counts[0], counts[1], counts[2]);
  return 0;
}
