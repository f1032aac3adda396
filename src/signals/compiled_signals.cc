#include "src/signals/compiled_signals.h"

#include <cmath>
#include <map>
#include <string>

#include "src/common/hash.h"
#include "src/common/time_format.h"

namespace upfront {
namespace {

std::string StripProperties(std::string_view name) {
  if (name.substr(0, 11) == "properties.") name.remove_prefix(11);
  return std::string(name);
}

bool WholeDays(Micros d) { return d > 0 && d % kMicrosPerDay == 0; }

// Collects every problem so one pass over a policy reports all of them.
class Problems {
 public:
  void Add(std::string where, std::string what) {
    lines_.push_back(std::move(where) + ": " + std::move(what));
  }
  bool empty() const { return lines_.empty(); }
  absl::Status ToStatus() const {
    std::string message;
    for (const std::string& line : lines_) {
      if (!message.empty()) message += '\n';
      message += line;
    }
    return absl::InvalidArgumentError(message);
  }

 private:
  std::vector<std::string> lines_;
};

// Resolves a predicate against the catalog; false (with a problem) when it
// cannot be evaluated on stored events.
bool ResolvePredicate(const FieldCatalog& catalog, const std::string& where, Predicate* p,
                      Problems* problems) {
  p->property = StripProperties(p->property);
  const int id = catalog.PropertyId(p->property);
  if (id < 0) {
    problems->Add(where + ".where." + p->property,
                  "property '" + p->property + "' is not kept; add it to events.keep_properties");
    return false;
  }
  p->property_id = id;
  if (catalog.PropertyHashed(static_cast<uint16_t>(id))) {
    if (p->op != Predicate::Op::kEq && p->op != Predicate::Op::kNe) {
      problems->Add(where + ".where." + p->property,
                    "property '" + p->property +
                        "' is stored hashed, so it can only be compared for "
                        "equality (a value, or '!= value')");
      return false;
    }
    // Stored events hold the keyed hash; compare like with like.
    p->text = HmacSha256Hex(catalog.hash_key(), p->text);
    p->has_number = false;
  }
  return true;
}

}  // namespace

absl::StatusOr<CompiledSignals> CompiledSignals::Compile(std::vector<SignalSpec> signals,
                                                         std::vector<CounterSpec> counters,
                                                         const FieldCatalog& catalog) {
  CompiledSignals c;
  Problems problems;
  // Routes per event name, in declaration order, flattened at the end.
  std::map<std::string, std::vector<Route>> routes;

  if (signals.size() > UINT16_MAX) {
    problems.Add("signals", "at most 65535 signals, found " + std::to_string(signals.size()));
  }
  c.signals_ = std::move(signals);
  c.counters_ = std::move(counters);
  c.signal_inputs_begin_.push_back(0);

  for (size_t s = 0; s < c.signals_.size(); ++s) {
    SignalSpec& spec = c.signals_[s];
    const std::string where = "signals." + spec.name;
    if (spec.name.empty())
      problems.Add("signals[" + std::to_string(s) + "]", "a signal needs a name");
    if (!c.signal_ids_.try_emplace(spec.name, static_cast<int>(s)).second) {
      problems.Add(where, "is defined twice");
    }
    if (spec.half_life <= 0)
      problems.Add(where + ".half_life", "must be positive, such as 10m or 7d");
    if (spec.inputs.empty() || spec.inputs.size() > static_cast<size_t>(kMaxInputsPerSignal)) {
      problems.Add(where + ".inputs", "a signal has 1 to " + std::to_string(kMaxInputsPerSignal) +
                                          " inputs, found " + std::to_string(spec.inputs.size()));
    }

    for (size_t i = 0; i < spec.inputs.size() && i < static_cast<size_t>(kMaxInputsPerSignal);
         ++i) {
      InputSpec& in = spec.inputs[i];
      const std::string at = where + ".inputs[" + std::to_string(i) + "]";
      Input input;
      input.spec = &in;
      input.signal = static_cast<uint16_t>(s);
      input.index = static_cast<uint8_t>(i);
      input.kind = static_cast<Kind>(in.pattern.index());
      input.weight = in.weight;
      input.confidence = in.confidence;
      input.half_life = spec.half_life;
      if (!std::isfinite(in.weight)) problems.Add(at + ".weight", "must be a number");
      if (!(in.confidence >= 0 && in.confidence <= 1)) {
        problems.Add(at + ".confidence", "must be between 0 and 1");
      }
      const auto route = [&](const std::string& event, Role role) {
        if (event.empty()) {
          problems.Add(at, "names no event");
          return;
        }
        routes[event].push_back(Route{static_cast<uint32_t>(c.inputs_.size()), role});
      };
      const auto resolve_where = [&](std::vector<Predicate>& where_list) {
        input.predicates_begin = static_cast<uint32_t>(c.predicates_.size());
        for (Predicate p : where_list) {
          if (ResolvePredicate(catalog, at, &p, &problems)) c.predicates_.push_back(std::move(p));
        }
        input.predicates_end = static_cast<uint32_t>(c.predicates_.size());
      };
      std::string shape;  // what the pattern's state means, for the fingerprint

      if (auto* e = std::get_if<EventInput>(&in.pattern)) {
        resolve_where(e->where);
        route(e->event, Role::kEvent);
      } else if (auto* r = std::get_if<RepeatInput>(&in.pattern)) {
        resolve_where(r->where);
        if (r->count < 2 || r->count > kMaxRepeatCount) {
          problems.Add(at + ".count", "repeat count must be 2.." + std::to_string(kMaxRepeatCount) +
                                          ", found " + std::to_string(r->count));
        }
        if (r->within <= 0) problems.Add(at + ".within", "must be positive, such as 5m");
        r->key = StripProperties(r->key);
        if (!r->key.empty()) {
          input.key_property = catalog.PropertyId(r->key);
          if (input.key_property < 0) {
            problems.Add(at + ".key",
                         "property '" + r->key + "' is not kept; add it to events.keep_properties");
          }
        }
        input.within = r->within;
        input.count = r->count;
        input.state = c.repeat_count_++;
        shape = "repeat|" + r->event + "|" + r->key + "|" + std::to_string(r->count) + "|" +
                std::to_string(r->within);
        route(r->event, Role::kRepeat);
      } else if (auto* a = std::get_if<AbandonInput>(&in.pattern)) {
        if (a->within <= 0) problems.Add(at + ".within", "must be positive, such as 30m");
        if (!a->event.empty() && a->event == a->unless) {
          problems.Add(at + ".unless", "names the same event as abandon ('" + a->event + "')");
        }
        input.within = a->within;
        input.state = c.abandon_count_++;
        shape = "abandon|" + a->event + "|" + a->unless + "|" + std::to_string(a->within);
        route(a->event, Role::kAbandonStart);
        route(a->unless, Role::kAbandonUnless);
      } else if (auto* rc = std::get_if<RateChangeInput>(&in.pattern)) {
        if (!WholeDays(rc->short_window))
          problems.Add(at + ".short", "must be whole days, such as 7d");
        if (!WholeDays(rc->long_window) ||
            rc->long_window > kRateChangeMaxLongDays * kMicrosPerDay) {
          problems.Add(at + ".long", "must be whole days up to " +
                                         std::to_string(kRateChangeMaxLongDays) + "d, such as 28d");
        } else if (rc->long_window <= rc->short_window) {
          problems.Add(at + ".long",
                       "must be longer than short (" + FormatDuration(rc->short_window) + ")");
        }
        if (!(rc->drop > 0 && rc->drop <= 1)) {
          problems.Add(at + ".drop", "must be a fraction in (0, 1], such as 0.6 for a 60% drop");
        }
        if (rc->min_baseline_count < 1) problems.Add(at + ".min_baseline", "must be at least 1");
        input.state = c.rate_change_count_++;
        // The buckets mean the same whatever the windows; only the event matters.
        shape = "rate_change|" + rc->event;
        route(rc->event, Role::kRateChange);
      } else if (auto* q = std::get_if<SequenceInput>(&in.pattern)) {
        if (q->within <= 0) problems.Add(at + ".within", "must be positive, such as 10m");
        if (!q->first.empty() && q->first == q->then) {
          problems.Add(at + ".then", "names the same event as first ('" + q->first +
                                         "'); use repeat with count: 2 instead");
        }
        input.within = q->within;
        input.state = c.sequence_count_++;
        shape = "sequence|" + q->first + "|" + q->then + "|" + std::to_string(q->within);
        route(q->first, Role::kSequenceFirst);
        route(q->then, Role::kSequenceThen);
      }
      if (!shape.empty()) input.fingerprint = Hash64(shape);
      c.inputs_.push_back(input);
    }
    c.signal_inputs_begin_.push_back(static_cast<uint32_t>(c.inputs_.size()));
  }

  for (size_t k = 0; k < c.counters_.size(); ++k) {
    CounterSpec& counter = c.counters_[k];
    const std::string where = "counts." + counter.name;
    if (counter.name.empty())
      problems.Add("counts[" + std::to_string(k) + "]", "a count needs a name");
    if (!c.counter_ids_.try_emplace(counter.name, static_cast<int>(k)).second) {
      problems.Add(where, "is defined twice");
    }
    if (counter.event.empty()) problems.Add(where, "names no event");
    if (counter.windows.empty()) problems.Add(where, "has no window");
    bool windows_ok = true;
    for (Micros w : counter.windows) {
      if (absl::Status st = CheckCountWindow(w); !st.ok()) {
        problems.Add(where, std::string(st.message()));
        windows_ok = false;
      }
    }
    c.counter_shapes_.push_back(windows_ok ? EventCounter::ForWindows(counter.windows)
                                           : CounterShape{});
    if (!counter.event.empty())
      routes[counter.event].push_back(Route{static_cast<uint32_t>(k), Role::kCount});
  }

  if (!problems.empty()) return problems.ToStatus();

  for (auto& [event, list] : routes) {
    const auto begin = static_cast<uint32_t>(c.routes_.size());
    c.routes_.insert(c.routes_.end(), list.begin(), list.end());
    c.routes_by_event_.emplace(event,
                               std::make_pair(begin, static_cast<uint32_t>(c.routes_.size())));
  }
  return c;
}

int CompiledSignals::SignalIndex(std::string_view name) const {
  auto it = signal_ids_.find(name);
  return it == signal_ids_.end() ? -1 : it->second;
}

int CompiledSignals::CounterIndex(std::string_view name) const {
  auto it = counter_ids_.find(name);
  return it == counter_ids_.end() ? -1 : it->second;
}

std::string_view CompiledSignals::ContributingEvent(int signal, int input) const {
  const InputSpec& in = signals_[signal].inputs[input];
  if (auto* e = std::get_if<EventInput>(&in.pattern)) return e->event;
  if (auto* r = std::get_if<RepeatInput>(&in.pattern)) return r->event;
  if (auto* a = std::get_if<AbandonInput>(&in.pattern)) return a->event;
  if (auto* rc = std::get_if<RateChangeInput>(&in.pattern)) return rc->event;
  return std::get<SequenceInput>(in.pattern).then;
}

}  // namespace upfront
