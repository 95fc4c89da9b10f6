// Python face of the host stager: buffers in, bounds checked here, copies run GIL-free.
#include <pybind11/pybind11.h>

#include <memory>
#include <utility>
#include <vector>

#include "staging/host_stager.h"

namespace py = pybind11;
using verm::staging::CopyJob;
using verm::staging::HostStager;
using verm::staging::Pack;

namespace {

// The bytes of a C-contiguous buffer (numpy array, memoryview, bytes ...).
size_t contiguous_bytes(const py::buffer_info& info, const char* what) {
  py::ssize_t expected = info.itemsize;
  for (py::ssize_t d = info.ndim - 1; d >= 0; --d) {
    if (info.shape[d] != 1 && info.strides[d] != expected)
      throw py::value_error(std::string(what) + " must be C-contiguous");
    expected *= info.shape[d];
  }
  return static_cast<size_t>(info.size) * static_cast<size_t>(info.itemsize);
}

// One submitted batch.  Holds the buffer views (so their owners can neither go away nor be
// resized) until the copies are done; dropping it unwaited waits first.
class StagingTicket {
 public:
  StagingTicket(std::shared_ptr<HostStager> stager, uint64_t id, std::vector<py::buffer_info> views)
      : stager_(std::move(stager)), id_(id), views_(std::move(views)) {}
  StagingTicket(StagingTicket&&) = default;
  StagingTicket& operator=(StagingTicket&&) = delete;
  StagingTicket(const StagingTicket&) = delete;
  ~StagingTicket() {
    if (stager_) stager_->wait(id_);  // workers never need the GIL, so waiting with it is safe
  }
  void wait() {
    if (!stager_) return;
    {
      py::gil_scoped_release nogil;
      stager_->wait(id_);
    }
    views_.clear();
    stager_.reset();
  }
  bool done() const { return !stager_; }

 private:
  std::shared_ptr<HostStager> stager_;
  uint64_t id_;
  std::vector<py::buffer_info> views_;
};

}  // namespace

void bind_staging(py::module_& m) {
  py::class_<StagingTicket>(m, "StagingTicket")
      .def("wait", &StagingTicket::wait, "Block (GIL released) until this batch is copied.")
      .def_property_readonly("done", &StagingTicket::done);

  py::class_<HostStager, std::shared_ptr<HostStager>>(m, "HostStager",
      "Copies images into a staging buffer on worker threads (GIL-free), optionally repacking "
      "4-byte pixels to RGB.")
      .def(py::init<int>(), py::arg("threads") = 0)
      .def_property_readonly("threads", &HostStager::threads)
      .def(
          "submit",
          [](std::shared_ptr<HostStager> self, py::buffer dst, py::iterable items) {
            std::vector<py::buffer_info> views;
            views.push_back(dst.request(true));
            size_t dst_size = contiguous_bytes(views.back(), "dst");
            auto* dst_ptr = static_cast<uint8_t*>(views.back().ptr);
            std::vector<CopyJob> jobs;
            for (py::handle item : items) {
              auto t = py::reinterpret_borrow<py::object>(item).cast<py::tuple>();
              if (t.size() != 3) throw py::value_error("items are (src, dst_offset, pack) tuples");
              views.push_back(t[0].cast<py::buffer>().request());
              size_t src_bytes = contiguous_bytes(views.back(), "src");
              auto offset = t[1].cast<py::ssize_t>();
              int pack = t[2].cast<int>();
              if (pack != 0 && pack != 1) throw py::value_error("pack must be 0 (copy) or 1 (RGBX to RGB)");
              Pack p = static_cast<Pack>(pack);
              if (p == Pack::RgbxToRgb && src_bytes % 4 != 0)
                throw py::value_error("RGBX source size must be a multiple of 4 bytes");
              size_t out = verm::staging::dst_bytes(src_bytes, p);
              if (offset < 0 || static_cast<size_t>(offset) > dst_size || out > dst_size - static_cast<size_t>(offset))
                throw py::value_error("staging slot [" + std::to_string(offset) + ", +" + std::to_string(out) +
                                      ") outside the destination of " + std::to_string(dst_size) + " bytes");
              jobs.push_back(CopyJob{static_cast<const uint8_t*>(views.back().ptr), src_bytes,
                                     dst_ptr + offset, p});
            }
            uint64_t id = self->submit(jobs);
            return StagingTicket(std::move(self), id, std::move(views));
          },
          py::arg("dst"), py::arg("items"),
          "Start copying items [(src buffer, dst byte offset, pack 0 copy | 1 RGBX->RGB)] into dst; "
          "returns a StagingTicket at once.");
}
