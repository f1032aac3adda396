// Paces RocksDB's background writes (memtable flushes, compactions) for every
// database in the process, so an fsync of the event log does not queue
// behind megabytes of table data on the device.
//
// On a VM whose disk has a write-back cache, every fsync flushes that cache,
// table data included, and one issued next to a writer going at full speed
// took up to 0.3 s (probe). Under bench/http_load_bench (5 connections,
// batches of 100) the acknowledgements' p99 was 52-62 ms unpaced and 34-41
// ms paced, at the same events/s (with ingest backpressure off: 38 -> 23-28
// ms, and 77 k -> 93-99 k events/s). RocksDB's own GenericRateLimiter
// (Debian's 7.8) gave those last figures too, but in one run it left a flush
// thread waiting for good (a waiter nobody woke) and the server hung; so this
// is a simpler one: a virtual timeline that each write reserves its share
// of, waiting until its turn. Idle time is credited up to one burst, so a
// quiet database writes at once. WAL writes are not paced.
//
//   options.rate_limiter = SharedBackgroundWritePacer();
#pragma once

#include <rocksdb/rate_limiter.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>

namespace upfront {

class WritePacer final : public rocksdb::RateLimiter {
 public:
  // Nanoseconds on a monotonic clock, and a way to wait some of them;
  // injectable for tests.
  using NowNanos = std::function<int64_t()>;
  using SleepNanos = std::function<void(int64_t)>;

  // `burst_bytes` is also the largest single write RocksDB then issues.
  WritePacer(int64_t bytes_per_second, int64_t burst_bytes, NowNanos now = {}, SleepNanos sleep = {});

  void Request(int64_t bytes, rocksdb::Env::IOPriority pri, rocksdb::Statistics* stats) override;
  void SetBytesPerSecond(int64_t bytes_per_second) override;
  int64_t GetSingleBurstBytes() const override { return burst_bytes_; }
  int64_t GetTotalBytesThrough(rocksdb::Env::IOPriority pri = rocksdb::Env::IO_TOTAL) const override;
  int64_t GetTotalRequests(rocksdb::Env::IOPriority pri = rocksdb::Env::IO_TOTAL) const override;
  int64_t GetBytesPerSecond() const override;

 private:
  const int64_t burst_bytes_;
  const NowNanos now_;
  const SleepNanos sleep_;
  mutable std::mutex mu_;
  int64_t bytes_per_second_;
  int64_t next_free_ = INT64_MIN;  // when the next byte may be written
  int64_t bytes_[rocksdb::Env::IO_TOTAL + 1] = {};
  int64_t requests_[rocksdb::Env::IO_TOTAL + 1] = {};
};

// One pacer for every database of the process (they share the disk).
std::shared_ptr<rocksdb::RateLimiter> SharedBackgroundWritePacer();

}  // namespace upfront
