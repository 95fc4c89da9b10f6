// Internal interface of the SVG converter: resolved tree (svgtree) -> scene::Scene.
// Follows usvg's conventions (usvg/parser/converter.rs and friends) so that the display list
// holds only resolved geometry, paints and effects. Split over several files by topic:
// convert.cpp (structure, use/svg/symbol/switch), units.cpp, shapes.cpp, style.cpp (fill,
// stroke, paint servers), clipmask.cpp, marker.cpp, image.cpp, filter.cpp, conv_text.cpp.
#pragma once
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/f32_transform.h"
#include "core/status.h"
#include "scene/display_list.h"
#include "svg/svg.h"
#include "svg/svgtree.h"
#include "svg/values.h"

namespace verm::svg {

enum class Units : uint8_t { UserSpaceOnUse, ObjectBoundingBox };

// Resolved fill/stroke of a `use` element or of a path carrying markers, for context-fill /
// context-stroke.
struct ContextPaint {
  NodeId use_node = kNoNode;  // for `use`: resolved lazily from this element
  std::optional<Rect> bbox;   // `use`: bbox of the use group's content (context space)
  bool probing = false;       // `use`: first pass that only measures that bbox
  std::optional<scene::Fill> fill;
  std::optional<scene::Stroke> stroke;
};

struct State {
  NodeId parent_clip_path = kNoNode;
  bool in_marker = false;
  Rect view_box{0, 0, 100, 100};         // nearest viewport, for percentages
  std::optional<double> use_w, use_h;    // size of the referencing `use` (nested svg)
  std::shared_ptr<const ContextPaint> context;
  Transform ctx_ts;  // maps the current user space to the context element's user space
  // The current user space and the context element's -> the document's, accumulated in f32 as
  // usvg's abs_transform is (see core/f32_transform.h).
  Transform abs_ts, ctx_abs_ts;
  bool measuring = false;  // inside a bbox-measuring pass (no nested measuring passes)
};

using NodePtr = std::shared_ptr<const scene::Node>;

inline NodePtr make_node(scene::Group g) {
  return std::make_shared<const scene::Node>(scene::Node{std::move(g)});
}
inline NodePtr make_node(scene::PathNode p) {
  return std::make_shared<const scene::Node>(scene::Node{std::move(p)});
}
inline NodePtr make_node(scene::ImageNode i) {
  return std::make_shared<const scene::Node>(scene::Node{std::move(i)});
}

// Bounding box of the filled geometry of `g`'s children in `g`'s child space (usvg's
// object bounding box); nullopt when empty or zero-sized.
std::optional<Rect> object_bbox(const scene::Group& g);
std::optional<Rect> node_bbox(const scene::Node& n);
Transform from_bbox(const Rect& r);  // maps the unit square onto r

class Converter {
 public:
  Converter(const Document& doc, const Options& opts) : doc_(doc), opts_(opts) {}
  scene::Scene convert();
  // The document as a group (root viewBox transform applied) plus its size in user units;
  // used for the root document and for nested SVG images.
  scene::Group convert_document(double& width, double& height);

  // ---- units.cpp
  double font_size(NodeId n) const;
  double convert_length(Length l, NodeId n, AId aid, Units u, const State& st) const;
  double convert_user_length(NodeId n, AId aid, const State& st, Length def) const {
    return convert_length(length_attr(n, aid).value_or(def), n, aid, Units::UserSpaceOnUse, st);
  }
  double convert_length_attr(NodeId n, AId aid, Units u, const State& st, Length def) const {
    return convert_length(length_attr(n, aid).value_or(def), n, aid, u, st);
  }
  double resolve_length(NodeId n, AId aid, const State& st, double def) const;
  std::optional<Length> length_attr(NodeId n, AId aid) const;
  std::optional<double> number_attr(NodeId n, AId aid) const;
  float opacity_attr(NodeId n, AId aid) const;
  float find_opacity(NodeId n, AId aid) const;
  Transform transform_attr(NodeId n, AId aid) const;
  Transform resolve_transform(NodeId n, AId aid, const State& st) const;
  bool has_valid_transform(NodeId n, AId aid) const;
  bool is_visible_element(NodeId n) const;
  bool is_condition_passed(NodeId n) const;
  std::optional<ViewBox> viewbox(NodeId n) const;
  AspectRatio aspect(NodeId n) const;
  Units units_attr(NodeId n, AId a, Units def) const;
  std::string_view str_attr(NodeId n, AId a) const {
    const std::string* s = doc_.attr(n, a);
    return s ? trim(*s) : std::string_view();
  }
  std::string_view find_str(NodeId n, AId a) const {
    const std::string* s = doc_.find_attr(n, a);
    return s ? trim(*s) : std::string_view();
  }

  // ---- convert.cpp
  void convert_children(NodeId parent, const State& st, scene::Group& out);
  void convert_element(NodeId n, const State& st, scene::Group& out);
  void convert_clip_path_elements(NodeId clip, const State& st, scene::Group& out);
  // Builds the group for element `n` (opacity, transform, clip-path, mask, filter, blend),
  // fills it via `collect`, and appends it (or its children, when no group is needed).
  void convert_group(NodeId n, const State& st, bool force, scene::Group& parent,
                     const std::function<void(scene::Group&, const State&)>& collect,
                     std::optional<Transform> transform_override = std::nullopt);
  void convert_use(NodeId n, const State& st, scene::Group& parent);
  void convert_svg(NodeId n, const State& st, scene::Group& parent);
  void use_children(NodeId n, const Transform& ts, const State& st, scene::Group& parent);

  // ---- shapes.cpp
  std::optional<Path> convert_shape(NodeId n, const State& st);
  void convert_path(NodeId n, Path path, const State& st, scene::Group& parent);
  std::pair<double, double> resolve_rx_ry(NodeId n, const State& st);

  // ---- style.cpp
  // `bbox` = object bounding box of the painted shape (for objectBoundingBox paint servers).
  std::optional<scene::Fill> resolve_fill(NodeId n, bool has_bbox, const Rect& bbox,
                                          const State& st);
  std::optional<scene::Stroke> resolve_stroke(NodeId n, bool has_bbox, const Rect& bbox,
                                              const State& st);
  // Returns false when the paint resolves to "none".
  bool convert_paint(NodeId n, AId aid, bool has_bbox, const Rect& bbox, const State& st,
                     scene::Paint& out, float& opacity, NodeId painted = kNoNode);
  std::optional<scene::Paint> convert_paint_server(NodeId server, const Rect& bbox,
                                                   bool has_bbox, const State& st,
                                                   bool& is_color, float& color_opacity,
                                                   bool& invalid);

  // ---- clipmask.cpp
  // nullptr with ok=false: invalid reference (element must not be rendered).
  std::shared_ptr<const scene::ClipPath> convert_clip_path(NodeId link, const State& st,
                                                           const std::optional<Rect>& bbox);
  std::shared_ptr<const scene::Mask> convert_mask(NodeId link, const State& st,
                                                  const std::optional<Rect>& bbox);

  // ---- filter.cpp
  // Returns false when the element must not be rendered (invalid filter reference).
  bool convert_filters(NodeId n, const State& st, const std::optional<Rect>& bbox,
                       std::vector<std::shared_ptr<const scene::Filter>>& out);

  // ---- image.cpp
  void convert_image(NodeId n, const State& st, scene::Group& parent);
  // Reads an image href (data: URI or a file inside resources_dir); false: nothing to draw.
  bool load_href_bytes(std::string_view href, std::vector<uint8_t>& bytes, bool& svg_doc) const;
  // feImage with a raster image href: the image placed in `subregion` (user space); nullptr
  // when there is nothing to draw (a transparent result, as resvg).
  std::shared_ptr<const scene::Group> fe_image_content(NodeId fe, const Rect& subregion);

  // ---- marker.cpp
  bool has_markers(NodeId n) const;
  void convert_markers(NodeId n, const Path& path, const State& st, scene::Group& out);

  // ---- conv_text.cpp
  void convert_text(NodeId n, const State& st, scene::Group& parent);

  const Document& doc() const { return doc_; }
  const Options& opts() const { return opts_; }

  // Recursion guard for elements referenced by url(#id) (clipPath, mask, pattern, marker,
  // filter): a reference back into an element being converted resolves to "none".
  bool is_active(NodeId n) const {
    for (NodeId a : active_) if (a == n) return true;
    return false;
  }
  struct ActiveGuard {
    Converter& c;
    ActiveGuard(Converter& conv, NodeId n) : c(conv) { c.active_.push_back(n); }
    ~ActiveGuard() { c.active_.pop_back(); }
  };

 private:
  const Document& doc_;
  const Options& opts_;
  std::vector<NodeId> active_;
  int depth_ = 0;
  friend struct DepthGuard;

 public:
  struct DepthGuard {
    Converter& c;
    explicit DepthGuard(Converter& conv) : c(conv) {
      if (++c.depth_ > 1024) throw InputError("SVG: reference nesting too deep");
    }
    ~DepthGuard() { --c.depth_; }
  };
};

}  // namespace verm::svg
