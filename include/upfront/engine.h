// The engine: takes Segment events in, makes them durable, and keeps every
// customer's state current.
//
//   EngineOptions options;
//   options.data_dir = "/var/lib/upfront";
//   options.policy = std::make_shared<Policy>(std::move(policy));
//   auto engine = Engine::Open(options);
//   auto report = (*engine)->Ingest(R"({"type":"track","userId":"u1","event":"Form Error"})");
//   // report->accepted == 1, and the event is on disk.
//
// Customers are hashed into partitions; each partition's state is owned by
// one worker thread, so applying an event takes no locks. Ingest and Submit
// are thread-safe; events are committed in the order calls reach the
// sequencer, which for one calling thread is the order of its calls.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "upfront/policy.h"
#include "upfront/status.h"
#include "upfront/time.h"

namespace upfront {

// Where "arrival time" comes from. A server uses the wall clock; replaying or
// importing a file uses event time: arrival is the latest event time seen so
// far, as if the events arrived as they happened, in file order.
enum class ArrivalClock { kWall, kEventTime };

struct EngineOptions {
  std::string data_dir;
  std::shared_ptr<const Policy> policy;
  int partitions = 0;  // 0: one per core. Fixed when the data directory is created.
  const Clock* clock = nullptr;  // SystemClock() when null
  ArrivalClock arrival = ArrivalClock::kWall;
  bool sync = true;  // fsync the log before acknowledging; false only for tests/benchmarks
  // Told every decision point (docs/decisions.md) as one JSON object, from
  // the partition threads: it must be thread-safe and quick. After a crash,
  // decisions of events replayed from the log are told again, with the same
  // decision_id.
  std::function<void(std::string_view decision_json)> on_decision;
  // For a listener that makes decisions durable on its own thread: returns
  // once every decision told so far is durable. Called on a partition thread
  // before a checkpoint that follows decisions (recovery does not tell again
  // the decisions of events a checkpoint covers) and after an approved review
  // is told. It must not call into the engine. An error leaves the
  // checkpoint unwritten (it is tried again later).
  std::function<absl::Status()> await_decisions_durable;
  // Backpressure: Submit waits while this many accepted events are not yet
  // applied by their partitions (each holds ~1 KB until then); 0: no limit.
  // A batch that finds room is taken whole, so the count may pass it by one
  // batch.
  static constexpr uint64_t kDefaultMaxEventsApplying = 262'144;
  uint64_t max_events_applying = kDefaultMaxEventsApplying;
};

enum class IngestFormat { kAuto, kJsonLines, kJson };

struct IngestOptions {
  IngestFormat format = IngestFormat::kAuto;
  size_t max_batch_bytes = 500 * 1024;  // 0: no limit (file import)
  size_t first_line = 1;  // line number of the payload's first line, for error messages
  size_t first_index = 0; // index of the payload's first event, for error messages
};

// The fate of one event of a batch.
struct EventResult {
  enum class Status { kAccepted, kDuplicate, kRejected };
  Status status = Status::kAccepted;
  size_t index = 0;  // 0-based position in the batch
  size_t line = 0;   // 1-based line in the payload (0 when not known)
  std::string message_id;  // duplicates only: the id that matched (accepted events cost no copy)
  std::string field;   // rejected: the field at fault ("" = the event as a whole)
  std::string reason;  // rejected: why, in words
  bool late = false;
  uint64_t seq = 0;    // accepted: position in the event log
};

struct IngestReport {
  size_t accepted = 0;
  size_t duplicates = 0;
  size_t rejected = 0;
  size_t late = 0;
  std::vector<EventResult> events;  // one per event, in batch order
  // "event 3 (line 4): field timestamp: 'yesterday' is not an ISO-8601 timestamp"
  static std::string Describe(const EventResult& result);
};

// Upper bounds, in microseconds, of the decision latency histogram's buckets
// (the last bucket, beyond them, is +Inf).
inline constexpr double kDecisionLatencyBoundsMicros[] = {1, 2, 5, 10, 20, 50, 100, 200, 500,
                                                          1000, 2000, 5000, 10000};
inline constexpr size_t kDecisionLatencyBuckets = std::size(kDecisionLatencyBoundsMicros) + 1;

struct EngineStats {
  uint64_t accepted = 0;
  uint64_t duplicates = 0;
  uint64_t rejected = 0;
  uint64_t late = 0;
  uint64_t merges = 0;
  uint64_t last_seq = 0;
  uint64_t replayed_on_open = 0;  // log records re-applied during recovery
  uint64_t purged_on_open = 0;    // log records older than the retention, deleted
  int partitions = 0;
  // Accepted (or being committed) and not yet applied by their partitions.
  uint64_t events_applying = 0;
  uint64_t ingest_waits = 0;  // batches that waited for the partitions (backpressure)
  // Decisions on events: time from the event reaching its partition to the
  // decision being told to on_decision (reading, deciding, rendering).
  // Per-bucket counts (not cumulative) and the total.
  std::array<uint64_t, kDecisionLatencyBuckets> decision_latency_counts{};
  double decision_latency_sum_micros = 0;
};

// Drift of one model's score distribution: the population stability index
// of recent scores against the reference (the first scores after open).
struct ModelDrift {
  std::string model;
  std::string version;
  uint64_t reference_scores = 0;
  uint64_t current_scores = 0;
  double psi = 0;
  std::string level;  // "stable" (< 0.1), "moderate" (< 0.25), "significant"
};

// An agent's answer to a review item.
struct ReviewAnswer {
  bool approve = false;
  std::string agent;    // who answered (recorded in the audit trail)
  std::string message;  // approve: the message as edited ("" = as suggested)
  std::string reason;   // reject: why (required)
  std::optional<Micros> at;  // when; default: now (wall clock) or the latest event time (event-time engines)
};

// What an erasure removed.
struct ErasureReport {
  std::vector<std::string> ids;  // the canonical id first, then every id merged into it
  uint64_t events = 0;           // log records erased
};

class Engine {
 public:
  // Opens (or creates) the data directory and recovers every acknowledged
  // event into customer state before returning.
  static absl::StatusOr<std::unique_ptr<Engine>> Open(const EngineOptions& options);
  virtual ~Engine() = default;

  // Validates, deduplicates and durably stores a batch, then returns. A batch
  // over max_batch_bytes, or one that cannot be read at all, is an error;
  // otherwise each event has its own result and good events land even when
  // others are rejected.
  virtual absl::StatusOr<IngestReport> Ingest(std::string_view payload,
                                              const IngestOptions& options = {}) = 0;
  // The same, without waiting for durability: parsing happens now, on the
  // calling thread; the future is ready once the batch is durable. Lets one
  // thread parse the next batch while the previous one is being written.
  // Returns only once there is room (EngineOptions::max_events_applying).
  virtual std::future<absl::StatusOr<IngestReport>> Submit(std::string_view payload,
                                                           const IngestOptions& options = {}) = 0;

  // The merged profile of the customer known by `id` (either of their ids),
  // reflecting every event acknowledged before the call. NotFound if unknown.
  virtual absl::StatusOr<std::string> ProfileJson(std::string_view id) = 0;

  // The engine's reading of the customer known by `id` at event time `at`
  // (default: the latest event time the engine has seen for them or anyone in
  // their partition): segment, each signal with its evidence, each model's
  // score with its confidence, version and top features. JSON; NotFound if unknown.
  virtual absl::StatusOr<std::string> InspectJson(std::string_view id,
                                                  std::optional<Micros> at = std::nullopt) = 0;

  // Fires every event-time timer (abandonments, rate checks) due by `now`.
  // Events advance time by themselves; a server calls this from its clock.
  virtual absl::Status AdvanceClock(Micros now) = 0;

  virtual std::vector<ModelDrift> Drift() = 0;

  // The human review queue (docs/decisions.md): items with `status`
  // ("pending", "approved", "rejected", "expired", or "" for all), oldest
  // first, at most `limit`, as a JSON array.
  virtual absl::StatusOr<std::string> ReviewItems(std::string_view status, size_t limit) = 0;
  // One review item, whatever its status, as JSON; NotFound if unknown.
  virtual absl::StatusOr<std::string> ReviewItem(std::string_view review_id) = 0;
  // Approves (optionally with an edited message) or rejects an item. An
  // approval is delivered as a decision (to on_decision) carrying the final
  // message; both are written to the audit trail and are labels for the
  // models the intervention reads. Returns the updated item. NotFound for an
  // unknown item, FailedPrecondition when it is no longer pending.
  virtual absl::StatusOr<std::string> AnswerReview(std::string_view review_id,
                                                   const ReviewAnswer& answer) = 0;
  // The customer's preferences and consent (docs/decisions.md), as JSON.
  virtual absl::StatusOr<std::string> Preferences(std::string_view id) = 0;
  // Changes them from a JSON patch (only the keys it has); InvalidArgument
  // naming the field, and nothing changed, when any is wrong. Returns the
  // result. The change is durable once this returns.
  virtual absl::StatusOr<std::string> UpdatePreferences(std::string_view id, std::string_view patch,
                                                        std::optional<Micros> at = std::nullopt) = 0;

  // The audit trail of agent actions, oldest first, as a JSON array.
  virtual absl::StatusOr<std::string> AuditTrail(size_t limit) = 0;

  // Every id the customer known by `id` goes by, the canonical one first.
  // NotFound if unknown.
  virtual absl::StatusOr<std::vector<std::string>> CustomerIds(std::string_view id) = 0;
  // Everything the engine holds about the customer known by `id`: ids,
  // profile, preferences, stored events and review items, as one JSON object.
  virtual absl::StatusOr<std::string> ExportCustomer(std::string_view id) = 0;
  // How each of the customer's signals moved: the stored events of every id
  // the customer goes by, in arrival order, replayed through a fresh signal
  // state, with every signal's score after each event (and, last, at
  // `until` when later: decay and fired timers). At most `max_points`
  // points, evenly thinned, the first and last always kept. JSON
  // {"signals": [names], "points": [{"at", "event", "scores": [...]}]};
  // NotFound if unknown. For the console's charts: events purged by
  // retention are no longer in it.
  virtual absl::StatusOr<std::string> SignalHistoryJson(std::string_view id, size_t max_points,
                                                        std::optional<Micros> until = std::nullopt) = 0;
  // Privacy erasure: the profile, state, timers, stored events, identity
  // links and review items of the customer and every id merged into them,
  // durably. Events that arrive while it runs may be erased with it; later
  // ones start a new profile. NotFound if unknown.
  virtual absl::StatusOr<ErasureReport> EraseCustomer(std::string_view id) = 0;
  // Retention: deletes stored events that arrived longer ago than the
  // policy's `retention` (also done on open). Returns how many.
  virtual absl::StatusOr<uint64_t> PurgeExpiredEvents() = 0;

  // Waits until every acknowledged event is applied and state is written.
  virtual absl::Status Flush() = 0;

  // For measurement and reports. Every stored event in arrival order: the
  // customer it was routed to (canonical at ingest; CustomerIds maps a
  // merged id on) and the minimized event JSON. Stops when `visit` is false.
  virtual absl::Status ScanEvents(
      const std::function<bool(std::string_view customer, Micros arrival, std::string_view event_json)>&
          visit) = 0;
  // The engine's records of one kind, in key order, each a JSON object:
  // "exposure" (a customer first met an intervention's condition, per
  // variant), "action" (a decision that acted, or would have in the
  // holdout), "review" (review items). Stops when `visit` is false.
  virtual absl::Status ScanRecords(
      std::string_view kind, const std::function<bool(std::string_view key, std::string_view json)>& visit) = 0;

  virtual EngineStats Stats() const = 0;
};

}  // namespace upfront
