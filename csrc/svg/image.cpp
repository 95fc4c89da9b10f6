// <image>: data: URIs and files inside resources_dir, decoded with libpng / libjpeg.
// Nothing outside resources_dir is ever read and nothing is fetched (see check_hrefs()).
#include <png.h>
#include <cstdio>
#include <csetjmp>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <jpeglib.h>
#if defined(VERM_HAVE_WEBP)
#include <webp/decode.h>
#endif
#include <zlib.h>

#include "svg/convert.h"
#include "svg/image_io.h"
#include "xml/xml.h"

namespace verm::svg {

namespace fs = std::filesystem;

namespace {

int b64val(unsigned char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+' || c == '-') return 62;
  if (c == '/' || c == '_') return 63;
  return -1;
}

std::vector<uint8_t> base64_decode(std::string_view s) {
  std::vector<uint8_t> out;
  out.reserve(s.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : s) {
    if (c == '=') break;
    int v = b64val(c);
    if (v < 0) continue;  // whitespace and junk are skipped (forgiving base64)
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<uint8_t>((acc >> bits) & 0xFF));
    }
  }
  return out;
}

std::vector<uint8_t> percent_decode(std::string_view s) {
  std::vector<uint8_t> out;
  out.reserve(s.size());
  auto hex = [](char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out.push_back(static_cast<uint8_t>(hex(s[i + 1]) * 16 + hex(s[i + 2])));
      i += 2;
    } else {
      out.push_back(static_cast<uint8_t>(s[i]));
    }
  }
  return out;
}

bool is_url(std::string_view href) {
  size_t colon = href.find(':');
  if (colon == std::string_view::npos || colon < 2) return false;  // "C:" drive letters aside
  for (size_t i = 0; i < colon; ++i) {
    char c = href[i];
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.'))
      return false;
  }
  return true;
}

}  // namespace

// Resolves a local file href against resources_dir; throws InputError when it escapes it.
fs::path resolve_local_href(std::string_view href, const std::string& resources_dir) {
  std::string h(href);
  if (h.rfind("file:", 0) == 0)
    throw InputError("SVG: href '" + h.substr(0, 200) + "' is a file: URL (never read)");
  std::error_code ec;
  if (resources_dir.empty()) {
    // Nothing may be read; a file that exists (relative to the working directory, where a
    // fallback renderer would look) is an error, a missing one simply is not drawn.
    if (fs::exists(fs::path(h), ec))
      throw InputError("SVG: href '" + h.substr(0, 200) +
                       "' refers to a file but no resources_dir was given (never read)");
    return {};
  }
  fs::path base = fs::weakly_canonical(fs::path(resources_dir), ec);
  if (ec) throw InputError("SVG: resources_dir is not accessible");
  fs::path p = fs::path(h);
  if (p.is_absolute()) p = p.lexically_normal();
  else p = (base / p).lexically_normal();
  fs::path canon = fs::weakly_canonical(p, ec);
  if (ec) canon = p;
  auto rel = canon.lexically_relative(base);
  if (rel.empty() || *rel.begin() == "..") {
    // Outside resources_dir: an existing file is an error (it is never opened); a missing one
    // is simply not drawn, as a missing file inside resources_dir.
    if (fs::exists(canon, ec))
      throw InputError("SVG: href '" + h.substr(0, 200) +
                       "' points outside resources_dir (never read)");
    return {};
  }
  return canon;
}

void check_hrefs(const Document& doc, const std::string& resources_dir) {
  for (NodeId n = 0; n < doc.size(); ++n) {
    // Only <image> and <feImage> load files (resvg ignores external `use`, `a` is a link).
    if (doc.node(n).is_text || (doc.tag(n) != EId::Image && doc.tag(n) != EId::FeImage)) continue;
    const std::string* h = doc.attr(n, AId::Href);
    if (!h) continue;
    std::string_view v = trim(*h);
    if (v.empty() || v[0] == '#') continue;
    if (v.rfind("data:", 0) == 0) continue;
    if (is_url(v) && v.rfind("file:", 0) != 0) continue;  // network URLs: never fetched
    std::string_view path = v.substr(0, v.find('#'));
    if (path.empty()) continue;
    resolve_local_href(path, resources_dir);
  }
}

namespace {

struct PngReader {
  const std::vector<uint8_t>* data;
  size_t pos;
};

void png_read_cb(png_structp png, png_bytep out, png_size_t len) {
  auto* r = static_cast<PngReader*>(png_get_io_ptr(png));
  if (r->pos + len > r->data->size()) png_error(png, "truncated PNG");
  std::memcpy(out, r->data->data() + r->pos, len);
  r->pos += len;
}

void png_silent_error(png_structp png, png_const_charp) { png_longjmp(png, 1); }
void png_silent_warning(png_structp, png_const_charp) {}

// Buffers live outside the setjmp frame so a longjmp never leaves them indeterminate.
struct PngBuffers {
  std::vector<png_bytep> rows;
  std::vector<uint8_t> pixels;
};

bool decode_png_impl(const std::vector<uint8_t>& data, size_t max_pixels, PngBuffers& buf,
                     DecodedImage& out) {
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, nullptr, png_silent_error,
                                           png_silent_warning);
  if (!png) return false;
  png_infop info = png_create_info_struct(png);
  if (!info) { png_destroy_read_struct(&png, nullptr, nullptr); return false; }
  PngReader reader{&data, 0};
  std::vector<png_bytep>& rows = buf.rows;
  std::vector<uint8_t>& pixels = buf.pixels;
  volatile bool too_big = false;
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_read_struct(&png, &info, nullptr);
    if (too_big) throw InputError("SVG: embedded image exceeds max_pixels");
    return false;
  }
  png_set_read_fn(png, &reader, png_read_cb);
  png_read_info(png, info);
  png_uint_32 w = png_get_image_width(png, info), h = png_get_image_height(png, info);
  if (w == 0 || h == 0) png_error(png, "empty");
  if (static_cast<size_t>(w) * h > max_pixels) { too_big = true; png_error(png, "too big"); }
  int ct = png_get_color_type(png, info);
  png_set_strip_16(png);
  png_set_packing(png);
  if (ct == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if (ct == PNG_COLOR_TYPE_GRAY && png_get_bit_depth(png, info) < 8) png_set_expand_gray_1_2_4_to_8(png);
  if (png_get_valid(png, info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(png);
  if (ct == PNG_COLOR_TYPE_GRAY || ct == PNG_COLOR_TYPE_GRAY_ALPHA) png_set_gray_to_rgb(png);
  png_set_filler(png, 0xFF, PNG_FILLER_AFTER);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  if (png_get_rowbytes(png, info) != static_cast<size_t>(w) * 4) png_error(png, "unexpected row size");
  pixels.resize(static_cast<size_t>(w) * h * 4);
  rows.resize(h);
  for (png_uint_32 y = 0; y < h; ++y) rows[y] = pixels.data() + static_cast<size_t>(y) * w * 4;
  png_read_image(png, rows.data());
  png_read_end(png, nullptr);
  png_destroy_read_struct(&png, &info, nullptr);
  out.width = static_cast<int>(w);
  out.height = static_cast<int>(h);
  out.rgba = std::make_shared<const std::vector<uint8_t>>(std::move(pixels));
  return true;
}

bool decode_png(const std::vector<uint8_t>& data, size_t max_pixels, DecodedImage& out) {
  PngBuffers buf;
  return decode_png_impl(data, max_pixels, buf, out);
}

struct JpegErr {
  jpeg_error_mgr mgr;
  jmp_buf jb;
};

void jpeg_error_exit(j_common_ptr cinfo) {
  auto* e = reinterpret_cast<JpegErr*>(cinfo->err);
  longjmp(e->jb, 1);
}

bool decode_jpeg_impl(const std::vector<uint8_t>& data, size_t max_pixels,
                      std::vector<uint8_t>& pixels, DecodedImage& out) {
  jpeg_decompress_struct cinfo;
  JpegErr err;
  volatile bool too_big = false, cmyk = false;
  cinfo.err = jpeg_std_error(&err.mgr);
  err.mgr.error_exit = jpeg_error_exit;
  err.mgr.output_message = [](j_common_ptr) {};
  if (setjmp(err.jb)) {
    jpeg_destroy_decompress(&cinfo);
    if (too_big) throw InputError("SVG: embedded image exceeds max_pixels");
    if (cmyk) throw Unsupported("image:cmyk-jpeg");
    return false;
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, data.data(), static_cast<unsigned long>(data.size()));
  jpeg_read_header(&cinfo, TRUE);
  if (cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK) {
    cmyk = true;
    longjmp(err.jb, 1);
  }
  if (static_cast<size_t>(cinfo.image_width) * cinfo.image_height > max_pixels) {
    too_big = true;
    longjmp(err.jb, 1);
  }
  cinfo.out_color_space = JCS_RGB;
  jpeg_start_decompress(&cinfo);
  size_t w = cinfo.output_width, h = cinfo.output_height;
  pixels.resize(w * h * 4);
  std::vector<uint8_t>& px = pixels;
  JSAMPARRAY buf = (*cinfo.mem->alloc_sarray)(reinterpret_cast<j_common_ptr>(&cinfo), JPOOL_IMAGE,
                                              static_cast<JDIMENSION>(w * 3), 1);
  while (cinfo.output_scanline < cinfo.output_height) {
    size_t y = cinfo.output_scanline;
    jpeg_read_scanlines(&cinfo, buf, 1);
    uint8_t* dst = px.data() + y * w * 4;
    for (size_t x = 0; x < w; ++x) {
      dst[x * 4] = buf[0][x * 3];
      dst[x * 4 + 1] = buf[0][x * 3 + 1];
      dst[x * 4 + 2] = buf[0][x * 3 + 2];
      dst[x * 4 + 3] = 255;
    }
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  out.width = static_cast<int>(w);
  out.height = static_cast<int>(h);
  out.rgba = std::make_shared<const std::vector<uint8_t>>(std::move(pixels));
  return true;
}

bool decode_jpeg(const std::vector<uint8_t>& data, size_t max_pixels, DecodedImage& out) {
  std::vector<uint8_t> pixels;
  return decode_jpeg_impl(data, max_pixels, pixels, out);
}

#if defined(VERM_HAVE_WEBP)
// Lossy or lossless WebP (still image; for an animation libwebp's simple API gives nothing and
// the image is not drawn). Output is straight-alpha RGBA, as the other decoders give.
bool decode_webp(const std::vector<uint8_t>& data, size_t max_pixels, DecodedImage& out) {
  WebPBitstreamFeatures feat;
  if (WebPGetFeatures(data.data(), data.size(), &feat) != VP8_STATUS_OK) return false;
  if (feat.has_animation) throw Unsupported("image:webp-animation");
  if (feat.width <= 0 || feat.height <= 0) return false;
  size_t w = static_cast<size_t>(feat.width), h = static_cast<size_t>(feat.height);
  if (w * h > max_pixels) throw InputError("SVG: embedded image exceeds max_pixels");
  std::vector<uint8_t> pixels(w * h * 4);
  if (!WebPDecodeRGBAInto(data.data(), data.size(), pixels.data(), pixels.size(),
                          static_cast<int>(w * 4)))
    return false;
  out.width = static_cast<int>(w);
  out.height = static_cast<int>(h);
  out.rgba = std::make_shared<const std::vector<uint8_t>>(std::move(pixels));
  return true;
}
#endif

}  // namespace

// Decodes raster bytes by their signature. false: not decodable (element not drawn).
bool decode_image(const std::vector<uint8_t>& data, size_t max_pixels, DecodedImage& out) {
  if (data.size() >= 8 && std::memcmp(data.data(), "\x89PNG\r\n\x1a\n", 8) == 0)
    return decode_png(data, max_pixels, out);
  if (data.size() >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF)
    return decode_jpeg(data, max_pixels, out);
  if (data.size() >= 6 && (std::memcmp(data.data(), "GIF87a", 6) == 0 ||
                           std::memcmp(data.data(), "GIF89a", 6) == 0))
    throw Unsupported("image:gif");
  if (data.size() >= 12 && std::memcmp(data.data(), "RIFF", 4) == 0 &&
      std::memcmp(data.data() + 8, "WEBP", 4) == 0) {
#if defined(VERM_HAVE_WEBP)
    return decode_webp(data, max_pixels, out);
#else
    throw Unsupported("image:webp");
#endif
  }
  // Anything else that looks like SVG (text, gzip) is a nested document.
  if (data.size() >= 2 && data[0] == 0x1F && data[1] == 0x8B) throw Unsupported("image:svg");
  std::string_view head(reinterpret_cast<const char*>(data.data()), std::min<size_t>(data.size(), 4096));
  if (head.find("<svg") != std::string_view::npos) throw Unsupported("image:svg");
  return false;
}

namespace {

bool is_gzip(const std::vector<uint8_t>& d) { return d.size() >= 2 && d[0] == 0x1F && d[1] == 0x8B; }

bool looks_like_svg(const std::vector<uint8_t>& d) {
  if (is_gzip(d)) return true;
  std::string_view head(reinterpret_cast<const char*>(d.data()), std::min<size_t>(d.size(), 4096));
  return head.find("<svg") != std::string_view::npos;
}

// Inflates gzip data, bounded by `cap` bytes of output.
bool gunzip(const std::vector<uint8_t>& in, size_t cap, std::string& out) {
  z_stream zs{};
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) return false;
  zs.next_in = const_cast<Bytef*>(in.data());
  zs.avail_in = static_cast<uInt>(in.size());
  char buf[65536];
  int ret;
  do {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof(buf);
    ret = inflate(&zs, Z_NO_FLUSH);
    if (ret != Z_OK && ret != Z_STREAM_END) { inflateEnd(&zs); return false; }
    out.append(buf, sizeof(buf) - zs.avail_out);
    if (out.size() > cap) { inflateEnd(&zs); throw InputError("SVG: compressed image expands beyond max_input_bytes"); }
  } while (ret != Z_STREAM_END && zs.avail_in > 0);
  inflateEnd(&zs);
  return ret == Z_STREAM_END;
}

}  // namespace

bool Converter::load_href_bytes(std::string_view href, std::vector<uint8_t>& bytes,
                                bool& svg_doc) const {
  // Nested SVG documents draw only data: images, never files (as resvg), up to 4 levels.
  if (opts_.nested > 0 && href.rfind("data:", 0) != 0) return false;
  if (opts_.nested >= 4) return false;
  svg_doc = false;
  if (href.rfind("data:", 0) == 0) {
    size_t comma = href.find(',');
    if (comma == std::string_view::npos) return false;
    std::string_view meta = href.substr(5, comma - 5);
    std::string_view payload = href.substr(comma + 1);
    bool b64 = meta.size() >= 7 && meta.substr(meta.size() - 7) == ";base64";
    std::string_view mime = meta.substr(0, meta.find(';'));
    bytes = b64 ? base64_decode(payload) : percent_decode(payload);
    if (mime == "image/svg+xml") svg_doc = true;
    if (!(mime.empty() || mime == "image/png" || mime == "image/jpeg" || mime == "image/jpg" ||
          mime == "text/plain" || mime == "image/gif" || mime == "image/webp" ||
          mime == "image/svg+xml"))
      return false;  // resvg draws nothing for other types
  } else {
    if (is_url(href) && href.rfind("file:", 0) != 0) return false;  // never fetched
    std::string_view pathpart = href.substr(0, href.find('#'));
    fs::path p = resolve_local_href(pathpart, opts_.resources_dir);
    if (p.empty()) return false;
    std::string ext = p.extension().string();
    for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (ext == ".svg" || ext == ".svgz") svg_doc = true;
    std::error_code ec;
    if (!fs::is_regular_file(p, ec)) return false;  // missing: nothing drawn
    auto size = fs::file_size(p, ec);
    if (ec || size > opts_.limits.max_input_bytes)
      throw InputError("SVG: image file is larger than max_input_bytes");
    std::ifstream f(p, std::ios::binary);
    bytes.resize(size);
    if (size && !f.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(size)))
      return false;
  }
  return true;
}

static Rect image_view(const Rect& rect, double aw, double ah, const AspectRatio& ar) {
  double vw = rect.w, vh = rect.h;
  if (ar.align != AspectRatio::Align::None) {
    double s = ar.slice ? std::max(rect.w / aw, rect.h / ah) : std::min(rect.w / aw, rect.h / ah);
    vw = aw * s;
    vh = ah * s;
  }
  double dx = rect.w - vw, dy = rect.h - vh, vx = rect.x, vy = rect.y;
  using A = AspectRatio::Align;
  switch (ar.align) {
    case A::XMidYMin: case A::XMidYMid: case A::XMidYMax: vx += dx / 2; break;
    case A::XMaxYMin: case A::XMaxYMid: case A::XMaxYMax: vx += dx; break;
    default: break;
  }
  switch (ar.align) {
    case A::XMinYMid: case A::XMidYMid: case A::XMaxYMid: vy += dy / 2; break;
    case A::XMinYMax: case A::XMidYMax: case A::XMaxYMax: vy += dy; break;
    default: break;
  }
  return {vx, vy, vw, vh};
}

std::shared_ptr<const scene::Group> Converter::fe_image_content(NodeId fe, const Rect& subregion) {
  const std::string* hp = doc_.attr(fe, AId::Href);
  if (!hp) return nullptr;  // resvg: a transparent result
  std::string_view href = trim(*hp);
  // usvg renders a referenced element through its own conversion rules; not reproduced yet.
  if (!href.empty() && href[0] == '#') throw Unsupported("filter:feImage-element");
  std::vector<uint8_t> bytes;
  bool svg_doc = false;
  if (!load_href_bytes(href, bytes, svg_doc)) return nullptr;
  bool is_png_or_jpeg = bytes.size() >= 3 && ((bytes[0] == 0x89 && bytes[1] == 'P') ||
                                              (bytes[0] == 0xFF && bytes[1] == 0xD8));
  if (!is_png_or_jpeg && (svg_doc || looks_like_svg(bytes))) throw Unsupported("filter:feImage-svg");
  DecodedImage img;
  if (!decode_image(bytes, opts_.limits.max_pixels, img)) return nullptr;
  std::string_view ir = find_str(fe, AId::ImageRendering);
  // The image fills the primitive subregion (usvg: an image node at the subregion).
  AspectRatio ar = aspect(fe);
  scene::ImageNode in;
  in.width = img.width;
  in.height = img.height;
  in.rgba = img.rgba;
  in.view = image_view(subregion, img.width, img.height, ar);
  if (ar.slice) in.clip = subregion;
  in.smooth = !(ir == "optimizeSpeed" || ir == "pixelated" || ir == "crisp-edges");
  auto g = std::make_shared<scene::Group>();
  g->children.push_back(make_node(std::move(in)));
  return g;
}

void Converter::convert_image(NodeId n, const State& st, scene::Group& parent) {
  const std::string* hp = doc_.attr(n, AId::Href);
  if (!hp) return;
  std::string_view href = trim(*hp);
  std::vector<uint8_t> bytes;
  bool svg_doc = false;
  if (!load_href_bytes(href, bytes, svg_doc)) return;
  DecodedImage img;
  std::optional<scene::Group> vector;  // nested SVG document
  double aw = 0, ah = 0;
  bool is_png_or_jpeg = bytes.size() >= 3 && ((bytes[0] == 0x89 && bytes[1] == 'P') ||
                                              (bytes[0] == 0xFF && bytes[1] == 0xD8));
  if (!is_png_or_jpeg && (svg_doc || looks_like_svg(bytes))) {
    std::string text;
    if (is_gzip(bytes)) {
      if (!gunzip(bytes, opts_.limits.max_input_bytes, text)) return;
    } else {
      text.assign(bytes.begin(), bytes.end());
    }
    Options o = opts_;
    o.width = o.height = 0;
    o.resources_dir.clear();
    o.nested = opts_.nested + 1;
    try {
      auto xml = xml::parse(text, o.limits);
      auto sub = Document::build(*xml, o.limits);
      Converter c(*sub, o);
      vector = c.convert_document(aw, ah);
    } catch (const InputError&) {
      return;  // a broken nested document is not drawn (as resvg)
    }
  } else {
    if (!decode_image(bytes, opts_.limits.max_pixels, img)) return;
    aw = img.width;
    ah = img.height;
  }

  std::string_view vis = find_str(n, AId::Visibility);
  if (!(vis.empty() || vis == "visible")) return;
  std::string_view ir = find_str(n, AId::ImageRendering);
  bool smooth = !(ir == "optimizeSpeed" || ir == "pixelated" || ir == "crisp-edges");

  double x = convert_user_length(n, AId::X, st, Length{});
  double y = convert_user_length(n, AId::Y, st, Length{});
  double w = convert_user_length(n, AId::Width, st, Length{aw, Unit::None});
  double h = convert_user_length(n, AId::Height, st, Length{ah, Unit::None});
  bool has_w = length_attr(n, AId::Width).has_value(), has_h = length_attr(n, AId::Height).has_value();
  if (has_w && !has_h) h = ah * (w / aw);
  else if (!has_w && has_h) w = aw * (h / ah);
  if (!(w > 0) || !(h > 0)) return;
  Rect rect{x, y, w, h};
  AspectRatio ar = aspect(n);
  Rect view = image_view(rect, aw, ah, ar);
  double vx = view.x, vy = view.y, vw = view.w, vh = view.h;
  if (vector) {
    // The nested document scaled into the aligned view box, clipped by the image rect for slice.
    scene::Group g;
    g.transform = Transform{vw / aw, 0, 0, vh / ah, vx, vy};
    g.children.push_back(make_node(std::move(*vector)));
    if (ar.slice) {
      scene::Group outer;
      auto cp = std::make_shared<scene::ClipPath>();
      scene::PathNode p;
      p.path.move_to(rect.x, rect.y);
      p.path.line_to(rect.right(), rect.y);
      p.path.line_to(rect.right(), rect.bottom());
      p.path.line_to(rect.x, rect.bottom());
      p.path.close();
      p.fill = scene::Fill{};
      cp->children.push_back(make_node(std::move(p)));
      outer.clip_path = cp;
      outer.children.push_back(make_node(std::move(g)));
      parent.children.push_back(make_node(std::move(outer)));
    } else {
      parent.children.push_back(make_node(std::move(g)));
    }
    return;
  }
  scene::ImageNode in;
  in.width = img.width;
  in.height = img.height;
  in.rgba = img.rgba;
  in.view = {vx, vy, vw, vh};
  if (ar.slice) in.clip = rect;
  in.smooth = smooth;
  parent.children.push_back(make_node(std::move(in)));
}

}  // namespace verm::svg
