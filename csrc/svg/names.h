// Element and attribute name tables of the SVG front end (only the names verm looks at).
#pragma once
#include <cstdint>
#include <string_view>

namespace verm::svg {

#define VERM_SVG_ELEMENTS(X)                                                                  \
  X(A, "a") X(Circle, "circle") X(ClipPath, "clipPath") X(Defs, "defs") X(Ellipse, "ellipse")   \
  X(FeBlend, "feBlend") X(FeColorMatrix, "feColorMatrix")                                      \
  X(FeComponentTransfer, "feComponentTransfer") X(FeComposite, "feComposite")                  \
  X(FeConvolveMatrix, "feConvolveMatrix") X(FeDiffuseLighting, "feDiffuseLighting")            \
  X(FeDisplacementMap, "feDisplacementMap") X(FeDistantLight, "feDistantLight")                \
  X(FeDropShadow, "feDropShadow") X(FeFlood, "feFlood") X(FeFuncA, "feFuncA")                  \
  X(FeFuncB, "feFuncB") X(FeFuncG, "feFuncG") X(FeFuncR, "feFuncR")                            \
  X(FeGaussianBlur, "feGaussianBlur") X(FeImage, "feImage") X(FeMerge, "feMerge")              \
  X(FeMergeNode, "feMergeNode") X(FeMorphology, "feMorphology") X(FeOffset, "feOffset")        \
  X(FePointLight, "fePointLight") X(FeSpecularLighting, "feSpecularLighting")                  \
  X(FeSpotLight, "feSpotLight") X(FeTile, "feTile") X(FeTurbulence, "feTurbulence")            \
  X(Filter, "filter") X(G, "g") X(Image, "image") X(Line, "line")                              \
  X(LinearGradient, "linearGradient") X(Marker, "marker") X(Mask, "mask") X(Path, "path")      \
  X(Pattern, "pattern") X(Polygon, "polygon") X(Polyline, "polyline")                          \
  X(RadialGradient, "radialGradient") X(Rect, "rect") X(Stop, "stop") X(Style, "style")        \
  X(Svg, "svg") X(Switch, "switch") X(Symbol, "symbol") X(Text, "text")                        \
  X(TextPath, "textPath") X(Tref, "tref") X(Tspan, "tspan") X(Use, "use")

#define VERM_SVG_ATTRS(X)                                                                     \
  X(AlignmentBaseline, "alignment-baseline") X(Amplitude, "amplitude") X(BaseFrequency, "baseFrequency") \
  X(BaselineShift, "baseline-shift") X(Class, "class") X(ClipPath, "clip-path")                \
  X(ClipRule, "clip-rule") X(ClipPathUnits, "clipPathUnits") X(Color, "color")                 \
  X(ColorInterpolation, "color-interpolation")                                                 \
  X(ColorInterpolationFilters, "color-interpolation-filters") X(ColorRendering, "color-rendering") \
  X(Cx, "cx") X(Cy, "cy") X(D, "d") X(Direction, "direction") X(Display, "display")            \
  X(DominantBaseline, "dominant-baseline") X(Dx, "dx") X(Dy, "dy") X(EdgeMode, "edgeMode")     \
  X(Exponent, "exponent") X(Fill, "fill") X(FillOpacity, "fill-opacity") X(FillRule, "fill-rule") \
  X(Filter, "filter") X(FilterUnits, "filterUnits") X(FloodColor, "flood-color")              \
  X(FloodOpacity, "flood-opacity") X(Font, "font") X(FontFamily, "font-family")                \
  X(FontKerning, "font-kerning") X(FontSize, "font-size") X(FontSizeAdjust, "font-size-adjust") \
  X(FontStretch, "font-stretch") X(FontStyle, "font-style") X(FontVariant, "font-variant")     \
  X(FontVariationSettings, "font-variation-settings") X(FontWeight, "font-weight")            \
  X(Fr, "fr") X(Fx, "fx") X(Fy, "fy")                                                          \
  X(GlyphOrientationHorizontal, "glyph-orientation-horizontal")                               \
  X(GlyphOrientationVertical, "glyph-orientation-vertical")                                   \
  X(GradientTransform, "gradientTransform") X(GradientUnits, "gradientUnits")                 \
  X(Height, "height") X(Href, "href") X(Id, "id") X(ImageRendering, "image-rendering")         \
  X(In, "in") X(In2, "in2") X(Intercept, "intercept") X(Isolation, "isolation")                \
  X(K1, "k1") X(K2, "k2") X(K3, "k3") X(K4, "k4") X(Kerning, "kerning")                        \
  X(LengthAdjust, "lengthAdjust") X(LetterSpacing, "letter-spacing") X(LightingColor, "lighting-color") \
  X(MarkerEnd, "marker-end") X(MarkerMid, "marker-mid") X(MarkerStart, "marker-start")         \
  X(MarkerHeight, "markerHeight") X(MarkerUnits, "markerUnits") X(MarkerWidth, "markerWidth")  \
  X(Mask, "mask") X(MaskContentUnits, "maskContentUnits") X(MaskType, "mask-type")             \
  X(MaskUnits, "maskUnits") X(Mode, "mode") X(MixBlendMode, "mix-blend-mode")                  \
  X(Offset, "offset") X(Opacity, "opacity") X(Operator, "operator") X(Orient, "orient")        \
  X(Overflow, "overflow") X(PaintOrder, "paint-order") X(PathLength, "pathLength")             \
  X(PatternContentUnits, "patternContentUnits") X(PatternTransform, "patternTransform")       \
  X(PatternUnits, "patternUnits") X(Points, "points") X(PreserveAspectRatio, "preserveAspectRatio") \
  X(PrimitiveUnits, "primitiveUnits") X(R, "r") X(Radius, "radius") X(RefX, "refX") X(RefY, "refY") \
  X(RequiredExtensions, "requiredExtensions") X(RequiredFeatures, "requiredFeatures")         \
  X(Result, "result") X(Rotate, "rotate") X(Rx, "rx") X(Ry, "ry") X(Scale, "scale")            \
  X(ShapeRendering, "shape-rendering") X(Side, "side") X(Slope, "slope") X(Space, "space")     \
  X(SpreadMethod, "spreadMethod") X(StartOffset, "startOffset") X(StdDeviation, "stdDeviation") \
  X(StopColor, "stop-color") X(StopOpacity, "stop-opacity") X(Stroke, "stroke")               \
  X(StrokeDasharray, "stroke-dasharray") X(StrokeDashoffset, "stroke-dashoffset")             \
  X(StrokeLinecap, "stroke-linecap") X(StrokeLinejoin, "stroke-linejoin")                     \
  X(StrokeMiterlimit, "stroke-miterlimit") X(StrokeOpacity, "stroke-opacity")                 \
  X(StrokeWidth, "stroke-width") X(Style, "style") X(SystemLanguage, "systemLanguage")        \
  X(TableValues, "tableValues") X(TextAnchor, "text-anchor") X(TextDecoration, "text-decoration") \
  X(TextLength, "textLength") X(TextOverflow, "text-overflow") X(TextRendering, "text-rendering") \
  X(Transform, "transform") X(TransformBox, "transform-box") X(TransformOrigin, "transform-origin") \
  X(Type, "type") X(UnicodeBidi, "unicode-bidi") X(Values, "values") X(VectorEffect, "vector-effect") \
  X(ViewBox, "viewBox") X(Visibility, "visibility") X(WhiteSpace, "white-space") X(Width, "width") \
  X(WordSpacing, "word-spacing") X(WritingMode, "writing-mode") X(X, "x") X(X1, "x1") X(X2, "x2") \
  X(Y, "y") X(Y1, "y1") X(Y2, "y2") X(BackgroundColor, "background-color")                    \
  X(Method, "method") X(Spacing, "spacing") X(Path, "path") X(Lang, "lang")

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
