// tiny-skia's f32 affine transform arithmetic (concat through f64 products, invert through an
// f64 determinant), replayed where resvg's output depends on f32 rounding: a remapped context
// pattern is sampled unfiltered only when its f32 shader transform is exactly a translation.
#pragma once
#include <cmath>
#include <optional>

#include "core/geom.h"

namespace verm {

struct F32Ts {
  float sx = 1, ky = 0, kx = 0, sy = 1, tx = 0, ty = 0;

  static F32Ts from(const Transform& t) {
    return {static_cast<float>(t.a), static_cast<float>(t.b), static_cast<float>(t.c),
            static_cast<float>(t.d), static_cast<float>(t.e), static_cast<float>(t.f)};
  }
  Transform to_transform() const { return {sx, ky, kx, sy, tx, ty}; }
  bool identity() const { return sx == 1 && ky == 0 && kx == 0 && sy == 1 && tx == 0 && ty == 0; }
  bool skew() const { return kx != 0 || ky != 0; }
  bool translate_only() const { return sx == 1 && sy == 1 && !skew(); }
};

inline float f32_mul_add_mul(float a, float b, float c, float d) {
  return static_cast<float>(static_cast<double>(a) * b + static_cast<double>(c) * d);
}

// a.pre_concat(b): b applied first.
inline F32Ts f32_concat(const F32Ts& a, const F32Ts& b) {
  if (a.identity()) return b;
  if (b.identity()) return a;
  if (!a.skew() && !b.skew())
    return {a.sx * b.sx, 0, 0, a.sy * b.sy, a.sx * b.tx + a.tx, a.sy * b.ty + a.ty};
  return {f32_mul_add_mul(a.sx, b.sx, a.kx, b.ky),
          f32_mul_add_mul(a.ky, b.sx, a.sy, b.ky),
          f32_mul_add_mul(a.sx, b.kx, a.kx, b.sy),
          f32_mul_add_mul(a.ky, b.kx, a.sy, b.sy),
          f32_mul_add_mul(a.sx, b.tx, a.kx, b.ty) + a.tx,
          f32_mul_add_mul(a.ky, b.tx, a.sy, b.ty) + a.ty};
}

inline std::optional<F32Ts> f32_invert(const F32Ts& t) {
  if (t.identity()) return t;
  if (!t.skew()) {
    if (t.sx == 0 || t.sy == 0) return std::nullopt;
    if (t.sx != 1 || t.sy != 1) {
      float ix = 1.f / t.sx, iy = 1.f / t.sy;
      return F32Ts{ix, 0, 0, iy, -t.tx * ix, -t.ty * iy};
    }
    return F32Ts{1, 0, 0, 1, -t.tx, -t.ty};
  }
  double det = static_cast<double>(t.sx) * t.sy - static_cast<double>(t.kx) * t.ky;
  if (!std::isfinite(det) || det == 0) return std::nullopt;
  double inv = 1.0 / det;
  auto dcross = [&](float a, float b, float c, float d) {
    return static_cast<float>((static_cast<double>(a) * b - static_cast<double>(c) * d) * inv);
  };
  return F32Ts{static_cast<float>(t.sy * inv),  static_cast<float>(-t.ky * inv),
               static_cast<float>(-t.kx * inv), static_cast<float>(t.sx * inv),
               dcross(t.kx, t.ty, t.sy, t.tx),  dcross(t.ky, t.tx, t.sx, t.ty)};
}

// parent (an f32 abs transform held in doubles) . child, rounded as usvg accumulates it.
inline Transform f32_abs(const Transform& parent, const Transform& child) {
  return f32_concat(F32Ts::from(parent), F32Ts::from(child)).to_transform();
}

}  // namespace verm
