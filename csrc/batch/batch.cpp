#include "batch/batch.h"

#include <chrono>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <cmath>
#include <new>

#include "raster/render.h"
#include "svg/svg.h"

namespace verm::batch {
namespace {

using Clock = std::chrono::steady_clock;

void composite_background(PixelBytes& rgba, const scene::Color& bg) {
  const float br = bg.r, bgc = bg.g, bb = bg.b, ba = bg.a;
  for (size_t i = 0; i + 3 < rgba.size(); i += 4) {
    float a = rgba[i + 3] / 255.f;
    float out_a = a + ba * (1 - a);
    if (out_a <= 0) { rgba[i] = rgba[i + 1] = rgba[i + 2] = rgba[i + 3] = 0; continue; }
    auto mix = [&](uint8_t c, float b) {
      float v = (c / 255.f * a + b * ba * (1 - a)) / out_a;
      return static_cast<uint8_t>(std::lround(std::clamp(v, 0.f, 1.f) * 255.f));
    };
    rgba[i] = mix(rgba[i], br);
    rgba[i + 1] = mix(rgba[i + 1], bgc);
    rgba[i + 2] = mix(rgba[i + 2], bb);
    rgba[i + 3] = static_cast<uint8_t>(std::lround(out_a * 255.f));
  }
}

template <class BuildScene>
ItemResult run_guarded(BuildScene&& build, const std::optional<scene::Color>& background,
                       const Limits& limits) {
  ItemResult res;
  auto t0 = Clock::now();
  try {
    scene::Scene sc = build();
    if (sc.width <= 0 || sc.height <= 0) throw InputError("image has zero size");
    size_t px = static_cast<size_t>(sc.width) * static_cast<size_t>(sc.height);
    if (px > limits.max_pixels)
      throw InputError("output of " + std::to_string(sc.width) + "x" + std::to_string(sc.height) +
                       " pixels exceeds max_pixels=" + std::to_string(limits.max_pixels));
    res.rgba.resize(px * 4);  // uninitialised: raster::render writes every byte
    raster::render(sc, res.rgba.data(), limits);
    if (background) composite_background(res.rgba, *background);
    res.width = sc.width;
    res.height = sc.height;
  } catch (const Unsupported& e) {
    res = {};
    res.status = Status::Unsupported;
    res.message = e.what();
  } catch (const InputError& e) {
    res = {};
    res.status = Status::Error;
    res.message = e.what();
  } catch (const std::bad_alloc&) {
    res = {};
    res.status = Status::Error;
    res.message = "out of memory while rendering";
  } catch (const std::exception& e) {
    res = {};
    res.status = Status::Error;
    res.message = std::string("internal error: ") + e.what();
  }
  res.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return res;
}

}  // namespace

ItemResult render_svg(const std::string& data, const SvgOptions& opts) {
  return run_guarded(
      [&]() {
        if (data.size() > opts.limits.max_input_bytes)
          throw InputError("input of " + std::to_string(data.size()) +
                           " bytes exceeds max_input_bytes=" +
                           std::to_string(opts.limits.max_input_bytes));
        svg::Options o;
        o.width = opts.width;
        o.height = opts.height;
        o.resources_dir = opts.resources_dir;
        o.fonts = opts.fonts.get();
        o.limits = opts.limits;
        return svg::load(data, o);
      },
      opts.background, opts.limits);
}

ItemResult render_svg_item(const std::vector<std::string>& docs, size_t i, const SvgOptions& opts,
                           const std::vector<std::string>& resources_dirs) {
  if (resources_dirs.size() != docs.size()) return render_svg(docs[i], opts);
  SvgOptions item = opts;
  item.resources_dir = resources_dirs[i];
  return render_svg(docs[i], item);
}

std::vector<ItemResult> render_svgs(const std::vector<std::string>& docs, const SvgOptions& opts,
                                    int threads, const std::vector<std::string>& resources_dirs) {
  std::vector<ItemResult> out(docs.size());
  parallel_for(docs.size(), threads,
               [&](size_t i) { out[i] = render_svg_item(docs, i, opts, resources_dirs); });
#if defined(__GLIBC__)
  // Worker threads leave freed layer buffers in their malloc arenas; hand them back so a
  // long-running process's RSS tracks its live data rather than its peak batch.
  malloc_trim(0);
#endif
  return out;
}

ItemResult render_scene(const scene::Scene& sc, const std::optional<scene::Color>& background,
                        const Limits& limits) {
  return run_guarded([&]() { return sc; }, background, limits);
}

}  // namespace verm::batch
