// The StateStore: everything Upfront keeps on disk, behind one interface.
//
//  - the event log, in arrival (sequence) order, for recovery, replay and
//    training, with a retention limit;
//  - message ids for deduplication, with the arrival time of the stored copy;
//  - a per-customer index of the log (history, export, erasure);
//  - identity links (merged id -> canonical id);
//  - per-customer state, checkpointed by partition with the sequence number
//    each partition has applied.
//
// Commit() is the durability point: an event is acknowledged only after the
// Commit() that carries it returned OK with sync = true.
//
// Thread safety: all methods may be called concurrently; Commit() callers
// must serialise among themselves (the sequencer does) so sequence numbers
// stay monotonic.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "upfront/status.h"
#include "upfront/time.h"

namespace upfront {

struct LogRecord {
  uint64_t seq = 0;
  Micros arrival = 0;
  std::string_view message_id;
  std::string_view canonical;   // the profile the event was routed to
  std::string_view merge_from;  // non-empty: the profile merged into `canonical` first
  std::string_view event_json;  // the minimized event
};

// One group commit: written atomically.
struct CommitBatch {
  std::vector<LogRecord> events;  // strictly increasing seq
  std::vector<std::pair<std::string, std::string>> identity_changes;  // id -> canonical
  Micros stream_watermark = 0;
};


// One partition's state flush: written atomically with its applied sequence.
struct Checkpoint {
  int partition = 0;
  uint64_t applied_seq = 0;
  std::vector<std::pair<std::string_view, std::string_view>> puts;  // canonical -> state
  std::vector<std::string_view> deletes;                            // canonical ids
  // The timer index: canonical -> the customer's earliest pending event-time
  // timer (kNever: none), so timers fire after a restart without loading
  // every customer.
  std::vector<std::pair<std::string_view, Micros>> timers;
  // State of the partition's online learners: model name -> state.
  std::vector<std::pair<std::string, std::string>> learners;
};

struct StoreOptions {
  // Message ids older than this are forgotten by compaction; lookups still
  // compare arrival times, so this is only about space.
  Micros dedup_ttl = 7 * kMicrosPerDay;
  const Clock* clock = nullptr;  // for the dedup TTL; SystemClock() if null
};

class StateStore {
 public:
  virtual ~StateStore() = default;

  virtual absl::Status Commit(const CommitBatch& batch, bool sync) = 0;

  // For each id, the arrival time of a stored event with that message id.
  virtual absl::Status LookupMessageIds(std::span<const std::string_view> ids,
                                        std::vector<std::optional<Micros>>* arrivals) = 0;

  // Calls `visit` for log records with seq >= from_seq in order; stops early
  // when it returns false.
  virtual absl::Status ScanLog(uint64_t from_seq,
                               const std::function<bool(const LogRecord&)>& visit) = 0;
  // Log records routed to `canonical` (as recorded at ingest), in order.
  virtual absl::Status ScanCustomerLog(std::string_view canonical,
                                       const std::function<bool(const LogRecord&)>& visit) = 0;
  virtual absl::Status ScanIdentities(
      const std::function<void(std::string_view id, std::string_view canonical)>& visit) = 0;

  // Every entry of the timer index (see Checkpoint::timers), in id order.
  virtual absl::Status ScanTimers(
      const std::function<void(std::string_view canonical, Micros due)>& visit) = 0;

  // Small engine records by kind and key ("review" items, the "audit"
  // trail), written at once (not synced: they can be rebuilt or are advisory).
  virtual absl::Status PutRecord(std::string_view kind, std::string_view key, std::string_view value) = 0;
  // Several at once, in one write.
  struct RecordWrite {
    std::string kind, key, value;
  };
  virtual absl::Status PutRecords(std::span<const RecordWrite> records) = 0;
  virtual absl::StatusOr<bool> GetRecord(std::string_view kind, std::string_view key, std::string* value) = 0;
  // In key order; stops when `visit` returns false.
  virtual absl::Status ScanRecords(
      std::string_view kind, const std::function<bool(std::string_view key, std::string_view value)>& visit) = 0;

  virtual uint64_t last_seq() const = 0;
  virtual Micros stream_watermark() const = 0;

  virtual absl::Status WriteCheckpoints(std::span<const Checkpoint> checkpoints) = 0;
  // False when the customer has no stored state.
  virtual absl::StatusOr<bool> ReadState(std::string_view canonical, std::string* state) = 0;
  virtual uint64_t AppliedSeq(int partition) const = 0;
  // The learner states a partition last checkpointed, by model name.
  virtual absl::Status ScanLearners(
      int partition, const std::function<void(std::string_view model, std::string_view state)>& visit) = 0;

  // The partition count fixed when the data directory was created; `wanted`
  // is used (and stored) only the first time.
  virtual absl::StatusOr<int> PartitionCount(int wanted) = 0;

  // Privacy erasure of one customer known by all of `ids` (the canonical id
  // and every id merged into it): their log records and history, identity
  // links, state, timer index entry, and the engine records ("review",
  // "audit") whose JSON names one of them as "customer". Message ids stay in
  // the dedup index (they carry nothing personal, and keep a re-sent copy of
  // an erased event from coming back). Synced. Returns the log records erased.
  virtual absl::StatusOr<uint64_t> EraseCustomer(std::span<const std::string> ids) = 0;

  // Deletes log records that arrived before `cutoff`; returns how many.
  virtual absl::StatusOr<uint64_t> PurgeLogBefore(Micros cutoff) = 0;
};

// The embedded store, RocksDB under `dir` (created if missing).
absl::StatusOr<std::unique_ptr<StateStore>> OpenRocksDbStore(const std::string& dir,
                                                             const StoreOptions& options);

}  // namespace upfront
