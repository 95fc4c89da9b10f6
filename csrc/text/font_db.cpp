// FontDB: font discovery (FreeType), CSS font matching, HarfBuzz shaping with fallback,
// cached glyph outlines.
#include <ft2build.h>
#include FT_FREETYPE_H
#include FT_OUTLINE_H
#include FT_SFNT_NAMES_H
#include FT_TRUETYPE_IDS_H
#include FT_TRUETYPE_TABLES_H
#include <hb.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>

#include "core/status.h"
#include "text/utf8.h"
#include "text/text.h"

namespace verm::text {

namespace {

namespace fs = std::filesystem;

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string trim(const std::string& s) {
  size_t a = 0, b = s.size();
  while (a < b && std::isspace(static_cast<unsigned char>(s[a]))) ++a;
  while (b > a && std::isspace(static_cast<unsigned char>(s[b - 1]))) --b;
  return s.substr(a, b - a);
}

// UTF-16BE -> UTF-8 (name table strings).
std::string utf16be_to_utf8(const FT_Byte* p, FT_UInt len) {
  std::string out;
  for (FT_UInt i = 0; i + 1 < len; i += 2) {
    uint32_t cp = (uint32_t(p[i]) << 8) | p[i + 1];
    if (cp >= 0xD800 && cp < 0xDC00 && i + 3 < len) {
      uint32_t lo = (uint32_t(p[i + 2]) << 8) | p[i + 3];
      if (lo >= 0xDC00 && lo < 0xE000) {
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        i += 2;
      }
    }
    if (cp < 0x80) {
      out += char(cp);
    } else if (cp < 0x800) {
      out += char(0xC0 | (cp >> 6));
      out += char(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += char(0xE0 | (cp >> 12));
      out += char(0x80 | ((cp >> 6) & 0x3F));
      out += char(0x80 | (cp & 0x3F));
    } else {
      out += char(0xF0 | (cp >> 18));
      out += char(0x80 | ((cp >> 12) & 0x3F));
      out += char(0x80 | ((cp >> 6) & 0x3F));
      out += char(0x80 | (cp & 0x3F));
    }
  }
  return out;
}


bool is_rtl_cp(uint32_t cp) {
  return (cp >= 0x0590 && cp <= 0x08FF) || (cp >= 0xFB1D && cp <= 0xFDFF) ||
         (cp >= 0xFE70 && cp <= 0xFEFF) || (cp >= 0x10800 && cp <= 0x10FFF) ||
         (cp >= 0x1E800 && cp <= 0x1EFFF) || cp == 0x200F || cp == 0x202B || cp == 0x202E;
}

struct FaceInfo {
  std::string path;
  int index = 0;
  std::vector<std::string> families;  // display names
  std::vector<std::string> families_lc;
  int weight = 400;
  int style = 0;  // 0 normal, 1 italic, 2 oblique
  int stretch = 5;  // 1..9 (CSS keyword order)
  bool variable = false;  // has variation axes (fvar)
};

int stretch_from_percent(int pct) {
  if (pct <= 56) return 1;
  if (pct <= 68) return 2;
  if (pct <= 81) return 3;
  if (pct <= 93) return 4;
  if (pct <= 106) return 5;
  if (pct <= 118) return 6;
  if (pct <= 137) return 7;
  if (pct <= 175) return 8;
  return 9;
}

}  // namespace

// Lazily loaded runtime state of one face.
struct LoadedFace {
  std::shared_ptr<const std::vector<uint8_t>> data;
  FT_Face ft = nullptr;
  std::mutex ft_mutex;
  hb_blob_t* blob = nullptr;
  hb_face_t* hb_face = nullptr;
  hb_font_t* hb_font = nullptr;
  FaceMetrics metrics;
  bool ok = false;

  mutable std::shared_mutex cache_mutex;
  std::unordered_map<uint32_t, std::shared_ptr<const Path>> outlines;

  ~LoadedFace() {
    if (hb_font) hb_font_destroy(hb_font);
    if (hb_face) hb_face_destroy(hb_face);
    if (blob) hb_blob_destroy(blob);
    // FT_Face is released by Impl (needs the library lock).
  }
};

struct FaceSlot {
  FaceInfo info;
  std::once_flag once;
  std::unique_ptr<LoadedFace> loaded;
};

struct FontDB::Impl {
  FT_Library lib = nullptr;
  std::mutex lib_mutex;  // FT_New_Face / FT_Done_Face on the shared library
  std::vector<std::unique_ptr<FaceSlot>> faces;
  std::map<std::string, std::string> generics;  // generic -> family (lower-case key)

  std::mutex files_mutex;
  std::map<std::string, std::weak_ptr<const std::vector<uint8_t>>> files;

  mutable std::shared_mutex match_mutex;
  mutable std::unordered_map<std::string, int> match_cache;
  mutable std::shared_mutex fallback_mutex;
  mutable std::unordered_map<uint64_t, int> fallback_cache;  // (face, code point) -> face/-1

  ~Impl() {
    for (auto& f : faces) {
      if (f->loaded && f->loaded->ft) FT_Done_Face(f->loaded->ft);
      f->loaded.reset();
    }
    if (lib) FT_Done_FreeType(lib);
  }

  std::shared_ptr<const std::vector<uint8_t>> file_data(const std::string& path) {
    std::lock_guard<std::mutex> lk(files_mutex);
    auto it = files.find(path);
    if (it != files.end())
      if (auto sp = it->second.lock()) return sp;
    std::ifstream in(path, std::ios::binary);
    if (!in) return nullptr;
    in.seekg(0, std::ios::end);
    auto size = in.tellg();
    if (size <= 0 || size > (std::streamoff(1) << 31)) return nullptr;
    in.seekg(0);
    auto buf = std::make_shared<std::vector<uint8_t>>(static_cast<size_t>(size));
    if (!in.read(reinterpret_cast<char*>(buf->data()), size)) return nullptr;
    files[path] = buf;
    return buf;
  }

  void scan_file(const std::string& path) {
    FT_Face face = nullptr;
    if (FT_New_Face(lib, path.c_str(), -1, &face) != 0 || !face) return;
    long n = face->num_faces;
    FT_Done_Face(face);
    for (long i = 0; i < n && i < 256; ++i) {
      if (FT_New_Face(lib, path.c_str(), i, &face) != 0 || !face) continue;
      if (FT_IS_SCALABLE(face)) {
        auto slot = std::make_unique<FaceSlot>();
        FaceInfo& fi = slot->info;
        fi.path = path;
        fi.index = static_cast<int>(i);
        // Family names: typographic family (16) when present, else family (1), any language.
        for (FT_UShort want : {FT_UShort(16), FT_UShort(1)}) {
          FT_UInt count = FT_Get_Sfnt_Name_Count(face);
          for (FT_UInt k = 0; k < count; ++k) {
            FT_SfntName nm;
            if (FT_Get_Sfnt_Name(face, k, &nm) != 0 || nm.name_id != want) continue;
            std::string s;
            if (nm.platform_id == TT_PLATFORM_MICROSOFT || nm.platform_id == TT_PLATFORM_APPLE_UNICODE)
              s = utf16be_to_utf8(nm.string, nm.string_len);
            else if (nm.platform_id == TT_PLATFORM_MACINTOSH && nm.encoding_id == 0)
              s.assign(reinterpret_cast<const char*>(nm.string), nm.string_len);
            s = trim(s);
            if (s.empty()) continue;
            if (std::find(fi.families.begin(), fi.families.end(), s) == fi.families.end())
              fi.families.push_back(s);
          }
          if (!fi.families.empty()) break;
        }
        if (fi.families.empty() && face->family_name) fi.families.push_back(face->family_name);
        if (fi.families.empty()) { FT_Done_Face(face); continue; }
        for (auto& f : fi.families) fi.families_lc.push_back(lower(f));
        auto* os2 = static_cast<TT_OS2*>(FT_Get_Sfnt_Table(face, FT_SFNT_OS2));
        bool italic = (face->style_flags & FT_STYLE_FLAG_ITALIC) != 0;
        bool oblique = false;
        fi.weight = (face->style_flags & FT_STYLE_FLAG_BOLD) ? 700 : 400;
        if (os2 && os2->version != 0xFFFF) {
          if (os2->usWeightClass >= 1 && os2->usWeightClass <= 1000) fi.weight = os2->usWeightClass;
          static const int pct[] = {100, 50, 62, 75, 87, 100, 112, 125, 150, 200};
          if (os2->usWidthClass >= 1 && os2->usWidthClass <= 9)
            fi.stretch = stretch_from_percent(pct[os2->usWidthClass]);
          oblique = (os2->fsSelection & (1 << 9)) != 0;
          italic = (os2->fsSelection & 1) != 0 || (italic && !oblique);
        }
        fi.style = italic ? 1 : oblique ? 2 : 0;
        fi.variable = FT_HAS_MULTIPLE_MASTERS(face);
        faces.push_back(std::move(slot));
      }
      FT_Done_Face(face);
    }
  }

  void scan_dir(const fs::path& dir, int depth) {
    if (depth > 8) return;
    std::error_code ec;
    std::vector<fs::directory_entry> entries;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
      entries.push_back(*it);
    std::sort(entries.begin(), entries.end(),
              [](const auto& a, const auto& b) { return a.path() < b.path(); });
    for (auto& e : entries) {
      std::error_code ec2;
      if (e.is_directory(ec2)) {
        scan_dir(e.path(), depth + 1);
      } else if (e.is_regular_file(ec2)) {
        std::string ext = lower(e.path().extension().string());
        if (ext == ".ttf" || ext == ".otf" || ext == ".ttc" || ext == ".otc")
          scan_file(e.path().string());
      }
    }
  }

  void default_generics() {
    auto pick = [&](auto pred) -> std::string {
      for (auto& f : faces)
        for (auto& n : f->info.families)
          if (pred(lower(n))) return n;
      return faces.empty() ? std::string() : faces[0]->info.families[0];
    };
    auto has = [](const std::string& s, const char* w) { return s.find(w) != std::string::npos; };
    std::string sans = pick([&](const std::string& n) {
      return has(n, "sans") && !has(n, "mono") && !has(n, "cjk") && !has(n, "condensed");
    });
    std::string serif = pick([&](const std::string& n) {
      return has(n, "serif") && !has(n, "sans") && !has(n, "cjk") && !has(n, "condensed");
    });
    std::string mono = pick([&](const std::string& n) { return has(n, "mono") && !has(n, "cjk"); });
    generics["sans-serif"] = sans;
    generics["serif"] = serif;
    generics["monospace"] = mono;
    generics["cursive"] = sans;
    generics["fantasy"] = sans;
    generics["system-ui"] = sans;
  }

  LoadedFace* load(int idx) {
    if (idx < 0 || idx >= static_cast<int>(faces.size())) return nullptr;
    FaceSlot& slot = *faces[idx];
    std::call_once(slot.once, [&]() {
      auto lf = std::make_unique<LoadedFace>();
      lf->data = file_data(slot.info.path);
      if (lf->data) {
        {
          std::lock_guard<std::mutex> lk(lib_mutex);
          if (FT_New_Memory_Face(lib, lf->data->data(), static_cast<FT_Long>(lf->data->size()),
                                 slot.info.index, &lf->ft) != 0)
            lf->ft = nullptr;
        }
        if (lf->ft) {
          lf->blob = hb_blob_create(reinterpret_cast<const char*>(lf->data->data()),
                                    static_cast<unsigned>(lf->data->size()),
                                    HB_MEMORY_MODE_READONLY, nullptr, nullptr);
          lf->hb_face = hb_face_create(lf->blob, static_cast<unsigned>(slot.info.index));
          lf->hb_font = hb_font_create(lf->hb_face);
          hb_font_make_immutable(lf->hb_font);
          lf->metrics = read_metrics(lf->ft);
          lf->ok = true;
        }
      }
      slot.loaded = std::move(lf);
    });
    return slot.loaded && slot.loaded->ok ? slot.loaded.get() : nullptr;
  }

  static FaceMetrics read_metrics(FT_Face ft) {
    FaceMetrics m;
    m.units_per_em = ft->units_per_EM > 0 ? ft->units_per_EM : 1000;
    auto* os2 = static_cast<TT_OS2*>(FT_Get_Sfnt_Table(ft, FT_SFNT_OS2));
    auto* hhea = static_cast<TT_HoriHeader*>(FT_Get_Sfnt_Table(ft, FT_SFNT_HHEA));
    auto* post = static_cast<TT_Postscript*>(FT_Get_Sfnt_Table(ft, FT_SFNT_POST));
    bool has_os2 = os2 && os2->version != 0xFFFF;
    bool use_typo = has_os2 && (os2->fsSelection & (1 << 7));
    if (use_typo) {
      m.ascent = os2->sTypoAscender;
      m.descent = os2->sTypoDescender;
    } else if (hhea && (hhea->Ascender != 0 || hhea->Descender != 0)) {
      m.ascent = hhea->Ascender;
      m.descent = hhea->Descender;
    } else if (has_os2 && (os2->sTypoAscender != 0 || os2->sTypoDescender != 0)) {
      m.ascent = os2->sTypoAscender;
      m.descent = os2->sTypoDescender;
    } else if (has_os2) {
      m.ascent = os2->usWinAscent;
      m.descent = -double(os2->usWinDescent);
    } else {
      m.ascent = ft->ascender;
      m.descent = ft->descender;
    }
    double upem = m.units_per_em;
    m.x_height = 0;
    if (has_os2 && os2->version >= 2 && os2->sxHeight > 0) m.x_height = os2->sxHeight;
    if (m.x_height <= 0) m.x_height = std::floor((m.ascent - m.descent) * 0.45);
    m.line_through_position =
        has_os2 ? double(os2->yStrikeoutPosition) : std::floor(m.x_height / 2);
    if (post && post->underlineThickness > 0) {
      m.underline_position = post->underlinePosition;
      m.underline_thickness = post->underlineThickness;
    } else if (post) {
      m.underline_position = post->underlinePosition;
      m.underline_thickness = std::floor(upem / 12);
    } else {
      m.underline_position = -std::floor(upem / 9);
      m.underline_thickness = std::floor(upem / 12);
    }
    if (has_os2) {
      m.subscript_offset = os2->ySubscriptYOffset;
      m.superscript_offset = os2->ySuperscriptYOffset;
    } else {
      m.subscript_offset = std::round(upem * 0.2);
      m.superscript_offset = std::round(upem * 0.4);
    }
    return m;
  }

  // CSS Fonts 3, 5.2 step 4: pick among faces of one family.
  int best_match(const std::vector<int>& cand, const FontQuery& q) const {
    std::vector<int> set = cand;
    // (a) stretch
    int want = stretch_from_percent(q.stretch);
    auto has_stretch = [&](int s) {
      for (int i : set) if (faces[i]->info.stretch == s) return true;
      return false;
    };
    int chosen = -1;
    if (has_stretch(want)) {
      chosen = want;
    } else {
      std::vector<int> order;
      if (want <= 5) {
        for (int s = want - 1; s >= 1; --s) order.push_back(s);
        for (int s = want + 1; s <= 9; ++s) order.push_back(s);
      } else {
        for (int s = want + 1; s <= 9; ++s) order.push_back(s);
        for (int s = want - 1; s >= 1; --s) order.push_back(s);
      }
      for (int s : order) if (has_stretch(s)) { chosen = s; break; }
    }
    set.erase(std::remove_if(set.begin(), set.end(),
                             [&](int i) { return faces[i]->info.stretch != chosen; }),
              set.end());
    // (b) style
    int order_italic[] = {1, 2, 0}, order_oblique[] = {2, 1, 0}, order_normal[] = {0, 2, 1};
    const int* order = q.italic ? order_italic : q.oblique ? order_oblique : order_normal;
    for (int k = 0; k < 3; ++k) {
      bool any = false;
      for (int i : set) if (faces[i]->info.style == order[k]) { any = true; break; }
      if (any) {
        int st = order[k];
        set.erase(std::remove_if(set.begin(), set.end(),
                                 [&](int i) { return faces[i]->info.style != st; }),
                  set.end());
        break;
      }
    }
    // (c) weight
    int w = std::clamp(q.weight, 1, 1000);
    auto first_with = [&](auto pred) -> int {
      int best = -1, best_w = 0;
      for (int i : set) {
        int fw = faces[i]->info.weight;
        if (!pred(fw)) continue;
        if (best < 0 || std::abs(fw - w) < std::abs(best_w - w)) { best = i; best_w = fw; }
      }
      return best;
    };
    for (int i : set) if (faces[i]->info.weight == w) return i;
    int r = -1;
    if (w >= 400 && w <= 500) {
      r = first_with([&](int fw) { return fw > w && fw <= 500; });
      if (r < 0) r = first_with([&](int fw) { return fw < w; });
      if (r < 0) r = first_with([&](int fw) { return fw > 500; });
    } else if (w < 400) {
      r = first_with([&](int fw) { return fw < w; });
      if (r < 0) r = first_with([&](int fw) { return fw > w; });
    } else {
      r = first_with([&](int fw) { return fw > w; });
      if (r < 0) r = first_with([&](int fw) { return fw < w; });
    }
    return r >= 0 ? r : (set.empty() ? cand.front() : set.front());
  }

  int match_family(const std::string& family, const FontQuery& q) const {
    std::string f = lower(trim(family));
    if (f.size() >= 2 && (f.front() == '"' || f.front() == '\'') && f.back() == f.front())
      f = f.substr(1, f.size() - 2);
    auto g = generics.find(f);
    if (g != generics.end()) f = lower(g->second);
    std::vector<int> cand;
    for (size_t i = 0; i < faces.size(); ++i)
      for (auto& n : faces[i]->info.families_lc)
        if (n == f) { cand.push_back(static_cast<int>(i)); break; }
    if (cand.empty()) return -1;
    return best_match(cand, q);
  }

  bool has_char(int idx, uint32_t cp) {
    LoadedFace* lf = load(idx);
    if (!lf) return false;
    hb_codepoint_t g = 0;
    return hb_font_get_nominal_glyph(lf->hb_font, cp, &g) && g != 0;
  }
};

FontDB::FontDB(const std::vector<std::string>& dirs) : impl_(std::make_unique<Impl>()) {
  if (FT_Init_FreeType(&impl_->lib) != 0) throw std::runtime_error("FreeType init failed");
  for (auto& d : dirs) {
    std::error_code ec;
    fs::path p(d);
    if (fs::is_directory(p, ec)) impl_->scan_dir(p, 0);
    else if (fs::is_regular_file(p, ec)) impl_->scan_file(p.string());
  }
  impl_->default_generics();
}

FontDB::~FontDB() = default;

void FontDB::set_generic(const std::string& generic, const std::string& family) {
  impl_->generics[lower(trim(generic))] = family;
  std::unique_lock<std::shared_mutex> lk(impl_->match_mutex);
  impl_->match_cache.clear();
}

size_t FontDB::face_count() const { return impl_->faces.size(); }

std::vector<std::string> FontDB::families() const {
  std::vector<std::string> out;
  for (auto& f : impl_->faces)
    for (auto& n : f->info.families)
      if (std::find(out.begin(), out.end(), n) == out.end()) out.push_back(n);
  return out;
}

std::string FontDB::face_family(int face) const {
  if (face < 0 || face >= static_cast<int>(impl_->faces.size())) return {};
  return impl_->faces[face]->info.families.front();
}

std::array<int, 3> FontDB::face_style(int face) const {
  if (face < 0 || face >= static_cast<int>(impl_->faces.size())) return {0, 0, 0};
  const FaceInfo& fi = impl_->faces[face]->info;
  return {fi.weight, fi.style, fi.stretch};
}

bool FontDB::face_is_variable(int face) const {
  if (face < 0 || face >= static_cast<int>(impl_->faces.size())) return false;
  return impl_->faces[face]->info.variable;
}

int FontDB::match(const FontQuery& q) const {
  if (impl_->faces.empty()) return -1;
  std::string key;
  for (auto& f : q.families) { key += f; key += '\x1f'; }
  key += std::to_string(q.weight) + '/' + std::to_string(q.italic) + std::to_string(q.oblique) +
         '/' + std::to_string(q.stretch);
  {
    std::shared_lock<std::shared_mutex> lk(impl_->match_mutex);
    auto it = impl_->match_cache.find(key);
    if (it != impl_->match_cache.end()) return it->second;
  }
  int r = -1;
  for (auto& f : q.families) {
    r = impl_->match_family(f, q);
    if (r >= 0) break;
  }
  if (r < 0) r = impl_->match_family("serif", q);
  if (r < 0) r = impl_->match_family("sans-serif", q);
  if (r < 0) {
    std::vector<int> all(impl_->faces.size());
    for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<int>(i);
    r = impl_->best_match(all, q);
  }
  std::unique_lock<std::shared_mutex> lk(impl_->match_mutex);
  if (impl_->match_cache.size() > 4096) impl_->match_cache.clear();
  impl_->match_cache.emplace(key, r);
  return r;
}

const FaceMetrics& FontDB::metrics(int face) const {
  static const FaceMetrics kDefault{};
  LoadedFace* lf = impl_->load(face);
  return lf ? lf->metrics : kDefault;
}

namespace {

// ---- simplified Unicode bidi (UAX #9 for a left-to-right paragraph, as resvg) ----------
struct BidiRun {
  size_t start, end;  // byte range
  bool rtl;
};

// Visual runs of `s`: weak/neutral resolution W2, W7, N1/N2 and reordering L2 for a
// left-to-right paragraph without embeddings (numbers in right-to-left context stay LTR).
std::vector<BidiRun> bidi_runs(const std::string& s) {
  enum T : uint8_t { L, R, AL, EN, AN, N };
  struct C { size_t b; T t; };
  std::vector<C> cs;
  hb_unicode_funcs_t* uf = hb_unicode_funcs_get_default();
  bool any_rtl = false;
  for (size_t i = 0; i < s.size();) {
    size_t b = i;
    uint32_t cp = decode_utf8(s, i);
    hb_unicode_general_category_t gc = hb_unicode_general_category(uf, cp);
    hb_script_t sc = hb_unicode_script(uf, cp);
    T t = N;
    bool mark = gc == HB_UNICODE_GENERAL_CATEGORY_NON_SPACING_MARK ||
                gc == HB_UNICODE_GENERAL_CATEGORY_ENCLOSING_MARK;
    if (cp == 0x200F) t = R;
    else if (cp == 0x200E) t = L;
    else if (gc == HB_UNICODE_GENERAL_CATEGORY_DECIMAL_NUMBER) t = (cp >= 0x660 && cp <= 0x669) ? AN : EN;
    else if (mark) t = cs.empty() ? N : cs.back().t;  // W1: NSM takes the previous type
    else if (is_rtl_cp(cp) || hb_script_get_horizontal_direction(sc) == HB_DIRECTION_RTL)
      t = (sc == HB_SCRIPT_ARABIC || sc == HB_SCRIPT_SYRIAC || sc == HB_SCRIPT_THAANA) ? AL : R;
    else if (gc >= HB_UNICODE_GENERAL_CATEGORY_LOWERCASE_LETTER &&
             gc <= HB_UNICODE_GENERAL_CATEGORY_UPPERCASE_LETTER)
      t = L;
    else if (gc == HB_UNICODE_GENERAL_CATEGORY_SPACING_MARK) t = L;
    any_rtl |= (t == R || t == AL);
    cs.push_back({b, t});
  }
  if (!any_rtl) return {{0, s.size(), false}};
  // W2 / W7: numbers after Arabic letters are AN, after L (or at start) are L.
  T last_strong = L;
  for (auto& c : cs) {
    if (c.t == L || c.t == R || c.t == AL) last_strong = c.t;
    else if (c.t == EN) c.t = last_strong == AL ? AN : last_strong == L ? L : EN;
  }
  for (auto& c : cs) if (c.t == AL) c.t = R;
  // N1/N2: neutrals between same-direction strongs take it, else the paragraph's (L).
  auto dir = [](T t) { return t == L ? L : R; };  // numbers count as R for N1
  for (size_t i = 0; i < cs.size();) {
    if (cs[i].t != N) { ++i; continue; }
    size_t j = i;
    while (j < cs.size() && cs[j].t == N) ++j;
    T before = i == 0 ? L : dir(cs[i - 1].t);
    T after = j == cs.size() ? L : dir(cs[j].t);
    T r = before == after ? before : L;
    for (size_t k = i; k < j; ++k) cs[k].t = r;
    i = j;
  }
  // Levels (I1): L 0, R 1, numbers 2.
  std::vector<int> lv(cs.size());
  for (size_t i = 0; i < cs.size(); ++i) lv[i] = cs[i].t == L ? 0 : cs[i].t == R ? 1 : 2;
  struct LRun { size_t start, end; int level; };
  std::vector<LRun> runs;
  for (size_t i = 0; i < cs.size();) {
    size_t j = i;
    while (j < cs.size() && lv[j] == lv[i]) ++j;
    runs.push_back({cs[i].b, j < cs.size() ? cs[j].b : s.size(), lv[i]});
    i = j;
  }
  // L2: reverse runs at each level from the highest down to 1.
  for (int level = 2; level >= 1; --level) {
    for (size_t i = 0; i < runs.size();) {
      if (runs[i].level < level) { ++i; continue; }
      size_t j = i;
      while (j < runs.size() && runs[j].level >= level) ++j;
      std::reverse(runs.begin() + static_cast<long>(i), runs.begin() + static_cast<long>(j));
      i = j;
    }
  }
  std::vector<BidiRun> out;
  for (auto& r : runs) out.push_back({r.start, r.end, (r.level & 1) != 0});
  return out;
}

std::vector<ShapedGlyph> shape_with(LoadedFace* lf, int face, const std::string& s,
                                    const ShapeOptions& opts) {
  std::vector<ShapedGlyph> out;
  if (!lf || s.empty()) return out;
  hb_feature_t feats[2];
  unsigned nf = 0;
  if (opts.small_caps) {
    feats[nf++] = {HB_TAG('s', 'm', 'c', 'p'), 1, HB_FEATURE_GLOBAL_START, HB_FEATURE_GLOBAL_END};
  }
  if (!opts.kerning) {
    feats[nf++] = {HB_TAG('k', 'e', 'r', 'n'), 0, HB_FEATURE_GLOBAL_START, HB_FEATURE_GLOBAL_END};
  }
  hb_buffer_t* buf = hb_buffer_create();
  for (const BidiRun& run : bidi_runs(s)) {
    if (run.end <= run.start) continue;
    hb_buffer_clear_contents(buf);
    const char* sub = s.data() + run.start;
    int len = static_cast<int>(run.end - run.start);
    hb_buffer_add_utf8(buf, sub, len, 0, len);
    hb_buffer_set_direction(buf, run.rtl ? HB_DIRECTION_RTL : HB_DIRECTION_LTR);
    // Script of the run's first character (as resvg), Common when it has none.
    size_t i0 = run.start;
    uint32_t cp0 = decode_utf8(s, i0);
    hb_script_t script = hb_unicode_script(hb_unicode_funcs_get_default(), cp0);
    if (script == HB_SCRIPT_INHERITED || script == HB_SCRIPT_UNKNOWN) script = HB_SCRIPT_COMMON;
    hb_buffer_set_script(buf, script);
    hb_shape(lf->hb_font, buf, nf ? feats : nullptr, nf);
    unsigned n = 0;
    hb_glyph_info_t* info = hb_buffer_get_glyph_infos(buf, &n);
    hb_glyph_position_t* pos = hb_buffer_get_glyph_positions(buf, &n);
    for (unsigned i = 0; i < n; ++i) {
      ShapedGlyph g;
      g.face = face;
      g.glyph = info[i].codepoint;
      g.cluster = static_cast<uint32_t>(run.start) + info[i].cluster;
      uint32_t end;
      if (!run.rtl) end = (i + 1 < n) ? info[i + 1].cluster : static_cast<uint32_t>(len);
      else end = (i > 0) ? info[i - 1].cluster : static_cast<uint32_t>(len);
      g.cluster_len = end > info[i].cluster ? end - info[i].cluster : 0;
      g.x_advance = pos[i].x_advance;
      g.x_offset = pos[i].x_offset;
      g.y_offset = pos[i].y_offset;
      out.push_back(g);
    }
  }
  hb_buffer_destroy(buf);
  return out;
}

}  // namespace

std::vector<ShapedGlyph> FontDB::shape_glyphs(const std::string& s, int face,
                                              const ShapeOptions& opts) const {
  LoadedFace* lf = impl_->load(face);
  if (!lf) return {};
  std::vector<ShapedGlyph> glyphs = shape_with(lf, face, s, opts);
  std::vector<int> used{face};
  const FaceInfo& base = impl_->faces[face]->info;
  for (int guard = 0; guard < 64; ++guard) {
    const ShapedGlyph* missing = nullptr;
    for (auto& g : glyphs)
      if (g.glyph == 0) { missing = &g; break; }
    if (!missing) break;
    size_t ci = missing->cluster;
    uint32_t cp = decode_utf8(s, ci);
    // First fallback lookup per (face, character) is cached: tables repeat characters a lot.
    const bool cacheable = used.size() == 1;
    const uint64_t key = (uint64_t(uint32_t(face)) << 32) | cp;
    int fb = -2;
    if (cacheable) {
      std::shared_lock<std::shared_mutex> lk(impl_->fallback_mutex);
      auto it = impl_->fallback_cache.find(key);
      if (it != impl_->fallback_cache.end()) fb = it->second;
    }
    if (fb == -2) {
      fb = -1;
      for (size_t i = 0; i < impl_->faces.size(); ++i) {
        int id = static_cast<int>(i);
        if (std::find(used.begin(), used.end(), id) != used.end()) continue;
        const FaceInfo& fi = impl_->faces[i]->info;
        if (fi.style != base.style && fi.weight != base.weight && fi.stretch != base.stretch)
          continue;
        if (!impl_->has_char(id, cp)) continue;
        fb = id;
        break;
      }
      if (cacheable) {
        std::unique_lock<std::shared_mutex> lk(impl_->fallback_mutex);
        if (impl_->fallback_cache.size() > 65536) impl_->fallback_cache.clear();
        impl_->fallback_cache.emplace(key, fb);
      }
    }
    if (fb < 0) break;
    std::vector<ShapedGlyph> alt = shape_with(impl_->load(fb), fb, s, opts);
    bool all = std::all_of(alt.begin(), alt.end(), [](const ShapedGlyph& g) { return g.glyph != 0; });
    if (all) { glyphs = std::move(alt); break; }
    if (alt.size() != glyphs.size()) break;
    for (size_t i = 0; i < glyphs.size(); ++i)
      if (glyphs[i].glyph == 0 && alt[i].glyph != 0) glyphs[i] = alt[i];
    used.push_back(fb);
  }
  return glyphs;
}

namespace {

struct Decomposer {
  Path* path;
  bool open = false;
};

int dec_move(const FT_Vector* to, void* user) {
  auto* d = static_cast<Decomposer*>(user);
  if (d->open) d->path->close();
  d->path->move_to(to->x, to->y);
  d->open = true;
  return 0;
}
int dec_line(const FT_Vector* to, void* user) {
  static_cast<Decomposer*>(user)->path->line_to(to->x, to->y);
  return 0;
}
int dec_conic(const FT_Vector* c, const FT_Vector* to, void* user) {
  static_cast<Decomposer*>(user)->path->quad_to(c->x, c->y, to->x, to->y);
  return 0;
}
int dec_cubic(const FT_Vector* c1, const FT_Vector* c2, const FT_Vector* to, void* user) {
  static_cast<Decomposer*>(user)->path->cubic_to(c1->x, c1->y, c2->x, c2->y, to->x, to->y);
  return 0;
}

}  // namespace

std::shared_ptr<const Path> FontDB::glyph_outline(int face, uint32_t glyph) const {
  LoadedFace* lf = impl_->load(face);
  if (!lf) return std::make_shared<const Path>();
  {
    std::shared_lock<std::shared_mutex> lk(lf->cache_mutex);
    auto it = lf->outlines.find(glyph);
    if (it != lf->outlines.end()) return it->second;
  }
  auto path = std::make_shared<Path>();
  {
    std::lock_guard<std::mutex> lk(lf->ft_mutex);
    if (FT_Load_Glyph(lf->ft, glyph, FT_LOAD_NO_SCALE | FT_LOAD_NO_HINTING | FT_LOAD_NO_BITMAP) == 0 &&
        lf->ft->glyph->format == FT_GLYPH_FORMAT_OUTLINE) {
      FT_Outline_Funcs funcs{dec_move, dec_line, dec_conic, dec_cubic, 0, 0};
      Decomposer d{path.get()};
      FT_Outline_Decompose(&lf->ft->glyph->outline, &funcs, &d);
      if (d.open) path->close();
    }
  }
  if (glyph == 0 && path->empty()) {
    // Missing-glyph box (outer rectangle, inner hole; nonzero via opposite winding).
    double em = lf->metrics.units_per_em, x0 = 0.06 * em, x1 = 0.5 * em, y0 = 0, y1 = 0.7 * em;
    double t = 0.05 * em;
    path->move_to(x0, y0); path->line_to(x1, y0); path->line_to(x1, y1); path->line_to(x0, y1);
    path->close();
    path->move_to(x0 + t, y0 + t); path->line_to(x0 + t, y1 - t); path->line_to(x1 - t, y1 - t);
    path->line_to(x1 - t, y0 + t); path->close();
  }
  std::shared_ptr<const Path> result = path;
  std::unique_lock<std::shared_mutex> lk(lf->cache_mutex);
  auto [it, inserted] = lf->outlines.emplace(glyph, result);
  return it->second;
}

double FontDB::measure(const std::string& utf8, const FontQuery& query, double size) const {
  if (utf8.empty() || !(size > 0) || !std::isfinite(size)) return 0;
  int face = match(query);
  if (face < 0) return 0;
  double total = 0;
  for (auto& g : shape_glyphs(utf8, face, {})) {
    const FaceMetrics& m = metrics(g.face);
    double adv = g.x_advance;
    if (g.glyph == 0 && adv <= 0) adv = 0.56 * m.units_per_em;
    total += adv * size / m.units_per_em;
  }
  return total;
}

ShapedRun FontDB::shape(const std::string& utf8, const FontQuery& query, double size) const {
  ShapedRun run;
  if (!(size > 0) || !std::isfinite(size)) return run;
  int face = match(query);
  if (face < 0) return run;
  const FaceMetrics& pm = metrics(face);
  run.ascent = pm.ascent * size / pm.units_per_em;
  run.descent = -pm.descent * size / pm.units_per_em;
  double x = 0;
  for (auto& g : shape_glyphs(utf8, face, {})) {
    const FaceMetrics& m = metrics(g.face);
    double s = size / m.units_per_em;
    double adv = g.x_advance;
    if (g.glyph == 0) {
      run.missing_glyphs = true;
      if (adv <= 0) adv = 0.56 * m.units_per_em;
    }
    auto outline = glyph_outline(g.face, g.glyph);
    if (!outline->empty()) {
      Transform ts{s, 0, 0, -s, x + g.x_offset * s, -g.y_offset * s};
      append_transformed(run.outline, *outline, ts);
    }
    x += adv * s;
  }
  run.advance = x;
  return run;
}

}  // namespace verm::text
