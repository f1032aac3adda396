// A partition: the customers whose canonical id hashes to it, owned by one
// worker thread. The sequencer (a single producer) feeds it events in log
// order through a lock-free ring; other threads reach its state only through
// tasks that run on the worker thread.
//
// State is kept in memory, loaded lazily from the store, and checkpointed to
// the store with the sequence number applied so far, so recovery replays the
// log only from there.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <queue>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "src/common/id_map.h"
#include "src/common/string_map.h"
#include "src/decide/decider.h"
#include "src/models/drift.h"
#include "src/profile/profile.h"
#include "src/reading/online_learning.h"
#include "src/reading/reader.h"
#include "src/signals/customer_signals.h"
#include "src/runtime/spsc_ring.h"
#include "src/store/store.h"
#include "upfront/engine.h"
#include "upfront/event.h"

namespace upfront {

// Owns events handed to partitions by reference; told once per event when a
// partition is done with it.
class EventOwner {
 public:
  virtual void ReleaseEvent() = 0;

 protected:
  ~EventOwner() = default;
};

struct CustomerState {
  explicit CustomerState(const CompiledSignals* compiled) : signals(compiled) {}
  Profile profile;
  CustomerSignals signals;
  PendingLabels labels;  // moments waiting for a learning model's label
  DecisionState decisions;
  bool dirty = false;
  // The due time this customer was last entered with in the timer heap.
  Micros scheduled_due = kNever;
  // The due time the stored timer index holds for this customer.
  Micros indexed_due = kNever;
};

// The hash customers are routed (hash % partitions) and looked up by.
inline uint64_t CustomerHash(std::string_view canonical) { return IdMap<CustomerState>::HashOf(canonical); }

// Per-model score histograms for drift monitoring: the first
// kDriftReferenceScores scores a partition computes are the reference; every
// later one goes to `current`.
inline constexpr uint64_t kDriftReferenceScores = 10000;
struct ModelDriftCounts {
  ScoreHistogram reference;
  ScoreHistogram current;
};

// Partitions take turns to checkpoint: every `every * count` sequence
// numbers (or ticks of a clock) there is one slot per partition, partition
// `index` at offset `index * every`. Each applies about 1/count of the events,
// so each still checkpoints about every `every` of its own; a checkpoint
// encodes and writes tens of MB, and two at once doubled the worst second of
// acknowledgement latency (bench/http_load_bench). True when a slot of
// `index` lies in (from, to].
bool PassesCheckpointSlot(uint64_t from, uint64_t to, int index, int count, uint64_t every);

class Partition {
 public:
  // Events with seq <= applied_at_open are already in the stored state and
  // are skipped when the log is replayed.
  using DecisionListener = std::function<void(std::string_view decision_json)>;
  Partition(int index, int partition_count, StateStore* store, const ProfileRules* rules, const PolicyReader* reader,
            uint64_t applied_at_open, DecisionListener on_decision = {},
            std::function<absl::Status()> await_decisions_durable = {});
  ~Partition();

  void Start();
  // Applies everything queued, checkpoints, and joins the worker.
  void Stop();

  // --- Producer side: the sequencer thread only. ---
  // `canonical_hash` is CustomerHash(canonical), which the router has
  // computed to choose the partition.
  // Copies the event (for callers that reuse it at once, like recovery).
  void PushEvent(uint64_t seq, std::string_view canonical, uint64_t canonical_hash, const Event& event);
  // Passes the event by reference: `event` and `canonical` stay valid until
  // the partition calls owner->ReleaseEvent().
  void PushEventRef(uint64_t seq, const std::string& canonical, uint64_t canonical_hash,
                    const Event& event, EventOwner* owner);
  // Everything up to `seq` that belongs to this partition has been pushed.
  void PushWatermark(uint64_t seq);
  // Removes `canonical`'s state from this partition and returns it (empty
  // when there is none), after checkpointing so the stored copy is current.
  // The stored copy stays until the absorbing partition deletes it.
  std::unique_ptr<CustomerState> Extract(std::string_view canonical);
  // Merges `from` (whose stored copy is `from_id`) into `canonical`.
  void PushAbsorb(uint64_t seq, std::string_view canonical, std::string_view from_id,
                  std::unique_ptr<CustomerState> from);

  // Before Start(): a customer with a pending event-time timer, from the
  // stored timer index.
  void LoadTimer(std::string_view canonical, Micros due);
  // Before Start(): a learner's state from the last checkpoint.
  void LoadLearner(std::string_view model, std::string_view state) { learning_.Load(model, state); }

  // --- Any thread. ---
  // Runs `task` on the worker once everything up to `seq` is applied.
  void RunWhenApplied(uint64_t seq, std::function<void(Partition&)> task);

  // --- Worker thread only (inside tasks). ---
  // The customer's state, from memory or the store; nullptr when unknown.
  CustomerState* Find(std::string_view canonical);
  CustomerState* Find(std::string_view canonical, uint64_t hash);  // hash: CustomerHash(canonical)
  absl::Status Checkpoint();
  // Under load: this partition's turn has come (see PassesCheckpointSlot).
  bool CheckpointDue(std::chrono::steady_clock::time_point now) const;
  // Marks a customer changed outside the event path (so it is checkpointed)
  // and reschedules its timers.
  void Touch(CustomerState& state) {
    MarkDirty(state);
    Schedule(state);
  }
  // Fires every customer timer due by `now` (event time). Events advance the
  // partition's clock by themselves; a server also calls this from its clock.
  void FireTimers(Micros now);
  // The customer's reading at `now` (timers due by then fired first).
  const Reading& ReadCustomer(CustomerState& state, Micros now);
  const std::vector<ModelDriftCounts>& drift() const { return drift_; }
  // Adds this partition's decision latency histogram to `stats`; any thread.
  void AddDecisionLatency(EngineStats* stats) const;
  const OnlineLearning& learning() const { return learning_; }
  Micros clock() const { return clock_; }
  const ProfileRules& rules() const { return *rules_; }
  const PolicyReader& reader() const { return *reader_; }

  // An agent's answer to a pending review item (worker thread). Returns the
  // item as updated.
  absl::StatusOr<std::string> AnswerReview(const std::string& review_json, bool approve,
                                           const std::string& agent, const std::string& message,
                                           const std::string& reason, std::optional<Micros> at,
                                           Micros wall_now);
  uint64_t applied_seq() const { return applied_seq_; }
  // Privacy erasure (worker thread): drops the customer's state from memory
  // and erases everything the store holds about `ids` (canonical first).
  absl::StatusOr<uint64_t> Erase(std::span<const std::string> ids);

 private:
  struct Message {
    enum class Kind { kEvent, kWatermark, kExtract, kAbsorb };
    Kind kind = Kind::kEvent;
    uint64_t seq = 0;
    std::string canonical;
    uint64_t canonical_hash = 0;  // kEvent: CustomerHash(canonical)
    std::string from_id;
    Event event;
    const Event* event_ref = nullptr;
    const std::string* canonical_ref = nullptr;
    EventOwner* owner = nullptr;
    std::unique_ptr<CustomerState> absorbed;
    std::promise<std::unique_ptr<CustomerState>>* extracted = nullptr;
  };
  struct Task {
    uint64_t seq;
    std::function<void(Partition&)> run;
  };

  void Run();
  // Starts loading the state of the customers of the next few queued events
  // (in stages: the map slot, the state object, its heap blocks), so that
  // handling them does not wait on memory.
  void LookAhead();
  void Handle(Message& m);
  CustomerState& FindOrCreate(std::string_view canonical);
  CustomerState& FindOrCreate(std::string_view canonical, uint64_t hash);
  void MarkDirty(CustomerState& state);
  void Schedule(CustomerState& state);
  // Reads the customer at `now` after an event named `event_name` ("" after
  // timers), feeding drift monitoring and online learning.
  void Evaluate(CustomerState& state, Micros now, std::string_view event_name);
  // Decides for the customer at `now` (after Evaluate) and tells the listener.
  void Decide(CustomerState& state, const Event* trigger, Micros now);
  // Writes the "exposure" and "action" records of the decision just made.
  void RecordExposuresAndAction(Micros now);
  // Writes the exposure and action records gathered since the last call in
  // one write: one per batch of events instead of one per record, which
  // would queue each in front of the event log's commits.
  void FlushRecords();
  void SetReviewStatus(std::string_view review_id, std::string_view status);
  // The customer's earliest timer: signals, or a learning moment's horizon.
  Micros DueOf(const CustomerState& state);
  void RunReadyTasks();

  struct TimerEntry {
    Micros due;
    std::string canonical;
    bool operator>(const TimerEntry& o) const { return due > o.due; }
  };

  const int index_;
  const int partition_count_;
  StateStore* const store_;
  const ProfileRules* const rules_;
  const PolicyReader* const reader_;
  const uint64_t applied_at_open_;
  SpscRing<Message> ring_;
  std::thread worker_;
  std::atomic<bool> stopping_{false};

  // Worker-owned.
  IdMap<CustomerState> customers_;
  std::vector<CustomerState*> dirty_;
  std::vector<StateStore::RecordWrite> pending_records_;
  size_t pending_record_count_ = 0;  // the first entries of pending_records_ in use
  std::vector<std::string> pending_deletes_;
  std::vector<std::string> encoded_;
  uint64_t applied_seq_ = 0;
  uint64_t checkpointed_seq_ = 0;
  uint64_t since_checkpoint_ = 0;
  std::chrono::steady_clock::time_point last_checkpoint_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_event_ = std::chrono::steady_clock::now();
  std::vector<Task> waiting_tasks_;
  // Customers by their earliest pending timer; entries whose customer has
  // since moved on are skipped when they come up.
  std::priority_queue<TimerEntry, std::vector<TimerEntry>, std::greater<>> timers_;
  Micros clock_ = kNever;  // the latest event time this partition has seen
  Reading reading_;
  OnlineLearning learning_;
  Decider decider_;
  DecisionListener on_decision_;
  std::function<absl::Status()> await_decisions_durable_;
  bool told_since_checkpoint_ = false;
  Decision decision_;
  std::string decision_json_;
  // When the event being handled reached the partition (decision latency).
  std::chrono::steady_clock::time_point handling_since_;
  // Written by the worker only, read by Stats() from any thread.
  std::array<std::atomic<uint64_t>, kDecisionLatencyBuckets> decision_latency_counts_{};
  std::atomic<uint64_t> decision_latency_sum_nanos_{0};
  std::vector<ModelDriftCounts> drift_;
  uint64_t scores_seen_ = 0;

  std::mutex tasks_mu_;
  std::vector<Task> new_tasks_;  // guarded by tasks_mu_
  std::atomic<bool> tasks_pending_{false};
};

}  // namespace upfront
