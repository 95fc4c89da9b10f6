// Typed failures of the native core. Every stage throws one of these; the batch layer turns
// them into a per-item status (`unsupported` / `error`) without ever crashing the process.
#pragma once
#include <cstddef>
#include <stdexcept>
#include <string>

namespace verm {

// The input is valid but uses a feature verm does not draw natively. `what()` is a short,
// countable reason key such as "filter:feTurbulence" or "text:textPath" so benchmarks can
// tally the top reasons; the Python layer then falls back to resvg.
struct Unsupported : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The input is broken or exceeds a limit (malformed XML, entity bomb, too many pixels, ...).
// `what()` names the cause for a human.
struct InputError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Resource limits applied to every item; all configurable from Python.
struct Limits {
  size_t max_input_bytes = 64u << 20;      // raw SVG/table source size
  size_t max_pixels = 64u << 20;           // output width*height (also caps layers)
  int max_depth = 256;                     // element nesting / use recursion depth
  size_t max_elements = 1'000'000;         // elements after `use` expansion
  size_t max_path_segments = 5'000'000;    // per document
};

}  // namespace verm
