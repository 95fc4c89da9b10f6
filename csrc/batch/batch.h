// Batch rendering: per-item status, a bounded thread pool, no Python anywhere.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "scene/display_list.h"

namespace verm::text { class FontDB; }

namespace verm::batch {

enum class Status : int { Ok = 0, Unsupported = 1, Error = 2 };

struct ItemResult {
  Status status = Status::Ok;
  std::string message;          // reason key for Unsupported, cause for Error
  int width = 0, height = 0;
  std::vector<uint8_t> rgba;    // straight alpha, width*height*4 (empty unless Ok)
  double seconds = 0;
};

struct SvgOptions {
  int width = 0, height = 0;
  std::string resources_dir;
  std::shared_ptr<const text::FontDB> fonts;
  std::optional<scene::Color> background;  // composited under the image when set
  Limits limits;
};

// Renders one SVG document; never throws.
ItemResult render_svg(const std::string& data, const SvgOptions& opts);

// Renders docs[i]; `resources_dirs`, when it has one entry per document, overrides
// opts.resources_dir for that item. Never throws.
ItemResult render_svg_item(const std::vector<std::string>& docs, size_t i, const SvgOptions& opts,
                           const std::vector<std::string>& resources_dirs);

// Renders every document on up to `threads` threads (0 = hardware concurrency); never throws.
// `resources_dirs`, when not empty, gives each document its own resources folder (same length
// as `docs`; the caller checks) and overrides opts.resources_dir.
std::vector<ItemResult> render_svgs(const std::vector<std::string>& docs, const SvgOptions& opts,
                                    int threads,
                                    const std::vector<std::string>& resources_dirs = {});

// Renders an already-built scene (tables, chart specs); never throws.
ItemResult render_scene(const scene::Scene& scene, const std::optional<scene::Color>& background,
                        const Limits& limits);

// Runs fn(i) for i in [0, n) on up to `threads` worker threads.
template <class Fn>
void parallel_for(size_t n, int threads, Fn&& fn);

}  // namespace verm::batch

#include "batch/parallel_for.inl"
