#include "src/runtime/partition.h"

#include "src/decide/cohort.h"

#include <spdlog/spdlog.h>

#include <pthread.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>

#include "src/common/hash.h"
#include "src/common/json_writer.h"
#include "src/common/time_format.h"
#include "src/store/background_priority.h"

namespace upfront {
namespace {

constexpr size_t kRingSlots = 4096;
// How much replay a crash may cost: a checkpoint after about this many
// applied events (at the partition's turn, see PassesCheckpointSlot), or once
// no event came for kCheckpointIdleAfter.
// Checkpointing on every idle moment would rewrite each touched customer
// once per batch, which costs more than the events themselves.
constexpr uint64_t kCheckpointEvery = 1000000;
constexpr auto kCheckpointIdleAfter = std::chrono::milliseconds(500);
// Under steady load there is no idle moment: a checkpoint at the partition's
// turn in every such period, skipped when it wrote one in the last half (so
// they are at most 1.5 periods apart), bounds what a restart replays.
// Checkpointing on a timer alone rewrote every touched customer twice a
// second and cost a fifth of the CPU at 130k events/s over HTTP
// (bench/http_load_bench).
constexpr auto kCheckpointTurnEvery = std::chrono::seconds(20);
// The shortest idle doze while something is unwritten.
constexpr auto kMinDoze = std::chrono::milliseconds(20);
// Partitions apply events after they are acknowledged, so on a busy machine
// the sequencer and the HTTP threads, which an acknowledgement waits for,
// come first; partitions still get about a seventh of a core next to a busy
// thread at niceness 0, and when their ring is full the sequencer waits for
// them. bench/http_load_bench, fixed rates, alternating runs: at niceness 4
// against 0, 120 k events/s over 8 s, p99 86-134 -> 19-24 ms; at 8 against
// 4, over 20 s, 150 k offered: 129-130 k -> 136-137 k answered (p99 2.5-2.8
// -> 1.8-1.9 s), 120 k offered: p99 280-382 -> 65-143 ms, p50 2.6-2.8 ->
// 3.3 ms; 100 k over 8 s the same. (RocksDB's background threads run at 8
// too, the decision worker at 10.)
constexpr int kPartitionNiceness = 8;

// A customer's stored state: the profile and the signals, each after its
// length (4 bytes, little endian), then the pending learning moments.
void AppendSection(std::string* out, const std::function<void(std::string*)>& write) {
  const size_t start = out->size();
  out->append(4, '\0');
  write(out);
  const auto length = static_cast<uint32_t>(out->size() - start - 4);
  for (int i = 0; i < 4; ++i) (*out)[start + i] = static_cast<char>(length >> (8 * i));
}

bool TakeSection(std::string_view* data, std::string_view* section) {
  if (data->size() < 4) return false;
  uint32_t length = 0;
  for (int i = 0; i < 4; ++i) length |= uint32_t{static_cast<uint8_t>((*data)[i])} << (8 * i);
  if (data->size() - 4 < length) return false;
  *section = data->substr(4, length);
  data->remove_prefix(4 + length);
  return true;
}

void EncodeCustomerState(const ProfileRules& rules, const OnlineLearning& learning,
                         const CustomerState& state, std::string* out) {
  AppendSection(out, [&](std::string* o) { EncodeProfile(rules, state.profile, o); });
  AppendSection(out, [&](std::string* o) { state.signals.Encode(o); });
  AppendSection(out, [&](std::string* o) {
    if (learning.active()) learning.EncodePending(state.labels, o);
  });
  state.decisions.Encode(out);
}

absl::Status DecodeCustomerState(const ProfileRules& rules, const OnlineLearning& learning,
                                 std::string_view data, CustomerState* state) {
  std::string_view profile, signals, labels;
  if (!TakeSection(&data, &profile) || !TakeSection(&data, &signals) ||
      !TakeSection(&data, &labels)) {
    return absl::DataLossError("customer state is truncated");
  }
  UPFRONT_RETURN_IF_ERROR(DecodeProfile(rules, profile, &state->profile));
  UPFRONT_RETURN_IF_ERROR(state->signals.Decode(signals));
  if (learning.active()) UPFRONT_RETURN_IF_ERROR(learning.DecodePending(labels, &state->labels));
  return state->decisions.Decode(data);
}

}  // namespace

bool PassesCheckpointSlot(uint64_t from, uint64_t to, int index, int count, uint64_t every) {
  const uint64_t period = every * static_cast<uint64_t>(count);
  const uint64_t phase = every * static_cast<uint64_t>(index);
  // Slot k of `index` is at phase + k * period; shifting by one period less
  // the phase keeps the division unsigned.
  const auto slots_by = [&](uint64_t at) { return (at + period - phase) / period; };
  return slots_by(to) != slots_by(from);
}

Partition::Partition(int index, int partition_count, StateStore* store, const ProfileRules* rules,
                     const PolicyReader* reader, uint64_t applied_at_open,
                     DecisionListener on_decision, std::function<absl::Status()> await_decisions_durable)
    : index_(index),
      partition_count_(partition_count),
      store_(store),
      rules_(rules),
      reader_(reader),
      applied_at_open_(applied_at_open),
      ring_(kRingSlots),
      applied_seq_(applied_at_open),
      checkpointed_seq_(applied_at_open),
      reading_(*reader),
      learning_(*reader),
      decider_(*reader, *rules),
      on_decision_(std::move(on_decision)),
      await_decisions_durable_(std::move(await_decisions_durable)),
      drift_(reader->policy().models.size()) {}

Partition::~Partition() { Stop(); }

void Partition::Start() {
  worker_ = std::thread([this] {
    // Lowered before it is named, so a thread seen by its name runs lowered.
    LowerThreadPriority(gettid(), kPartitionNiceness);
    pthread_setname_np(pthread_self(), ("upfront-part-" + std::to_string(index_)).c_str());
    Run();
  });
}

void Partition::Stop() {
  if (!worker_.joinable()) return;
  stopping_.store(true, std::memory_order_seq_cst);
  ring_.Wake();
  worker_.join();
}

void Partition::PushEvent(uint64_t seq, std::string_view canonical, uint64_t canonical_hash,
                          const Event& event) {
  Message* m = ring_.BeginPush();
  m->kind = Message::Kind::kEvent;
  m->seq = seq;
  m->canonical_hash = canonical_hash;
  m->event_ref = nullptr;
  m->canonical_ref = nullptr;
  m->owner = nullptr;
  m->canonical.assign(canonical);
  m->event.type = event.type;
  m->event.message_id.assign(event.message_id);
  m->event.message_id_generated = event.message_id_generated;
  m->event.user_id.assign(event.user_id);
  m->event.anonymous_id.assign(event.anonymous_id);
  m->event.previous_id.assign(event.previous_id);
  m->event.group_id.assign(event.group_id);
  m->event.name.assign(event.name);
  m->event.page_name.assign(event.page_name);
  m->event.timestamp = event.timestamp;
  m->event.sent_at = event.sent_at;
  m->event.received_at = event.received_at;
  m->event.timezone.assign(event.timezone);
  m->event.locale.assign(event.locale);
  m->event.channel.assign(event.channel);
  m->event.late = event.late;
  m->event.properties.Clear();
  for (const FieldValue& f : event.properties) {
    FieldValue& copy = m->event.properties.Add(f.key);
    copy.kind = f.kind;
    copy.boolean = f.boolean;
    copy.number = f.number;
    copy.text.assign(f.text);
  }
  m->event.traits.Clear();
  for (const FieldValue& f : event.traits) {
    FieldValue& copy = m->event.traits.Add(f.key);
    copy.kind = f.kind;
    copy.boolean = f.boolean;
    copy.number = f.number;
    copy.text.assign(f.text);
  }
  ring_.EndPush();
}

void Partition::PushEventRef(uint64_t seq, const std::string& canonical, uint64_t canonical_hash,
                             const Event& event, EventOwner* owner) {
  Message* m = ring_.BeginPush();
  m->kind = Message::Kind::kEvent;
  m->seq = seq;
  m->canonical_hash = canonical_hash;
  m->event_ref = &event;
  m->canonical_ref = &canonical;
  m->owner = owner;
  ring_.EndPush();
}

void Partition::PushWatermark(uint64_t seq) {
  Message* m = ring_.BeginPush();
  m->kind = Message::Kind::kWatermark;
  m->owner = nullptr;
  m->seq = seq;
  ring_.EndPush();
}

std::unique_ptr<CustomerState> Partition::Extract(std::string_view canonical) {
  std::promise<std::unique_ptr<CustomerState>> result;
  auto future = result.get_future();
  Message* m = ring_.BeginPush();
  m->kind = Message::Kind::kExtract;
  m->canonical.assign(canonical);
  m->extracted = &result;
  ring_.EndPush();
  return future.get();
}

void Partition::PushAbsorb(uint64_t seq, std::string_view canonical, std::string_view from_id,
                           std::unique_ptr<CustomerState> from) {
  Message* m = ring_.BeginPush();
  m->kind = Message::Kind::kAbsorb;
  m->seq = seq;
  m->canonical.assign(canonical);
  m->from_id.assign(from_id);
  m->absorbed = std::move(from);
  ring_.EndPush();
}

void Partition::RunWhenApplied(uint64_t seq, std::function<void(Partition&)> task) {
  {
    std::lock_guard lock(tasks_mu_);
    new_tasks_.push_back({seq, std::move(task)});
  }
  tasks_pending_.store(true, std::memory_order_seq_cst);
  ring_.Wake();
}

CustomerState* Partition::Find(std::string_view canonical) {
  return Find(canonical, CustomerHash(canonical));
}

CustomerState* Partition::Find(std::string_view canonical, uint64_t hash) {
  if (CustomerState* state = customers_.Find(canonical, hash)) return state;
  std::string stored;
  absl::StatusOr<bool> found = store_->ReadState(canonical, &stored);
  if (!found.ok()) {
    spdlog::error("partition {}: {}", index_, found.status().ToString());
    return nullptr;
  }
  if (!*found) return nullptr;
  auto state = std::make_unique<CustomerState>(&reader_->signals());
  if (absl::Status s = DecodeCustomerState(*rules_, learning_, stored, state.get()); !s.ok()) {
    spdlog::error("partition {}: customer state unreadable: {}", index_, s.ToString());
    return nullptr;
  }
  state->indexed_due = DueOf(*state);
  state->scheduled_due = state->indexed_due;  // the index put it in the heap at open
  return &customers_.Insert(canonical, std::move(state));
}

CustomerState& Partition::FindOrCreate(std::string_view canonical) {
  return FindOrCreate(canonical, CustomerHash(canonical));
}

CustomerState& Partition::FindOrCreate(std::string_view canonical, uint64_t hash) {
  if (CustomerState* s = Find(canonical, hash)) return *s;
  auto state = std::make_unique<CustomerState>(&reader_->signals());
  state->profile.id.assign(canonical);
  return customers_.Insert(canonical, std::move(state));
}

void Partition::Handle(Message& m) {
  switch (m.kind) {
    case Message::Kind::kEvent: {
      const Event& event = m.event_ref ? *m.event_ref : m.event;
      const std::string& canonical = m.canonical_ref ? *m.canonical_ref : m.canonical;
      if (m.seq > applied_at_open_) {  // otherwise already in the stored state
        if (on_decision_) handling_since_ = std::chrono::steady_clock::now();
        // Time moves to this event: what was due before it happens first.
        if (event.timestamp > clock_) FireTimers(event.timestamp - 1);
        CustomerState& s = FindOrCreate(canonical, m.canonical_hash);
        ApplyEvent(*rules_, event, &s.profile);
        s.signals.OnEvent(event);
        decider_.Observe(event, &s.decisions);
        MarkDirty(s);
        Evaluate(s, event.timestamp, event.name);
        Decide(s, &event, event.timestamp);
        Schedule(s);
        if (event.timestamp > clock_) {
          clock_ = event.timestamp;
          FireTimers(clock_);
        }
        applied_seq_ = m.seq;
        ++since_checkpoint_;
      }
      if (m.owner) {
        m.owner->ReleaseEvent();
        m.owner = nullptr;
        m.event_ref = nullptr;
        m.canonical_ref = nullptr;
      }
      return;
    }
    case Message::Kind::kWatermark:
      if (m.seq > applied_seq_) applied_seq_ = m.seq;
      return;
    case Message::Kind::kExtract: {
      if (absl::Status s = Checkpoint(); !s.ok()) spdlog::error("partition {}: {}", index_, s.ToString());
      Find(m.canonical);  // from the store when it is not in memory
      m.extracted->set_value(customers_.Take(m.canonical));
      m.extracted = nullptr;
      return;
    }
    case Message::Kind::kAbsorb: {
      CustomerState& s = FindOrCreate(m.canonical);
      if (m.absorbed) {
        MergeProfiles(*rules_, std::move(m.absorbed->profile), &s.profile);
        s.signals.Absorb(m.absorbed->signals);
        if (s.labels.moments.empty()) s.labels = std::move(m.absorbed->labels);
        s.decisions.Absorb(m.absorbed->decisions);
        Schedule(s);
      }
      m.absorbed.reset();
      if (m.from_id != m.canonical) {
        customers_.Take(m.from_id);
        pending_deletes_.push_back(m.from_id);
      }
      MarkDirty(s);
      return;
    }
  }
}

absl::Status Partition::Checkpoint() {
  FlushRecords();
  if (dirty_.empty() && pending_deletes_.empty() && applied_seq_ == checkpointed_seq_) {
    return absl::OkStatus();
  }
  if (told_since_checkpoint_ && await_decisions_durable_) UPFRONT_RETURN_IF_ERROR(await_decisions_durable_());
  told_since_checkpoint_ = false;
  upfront::Checkpoint c;
  c.partition = index_;
  c.applied_seq = applied_seq_;
  if (encoded_.size() < dirty_.size()) encoded_.resize(dirty_.size());
  for (size_t i = 0; i < dirty_.size(); ++i) {
    encoded_[i].clear();
    CustomerState& state = *dirty_[i];
    EncodeCustomerState(*rules_, learning_, state, &encoded_[i]);
    c.puts.emplace_back(state.profile.id, encoded_[i]);
    if (const Micros due = DueOf(state); due != state.indexed_due) {
      c.timers.emplace_back(state.profile.id, due);
      state.indexed_due = due;
    }
  }
  for (const std::string& id : pending_deletes_) {
    c.deletes.push_back(id);
    c.timers.emplace_back(id, kNever);
  }
  c.learners = learning_.Save();
  UPFRONT_RETURN_IF_ERROR(store_->WriteCheckpoints({&c, 1}));
  for (CustomerState* s : dirty_) s->dirty = false;
  dirty_.clear();
  pending_deletes_.clear();
  checkpointed_seq_ = applied_seq_;
  since_checkpoint_ = 0;
  last_checkpoint_ = std::chrono::steady_clock::now();
  return absl::OkStatus();
}

void Partition::LookAhead() {
  // Each stage reads only what an earlier stage has had time to load.
  constexpr size_t kMapSlot = 8, kObject = 5, kVectors = 3, kNested = 1;
  const auto is_event = [](const Message* m) { return m != nullptr && m->kind == Message::Kind::kEvent; };
  const auto state_of = [&](size_t ahead) -> const CustomerState* {
    const Message* m = ring_.Peek(ahead);
    return is_event(m) ? customers_.Peek(m->canonical_hash) : nullptr;
  };
  if (const Message* far = ring_.Peek(kMapSlot); is_event(far)) customers_.Prefetch(far->canonical_hash);
  if (const CustomerState* state = state_of(kObject)) {
    const char* bytes = reinterpret_cast<const char*>(state);
    for (size_t line = 0; line < sizeof(CustomerState); line += 64) __builtin_prefetch(bytes + line);
  }
  if (const CustomerState* state = state_of(kVectors)) {
    state->signals.Prefetch();
    state->decisions.Prefetch();
    state->profile.Prefetch();
  }
  if (const CustomerState* state = state_of(kNested)) state->signals.PrefetchNested();
}

void Partition::LoadTimer(std::string_view canonical, Micros due) {
  timers_.push(TimerEntry{due, std::string(canonical)});
}

void Partition::MarkDirty(CustomerState& state) {
  if (state.dirty) return;
  state.dirty = true;
  dirty_.push_back(&state);
}

Micros Partition::DueOf(const CustomerState& state) {
  Micros due = kNever;
  for (Micros t : {state.signals.NextDue(), learning_.NextDue(state.labels),
                   decider_.NextDue(state.decisions, state.profile.id)}) {
    if (t != kNever && (due == kNever || t < due)) due = t;
  }
  return due;
}

void Partition::Decide(CustomerState& state, const Event* trigger, Micros now) {
  if (reader_->policy().interventions.empty()) return;
  DecisionInput input{&state.profile, &state.signals, &reading_, trigger, now};
  const bool decided = decider_.Decide(input, &state.decisions, &decision_);
  for (const std::string& id : decider_.expired_reviews()) SetReviewStatus(id, "expired");
  if (!decided) return;
  RecordExposuresAndAction(now);
  // The holdout is never contacted, by an agent either: its review is logged
  // as what would have been done, and no agent sees it.
  if (decision_.action == "review" && decision_.cohort != "holdout") {
    // Kept if it exists already: replaying the log after a crash must not
    // turn an answered item back into a pending one.
    std::string existing;
    absl::StatusOr<bool> found = store_->GetRecord("review", decision_.id, &existing);
    if (found.ok() && !*found) {
      nlohmann::json item = DecisionToJson(decision_);
      item["review_id"] = decision_.id;
      item["status"] = "pending";
      item["created_at"] = FormatTimestamp(now);
      item["expires_at"] = FormatTimestamp(now + kReviewTtl);
      // What the agent needs to judge it: the evidence behind each clue.
      nlohmann::json evidence = nlohmann::json::object();
      for (size_t i = 0; i < reader_->signals().signal_count(); ++i) {
        const Evidence& e = state.signals.evidence(static_cast<int>(i));
        if (e.count == 0) continue;
        evidence[reader_->signals().signal(static_cast<int>(i)).name] = {
            {"count", e.count},
            {"window", FormatDuration(e.Window(now))},
            {"last_event", state.signals.LastEventName(static_cast<int>(i))},
            {"last_message_id", e.last_message_id}};
      }
      item["evidence"] = std::move(evidence);
      if (absl::Status s = store_->PutRecord("review", decision_.id, item.dump()); !s.ok()) {
        spdlog::error("partition {}: {}", index_, s.ToString());
      }
    }
  }
  if (!on_decision_) return;
  AppendDecisionJson(decision_, &decision_json_);
  on_decision_(decision_json_);
  told_since_checkpoint_ = true;
  if (trigger != nullptr) {
    const auto nanos = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                                 std::chrono::steady_clock::now() - handling_since_)
                                                 .count());
    const double micros = static_cast<double>(nanos) / 1000.0;
    size_t bucket = 0;
    while (bucket < std::size(kDecisionLatencyBoundsMicros) && micros > kDecisionLatencyBoundsMicros[bucket]) ++bucket;
    decision_latency_counts_[bucket].fetch_add(1, std::memory_order_relaxed);
    decision_latency_sum_nanos_.fetch_add(nanos, std::memory_order_relaxed);
  }
}

void Partition::AddDecisionLatency(EngineStats* stats) const {
  for (size_t i = 0; i < kDecisionLatencyBuckets; ++i) {
    stats->decision_latency_counts[i] += decision_latency_counts_[i].load(std::memory_order_relaxed);
  }
  stats->decision_latency_sum_micros +=
      static_cast<double>(decision_latency_sum_nanos_.load(std::memory_order_relaxed)) / 1000.0;
}

void Partition::RecordExposuresAndAction(Micros now) {
  // Once per customer, intervention and variant, and once per action; the
  // measurement reads them (Engine::ScanRecords). Gathered, then written by
  // FlushRecords at the end of the batch, before any task runs.
  // Written with JsonWriter, keys in the order nlohmann's std::map gives
  // (the bytes stay what they were); a document per record cost more than
  // the rest of the decision.
  const auto add = [this](const char* kind, std::string key) -> std::string& {
    if (pending_record_count_ == pending_records_.size()) pending_records_.emplace_back();
    StateStore::RecordWrite& r = pending_records_[pending_record_count_++];
    r.kind = kind;
    r.key = std::move(key);
    r.value.clear();
    return r.value;
  };
  const Policy& policy = reader_->policy();
  for (int i : decider_.new_exposures()) {
    const ExperimentSpec* experiment = ExperimentOf(policy, i);
    const std::string_view variant =
        experiment != nullptr ? std::string_view(experiment->variants[VariantOf(*experiment, decision_.customer)].name)
                              : std::string_view();
    const std::string& intervention = policy.interventions[i].name;
    JsonWriter w(&add("exposure", fmt::format("{}|{}|{}", decision_.customer, intervention, variant)));
    w.Raw(R"({"at":)");
    w.Timestamp(now);
    w.Member(R"(,"cohort":)", decision_.cohort);
    w.Member(R"(,"customer":)", decision_.customer);
    w.Member(R"(,"decision_id":)", decision_.id);
    w.Member(R"(,"experiment":)", experiment != nullptr ? std::string_view(experiment->name) : std::string_view());
    w.Member(R"(,"intervention":)", intervention);
    w.Member(R"(,"segment":)", decision_.segment);
    w.Member(R"(,"variant":)", variant);
    w.Char('}');
  }
  if (decision_.action == "none") return;
  JsonWriter w(&add("action", fmt::format("{}|{:016x}|{}", decision_.customer, static_cast<uint64_t>(now),
                                          decision_.id)));
  w.Member(R"({"action":)", decision_.action);
  w.Raw(R"(,"at":)");
  w.Timestamp(now);
  w.Member(R"(,"channel":)", decision_.channel);
  w.Member(R"(,"cohort":)", decision_.cohort);
  w.Member(R"(,"customer":)", decision_.customer);
  w.Member(R"(,"decision_id":)", decision_.id);
  w.Member(R"(,"experiment":)", decision_.experiment);
  w.Member(R"(,"intervention":)", decision_.intervention);
  w.Member(R"(,"segment":)", decision_.segment);
  w.Raw(R"(,"step":)");
  w.Integer(decision_.step);
  w.Member(R"(,"variant":)", decision_.variant);
  w.Char('}');
}

void Partition::FlushRecords() {
  if (pending_record_count_ == 0) return;
  if (absl::Status s = store_->PutRecords(std::span(pending_records_.data(), pending_record_count_)); !s.ok()) {
    spdlog::error("partition {}: {}", index_, s.ToString());
  }
  pending_record_count_ = 0;
}

void Partition::SetReviewStatus(std::string_view review_id, std::string_view status) {
  std::string stored;
  absl::StatusOr<bool> found = store_->GetRecord("review", review_id, &stored);
  if (!found.ok() || !*found) return;
  nlohmann::json item = nlohmann::json::parse(stored, nullptr, false);
  if (item.is_discarded() || item["status"] != "pending") return;
  item["status"] = status;
  if (absl::Status s = store_->PutRecord("review", review_id, item.dump()); !s.ok()) {
    spdlog::error("partition {}: {}", index_, s.ToString());
  }
}

absl::StatusOr<std::string> Partition::AnswerReview(const std::string& review_json, bool approve,
                                                    const std::string& agent,
                                                    const std::string& message,
                                                    const std::string& reason,
                                                    std::optional<Micros> at, Micros wall_now) {
  nlohmann::json item = nlohmann::json::parse(review_json, nullptr, false);
  if (item.is_discarded()) return absl::DataLossError("the review item is unreadable");
  const std::string review_id = item["review_id"];
  if (item["status"] != "pending") {
    return absl::FailedPreconditionError(fmt::format("review item {} is {}, not pending", review_id,
                                                     item["status"].get<std::string>()));
  }
  CustomerState* state = Find(item["customer"].get<std::string>());
  const std::vector<InterventionSpec>& interventions = reader_->policy().interventions;
  int index = -1;
  for (size_t i = 0; i < interventions.size(); ++i) {
    if (interventions[i].name == item["intervention"]) index = static_cast<int>(i);
  }
  const Micros now = at.value_or(wall_now != 0 ? wall_now : std::max(clock_, state ? state->profile.last_seen : 0));
  if (state == nullptr || !decider_.ResolveReview(state->profile, &state->decisions, index, review_id, approve, now)) {
    SetReviewStatus(review_id, "expired");
    return absl::FailedPreconditionError(
        fmt::format("review item {} no longer waits for an answer (it lapsed or was superseded)", review_id));
  }
  MarkDirty(*state);
  Schedule(*state);
  // The agent's answer is a label for every learning model the intervention reads.
  const Reading& reading = ReadCustomer(*state, now);
  for (size_t m = 0; m < reader_->policy().models.size(); ++m) {
    for (int slot : interventions[index].when.slots()) {
      const ValuePath& path = reader_->policy().paths[slot];
      if ((path.kind == ValuePath::Kind::kModelScore || path.kind == ValuePath::Kind::kModelConfidence) &&
          path.name == reader_->policy().models[m].name) {
        learning_.Label(static_cast<int>(m), reading, approve);
        break;
      }
    }
  }
  item["status"] = approve ? "approved" : "rejected";
  item["answered_by"] = agent;
  item["answered_at"] = FormatTimestamp(now);
  if (approve) {
    const bool edited = !message.empty() && message != item["message"];
    if (edited) {
      item["suggested_message"] = item["message"];
      item["message"] = message;
    }
    item["edited"] = edited;
    // The delivery: the suggestion as approved (and as edited), as a decision.
    nlohmann::json delivery = item;
    for (const char* key : {"status", "answered_by", "answered_at", "expires_at", "created_at",
                            "evidence", "review_id", "edited", "suggested_message"}) {
      delivery.erase(key);
    }
    delivery["decision_id"] = fmt::format("{:016x}", Hash64(review_id + "|approved"));
    delivery["action"] = "deliver";
    delivery["at"] = FormatTimestamp(now);
    delivery["trigger"] = {{"review_id", review_id}};
    delivery["approved_by"] = agent;
    delivery["blocked"] = nlohmann::json::array();
    nlohmann::json action = {{"at", delivery["at"]}, {"action", "deliver"}, {"approved_by", agent}};
    for (const char* key : {"customer", "decision_id", "intervention", "step", "channel", "cohort", "experiment",
                            "variant", "segment"}) {
      action[key] = delivery.value(key, nlohmann::json());
    }
    if (absl::Status s = store_->PutRecord(
            "action",
            fmt::format("{}|{:016x}|{}", item.value("customer", ""), static_cast<uint64_t>(now),
                        delivery["decision_id"].get<std::string>()),
            action.dump());
        !s.ok()) {
      spdlog::error("partition {}: {}", index_, s.ToString());
    }
    if (on_decision_) on_decision_(delivery.dump());
    // The item is stored as approved right away, not at a checkpoint.
    if (await_decisions_durable_) UPFRONT_RETURN_IF_ERROR(await_decisions_durable_());
  } else {
    item["reason"] = reason;
  }
  UPFRONT_RETURN_IF_ERROR(store_->PutRecord("review", review_id, item.dump()));
  const nlohmann::json audit = {{"at", FormatTimestamp(now)},
                                {"agent", agent},
                                {"action", approve ? "approve" : "reject"},
                                {"review_id", review_id},
                                {"customer", item["customer"]},
                                {"intervention", item["intervention"]},
                                {"edited", approve && item.value("edited", false)},
                                {"reason", reason}};
  UPFRONT_RETURN_IF_ERROR(store_->PutRecord(
      "audit", fmt::format("{:020d}-{}", now, review_id), audit.dump()));
  return item.dump();
}

void Partition::Schedule(CustomerState& state) {
  const Micros due = DueOf(state);
  if (due == kNever || due == state.scheduled_due) return;
  // Only when the customer's earliest timer changes, not on every event.
  timers_.push(TimerEntry{due, state.profile.id});
  state.scheduled_due = due;
}

void Partition::Evaluate(CustomerState& state, Micros now, std::string_view event_name) {
  ReadCustomer(state, now);
  learning_.Observe(reading_, event_name, now, &state.labels);
  for (size_t m = 0; m < drift_.size(); ++m) {
    const ModelReading& model = reading_.model(static_cast<int>(m));
    if (!model.available) continue;
    (scores_seen_ < kDriftReferenceScores ? drift_[m].reference : drift_[m].current)
        .Add(model.score);
  }
  ++scores_seen_;
}

const Reading& Partition::ReadCustomer(CustomerState& state, Micros now) {
  // Timers due by `now` fire first (a no-op on the event path: the event
  // already advanced its customer's signals).
  if (state.signals.AdvanceTo(now) > 0) {
    MarkDirty(state);
    Schedule(state);
  }
  reader_->Read(state.profile, state.signals, now, &reading_,
                learning_.active() ? &learning_.models() : nullptr);
  return reading_;
}

absl::StatusOr<uint64_t> Partition::Erase(std::span<const std::string> ids) {
  FlushRecords();  // so that none of theirs is written after the erasure
  if (std::unique_ptr<CustomerState> state = customers_.Take(ids.front()); state && state->dirty) {
    dirty_.erase(std::remove(dirty_.begin(), dirty_.end(), state.get()), dirty_.end());
  }
  // Its timer heap entries find no customer when they come up.
  return store_->EraseCustomer(ids);
}

void Partition::FireTimers(Micros now) {
  while (!timers_.empty() && timers_.top().due <= now) {
    const std::string canonical = timers_.top().canonical;
    timers_.pop();
    CustomerState* state = Find(canonical);
    if (state == nullptr) continue;
    const Micros due = DueOf(*state);
    if (due == kNever || due > now) continue;  // an older entry; the newer one is queued
    // At the timer's own time, not the clock's: what happens then does not
    // depend on when the next event happened to arrive.
    state->scheduled_due = kNever;
    state->signals.AdvanceTo(due);
    Evaluate(*state, due, "");
    Decide(*state, nullptr, due);
    MarkDirty(*state);
    Schedule(*state);
  }
}

void Partition::RunReadyTasks() {
  if (tasks_pending_.exchange(false, std::memory_order_seq_cst)) {
    std::lock_guard lock(tasks_mu_);
    for (Task& t : new_tasks_) waiting_tasks_.push_back(std::move(t));
    new_tasks_.clear();
  }
  if (waiting_tasks_.empty()) return;
  size_t kept = 0;
  for (size_t i = 0; i < waiting_tasks_.size(); ++i) {
    if (waiting_tasks_[i].seq <= applied_seq_) {
      FlushRecords();  // a task sees every record of what it waited for
      waiting_tasks_[i].run(*this);
    } else {
      waiting_tasks_[kept++] = std::move(waiting_tasks_[i]);
    }
  }
  waiting_tasks_.resize(kept);
}

bool Partition::CheckpointDue(std::chrono::steady_clock::time_point now) const {
  if (since_checkpoint_ == 0) return false;
  if (PassesCheckpointSlot(checkpointed_seq_, applied_seq_, index_, partition_count_, kCheckpointEvery)) return true;
  if (now - last_checkpoint_ < kCheckpointTurnEvery / 2) return false;
  const auto millis = [](std::chrono::steady_clock::time_point t) {
    return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count());
  };
  const uint64_t turn_every_ms =
      std::chrono::milliseconds(kCheckpointTurnEvery).count() / static_cast<uint64_t>(partition_count_);
  return PassesCheckpointSlot(millis(last_checkpoint_), millis(now), index_, partition_count_, turn_every_ms);
}

void Partition::Run() {
  while (true) {
    size_t handled = 0;
    while (Message* m = ring_.Front()) {
      LookAhead();
      Handle(*m);
      ring_.Pop();
      if (++handled == 256) break;  // let tasks in between long bursts
    }
    FlushRecords();
    const auto now = std::chrono::steady_clock::now();
    if (CheckpointDue(now)) {
      if (absl::Status s = Checkpoint(); !s.ok()) spdlog::error("partition {}: {}", index_, s.ToString());
    }
    RunReadyTasks();
    if (handled > 0) {
      last_event_ = now;
      continue;
    }
    const bool stopping = stopping_.load(std::memory_order_seq_cst);
    if (stopping || now - last_event_ >= kCheckpointIdleAfter) {
      if (absl::Status s = Checkpoint(); !s.ok()) spdlog::error("partition {}: {}", index_, s.ToString());
    }
    if (stopping && ring_.Front() == nullptr) {
      RunReadyTasks();
      return;
    }
    const auto has_other_work = [this] {
      return tasks_pending_.load(std::memory_order_seq_cst) || stopping_.load(std::memory_order_seq_cst);
    };
    if (since_checkpoint_ > 0 || !dirty_.empty()) {
      // Something is still unwritten: doze until the idle checkpoint is due,
      // so it happens even if no more events come. New events and tasks end
      // the doze: whoever waits for this partition (Flush, AdvanceClock, a
      // review answer) must not wait for the timeout. At least kMinDoze, so
      // a failing checkpoint is not retried in a busy loop.
      ring_.SleepFor(std::max<std::chrono::steady_clock::duration>(
                         last_event_ + kCheckpointIdleAfter - now, kMinDoze),
                     has_other_work);
      continue;
    }
    ring_.Sleep(has_other_work);
  }
}

}  // namespace upfront
