// SVG text layout (see layout.h). Follows the model of usvg's text layout so that output
// matches resvg: chunks, clusters, letter/word spacing, textLength, anchors, baselines,
// decorations, and a metrics-based bounding box.
#include "text/utf8.h"
#include "text/layout.h"

#include <hb.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <unordered_map>
#include <utility>

namespace verm::text {

namespace {

bool approx_zero(double v) { return std::fabs(v) < 1e-6; }
// Characters laid out per <text> element at most (bounds time and memory on hostile input).
constexpr size_t kMaxChars = 200000;
// Non-finite numbers from the front end are treated as absent (never poison the geometry).
double fin(double v) { return std::isfinite(v) ? v : 0.0; }
std::optional<double> fin(const std::optional<double>& v) {
  return v && std::isfinite(*v) ? v : std::nullopt;
}


bool is_word_separator(uint32_t c) {
  return c == 0x20 || c == 0xA0 || c == 0x1361 || c == 0x10100 || c == 0x10101 || c == 0x1039F ||
         c == 0x1091F;
}

bool script_supports_letter_spacing(uint32_t c) {
  switch (hb_unicode_script(hb_unicode_funcs_get_default(), c)) {
    case HB_SCRIPT_ARABIC: case HB_SCRIPT_SYRIAC: case HB_SCRIPT_NKO: case HB_SCRIPT_MANICHAEAN:
    case HB_SCRIPT_PSALTER_PAHLAVI: case HB_SCRIPT_MANDAIC: case HB_SCRIPT_MONGOLIAN:
    case HB_SCRIPT_PHAGS_PA: case HB_SCRIPT_DEVANAGARI: case HB_SCRIPT_BENGALI:
    case HB_SCRIPT_GURMUKHI: case HB_SCRIPT_MODI: case HB_SCRIPT_SHARADA:
    case HB_SCRIPT_SYLOTI_NAGRI: case HB_SCRIPT_TIRHUTA: case HB_SCRIPT_OGHAM:
      return false;
    default:
      return true;
  }
}

// A span inside a chunk: byte range relative to the chunk text.
struct ChunkSpan {
  size_t start = 0, end = 0;
  const TextSpan* span = nullptr;
  int face = -1;
};

struct Chunk {
  std::optional<double> x, y;
  const TextPathInfo* text_path = nullptr;
  TextAnchor anchor = TextAnchor::Start;
  std::string text;
  std::vector<ChunkSpan> spans;
};

struct PGlyph {
  int face;
  uint32_t glyph;
  double sx;             // font_size / units_per_em
  Transform glyph_ts;    // within the cluster, font units
};

struct Cluster {
  size_t byte_idx = 0;
  uint32_t codepoint = 0;
  double width = 0, advance = 0, ascent = 0, descent = 0;
  bool has_relative_shift = false;
  std::vector<PGlyph> glyphs;
  Transform transform;
  Transform path_transform;  // vertical upright glyphs
  bool visible = true;
  Transform full() const { return transform * path_transform; }
};

const ChunkSpan* span_at(const Chunk& ch, size_t byte) {
  // Spans are ordered and non-overlapping.
  auto it = std::upper_bound(ch.spans.begin(), ch.spans.end(), byte,
                             [](size_t b, const ChunkSpan& s) { return b < s.start; });
  if (it == ch.spans.begin()) return nullptr;
  --it;
  return (byte >= it->start && byte < it->end) ? &*it : nullptr;
}

// resvg's per-span glyph merge: shape the whole chunk with each span's font and overwrite
// the glyphs of the span's clusters.
std::vector<ShapedGlyph> shape_chunk(const Chunk& ch, const FontDB& db) {
  std::map<std::tuple<int, bool, bool>, std::vector<ShapedGlyph>> cache;
  std::vector<ShapedGlyph> glyphs;
  bool first = true;
  for (const ChunkSpan& cs : ch.spans) {
    ShapeOptions so;
    so.kerning = cs.span->kerning;
    so.small_caps = cs.span->small_caps;
    auto key = std::make_tuple(cs.face, so.kerning, so.small_caps);
    auto it = cache.find(key);
    if (it == cache.end()) it = cache.emplace(key, db.shape_glyphs(ch.text, cs.face, so)).first;
    const std::vector<ShapedGlyph>& tmp = it->second;
    if (first) {
      glyphs = tmp;
      first = false;
      continue;
    }
    if (glyphs.empty()) { glyphs = tmp; continue; }
    std::vector<bool> taken(glyphs.size(), false);
    std::unordered_map<uint32_t, size_t> first_idx;
    bool dirty = true;
    auto rebuild = [&]() {
      first_idx.clear();
      for (size_t i = glyphs.size(); i-- > 0;) first_idx[glyphs[i].cluster] = i;
      dirty = false;
    };
    for (size_t t = 0; t < tmp.size(); ++t) {
      const ShapedGlyph& ng = tmp[t];
      if (!(ng.cluster >= cs.start && ng.cluster < cs.end)) continue;
      if (dirty) rebuild();
      auto f = first_idx.find(ng.cluster);
      if (f == first_idx.end()) continue;
      size_t idx = f->second;
      if (taken[idx]) continue;
      taken[idx] = true;
      uint32_t prev_len = glyphs[idx].cluster_len;
      if (prev_len < ng.cluster_len) {
        for (uint32_t k = 1; k < ng.cluster_len && idx + 1 < glyphs.size(); ++k) {
          glyphs.erase(glyphs.begin() + static_cast<long>(idx) + 1);
          taken.erase(taken.begin() + static_cast<long>(idx) + 1);
          dirty = true;
        }
      } else if (prev_len > ng.cluster_len) {
        for (uint32_t j = 1; j < prev_len; ++j) {
          if (t + 1 < tmp.size()) {
            ++t;
            size_t at = std::min(idx + j, glyphs.size());
            glyphs.insert(glyphs.begin() + static_cast<long>(at), tmp[t]);
            taken.insert(taken.begin() + static_cast<long>(at), false);
            dirty = true;
          }
        }
      }
      glyphs[idx] = ng;
    }
  }
  return glyphs;
}

struct Normal {
  double x, y, angle;
};

struct Cubic {
  Point p0, p1, p2, p3;
  Point eval(double t) const {
    double u = 1 - t;
    return p0 * (u * u * u) + p1 * (3 * u * u * t) + p2 * (3 * u * t * t) + p3 * (t * t * t);
  }
  Point deriv(double t) const {
    double u = 1 - t;
    return (p1 - p0) * (3 * u * u) + (p2 - p1) * (6 * u * t) + (p3 - p2) * (3 * t * t);
  }
};

// Gauss-Legendre nodes/weights on [-1, 1] (Newton on the Legendre polynomial).
struct GaussLegendre {
  std::vector<std::pair<double, double>> full, half;  // (weight, node); half: nodes >= 0
  explicit GaussLegendre(int n) {
    // (P_n(x), P_n'(x)) by the three-term recurrence
    auto legendre = [n](double x) {
      double p0 = 1, p1 = x;
      for (int k = 2; k <= n; ++k) {
        double p2 = ((2 * k - 1) * x * p1 - (k - 1) * p0) / k;
        p0 = p1;
        p1 = p2;
      }
      return std::make_pair(p1, n * (x * p1 - p0) / (x * x - 1));
    };
    for (int i = 0; i < n; ++i) {
      double x = std::cos(M_PI * (i + 0.75) / (n + 0.5));
      for (int it = 0; it < 100; ++it) {
        auto [p, dp] = legendre(x);
        double dx = p / dp;
        x -= dx;
        if (std::fabs(dx) < 1e-16) break;
      }
      double dp = legendre(x).second;
      double w = 2 / ((1 - x * x) * dp * dp);
      full.push_back({w, x});
      if (x > 0) half.push_back({w, x});
    }
  }
};

const GaussLegendre& gl(int n) {
  static const GaussLegendre g8(8), g16(16), g24(24);
  return n == 8 ? g8 : n == 16 ? g16 : g24;
}

double quadrature_core(const std::vector<std::pair<double, double>>& coeffs, Point dm, Point dm1,
                       Point dm2) {
  double sum = 0;
  for (auto [w, x] : coeffs) {
    Point d = dm + dm2 * (x * x);
    sum += 1.5 * w * ((d + dm1 * x).length() + (d - dm1 * x).length());
  }
  return sum;
}

Cubic subsegment(const Cubic& c, double t0, double t1) {
  Point p0 = c.eval(t0), p3 = c.eval(t1);
  double scale = (t1 - t0) / 3.0;
  return {p0, p0 + c.deriv(t0) * scale, p3 - c.deriv(t1) * scale, p3};
}

// Arc length with the same adaptive Gauss-Legendre scheme as kurbo (resvg's geometry crate),
// so text-on-path positions agree with resvg to its stated accuracy.
double arclen_rec(const Cubic& c, double accuracy, int depth) {
  Point d03 = c.p3 - c.p0, d01 = c.p1 - c.p0, d12 = c.p2 - c.p1, d23 = c.p3 - c.p2;
  double lp_lc = d01.length() + d12.length() + d23.length() - d03.length();
  Point dd1 = d12 - d01, dd2 = d23 - d12;
  Point dm = (d01 + d23) * 0.25 + d12 * 0.5, dm1 = (dd2 + dd1) * 0.5, dm2 = (dd2 - dd1) * 0.25;
  double est = 0;
  for (auto [w, x] : gl(8).full) {
    Point a = dm + dm1 * x + dm2 * (x * x), b = dm1 + dm2 * (2 * x);
    est += w * (b.dot(b) / a.dot(a));
  }
  if (!std::isfinite(est)) est = 0;
  if (std::min(std::pow(est, 3) * 2.5e-6, 3e-2) * lp_lc < accuracy)
    return quadrature_core(gl(8).half, dm, dm1, dm2);
  if (std::min(std::pow(est, 6) * 1.5e-11, 9e-3) * lp_lc < accuracy)
    return quadrature_core(gl(16).half, dm, dm1, dm2);
  if (std::min(std::pow(est, 9) * 3.5e-16, 3.5e-3) * lp_lc < accuracy || depth >= 20)
    return quadrature_core(gl(24).half, dm, dm1, dm2);
  return arclen_rec(subsegment(c, 0, 0.5), accuracy * 0.5, depth + 1) +
         arclen_rec(subsegment(c, 0.5, 1), accuracy * 0.5, depth + 1);
}

double arclen(const Cubic& c, double accuracy) { return arclen_rec(c, accuracy, 0); }

// Parameter at arc length `s` (ITP root finding, as kurbo's inv_arclen).
double inv_arclen(const Cubic& c, double s, double accuracy) {
  if (s <= 0) return 0;
  double total = arclen(c, accuracy);
  if (s >= total) return 1;
  double t_last = 0, arclen_last = 0;
  double epsilon = accuracy / total;
  double n = 1.0 - std::min(std::ceil(std::log2(epsilon)), 0.0);
  double inner = accuracy / n;
  auto f = [&](double t) {
    double arc = t > t_last ? arclen(subsegment(c, t_last, t), inner)
                            : -arclen(subsegment(c, t, t_last), inner);
    arclen_last += arc;
    t_last = t;
    return arclen_last - s;
  };
  double a = 0, b = 1, ya = -s, yb = total - s;
  int n1_2 = static_cast<int>(std::max(std::ceil(std::log2((b - a) / epsilon)) - 1.0, 0.0));
  int nmax = 1 + std::min(n1_2, 60);
  double scaled_epsilon = epsilon * std::ldexp(1.0, nmax);
  for (int guard = 0; b - a > 2 * epsilon && guard < 200; ++guard) {
    double x12 = 0.5 * (a + b);
    double r = scaled_epsilon - 0.5 * (b - a);
    double xf = (yb * a - ya * b) / (yb - ya);
    double sigma = x12 - xf;
    double delta = 0.2 * (b - a) * (b - a);
    double xt = delta <= std::fabs(x12 - xf) ? xf + std::copysign(delta, sigma) : x12;
    double xitp = std::fabs(xt - x12) <= r ? xt : x12 - std::copysign(r, sigma);
    double yitp = f(xitp);
    if (yitp > 0) { b = xitp; yb = yitp; }
    else if (yitp < 0) { a = xitp; ya = yitp; }
    else return xitp;
    scaled_epsilon *= 0.5;
  }
  return 0.5 * (a + b);
}

Cubic line_cubic(Point a, Point b) {
  return {a, a + (b - a) * 0.33, a + (b - a) * 0.66, b};
}

// Walks the path's segments as cubics (usvg's convention), calling fn(curve) for each.
template <class Fn>
void for_each_cubic(const Path& path, Fn&& fn) {
  const auto& pts = path.points();
  size_t pi = 0;
  Point start, cur;
  for (Verb v : path.verbs()) {
    switch (v) {
      case Verb::Move: start = cur = pts[pi++]; break;
      case Verb::Line: { Point p = pts[pi++]; fn(line_cubic(cur, p)); cur = p; break; }
      case Verb::Quad: {
        Point c = pts[pi], p = pts[pi + 1];
        pi += 2;
        fn(Cubic{cur, cur + (c - cur) * (2.0 / 3), p + (c - p) * (2.0 / 3), p});
        cur = p;
        break;
      }
      case Verb::Cubic: {
        Cubic cu{cur, pts[pi], pts[pi + 1], pts[pi + 2]};
        pi += 3;
        fn(cu);
        cur = cu.p3;
        break;
      }
      case Verb::Close: fn(line_cubic(cur, start)); cur = start; break;
    }
  }
}

void place_on_path(const Path& path, const std::vector<double>& offsets, double accuracy,
                   std::vector<std::optional<Normal>>& normals) {
  double length = 0;
  for_each_cubic(path, [&](const Cubic& c) {
    if (normals.size() >= offsets.size()) return;
    double len = arclen(c, accuracy);
    size_t from = normals.size();
    for (size_t k = from; k < offsets.size(); ++k) {
      double off = offsets[k];
      if (off >= length && off <= length + len) {
        double t = std::clamp(inv_arclen(c, off - length, accuracy), 0.0, 1.0);
        Point pos = c.eval(t), d = c.deriv(t);
        double angle = std::atan2(d.y, d.x) * 180.0 / M_PI;
        normals.push_back(Normal{pos.x, pos.y, angle});
        if (normals.size() == offsets.size()) break;
      }
    }
    length += len;
  });
  while (normals.size() < offsets.size()) normals.push_back(std::nullopt);
}

// Unicode Vertical_Orientation "U" (upright) for the common blocks (Tu/Tr count as rotated,
// as resvg's check for Upright only).
bool is_upright(uint32_t c) {
  if (c < 0x1100) return c == 0xA7 || c == 0xA9 || c == 0xAE || c == 0xB1 || c == 0xBC ||
                         c == 0xBD || c == 0xBE || c == 0xD7 || c == 0xF7;
  if (c <= 0x11FF) return true;                       // Hangul Jamo
  if (c >= 0x1400 && c <= 0x167F) return true;        // Canadian syllabics
  if (c >= 0x18B0 && c <= 0x18FF) return true;
  if (c >= 0x2E80 && c <= 0x2FFF) return true;        // CJK radicals, ideographic description
  if (c >= 0x3000 && c <= 0x303F) {                   // CJK symbols and punctuation
    if (c == 0x3001 || c == 0x3002 || (c >= 0x3008 && c <= 0x3011) || (c >= 0x3014 && c <= 0x301F) ||
        c == 0x3030)
      return false;
    return true;
  }
  if (c >= 0x3040 && c <= 0x30FF) {                   // kana (small kana and the long mark: Tu/Tr)
    static const uint32_t tu[] = {0x3041, 0x3043, 0x3045, 0x3047, 0x3049, 0x3063, 0x3083, 0x3085,
                                  0x3087, 0x308E, 0x3095, 0x3096, 0x309B, 0x309C, 0x30A0, 0x30A1,
                                  0x30A3, 0x30A5, 0x30A7, 0x30A9, 0x30C3, 0x30E3, 0x30E5, 0x30E7,
                                  0x30EE, 0x30F5, 0x30F6, 0x30FC};
    return std::find(std::begin(tu), std::end(tu), c) == std::end(tu);
  }
  if (c >= 0x3100 && c <= 0xA4CF) return !(c >= 0x31F0 && c <= 0x31FF);
  if (c >= 0xA960 && c <= 0xA97F) return true;
  if (c >= 0xAC00 && c <= 0xD7FF) return true;        // Hangul syllables
  if (c >= 0xE000 && c <= 0xFAFF) return true;        // private use, compatibility ideographs
  if (c >= 0xFE30 && c <= 0xFE4F) return true;
  if (c >= 0xFF01 && c <= 0xFF60) {                   // fullwidth forms (brackets etc. are Tr/Tu)
    static const uint32_t tr[] = {0xFF08, 0xFF09, 0xFF0C, 0xFF0D, 0xFF0E, 0xFF1A, 0xFF1B, 0xFF1C,
                                  0xFF1D, 0xFF1E, 0xFF3B, 0xFF3D, 0xFF3F, 0xFF5B, 0xFF5C, 0xFF5D,
                                  0xFF5E, 0xFF5F, 0xFF60, 0xFF01, 0xFF1F};
    return std::find(std::begin(tr), std::end(tr), c) == std::end(tr);
  }
  if (c >= 0xFFE0 && c <= 0xFFE7) return true;
  if (c >= 0x1F000 && c <= 0x1FAFF) return true;      // symbols, emoji
  if (c >= 0x20000 && c <= 0x3FFFD) return true;      // CJK extensions
  return false;
}

double baseline_shift_of(const TextSpan& span, const FaceMetrics& m, bool horizontal = true) {
  double s = span.font_size / m.units_per_em;
  double ascent = m.ascent * s, descent = m.descent * s, height = ascent - descent;
  auto align = [&](Baseline b) -> double {
    switch (b) {
      case Baseline::BeforeEdge: case Baseline::TextBeforeEdge: return ascent;
      case Baseline::Middle: return m.x_height * s * 0.5;
      case Baseline::Central: return ascent - height * 0.5;
      case Baseline::AfterEdge: case Baseline::TextAfterEdge: return descent;
      case Baseline::Ideographic: return descent;
      case Baseline::Hanging: return ascent * 0.8;
      case Baseline::Mathematical: return ascent * 0.5;
      default: return 0.0;
    }
  };
  double bs = 0;
  for (auto it = span.baseline_shift.rbegin(); it != span.baseline_shift.rend(); ++it) {
    switch (it->kind) {
      case BaselineShift::Kind::Baseline: break;
      case BaselineShift::Kind::Sub: bs -= m.subscript_offset * s; break;
      case BaselineShift::Kind::Super: bs += m.superscript_offset * s; break;
      case BaselineShift::Kind::Length: bs += fin(it->value); break;
    }
  }
  double shift = -bs;
  if (!horizontal) return shift;
  if (span.alignment_baseline == Baseline::Auto || span.alignment_baseline == Baseline::Baseline)
    shift += align(span.dominant_baseline);
  else
    shift += align(span.alignment_baseline);
  return shift;
}

void rect_to_path(Path& p, const Rect& r, const Transform& ts) {
  Point a = ts.apply({r.x, r.y}), b = ts.apply({r.right(), r.y});
  Point c = ts.apply({r.right(), r.bottom()}), d = ts.apply({r.x, r.bottom()});
  p.move_to(a.x, a.y);
  p.line_to(b.x, b.y);
  p.line_to(c.x, c.y);
  p.line_to(d.x, d.y);
  p.close();
}

Rect bounds_of(const Rect& r, const Transform& ts) { return ts.map_rect(r); }

struct Pending {
  Path path;
  const TextSpan* span = nullptr;
  const DecorationPaint* deco = nullptr;  // null -> glyphs of `span`
};

}  // namespace

double path_length(const Path& path) {
  double total = 0;
  for_each_cubic(path, [&](const Cubic& c) { total += arclen(c, 0.5); });
  return total;
}

TextLayout layout_text(const TextInput& in, const FontDB& db) {
  TextLayout out;
  const std::string& text = in.text;
  // ---- validate spans and find the code point index of each span start ---------------
  // Spans are ordered, so one walk over the text checks every boundary.
  std::vector<size_t> span_cp(in.spans.size(), 0);
  {
    size_t pos = 0, cp = 0, prev_end = 0;
    auto advance_to = [&](size_t b) {
      while (pos < b && pos < text.size()) { decode_utf8(text, pos); ++cp; }
      if (pos != b) throw InputError("text: span range outside the text or not on a character boundary");
    };
    for (size_t k = 0; k < in.spans.size(); ++k) {
      const TextSpan& sp = in.spans[k];
      if (sp.start > sp.end || sp.end > text.size())
        throw InputError("text: span range outside the text");
      if (sp.start < prev_end) throw InputError("text: spans overlap or are out of order");
      advance_to(sp.start);
      span_cp[k] = cp;
      advance_to(sp.end);
      prev_end = sp.end;
    }
    if (cp > kMaxChars)
      throw InputError("text: more than " + std::to_string(kMaxChars) +
                       " characters in one <text> element");
  }
  auto pos_at = [&](size_t cp) -> const CharPosition* {
    return cp < in.positions.size() ? &in.positions[cp] : nullptr;
  };
  if (db.face_count() == 0) throw Unsupported("text:no-fonts");
  // Vertical text on a path: clusters keep their vertical-mode transforms (upright CJK
  // rotated, others on the baseline) and are placed along the path, as usvg does.

  // ---- chunks (as usvg's collect_text_chunks) -----------------------------------------
  std::vector<Chunk> chunks;
  for (size_t k = 0; k < in.spans.size(); ++k) {
    const TextSpan& sp = in.spans[k];
    if (!(sp.font_size > 0) || !std::isfinite(sp.font_size)) continue;
    size_t cpi = span_cp[k];
    int face = db.match(sp.font);
    if (face < 0) throw Unsupported("text:no-fonts");
    bool new_span = true;
    for (size_t i = sp.start; i < sp.end; ++cpi) {
      size_t b0 = i;
      decode_utf8(text, i);
      const CharPosition* p = pos_at(cpi);
      bool new_chunk = (p && (p->x || p->y)) || chunks.empty() ||
                       chunks.back().text_path != sp.text_path.get();
      if (new_chunk) {
        Chunk ch;
        ch.text_path = sp.text_path.get();
        if (p) { ch.x = fin(p->x); ch.y = fin(p->y); }
        ch.anchor = sp.anchor;
        ch.text.assign(text, b0, i - b0);
        ch.spans.push_back({0, i - b0, &sp, face});
        chunks.push_back(std::move(ch));
      } else if (new_span) {
        Chunk& ch = chunks.back();
        size_t s0 = ch.text.size();
        ch.text.append(text, b0, i - b0);
        ch.spans.push_back({s0, ch.text.size(), &sp, face});
      } else {
        Chunk& ch = chunks.back();
        ch.text.append(text, b0, i - b0);
        ch.spans.back().end = ch.text.size();
      }
      new_span = false;
    }
  }

  auto dxdy = [&](size_t cp, double& dx, double& dy) {
    const CharPosition* p = pos_at(cp);
    dx = p && p->dx ? fin(*p->dx) : 0.0;
    dy = p && p->dy ? fin(*p->dy) : 0.0;
  };
  auto rot = [&](size_t cp) { return cp < in.rotate.size() ? fin(in.rotate[cp]) : 0.0; };

  std::vector<Pending> pending;
  Rect bbox;
  bool have_bbox = false;
  auto expand = [&](const Rect& r) {
    if (!(r.w >= 0) || !(r.h >= 0)) return;
    if (!have_bbox) { bbox = r; have_bbox = true; }
    else bbox = Rect::from_ltrb(std::min(bbox.x, r.x), std::min(bbox.y, r.y),
                                std::max(bbox.right(), r.right()), std::max(bbox.bottom(), r.bottom()));
  };

  size_t char_offset = 0;
  double last_x = 0, last_y = 0;
  for (const Chunk& ch : chunks) {
    double x = ch.x.value_or(last_x), y = ch.y.value_or(last_y);
    // Chunk-local code point index per byte.
    std::vector<uint32_t> local_cp(ch.text.size() + 1, 0);
    size_t nloc = 0;
    for (size_t i = 0; i < ch.text.size();) { local_cp[i] = static_cast<uint32_t>(nloc++); decode_utf8(ch.text, i); }

    // ---- shaping and clusters ---------------------------------------------------------
    std::vector<ShapedGlyph> glyphs = shape_chunk(ch, db);
    std::vector<Cluster> clusters;
    for (size_t g0 = 0; g0 < glyphs.size();) {
      size_t g1 = g0;
      while (g1 < glyphs.size() && glyphs[g1].cluster == glyphs[g0].cluster) ++g1;
      size_t byte = glyphs[g0].cluster;
      const ChunkSpan* cs = byte < ch.text.size() ? span_at(ch, byte) : nullptr;
      if (cs) {
        Cluster c;
        c.byte_idx = byte;
        size_t bi = byte;
        c.codepoint = decode_utf8(ch.text, bi);
        double fx = 0;
        for (size_t k = g0; k < g1; ++k) {
          const ShapedGlyph& g = glyphs[k];
          const FaceMetrics& m = db.metrics(g.face);
          double sx = cs->span->font_size / m.units_per_em;
          c.glyphs.push_back({g.face, g.glyph, sx, Transform::translate(fx + g.x_offset, -g.y_offset)});
          fx += g.x_advance;
          c.width = std::max(c.width, g.x_advance * sx);
        }
        c.advance = c.width;
        const FaceMetrics& m0 = db.metrics(glyphs[g0].face);
        double s0 = cs->span->font_size / m0.units_per_em;
        c.ascent = m0.ascent * s0;
        c.descent = m0.descent * s0;
        clusters.push_back(std::move(c));
      }
      g0 = g1;
    }
    if (clusters.empty()) {
      char_offset += nloc;
      continue;
    }
    if (in.vertical) {
      for (Cluster& c : clusters) {
        if (is_upright(c.codepoint)) {
          double mid = (c.ascent + c.descent) / 2;
          double hw = c.width / 2;
          // translate(0, mid), then rotate -90 degrees about (hw, -mid)
          c.path_transform = Transform::translate(0, mid) * Transform::translate(hw, -mid) *
                             Transform::rotate_deg(-90) * Transform::translate(-hw, mid);
          c.ascent = c.width / 2;
          c.descent = -c.width / 2;
        } else {
          c.transform = c.transform * Transform::translate(0, (c.ascent + c.descent) / 2);
        }
      }
    }
    bool monotone = true;
    for (size_t i = 1; i < clusters.size(); ++i)
      if (clusters[i].byte_idx < clusters[i - 1].byte_idx) monotone = false;

    // ---- letter-spacing / word-spacing ------------------------------------------------
    bool any_ls = false, any_ws = false;
    for (auto& cs : ch.spans) {
      any_ls |= !approx_zero(fin(cs.span->letter_spacing));
      any_ws |= !approx_zero(fin(cs.span->word_spacing));
    }
    if (any_ls) {
      for (size_t i = 0; i < clusters.size(); ++i) {
        Cluster& c = clusters[i];
        if (!script_supports_letter_spacing(c.codepoint)) continue;
        const ChunkSpan* cs = span_at(ch, c.byte_idx);
        if (!cs) continue;
        if (i != clusters.size() - 1) c.advance += fin(cs->span->letter_spacing);
        if (!(c.advance > 0) || !std::isfinite(c.advance)) {
          c.width = 0;
          c.advance = 0;
          c.glyphs.clear();
        }
      }
    }
    if (any_ws) {
      for (Cluster& c : clusters) {
        if (!is_word_separator(c.codepoint)) continue;
        if (const ChunkSpan* cs = span_at(ch, c.byte_idx)) c.advance += fin(cs->span->word_spacing);
      }
    }
    // ---- textLength / lengthAdjust ----------------------------------------------------
    for (const ChunkSpan& cs : ch.spans) {
      if (!cs.span->text_length || !std::isfinite(*cs.span->text_length)) continue;
      double target = *cs.span->text_length;
      std::vector<size_t> idx;
      for (size_t i = 0; i < clusters.size(); ++i)
        if (clusters[i].byte_idx >= cs.start && clusters[i].byte_idx < cs.end) idx.push_back(i);
      if (idx.empty()) continue;
      double width = 0;
      for (size_t i : idx) width += clusters[i].width;
      if (!cs.span->length_adjust_spacing_and_glyphs) {
        double factor = idx.size() > 1 ? (target - width) / double(idx.size() - 1) : 0.0;
        for (size_t i : idx) clusters[i].advance = clusters[i].width + factor;
      } else {
        double factor = width > 0 ? target / width : 0.0;
        if (factor < 0.001) continue;
        for (size_t i : idx) {
          clusters[i].transform = clusters[i].transform * Transform::scale(factor, 1);
          if (ch.text_path) {  // as usvg: text-on-path needs scaled advances too
            clusters[i].advance *= factor;
            clusters[i].width *= factor;
          }
        }
      }
    }
    // ---- positions ----------------------------------------------------------------------
    double total = 0;
    for (auto& c : clusters) total += c.advance;
    double anchor_shift = ch.anchor == TextAnchor::Middle ? -total / 2 : ch.anchor == TextAnchor::End ? -total : 0;
    double cx = anchor_shift, cy = 0;
    if (!ch.text_path) {
      for (Cluster& c : clusters) {
        size_t cp = char_offset + local_cp[c.byte_idx];
        double dx, dy;
        dxdy(cp, dx, dy);
        if (in.vertical) {
          cy -= dx;
          cx += dy;
        } else {
          cx += dx;
          cy += dy;
        }
        c.has_relative_shift = !approx_zero(dx) || !approx_zero(dy);
        c.transform = c.transform * Transform::translate(cx, cy);
        double a = rot(cp);
        if (!approx_zero(a)) {
          c.transform = c.transform * Transform::rotate_deg(a);
          c.has_relative_shift = true;
        }
        cx += c.advance;
      }
    } else {
      x = 0;
      y = 0;
      double start = ch.x.value_or(0.0) + fin(ch.text_path->start_offset) + anchor_shift;
      // Offsets along the path of each cluster's midpoint (usvg's collect_normals).
      std::vector<double> offsets;
      std::vector<std::optional<Normal>> normals;
      double adv = start;
      for (const Cluster& c : clusters) {
        size_t cp = char_offset + local_cp[c.byte_idx];
        double dx, dy;
        dxdy(cp, dx, dy);
        adv += dx;
        double off = adv + c.width / 2;
        if (off < 0) normals.push_back(std::nullopt);
        offsets.push_back(off);
        adv += c.advance;
      }
      double accuracy = 0.5 / std::max(in.abs_scale > 0 && std::isfinite(in.abs_scale) ? in.abs_scale : 1.0, 1.0);
      place_on_path(ch.text_path->path, offsets, accuracy, normals);
      double acc_dy = 0, last_px = 0, last_py = 0;
      for (size_t i = 0; i < clusters.size(); ++i) {
        Cluster& c = clusters[i];
        if (!normals[i]) { c.visible = false; continue; }
        const Normal& nm = *normals[i];
        c.has_relative_shift = true;
        Transform orig = c.transform;
        double hw = c.width / 2;
        c.transform = Transform::translate(nm.x - hw, nm.y) * Transform::translate(hw, 0) *
                      Transform::rotate_deg(nm.angle) * Transform::translate(-hw, 0);
        size_t cp = char_offset + local_cp[c.byte_idx];
        double dx, dy;
        dxdy(cp, dx, dy);
        acc_dy += dy;
        double bshift = 0;
        if (const ChunkSpan* cs = span_at(ch, c.byte_idx))
          bshift = -baseline_shift_of(*cs->span, db.metrics(cs->face));
        if (!approx_zero(acc_dy) || !approx_zero(bshift))
          c.transform = c.transform * Transform::translate(0, acc_dy - bshift);
        double a = rot(cp);
        if (!approx_zero(a)) c.transform = c.transform * Transform::rotate_deg(a);
        c.transform = c.transform * orig;
        last_px = nm.x + c.advance;
        last_py = nm.y;
      }
      cx = last_px;
      cy = last_py;
    }

    Transform text_ts;
    if (in.vertical && !ch.text_path)
      text_ts = Transform::translate(x, y) * Transform::rotate_deg(90) * Transform::translate(-x, -y);

    // Union of the cluster metric boxes (before the span transform).
    Rect chunk_box;
    bool have_chunk_box = false;
    for (const Cluster& c : clusters) {
      if (!c.visible) continue;
      double adv = c.advance <= 0 ? 1.0 : c.advance;
      double h = c.ascent - c.descent;
      if (!(h > 0)) continue;
      Rect r = bounds_of(Rect{0, -c.ascent, adv, h}, c.full());
      if (!have_chunk_box) { chunk_box = r; have_chunk_box = true; }
      else chunk_box = Rect::from_ltrb(std::min(chunk_box.x, r.x), std::min(chunk_box.y, r.y),
                                       std::max(chunk_box.right(), r.right()),
                                       std::max(chunk_box.bottom(), r.bottom()));
    }

    // ---- spans --------------------------------------------------------------------------
    for (const ChunkSpan& cs : ch.spans) {
      const TextSpan& sp = *cs.span;
      const FaceMetrics& fm = db.metrics(cs.face);
      double s = sp.font_size / fm.units_per_em;
      Transform span_ts = text_ts * Transform::translate(x, y);
      if (!ch.text_path)
        span_ts = span_ts * Transform::translate(0, baseline_shift_of(sp, fm, !in.vertical));

      // Cluster range of this span.
      size_t c0 = 0, c1 = clusters.size();
      if (monotone) {
        c0 = static_cast<size_t>(std::lower_bound(clusters.begin(), clusters.end(), cs.start,
                                                  [](const Cluster& c, size_t b) { return c.byte_idx < b; }) -
                                 clusters.begin());
        c1 = static_cast<size_t>(std::lower_bound(clusters.begin() + static_cast<long>(c0), clusters.end(), cs.end,
                                                  [](const Cluster& c, size_t b) { return c.byte_idx < b; }) -
                                 clusters.begin());
      }
      auto in_span = [&](const Cluster& c) { return c.byte_idx >= cs.start && c.byte_idx < cs.end; };

      // Decoration spans.
      struct DecoSpan { double width; Transform ts; };
      std::vector<DecoSpan> deco_spans;
      if (sp.underline || sp.overline || sp.line_through) {
        bool started = false;
        double width = 0;
        Transform ts;
        for (size_t i = c0; i < c1; ++i) {
          const Cluster& c = clusters[i];
          if (!in_span(c)) {
            if (started) { deco_spans.push_back({width, ts}); started = false; }
            continue;
          }
          if (started && c.has_relative_shift) {
            started = false;
            deco_spans.push_back({width, ts});
          }
          if (!started) { width = c.advance; started = true; ts = c.transform; }
          else width += c.advance;
        }
        if (started) deco_spans.push_back({width, ts});
      }
      auto decoration = [&](const DecorationPaint& dp, double dy) {
        double th = fm.underline_thickness * s;
        Path p;
        for (auto& d : deco_spans) {
          if (!(d.width > 0) || !(th > 0)) continue;
          rect_to_path(p, Rect{0, -th / 2, d.width, th}, span_ts * d.ts * Transform::translate(0, dy));
        }
        if (p.empty()) return;
        expand(p.control_bounds());
        if (sp.visible) pending.push_back({std::move(p), &sp, &dp});
      };
      size_t deco_first = pending.size();
      double height = (fm.ascent - fm.descent) * s;
      if (sp.underline) decoration(*sp.underline, in.vertical ? height / 2 : -fm.underline_position * s);
      if (sp.overline) decoration(*sp.overline, in.vertical ? -height / 2 : -fm.ascent * s);
      // resvg draws overline before underline.
      if (sp.underline && sp.overline && pending.size() == deco_first + 2)
        std::swap(pending[deco_first], pending[deco_first + 1]);
      std::optional<Pending> through;
      if (sp.line_through) {
        size_t before = pending.size();
        decoration(*sp.line_through, in.vertical ? 0.0 : -fm.line_through_position * s);
        if (pending.size() > before) { through = std::move(pending.back()); pending.pop_back(); }
      }

      // Bounding box: every cluster of the chunk under this span's transform (as usvg).
      if (have_chunk_box) expand(bounds_of(chunk_box, span_ts));

      // Glyph outlines.
      Path glyph_path;
      for (size_t i = c0; i < c1; ++i) {
        const Cluster& c = clusters[i];
        if (!c.visible || !in_span(c)) continue;
        for (const PGlyph& g : c.glyphs) {
          auto outline = db.glyph_outline(g.face, g.glyph);
          if (outline->empty()) continue;
          Transform ts = span_ts * c.full() * Transform::scale(g.sx, g.sx) * g.glyph_ts *
                         Transform::scale(1, -1);
          append_transformed(glyph_path, *outline, ts);
        }
      }
      if (!glyph_path.empty() && sp.visible) pending.push_back({std::move(glyph_path), &sp, nullptr});
      if (through) pending.push_back(std::move(*through));
    }

    char_offset += nloc;
    if (in.vertical && !ch.text_path) std::swap(cx, cy);
    last_x = x + cx;
    last_y = y + cy;
  }

  if (!have_bbox || !(bbox.w > 0) || !(bbox.h > 0)) return out;  // resvg drops such text
  out.bbox = bbox;

  for (Pending& p : pending) {
    scene::PathNode node;
    node.path = std::move(p.path);
    if (p.deco) {
      node.fill = p.deco->fill_for_bbox ? p.deco->fill_for_bbox(bbox) : p.deco->fill;
      node.stroke = p.deco->stroke_for_bbox ? p.deco->stroke_for_bbox(bbox) : p.deco->stroke;
    } else {
      node.fill = p.span->fill_for_bbox ? p.span->fill_for_bbox(bbox) : p.span->fill;
      node.stroke = p.span->stroke_for_bbox ? p.span->stroke_for_bbox(bbox) : p.span->stroke;
      node.stroke_first = p.span->stroke_first;
      if (node.fill) node.fill->rule = scene::FillRule::NonZero;
    }
    if (!node.fill && !node.stroke) continue;
    if (!in.anti_alias) {
      if (node.fill) node.fill->anti_alias = false;
      if (node.stroke) node.stroke->anti_alias = false;
    }
    auto n = std::make_shared<scene::Node>();
    n->value = std::move(node);
    out.group.children.push_back(std::move(n));
  }
  return out;
}

}  // namespace verm::text
