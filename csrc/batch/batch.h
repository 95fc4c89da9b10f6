// Batch rendering: per-item status, a bounded thread pool, no Python anywhere.
#pragma once
#include <cstdint>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "scene/display_list.h"

namespace verm::text { class FontDB; }

namespace verm::batch {

enum class Status : int { Ok = 0, Unsupported = 1, Error = 2 };

// Allocator whose resize() leaves new elements uninitialised: the raster writes every output
// byte, so zero-filling the buffer first would only touch each page one extra time.
template <class T>
struct DefaultInitAllocator : std::allocator<T> {
  template <class U>
  struct rebind { using other = DefaultInitAllocator<U>; };
  DefaultInitAllocator() = default;
  template <class U>
  DefaultInitAllocator(const DefaultInitAllocator<U>&) noexcept {}
  template <class U>
  void construct(U* p) noexcept(std::is_nothrow_default_constructible<U>::value) {
    ::new (static_cast<void*>(p)) U;
  }
  template <class U, class... Args>
  void construct(U* p, Args&&... args) {
    std::allocator_traits<std::allocator<T>>::construct(static_cast<std::allocator<T>&>(*this), p,
                                                        std::forward<Args>(args)...);
  }
};
using PixelBytes = std::vector<uint8_t, DefaultInitAllocator<uint8_t>>;

struct ItemResult {
  Status status = Status::Ok;
  std::string message;          // reason key for Unsupported, cause for Error
  int width = 0, height = 0;
  PixelBytes rgba;              // straight alpha, width*height*4 (empty unless Ok)
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
