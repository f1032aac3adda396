// Memtable flushes run below the threads that acknowledge events.
//
// Both cores are busy under load, and a flush (RocksDB's "rocksdb:high"
// thread, shared by every database in the process) competes with the HTTP
// threads and the sequencer that an acknowledgement waits for. At niceness 8
// it still gets about a seventh of a core next to a busy one, so it keeps up;
// bench/http_load_bench, alternating runs: 3 connections 112-118 k ->
// 117-125 k events/s with the same p99 (7.9-9.3 ms), 16 connections
// 160-170 k -> 181-187 k (12 and 15 did no better than 8). RocksDB's own
// LowerThreadPoolCPUPriority offers only niceness 19, at which flushes fell
// behind under sustained load and writes stalled (p99 at 16 connections
// 25-33 -> 37-56 ms).
#pragma once

#include <vector>

namespace upfront {

inline constexpr int kFlushThreadNiceness = 8;

// The kernel thread ids of this process's RocksDB flush threads (by their
// name, "rocksdb:high"). Linux only: elsewhere, none.
std::vector<int> FlushThreadIds();

// Lowers every RocksDB flush thread of this process to `niceness` (never
// raises one); returns how many it found.
int LowerFlushThreadPriority(int niceness = kFlushThreadNiceness);

}  // namespace upfront
