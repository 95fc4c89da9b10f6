// Host-side staging for GPU uploads: copies many images into one (pinned) buffer on a small
// pool of worker threads while the caller goes on (issuing the previous run's upload and
// kernels), optionally repacking 4-byte RGBX/RGBA pixels to 3-byte RGB on the way so fewer
// bytes cross the bus.  No Python here; the bindings hand in raw, bounds-checked spans.
#pragma once
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace verm::staging {

enum class Pack : uint8_t {
  Copy = 0,       // bytes as they are
  RgbxToRgb = 1,  // 4 bytes a pixel in, the first 3 out
};

// One source span into one destination span; the caller guarantees both stay valid until the
// batch that holds the job has finished (bindings keep the Python owners alive).
struct CopyJob {
  const uint8_t* src = nullptr;
  size_t src_bytes = 0;  // for RgbxToRgb a multiple of 4
  uint8_t* dst = nullptr;
  Pack pack = Pack::Copy;
};

// Bytes a job writes.
inline size_t dst_bytes(size_t src_bytes, Pack pack) {
  return pack == Pack::RgbxToRgb ? src_bytes / 4 * 3 : src_bytes;
}

// Single-threaded kernels (exposed for tests and the benchmark); non-temporal stores for large
// aligned spans, since the destination is read next by the DMA engine, not by this CPU.
void copy_span(uint8_t* dst, const uint8_t* src, size_t n);
void rgbx_to_rgb(uint8_t* dst, const uint8_t* src, size_t pixels);

class HostStager {
 public:
  // `threads` <= 0: three quarters of the hardware threads, at most 12 (on a 16-core GPU host 12
  // beat 8 and 4; the caller's thread and the CUDA driver keep the rest).
  explicit HostStager(int threads = 0);
  ~HostStager();  // finishes queued work, then joins
  HostStager(const HostStager&) = delete;
  HostStager& operator=(const HostStager&) = delete;

  int threads() const { return static_cast<int>(workers_.size()); }
  // Queue the jobs (split into chunks shared by all workers); returns a batch id at once.
  uint64_t submit(const std::vector<CopyJob>& jobs);
  // Block until batch `id` has been copied (ids never submitted, or already waited, return).
  void wait(uint64_t id);

 private:
  struct Batch {
    uint64_t id = 0;
    size_t remaining = 0;  // chunks not yet finished, guarded by mu_
  };
  struct Chunk {
    CopyJob job;
    std::shared_ptr<Batch> batch;
  };
  void work();

  std::mutex mu_;
  std::condition_variable work_cv_;
  std::condition_variable done_cv_;
  std::deque<Chunk> queue_;
  std::vector<std::shared_ptr<Batch>> open_;  // batches not yet finished
  uint64_t next_id_ = 1;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace verm::staging
