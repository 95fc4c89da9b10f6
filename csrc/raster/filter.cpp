#include "raster/filter.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "raster/composite.h"

namespace verm::raster {
namespace {

using namespace verm::scene;

IRect to_int_rect(const verm::Rect& r) { return raster::to_int_rect(r.x, r.y, r.w, r.h); }

struct Img {
  std::shared_ptr<Layer> px;
  IRect sub;  // region-local area holding data
  ColorSpace cs = ColorSpace::SRGB;
};

inline float srgb_to_linear(float c) {
  return c <= 0.04045f ? c / 12.92f : std::pow((c + 0.055f) / 1.055f, 2.4f);
}
inline float linear_to_srgb(float c) {
  return c <= 0.0031308f ? c * 12.92f : 1.055f * std::pow(c, 1.f / 2.4f) - 0.055f;
}

void convert(Layer& l, ColorSpace to) {
  size_t n = static_cast<size_t>(l.w) * l.h;
  float* p = l.px.data();
  for (size_t i = 0; i < n; ++i, p += 4) {
    float a = p[3];
    if (a <= 0) continue;
    for (int k = 0; k < 3; ++k) {
      float c = std::clamp(p[k] / a, 0.f, 1.f);
      c = to == ColorSpace::LinearRGB ? srgb_to_linear(c) : linear_to_srgb(c);
      p[k] = c * a;
    }
  }
}

Img in_space(const Img& im, ColorSpace cs) {
  if (im.cs == cs) return im;
  Img out{std::make_shared<Layer>(*im.px), im.sub, cs};
  convert(*out.px, cs);
  return out;
}

// Writable copy (results may be shared between names).
std::shared_ptr<Layer> take(const Img& im) { return std::make_shared<Layer>(*im.px); }

std::pair<double, double> get_scale(const Transform& ts) {
  return {std::hypot(ts.a, ts.c), std::hypot(ts.b, ts.d)};  // tiny-skia get_scale
}

// ---- blur --------------------------------------------------------------------------------
void box_sizes(float sigma, int* sizes) {
  const int n = 5;
  if (!(sigma > 0)) {
    for (int i = 0; i < n; ++i) sizes[i] = 1;
    return;
  }
  float w_ideal = std::sqrt(12.f * sigma * sigma / n) + 1.f;
  int wl = static_cast<int>(std::floor(w_ideal));
  if (wl % 2 == 0) wl -= 1;
  int wu = wl + 2;
  float wlf = static_cast<float>(wl);
  float m_ideal = (12.f * sigma * sigma - n * wlf * wlf - 4.f * n * wlf - 3.f * n) / (-4.f * wlf - 4.f);
  int m = static_cast<int>(std::lround(m_ideal));
  for (int i = 0; i < n; ++i) sizes[i] = i < m ? wl : wu;
}

// One box pass along a line of `n` pixels with stride `st` (floats), transparent outside.
void box_line(const float* src, float* dst, int n, size_t st, int r) {
  r = std::min(r, n + 1);
  if (r <= 0) {
    for (int i = 0; i < n; ++i)
      for (int k = 0; k < 4; ++k) dst[i * st + k] = src[i * st + k];
    return;
  }
  const float inv = 1.f / (2 * r + 1);
  double acc[4] = {0, 0, 0, 0};
  for (int i = 0; i < std::min(r, n); ++i)
    for (int k = 0; k < 4; ++k) acc[k] += src[i * st + k];
  for (int i = 0; i < n; ++i) {
    int add = i + r, rem = i - r - 1;
    if (add < n)
      for (int k = 0; k < 4; ++k) acc[k] += src[add * st + k];
    if (rem >= 0)
      for (int k = 0; k < 4; ++k) acc[k] -= src[rem * st + k];
    for (int k = 0; k < 4; ++k) dst[i * st + k] = static_cast<float>(std::max(0.0, acc[k]) * inv);
  }
}

void gauss_line(const float* src, float* dst, int n, size_t st, const std::vector<float>& kern) {
  int r = static_cast<int>(kern.size()) / 2;
  for (int i = 0; i < n; ++i) {
    float acc[4] = {0, 0, 0, 0};
    int j0 = std::max(0, i - r), j1 = std::min(n - 1, i + r);
    for (int j = j0; j <= j1; ++j) {
      float w = kern[j - i + r];
      for (int k = 0; k < 4; ++k) acc[k] += src[j * st + k] * w;
    }
    for (int k = 0; k < 4; ++k) dst[i * st + k] = acc[k];
  }
}

std::vector<float> gauss_kernel(double sigma) {
  int r = std::max(1, static_cast<int>(std::ceil(sigma * 3)));
  std::vector<float> k(2 * r + 1);
  double sum = 0;
  for (int i = -r; i <= r; ++i) {
    double v = std::exp(-(i * i) / (2 * sigma * sigma));
    k[i + r] = static_cast<float>(v);
    sum += v;
  }
  for (auto& v : k) v = static_cast<float>(v / sum);
  return k;
}

}  // namespace

void gaussian_blur(Layer& img, double sx, double sy) {
  if (img.empty()) return;
  if (!(sx >= 0.05)) sx = 0;  // also NaN
  if (!(sy >= 0.05)) sy = 0;
  // Beyond the image size a larger sigma changes nothing; keep the box arithmetic in range.
  const double cap = 4.0 * (std::max(img.w, img.h) + 8);
  sx = std::min(sx, cap);
  sy = std::min(sy, cap);
  if (sx <= 0 && sy <= 0) return;
  const int w = img.w, h = img.h;
  std::vector<float> tmp(img.px.size());
  const size_t row = static_cast<size_t>(w) * 4;
  if (sx >= 2 || sy >= 2) {
    int bh[5], bv[5];
    box_sizes(static_cast<float>(sx), bh);
    box_sizes(static_cast<float>(sy), bv);
    for (int s = 0; s < 5; ++s) {
      int rv = (bv[s] - 1) / 2, rh = (bh[s] - 1) / 2;
      for (int x = 0; x < w; ++x) box_line(img.px.data() + x * 4, tmp.data() + x * 4, h, row, rv);
      for (int y = 0; y < h; ++y) box_line(tmp.data() + y * row, img.px.data() + y * row, w, 4, rh);
    }
    return;
  }
  if (sy > 0) {
    auto k = gauss_kernel(sy);
    for (int x = 0; x < w; ++x) gauss_line(img.px.data() + x * 4, tmp.data() + x * 4, h, row, k);
  } else {
    tmp = img.px;
  }
  if (sx > 0) {
    auto k = gauss_kernel(sx);
    for (int y = 0; y < h; ++y) gauss_line(tmp.data() + y * row, img.px.data() + y * row, w, 4, k);
  } else {
    img.px = tmp;
  }
}

namespace {

class Runner {
 public:
  Runner(const scene::Filter& f, const Transform& ts, Layer& layer, const FilterContext& ctx)
      : f_(f), ts_(ts), layer_(layer), ctx_(ctx) {}

  void run() {
    region_ = to_int_rect(ts_.map_rect(f_.region)).intersect({0, 0, layer_.w, layer_.h});
    if (region_.empty() || f_.primitives.empty()) {
      std::fill(layer_.px.begin(), layer_.px.end(), 0.f);
      return;
    }
    source_ = std::make_shared<Layer>(region_.w, region_.h, ctx_.max_pixels, ctx_.budget);
    for (int y = 0; y < region_.h; ++y)
      std::copy_n(layer_.at(region_.x, region_.y + y), region_.w * 4, source_->row(y));
    for (const auto& prim : f_.primitives) {
      IRect sub = to_int_rect(ts_.map_rect(prim.subregion));
      sub = {sub.x - region_.x, sub.y - region_.y, sub.w, sub.h};
      if (auto* off = std::get_if<FeOffset>(&prim.kind)) {
        if (off->in.kind == FilterInput::Kind::Reference)
          if (const Img* r = find(off->in.name)) sub = r->sub;
      }
      Img res = primitive(prim, sub);
      IRect full{0, 0, region_.w, region_.h};
      bool is_offset = std::holds_alternative<FeOffset>(prim.kind);
      if (!is_offset && (sub.x != 0 || sub.y != 0 || sub.w != full.w || sub.h != full.h)) {
        auto px = res.px.use_count() > 1 ? take(res) : res.px;
        clear_outside(*px, sub);
        res.px = px;
      }
      res.sub = sub;
      results_.push_back({prim.result, res});
    }
    Img last = in_space(results_.back().second, ColorSpace::SRGB);
    std::fill(layer_.px.begin(), layer_.px.end(), 0.f);
    for (int y = 0; y < region_.h; ++y)
      std::copy_n(last.px->row(y), region_.w * 4, layer_.at(region_.x, region_.y + y));
  }

 private:
  const Img* find(const std::string& name) const {
    for (auto it = results_.rbegin(); it != results_.rend(); ++it)
      if (it->first == name) return &it->second;
    return nullptr;
  }

  Img input(const FilterInput& in) {
    IRect full{0, 0, region_.w, region_.h};
    switch (in.kind) {
      case FilterInput::Kind::SourceGraphic:
        return {source_, full, ColorSpace::SRGB};
      case FilterInput::Kind::SourceAlpha: {
        auto l = std::make_shared<Layer>(*source_);
        for (size_t i = 0; i < l->px.size(); i += 4) l->px[i] = l->px[i + 1] = l->px[i + 2] = 0;
        return {l, full, ColorSpace::SRGB};
      }
      case FilterInput::Kind::Reference:
        if (const Img* r = find(in.name)) return *r;
        return {source_, full, ColorSpace::SRGB};
    }
    return {source_, full, ColorSpace::SRGB};
  }

  std::shared_ptr<Layer> blank() {
    return std::make_shared<Layer>(region_.w, region_.h, ctx_.max_pixels, ctx_.budget);
  }

  static void clear_outside(Layer& l, IRect sub) {
    for (int y = 0; y < l.h; ++y) {
      float* r = l.row(y);
      if (y < sub.y || y >= sub.bottom()) {
        std::fill(r, r + l.w * 4, 0.f);
        continue;
      }
      int x0 = std::clamp(sub.x, 0, l.w), x1 = std::clamp(sub.right(), 0, l.w);
      std::fill(r, r + x0 * 4, 0.f);
      std::fill(r + x1 * 4, r + l.w * 4, 0.f);
    }
  }

  static void draw_over(Layer& dst, const Layer& src, int dx, int dy) {
    draw_layer(dst, src, dx, dy, 1.f, BlendMode::Normal);
  }

  Img primitive(const FilterPrimitive& prim, IRect sub) {
    const ColorSpace cs = prim.color_space;
    auto [sx, sy] = get_scale(ts_);
    if (auto* fe = std::get_if<FeGaussianBlur>(&prim.kind)) {
      Img in = input(fe->in);
      double dx = fe->std_dev_x * sx, dy = fe->std_dev_y * sy;
      if (!(dx > 0) && !(dy > 0)) return in;
      Img out{take(in_space(in, cs)), in.sub, cs};
      gaussian_blur(*out.px, std::max(0.0, dx), std::max(0.0, dy));
      return out;
    }
    if (auto* fe = std::get_if<FeOffset>(&prim.kind)) {
      Img in = input(fe->in);
      double dx = fe->dx * sx, dy = fe->dy * sy;
      if (!std::isfinite(dx) || !std::isfinite(dy)) return in;
      if (std::fabs(dx) < 1e-6 && std::fabs(dy) < 1e-6) return in;
      auto px = blank();
      draw_over(*px, *in.px, static_cast<int>(std::clamp(dx, -1e8, 1e8)),
                static_cast<int>(std::clamp(dy, -1e8, 1e8)));
      return {px, in.sub, in.cs};
    }
    if (auto* fe = std::get_if<FeFlood>(&prim.kind)) {
      auto px = blank();
      float a = std::clamp(fe->color.a, 0.f, 1.f);
      float c[4] = {std::clamp(fe->color.r, 0.f, 1.f) * a, std::clamp(fe->color.g, 0.f, 1.f) * a,
                    std::clamp(fe->color.b, 0.f, 1.f) * a, a};
      for (size_t i = 0; i < px->px.size(); i += 4)
        for (int k = 0; k < 4; ++k) px->px[i + k] = c[k];
      return {px, {0, 0, region_.w, region_.h}, ColorSpace::SRGB};
    }
    if (auto* fe = std::get_if<FeColorMatrix>(&prim.kind)) {
      Img in = in_space(input(fe->in), cs);
      auto px = take(in);
      if (fe->matrix.size() != 20) throw Unsupported("raster:feColorMatrix-size");
      const double* m = fe->matrix.data();
      for (size_t i = 0; i < px->px.size(); i += 4) {
        float* p = &px->px[i];
        float a = p[3];
        float c[4] = {a > 0 ? p[0] / a : 0, a > 0 ? p[1] / a : 0, a > 0 ? p[2] / a : 0, a};
        float o[4];
        for (int r = 0; r < 4; ++r) {
          double v = m[r * 5] * c[0] + m[r * 5 + 1] * c[1] + m[r * 5 + 2] * c[2] +
                     m[r * 5 + 3] * c[3] + m[r * 5 + 4];
          o[r] = std::clamp(static_cast<float>(v), 0.f, 1.f);
        }
        p[0] = o[0] * o[3]; p[1] = o[1] * o[3]; p[2] = o[2] * o[3]; p[3] = o[3];
      }
      return {px, in.sub, cs};
    }
    if (auto* fe = std::get_if<FeComponentTransfer>(&prim.kind)) {
      Img in = in_space(input(fe->in), cs);
      auto px = take(in);
      for (size_t i = 0; i < px->px.size(); i += 4) {
        float* p = &px->px[i];
        float a = p[3];
        float c[4] = {a > 0 ? p[0] / a : 0, a > 0 ? p[1] / a : 0, a > 0 ? p[2] / a : 0, a};
        for (int k = 0; k < 4; ++k) c[k] = transfer(fe->funcs[k], c[k]);
        p[0] = c[0] * c[3]; p[1] = c[1] * c[3]; p[2] = c[2] * c[3]; p[3] = c[3];
      }
      return {px, in.sub, cs};
    }
    if (auto* fe = std::get_if<FeComposite>(&prim.kind)) {
      Img i1 = in_space(input(fe->in1), cs), i2 = in_space(input(fe->in2), cs);
      auto px = blank();
      const float* s = i1.px->px.data();
      const float* d = i2.px->px.data();
      float* o = px->px.data();
      size_t n = px->px.size();
      using Op = FeComposite::Op;
      for (size_t i = 0; i < n; i += 4) {
        float sa = s[i + 3], da = d[i + 3];
        switch (fe->op) {
          case Op::Over:
            for (int k = 0; k < 4; ++k) o[i + k] = s[i + k] + d[i + k] * (1 - sa);
            break;
          case Op::In:
            for (int k = 0; k < 4; ++k) o[i + k] = s[i + k] * da;
            break;
          case Op::Out:
            for (int k = 0; k < 4; ++k) o[i + k] = s[i + k] * (1 - da);
            break;
          case Op::Atop:
            for (int k = 0; k < 4; ++k) o[i + k] = s[i + k] * da + d[i + k] * (1 - sa);
            break;
          case Op::Xor:
            for (int k = 0; k < 4; ++k) o[i + k] = s[i + k] * (1 - da) + d[i + k] * (1 - sa);
            break;
          case Op::Arithmetic: {
            auto calc = [&](float a, float b, float mx) {
              double v = fe->k1 * a * b + fe->k2 * a + fe->k3 * b + fe->k4;
              if (!std::isfinite(v)) v = 0;
              return std::clamp(static_cast<float>(v), 0.f, mx);
            };
            float a = calc(sa, da, 1.f);
            if (a <= 1e-6f) break;
            for (int k = 0; k < 3; ++k) o[i + k] = calc(s[i + k], d[i + k], a);
            o[i + 3] = a;
            break;
          }
        }
      }
      return {px, {0, 0, region_.w, region_.h}, cs};
    }
    if (auto* fe = std::get_if<FeMerge>(&prim.kind)) {
      auto px = blank();
      for (const auto& in : fe->inputs) {
        Img im = in_space(input(in), cs);
        draw_over(*px, *im.px, 0, 0);
      }
      return {px, {0, 0, region_.w, region_.h}, cs};
    }
    if (auto* fe = std::get_if<FeBlend>(&prim.kind)) {
      Img i1 = in_space(input(fe->in1), cs), i2 = in_space(input(fe->in2), cs);
      auto px = blank();
      draw_over(*px, *i2.px, 0, 0);
      draw_layer(*px, *i1.px, 0, 0, 1.f, fe->mode);
      return {px, {0, 0, region_.w, region_.h}, cs};
    }
    if (auto* fe = std::get_if<FeDropShadow>(&prim.kind)) {
      Img in = in_space(input(fe->in), cs);
      double dx = fe->dx * sx, dy = fe->dy * sy;
      if (!std::isfinite(dx) || !std::isfinite(dy)) return in;
      auto shadow = take(in);
      gaussian_blur(*shadow, std::max(0.0, fe->std_dev_x * sx), std::max(0.0, fe->std_dev_y * sy));
      float ca = std::clamp(fe->color.a, 0.f, 1.f);
      float col[3] = {std::clamp(fe->color.r, 0.f, 1.f), std::clamp(fe->color.g, 0.f, 1.f),
                      std::clamp(fe->color.b, 0.f, 1.f)};
      for (size_t i = 0; i < shadow->px.size(); i += 4) {
        float a = ca * shadow->px[i + 3];
        for (int k = 0; k < 3; ++k) shadow->px[i + k] = col[k] * a;
        shadow->px[i + 3] = a;
      }
      if (cs == ColorSpace::LinearRGB) convert(*shadow, ColorSpace::LinearRGB);
      auto px = blank();
      draw_over(*px, *shadow, static_cast<int>(std::clamp(dx, -1e8, 1e8)),
                static_cast<int>(std::clamp(dy, -1e8, 1e8)));
      draw_over(*px, *in.px, 0, 0);
      return {px, {0, 0, region_.w, region_.h}, cs};
    }
    if (auto* fe = std::get_if<FeTile>(&prim.kind)) {
      Img in = input(fe->in);
      IRect t = in.sub.intersect({0, 0, region_.w, region_.h});
      auto px = blank();
      if (!t.empty()) {
        for (int y = 0; y < region_.h; ++y) {
          int ty = t.y + (((y - t.y) % t.h) + t.h) % t.h;
          for (int x = 0; x < region_.w; ++x) {
            int tx = t.x + (((x - t.x) % t.w) + t.w) % t.w;
            std::copy_n(in.px->at(tx, ty), 4, px->at(x, y));
          }
        }
      }
      return {px, {0, 0, region_.w, region_.h}, in.cs};
    }
    if (auto* fe = std::get_if<FeMorphology>(&prim.kind)) {
      Img in = in_space(input(fe->in), cs);
      auto px = take(in);
      double rx = fe->rx * sx, ry = fe->ry * sy;
      if (!(rx > 0 && ry > 0) || !std::isfinite(rx) || !std::isfinite(ry)) {
        std::fill(px->px.begin(), px->px.end(), 0.f);
        return {px, in.sub, cs};
      }
      int cols = std::min(static_cast<int>(std::min(std::ceil(rx), 1e6)) * 2, px->w);
      int rows = std::min(static_cast<int>(std::min(std::ceil(ry), 1e6)) * 2, px->h);
      morph(*px, cols, rows, fe->dilate);
      return {px, in.sub, cs};
    }
    if (auto* fe = std::get_if<FeImage>(&prim.kind)) {
      auto px = blank();
      // As resvg: the content (placed at the subregion in user space) is drawn scaled only, with
      // the subregion's origin snapped to its integer pixel.
      if (fe->content && ctx_.render_image)
        ctx_.render_image(*fe->content,
                          Transform::translate(sub.x, sub.y) * Transform::scale(sx, sy) *
                              Transform::translate(-prim.subregion.x, -prim.subregion.y),
                          *px);
      return {px, {0, 0, region_.w, region_.h}, ColorSpace::SRGB};
    }
    throw Unsupported("raster:filter-primitive");
  }

  static float transfer(const FeComponentTransfer::Func& f, float c) {
    switch (f.type) {
      case 1: {  // table
        size_t n = f.table.size();
        if (n == 0) return c;
        if (n == 1) return std::clamp(static_cast<float>(f.table[0]), 0.f, 1.f);
        double pos = c * (n - 1);
        size_t k = std::min(static_cast<size_t>(std::max(0.0, std::floor(pos))), n - 2);
        double v = f.table[k] + (pos - k) * (f.table[k + 1] - f.table[k]);
        return std::clamp(static_cast<float>(v), 0.f, 1.f);
      }
      case 2: {  // discrete
        size_t n = f.table.size();
        if (n == 0) return c;
        size_t k = std::min(static_cast<size_t>(std::max(0.0, std::floor(static_cast<double>(c) * n))), n - 1);
        return std::clamp(static_cast<float>(f.table[k]), 0.f, 1.f);
      }
      case 3:
        return std::clamp(static_cast<float>(f.slope * c + f.intercept), 0.f, 1.f);
      case 4: {
        double v = f.amplitude * std::pow(c, f.exponent) + f.offset;
        if (!std::isfinite(v)) v = 0;
        return std::clamp(static_cast<float>(v), 0.f, 1.f);
      }
      default:
        return c;
    }
  }

  // Rectangular min/max over a cols x rows window (separable), pixels outside are skipped.
  static void morph(Layer& l, int cols, int rows, bool dilate) {
    // resvg's window: `win` pixels starting at offset -floor(win / 2).
    auto pass = [&](int n_lines, int len, size_t line_st, size_t st, int win) {
      const int target = win / 2;
      std::vector<float> buf(static_cast<size_t>(len) * 4);
      for (int ln = 0; ln < n_lines; ++ln) {
        float* base = l.px.data() + ln * line_st;
        for (int i = 0; i < len; ++i) {
          float v[4];
          for (int k = 0; k < 4; ++k) v[k] = dilate ? 0.f : 1.f;
          for (int o = 0; o < win; ++o) {
            const int j = i - target + o;
            if (j < 0 || j >= len) continue;
            const float* p = base + j * st;
            for (int k = 0; k < 4; ++k) v[k] = dilate ? std::max(v[k], p[k]) : std::min(v[k], p[k]);
          }
          std::copy_n(v, 4, &buf[i * 4]);
        }
        for (int i = 0; i < len; ++i) std::copy_n(&buf[i * 4], 4, base + i * st);
      }
    };
    pass(l.h, l.w, static_cast<size_t>(l.w) * 4, 4, cols);
    pass(l.w, l.h, 4, static_cast<size_t>(l.w) * 4, rows);
  }

  const scene::Filter& f_;
  Transform ts_;
  Layer& layer_;
  const FilterContext& ctx_;
  IRect region_;
  std::shared_ptr<Layer> source_;
  std::vector<std::pair<std::string, Img>> results_;
};

}  // namespace

void apply_filter_chain(const scene::Filter& f, const Transform& ts, Layer& layer,
                        const FilterContext& ctx) {
  Runner(f, ts, layer, ctx).run();
}

}  // namespace verm::raster
