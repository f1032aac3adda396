#include "src/store/write_pacer.h"

#include <algorithm>
#include <chrono>
#include <thread>

namespace upfront {
namespace {

constexpr int64_t kNanosPerSecond = 1'000'000'000;

// 256 MB/s in writes of at most 256 KB: a background burst of 256 KB is what
// one fsync may have to flush along with the log. With RocksDB's limiter at
// these settings and ingest backpressure off, 93-99 k events/s at a p99 of
// 23-28 ms under bench/http_load_bench; at 128 MB/s (128 KB), 80-83 k and
// 25-29 ms; at 512 MB/s (256 KB), 78 k and 29 ms. Well above what flushes
// and compactions write on average (~80 MB/s at 60 k events/s), so they
// keep up.
constexpr int64_t kBackgroundBytesPerSecond = 256 << 20;
constexpr int64_t kBackgroundBurstBytes = 256 << 10;

// One priority's count, or (IO_TOTAL) all of them.
int64_t OfPriority(const int64_t (&by_priority)[rocksdb::Env::IO_TOTAL + 1], rocksdb::Env::IOPriority pri) {
  if (pri != rocksdb::Env::IO_TOTAL) return by_priority[pri];
  int64_t total = 0;
  for (int64_t n : by_priority) total += n;
  return total;
}

int64_t SteadyNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

WritePacer::WritePacer(int64_t bytes_per_second, int64_t burst_bytes, NowNanos now, SleepNanos sleep)
    : burst_bytes_(std::max<int64_t>(burst_bytes, 1)),
      now_(now ? std::move(now) : NowNanos(SteadyNanos)),
      sleep_(sleep ? std::move(sleep)
                   : SleepNanos([](int64_t nanos) { std::this_thread::sleep_for(std::chrono::nanoseconds(nanos)); })),
      bytes_per_second_(std::max<int64_t>(bytes_per_second, 1)) {}

void WritePacer::Request(int64_t bytes, rocksdb::Env::IOPriority pri, rocksdb::Statistics*) {
  int64_t wait = 0;
  {
    std::lock_guard lock(mu_);
    const int64_t now = now_();
    const int64_t burst_nanos = burst_bytes_ * kNanosPerSecond / bytes_per_second_;
    // Each write waits for its slot on the timeline to begin; time left
    // unused counts for at most one burst.
    const int64_t start = std::max(next_free_, now - burst_nanos);
    next_free_ = start + bytes * kNanosPerSecond / bytes_per_second_;
    wait = start - now;
    const int slot = pri >= rocksdb::Env::IO_LOW && pri < rocksdb::Env::IO_TOTAL ? pri : rocksdb::Env::IO_TOTAL;
    bytes_[slot] += bytes;
    ++requests_[slot];
  }
  if (wait > 0) sleep_(wait);
}

void WritePacer::SetBytesPerSecond(int64_t bytes_per_second) {
  std::lock_guard lock(mu_);
  bytes_per_second_ = std::max<int64_t>(bytes_per_second, 1);
}

int64_t WritePacer::GetTotalBytesThrough(rocksdb::Env::IOPriority pri) const {
  std::lock_guard lock(mu_);
  return OfPriority(bytes_, pri);
}

int64_t WritePacer::GetTotalRequests(rocksdb::Env::IOPriority pri) const {
  std::lock_guard lock(mu_);
  return OfPriority(requests_, pri);
}

int64_t WritePacer::GetBytesPerSecond() const {
  std::lock_guard lock(mu_);
  return bytes_per_second_;
}

std::shared_ptr<rocksdb::RateLimiter> SharedBackgroundWritePacer() {
  static const std::shared_ptr<rocksdb::RateLimiter> pacer =
      std::make_shared<WritePacer>(kBackgroundBytesPerSecond, kBackgroundBurstBytes);
  return pacer;
}

}  // namespace upfront
