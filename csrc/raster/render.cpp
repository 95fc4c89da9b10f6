// Raster back end driver: walks the display list and paints into premultiplied float layers.
// Groups get their own layer only when they need one (opacity, blend mode, isolation, clip,
// mask, filters), bounded by their transformed content bounds intersected with the target.
#include "raster/render.h"

#include <algorithm>
#include <cmath>

#include "core/f32_transform.h"
#include "raster/composite.h"
#include "raster/coverage.h"
#include "raster/filter.h"
#include "raster/flatten.h"
#include "raster/paint.h"
#include "raster/pixmap.h"
#include "raster/stroke.h"

namespace verm::raster {
namespace {

using namespace verm::scene;

constexpr double kTolerance = 0.03;  // curve flattening tolerance in device pixels

bool finite_rect(const verm::Rect& r) {
  return std::isfinite(r.x) && std::isfinite(r.y) && std::isfinite(r.w) && std::isfinite(r.h);
}

// Integer pixel box covering `r`, expanded by `pad` pixels, clamped to sane int range.
IRect round_out(const verm::Rect& r, int pad) {
  if (r.empty() || !finite_rect(r)) return {};
  const double lim = 1 << 28;
  double l = std::clamp(std::floor(r.x) - pad, -lim, lim);
  double t = std::clamp(std::floor(r.y) - pad, -lim, lim);
  double rr = std::clamp(std::ceil(r.right()) + pad, -lim, lim);
  double b = std::clamp(std::ceil(r.bottom()) + pad, -lim, lim);
  return {static_cast<int>(l), static_cast<int>(t), static_cast<int>(rr - l),
          static_cast<int>(b - t)};
}

double stroke_pad(const Stroke& s) {
  double hw = s.width / 2;
  double k = 1.5;
  if (s.join == LineJoin::Miter || s.join == LineJoin::MiterClip) k = std::max(k, s.miter_limit);
  return hw * k;
}

// resvg builds a remapped context pattern's shader transform in f32 (tiny-skia's Transform:
// concat through f64 products, invert through an f64 determinant) and samples the tile
// unfiltered only when the inverse of that transform is exactly a translation. A remap that
// cancels out in exact arithmetic usually leaves f32 residue, which switches the bicubic filter
// on; this replays that arithmetic so the same choice is made here.
// `ts` maps the painted element's user space to device pixels.
bool f32_pattern_is_translate(const Pattern& p, const Transform& ts) {
  // usvg: rev = (A^-1 C)^-1 with A, C the context's and the painted element's abs transforms.
  F32Ts c = F32Ts::from(p.abs_ts);
  auto a_inv = f32_invert(F32Ts::from(p.context_abs_ts));
  if (!a_inv) return false;
  auto rev = f32_invert(f32_concat(*a_inv, c));
  if (!rev) return false;
  F32Ts pat = f32_concat(*rev, F32Ts::from(p.base_transform));
  // resvg's device transform is accumulated in f32 too: root (document -> device) . C.
  if (!p.abs_ts.is_invertible()) return false;
  F32Ts dev = f32_concat(F32Ts::from(ts * p.abs_ts.inverted()), c);
  F32Ts full = f32_concat(dev, pat);
  float sx = static_cast<float>(std::sqrt(static_cast<double>(full.sx) * full.sx +
                                          static_cast<double>(full.kx) * full.kx));
  float sy = static_cast<float>(std::sqrt(static_cast<double>(full.ky) * full.ky +
                                          static_cast<double>(full.sy) * full.sy));
  if (!(sx > 0) || !(sy > 0)) return false;
  F32Ts rect_ts{1, 0, 0, 1, static_cast<float>(p.rect.x), static_cast<float>(p.rect.y)};
  F32Ts shader = f32_concat(f32_concat(pat, rect_ts), F32Ts{1.f / sx, 0, 0, 1.f / sy, 0, 0});
  auto inv = f32_invert(f32_concat(dev, shader));
  return inv && inv->translate_only();
}

class Renderer {
 public:
  Renderer(const Scene& sc, const Limits& limits)
      : sc_(sc),
        limits_(limits),
        max_px_(std::max<size_t>(limits.max_pixels, 1)),
        // Canvas plus a few full-size layers, plus room for filter regions and pattern tiles.
        budget_(3 * static_cast<size_t>(sc.width) * static_cast<size_t>(sc.height) + (8u << 20)) {}

  void run(uint8_t* out) {
    Layer canvas(sc_.width, sc_.height, max_px_, &budget_);
    draw_group(sc_.root, Transform{}, canvas, 0, 0);
    to_rgba8(canvas, out);
  }

 private:
  struct DepthGuard {
    int& d;
    DepthGuard(int& d_, int max) : d(d_) {
      if (++d > max) throw InputError("raster: display list nested too deeply");
    }
    ~DepthGuard() { --d; }
  };

  // ---- bounds ------------------------------------------------------------------------
  verm::Rect node_bounds(const Node& n, const Transform& ts) {
    if (auto* g = std::get_if<Group>(&n.value)) return group_bounds(*g, ts);
    if (auto* p = std::get_if<PathNode>(&n.value)) {
      verm::Rect b = p->path.control_bounds();
      if (b.w < 0 || b.h < 0 || (!p->fill && !p->stroke)) return {};
      if (p->stroke) {
        double pad = stroke_pad(*p->stroke);
        b = verm::Rect::from_ltrb(b.x - pad, b.y - pad, b.right() + pad, b.bottom() + pad);
      }
      // Zero-area paths (lines) keep a 1-unit box so that from_ltrb stays non-empty.
      if (b.w <= 0) b.w = 1e-6;
      if (b.h <= 0) b.h = 1e-6;
      return ts.map_rect(b);
    }
    if (auto* im = std::get_if<ImageNode>(&n.value)) {
      verm::Rect v = im->view;
      if (im->clip) v = v.intersect(*im->clip);
      return v.empty() ? verm::Rect{} : ts.map_rect(v);
    }
    return {};
  }

  verm::Rect group_bounds(const Group& g, const Transform& ts) {
    Transform inner = ts * g.transform;
    if (!g.filters.empty()) {
      verm::Rect r;
      for (const auto& f : g.filters)
        if (f) r = r.unite(inner.map_rect(f->region));
      return r;
    }
    verm::Rect r;
    for (const auto& c : g.children)
      if (c) r = r.unite(node_bounds(*c, inner));
    if (g.mask && g.mask->mask == nullptr) r = r.intersect(inner.map_rect(g.mask->rect));
    return r;
  }

  // ---- tree --------------------------------------------------------------------------
  void draw_node(const Node& n, const Transform& ts, Layer& dst, int ox, int oy) {
    if (auto* g = std::get_if<Group>(&n.value)) {
      draw_group(*g, ts, dst, ox, oy);
    } else if (auto* p = std::get_if<PathNode>(&n.value)) {
      draw_path(*p, ts, dst);
    } else if (auto* im = std::get_if<ImageNode>(&n.value)) {
      draw_image(*im, ts, dst);
    }
  }

  // `ts` maps the group's parent space to `dst` pixels; (ox, oy) is dst's origin on the canvas.
  void draw_group(const Group& g, const Transform& ts, Layer& dst, int ox, int oy) {
    DepthGuard guard(depth_, std::max(limits_.max_depth, 16) * 4);
    if (!(g.opacity > 0)) return;
    Transform inner = ts * g.transform;
    if (!inner.is_finite()) return;
    if (!g.needs_layer()) {
      for (const auto& c : g.children)
        if (c) draw_node(*c, inner, dst, ox, oy);
      return;
    }
    IRect ib;
    if (!g.filters.empty()) {
      // The filter region is the layer; it may reach beyond the canvas (offsets and blurs
      // pull content in from there), up to a bounded margin as resvg does.
      verm::Rect r = group_bounds(g, ts);
      ib = to_int_rect(r.x, r.y, r.w, r.h);
      IRect max_box{-2 * sc_.width - ox, -2 * sc_.height - oy, 5 * sc_.width, 5 * sc_.height};
      ib = ib.intersect(max_box);
    } else {
      if (g.children.empty()) return;
      ib = round_out(group_bounds(g, ts), 2).intersect({0, 0, dst.w, dst.h});
    }
    if (ib.empty()) return;
    Layer sub(ib.w, ib.h, max_px_, &budget_);
    Transform shifted = Transform::translate(-ib.x, -ib.y) * inner;
    for (const auto& c : g.children)
      if (c) draw_node(*c, shifted, sub, ox + ib.x, oy + ib.y);
    for (const auto& f : g.filters)
      if (f) apply_filter(*f, shifted, sub);
    if (g.clip_path) apply_clip(*g.clip_path, shifted, sub);
    if (g.mask) apply_mask_node(*g.mask, shifted, sub, ox + ib.x, oy + ib.y);
    draw_layer(dst, sub, ib.x, ib.y, g.opacity, g.blend);
  }

  // ---- shapes ------------------------------------------------------------------------
  IRect poly_box(const std::vector<Contour>& cs, const Layer& dst) {
    double l = INFINITY, t = INFINITY, r = -INFINITY, b = -INFINITY;
    for (const auto& c : cs)
      for (const auto& p : c.pts) {
        l = std::min(l, p.x); t = std::min(t, p.y);
        r = std::max(r, p.x); b = std::max(b, p.y);
      }
    if (!(l <= r) || !(t <= b)) return {};
    return round_out(verm::Rect::from_ltrb(l, t, r + 1e-9, b + 1e-9), 1)
        .intersect({0, 0, dst.w, dst.h});
  }

  IRect poly_box(const std::vector<std::vector<Point>>& ps, const Layer& dst) {
    double l = INFINITY, t = INFINITY, r = -INFINITY, b = -INFINITY;
    for (const auto& c : ps)
      for (const auto& p : c) {
        l = std::min(l, p.x); t = std::min(t, p.y);
        r = std::max(r, p.x); b = std::max(b, p.y);
      }
    if (!(l <= r) || !(t <= b)) return {};
    return round_out(verm::Rect::from_ltrb(l, t, r + 1e-9, b + 1e-9), 1)
        .intersect({0, 0, dst.w, dst.h});
  }

  // Rasterizes device-space contours (implicitly closed) into rast_. Returns false if empty.
  bool raster_contours(const std::vector<Contour>& cs, IRect box, bool aa = true) {
    if (box.empty()) return false;
    rast_.reset(box, aa);
    for (const auto& c : cs)
      if (c.pts.size() >= 2) rast_.polygon(c.pts.data(), c.pts.size());
    return rast_.touched();
  }

  void fill_path(const Path& path, const Fill& f, const Transform& ts, Layer& dst) {
    if (!(f.opacity > 0)) return;
    auto cs = flatten(path, ts, kTolerance, limits_.max_path_segments * 8 + 1024);
    IRect box = poly_box(cs, dst);
    if (box.empty()) return;
    // The shader first: a pattern renders its tile with the shared rasterizer.
    Shader sh = make_shader(f.paint, f.opacity, ts);
    if (sh.is_none()) return;
    if (!raster_contours(cs, box, f.anti_alias)) return;
    rast_.sweep(f.rule, f.anti_alias, [&](int y, int x, int len, const float* cov) {
      paint_span(dst, y, x, len, cov, sh, scratch_);
    });
  }

  // Stroke outline polygons in device space; empty when nothing is drawn.
  // Strokes thinner than a device pixel are drawn as tiny-skia does: one pixel wide with
  // their width as coverage. Returns that coverage, or 0 for a regular stroke.
  static double hairline_coverage(const Stroke& s, const Transform& ts) {
    if (!s.anti_alias) return 0;
    auto fast_len = [](Point p) {
      double x = std::fabs(p.x), y = std::fabs(p.y);
      if (x < y) std::swap(x, y);
      return x + y / 2;
    };
    double l0 = fast_len(ts.apply_vector({s.width, 0})), l1 = fast_len(ts.apply_vector({0, s.width}));
    if (l0 <= 1 && l1 <= 1) return (l0 + l1) / 2;
    return 0;
  }

  std::vector<std::vector<Point>> stroke_polys(const Path& path, const Stroke& s,
                                               const Transform& ts, double hairline_cov = 0) {
    std::vector<std::vector<Point>> polys;
    if (!(s.width > 0) || !std::isfinite(s.width)) return polys;
    double scale = std::max(ts.scale_x(), ts.scale_y());
    if (!(scale > 0) || !std::isfinite(scale)) return polys;
    double tol = kTolerance / scale;
    // tiny-skia dashes with ContourMeasure at tolerance 0.5 / res_scale.
    double measure_tol = s.dasharray.empty() ? 0.0 : 0.5 / scale;
    auto cs = flatten(path, Transform{}, tol, limits_.max_path_segments * 8 + 1024, measure_tol);
    if (!s.dasharray.empty()) cs = dash(cs, s.dasharray, s.dash_offset);
    StrokeStyle st{s.width, s.cap, s.join, s.miter_limit};
    if (hairline_cov > 0) st.width = s.width / hairline_cov;  // one device pixel wide
    stroke_contours(cs, st, tol, polys);
    for (auto& poly : polys)
      for (auto& p : poly) p = ts.apply(p);
    return polys;
  }

  void stroke_path(const Path& path, const Stroke& s, const Transform& ts, Layer& dst) {
    if (!(s.opacity > 0)) return;
    double hair = hairline_coverage(s, ts);
    if (hair > 0 && hair < 1e-4) return;
    auto polys = stroke_polys(path, s, ts, hair);
    IRect box = poly_box(polys, dst);
    if (box.empty()) return;
    Shader sh = make_shader(s.paint, static_cast<float>(s.opacity * (hair > 0 ? hair : 1.0)), ts);
    if (sh.is_none()) return;
    rast_.reset(box, s.anti_alias);
    for (const auto& poly : polys)
      if (poly.size() >= 2) rast_.polygon(poly.data(), poly.size());
    if (!rast_.touched()) return;
    rast_.sweep(FillRule::NonZero, s.anti_alias, [&](int y, int x, int len, const float* cov) {
      paint_span(dst, y, x, len, cov, sh, scratch_);
    });
  }

  void draw_path(const PathNode& p, const Transform& ts, Layer& dst) {
    if (p.path.empty()) return;
    if (p.stroke_first) {
      if (p.stroke) stroke_path(p.path, *p.stroke, ts, dst);
      if (p.fill) fill_path(p.path, *p.fill, ts, dst);
    } else {
      if (p.fill) fill_path(p.path, *p.fill, ts, dst);
      if (p.stroke) stroke_path(p.path, *p.stroke, ts, dst);
    }
  }

  void draw_image(const ImageNode& im, const Transform& ts, Layer& dst) {
    if (im.width <= 0 || im.height <= 0 || !im.rgba) return;
    if (im.rgba->size() < static_cast<size_t>(im.width) * im.height * 4)
      throw InputError("raster: image buffer smaller than its size");
    verm::Rect area = im.view;
    if (im.clip) area = area.intersect(*im.clip);
    if (area.empty() || im.view.empty() || !finite_rect(area)) return;
    Path rect;
    rect.move_to(area.x, area.y);
    rect.line_to(area.right(), area.y);
    rect.line_to(area.right(), area.bottom());
    rect.line_to(area.x, area.bottom());
    rect.close();
    auto cs = flatten(rect, ts, kTolerance);
    IRect box = poly_box(cs, dst);
    if (box.empty()) return;
    auto img = layer_from_rgba8(im.rgba->data(), im.width, im.height, max_px_);
    Transform img_to_user = Transform::translate(im.view.x, im.view.y) *
                            Transform::scale(im.view.w / im.width, im.view.h / im.height);
    Shader sh = Shader::image(img, ts * img_to_user,
                              im.smooth ? Filter::Bicubic : Filter::Nearest, false, 1.f);
    if (sh.is_none()) return;
    if (!raster_contours(cs, box)) return;
    rast_.sweep(FillRule::NonZero, true, [&](int y, int x, int len, const float* cov) {
      paint_span(dst, y, x, len, cov, sh, scratch_);
    });
  }

  // ---- paint -------------------------------------------------------------------------
  Shader make_shader(const Paint& paint, float opacity, const Transform& ts) {
    if (auto* c = std::get_if<Color>(&paint)) return Shader::solid(*c, opacity);
    if (auto* lg = std::get_if<LinearGradient>(&paint)) return Shader::linear(*lg, ts, opacity);
    if (auto* rg = std::get_if<RadialGradient>(&paint)) return Shader::radial(*rg, ts, opacity);
    if (auto* pat = std::get_if<Pattern>(&paint)) return pattern_shader(*pat, opacity, ts);
    return Shader{};
  }

  Shader pattern_shader(const Pattern& p, float opacity, const Transform& ts) {
    DepthGuard guard(depth_, std::max(limits_.max_depth, 16) * 4);
    if (!p.content || p.rect.empty() || !finite_rect(p.rect)) return Shader{};
    Transform full = ts * p.transform;
    if (!full.is_invertible() || !full.is_finite()) return Shader{};
    // tiny-skia's Transform::get_scale (row norms), which resvg uses to size the tile.
    double sx = std::hypot(full.a, full.c), sy = std::hypot(full.b, full.d);
    double tw = std::round(p.rect.w * sx), th = std::round(p.rect.h * sy);
    if (!(tw >= 1) || !(th >= 1)) return Shader{};
    if (tw * th > static_cast<double>(max_px_))
      throw InputError("raster: pattern tile exceeds the pixel limit");
    auto tile =
        std::make_shared<Layer>(static_cast<int>(tw), static_cast<int>(th), max_px_, &budget_);
    Transform tile_ts = Transform::scale(sx, sy) * Transform::translate(-p.rect.x, -p.rect.y);
    draw_group(*p.content, tile_ts, *tile, 0, 0);
    Transform tile_to_target =
        full * Transform::translate(p.rect.x, p.rect.y) * Transform::scale(1 / sx, 1 / sy);
    bool always_filter = p.remapped && !f32_pattern_is_translate(p, ts);
    return Shader::image(tile, tile_to_target, Filter::Bicubic, true, opacity, always_filter);
  }

  // ---- clipping and masking ----------------------------------------------------------
  // Union of the coverage of `path` (filled with `rule`) into `m`.
  void union_path(MaskBuf& m, const Path& path, FillRule rule, bool aa, const Transform& ts) {
    auto cs = flatten(path, ts, kTolerance, limits_.max_path_segments * 8 + 1024);
    double l = INFINITY, t = INFINITY, r = -INFINITY, b = -INFINITY;
    for (const auto& c : cs)
      for (const auto& p : c.pts) {
        l = std::min(l, p.x); t = std::min(t, p.y);
        r = std::max(r, p.x); b = std::max(b, p.y);
      }
    if (!(l <= r) || !(t <= b)) return;
    IRect box =
        round_out(verm::Rect::from_ltrb(l, t, r + 1e-9, b + 1e-9), 1).intersect({0, 0, m.w, m.h});
    if (!raster_contours(cs, box, aa)) return;
    rast_.sweep(rule, aa, [&](int y, int x, int len, const float* cov) {
      float* row = m.row(y) + x;
      for (int i = 0; i < len; ++i) row[i] = row[i] + cov[i] * (1 - row[i]);
    });
  }

  // Coverage of a clip path's children (resvg semantics: union of fills; a child group with
  // its own clip-path is clipped separately and then xor-ed in).
  void clip_children(const std::vector<std::shared_ptr<const Node>>& children, MaskBuf& m,
                     const Transform& ts) {
    DepthGuard guard(depth_, std::max(limits_.max_depth, 16) * 4);
    for (const auto& c : children) {
      if (!c) continue;
      if (auto* p = std::get_if<PathNode>(&c->value)) {
        if (!p->fill || p->path.empty()) continue;
        union_path(m, p->path, p->fill->rule, p->fill->anti_alias, ts);
      } else if (auto* g = std::get_if<Group>(&c->value)) {
        Transform inner = ts * g->transform;
        if (!inner.is_finite()) continue;
        if (g->clip_path) {
          MaskBuf gm(m.w, m.h, 0.f, max_px_);
          clip_children(g->children, gm, inner);
          MaskBuf cm = clip_coverage(*g->clip_path, inner, m.w, m.h);
          for (size_t i = 0; i < m.a.size(); ++i) {
            float gv = gm.a[i] * cm.a[i], mv = m.a[i];
            m.a[i] = mv + gv - 2 * mv * gv;
          }
        } else {
          clip_children(g->children, m, inner);
        }
      }
    }
  }

  MaskBuf clip_coverage(const ClipPath& cp, const Transform& ts, int w, int h) {
    DepthGuard guard(depth_, std::max(limits_.max_depth, 16) * 4);
    MaskBuf m(w, h, 0.f, max_px_);
    Transform t = ts * cp.transform;
    if (t.is_finite()) clip_children(cp.children, m, t);
    if (cp.clip_path) {
      MaskBuf inner = clip_coverage(*cp.clip_path, ts, w, h);
      for (size_t i = 0; i < m.a.size(); ++i) m.a[i] *= inner.a[i];
    }
    return m;
  }

  void apply_clip(const ClipPath& cp, const Transform& ts, Layer& content) {
    MaskBuf m = clip_coverage(cp, ts, content.w, content.h);
    apply_mask(content, m);
  }

  void apply_mask_node(const Mask& mk, const Transform& ts, Layer& content, int ox, int oy) {
    DepthGuard guard(depth_, std::max(limits_.max_depth, 16) * 4);
    Layer ml(content.w, content.h, max_px_, &budget_);
    if (mk.content) draw_group(*mk.content, ts, ml, ox, oy);
    if (!mk.rect.empty() && finite_rect(mk.rect)) {
      Path r;
      r.move_to(mk.rect.x, mk.rect.y);
      r.line_to(mk.rect.right(), mk.rect.y);
      r.line_to(mk.rect.right(), mk.rect.bottom());
      r.line_to(mk.rect.x, mk.rect.bottom());
      r.close();
      MaskBuf rc(content.w, content.h, 0.f, max_px_);
      union_path(rc, r, FillRule::NonZero, true, ts);
      apply_mask(ml, rc);
    } else {
      std::fill(ml.px.begin(), ml.px.end(), 0.f);
    }
    if (mk.mask) apply_mask_node(*mk.mask, ts, content, ox, oy);
    MaskBuf mv = layer_to_mask(ml, mk.type, max_px_);
    apply_mask(content, mv);
  }

  // ---- filters -----------------------------------------------------------------------
  void apply_filter(const scene::Filter& f, const Transform& ts, Layer& layer) {
    FilterContext ctx;
    ctx.max_pixels = max_px_;
    ctx.budget = &budget_;
    ctx.render_image = [this](const Group& g, const Transform& t, Layer& dst) {
      draw_group(g, t, dst, 0, 0);
    };
    apply_filter_chain(f, ts, layer, ctx);
  }

  const Scene& sc_;
  const Limits& limits_;
  size_t max_px_ = 0;
  PixelBudget budget_;
  int depth_ = 0;
  CoverageRaster rast_;
  std::vector<float> scratch_;
};

}  // namespace

void render(const scene::Scene& scene, uint8_t* out, const Limits& limits) {
  if (scene.width <= 0 || scene.height <= 0) throw InputError("raster: empty canvas");
  size_t px = static_cast<size_t>(scene.width) * static_cast<size_t>(scene.height);
  if (px > limits.max_pixels) throw InputError("raster: canvas exceeds max_pixels");
  Renderer r(scene, limits);
  r.run(out);
}

}  // namespace verm::raster
