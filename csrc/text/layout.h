// SVG text layout: a resolved <text> element (built by the SVG front end) -> glyph outline paths.
//
// Division of labour (modelled on usvg's text tree):
//   * The SVG front end walks <text>/<tspan>/<tref>, applies xml:space, resolves units, CSS
//     inheritance and paint, and fills one `TextInput` per <text> element: the whole character
//     content as one UTF-8 string, per-character positioning lists, and style spans.
//     It resolves <textPath> references (TextPathInfo) and the writing mode (vertical).
//   * `layout_text` splits the text into chunks (a new chunk starts at every character with an
//     absolute x or y and at textPath boundaries), shapes each span with HarfBuzz (bidi runs,
//     per-character font fallback), applies letter/word spacing, textLength, dx/dy/rotate,
//     text-anchor per chunk, baselines and decorations, places text on paths, and returns glyph
//     outlines as filled/stroked paths in the user space of the <text> element.
// Everything is in user units of the <text> element (font-size, spacings and positions already
// converted by the front end). Layout throws Unsupported("text:<what>") for anything it does
// not handle, never draws it wrong silently.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/geom.h"
#include "core/status.h"
#include "scene/display_list.h"
#include "text/text.h"

namespace verm::text {

enum class TextAnchor : uint8_t { Start, Middle, End };

// CSS dominant-baseline / alignment-baseline keywords (the union of both properties, as usvg).
// Auto = alphabetic for horizontal text. For dominant-baseline `no-change` the front end
// passes the parent's value; UseScript/ResetSize behave as Auto (as resvg).
enum class Baseline : uint8_t {
  Auto, Baseline, BeforeEdge, TextBeforeEdge, Middle, Central, AfterEdge, TextAfterEdge,
  Ideographic, Alphabetic, Hanging, Mathematical, UseScript, NoChange, ResetSize
};

// One baseline-shift value. Lengths (and percentages, which refer to the font-size of the
// element that declares them) are converted to user units by the front end; positive = up.
struct BaselineShift {
  enum class Kind : uint8_t { Baseline, Sub, Super, Length } kind = Kind::Baseline;
  double value = 0;  // user units, for Length only
};

// Paint of one text-decoration line: the fill/stroke of the element that declared the
// decoration (CSS: decorations are painted with the declaring element's paint).
struct DecorationPaint {
  std::optional<scene::Fill> fill;
  std::optional<scene::Stroke> stroke;
  // When set, called once with the text's bounding box to produce the fill/stroke instead of
  // `fill`/`stroke` (use for objectBoundingBox paint servers: resvg maps them with the bbox
  // of the whole <text> element).
  std::function<std::optional<scene::Fill>(const Rect& text_bbox)> fill_for_bbox;
  std::function<std::optional<scene::Stroke>(const Rect& text_bbox)> stroke_for_bbox;
};

// A <textPath> (horizontal text only). The front end resolves href to a path element
// (shape converted to a Path, that element's own transform applied, in the <text>'s user space)
// and startOffset (percentages are of path_length(path)). An invalid textPath (missing or
// non-shape href) is skipped by the front end: its characters get no span.
struct TextPathInfo {
  Path path;
  double start_offset = 0;
};

// Arc length of a path (as usvg: curves measured, lines, closes included).
double path_length(const Path& path);

// A run of characters sharing one computed style: the content of one text node.
struct TextSpan {
  size_t start = 0, end = 0;  // byte range into TextInput::text, at code point boundaries

  // Font (CSS font shorthand parts, resolved).
  FontQuery font;             // families as written (generic names allowed; empty = serif),
                              // weight (bolder/lighter resolved), italic/oblique, stretch %
  double font_size = 12;      // user units; <= 0 -> span is not rendered (but still consumes
                              // its positioning list entries)
  bool small_caps = false;    // font-variant: small-caps (uses the smcp feature)
  bool kerning = true;        // font-kerning / kerning: none|0 -> false

  // Spacing (user units).
  double letter_spacing = 0;
  double word_spacing = 0;

  // Anchoring: a chunk takes the text-anchor of the span holding its first character.
  TextAnchor anchor = TextAnchor::Start;
  Baseline dominant_baseline = Baseline::Auto;
  Baseline alignment_baseline = Baseline::Auto;
  // All baseline-shift values from this span's element up to (excluding) the <text>, innermost
  // last; they accumulate.
  std::vector<BaselineShift> baseline_shift;

  // Paint. Absent fill/stroke = none. paint-order: stroke first when stroke_first.
  std::optional<scene::Fill> fill;
  std::optional<scene::Stroke> stroke;
  bool stroke_first = false;
  // objectBoundingBox paint servers: see DecorationPaint::fill_for_bbox.
  std::function<std::optional<scene::Fill>(const Rect& text_bbox)> fill_for_bbox;
  std::function<std::optional<scene::Stroke>(const Rect& text_bbox)> stroke_for_bbox;

  bool visible = true;  // visibility: hidden/collapse -> occupies space, draws nothing

  // Set for the characters inside a <textPath>; all spans of one <textPath> element share the
  // same pointer (a new chunk starts where the pointer changes, as usvg). x/y of a text-path
  // chunk give an extra offset along the path (x) as usvg does.
  std::shared_ptr<const TextPathInfo> text_path;

  // text-decoration in effect for this span (from this element or an ancestor).
  std::optional<DecorationPaint> underline, overline, line_through;

  // textLength/lengthAdjust of the element that directly holds this text node (not
  // inherited, as usvg; negative values dropped), user units; unset = none.
  std::optional<double> text_length;
  bool length_adjust_spacing_and_glyphs = false;
};

// Per-character absolute/relative position (SVG x/y/dx/dy lists), one entry per code point of
// the whole <text> content, including characters of spans that are skipped (display:none,
// font-size <= 0). Resolution as usvg: walk <text>/<tspan> elements in document order; an
// element's list assigns its first min(len(list), chars in element incl. descendants)
// characters; inner elements overwrite outer ones. A character with x or y starts a new
// text chunk (anchored independently); so does the first laid-out character.
struct CharPosition {
  std::optional<double> x, y, dx, dy;
};

struct TextInput {
  std::string text;                    // UTF-8 after xml:space processing (tref expanded)
  std::vector<CharPosition> positions; // one per code point of `text`, or empty (= none)
  std::vector<double> rotate;          // degrees, one per code point, or empty. Resolution as
                                       // usvg: an element's rotate list covers all its chars,
                                       // the last value repeating past the list's end.
  std::vector<TextSpan> spans;         // ordered, non-overlapping byte ranges; characters
                                       // outside every span are not laid out
  // sqrt(sx * sy) of the <text>'s transform to the document viewport (usvg's abs_transform
  // scale); only sets the arc-length accuracy of text on a path, as resvg does.
  double abs_scale = 1;
  // writing-mode tb, tb-rl, vertical-rl or vertical-lr (from the <text> or an ancestor):
  // top-to-bottom layout as resvg (CJK upright, other scripts rotated 90 degrees).
  bool vertical = false;
  // text-rendering: optimizeSpeed -> false: all text paths drawn without anti-aliasing (resvg
  // maps it to crispEdges); optimizeLegibility/geometricPrecision/auto -> true.
  bool anti_alias = true;
};

struct TextLayout {
  // Glyph paths (one PathNode per span run and per decoration line), in the <text> element's
  // user space. The caller wraps it with the element's transform/opacity/clip/mask/filter.
  scene::Group group;
  // Object bounding box of the text as usvg computes it: the union of each cluster's
  // advance x (ascent..descent) box plus decoration lines (not the glyph ink). This is the box
  // for objectBoundingBox units (paint servers, clip/mask/filter on the <text>). Empty when
  // nothing was laid out; resvg then drops the element entirely.
  Rect bbox;
};

// Lays out one <text> element. Thread-safe (the FontDB is shared and read-only).
// Throws Unsupported("text:<what>") for unsupported features, InputError for bad input
// (spans off character boundaries, more than 200,000 characters in one element).
TextLayout layout_text(const TextInput& input, const FontDB& fonts);

}  // namespace verm::text
