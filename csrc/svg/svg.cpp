// SVG front end entry point: XML -> svgtree (CSS resolved) -> converter -> scene::Scene.
#include "svg/svg.h"

#include "svg/convert.h"
#include "svg/image_io.h"
#include "svg/svgtree.h"
#include "xml/xml.h"

namespace verm::svg {

scene::Scene load(std::string_view data, const Options& opts) {
  auto xml = xml::parse(data, opts.limits);
  auto doc = Document::build(*xml, opts.limits);
  check_hrefs(*doc, opts.resources_dir);
  Converter conv(*doc, opts);
  return conv.convert();
}

}  // namespace verm::svg
