#include "raster/paint.h"

#include <algorithm>
#include <cmath>

namespace verm::raster {

namespace {
constexpr int kLut = 1024;  // gradient colour table size (t resolution 1/1023)
}  // namespace

Shader Shader::solid(const scene::Color& c, float opacity) {
  Shader s;
  s.kind_ = Kind::Solid;
  float a = std::clamp(c.a * opacity, 0.f, 1.f);
  s.color_[0] = std::clamp(c.r, 0.f, 1.f) * a;
  s.color_[1] = std::clamp(c.g, 0.f, 1.f) * a;
  s.color_[2] = std::clamp(c.b, 0.f, 1.f) * a;
  s.color_[3] = a;
  if (a <= 0) s.kind_ = Kind::None;
  return s;
}

namespace {
bool single_color(const std::vector<scene::GradientStop>& stops, float opacity, Shader& out) {
  if (stops.empty()) {
    out = Shader{};
    return true;
  }
  if (stops.size() == 1) {
    out = Shader::solid(stops[0].color, opacity);
    return true;
  }
  return false;
}
}  // namespace

Shader Shader::linear(const scene::LinearGradient& g, const Transform& ts, float opacity) {
  Shader s;
  if (single_color(g.stops, opacity, s)) return s;
  Transform full = ts * g.transform;
  double dx = g.x2 - g.x1, dy = g.y2 - g.y1;
  double l2 = dx * dx + dy * dy;
  if (!full.is_invertible() || !(l2 > 0) || !std::isfinite(l2)) {
    // Degenerate vector: the area is painted with the last stop's colour (SVG).
    if (!full.is_invertible()) return Shader{};
    return solid(g.stops.back().color, opacity);
  }
  s.kind_ = Kind::Linear;
  s.inv_ = full.inverted();
  s.stops_ = g.stops;
  s.spread_ = g.spread;
  s.opacity_ = opacity;
  s.x1_ = g.x1;
  s.y1_ = g.y1;
  s.dx_ = dx;
  s.dy_ = dy;
  s.inv_len2_ = 1.0 / l2;
  s.build_lut();
  return s;
}

Shader Shader::radial(const scene::RadialGradient& g, const Transform& ts, float opacity) {
  Shader s;
  if (single_color(g.stops, opacity, s)) return s;
  Transform full = ts * g.transform;
  if (!full.is_invertible()) return Shader{};
  if (!(g.r > 0) && !(g.fr > 0)) return solid(g.stops.back().color, opacity);
  s.kind_ = Kind::Radial;
  s.inv_ = full.inverted();
  s.stops_ = g.stops;
  s.spread_ = g.spread;
  s.opacity_ = opacity;
  s.fx_ = g.fx;
  s.fy_ = g.fy;
  s.fr_ = std::max(0.0, g.fr);
  s.cdx_ = g.cx - g.fx;
  s.cdy_ = g.cy - g.fy;
  s.dr_ = g.r - s.fr_;
  s.a_ = s.cdx_ * s.cdx_ + s.cdy_ * s.cdy_ - s.dr_ * s.dr_;
  s.build_lut();
  return s;
}

Shader Shader::image(std::shared_ptr<const Layer> img, const Transform& ts, Filter filter,
                     bool repeat, float opacity, bool always_filter) {
  Shader s;
  if (!img || img->empty() || !ts.is_invertible() || !(opacity > 0)) return s;
  s.kind_ = Kind::Image;
  s.img_ = std::move(img);
  s.inv_ = ts.inverted();
  // As tiny-skia: a translate-only mapping samples pixels as they are (no filtering blur).
  const double eps = 1e-6;
  if (!always_filter && std::fabs(ts.a - 1) < eps && std::fabs(ts.d - 1) < eps && std::fabs(ts.b) < eps &&
      std::fabs(ts.c) < eps)
    filter = Filter::Nearest;
  s.filter_ = filter;
  s.repeat_ = repeat;
  s.opacity_ = opacity;
  return s;
}

void Shader::build_lut() {
  // Exact colours at kLut evenly spaced t; a hard stop (two stops at one offset) keeps its
  // sharp edge within 1/1023 of t.
  lut_.resize(static_cast<size_t>(kLut) * 4);
  for (int i = 0; i < kLut; ++i) gradient_color(static_cast<double>(i) / (kLut - 1), &lut_[i * 4]);
}

void Shader::lut_color(double t, float* out) const {
  if (!std::isfinite(t)) t = 0;
  switch (spread_) {
    case scene::SpreadMethod::Pad:
      t = std::clamp(t, 0.0, 1.0);
      break;
    case scene::SpreadMethod::Repeat:
      t = t - std::floor(t);
      break;
    case scene::SpreadMethod::Reflect:
      t = std::fmod(std::fabs(t), 2.0);
      if (t > 1) t = 2 - t;
      break;
  }
  int i = static_cast<int>(t * (kLut - 1) + 0.5);
  const float* c = &lut_[static_cast<size_t>(std::clamp(i, 0, kLut - 1)) * 4];
  out[0] = c[0]; out[1] = c[1]; out[2] = c[2]; out[3] = c[3];
}

void Shader::gradient_color(double t, float* out) const {
  // t in [0, 1] (spread already applied).
  const auto& st = stops_;
  const scene::Color* c;
  scene::Color mix;
  if (t <= st.front().offset) {
    c = &st.front().color;
  } else if (t >= st.back().offset) {
    c = &st.back().color;
  } else {
    size_t i = 1;
    while (i < st.size() && st[i].offset < t) ++i;
    // Here st[i-1].offset < t <= st[i].offset (stops are non-decreasing).
    const auto& a = st[i - 1];
    const auto& b = st[i];
    float span = b.offset - a.offset;
    float f = span > 0 ? static_cast<float>((t - a.offset) / span) : 1.f;
    mix.r = a.color.r + (b.color.r - a.color.r) * f;
    mix.g = a.color.g + (b.color.g - a.color.g) * f;
    mix.b = a.color.b + (b.color.b - a.color.b) * f;
    mix.a = a.color.a + (b.color.a - a.color.a) * f;
    c = &mix;
  }
  float al = std::clamp(c->a, 0.f, 1.f) * opacity_;
  out[0] = std::clamp(c->r, 0.f, 1.f) * al;
  out[1] = std::clamp(c->g, 0.f, 1.f) * al;
  out[2] = std::clamp(c->b, 0.f, 1.f) * al;
  out[3] = al;
}

namespace {

inline double wrap(double v, double n) {
  v = std::fmod(v, n);
  return v < 0 ? v + n : v;
}

// Mitchell-Netravali cubic, B = C = 1/3 (what Skia/tiny-skia use for bicubic).
inline void cubic_weights(double t, float* w) {
  const double B = 1.0 / 3, C = 1.0 / 3;
  auto k = [&](double x) {
    x = std::fabs(x);
    if (x < 1)
      return ((12 - 9 * B - 6 * C) * x * x * x + (-18 + 12 * B + 6 * C) * x * x + (6 - 2 * B)) / 6;
    if (x < 2)
      return ((-B - 6 * C) * x * x * x + (6 * B + 30 * C) * x * x + (-12 * B - 48 * C) * x +
              (8 * B + 24 * C)) /
             6;
    return 0.0;
  };
  w[0] = static_cast<float>(k(1 + t));
  w[1] = static_cast<float>(k(t));
  w[2] = static_cast<float>(k(1 - t));
  w[3] = static_cast<float>(k(2 - t));
}

}  // namespace

void Shader::sample(double u, double v, float* out) const {
  const Layer& im = *img_;
  const int w = im.w, h = im.h;
  auto fetch = [&](int x, int y) -> const float* {
    if (repeat_) {
      x %= w;
      if (x < 0) x += w;
      y %= h;
      if (y < 0) y += h;
    } else {
      x = std::clamp(x, 0, w - 1);
      y = std::clamp(y, 0, h - 1);
    }
    return im.at(x, y);
  };
  if (!std::isfinite(u) || !std::isfinite(v)) {
    out[0] = out[1] = out[2] = out[3] = 0;
    return;
  }
  if (repeat_) {
    u = wrap(u, w);
    v = wrap(v, h);
  } else {
    u = std::clamp(u, -1.0, w + 1.0);
    v = std::clamp(v, -1.0, h + 1.0);
  }
  switch (filter_) {
    case Filter::Nearest: {
      const float* p = fetch(static_cast<int>(std::floor(u)), static_cast<int>(std::floor(v)));
      for (int c = 0; c < 4; ++c) out[c] = p[c];
      break;
    }
    case Filter::Bilinear: {
      double fx = u - 0.5, fy = v - 0.5;
      int x0 = static_cast<int>(std::floor(fx)), y0 = static_cast<int>(std::floor(fy));
      float tx = static_cast<float>(fx - x0), ty = static_cast<float>(fy - y0);
      const float *a = fetch(x0, y0), *b = fetch(x0 + 1, y0), *c = fetch(x0, y0 + 1),
                  *d = fetch(x0 + 1, y0 + 1);
      for (int k = 0; k < 4; ++k) {
        float top = a[k] + (b[k] - a[k]) * tx, bot = c[k] + (d[k] - c[k]) * tx;
        out[k] = top + (bot - top) * ty;
      }
      break;
    }
    case Filter::Bicubic: {
      double fx = u - 0.5, fy = v - 0.5;
      int x0 = static_cast<int>(std::floor(fx)), y0 = static_cast<int>(std::floor(fy));
      float wx[4], wy[4];
      cubic_weights(fx - x0, wx);
      cubic_weights(fy - y0, wy);
      float acc[4] = {0, 0, 0, 0};
      for (int j = 0; j < 4; ++j) {
        float row[4] = {0, 0, 0, 0};
        for (int i = 0; i < 4; ++i) {
          const float* p = fetch(x0 - 1 + i, y0 - 1 + j);
          for (int k = 0; k < 4; ++k) row[k] += p[k] * wx[i];
        }
        for (int k = 0; k < 4; ++k) acc[k] += row[k] * wy[j];
      }
      float a = std::clamp(acc[3], 0.f, 1.f);
      out[3] = a;
      for (int k = 0; k < 3; ++k) out[k] = std::clamp(acc[k], 0.f, a);
      break;
    }
  }
  for (int k = 0; k < 4; ++k) out[k] *= opacity_;
}

void Shader::shade(int x, int y, int len, float* out) const {
  const double py = y + 0.5;
  switch (kind_) {
    case Kind::None:
      std::fill(out, out + 4 * len, 0.f);
      return;
    case Kind::Solid:
      for (int i = 0; i < len; ++i)
        for (int k = 0; k < 4; ++k) out[4 * i + k] = color_[k];
      return;
    case Kind::Linear: {
      for (int i = 0; i < len; ++i) {
        Point p = inv_.apply({x + i + 0.5, py});
        double t = ((p.x - x1_) * dx_ + (p.y - y1_) * dy_) * inv_len2_;
        lut_color(t, out + 4 * i);
      }
      return;
    }
    case Kind::Radial: {
      for (int i = 0; i < len; ++i) {
        Point p = inv_.apply({x + i + 0.5, py});
        double px = p.x - fx_, py2 = p.y - fy_;
        double b = px * cdx_ + py2 * cdy_ + fr_ * dr_;
        double c = px * px + py2 * py2 - fr_ * fr_;
        double t;
        bool ok = true;
        if (std::fabs(cdx_) < 1e-9 && std::fabs(cdy_) < 1e-9 && std::fabs(dr_) < 1e-9) {
          // Identical circles: first colour inside, last colour outside.
          t = px * px + py2 * py2 <= fr_ * fr_ ? 0.0 : 1.0;
        } else if (std::fabs(a_) < 1e-9 * (cdx_ * cdx_ + cdy_ * cdy_ + dr_ * dr_)) {
          // Focal circle touches the end circle: linear equation.
          if (std::fabs(b) < 1e-12) {
            ok = false;
            t = 0;
          } else {
            t = c / (2 * b);
            ok = fr_ + t * dr_ >= 0;
          }
        } else {
          double disc = b * b - a_ * c;
          if (disc < 0) {
            ok = false;
            t = 0;
          } else {
            double sq = std::sqrt(disc);
            double t1 = (b + sq) / a_, t2 = (b - sq) / a_;
            double hi = std::max(t1, t2), lo = std::min(t1, t2);
            if (fr_ + hi * dr_ >= 0) {
              t = hi;
            } else if (fr_ + lo * dr_ >= 0) {
              t = lo;
            } else {
              ok = false;
              t = 0;
            }
          }
        }
        if (ok) {
          lut_color(t, out + 4 * i);
        } else {
          for (int k = 0; k < 4; ++k) out[4 * i + k] = 0;
        }
      }
      return;
    }
    case Kind::Image: {
      for (int i = 0; i < len; ++i) {
        Point p = inv_.apply({x + i + 0.5, py});
        sample(p.x, p.y, out + 4 * i);
      }
      return;
    }
  }
}

std::shared_ptr<Layer> layer_from_rgba8(const uint8_t* rgba, int w, int h, size_t max_pixels) {
  auto l = std::make_shared<Layer>(w, h, max_pixels);
  size_t n = static_cast<size_t>(l->w) * l->h;
  for (size_t i = 0; i < n; ++i) {
    float a = rgba[4 * i + 3] / 255.f;
    l->px[4 * i + 0] = rgba[4 * i + 0] / 255.f * a;
    l->px[4 * i + 1] = rgba[4 * i + 1] / 255.f * a;
    l->px[4 * i + 2] = rgba[4 * i + 2] / 255.f * a;
    l->px[4 * i + 3] = a;
  }
  return l;
}

}  // namespace verm::raster
