// RocksDB's background work runs below the threads that acknowledge events.
//
// Both cores are busy under load, and flushes and compactions (RocksDB's
// "rocksdb:high" and "rocksdb:low" threads, shared by every database in the
// process) compete with the HTTP threads and the sequencer that an
// acknowledgement waits for. At niceness 8 a thread still gets about a
// seventh of a core next to a busy one, so flushes keep up;
// bench/http_load_bench, alternating runs: 3 connections 112-118 k ->
// 117-125 k events/s with the same p99 (7.9-9.3 ms), 16 connections
// 160-170 k -> 181-187 k (12 and 15 did no better than 8). RocksDB's own
// LowerThreadPoolCPUPriority offers only niceness 19, at which flushes fell
// behind under sustained load and writes stalled (p99 at 16 connections
// 25-33 -> 37-56 ms). Compactions at niceness 0 came in bursts of a second
// that took the spare core from ingest: at a fixed 110 k events/s offered,
// p99 was 23-119 ms (median 55) with them at 0 and 20-49 ms (median 33) at
// 8; at 125-130 k, 54-360 ms against 36-216; lower in 9 of 12 alternating
// pairs.
#pragma once

#include <string_view>
#include <vector>

namespace upfront {

inline constexpr int kBackgroundThreadNiceness = 8;

// The kernel thread ids of this process's RocksDB threads named `name`
// ("rocksdb:high" flushes, "rocksdb:low" compactions). Linux only:
// elsewhere, none.
std::vector<int> BackgroundThreadIds(std::string_view name);

// Lowers thread `tid` of this process to `niceness` unless it already runs
// at that or below; never raises one (nor needs the right to). It also runs
// under SCHED_BATCH from then on: a batch thread that wakes waits for the
// running one to sleep or for the next tick instead of preempting it, so a
// partition or a flush woken mid-commit no longer pushes the sequencer or an
// HTTP thread off the core (its share, set by the niceness, is the same).
void LowerThreadPriority(int tid, int niceness);

// Lowers every RocksDB flush and compaction thread of this process to
// `niceness` (never raises one); returns how many it found.
int LowerBackgroundThreadPriority(int niceness = kBackgroundThreadNiceness);

}  // namespace upfront
