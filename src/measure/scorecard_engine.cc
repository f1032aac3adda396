// ReadScorecardInput: the engine's stored events and records, as the flat
// records ComputeScorecard reads.
//
// One scan of the event log. Each event costs a simdjson parse into a reused
// padded buffer and a few hash lookups (event name -> outcome roles,
// customer id -> number); only outcome events are kept, every other event
// leaves at most one activity mark per customer and hour.

#include <simdjson.h>

#include <charconv>
#include <cmath>
#include <limits>

#include "src/common/string_map.h"
#include "src/common/time_format.h"
#include "src/decide/local_time.h"
#include "src/measure/scorecard.h"

namespace upfront {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr uint64_t kProgressEvery = 1 << 16;

// Where a field lives in the minimized event: "properties.score" ->
// {properties, score}.
struct FieldPath {
  std::string section;  // "properties", "traits" or "context"
  std::string key;
  bool empty() const { return key.empty(); }
};

FieldPath ParseFieldPath(std::string_view path) {
  const size_t dot = path.find('.');
  if (dot == std::string_view::npos) return {"properties", std::string(path)};
  return {std::string(path.substr(0, dot)), std::string(path.substr(dot + 1))};
}

// What one event name means for the scorecard.
struct Mapping {
  uint8_t kind = 0;
  uint16_t journey = 0;
  FieldPath value;  // score or revenue
  FieldPath channel;
  FieldPath case_type;
};

struct TraitValue {
  ExprValue::Kind kind = ExprValue::Kind::kMissing;
  double number = 0;
  bool boolean = false;
  std::string text;
  Micros at = kNever;
};

// A segment condition over the customer's latest traits; signals, models and
// counters are not known outside the engine, so they read as missing.
class TraitInputs final : public ExpressionInputs {
 public:
  explicit TraitInputs(const std::vector<int>& trait_of_slot) : trait_of_slot_(trait_of_slot) {}
  void Reset(const TraitValue* values) { values_ = values; }
  ExprValue Get(int slot) const override {
    if (slot < 0 || static_cast<size_t>(slot) >= trait_of_slot_.size() ||
        trait_of_slot_[slot] < 0) {
      return ExprValue::Missing();
    }
    const TraitValue& v = values_[trait_of_slot_[slot]];
    switch (v.kind) {
      case ExprValue::Kind::kNumber:
        return ExprValue::Number(v.number);
      case ExprValue::Kind::kString:
        return ExprValue::String(v.text);
      case ExprValue::Kind::kBool:
        return ExprValue::Bool(v.boolean);
      default:
        return ExprValue::Missing();
    }
  }

 private:
  const std::vector<int>& trait_of_slot_;
  const TraitValue* values_ = nullptr;
};

std::string_view EventName(std::string_view type, std::string_view track_name) {
  if (type == "track") return track_name;
  if (type == "page") return "Page Viewed";
  if (type == "screen") return "Screen Viewed";
  if (type == "identify") return "Identify";
  if (type == "group") return "Group";
  if (type == "alias") return "Alias";
  return track_name;
}

// A number from a JSON number or a numeric string ("5", "4.5").
double NumberOf(simdjson::dom::element e) {
  double d;
  if (e.get_double().get(d) == simdjson::SUCCESS) return d;
  int64_t i;
  if (e.get_int64().get(i) == simdjson::SUCCESS) return static_cast<double>(i);
  uint64_t u;
  if (e.get_uint64().get(u) == simdjson::SUCCESS) return static_cast<double>(u);
  std::string_view s;
  if (e.get_string().get(s) == simdjson::SUCCESS) {
    double v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec == std::errc() && end == s.data() + s.size()) return v;
  }
  bool b;
  if (e.get_bool().get(b) == simdjson::SUCCESS) return b ? 1 : 0;
  return kNaN;
}

bool Lookup(simdjson::dom::element event, const FieldPath& path, simdjson::dom::element* out) {
  if (path.empty()) return false;
  simdjson::dom::element section;
  if (event[path.section].get(section) != simdjson::SUCCESS) return false;
  return section[path.key].get(*out) == simdjson::SUCCESS;
}

class InputReader {
 public:
  InputReader(Engine& engine, const Policy& policy, const ScorecardOptions& options)
      : engine_(engine), policy_(policy), options_(options), clock_(policy.default_timezone) {}

  absl::StatusOr<ScorecardInput> Read(uint64_t* skipped);

 private:
  void PrepareMappings();
  uint32_t CustomerNumber(std::string_view id);
  uint16_t Label(StringMap<uint16_t>* index, std::vector<std::string>* labels,
                 simdjson::dom::element value);
  void ReadEvent(std::string_view customer, std::string_view json);
  void ReadTraits(uint32_t customer, simdjson::dom::element traits, Micros at);
  absl::Status ReadRecords();
  absl::Status ResolveMerges();
  void AssignSegments();

  Engine& engine_;
  const Policy& policy_;
  const ScorecardOptions& options_;
  LocalClock clock_;
  ScorecardInput input_;
  uint64_t skipped_ = 0;
  uint64_t events_read_ = 0;

  StringMap<std::vector<Mapping>> mappings_;
  StringMap<uint32_t> customers_;
  StringMap<uint16_t> channel_index_, case_index_;
  std::vector<int32_t> last_hour_;  // by customer: the latest activity mark
  StringSet merge_candidates_;      // ids that may have been merged into another

  // Segment conditions read these traits (slot -> trait number).
  std::vector<std::string> traits_;
  std::vector<int> trait_of_slot_;
  std::vector<TraitValue> trait_values_;  // customers x traits

  simdjson::dom::parser parser_;
  std::string buffer_;
};

void InputReader::PrepareMappings() {
  for (const OutcomeRule& rule : policy_.outcomes) {
    Mapping m;
    m.kind = static_cast<uint8_t>(rule.role);
    for (const auto& [field, path] : rule.fields) {
      if (field == "score" || field == "revenue" || field == "value")
        m.value = ParseFieldPath(path);
      if (field == "channel") m.channel = ParseFieldPath(path);
      if (field == "case_type") m.case_type = ParseFieldPath(path);
    }
    mappings_[rule.event].push_back(std::move(m));
  }
  // Drop-offs: each `abandon:` input of a signal is a journey.
  for (const SignalSpec& signal : policy_.signals) {
    for (const InputSpec& input : signal.inputs) {
      const auto* abandon = std::get_if<AbandonInput>(&input.pattern);
      if (!abandon) continue;
      const uint16_t j = static_cast<uint16_t>(input_.journeys.size());
      input_.journeys.push_back({signal.name + ": " + abandon->event, abandon->within});
      Mapping start;
      start.kind = kJourneyStartKind;
      start.journey = j;
      mappings_[abandon->event].push_back(start);
      Mapping end = start;
      end.kind = kJourneyEndKind;
      mappings_[abandon->unless].push_back(end);
    }
  }
  trait_of_slot_.assign(policy_.paths.size(), -1);
  for (const SegmentSpec& segment : policy_.segments) {
    for (int slot : segment.condition.slots()) {
      if (slot < 0 || static_cast<size_t>(slot) >= policy_.paths.size()) continue;
      const ValuePath& path = policy_.paths[slot];
      if (path.kind != ValuePath::Kind::kTrait || trait_of_slot_[slot] >= 0) continue;
      auto it = std::find(traits_.begin(), traits_.end(), path.name);
      trait_of_slot_[slot] = static_cast<int>(it - traits_.begin());
      if (it == traits_.end()) traits_.push_back(path.name);
    }
  }
}

uint32_t InputReader::CustomerNumber(std::string_view id) {
  auto it = customers_.find(id);
  if (it != customers_.end()) return it->second;
  const uint32_t n = static_cast<uint32_t>(input_.customer_ids.size());
  customers_.emplace(std::string(id), n);
  input_.customer_ids.emplace_back(id);
  last_hour_.push_back(std::numeric_limits<int32_t>::min());
  trait_values_.resize(trait_values_.size() + traits_.size());
  return n;
}

uint16_t InputReader::Label(StringMap<uint16_t>* index, std::vector<std::string>* labels,
                            simdjson::dom::element value) {
  std::string_view text;
  std::string number;
  if (value.get_string().get(text) != simdjson::SUCCESS) {
    const double d = NumberOf(value);
    if (!std::isfinite(d)) return kNoLabel;
    number = std::to_string(static_cast<int64_t>(d));
    text = number;
  }
  if (text.empty()) return kNoLabel;
  auto it = index->find(text);
  if (it != index->end()) return it->second;
  if (labels->size() >= kNoLabel - 1) return kNoLabel;  // beyond any useful breakdown
  const uint16_t label = static_cast<uint16_t>(labels->size());
  labels->emplace_back(text);
  index->emplace(std::string(text), label);
  return label;
}

void InputReader::ReadTraits(uint32_t customer, simdjson::dom::element traits, Micros at) {
  simdjson::dom::object object;
  if (traits.get_object().get(object) != simdjson::SUCCESS) return;
  for (size_t t = 0; t < traits_.size(); ++t) {
    simdjson::dom::element v;
    if (object[traits_[t]].get(v) != simdjson::SUCCESS) continue;
    TraitValue& slot = trait_values_[customer * traits_.size() + t];
    if (at < slot.at) continue;  // an older identify does not overwrite a newer one
    slot.at = at;
    std::string_view s;
    bool b;
    if (v.get_string().get(s) == simdjson::SUCCESS) {
      slot.kind = ExprValue::Kind::kString;
      slot.text.assign(s);
    } else if (v.get_bool().get(b) == simdjson::SUCCESS) {
      slot.kind = ExprValue::Kind::kBool;
      slot.boolean = b;
    } else if (double d = NumberOf(v); std::isfinite(d)) {
      slot.kind = ExprValue::Kind::kNumber;
      slot.number = d;
    } else {
      slot.kind = ExprValue::Kind::kMissing;
    }
  }
}

void InputReader::ReadEvent(std::string_view customer_id, std::string_view json) {
  buffer_.assign(json);
  buffer_.append(simdjson::SIMDJSON_PADDING, '\0');
  simdjson::dom::element event;
  if (parser_.parse(buffer_.data(), json.size(), false).get(event) != simdjson::SUCCESS) {
    ++skipped_;
    return;
  }
  std::string_view type, name, timestamp;
  if (event["type"].get_string().get(type) != simdjson::SUCCESS ||
      event["timestamp"].get_string().get(timestamp) != simdjson::SUCCESS) {
    ++skipped_;
    return;
  }
  const std::optional<Micros> at = ParseTimestamp(timestamp);
  if (!at) {
    ++skipped_;
    return;
  }
  if (event["event"].get_string().get(name) != simdjson::SUCCESS) name = {};
  const uint32_t customer = CustomerNumber(customer_id);
  // Only an id an event names next to another can have been merged away
  // (identify: anonymousId into userId; alias: previousId into userId).
  std::string_view user, other;
  if (event["userId"].get_string().get(user) == simdjson::SUCCESS &&
      (event["anonymousId"].get_string().get(other) == simdjson::SUCCESS ||
       event["previousId"].get_string().get(other) == simdjson::SUCCESS)) {
    if (!other.empty() && other != user && !merge_candidates_.contains(other))
      merge_candidates_.emplace(other);
  }

  const int32_t hour = static_cast<int32_t>(*at >= 0 ? *at / kMicrosPerHour
                                                     : (*at - kMicrosPerHour + 1) / kMicrosPerHour);
  if (last_hour_[customer] != hour) {
    last_hour_[customer] = hour;
    input_.activity.push_back({customer, hour});
  }
  if (!traits_.empty()) {
    simdjson::dom::element traits;
    if (event["traits"].get(traits) == simdjson::SUCCESS) ReadTraits(customer, traits, *at);
  }

  auto it = mappings_.find(EventName(type, name));
  if (it == mappings_.end()) return;
  std::string_view zone;
  simdjson::dom::element context;
  if (event["context"].get(context) == simdjson::SUCCESS &&
      context["timezone"].get_string().get(zone) != simdjson::SUCCESS) {
    zone = {};
  }
  const uint8_t local_hour = static_cast<uint8_t>(clock_.At(zone, *at).minute_of_day / 60);
  for (const Mapping& m : it->second) {
    ScorecardEvent e;
    e.at = *at;
    e.customer = customer;
    e.kind = m.kind;
    e.journey = m.journey;
    e.local_hour = local_hour;
    simdjson::dom::element v;
    if (Lookup(event, m.value, &v)) e.value = NumberOf(v);
    if (Lookup(event, m.channel, &v)) e.channel = Label(&channel_index_, &input_.channels, v);
    if (Lookup(event, m.case_type, &v)) e.case_type = Label(&case_index_, &input_.case_types, v);
    input_.events.push_back(e);
  }
}

absl::Status InputReader::ReadRecords() {
  auto intervention_of = [&](const std::string& name) -> int {
    for (size_t i = 0; i < policy_.interventions.size(); ++i) {
      if (policy_.interventions[i].name == name) return static_cast<int>(i);
    }
    return -1;
  };
  auto variant_of = [&](const std::string& experiment, const std::string& variant) -> int16_t {
    for (const ExperimentSpec& e : policy_.experiments) {
      if (e.name != experiment) continue;
      for (size_t v = 0; v < e.variants.size(); ++v) {
        if (e.variants[v].name == variant) return static_cast<int16_t>(v);
      }
    }
    return -1;
  };
  auto text = [](const nlohmann::json& j, const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  StringMap<uint16_t> segment_index;
  auto segment = [&](const std::string& name) -> uint16_t {
    if (name.empty()) return kNoLabel;
    auto it = segment_index.find(name);
    if (it != segment_index.end()) return it->second;
    const uint16_t s = ScorecardInput::Intern(&input_.segments, name);
    segment_index.emplace(name, s);
    return s;
  };

  UPFRONT_RETURN_IF_ERROR(engine_.ScanRecords("exposure", [&](std::string_view,
                                                              std::string_view json) {
    const nlohmann::json r = nlohmann::json::parse(json, nullptr, false);
    const std::optional<Micros> at = r.is_object() ? ParseTimestamp(text(r, "at")) : std::nullopt;
    const int intervention = r.is_object() ? intervention_of(text(r, "intervention")) : -1;
    const std::string customer = r.is_object() ? text(r, "customer") : "";
    if (!at || intervention < 0 || customer.empty()) {
      ++skipped_;
      return true;
    }
    ScorecardExposure x;
    x.at = *at;
    x.customer = CustomerNumber(customer);
    x.intervention = static_cast<uint16_t>(intervention);
    x.variant = variant_of(text(r, "experiment"), text(r, "variant"));
    x.segment = segment(text(r, "segment"));
    x.holdout = text(r, "cohort") == "holdout";
    input_.exposures.push_back(x);
    return true;
  }));
  UPFRONT_RETURN_IF_ERROR(
      engine_.ScanRecords("action", [&](std::string_view, std::string_view json) {
        const nlohmann::json r = nlohmann::json::parse(json, nullptr, false);
        if (!r.is_object()) {
          ++skipped_;
          return true;
        }
        const std::optional<Micros> at = ParseTimestamp(text(r, "at"));
        const int intervention = intervention_of(text(r, "intervention"));
        const std::string customer = text(r, "customer");
        const std::string action = text(r, "action");
        ScorecardAction a;
        if (action == "deliver") {
          a.kind = ScorecardActionKind::kDeliver;
        } else if (action == "ask_confirm") {
          a.kind = ScorecardActionKind::kAskConfirm;
        } else if (action == "review") {
          a.kind = ScorecardActionKind::kReview;
        } else {
          ++skipped_;
          return true;
        }
        if (!at || intervention < 0 || customer.empty()) {
          ++skipped_;
          return true;
        }
        a.at = *at;
        a.customer = CustomerNumber(customer);
        a.intervention = static_cast<uint16_t>(intervention);
        const std::string channel = text(r, "channel");
        if (!channel.empty()) {
          auto it = channel_index_.find(channel);
          if (it != channel_index_.end()) {
            a.channel = it->second;
          } else if (input_.channels.size() < kNoLabel - 1) {
            a.channel = static_cast<uint16_t>(input_.channels.size());
            input_.channels.push_back(channel);
            channel_index_.emplace(channel, a.channel);
          }
        }
        a.segment = segment(text(r, "segment"));
        a.variant = variant_of(text(r, "experiment"), text(r, "variant"));
        a.holdout = text(r, "cohort") == "holdout";
        input_.actions.push_back(a);
        return true;
      }));
  return absl::OkStatus();
}

absl::Status InputReader::ResolveMerges() {
  const size_t n = input_.customer_ids.size();
  std::vector<uint32_t> canonical(n);
  bool any = false;
  for (uint32_t c = 0; c < n; ++c) {
    canonical[c] = c;
    if (!merge_candidates_.contains(input_.customer_ids[c])) continue;
    absl::StatusOr<std::vector<std::string>> ids = engine_.CustomerIds(input_.customer_ids[c]);
    if (!ids.ok()) {
      if (ids.status().code() == absl::StatusCode::kNotFound) continue;  // erased since
      return ids.status();
    }
    if (ids->empty() || ids->front() == input_.customer_ids[c]) continue;
    canonical[c] = CustomerNumber(ids->front());  // may append: the loop stops at the old n
    any = true;
  }
  if (!any) return absl::OkStatus();
  canonical.resize(input_.customer_ids.size());
  for (uint32_t c = static_cast<uint32_t>(n); c < canonical.size(); ++c) canonical[c] = c;
  for (ScorecardEvent& e : input_.events) e.customer = canonical[e.customer];
  for (ScorecardActivity& a : input_.activity) a.customer = canonical[a.customer];
  for (ScorecardExposure& x : input_.exposures) x.customer = canonical[x.customer];
  for (ScorecardAction& a : input_.actions) a.customer = canonical[a.customer];
  // The merged customer's traits: the latest of either id's.
  const size_t t = traits_.size();
  for (uint32_t c = 0; c < n; ++c) {
    if (canonical[c] == c) continue;
    for (size_t k = 0; k < t; ++k) {
      TraitValue& from = trait_values_[c * t + k];
      TraitValue& to = trait_values_[canonical[c] * t + k];
      if (from.at > to.at) to = std::move(from);
    }
  }
  return absl::OkStatus();
}

void InputReader::AssignSegments() {
  const size_t n = input_.customer_ids.size();
  input_.customer_segments.assign(n, kNoLabel);
  if (policy_.segments.empty()) return;
  std::vector<uint16_t> label(policy_.segments.size());
  for (size_t s = 0; s < policy_.segments.size(); ++s) {
    label[s] = ScorecardInput::Intern(&input_.segments, policy_.segments[s].name);
  }
  TraitInputs inputs(trait_of_slot_);
  const TraitValue none;
  for (size_t c = 0; c < n; ++c) {
    inputs.Reset(traits_.empty() ? &none : &trait_values_[c * traits_.size()]);
    for (size_t s = 0; s < policy_.segments.size(); ++s) {
      if (policy_.segments[s].condition.Evaluate(inputs)) {
        input_.customer_segments[c] = label[s];
        break;
      }
    }
  }
}

absl::StatusOr<ScorecardInput> InputReader::Read(uint64_t* skipped) {
  PrepareMappings();
  UPFRONT_RETURN_IF_ERROR(
      engine_.ScanEvents([&](std::string_view customer, Micros, std::string_view json) {
        ReadEvent(customer, json);
        if (++events_read_ % kProgressEvery == 0 && options_.progress)
          options_.progress(events_read_);
        return true;
      }));
  if (options_.progress) options_.progress(events_read_);
  UPFRONT_RETURN_IF_ERROR(ReadRecords());
  if (options_.resolve_merges) UPFRONT_RETURN_IF_ERROR(ResolveMerges());
  AssignSegments();
  if (skipped) *skipped = skipped_;
  return std::move(input_);
}

}  // namespace

absl::StatusOr<ScorecardInput> ReadScorecardInput(Engine& engine, const Policy& policy,
                                                  const ScorecardOptions& options,
                                                  uint64_t* skipped_records) {
  return InputReader(engine, policy, options).Read(skipped_records);
}

absl::StatusOr<nlohmann::json> BuildScorecard(Engine& engine, const Policy& policy,
                                              const ScorecardOptions& options) {
  uint64_t skipped = 0;
  UPFRONT_ASSIGN_OR_RETURN(ScorecardInput input,
                           ReadScorecardInput(engine, policy, options, &skipped));
  UPFRONT_ASSIGN_OR_RETURN(nlohmann::json card, ComputeScorecard(input, policy, options));
  card["input"]["skipped_records"] = skipped;
  return card;
}

}  // namespace upfront
