// Text engine: font discovery and matching (FreeType), shaping (HarfBuzz), glyph outlines.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "core/path.h"

namespace verm::text {

struct FontQuery {
  std::vector<std::string> families;  // CSS font-family list, generic names allowed
  int weight = 400;                   // 100..900
  bool italic = false;
  int stretch = 100;                  // percent
};

struct ShapedRun {
  Path outline;        // glyph outlines in user units, baseline origin at (0, 0)
  double advance = 0;  // total advance in user units
  double ascent = 0, descent = 0;  // of the primary font at this size (descent positive)
  bool missing_glyphs = false;     // some characters had no glyph in any font
};

// Immutable after construction and safe to share between threads; each thread keeps its own
// FreeType/HarfBuzz state internally.
class FontDB {
 public:
  // Scans `dirs` (non-recursive .ttf/.otf/.ttc). Generic family defaults:
  // sans-serif, serif, monospace map to the first matching family found, configurable below.
  explicit FontDB(const std::vector<std::string>& dirs);
  ~FontDB();
  FontDB(const FontDB&) = delete;
  FontDB& operator=(const FontDB&) = delete;

  void set_generic(const std::string& generic, const std::string& family);
  size_t face_count() const;
  std::vector<std::string> families() const;

  // Shapes `utf8` with the best matching face (with per-character fallback to other faces)
  // at `size` user units, returning outlines ready to fill.
  ShapedRun shape(const std::string& utf8, const FontQuery& query, double size) const;
  // Advance width only (fast path for table layout).
  double measure(const std::string& utf8, const FontQuery& query, double size) const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace verm::text
