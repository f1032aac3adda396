// What a signal is, as the policy declares it: plain structs that the policy
// loader fills and CompiledSignals validates (see shared/policy-example.yaml,
// `signals:`). Nothing here holds per-customer state.
//
//   SignalSpec friction{.name = "checkout_friction", .half_life = 10 * kMicrosPerMinute};
//   absl::StatusOr<Predicate> where = ParsePredicate("path", "/checkout*");  // a glob
//   friction.inputs.push_back({.pattern = EventInput{"Form Error", {*where}},
//                              .weight = 0.6, .confidence = 0.9});
//
// Durations are Micros. An input names the events it watches by their
// Event::name ("Page Viewed" for page calls).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "upfront/event.h"
#include "upfront/status.h"
#include "upfront/time.h"

namespace upfront {

// Limits that keep per-customer state small and fixed; CompiledSignals rejects
// specs beyond them with an error that names the limit.
inline constexpr int kMaxInputsPerSignal = 8;
inline constexpr int kMaxRepeatCount = 32;  // repeat: count N is 2..32
inline constexpr int kRepeatKeys = 8;       // repeat: distinct key values tracked
inline constexpr int kRateChangeDays = 32;  // rate_change: day buckets kept
inline constexpr int kRateChangeMaxLongDays =
    kRateChangeDays - 1;  // one bucket for the partial day

// A condition on one event property, from a `where:` entry.
struct Predicate {
  enum class Op : uint8_t { kEq, kNe, kGlob, kLt, kLe, kGt, kGe };

  std::string property;  // the property name, without "properties."
  // The property's id in the FieldCatalog; -1 until CompiledSignals resolves it.
  int property_id = -1;
  Op op = Op::kEq;
  // The operand as written (eq, ne, glob). For a hashed property,
  // CompiledSignals replaces it with its keyed hash so eq/ne still work.
  std::string text;
  // The operand as a number, when it is one; lt/le/gt/ge always have one.
  bool has_number = false;
  double number = 0;

  // Whether `value` (nullptr when the event lacks the property) satisfies the
  // predicate. A missing property satisfies no predicate, not even ne: a rule
  // about a value says nothing about an event that does not carry it.
  //  - eq/ne: a string value compares as text; a number compares numerically
  //    when the operand is a number; a bool equals "true"/"false".
  //  - lt/le/gt/ge: number values, and strings that are a whole number
  //    ("2", "2.5"); anything else does not match.
  //  - glob: string values only.
  // Allocates nothing.
  bool Matches(const FieldValue* value) const;
};

std::string_view PredicateOpName(Predicate::Op op);  // "eq", "ge", ...

// Parses one `where:` entry: `field` is the key ("path" or "properties.path"),
// `yaml_scalar_text` the scalar's text as written:
//   "/checkout*"  glob (`*` any run of characters, `?` one character; no escapes)
//   ">= 2"        ge 2; also >, <, <=, and "== x", "!= x" (x a number or text,
//                 taken literally: "== 50%*" matches a star, not a glob)
//   "card"        eq "card";   "5" → eq 5 (also equals the text "5")
// Errors (InvalidArgument) name the field and say what was expected.
absl::StatusOr<Predicate> ParsePredicate(std::string_view field, std::string_view yaml_scalar_text);

// Glob match of `text` against `pattern` with `*` and `?`; no allocation.
bool GlobMatch(std::string_view pattern, std::string_view text);

// `event:` — every event of that name whose properties satisfy all `where`
// predicates contributes. A property threshold ("delay_days >= 2") is an
// EventInput with a numeric predicate.
struct EventInput {
  std::string event{};
  std::vector<Predicate> where{};
};

// `repeat:` — `count` events of this name carrying the same value of `key`
// within `within` (t_last - t_first <= within, inclusive) contribute once;
// that key's window then starts over. An empty key groups all events of the
// name; an event without the key property does not count.
struct RepeatInput {
  std::string event;
  std::string key;  // property name, without "properties."
  int count = 3;
  Micros within = 0;
  std::vector<Predicate> where{};
};

// `abandon:` — `event` (A) not followed by `unless` (B) within `within`
// contributes from a timer at A + within. B at or before the deadline cancels;
// a later A restarts the clock.
struct AbandonInput {
  std::string event;
  std::string unless;
  Micros within = 0;
};

// `rate_change:` — the event's rate over the last `short_window` against the
// customer's own rate over the rest of `long_window` (both per day).
// Contributes when short_rate <= (1 - drop) * baseline_rate, the customer has
// at least one full short window of history before the short window, and the
// baseline holds at least `min_baseline_count` events. Windows are whole days;
// long_window is at most 31 days and longer than short_window.
struct RateChangeInput {
  std::string event;
  Micros short_window = 0;
  Micros long_window = 0;
  double drop = 0.5;  // in (0, 1]: 0.6 means "at least 60% fewer"
  int min_baseline_count = 4;
};

// `sequence:` — `first` then `then` within `within` (inclusive) contributes
// at the time of `then`. Each `first` pairs with at most one `then`.
struct SequenceInput {
  std::string first;
  std::string then;
  Micros within = 0;
};

struct InputSpec {
  std::variant<EventInput, RepeatInput, AbandonInput, RateChangeInput, SequenceInput> pattern;
  // Intensity `w` (may be negative: counter-evidence lowers the strength; the
  // score is clamped at 0) and evidence quality `c` in [0, 1].
  double weight = 1.0;
  double confidence = 1.0;
};

struct SignalSpec {
  std::string name{};
  std::string description{};
  Micros half_life = 0;             // > 0
  std::vector<InputSpec> inputs{};  // 1..kMaxInputsPerSignal
};

// `counts.<name>.<window>`: how many `event`s a customer had in a window.
// `name` is an outcome role ("contact_opened") or the event name itself.
// Windows up to 48h are whole hours (hour resolution); longer ones are whole
// days up to 92d (day resolution); see counters.h.
struct CounterSpec {
  std::string name;
  std::string event;
  std::vector<Micros> windows;
};

}  // namespace upfront
