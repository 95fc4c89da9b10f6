// SVG front end: bytes -> XML DOM -> CSS/attribute resolution -> resolved scene::Scene.
#pragma once
#include <string>
#include <string_view>

#include "core/status.h"
#include "scene/display_list.h"

namespace verm::text { class FontDB; }

namespace verm::svg {

struct Options {
  int width = 0;   // 0 = from the document; width only -> height by aspect ratio (as resvg)
  int height = 0;
  std::string resources_dir;  // relative hrefs resolve here; nothing outside it is read
  const text::FontDB* fonts = nullptr;  // required for <text>; nullptr -> text is unsupported
  Limits limits;
  // Nesting level of documents referenced by <image> (nested SVG). Like resvg, nested
  // documents draw only data: images, never files; nesting is bounded (deeper: not drawn).
  int nested = 0;
};

// Parses and resolves an SVG document. Throws InputError for broken input and Unsupported
// (with a reason key) for features the native renderer does not draw.
scene::Scene load(std::string_view data, const Options& opts);

}  // namespace verm::svg
