// A batch that renders in the background and reports `unsupported` items as soon as they are
// known, so the caller can run its fallback renderer for them while the rest is still rendering.
#pragma once
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "batch/batch.h"

namespace verm::batch {

class AsyncSvgBatch {
 public:
  // Starts rendering immediately on up to `threads` threads (0 = hardware concurrency).
  // `resources_dirs` is empty or has one entry per document.
  AsyncSvgBatch(std::vector<std::string> docs, SvgOptions opts, int threads,
                std::vector<std::string> resources_dirs);
  ~AsyncSvgBatch();  // joins the workers
  AsyncSvgBatch(const AsyncSvgBatch&) = delete;
  AsyncSvgBatch& operator=(const AsyncSvgBatch&) = delete;

  size_t size() const { return docs_.size(); }
  // Blocks until some item finished as Unsupported (returns its index and reason, each index
  // once) or all items are done with none left to report (returns {-1, ""}).
  std::pair<long, std::string> next_unsupported();
  // Waits for every item and hands the results over (once; later calls return nothing).
  std::vector<ItemResult> take_results();

 private:
  void work();

  std::vector<std::string> docs_;
  SvgOptions opts_;
  std::vector<std::string> dirs_;
  std::vector<ItemResult> results_;
  std::atomic<size_t> next_{0};
  size_t n_workers_ = 0;
  std::atomic<size_t> finished_workers_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<size_t> unsupported_;
  size_t done_ = 0;
  bool taken_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace verm::batch
