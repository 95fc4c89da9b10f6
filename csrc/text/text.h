// Text engine: font discovery and matching (FreeType), shaping (HarfBuzz), glyph outlines.
#pragma once
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/path.h"

namespace verm::text {

struct FontQuery {
  std::vector<std::string> families;  // CSS font-family list, generic names allowed
  int weight = 400;                   // 100..900
  bool italic = false;
  bool oblique = false;               // font-style: oblique (prefers oblique faces, then italic)
  int stretch = 100;                  // percent (50 ultra-condensed .. 200 ultra-expanded)
};

struct ShapedRun {
  Path outline;        // glyph outlines in user units, baseline origin at (0, 0), y down
  double advance = 0;  // total advance in user units
  double ascent = 0, descent = 0;  // of the primary font at this size (descent positive)
  bool missing_glyphs = false;     // some characters had no glyph in any font
};

// Font-wide metrics in font units (y up, as stored in the font).
struct FaceMetrics {
  double units_per_em = 1000;
  double ascent = 800, descent = -200;  // descent negative
  double x_height = 500;
  double underline_position = -100, underline_thickness = 50;
  double line_through_position = 250;
  double subscript_offset = 0, superscript_offset = 0;
};

// One shaped glyph. Positions are in font units of `face` (scale by size / units_per_em).
struct ShapedGlyph {
  int face = -1;            // index into the FontDB's faces
  uint32_t glyph = 0;       // glyph id, 0 = missing (.notdef)
  uint32_t cluster = 0;     // byte offset of the cluster's first character in the input
  uint32_t cluster_len = 0; // cluster length in bytes
  double x_advance = 0, x_offset = 0, y_offset = 0;
};

struct ShapeOptions {
  bool kerning = true;     // false -> kern feature off
  bool small_caps = false; // smcp feature on
};

// Immutable after construction (except set_generic, to be called before sharing) and safe to
// share between threads: fonts are loaded lazily behind once-flags, HarfBuzz fonts are
// immutable, FreeType faces are guarded per face and glyph outlines are cached per
// (face, glyph) behind a reader/writer lock.
class FontDB {
 public:
  // Scans `dirs` (recursively, .ttf/.otf/.ttc/.otc, in sorted order; earlier folders first).
  // Generic families (sans-serif, serif, monospace, cursive, fantasy) default to a family
  // found by name heuristics; set_generic overrides.
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

  // ---- lower level (used by the SVG text layout) ------------------------------------
  // CSS font matching: the family list is tried in order (generic names mapped), then the
  // serif generic as a last resort (as resvg); within a family, stretch/style/weight are
  // matched per CSS Fonts 3 section 5.2. Returns -1 only when the database is empty.
  int match(const FontQuery& query) const;
  // Shapes with `face`; glyphs left missing are replaced from fallback faces (the first
  // face, in database order, with a compatible style that has the character; when it covers
  // the whole text it replaces everything, as resvg does). Glyphs in visual (LTR) order.
  // Right-to-left runs (a simplified UAX #9 for a left-to-right paragraph, as resvg) are
  // shaped right-to-left and reordered visually.
  std::vector<ShapedGlyph> shape_glyphs(const std::string& utf8, int face,
                                        const ShapeOptions& opts) const;
  const FaceMetrics& metrics(int face) const;
  // Glyph outline in font units, y up (cached). Glyph 0 with an empty outline gets a box.
  std::shared_ptr<const Path> glyph_outline(int face, uint32_t glyph) const;
  std::string face_family(int face) const;
  // {weight, style (0 normal, 1 italic, 2 oblique), stretch (1..9 CSS keyword order)}.
  std::array<int, 3> face_style(int face) const;
  // True when the face has variation axes (font-variation-settings would change its glyphs).
  bool face_is_variable(int face) const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// Appends `src` mapped by `ts` to `dst` without an intermediate path.
inline void append_transformed(Path& dst, const Path& src, const Transform& ts) {
  const auto& pts = src.points();
  size_t i = 0;
  for (Verb v : src.verbs()) {
    switch (v) {
      case Verb::Move: { Point p = ts.apply(pts[i++]); dst.move_to(p.x, p.y); break; }
      case Verb::Line: { Point p = ts.apply(pts[i++]); dst.line_to(p.x, p.y); break; }
      case Verb::Quad: {
        Point c = ts.apply(pts[i]), p = ts.apply(pts[i + 1]);
        i += 2;
        dst.quad_to(c.x, c.y, p.x, p.y);
        break;
      }
      case Verb::Cubic: {
        Point c1 = ts.apply(pts[i]), c2 = ts.apply(pts[i + 1]), p = ts.apply(pts[i + 2]);
        i += 3;
        dst.cubic_to(c1.x, c1.y, c2.x, c2.y, p.x, p.y);
        break;
      }
      case Verb::Close: dst.close(); break;
    }
  }
}

}  // namespace verm::text
