// With bindings_staging.cpp, the only files that know pybind11. Heavy work runs with the GIL
// released.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "batch/async_batch.h"
#include "batch/batch.h"
#include "text/text.h"

namespace py = pybind11;
using namespace verm;

void bind_staging(py::module_& m);  // bindings_staging.cpp

namespace {

py::object to_array(batch::ItemResult& r) {
  if (r.status != batch::Status::Ok || r.rgba.empty()) return py::none();
  // Hand the buffer to numpy without copying: the capsule owns the vector.
  auto vec = std::make_unique<batch::PixelBytes>(std::move(r.rgba));
  uint8_t* data = vec->data();
  py::capsule owner(vec.get(), [](void* p) { std::unique_ptr<batch::PixelBytes>(static_cast<batch::PixelBytes*>(p)); });
  vec.release();  // now owned by the capsule
  return py::array_t<uint8_t>({r.height, r.width, 4}, {r.width * 4, 4, 1}, data, owner);
}

py::tuple to_tuple(batch::ItemResult& r) {
  return py::make_tuple(static_cast<int>(r.status), r.message, to_array(r), r.seconds);
}

Limits make_limits(size_t max_pixels, size_t max_input_bytes) {
  Limits l;
  l.max_pixels = max_pixels;
  l.max_input_bytes = max_input_bytes;
  return l;
}

std::optional<scene::Color> make_background(const std::optional<std::vector<float>>& bg) {
  if (!bg) return std::nullopt;
  if (bg->size() != 4) throw py::value_error("background must be 4 floats (r, g, b, a) in [0, 1]");
  return scene::Color{(*bg)[0], (*bg)[1], (*bg)[2], (*bg)[3]};
}

batch::SvgOptions make_svg_options(size_t n_docs, int width, int height,
                                   const std::string& resources_dir,
                                   std::shared_ptr<text::FontDB> fonts,
                                   const std::optional<std::vector<float>>& background,
                                   size_t max_pixels, size_t max_input_bytes,
                                   const std::optional<std::vector<std::string>>& resources_dirs) {
  if (resources_dirs && resources_dirs->size() != n_docs)
    throw py::value_error("resources_dirs must have one entry per document");
  batch::SvgOptions o;
  o.width = width;
  o.height = height;
  o.resources_dir = resources_dir;
  o.fonts = std::move(fonts);
  o.background = make_background(background);
  o.limits = make_limits(max_pixels, max_input_bytes);
  return o;
}

}  // namespace

PYBIND11_MODULE(_core, m) {
  bind_staging(m);
  m.doc() = "verm native core: SVG/table/chart-scene rasterization into numpy arrays";

  py::class_<text::FontDB, std::shared_ptr<text::FontDB>>(m, "FontDB")
      .def(py::init<const std::vector<std::string>&>(), py::arg("dirs"))
      .def("set_generic", &text::FontDB::set_generic, py::arg("generic"), py::arg("family"))
      .def("face_count", &text::FontDB::face_count)
      .def("families", &text::FontDB::families)
      .def(
          "measure",
          [](const text::FontDB& db, const std::vector<std::string>& texts,
             const std::vector<std::string>& families, double size, int weight, bool italic) {
            text::FontQuery q;
            q.families = families;
            q.weight = weight;
            q.italic = italic;
            std::vector<double> out(texts.size());
            py::gil_scoped_release nogil;
            for (size_t i = 0; i < texts.size(); ++i) out[i] = db.measure(texts[i], q, size);
            return out;
          },
          py::arg("texts"), py::arg("families"), py::arg("size"), py::arg("weight") = 400,
          py::arg("italic") = false, "Advance widths of each string in user units.")
      .def(
          "match",
          [](const text::FontDB& db, const std::vector<std::string>& families, int weight,
             bool italic, int stretch) {
            text::FontQuery q;
            q.families = families;
            q.weight = weight;
            q.italic = italic;
            q.stretch = stretch;
            int face = db.match(q);
            py::dict d;
            if (face < 0) return d;
            d["family"] = db.face_family(face);
            auto info = db.face_style(face);
            d["weight"] = info[0];
            d["style"] = info[1] == 1 ? "italic" : info[1] == 2 ? "oblique" : "normal";
            d["stretch"] = info[2];
            return d;
          },
          py::arg("families"), py::arg("weight") = 400, py::arg("italic") = false,
          py::arg("stretch") = 100,
          "The face CSS font matching picks: {family, weight, style, stretch} ({} if no fonts).")
      .def(
          "shape",
          [](const text::FontDB& db, const std::string& s, const std::vector<std::string>& families,
             double size, int weight, bool italic) {
            text::FontQuery q;
            q.families = families;
            q.weight = weight;
            q.italic = italic;
            text::ShapedRun run;
            {
              py::gil_scoped_release nogil;
              run = db.shape(s, q, size);
            }
            Rect b = run.outline.control_bounds();
            py::dict d;
            d["advance"] = run.advance;
            d["ascent"] = run.ascent;
            d["descent"] = run.descent;
            d["missing_glyphs"] = run.missing_glyphs;
            d["ink"] = py::make_tuple(b.x, b.y, b.w, b.h);
            d["verbs"] = run.outline.verbs().size();
            return d;
          },
          py::arg("text"), py::arg("families"), py::arg("size"), py::arg("weight") = 400,
          py::arg("italic") = false,
          "Shape one string: {advance, ascent, descent, missing_glyphs, ink (x, y, w, h), verbs}.");

  py::class_<batch::AsyncSvgBatch>(m, "SvgBatch",
                                    "SVG batch rendering in the background; unsupported items are "
                                    "reported as soon as known so a fallback can run meanwhile.")
      .def(py::init([](std::vector<std::string> docs, int width, int height,
                       const std::string& resources_dir, std::shared_ptr<text::FontDB> fonts,
                       std::optional<std::vector<float>> background, int threads,
                       size_t max_pixels, size_t max_input_bytes,
                       std::optional<std::vector<std::string>> resources_dirs) {
             batch::SvgOptions o =
                 make_svg_options(docs.size(), width, height, resources_dir, std::move(fonts),
                                  background, max_pixels, max_input_bytes, resources_dirs);
             py::gil_scoped_release nogil;
             return std::make_unique<batch::AsyncSvgBatch>(
                 std::move(docs), std::move(o), threads,
                 resources_dirs ? std::move(*resources_dirs) : std::vector<std::string>{});
           }),
           py::arg("docs"), py::arg("width") = 0, py::arg("height") = 0,
           py::arg("resources_dir") = "", py::arg("fonts") = nullptr,
           py::arg("background") = py::none(), py::arg("threads") = 0,
           py::arg("max_pixels") = Limits{}.max_pixels,
           py::arg("max_input_bytes") = Limits{}.max_input_bytes,
           py::arg("resources_dirs") = py::none())
      .def("__len__", &batch::AsyncSvgBatch::size)
      .def("next_unsupported", &batch::AsyncSvgBatch::next_unsupported,
           py::call_guard<py::gil_scoped_release>(),
           "(index, reason) of the next item found unsupported, or (-1, '') once every item is done.")
      .def("results", [](batch::AsyncSvgBatch& b) {
        std::vector<batch::ItemResult> results;
        {
          py::gil_scoped_release nogil;
          results = b.take_results();
        }
        py::list out;
        for (auto& r : results) out.append(to_tuple(r));
        return out;
      }, "Waits for every item: [(status, message, rgba|None, seconds)] (once).");

  m.def(
      "render_svgs",
      [](const std::vector<std::string>& docs, int width, int height,
         const std::string& resources_dir, std::shared_ptr<text::FontDB> fonts,
         std::optional<std::vector<float>> background, int threads, size_t max_pixels,
         size_t max_input_bytes, std::optional<std::vector<std::string>> resources_dirs) {
        batch::SvgOptions o =
            make_svg_options(docs.size(), width, height, resources_dir, std::move(fonts),
                             background, max_pixels, max_input_bytes, resources_dirs);
        std::vector<batch::ItemResult> results;
        {
          py::gil_scoped_release nogil;
          results = batch::render_svgs(docs, o, threads,
                                       resources_dirs ? *resources_dirs : std::vector<std::string>{});
        }
        py::list out;
        for (auto& r : results) out.append(to_tuple(r));
        return out;
      },
      py::arg("docs"), py::arg("width") = 0, py::arg("height") = 0,
      py::arg("resources_dir") = "", py::arg("fonts") = nullptr, py::arg("background") = py::none(),
      py::arg("threads") = 0, py::arg("max_pixels") = Limits{}.max_pixels,
      py::arg("max_input_bytes") = Limits{}.max_input_bytes,
      py::arg("resources_dirs") = py::none(),
      "Render SVG documents (bytes) on a thread pool. Returns [(status, message, rgba|None, "
      "seconds)] with status 0 ok, 1 unsupported, 2 error.");
}
