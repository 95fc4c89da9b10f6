#pragma once
#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

namespace verm::batch {

template <class Fn>
void parallel_for(size_t n, int threads, Fn&& fn) {
  if (n == 0) return;
  size_t hw = std::max(1u, std::thread::hardware_concurrency());
  size_t t = threads > 0 ? static_cast<size_t>(threads) : hw;
  t = std::min(t, n);
  if (t <= 1) {
    for (size_t i = 0; i < n; ++i) fn(i);
    return;
  }
  // Work stealing by a shared counter: items vary wildly in cost.
  std::atomic<size_t> next{0};
  auto worker = [&]() {
    for (size_t i = next.fetch_add(1); i < n; i = next.fetch_add(1)) fn(i);
  };
  std::vector<std::thread> pool;
  pool.reserve(t - 1);
  for (size_t k = 0; k + 1 < t; ++k) pool.emplace_back(worker);
  worker();
  for (auto& th : pool) th.join();
}

}  // namespace verm::batch
