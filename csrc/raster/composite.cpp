#include "raster/composite.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace verm::raster {

using scene::BlendMode;

void paint_span(Layer& dst, int y, int x, int len, const float* cov, const Shader& sh,
                std::vector<float>& scratch) {
  if (y < 0 || y >= dst.h || len <= 0) return;
  if (x < 0) {
    cov -= x;
    len += x;
    x = 0;
  }
  len = std::min(len, dst.w - x);
  if (len <= 0) return;
  float* d = dst.at(x, y);
  if (sh.is_solid()) {
    const float* c = sh.color();
    const float ca = c[3];
    if (ca >= 1.f) {
      for (int i = 0; i < len; ++i, d += 4) {
        float k = cov[i];
        if (k >= 1.f) {
          d[0] = c[0]; d[1] = c[1]; d[2] = c[2]; d[3] = 1.f;
        } else {
          float inv = 1.f - k;
          d[0] = c[0] * k + d[0] * inv;
          d[1] = c[1] * k + d[1] * inv;
          d[2] = c[2] * k + d[2] * inv;
          d[3] = k + d[3] * inv;
        }
      }
    } else {
      for (int i = 0; i < len; ++i, d += 4) {
        float k = cov[i];
        float inv = 1.f - ca * k;
        d[0] = c[0] * k + d[0] * inv;
        d[1] = c[1] * k + d[1] * inv;
        d[2] = c[2] * k + d[2] * inv;
        d[3] = ca * k + d[3] * inv;
      }
    }
    return;
  }
  if (sh.is_none()) return;
  if (scratch.size() < static_cast<size_t>(len) * 4) scratch.resize(static_cast<size_t>(len) * 4);
  float* s = scratch.data();
  sh.shade(x, y, len, s);
  for (int i = 0; i < len; ++i, d += 4, s += 4) {
    float k = cov[i];
    float inv = 1.f - s[3] * k;
    d[0] = s[0] * k + d[0] * inv;
    d[1] = s[1] * k + d[1] * inv;
    d[2] = s[2] * k + d[2] * inv;
    d[3] = s[3] * k + d[3] * inv;
  }
}

namespace {

inline float sep(BlendMode m, float cb, float cs) {
  switch (m) {
    case BlendMode::Multiply: return cb * cs;
    case BlendMode::Screen: return cb + cs - cb * cs;
    case BlendMode::Overlay:
      return cb <= 0.5f ? cs * 2 * cb : 1 - (1 - cs) * (1 - (2 * cb - 1));
    case BlendMode::Darken: return std::min(cb, cs);
    case BlendMode::Lighten: return std::max(cb, cs);
    case BlendMode::ColorDodge:
      if (cb <= 0) return 0;
      if (cs >= 1) return 1;
      return std::min(1.f, cb / (1 - cs));
    case BlendMode::ColorBurn:
      if (cb >= 1) return 1;
      if (cs <= 0) return 0;
      return 1 - std::min(1.f, (1 - cb) / cs);
    case BlendMode::HardLight:
      return cs <= 0.5f ? cb * 2 * cs : 1 - (1 - cb) * (1 - (2 * cs - 1));
    case BlendMode::SoftLight: {
      if (cs <= 0.5f) return cb - (1 - 2 * cs) * cb * (1 - cb);
      float dd = cb <= 0.25f ? ((16 * cb - 12) * cb + 4) * cb : std::sqrt(cb);
      return cb + (2 * cs - 1) * (dd - cb);
    }
    case BlendMode::Difference: return std::fabs(cb - cs);
    case BlendMode::Exclusion: return cb + cs - 2 * cb * cs;
    default: return cs;
  }
}

inline float lum(const float* c) { return 0.3f * c[0] + 0.59f * c[1] + 0.11f * c[2]; }

// tiny-skia's clip_color: only the upper bound rescales; negative channels are clamped to 0
// (resvg's reference renderings depend on this).
inline void clip_color(float* c, float a) {
  float l = lum(c);
  float x = std::max({c[0], c[1], c[2]});
  for (int k = 0; k < 3; ++k) {
    float v = c[k];
    if (x > a && x - l != 0) v = l + (v - l) * (a - l) / (x - l);
    c[k] = std::max(v, 0.f);
  }
}

inline void set_lum(float* c, float l) {
  float d = l - lum(c);
  for (int k = 0; k < 3; ++k) c[k] += d;
}

inline float sat(const float* c) {
  return std::max({c[0], c[1], c[2]}) - std::min({c[0], c[1], c[2]});
}

inline void set_sat(float* c, float s) {
  float mn = std::min({c[0], c[1], c[2]}), mx = std::max({c[0], c[1], c[2]});
  float st = mx - mn;
  for (int k = 0; k < 3; ++k) c[k] = st == 0 ? 0.f : (c[k] - mn) * s / st;
}

}  // namespace

void blend_pixel(float* d, const float* s, BlendMode mode) {
  const float sa = s[3], da = d[3];
  if (mode == BlendMode::Normal) {
    float inv = 1 - sa;
    for (int k = 0; k < 4; ++k) d[k] = s[k] + d[k] * inv;
    return;
  }
  if (sa <= 0) return;
  if (da <= 0) {
    for (int k = 0; k < 4; ++k) d[k] = s[k];
    return;
  }
  const float both = sa * da;
  if (mode == BlendMode::Hue || mode == BlendMode::Saturation || mode == BlendMode::Color ||
      mode == BlendMode::Luminosity) {
    // Skia/tiny-skia formulation on premultiplied colour.
    float r[3];
    switch (mode) {
      case BlendMode::Hue:
        for (int k = 0; k < 3; ++k) r[k] = s[k] * sa;
        set_sat(r, sat(d) * sa);
        set_lum(r, lum(d) * sa);
        break;
      case BlendMode::Saturation:
        for (int k = 0; k < 3; ++k) r[k] = d[k] * sa;
        set_sat(r, sat(s) * da);
        set_lum(r, lum(d) * sa);
        break;
      case BlendMode::Color:
        for (int k = 0; k < 3; ++k) r[k] = s[k] * da;
        set_lum(r, lum(d) * sa);
        break;
      default:  // Luminosity
        for (int k = 0; k < 3; ++k) r[k] = d[k] * sa;
        set_lum(r, lum(s) * da);
        break;
    }
    clip_color(r, both);
    for (int k = 0; k < 3; ++k) d[k] = s[k] * (1 - da) + d[k] * (1 - sa) + r[k];
    d[3] = sa + da - both;
    return;
  }
  float cs[3], cb[3], r[3];
  for (int k = 0; k < 3; ++k) {
    cs[k] = std::clamp(s[k] / sa, 0.f, 1.f);
    cb[k] = std::clamp(d[k] / da, 0.f, 1.f);
  }
  for (int k = 0; k < 3; ++k) r[k] = sep(mode, cb[k], cs[k]);
  for (int k = 0; k < 3; ++k) d[k] = s[k] * (1 - da) + d[k] * (1 - sa) + both * r[k];
  d[3] = sa + da - both;
}

void draw_layer(Layer& dst, const Layer& src, int dx, int dy, float opacity, BlendMode mode) {
  if (src.empty() || dst.empty() || !(opacity > 0)) return;
  int x0 = std::max(0, dx), y0 = std::max(0, dy);
  int x1 = std::min(dst.w, dx + src.w), y1 = std::min(dst.h, dy + src.h);
  for (int y = y0; y < y1; ++y) {
    float* d = dst.at(x0, y);
    const float* s = src.at(x0 - dx, y - dy);
    if (mode == BlendMode::Normal) {
      for (int x = x0; x < x1; ++x, d += 4, s += 4) {
        float sa = s[3] * opacity;
        if (sa <= 0) continue;
        float inv = 1 - sa;
        d[0] = s[0] * opacity + d[0] * inv;
        d[1] = s[1] * opacity + d[1] * inv;
        d[2] = s[2] * opacity + d[2] * inv;
        d[3] = sa + d[3] * inv;
      }
    } else {
      for (int x = x0; x < x1; ++x, d += 4, s += 4) {
        float p[4] = {s[0] * opacity, s[1] * opacity, s[2] * opacity, s[3] * opacity};
        blend_pixel(d, p, mode);
      }
    }
  }
}

MaskBuf layer_to_mask(const Layer& l, scene::MaskType type, size_t max_pixels) {
  MaskBuf m(l.w, l.h, 0.f, max_pixels);
  size_t n = static_cast<size_t>(l.w) * l.h;
  const float* p = l.px.data();
  if (type == scene::MaskType::Alpha) {
    for (size_t i = 0; i < n; ++i) m.a[i] = std::clamp(p[4 * i + 3], 0.f, 1.f);
  } else {
    // Luminance of the straight colour times alpha == luminance of the premultiplied colour.
    for (size_t i = 0; i < n; ++i) {
      float v = 0.2125f * p[4 * i] + 0.7154f * p[4 * i + 1] + 0.0721f * p[4 * i + 2];
      m.a[i] = std::clamp(v, 0.f, 1.f);
    }
  }
  return m;
}

void apply_mask(Layer& layer, const MaskBuf& mask) {
  size_t n = std::min(static_cast<size_t>(layer.w) * layer.h, mask.a.size());
  float* p = layer.px.data();
  for (size_t i = 0; i < n; ++i) {
    float k = mask.a[i];
    p[4 * i] *= k;
    p[4 * i + 1] *= k;
    p[4 * i + 2] *= k;
    p[4 * i + 3] *= k;
  }
}

void to_rgba8(const Layer& l, uint8_t* out) {
  const size_t n = static_cast<size_t>(l.w) * l.h;
  const float* p = l.px.data();
  const float lo = 0.5f / 255.f;
#if defined(__SSE2__)
  const __m128 zero = _mm_setzero_ps(), max = _mm_set1_ps(255.f), half = _mm_set1_ps(0.5f);
  const __m128 one = _mm_set1_ps(1.f), vlo = _mm_set1_ps(lo), v255 = _mm_set1_ps(255.f);
  size_t i = 0;
  // Four pixels at a time (same float operations as the one-pixel loop below, so the bytes
  // are identical): transpose to planes, unpremultiply, round, transpose back and pack.
  for (; i + 4 <= n; i += 4, p += 16, out += 16) {
    __m128 r = _mm_loadu_ps(p), g = _mm_loadu_ps(p + 4), b = _mm_loadu_ps(p + 8),
           a = _mm_loadu_ps(p + 12);
    _MM_TRANSPOSE4_PS(r, g, b, a);
    a = _mm_min_ps(one, a);  // keeps NaN (transparent below), as std::min(a, 1.f) does
    const __m128 vis = _mm_cmpgt_ps(a, vlo);  // false for NaN too
    if (_mm_movemask_ps(vis) == 0) {  // all transparent (the common case)
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out), _mm_setzero_si128());
      continue;
    }
    const __m128 k = _mm_div_ps(v255, a);
    auto chan = [&](__m128 c, __m128 f) {
      c = _mm_add_ps(_mm_min_ps(_mm_max_ps(_mm_mul_ps(c, f), zero), max), half);
      return _mm_and_ps(c, vis);  // transparent pixels -> 0
    };
    r = chan(r, k);
    g = chan(g, k);
    b = chan(b, k);
    a = chan(a, v255);
    _MM_TRANSPOSE4_PS(r, g, b, a);  // back to pixel order: r = pixel 0 (r, g, b, a), ...
    __m128i c0 = _mm_cvttps_epi32(r), c1 = _mm_cvttps_epi32(g), c2 = _mm_cvttps_epi32(b),
            c3 = _mm_cvttps_epi32(a);
    __m128i lo16 = _mm_packs_epi32(c0, c1), hi16 = _mm_packs_epi32(c2, c3);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out), _mm_packus_epi16(lo16, hi16));
  }
  for (; i < n; ++i, p += 4, out += 4) {
    const float a = std::min(p[3], 1.f);
    if (!(a > lo)) {  // transparent (the common case): no colour work at all
      std::memset(out, 0, 4);
      continue;
    }
    const float k = 255.f / a;
    // colour * 255 / alpha, alpha * 255; clamp, round, pack to bytes.
    __m128 v = _mm_mul_ps(_mm_loadu_ps(p), _mm_setr_ps(k, k, k, 255.f));
    v = _mm_add_ps(_mm_min_ps(_mm_max_ps(v, zero), max), half);
    __m128i c = _mm_cvttps_epi32(v);
    c = _mm_packs_epi32(c, c);
    c = _mm_packus_epi16(c, c);
    const int packed = _mm_cvtsi128_si32(c);
    std::memcpy(out, &packed, 4);
  }
#else
  for (size_t i = 0; i < n; ++i, p += 4, out += 4) {
    const float a = std::min(p[3], 1.f);
    if (!(a > lo)) {
      std::memset(out, 0, 4);
      continue;
    }
    const float k = 255.f / a;
    for (int c = 0; c < 3; ++c)
      out[c] = static_cast<uint8_t>(std::min(std::max(p[c] * k, 0.f), 255.f) + 0.5f);
    out[3] = static_cast<uint8_t>(a * 255.f + 0.5f);
  }
#endif
}

}  // namespace verm::raster
