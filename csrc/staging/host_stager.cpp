#include "staging/host_stager.h"

#include <algorithm>
#include <cstring>

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define VERM_STAGING_X86 1
#endif

namespace verm::staging {
namespace {

constexpr size_t kChunkBytes = size_t{1} << 20;  // per task: big enough to amortise the queue
constexpr size_t kStreamMin = size_t{1} << 16;   // below this, plain stores (stays in cache)

void rgbx_to_rgb_scalar(uint8_t* dst, const uint8_t* src, size_t pixels) {
  for (size_t p = 0; p < pixels; ++p, src += 4, dst += 3) {
    dst[0] = src[0];
    dst[1] = src[1];
    dst[2] = src[2];
  }
}

#ifdef VERM_STAGING_X86
__attribute__((target("avx2"))) void copy_stream_avx2(uint8_t* dst, const uint8_t* src, size_t n) {
  // Align the destination to 32 bytes, stream whole 128-byte blocks, copy the rest plainly.
  size_t head = (32 - (reinterpret_cast<uintptr_t>(dst) & 31)) & 31;
  head = std::min(head, n);
  std::memcpy(dst, src, head);
  dst += head;
  src += head;
  n -= head;
  size_t blocks = n / 128;
  for (size_t i = 0; i < blocks; ++i) {
    __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src));
    __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + 32));
    __m256i c = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + 64));
    __m256i d = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + 96));
    _mm256_stream_si256(reinterpret_cast<__m256i*>(dst), a);
    _mm256_stream_si256(reinterpret_cast<__m256i*>(dst + 32), b);
    _mm256_stream_si256(reinterpret_cast<__m256i*>(dst + 64), c);
    _mm256_stream_si256(reinterpret_cast<__m256i*>(dst + 96), d);
    src += 128;
    dst += 128;
  }
  _mm_sfence();  // streamed stores visible before the batch is reported done
  std::memcpy(dst, src, n - blocks * 128);
}

__attribute__((target("ssse3"))) void rgbx_to_rgb_ssse3(uint8_t* dst, const uint8_t* src, size_t pixels) {
  // 16 pixels (64 bytes) in, 48 bytes out: drop every 4th byte of four 16-byte loads, then
  // stitch the four 12-byte results into three 16-byte stores.
  const __m128i drop = _mm_setr_epi8(0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, -1, -1, -1, -1);
  const bool stream = pixels * 3 >= kStreamMin;
  if (stream) {  // 3 bytes a pixel: at most 15 pixels bring the destination to a 16-byte boundary
    size_t head = 0;
    while (head < pixels && ((reinterpret_cast<uintptr_t>(dst) + 3 * head) & 15) != 0) ++head;
    rgbx_to_rgb_scalar(dst, src, head);
    dst += 3 * head;
    src += 4 * head;
    pixels -= head;
  }
  size_t groups = pixels / 16;
  for (size_t i = 0; i < groups; ++i) {
    __m128i a = _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src)), drop);
    __m128i b = _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + 16)), drop);
    __m128i c = _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + 32)), drop);
    __m128i d = _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + 48)), drop);
    __m128i o0 = _mm_or_si128(a, _mm_slli_si128(b, 12));
    __m128i o1 = _mm_or_si128(_mm_srli_si128(b, 4), _mm_slli_si128(c, 8));
    __m128i o2 = _mm_or_si128(_mm_srli_si128(c, 8), _mm_slli_si128(d, 4));
    if (stream) {
      _mm_stream_si128(reinterpret_cast<__m128i*>(dst), o0);
      _mm_stream_si128(reinterpret_cast<__m128i*>(dst + 16), o1);
      _mm_stream_si128(reinterpret_cast<__m128i*>(dst + 32), o2);
    } else {
      _mm_storeu_si128(reinterpret_cast<__m128i*>(dst), o0);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + 16), o1);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + 32), o2);
    }
    src += 64;
    dst += 48;
  }
  if (stream) _mm_sfence();
  rgbx_to_rgb_scalar(dst, src, pixels - groups * 16);
}

bool has_avx2() {
  static const bool yes = __builtin_cpu_supports("avx2");  // constant once initialised
  return yes;
}
bool has_ssse3() {
  static const bool yes = __builtin_cpu_supports("ssse3");
  return yes;
}
#endif

}  // namespace

void copy_span(uint8_t* dst, const uint8_t* src, size_t n) {
#ifdef VERM_STAGING_X86
  if (n >= kStreamMin && has_avx2()) {
    copy_stream_avx2(dst, src, n);
    return;
  }
#endif
  std::memcpy(dst, src, n);
}

void rgbx_to_rgb(uint8_t* dst, const uint8_t* src, size_t pixels) {
#ifdef VERM_STAGING_X86
  if (has_ssse3()) {
    rgbx_to_rgb_ssse3(dst, src, pixels);
    return;
  }
#endif
  rgbx_to_rgb_scalar(dst, src, pixels);
}

HostStager::HostStager(int threads) {
  if (threads <= 0) {
    unsigned hw = std::max(1u, std::thread::hardware_concurrency());
    threads = static_cast<int>(std::clamp(hw * 3 / 4, 1u, 12u));
  }
  workers_.reserve(static_cast<size_t>(threads));
  for (int i = 0; i < threads; ++i) workers_.emplace_back([this] { work(); });
}

HostStager::~HostStager() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  work_cv_.notify_all();
  for (auto& t : workers_) t.join();
}

uint64_t HostStager::submit(const std::vector<CopyJob>& jobs) {
  auto batch = std::make_shared<Batch>();
  std::vector<Chunk> chunks;
  for (const CopyJob& job : jobs) {
    // Chunk on pixel boundaries for repacking (a multiple of 4 source bytes).
    size_t step = kChunkBytes;
    for (size_t off = 0; off < job.src_bytes; off += step) {
      CopyJob part = job;
      part.src = job.src + off;
      part.dst = job.dst + dst_bytes(off, job.pack);
      part.src_bytes = std::min(step, job.src_bytes - off);
      chunks.push_back(Chunk{part, batch});
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  batch->id = next_id_++;
  batch->remaining = chunks.size();
  if (chunks.empty()) return batch->id;
  open_.push_back(batch);
  for (auto& c : chunks) queue_.push_back(std::move(c));
  work_cv_.notify_all();
  return batch->id;
}

void HostStager::wait(uint64_t id) {
  std::unique_lock<std::mutex> lock(mu_);
  done_cv_.wait(lock, [&] {
    return std::none_of(open_.begin(), open_.end(), [&](const auto& b) { return b->id == id; });
  });
}

void HostStager::work() {
  for (;;) {
    Chunk chunk;
    {
      std::unique_lock<std::mutex> lock(mu_);
      work_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and nothing left to copy
      chunk = std::move(queue_.front());
      queue_.pop_front();
    }
    const CopyJob& j = chunk.job;
    if (j.pack == Pack::RgbxToRgb)
      rgbx_to_rgb(j.dst, j.src, j.src_bytes / 4);
    else
      copy_span(j.dst, j.src, j.src_bytes);
    std::lock_guard<std::mutex> lock(mu_);
    if (--chunk.batch->remaining == 0) {
      open_.erase(std::remove(open_.begin(), open_.end(), chunk.batch), open_.end());
      done_cv_.notify_all();
    }
  }
}

}  // namespace verm::staging
