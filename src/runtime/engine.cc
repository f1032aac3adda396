// The assembled engine: parse on the caller's thread, commit and route on the
// sequencer thread, apply on partition threads.
//
// Why a single sequencer: deduplication, identity merges and sequence numbers
// need one order. It commits whatever batches are waiting as one RocksDB
// write with one fsync (group commit), so many small requests cost one sync.

#include <pthread.h>
#include <spdlog/spdlog.h>

#include <cmath>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <fstream>
#include <limits>
#include <mutex>
#include <shared_mutex>
#include <thread>

#include <nlohmann/json.hpp>
#include <simdjson.h>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "src/common/hash.h"
#include "src/common/string_map.h"
#include "src/common/time_format.h"
#include "src/event/batch.h"
#include "src/event/event_json.h"
#include "src/event/event_parser.h"
#include "src/event/field_catalog.h"
#include "src/profile/identity.h"
#include "src/profile/profile.h"
#include "src/decide/preferences_json.h"
#include "src/reading/reader.h"
#include "src/reading/reading_json.h"
#include "src/runtime/partition.h"
#include "src/runtime/recent_message_ids.h"
#include "src/signals/customer_signals.h"
#include "src/store/store.h"
#include "upfront/engine.h"

namespace upfront {
namespace {

constexpr size_t kPayloadPadding = kParsePadding;
constexpr Micros kTimeFromWatermark = std::numeric_limits<Micros>::min();
constexpr size_t kRecentIdsCapacity = 8 << 20;
constexpr size_t kPooledBatches = 64;

struct ParsedEvent {
  Event event;
  Micros arrival = 0;
  bool ask_store = false;  // dedup needs a store lookup
  uint64_t seq = 0;  // 0: not accepted (duplicate), nothing to route
  Routing routing;
};

// What parsing a payload needs only while it runs, so it is not carried
// with the batch while the batch waits for its partitions.
struct ParseScratch {
  explicit ParseScratch(const FieldCatalog* catalog) : parser(catalog) {}
  EventParser parser;
  std::string payload;  // padded copy of the request body
  std::vector<RawEvent> raw;
};

class EngineImpl;

// A batch on its way through the sequencer. Reused across calls. Partitions
// read its events in place; the last one done with it returns it to the pool.
struct PendingBatch final : EventOwner {
  void ReleaseEvent() override;
  EngineImpl* engine = nullptr;
  std::atomic<int> refs{0};
  size_t events_counted = 0;  // in EngineImpl::events_applying_
  std::vector<ParsedEvent> parsed;       // slots; the first `parsed_count` are in use
  size_t parsed_count = 0;
  std::vector<size_t> result_of_parsed;  // parsed index -> report.events index
  IngestReport report;
  std::promise<absl::StatusOr<IngestReport>> done;
};

class EngineImpl final : public Engine {
 public:
  explicit EngineImpl(const EngineOptions& options)
      : options_(options),
        policy_(options.policy),
        clock_(options.clock ? options.clock : &SystemClock()) {}

  ~EngineImpl() override { Shutdown(); }

  absl::Status Open() {
    if (!policy_) return absl::InvalidArgumentError("the engine needs a policy");
    std::error_code ec;
    std::filesystem::create_directories(options_.data_dir, ec);
    if (ec) {
      return absl::FailedPreconditionError(
          absl::StrCat("cannot create the data directory '", options_.data_dir, "': ", ec.message()));
    }
    UPFRONT_ASSIGN_OR_RETURN(std::string hash_key, LoadOrCreateDataKey(options_.data_dir));
    const EventsPolicy& ev = policy_->events;
    catalog_ = std::make_unique<FieldCatalog>(ev.keep_properties, ev.keep_traits, ev.hash, hash_key);
    rules_ = std::make_unique<ProfileRules>(*policy_, *catalog_);
    UPFRONT_ASSIGN_OR_RETURN(reader_, PolicyReader::Create(*policy_, *catalog_));

    StoreOptions store_options;
    store_options.dedup_ttl = std::max(ev.dedup_window, kMicrosPerDay);
    store_options.clock = clock_;
    UPFRONT_ASSIGN_OR_RETURN(store_, OpenRocksDbStore(
                                         (std::filesystem::path(options_.data_dir) / "db").string(),
                                         store_options));
    int wanted = options_.partitions > 0 ? options_.partitions
                                         : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
    UPFRONT_ASSIGN_OR_RETURN(int partitions, store_->PartitionCount(wanted));
    UPFRONT_RETURN_IF_ERROR(store_->ScanIdentities(
        [&](std::string_view id, std::string_view canonical) { identity_.Load(id, canonical); }));

    uint64_t replay_from = store_->last_seq() + 1;
    for (int p = 0; p < partitions; ++p) {
      uint64_t applied = store_->AppliedSeq(p);
      replay_from = std::min(replay_from, applied + 1);
      applied_at_open_.push_back(applied);
      partitions_.push_back(
          std::make_unique<Partition>(p, partitions, store_.get(), rules_.get(), reader_.get(), applied,
                                      options_.on_decision, options_.await_decisions_durable));
    }
    UPFRONT_RETURN_IF_ERROR(store_->ScanTimers([&](std::string_view canonical, Micros due) {
      PartitionFor(canonical).LoadTimer(canonical, due);
    }));
    for (size_t p = 0; p < partitions_.size(); ++p) {
      Partition& partition = *partitions_[p];
      UPFRONT_RETURN_IF_ERROR(store_->ScanLearners(
          static_cast<int>(p), [&](std::string_view model, std::string_view state) {
            partition.LoadLearner(model, state);
          }));
    }
    for (auto& p : partitions_) p->Start();
    last_seq_ = store_->last_seq();
    watermark_ = store_->stream_watermark();
    // The in-memory dedup index knows nothing stored before now, unless the
    // store is empty.
    if (last_seq_ > 0) {
      recent_ids_.set_covered_from(
          options_.arrival == ArrivalClock::kWall ? std::max(clock_->Now(), watermark_) + 1 : watermark_ + 1);
    }
    UPFRONT_RETURN_IF_ERROR(Recover(replay_from));
    // Retention: the log keeps events for the policy's retention; state
    // derived from older events stays (it is already checkpointed).
    Micros now = options_.arrival == ArrivalClock::kWall ? clock_->Now() : watermark_;
    UPFRONT_ASSIGN_OR_RETURN(purged_on_open_, store_->PurgeLogBefore(now - ev.retention));
    sequencer_ = std::thread([this] {
      pthread_setname_np(pthread_self(), "upfront-seq");
      RunSequencer();
    });
    router_ = std::thread([this] {
      pthread_setname_np(pthread_self(), "upfront-route");
      RunRouter();
    });
    return absl::OkStatus();
  }

  absl::StatusOr<IngestReport> Ingest(std::string_view payload, const IngestOptions& options) override {
    return Submit(payload, options).get();
  }

  std::future<absl::StatusOr<IngestReport>> Submit(std::string_view payload,
                                                   const IngestOptions& options) override {
    std::unique_ptr<PendingBatch> batch = TakeBatch();
    auto future = batch->done.get_future();
    if (absl::Status s = Parse(payload, options, batch.get()); !s.ok()) {
      batch->done.set_value(s);
      ReturnBatch(std::move(batch));
      return future;
    }
    AwaitRoomToApply(batch.get());
    {
      std::lock_guard lock(queue_mu_);
      if (stopping_) {
        batch->done.set_value(absl::UnavailableError("the engine is shutting down"));
        ReturnBatch(std::move(batch));
        return future;
      }
      queue_.push_back(std::move(batch));
    }
    queue_cv_.notify_one();
    return future;
  }

  absl::StatusOr<std::string> ProfileJson(std::string_view id) override {
    return WithCustomer(id, [](Partition& p, CustomerState& state) -> absl::StatusOr<std::string> {
      return ProfileToJson(p.rules(), state.profile).dump(2);
    });
  }

  absl::StatusOr<std::string> InspectJson(std::string_view id, std::optional<Micros> at) override {
    return WithCustomer(id, [&](Partition& p, CustomerState& state) -> absl::StatusOr<std::string> {
      const Micros now = at.value_or(std::max(p.clock(), state.profile.last_seen));
      const Reading& reading = p.ReadCustomer(state, now);
      return ReadingToJson(p.reader(), state.profile, state.signals, reading).dump(2);
    });
  }

  absl::Status AdvanceClock(Micros now) override {
    const uint64_t target = last_seq_.load();
    std::vector<std::promise<void>> done(partitions_.size());
    for (size_t i = 0; i < partitions_.size(); ++i) {
      partitions_[i]->RunWhenApplied(target, [&done, i, now](Partition& p) {
        p.FireTimers(now);
        done[i].set_value();
      });
    }
    for (auto& d : done) d.get_future().wait();
    return absl::OkStatus();
  }

  std::vector<ModelDrift> Drift() override {
    const size_t models = policy_->models.size();
    std::vector<ModelDriftCounts> total(models);
    std::mutex mu;
    std::vector<std::promise<void>> done(partitions_.size());
    for (size_t i = 0; i < partitions_.size(); ++i) {
      partitions_[i]->RunWhenApplied(last_seq_.load(), [&, i](Partition& p) {
        {
          std::lock_guard lock(mu);
          for (size_t m = 0; m < models; ++m) {
            total[m].reference.Merge(p.drift()[m].reference).IgnoreError();
            total[m].current.Merge(p.drift()[m].current).IgnoreError();
          }
        }
        done[i].set_value();
      });
    }
    for (auto& d : done) d.get_future().wait();
    std::vector<ModelDrift> out;
    for (size_t m = 0; m < models; ++m) {
      ModelDrift d;
      d.model = policy_->models[m].name;
      d.version = reader_->model_version(static_cast<int>(m));
      d.reference_scores = total[m].reference.total();
      d.current_scores = total[m].current.total();
      if (d.reference_scores > 0 && d.current_scores > 0) {
        d.psi = PopulationStabilityIndex(total[m].reference, total[m].current);
      }
      d.level = std::string(DriftLevelName(ClassifyDrift(d.psi)));
      out.push_back(std::move(d));
    }
    return out;
  }

  absl::StatusOr<std::string> ReviewItems(std::string_view status, size_t limit) override {
    // Only each item's status and creation time are read (the console lists
    // ten thousand at a time); the items themselves are passed on as stored.
    struct Found {
      std::string created_at;
      std::string json;
    };
    std::vector<Found> items;
    simdjson::dom::parser parser;
    UPFRONT_RETURN_IF_ERROR(store_->ScanRecords("review", [&](std::string_view key, std::string_view value) {
      simdjson::dom::element item;
      std::string_view item_status, created_at;
      if (parser.parse(value.data(), value.size()).get(item) != simdjson::SUCCESS ||
          item["status"].get(item_status) != simdjson::SUCCESS ||
          item["created_at"].get(created_at) != simdjson::SUCCESS) {
        spdlog::error("review item {} is unreadable; left out", key);
        return true;
      }
      if (status.empty() || item_status == status) items.push_back({std::string(created_at), std::string(value)});
      return true;
    }));
    std::stable_sort(items.begin(), items.end(),
                     [](const Found& a, const Found& b) { return a.created_at < b.created_at; });
    std::string out = "[";
    for (size_t i = 0; i < items.size() && i < limit; ++i) {
      if (i > 0) out += ',';
      out += items[i].json;
    }
    out += ']';
    return out;
  }

  absl::StatusOr<std::string> ReviewItem(std::string_view review_id) override {
    std::string stored;
    UPFRONT_ASSIGN_OR_RETURN(bool found, store_->GetRecord("review", review_id, &stored));
    if (!found) return absl::NotFoundError(absl::StrCat("no review item '", std::string(review_id), "'"));
    return stored;
  }

  absl::StatusOr<std::string> AnswerReview(std::string_view review_id,
                                           const ReviewAnswer& answer) override {
    if (answer.agent.empty()) return absl::InvalidArgumentError("an answer needs the agent's name");
    if (!answer.approve && answer.reason.empty()) {
      return absl::InvalidArgumentError("a rejection needs a reason");
    }
    std::string stored;
    UPFRONT_ASSIGN_OR_RETURN(bool found, store_->GetRecord("review", review_id, &stored));
    if (!found) return absl::NotFoundError(absl::StrCat("no review item '", std::string(review_id), "'"));
    const nlohmann::json item = nlohmann::json::parse(stored, nullptr, false);
    if (item.is_discarded()) return absl::DataLossError("the review item is unreadable");
    const std::string customer = item["customer"];
    const Micros wall = options_.arrival == ArrivalClock::kWall ? clock_->Now() : 0;
    std::promise<absl::StatusOr<std::string>> result;
    auto future = result.get_future();
    PartitionFor(customer).RunWhenApplied(last_seq_.load(), [&](Partition& p) {
      result.set_value(p.AnswerReview(stored, answer.approve, answer.agent, answer.message,
                                      answer.reason, answer.at, wall));
    });
    return future.get();
  }

  absl::StatusOr<std::string> Preferences(std::string_view id) override {
    return UpdatePreferences(id, "{}", std::nullopt);
  }

  absl::StatusOr<std::string> UpdatePreferences(std::string_view id, std::string_view patch,
                                                std::optional<Micros> at) override {
    const nlohmann::json parsed = nlohmann::json::parse(patch, nullptr, false);
    if (parsed.is_discarded()) return absl::InvalidArgumentError("preferences: the body is not valid JSON");
    const Micros wall = options_.arrival == ArrivalClock::kWall ? clock_->Now() : 0;
    return WithCustomer(id, [&](Partition& p, CustomerState& state) -> absl::StatusOr<std::string> {
      const Micros now = at.value_or(wall != 0 ? wall : std::max(p.clock(), state.profile.last_seen));
      if (!parsed.empty()) {
        UPFRONT_RETURN_IF_ERROR(ApplyPreferencesPatch(*policy_, parsed, now, &state.decisions));
        p.Touch(state);
        // Durable before the caller hears it is done.
        UPFRONT_RETURN_IF_ERROR(p.Checkpoint());
      }
      return PreferencesToJson(*policy_, state.decisions).dump();
    });
  }

  absl::StatusOr<std::string> AuditTrail(size_t limit) override {
    nlohmann::json out = nlohmann::json::array();
    UPFRONT_RETURN_IF_ERROR(store_->ScanRecords("audit", [&](std::string_view, std::string_view value) {
      out.push_back(nlohmann::json::parse(value, nullptr, false));
      return out.size() < limit;
    }));
    return out.dump();
  }

  absl::StatusOr<std::vector<std::string>> CustomerIds(std::string_view id) override {
    std::vector<std::string> ids;
    UPFRONT_RETURN_IF_ERROR(WithCustomer(id, [&](Partition&, CustomerState&) -> absl::StatusOr<std::string> {
      std::shared_lock lock(identity_mu_);
      ids = identity_.Members(identity_.Resolve(id));
      return std::string();
    }).status());
    return ids;
  }

  absl::StatusOr<std::string> ExportCustomer(std::string_view id) override {
    UPFRONT_ASSIGN_OR_RETURN(std::vector<std::string> ids, CustomerIds(id));
    nlohmann::json out;
    out["ids"] = ids;
    UPFRONT_ASSIGN_OR_RETURN(std::string profile, ProfileJson(id));
    out["profile"] = nlohmann::json::parse(profile);
    UPFRONT_ASSIGN_OR_RETURN(std::string preferences, Preferences(id));
    out["preferences"] = nlohmann::json::parse(preferences);
    nlohmann::json events = nlohmann::json::array();
    for (const std::string& each : ids) {
      UPFRONT_RETURN_IF_ERROR(store_->ScanCustomerLog(each, [&](const LogRecord& r) {
        events.push_back({{"seq", r.seq}, {"event", nlohmann::json::parse(r.event_json, nullptr, false)}});
        return true;
      }));
    }
    std::sort(events.begin(), events.end(),
              [](const nlohmann::json& a, const nlohmann::json& b) { return a["seq"] < b["seq"]; });
    out["events"] = std::move(events);
    nlohmann::json reviews = nlohmann::json::array();
    UPFRONT_RETURN_IF_ERROR(store_->ScanRecords("review", [&](std::string_view, std::string_view value) {
      nlohmann::json item = nlohmann::json::parse(value, nullptr, false);
      if (item.is_object() && std::find(ids.begin(), ids.end(), item.value("customer", "")) != ids.end()) {
        reviews.push_back(std::move(item));
      }
      return true;
    }));
    out["review_items"] = std::move(reviews);
    return out.dump();
  }

  absl::StatusOr<std::string> SignalHistoryJson(std::string_view id, size_t max_points,
                                                std::optional<Micros> until) override {
    UPFRONT_ASSIGN_OR_RETURN(std::vector<std::string> ids, CustomerIds(id));
    std::vector<std::pair<uint64_t, std::string>> stored;  // seq, event JSON
    for (const std::string& each : ids) {
      UPFRONT_RETURN_IF_ERROR(store_->ScanCustomerLog(each, [&](const LogRecord& r) {
        stored.emplace_back(r.seq, std::string(r.event_json));
        return true;
      }));
    }
    std::sort(stored.begin(), stored.end());
    const CompiledSignals& compiled = reader_->signals();
    CustomerSignals signals(&compiled);
    EventParser parser(catalog_.get());
    Event event;
    EventError error;
    std::string padded;
    nlohmann::json points = nlohmann::json::array();
    auto add_point = [&](Micros at, std::string_view name) {
      signals.AdvanceTo(at);
      nlohmann::json scores = nlohmann::json::array();
      for (size_t i = 0; i < compiled.signal_count(); ++i) {
        scores.push_back(std::round(signals.Score(static_cast<int>(i), at) * 1e4) / 1e4);
      }
      points.push_back({{"at", FormatTimestamp(at)}, {"event", name}, {"scores", std::move(scores)}});
    };
    Micros latest = 0;
    for (const auto& [seq, json] : stored) {
      padded.assign(json);
      padded.append(kPayloadPadding, '\0');
      if (!parser.ParseStored(std::string_view(padded.data(), json.size()), &event, &error)) {
        return absl::DataLossError(absl::StrCat("event log record ", seq, " cannot be read: ", error.field, " ",
                                                error.reason));
      }
      signals.OnEvent(event);
      latest = std::max(latest, event.timestamp);
      add_point(event.timestamp, event.name);
    }
    if (until && *until > latest && !stored.empty()) add_point(*until, "");
    if (max_points >= 2 && points.size() > max_points) {
      nlohmann::json thinned = nlohmann::json::array();
      const double step = static_cast<double>(points.size() - 1) / static_cast<double>(max_points - 1);
      for (size_t k = 0; k < max_points; ++k) {
        thinned.push_back(points[static_cast<size_t>(std::llround(static_cast<double>(k) * step))]);
      }
      points = std::move(thinned);
    }
    nlohmann::json names = nlohmann::json::array();
    for (size_t i = 0; i < compiled.signal_count(); ++i) names.push_back(compiled.signal(static_cast<int>(i)).name);
    return nlohmann::json{{"signals", std::move(names)}, {"points", std::move(points)}}.dump();
  }

  absl::StatusOr<ErasureReport> EraseCustomer(std::string_view id) override {
    ErasureReport report;
    UPFRONT_ASSIGN_OR_RETURN(report.ids, CustomerIds(id));
    {
      std::unique_lock lock(identity_mu_);
      report.ids = identity_.Forget(report.ids.front());
    }
    std::promise<absl::StatusOr<uint64_t>> erased;
    auto future = erased.get_future();
    PartitionFor(report.ids.front()).RunWhenApplied(last_seq_.load(), [&](Partition& p) {
      erased.set_value(p.Erase(report.ids));
    });
    UPFRONT_ASSIGN_OR_RETURN(report.events, future.get());
    return report;
  }

  absl::Status ScanEvents(
      const std::function<bool(std::string_view, Micros, std::string_view)>& visit) override {
    return store_->ScanLog(1, [&](const LogRecord& r) { return visit(r.canonical, r.arrival, r.event_json); });
  }

  absl::Status ScanRecords(std::string_view kind,
                           const std::function<bool(std::string_view, std::string_view)>& visit) override {
    return store_->ScanRecords(kind, visit);
  }

  absl::StatusOr<uint64_t> PurgeExpiredEvents() override {
    const Micros now = options_.arrival == ArrivalClock::kWall ? clock_->Now() : store_->stream_watermark();
    return store_->PurgeLogBefore(now - policy_->events.retention);
  }

  absl::Status Flush() override {
    uint64_t target = last_seq_.load();
    std::vector<std::promise<absl::Status>> results(partitions_.size());
    for (size_t i = 0; i < partitions_.size(); ++i) {
      partitions_[i]->RunWhenApplied(target, [&results, i](Partition& p) { results[i].set_value(p.Checkpoint()); });
    }
    for (auto& r : results) UPFRONT_RETURN_IF_ERROR(r.get_future().get());
    return absl::OkStatus();
  }

  EngineStats Stats() const override {
    EngineStats s;
    s.accepted = accepted_count_;
    s.duplicates = duplicates_;
    s.rejected = rejected_;
    s.late = late_;
    s.merges = merges_;
    s.last_seq = last_seq_;
    s.replayed_on_open = replayed_on_open_;
    s.purged_on_open = purged_on_open_;
    s.partitions = static_cast<int>(partitions_.size());
    {
      std::lock_guard lock(pool_mu_);
      s.events_applying = events_applying_;
      s.ingest_waits = ingest_waits_;
    }
    for (const auto& partition : partitions_) partition->AddDecisionLatency(&s);
    return s;
  }

 private:
  std::unique_ptr<PendingBatch> TakeBatch() {
    std::lock_guard lock(pool_mu_);
    if (pool_.empty()) {
      auto b = std::make_unique<PendingBatch>();
      b->engine = this;
      return b;
    }
    auto b = std::move(pool_.back());
    pool_.pop_back();
    b->done = {};
    return b;
  }
  friend struct PendingBatch;
  void ReturnBatch(std::unique_ptr<PendingBatch> b) {
    std::lock_guard lock(pool_mu_);
    if (b->events_counted > 0) {
      events_applying_ -= b->events_counted;
      b->events_counted = 0;
      if (batches_waiting_ > 0) room_cv_.notify_all();
    }
    if (pool_.size() < kPooledBatches) pool_.push_back(std::move(b));
  }

  // Backpressure: acknowledged events wait in memory (~1 KB each) until their
  // partition applies them. When the partitions fall this far behind, the
  // caller waits rather than the backlog, and the heap, growing without
  // bound (bench/http_load_bench grew by ~1 KB per event, to 8.6 GB in 60 s,
  // while the partitions fell behind the acknowledgements).
  void AwaitRoomToApply(PendingBatch* b) {
    std::unique_lock lock(pool_mu_);
    if (options_.max_events_applying > 0 && events_applying_ >= options_.max_events_applying) {
      ++batches_waiting_;
      ++ingest_waits_;
      room_cv_.wait(lock, [&] { return events_applying_ < options_.max_events_applying || closing_; });
      --batches_waiting_;
    }
    events_applying_ += b->parsed_count;
    b->events_counted = b->parsed_count;
  }

  std::unique_ptr<ParseScratch> TakeScratch() {
    std::lock_guard lock(pool_mu_);
    if (scratch_.empty()) return std::make_unique<ParseScratch>(catalog_.get());
    auto p = std::move(scratch_.back());
    scratch_.pop_back();
    return p;
  }
  void ReturnScratch(std::unique_ptr<ParseScratch> p) {
    std::lock_guard lock(pool_mu_);
    scratch_.push_back(std::move(p));
  }

  // Caller thread: split, validate and minimize every event of the payload.
  absl::Status Parse(std::string_view payload, const IngestOptions& options, PendingBatch* b) {
    b->report = IngestReport();
    b->parsed_count = 0;
    b->result_of_parsed.clear();
    if (options.max_batch_bytes && payload.size() > options.max_batch_bytes) {
      return absl::InvalidArgumentError(absl::StrCat("the batch is ", payload.size(),
                                                     " bytes; the limit is ", options.max_batch_bytes,
                                                     " bytes, so none of it was accepted"));
    }
    std::unique_ptr<ParseScratch> scratch = TakeScratch();
    absl::Status parsed = ParseWith(scratch.get(), payload, options, b);
    ReturnScratch(std::move(scratch));
    return parsed;
  }

  absl::Status ParseWith(ParseScratch* scratch, std::string_view payload, const IngestOptions& options,
                         PendingBatch* b) {
    scratch->payload.assign(payload);
    scratch->payload.append(kPayloadPadding, '\0');
    std::string_view body(scratch->payload.data(), payload.size());
    BatchInfo info;
    scratch->raw.clear();
    PayloadFormat format = options.format == IngestFormat::kJsonLines ? PayloadFormat::kJsonLines
                           : options.format == IngestFormat::kJson    ? PayloadFormat::kJson
                                                                      : PayloadFormat::kAuto;
    UPFRONT_RETURN_IF_ERROR(SplitPayload(body, format, &scratch->raw, &info));
    const std::vector<RawEvent>& raw = scratch->raw;
    ParseDefaults defaults;
    // With event-time arrival the sequencer assigns arrival (and the time of
    // events that carry none) from the stream's watermark.
    defaults.arrival = options_.arrival == ArrivalClock::kWall ? clock_->Now() : kTimeFromWatermark;
    defaults.sent_at = info.sent_at;
    defaults.timezone = info.timezone;
    defaults.locale = info.locale;
    defaults.channel = info.channel;
    if (b->parsed.size() < raw.size()) b->parsed.resize(raw.size());
    b->report.events.resize(raw.size());
    EventError error;
    for (size_t i = 0; i < raw.size(); ++i) {
      EventResult& result = b->report.events[i];
      result.index = options.first_index + i;
      result.line = raw[i].line ? options.first_line + raw[i].line - 1 : 0;
      ParsedEvent& slot = b->parsed[b->parsed_count];
      if (!scratch->parser.Parse(raw[i].json, defaults, &slot.event, &error)) {
        result.status = EventResult::Status::kRejected;
        result.field = error.field;
        result.reason = error.reason;
        ++b->report.rejected;
        continue;
      }
      ++b->parsed_count;
      b->result_of_parsed.push_back(i);
    }
    return absl::OkStatus();
  }

  // Sequencer thread: drain every waiting batch into one commit.
  // Acknowledges each batch as soon as its group is durable, then hands the
  // group to the router, so the next commit's fsync overlaps this routing.
  void RunSequencer() {
    while (true) {
      std::vector<std::unique_ptr<PendingBatch>> group;
      {
        std::unique_lock lock(queue_mu_);
        queue_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) break;
        while (!queue_.empty() && group.size() < 256) {
          group.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
      }
      absl::Status s = CommitGroup(group);
      for (auto& b : group) {
        if (s.ok()) {
          b->done.set_value(b->report);
        } else {
          b->done.set_value(s);
          for (size_t i = 0; i < b->parsed_count; ++i) b->parsed[i].seq = 0;
        }
      }
      {
        std::lock_guard lock(route_mu_);
        route_queue_.push_back(std::move(group));
      }
      route_cv_.notify_one();
    }
    {
      std::lock_guard lock(route_mu_);
      routing_done_ = true;
    }
    route_cv_.notify_one();
  }

  void RunRouter() {
    while (true) {
      std::vector<std::unique_ptr<PendingBatch>> group;
      {
        std::unique_lock lock(route_mu_);
        route_cv_.wait(lock, [&] { return routing_done_ || !route_queue_.empty(); });
        if (route_queue_.empty()) return;
        group = std::move(route_queue_.front());
        route_queue_.pop_front();
      }
      uint64_t last = 0;
      for (auto& b : group) {
        b->refs.store(1, std::memory_order_relaxed);  // the router's own
        PendingBatch* batch = b.release();
        for (size_t i = 0; i < batch->parsed_count; ++i) {
          ParsedEvent& p = batch->parsed[i];
          if (p.seq == 0) continue;
          batch->refs.fetch_add(1, std::memory_order_relaxed);
          Route(p.seq, p, batch);
          last = p.seq;
        }
        batch->ReleaseEvent();
      }
      if (last != 0) {
        for (auto& p : partitions_) p->PushWatermark(last);
      }
    }
  }

  absl::Status CommitGroup(std::vector<std::unique_ptr<PendingBatch>>& group) {
    const Micros wall_now = clock_->Now();
    const Micros lateness = policy_->events.allowed_lateness;
    const Micros dedup_window = policy_->events.dedup_window;

    // Arrival times first: deduplication compares them.
    Micros watermark = watermark_;
    for (auto& b : group) {
      for (size_t i = 0; i < b->parsed_count; ++i) {
        ParsedEvent& p = b->parsed[i];
        Event& e = p.event;
        if (e.timestamp == kTimeFromWatermark) e.timestamp = std::max(watermark, Micros{0});
        if (options_.arrival == ArrivalClock::kEventTime) {
          watermark = std::max(watermark, e.timestamp);
          p.arrival = watermark;
        } else {
          watermark = std::max(watermark, wall_now);
          p.arrival = wall_now;
        }
      }
    }
    // Ask the store only about ids the in-memory index cannot clear: those it
    // may have seen, and any whose window reaches back before what it covers.
    message_ids_.clear();
    for (auto& b : group) {
      for (size_t i = 0; i < b->parsed_count; ++i) {
        ParsedEvent& p = b->parsed[i];
        const Micros since = p.arrival - dedup_window;
        p.ask_store = since < recent_ids_.covered_from() || recent_ids_.MaybeSeenSince(p.event.message_id, since);
        if (p.ask_store) message_ids_.push_back(p.event.message_id);
      }
    }
    UPFRONT_RETURN_IF_ERROR(store_->LookupMessageIds(message_ids_, &stored_arrivals_));

    commit_.events.clear();
    commit_.identity_changes.clear();
    // The stored form is needed only until the commit: one slot per event of
    // the group, reused by the next group.
    size_t group_events = 0;
    for (auto& b : group) group_events += b->parsed_count;
    if (event_json_.size() < group_events) event_json_.resize(group_events);
    in_group_.clear();
    uint64_t seq = last_seq_;
    size_t asked = 0;
    // Held until the links are on disk: readers see the index as stored, and
    // an erasure cannot slip between routing and commit.
    std::unique_lock identity_lock(identity_mu_);
    for (auto& b : group) {
      for (size_t i = 0; i < b->parsed_count; ++i) {
        ParsedEvent& p = b->parsed[i];
        Event& e = p.event;
        EventResult& result = b->report.events[b->result_of_parsed[i]];
        const Micros arrival = p.arrival;
        static const std::optional<Micros> kNotStored;
        const std::optional<Micros>& stored = p.ask_store ? stored_arrivals_[asked++] : kNotStored;
        auto earlier = in_group_.find(e.message_id);
        bool duplicate = (stored && arrival - *stored <= dedup_window) ||
                         (earlier != in_group_.end() && arrival - earlier->second <= dedup_window);
        p.seq = 0;
        if (duplicate) {
          result.status = EventResult::Status::kDuplicate;
          result.message_id = e.message_id;
          ++b->report.duplicates;
          continue;
        }
        in_group_[e.message_id] = arrival;
        e.received_at = arrival;
        e.late = arrival - e.timestamp > lateness;
        if (e.late) ++b->report.late;
        result.late = e.late;
        result.status = EventResult::Status::kAccepted;
        result.seq = ++seq;
        p.seq = seq;
        ++b->report.accepted;
        identity_.Route(e, &p.routing, &commit_.identity_changes);
        std::string& json = event_json_[commit_.events.size()];
        json.clear();
        AppendEventJson(e, *catalog_, &json);
        commit_.events.push_back({seq, arrival, e.message_id, p.routing.canonical, p.routing.merge_from, json});
      }
    }
    commit_.stream_watermark = watermark;
    if (!commit_.events.empty()) {
      absl::Status s = store_->Commit(commit_, options_.sync);
      if (!s.ok()) {
        spdlog::error("commit failed: {}", s.ToString());
        return absl::UnavailableError(absl::StrCat("events could not be made durable: ", s.message()));
      }
    }
    last_seq_ = seq;
    watermark_ = watermark;
    for (const LogRecord& r : commit_.events) recent_ids_.Add(r.message_id, r.arrival);
    recent_ids_.ExpireBefore(watermark - dedup_window);
    for (auto& b : group) {
      accepted_count_ += b->report.accepted;
      duplicates_ += b->report.duplicates;
      rejected_ += b->report.rejected;
      late_ += b->report.late;
    }
    return absl::OkStatus();
  }

  // Runs `work` on the partition that owns the customer known by `id`, once
  // every acknowledged event is applied; NotFound when nobody has that id.
  absl::StatusOr<std::string> WithCustomer(
      std::string_view id,
      const std::function<absl::StatusOr<std::string>(Partition&, CustomerState&)>& work) {
    std::string canonical;
    {
      std::shared_lock lock(identity_mu_);
      canonical.assign(identity_.Resolve(id));
    }
    std::promise<absl::StatusOr<std::string>> result;
    auto future = result.get_future();
    PartitionFor(canonical).RunWhenApplied(last_seq_.load(), [&](Partition& p) {
      CustomerState* state = p.Find(canonical);
      result.set_value(state == nullptr ? absl::StatusOr<std::string>(absl::NotFoundError(absl::StrCat(
                                              "no customer is known by '", std::string(id), "'")))
                                        : work(p, *state));
    });
    return future.get();
  }

  Partition& PartitionFor(std::string_view canonical) { return PartitionFor(CustomerHash(canonical)); }
  Partition& PartitionFor(uint64_t canonical_hash) {
    return *partitions_[canonical_hash % partitions_.size()];
  }

  // Sequencer thread (or Open): hand one logged event to its partition,
  // merging profiles first when the event links two of them.
  void Route(uint64_t seq, const ParsedEvent& p, EventOwner* owner = nullptr) {
    const Routing& r = p.routing;
    const uint64_t hash = CustomerHash(r.canonical);
    Partition& to = PartitionFor(hash);
    if (!r.merge_from.empty()) {
      // During recovery a merge the target partition already checkpointed is done.
      if (seq > applied_at_open_[hash % partitions_.size()]) {
        std::unique_ptr<CustomerState> from = PartitionFor(r.merge_from).Extract(r.merge_from);
        to.PushAbsorb(seq, r.canonical, r.merge_from, std::move(from));
        ++merges_;
      }
    }
    if (owner) {
      to.PushEventRef(seq, r.canonical, hash, p.event, owner);
    } else {
      to.PushEvent(seq, r.canonical, hash, p.event);
    }
  }

  absl::Status Recover(uint64_t from_seq) {
    if (from_seq > last_seq_) return absl::OkStatus();
    auto parser = std::make_unique<EventParser>(catalog_.get());
    ParsedEvent p;
    EventError error;
    std::string padded;
    uint64_t count = 0;
    absl::Status failure;
    absl::Status scan = store_->ScanLog(from_seq, [&](const LogRecord& r) {
      padded.assign(r.event_json);
      padded.append(kPayloadPadding, '\0');
      if (!parser->ParseStored(std::string_view(padded.data(), r.event_json.size()), &p.event, &error)) {
        failure = absl::DataLossError(absl::StrCat("event log record ", r.seq, " cannot be read: ",
                                                   error.field, " ", error.reason));
        return false;
      }
      p.event.received_at = r.arrival;
      p.routing.canonical.assign(r.canonical);
      p.routing.merge_from.assign(r.merge_from);
      Route(r.seq, p);
      ++count;
      return true;
    });
    UPFRONT_RETURN_IF_ERROR(scan);
    UPFRONT_RETURN_IF_ERROR(failure);
    for (auto& part : partitions_) part->PushWatermark(last_seq_);
    replayed_on_open_ = count;
    if (count > 0) spdlog::info("recovered {} events from the log", count);
    return Flush();
  }

  void Shutdown() {
    {
      std::lock_guard lock(pool_mu_);
      closing_ = true;
    }
    room_cv_.notify_all();
    {
      std::lock_guard lock(queue_mu_);
      stopping_ = true;
    }
    queue_cv_.notify_all();
    if (sequencer_.joinable()) sequencer_.join();
    if (router_.joinable()) router_.join();
    for (auto& p : partitions_) p->Stop();
    partitions_.clear();
    store_.reset();
  }

  EngineOptions options_;
  std::shared_ptr<const Policy> policy_;
  const Clock* clock_;
  std::unique_ptr<FieldCatalog> catalog_;
  std::unique_ptr<ProfileRules> rules_;
  std::unique_ptr<PolicyReader> reader_;
  std::unique_ptr<StateStore> store_;
  std::vector<std::unique_ptr<Partition>> partitions_;
  std::vector<uint64_t> applied_at_open_;

  // Sequencer-owned (written only by the sequencer thread; identity_ also
  // read by ProfileJson under identity_mu_).
  IdentityIndex identity_;
  std::shared_mutex identity_mu_;
  CommitBatch commit_;
  std::vector<std::string> event_json_;  // commit_.events[i].event_json's bytes
  std::vector<std::string_view> message_ids_;
  std::vector<std::optional<Micros>> stored_arrivals_;
  absl::flat_hash_map<std::string_view, Micros, StringHash, StringEq> in_group_;
  Micros watermark_ = 0;
  // Ids accepted since open (all of them when the store started empty).
  RecentMessageIds recent_ids_{kRecentIdsCapacity};

  std::atomic<uint64_t> last_seq_{0};
  std::atomic<uint64_t> accepted_count_{0}, duplicates_{0}, rejected_{0}, late_{0}, merges_{0};
  uint64_t replayed_on_open_ = 0;
  uint64_t purged_on_open_ = 0;

  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<std::unique_ptr<PendingBatch>> queue_;
  bool stopping_ = false;
  std::thread sequencer_;

  // Committed groups waiting to be routed, in commit order.
  std::mutex route_mu_;
  std::condition_variable route_cv_;
  std::deque<std::vector<std::unique_ptr<PendingBatch>>> route_queue_;
  bool routing_done_ = false;
  std::thread router_;

  mutable std::mutex pool_mu_;
  std::vector<std::unique_ptr<PendingBatch>> pool_;
  std::vector<std::unique_ptr<ParseScratch>> scratch_;
  // Events accepted for the sequencer and not yet applied by their partition.
  uint64_t events_applying_ = 0;
  uint64_t ingest_waits_ = 0;  // batches that waited for room
  int batches_waiting_ = 0;
  bool closing_ = false;
  std::condition_variable room_cv_;
};

void PendingBatch::ReleaseEvent() {
  if (refs.fetch_sub(1, std::memory_order_acq_rel) == 1) engine->ReturnBatch(std::unique_ptr<PendingBatch>(this));
}

}  // namespace

std::string IngestReport::Describe(const EventResult& r) {
  std::string where = r.line ? absl::StrCat("event ", r.index, " (line ", r.line, ")")
                             : absl::StrCat("event ", r.index);
  if (r.status == EventResult::Status::kDuplicate) {
    return absl::StrCat(where, ": duplicate of message ", r.message_id, ", ignored");
  }
  if (r.field.empty()) return absl::StrCat(where, ": ", r.reason);
  return absl::StrCat(where, ": field ", r.field, ": ", r.reason);
}

absl::StatusOr<std::unique_ptr<Engine>> Engine::Open(const EngineOptions& options) {
  auto engine = std::make_unique<EngineImpl>(options);
  UPFRONT_RETURN_IF_ERROR(engine->Open());
  return std::unique_ptr<Engine>(std::move(engine));
}

}  // namespace upfront
