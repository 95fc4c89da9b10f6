// Native check of the host stager (run under ASan/UBSan by tests/test_native_sanitizers.py):
// random copy and RGBX->RGB jobs at unaligned offsets, several batches in flight on a few
// threads, a stager destroyed with work queued; every byte compared with a plain loop.
// Usage: stager_check SEED; prints "ok JOBS" or the first mismatch (exit 1).
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "staging/host_stager.h"

using namespace verm::staging;

namespace {

struct Case {
  std::vector<uint8_t> src;
  size_t offset = 0;
  Pack pack = Pack::Copy;
};

int check(unsigned seed) {
  std::mt19937 rng(seed);
  int jobs_done = 0;
  for (int round = 0; round < 6; ++round) {
    HostStager stager(1 + round % 4);
    std::vector<std::vector<Case>> batches(3);
    std::vector<std::vector<uint8_t>> dsts(3);
    std::vector<uint64_t> ids;
    for (size_t b = 0; b < batches.size(); ++b) {
      size_t off = rng() % 17;
      std::vector<CopyJob> jobs;
      for (int j = 0; j < 12; ++j) {
        Case c;
        c.pack = rng() % 2 ? Pack::RgbxToRgb : Pack::Copy;
        size_t pixels = (rng() % 3 == 0) ? rng() % 40 : rng() % 300000;
        c.src.resize(pixels * 4);
        for (auto& v : c.src) v = static_cast<uint8_t>(rng());
        c.offset = off;
        off += dst_bytes(c.src.size(), c.pack) + rng() % 9;
        batches[b].push_back(std::move(c));
      }
      dsts[b].assign(off, 0xAB);
      for (auto& c : batches[b])
        jobs.push_back(CopyJob{c.src.data(), c.src.size(), dsts[b].data() + c.offset, c.pack});
      ids.push_back(stager.submit(jobs));
    }
    for (size_t b = batches.size(); b-- > 0;) {
      stager.wait(ids[b]);
      for (auto& c : batches[b]) {
        const uint8_t* got = dsts[b].data() + c.offset;
        size_t n = c.src.size();
        for (size_t i = 0, o = 0; i < n; ++i) {
          if (c.pack == Pack::RgbxToRgb && i % 4 == 3) continue;
          if (got[o] != c.src[i]) {
            std::printf("mismatch round %d batch %zu byte %zu\n", round, b, i);
            return 1;
          }
          ++o;
        }
        ++jobs_done;
      }
    }
    // queued work finishes before the destructor joins
    std::vector<uint8_t> src(5 << 20, 7), dst(5 << 20, 0);
    {
      HostStager late(2);
      late.submit({CopyJob{src.data(), src.size(), dst.data(), Pack::Copy}});
    }
    for (uint8_t v : dst)
      if (v != 7) {
        std::printf("destructor dropped queued work\n");
        return 1;
      }
  }
  std::printf("ok %d\n", jobs_done);
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return check(argc > 1 ? static_cast<unsigned>(std::atoi(argv[1])) : 0); }
