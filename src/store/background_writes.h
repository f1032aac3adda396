// One setting for every RocksDB database in a process that acknowledges
// events only after an fsync: background file writes (memtable flushes,
// compactions) and the logs of databases written without a sync are synced
// 256 KB at a time as they are written, and background writes are paced
// (write_pacer.h).
//
// Without it the kernel writes a whole new table file back in one burst,
// and a log fsync issued meanwhile waits behind it. Measured on this VM with
// a probe: fdatasync of 64 KB takes 0.2 ms idle, 29 ms (p99) next to a writer
// that syncs every 64 MB, 0.7 ms next to one that syncs every megabyte. Every
// acknowledgement waits for a log fsync. The unsynced logs did the same:
// under bench/http_load_bench (3 connections) the event log's fdatasync
// reached 25-30 ms at most, 11.7-12.7 ms once they were synced as they grew
// (strace), and the acknowledgements' p99 went from 9.8-10.9 to 9.5-9.8 ms.
// 256 KB against a megabyte: 115-124 k -> 125-126 k events/s at the same
// p99 (8.3-9.6 ms; alternating runs, 3 connections); 64 KB gave no more.
#pragma once

#include <fcntl.h>
#include <rocksdb/options.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

#include "src/store/write_pacer.h"

namespace upfront {

inline void SmoothBackgroundWrites(rocksdb::DBOptions* options) {
  options->bytes_per_sync = 256 << 10;
  options->wal_bytes_per_sync = 256 << 10;
  options->rate_limiter = SharedBackgroundWritePacer();
}

// Whether files in `dir` can be written with O_DIRECT: tmpfs before Linux
// 6.6 and some FUSE file systems refuse it, and RocksDB would then fail
// every flush. Writes one aligned block to a probe file, then
// removes it; false when `dir` does not exist.
inline bool SupportsDirectWrites(const std::string& dir) {
  constexpr size_t kBlock = 4096;
  const std::string probe = dir + "/.direct-write-probe";
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_DIRECT | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  void* block = nullptr;
  bool written = posix_memalign(&block, kBlock, kBlock) == 0;
  if (written) {
    std::memset(block, 0, kBlock);
    written = ::write(fd, block, kBlock) == static_cast<ssize_t>(kBlock);
  }
  std::free(block);
  ::close(fd);
  ::unlink(probe.c_str());
  return written;
}

// Memtable flushes and compactions write (and compactions read) their files
// with direct IO where the file system allows it, so a table file's bytes
// are not first copied into the page cache: under bench/http_load_bench at
// a fixed 100 k events/s that copy was 8-10% of the process's CPU (perf),
// and direct writes took 5% less CPU over 20 s (25.2 -> 23.8 s of CPU per
// 14 s) and 2-3% less over 8 s (3 alternating pairs, p99 no worse). Logs
// stay buffered: they are appended in small pieces and synced. Point
// lookups and scans stay buffered too, behind the block cache. Creates
// `dir` if it is missing, as opening the database would.
inline void WriteTablesDirectWherePossible(rocksdb::DBOptions* options, const std::string& dir) {
  std::error_code ignored;
  std::filesystem::create_directories(dir, ignored);
  options->use_direct_io_for_flush_and_compaction = SupportsDirectWrites(dir);
}

// Background threads for every database in the process (RocksDB's default
// Env pools are shared): two for flushes, two for compactions, and each
// database may run two flushes at once. With one flush at a time, one
// thread for all, the event log's 128 MB events memtable took the flush
// thread for most of a second while the 16 MB dedup memtables filled behind
// it, and the decision ledger's behind both: under 20-30 s of
// bench/http_load_bench at 140 k events/s RocksDB stalled or stopped writes
// 3-5 times per run ("3 immutable memtables (waiting for flush)"); with
// two, never, and 122-128 -> 129 k events/s were kept up with.
// (Opening a database grows the shared pools to what it may run at once.)
inline void ShareBackgroundThreads(rocksdb::DBOptions* options) {
  options->max_background_flushes = 2;
  options->max_background_compactions = 2;
}

}  // namespace upfront
