// clipPath and mask resolution (usvg clippath.rs / mask.rs equivalents).
#include "svg/convert.h"

namespace verm::svg {

std::shared_ptr<const scene::ClipPath> Converter::convert_clip_path(
    NodeId link, const State& st, const std::optional<Rect>& bbox) {
  if (doc_.tag(link) != EId::ClipPath) return nullptr;
  if (is_active(link)) return nullptr;
  DepthGuard dg(*this);
  ActiveGuard ag(*this, link);
  // An unparsable or non-invertible transform invalidates the whole clip path.
  if (const std::string* tv = doc_.attr(link, AId::Transform)) {
    Transform t;
    if (!parse_transform(*tv, t)) return nullptr;
    if (!t.is_finite() || !t.is_invertible()) return nullptr;
  }
  Transform ts = resolve_transform(link, AId::Transform, st);
  Units units = units_attr(link, AId::ClipPathUnits, Units::UserSpaceOnUse);
  auto cp = std::make_shared<scene::ClipPath>();
  if (doc_.has_attr(link, AId::ClipPath) && str_attr(link, AId::ClipPath) != "none") {
    NodeId l2 = doc_.func_iri(link, AId::ClipPath);
    if (l2 != kNoNode && !is_active(l2)) {  // a recursive link acts as "none"
      cp->clip_path = convert_clip_path(l2, st, bbox);
      if (!cp->clip_path) return nullptr;
    }
  }
  State cst = st;
  cst.parent_clip_path = link;
  cst.context.reset();
  scene::Group root;
  convert_clip_path_elements(link, cst, root);
  if (units == Units::ObjectBoundingBox) {
    if (!bbox) return nullptr;
    ts = ts * from_bbox(*bbox);
  }
  cp->transform = ts;
  cp->children = std::move(root.children);
  return cp;
}

std::shared_ptr<const scene::Mask> Converter::convert_mask(NodeId link, const State& st,
                                                           const std::optional<Rect>& bbox) {
  if (doc_.tag(link) != EId::Mask) return nullptr;
  if (is_active(link)) return nullptr;
  DepthGuard dg(*this);
  ActiveGuard ag(*this, link);
  Units units = units_attr(link, AId::MaskUnits, Units::ObjectBoundingBox);
  Units cunits = units_attr(link, AId::MaskContentUnits, Units::UserSpaceOnUse);
  Rect rect{convert_length_attr(link, AId::X, units, st, Length{-10, Unit::Percent}),
            convert_length_attr(link, AId::Y, units, st, Length{-10, Unit::Percent}),
            convert_length_attr(link, AId::Width, units, st, Length{120, Unit::Percent}),
            convert_length_attr(link, AId::Height, units, st, Length{120, Unit::Percent})};
  if (!(rect.w > 0) || !(rect.h > 0)) return nullptr;
  bool mask_all = false;
  if (units == Units::ObjectBoundingBox) {
    if (bbox) rect = {bbox->x + rect.x * bbox->w, bbox->y + rect.y * bbox->h, rect.w * bbox->w,
                      rect.h * bbox->h};
    else mask_all = true;
  }
  auto m = std::make_shared<scene::Mask>();
  m->rect = rect;
  m->type = str_attr(link, AId::MaskType) == "alpha" ? scene::MaskType::Alpha
                                                     : scene::MaskType::Luminance;
  if (doc_.has_attr(link, AId::Mask) && str_attr(link, AId::Mask) != "none") {
    NodeId l2 = doc_.func_iri(link, AId::Mask);
    if (l2 != kNoNode && !is_active(l2)) m->mask = convert_mask(l2, st, bbox);
  }
  auto content = std::make_shared<scene::Group>();
  if (mask_all) {
    // Zero-sized bbox with objectBoundingBox units: everything is masked out.
    m->content = content;
    return m;
  }
  State mst = st;
  mst.context.reset();
  scene::Group root;
  convert_children(link, mst, root);
  if (cunits == Units::ObjectBoundingBox) {
    if (!bbox) return nullptr;
    content->transform = from_bbox(*bbox);
  }
  if (root.children.empty()) return nullptr;
  content->children = std::move(root.children);
  m->content = content;
  return m;
}

}  // namespace verm::svg
