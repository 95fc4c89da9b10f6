// The display list: a resolved, renderer-ready scene tree (modelled on usvg's tree).
//
// Everything here is already resolved: no CSS, no units, no references by id, no text
// (text is converted to glyph outlines before it gets here), objectBoundingBox units are
// already mapped to user space. Tables and chart specs build this same structure, so there
// is one rasterizer for every input kind.
//
// Coordinates: every node lives in the coordinate system of its parent Group; a Group's
// `transform` maps its children's coordinates into the parent's. The root Group's parent
// space is the output canvas in pixels.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/geom.h"
#include "core/path.h"

namespace verm::scene {

// Straight (non-premultiplied) colour, components in [0, 1].
struct Color {
  float r = 0, g = 0, b = 0, a = 1;
};

enum class FillRule : uint8_t { NonZero, EvenOdd };
enum class SpreadMethod : uint8_t { Pad, Reflect, Repeat };
enum class LineCap : uint8_t { Butt, Round, Square };
enum class LineJoin : uint8_t { Miter, MiterClip, Round, Bevel };

struct GradientStop {
  float offset = 0;  // in [0, 1], non-decreasing
  Color color;       // stop-opacity already multiplied into color.a
};

// Gradient geometry is in the gradient's own space; `transform` maps it to the user space
// of the shape being painted (gradientTransform and objectBoundingBox already folded in).
struct LinearGradient {
  double x1 = 0, y1 = 0, x2 = 1, y2 = 0;
  Transform transform;
  SpreadMethod spread = SpreadMethod::Pad;
  std::vector<GradientStop> stops;  // at least 2 (resolver turns 0/1 stop into a Color)
};

struct RadialGradient {
  double cx = 0.5, cy = 0.5, r = 0.5;   // end circle
  double fx = 0.5, fy = 0.5, fr = 0;    // focal (start) circle
  Transform transform;
  SpreadMethod spread = SpreadMethod::Pad;
  std::vector<GradientStop> stops;
};

struct Group;

// A pattern tile: `rect` is the tile in pattern space, `transform` maps pattern space to the
// painted shape's user space, `content` is drawn in pattern space (viewBox/contentUnits
// already folded into content's transform) and clipped to the tile.
struct Pattern {
  Rect rect;
  Transform transform;
  std::shared_ptr<const Group> content;
  // Context paint (context-fill/-stroke): `transform` already maps from the context element's
  // user space. The transforms below let the raster decide, as resvg's f32 arithmetic does,
  // whether the tile is sampled with or without filtering (core/f32_transform.h).
  bool remapped = false;
  Transform base_transform;  // `transform` before the remap
  Transform abs_ts;          // the painted element's user space -> the document's (f32)
  Transform context_abs_ts;  // the context element's user space -> the document's (f32)
};

using Paint = std::variant<Color, LinearGradient, RadialGradient, Pattern>;

struct Fill {
  Paint paint = Color{};
  float opacity = 1;
  FillRule rule = FillRule::NonZero;
  bool anti_alias = true;
};

struct Stroke {
  Paint paint = Color{};
  float opacity = 1;
  double width = 1;
  LineCap cap = LineCap::Butt;
  LineJoin join = LineJoin::Miter;
  double miter_limit = 4;
  std::vector<double> dasharray;  // already validated: even count, all >= 0, sum > 0
  double dash_offset = 0;
  bool anti_alias = true;
};

struct PathNode {
  Path path;
  std::optional<Fill> fill;
  std::optional<Stroke> stroke;
  bool stroke_first = false;  // paint-order: stroke before fill
};

// Decoded raster image, straight-alpha RGBA8, drawn into `view` (user space) with
// preserveAspectRatio already applied (so it is a plain stretch into `view`, clipped by `clip`
// when present).
struct ImageNode {
  int width = 0, height = 0;
  std::shared_ptr<const std::vector<uint8_t>> rgba;  // width*height*4 bytes
  Rect view;
  std::optional<Rect> clip;
  bool smooth = true;  // image-rendering: optimizeQuality (bilinear/bicubic) vs pixelated
};

// clipPath: children are drawn as a coverage mask (fill only, clip-rule as rule, paint
// ignored). `transform` maps clip content to the clipped element's user space.
struct ClipPath {
  Transform transform;
  std::vector<std::shared_ptr<const struct Node>> children;  // PathNode or Group (with transform)
  std::shared_ptr<const ClipPath> clip_path;                   // clip-path on the clipPath itself
};

enum class MaskType : uint8_t { Luminance, Alpha };

// mask: `rect` (user space of the masked element) bounds the mask; `content` is drawn in that
// same user space (maskContentUnits already folded into its transform).
struct Mask {
  Rect rect;
  MaskType type = MaskType::Luminance;
  std::shared_ptr<const Group> content;
  std::shared_ptr<const Mask> mask;  // mask on the mask element itself
};

enum class BlendMode : uint8_t {
  Normal, Multiply, Screen, Overlay, Darken, Lighten, ColorDodge, ColorBurn, HardLight,
  SoftLight, Difference, Exclusion, Hue, Saturation, Color, Luminosity
};

// ---- filters -------------------------------------------------------------------------
// Filter inputs: the source graphic, its alpha, or a named earlier result.
struct FilterInput {
  enum class Kind : uint8_t { SourceGraphic, SourceAlpha, Reference } kind = Kind::SourceGraphic;
  std::string name;  // for Reference
};

enum class ColorSpace : uint8_t { SRGB, LinearRGB };

struct FeGaussianBlur { FilterInput in; double std_dev_x = 0, std_dev_y = 0; };
struct FeOffset { FilterInput in; double dx = 0, dy = 0; };
struct FeFlood { Color color; };  // flood-opacity multiplied into color.a
struct FeColorMatrix {
  FilterInput in;
  // Always a full 4x5 row-major matrix (saturate/hueRotate/luminanceToAlpha expanded).
  std::vector<double> matrix;
};
struct FeComposite {
  FilterInput in1, in2;
  enum class Op : uint8_t { Over, In, Out, Atop, Xor, Arithmetic } op = Op::Over;
  double k1 = 0, k2 = 0, k3 = 0, k4 = 0;
};
struct FeMerge { std::vector<FilterInput> inputs; };
struct FeBlend { FilterInput in1, in2; BlendMode mode = BlendMode::Normal; };
struct FeDropShadow { FilterInput in; double dx = 2, dy = 2, std_dev_x = 2, std_dev_y = 2; Color color; };
// `content` is in user space, placed at the primitive's subregion; the raster draws it scaled
// (no rotation/skew) from the subregion's integer pixel origin, as resvg does.
struct FeImage { std::shared_ptr<const Group> content; };
struct FeTile { FilterInput in; };
struct FeComponentTransfer {
  FilterInput in;
  // Per channel R,G,B,A: type 0 identity, 1 table, 2 discrete, 3 linear, 4 gamma.
  struct Func { int type = 0; std::vector<double> table; double slope = 1, intercept = 0,
                amplitude = 1, exponent = 1, offset = 0; };
  Func funcs[4];
};
struct FeMorphology { FilterInput in; bool dilate = false; double rx = 0, ry = 0; };

using FilterKind = std::variant<FeGaussianBlur, FeOffset, FeFlood, FeColorMatrix, FeComposite,
                                FeMerge, FeBlend, FeDropShadow, FeImage, FeTile,
                                FeComponentTransfer, FeMorphology>;

struct FilterPrimitive {
  Rect subregion;            // user space, already resolved against the filter region
  ColorSpace color_space = ColorSpace::LinearRGB;
  std::string result;        // name, may be empty
  FilterKind kind;
};

// One <filter>: `region` in the user space of the filtered element.
struct Filter {
  Rect region;
  std::vector<FilterPrimitive> primitives;
};

// ---- tree ----------------------------------------------------------------------------
struct Group {
  Transform transform;
  float opacity = 1;
  BlendMode blend = BlendMode::Normal;
  bool isolate = false;
  std::shared_ptr<const ClipPath> clip_path;
  std::shared_ptr<const Mask> mask;
  std::vector<std::shared_ptr<const Filter>> filters;  // applied in order
  std::vector<std::shared_ptr<const struct Node>> children;

  // True when the group must be rendered into its own layer.
  bool needs_layer() const {
    return opacity < 1 || blend != BlendMode::Normal || isolate || clip_path || mask ||
           !filters.empty();
  }
};

struct Node {
  std::variant<Group, PathNode, ImageNode> value;
};

// A complete scene: canvas size in pixels plus the root group.
struct Scene {
  int width = 0, height = 0;
  Group root;
};

}  // namespace verm::scene
