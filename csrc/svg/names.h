// Element and attribute name tables of the SVG front end (only the names verm looks at).
#pragma once
#include <cstdint>
#include <string_view>

namespace verm::svg {

#define VERM_SVG_ELEMENTS(M)                                                                  \
  M(A, "a") M(Circle, "circle") M(ClipPath, "clipPath") M(Defs, "defs") M(Ellipse, "ellipse")   \
  M(FeBlend, "feBlend") M(FeColorMatrix, "feColorMatrix")                                      \
  M(FeComponentTransfer, "feComponentTransfer") M(FeComposite, "feComposite")                  \
  M(FeConvolveMatrix, "feConvolveMatrix") M(FeDiffuseLighting, "feDiffuseLighting")            \
  M(FeDisplacementMap, "feDisplacementMap") M(FeDistantLight, "feDistantLight")                \
  M(FeDropShadow, "feDropShadow") M(FeFlood, "feFlood") M(FeFuncA, "feFuncA")                  \
  M(FeFuncB, "feFuncB") M(FeFuncG, "feFuncG") M(FeFuncR, "feFuncR")                            \
  M(FeGaussianBlur, "feGaussianBlur") M(FeImage, "feImage") M(FeMerge, "feMerge")              \
  M(FeMergeNode, "feMergeNode") M(FeMorphology, "feMorphology") M(FeOffset, "feOffset")        \
  M(FePointLight, "fePointLight") M(FeSpecularLighting, "feSpecularLighting")                  \
  M(FeSpotLight, "feSpotLight") M(FeTile, "feTile") M(FeTurbulence, "feTurbulence")            \
  M(Filter, "filter") M(G, "g") M(Image, "image") M(Line, "line")                              \
  M(LinearGradient, "linearGradient") M(Marker, "marker") M(Mask, "mask") M(Path, "path")      \
  M(Pattern, "pattern") M(Polygon, "polygon") M(Polyline, "polyline")                          \
  M(RadialGradient, "radialGradient") M(Rect, "rect") M(Stop, "stop") M(Style, "style")        \
  M(Svg, "svg") M(Switch, "switch") M(Symbol, "symbol") M(Text, "text")                        \
  M(TextPath, "textPath") M(Tref, "tref") M(Tspan, "tspan") M(Use, "use")

#define VERM_SVG_ATTRS(M)                                                                     \
  M(AlignmentBaseline, "alignment-baseline") M(Amplitude, "amplitude") M(BaseFrequency, "baseFrequency") \
  M(BaselineShift, "baseline-shift") M(Class, "class") M(ClipPath, "clip-path")                \
  M(ClipRule, "clip-rule") M(ClipPathUnits, "clipPathUnits") M(Color, "color")                 \
  M(ColorInterpolation, "color-interpolation")                                                 \
  M(ColorInterpolationFilters, "color-interpolation-filters") M(ColorRendering, "color-rendering") \
  M(Cx, "cx") M(Cy, "cy") M(D, "d") M(Direction, "direction") M(Display, "display")            \
  M(DominantBaseline, "dominant-baseline") M(Dx, "dx") M(Dy, "dy") M(EdgeMode, "edgeMode")     \
  M(Exponent, "exponent") M(Fill, "fill") M(FillOpacity, "fill-opacity") M(FillRule, "fill-rule") \
  M(Filter, "filter") M(FilterUnits, "filterUnits") M(FloodColor, "flood-color")              \
  M(FloodOpacity, "flood-opacity") M(Font, "font") M(FontFamily, "font-family")                \
  M(FontKerning, "font-kerning") M(FontSize, "font-size") M(FontSizeAdjust, "font-size-adjust") \
  M(FontStretch, "font-stretch") M(FontStyle, "font-style") M(FontVariant, "font-variant")     \
  M(FontVariationSettings, "font-variation-settings") M(FontWeight, "font-weight")            \
  M(Fr, "fr") M(Fx, "fx") M(Fy, "fy")                                                          \
  M(GlyphOrientationHorizontal, "glyph-orientation-horizontal")                               \
  M(GlyphOrientationVertical, "glyph-orientation-vertical")                                   \
  M(GradientTransform, "gradientTransform") M(GradientUnits, "gradientUnits")                 \
  M(Height, "height") M(Href, "href") M(Id, "id") M(ImageRendering, "image-rendering")         \
  M(In, "in") M(In2, "in2") M(Intercept, "intercept") M(Isolation, "isolation")                \
  M(K1, "k1") M(K2, "k2") M(K3, "k3") M(K4, "k4") M(Kerning, "kerning")                        \
  M(LengthAdjust, "lengthAdjust") M(LetterSpacing, "letter-spacing") M(LightingColor, "lighting-color") \
  M(MarkerEnd, "marker-end") M(MarkerMid, "marker-mid") M(MarkerStart, "marker-start")         \
  M(MarkerHeight, "markerHeight") M(MarkerUnits, "markerUnits") M(MarkerWidth, "markerWidth")  \
  M(Mask, "mask") M(MaskContentUnits, "maskContentUnits") M(MaskType, "mask-type")             \
  M(MaskUnits, "maskUnits") M(Mode, "mode") M(MixBlendMode, "mix-blend-mode")                  \
  M(Offset, "offset") M(Opacity, "opacity") M(Operator, "operator") M(Orient, "orient")        \
  M(Overflow, "overflow") M(PaintOrder, "paint-order") M(PathLength, "pathLength")             \
  M(PatternContentUnits, "patternContentUnits") M(PatternTransform, "patternTransform")       \
  M(PatternUnits, "patternUnits") M(Points, "points") M(PreserveAspectRatio, "preserveAspectRatio") \
  M(PrimitiveUnits, "primitiveUnits") M(R, "r") M(Radius, "radius") M(RefX, "refX") M(RefY, "refY") \
  M(RequiredExtensions, "requiredExtensions") M(RequiredFeatures, "requiredFeatures")         \
  M(Result, "result") M(Rotate, "rotate") M(Rx, "rx") M(Ry, "ry") M(Scale, "scale")            \
  M(ShapeRendering, "shape-rendering") M(Side, "side") M(Slope, "slope") M(Space, "space")     \
  M(SpreadMethod, "spreadMethod") M(StartOffset, "startOffset") M(StdDeviation, "stdDeviation") \
  M(StopColor, "stop-color") M(StopOpacity, "stop-opacity") M(Stroke, "stroke")               \
  M(StrokeDasharray, "stroke-dasharray") M(StrokeDashoffset, "stroke-dashoffset")             \
  M(StrokeLinecap, "stroke-linecap") M(StrokeLinejoin, "stroke-linejoin")                     \
  M(StrokeMiterlimit, "stroke-miterlimit") M(StrokeOpacity, "stroke-opacity")                 \
  M(StrokeWidth, "stroke-width") M(Style, "style") M(SystemLanguage, "systemLanguage")        \
  M(TableValues, "tableValues") M(TextAnchor, "text-anchor") M(TextDecoration, "text-decoration") \
  M(TextLength, "textLength") M(TextOverflow, "text-overflow") M(TextRendering, "text-rendering") \
  M(Transform, "transform") M(TransformBox, "transform-box") M(TransformOrigin, "transform-origin") \
  M(Type, "type") M(UnicodeBidi, "unicode-bidi") M(Values, "values") M(VectorEffect, "vector-effect") \
  M(ViewBox, "viewBox") M(Visibility, "visibility") M(WhiteSpace, "white-space") M(Width, "width") \
  M(WordSpacing, "word-spacing") M(WritingMode, "writing-mode") M(X, "x") M(X1, "x1") M(X2, "x2") \
  M(Y, "y") M(Y1, "y1") M(Y2, "y2") M(BackgroundColor, "background-color")                    \
  M(Method, "method") M(Spacing, "spacing") M(Path, "path") M(Lang, "lang")

#define VERM_ENUM_ENTRY(id, name) id,
enum class EId : uint8_t { VERM_SVG_ELEMENTS(VERM_ENUM_ENTRY) Unknown };
enum class AId : uint16_t { VERM_SVG_ATTRS(VERM_ENUM_ENTRY) Unknown };
#undef VERM_ENUM_ENTRY

EId element_id(std::string_view name);
AId attr_id(std::string_view name);
std::string_view element_name(EId id);
std::string_view attr_name(AId id);

bool is_presentation(AId a);
bool is_inheritable(AId a);
bool allows_inherit_value(AId a);

inline bool is_graphic(EId e) {
  return e == EId::Circle || e == EId::Ellipse || e == EId::Image || e == EId::Line ||
         e == EId::Path || e == EId::Polygon || e == EId::Polyline || e == EId::Rect ||
         e == EId::Text || e == EId::Use;
}
inline bool is_shape(EId e) {
  return e == EId::Circle || e == EId::Ellipse || e == EId::Line || e == EId::Path ||
         e == EId::Polygon || e == EId::Polyline || e == EId::Rect;
}
inline bool is_filter_primitive(EId e) { return e >= EId::FeBlend && e <= EId::FeTurbulence &&
  e != EId::FeFuncA && e != EId::FeFuncB && e != EId::FeFuncG && e != EId::FeFuncR &&
  e != EId::FeMergeNode && e != EId::FeDistantLight && e != EId::FePointLight && e != EId::FeSpotLight; }

}  // namespace verm::svg
