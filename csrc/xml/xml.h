// XML stage: bytes -> pugixml DOM, with the input checks every later stage relies on.
//
// pugixml never expands custom entities and never fetches anything; this wrapper adds what it
// does not do: UTF-8 validation, a bounded expansion of internal DTD entities (external and
// parameter entities, reference loops and expansion bombs are rejected), and limits on nesting
// depth and element count so the recursive stages after it stay bounded.
#pragma once
#include <memory>
#include <string>
#include <string_view>

#include <pugixml.hpp>

#include "core/status.h"

namespace verm::xml {

struct Document {
  std::string text;          // the (entity-expanded) source pugixml parsed in place
  pugi::xml_document dom;
  size_t element_count = 0;
  int max_depth = 0;         // deepest element nesting seen
};

// Throws InputError naming the cause (bad UTF-8, malformed XML, external entity, entity bomb,
// nesting deeper than limits.max_depth, more than limits.max_elements elements).
std::unique_ptr<Document> parse(std::string_view data, const Limits& limits);

}  // namespace verm::xml
