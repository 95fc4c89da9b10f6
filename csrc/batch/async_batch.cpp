#include "batch/async_batch.h"

#include <algorithm>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace verm::batch {

AsyncSvgBatch::AsyncSvgBatch(std::vector<std::string> docs, SvgOptions opts, int threads,
                             std::vector<std::string> resources_dirs)
    : docs_(std::move(docs)), opts_(std::move(opts)), dirs_(std::move(resources_dirs)),
      results_(docs_.size()) {
  size_t hw = std::max(1u, std::thread::hardware_concurrency());
  size_t n = std::min(threads > 0 ? static_cast<size_t>(threads) : hw, docs_.size());
  n_workers_ = n;  // set before any worker starts (work() reads it)
  workers_.reserve(n);
  for (size_t k = 0; k < n; ++k) workers_.emplace_back([this] { work(); });
}

AsyncSvgBatch::~AsyncSvgBatch() {
  // Let workers finish quickly: nothing new is claimed once the counter is past the end.
  next_.store(docs_.size());
  for (auto& t : workers_)
    if (t.joinable()) t.join();
}

void AsyncSvgBatch::work() {
  for (size_t i = next_.fetch_add(1); i < docs_.size(); i = next_.fetch_add(1)) {
    ItemResult r = render_svg_item(docs_, i, opts_, dirs_);
    bool unsupported = r.status == Status::Unsupported;
    results_[i] = std::move(r);  // each index is written by exactly one worker
    bool wake;
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++done_;
      if (unsupported) unsupported_.push_back(i);
      wake = unsupported || done_ == docs_.size();
    }
    // Waiters only care about a new unsupported item or the end: waking the caller's thread
    // after every item would make it compete with the workers for the cores.
    if (wake) cv_.notify_all();
  }
#if defined(__GLIBC__)
  // Workers leave freed layer buffers in their malloc arenas; hand them back to the OS so a
  // long-running process's RSS tracks its live data rather than its peak batch. Done by the
  // workers that finish while another is still rendering, so it costs no wall time; the last
  // one skips it (an earlier one just did it) unless it is the only worker.
  size_t finished = finished_workers_.fetch_add(1) + 1;
  if (finished < n_workers_ || n_workers_ == 1) malloc_trim(0);
#endif
}

std::pair<long, std::string> AsyncSvgBatch::next_unsupported() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [this] { return !unsupported_.empty() || done_ == docs_.size(); });
  if (unsupported_.empty() || taken_) return {-1, {}};
  size_t i = unsupported_.front();
  unsupported_.pop_front();
  // results_[i] was written before its index was queued under this mutex.
  return {static_cast<long>(i), results_[i].message};
}

std::vector<ItemResult> AsyncSvgBatch::take_results() {
  {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return done_ == docs_.size(); });
    if (taken_) return {};
    taken_ = true;
  }
  for (auto& t : workers_)
    if (t.joinable()) t.join();
  return std::move(results_);
}

}  // namespace verm::batch
