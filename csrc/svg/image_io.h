// Image decoding and href safety checks of the SVG front end.
#pragma once
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "svg/svgtree.h"

namespace verm::svg {

struct DecodedImage {
  int width = 0, height = 0;
  std::shared_ptr<const std::vector<uint8_t>> rgba;  // straight-alpha RGBA8
};

// PNG/JPEG by signature; GIF/WebP/SVG -> Unsupported("image:<kind>"); false if undecodable.
bool decode_image(const std::vector<uint8_t>& data, size_t max_pixels, DecodedImage& out);
// Throws InputError when a local href escapes resources_dir (or none is given) and the file
// exists; returns an empty path when it escapes but does not exist (nothing is drawn).
std::filesystem::path resolve_local_href(std::string_view href, const std::string& resources_dir);
// Checks every href of the document before anything is converted, so that neither the native
// renderer nor the resvg fallback ever opens a file outside resources_dir.
void check_hrefs(const Document& doc, const std::string& resources_dir);

}  // namespace verm::svg
