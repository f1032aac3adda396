// The policy's signals and counters, validated and compiled once per policy
// version into what every customer's state shares: resolved property ids,
// hashed operands, and an index from event name to the (signal, input) pairs
// and counters it feeds, so an event touches only the inputs that watch it.
//
//   absl::StatusOr<CompiledSignals> compiled =
//       CompiledSignals::Compile(policy_signals, policy_counters, catalog);
//   CustomerSignals customer(&*compiled);   // per customer; see customer_signals.h
//
// Immutable after Compile and safe to share between threads. Move-only:
// CustomerSignals points into it, so it must not move or die while any
// CustomerSignals uses it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "src/common/string_map.h"
#include "src/event/field_catalog.h"
#include "src/signals/counters.h"
#include "src/signals/signal_spec.h"
#include "upfront/status.h"

namespace upfront {

class CompiledSignals {
 public:
  // Validates and compiles. On failure the InvalidArgument message lists every
  // problem, one per line, each starting with where it is
  // ("signals.checkout_friction.inputs[1]: repeat count must be 2..32, found 40").
  // Predicates and repeat keys must name properties the catalog keeps; eq/ne
  // on a hashed property compare with the operand's keyed hash, other
  // comparisons on hashed properties are errors.
  static absl::StatusOr<CompiledSignals> Compile(std::vector<SignalSpec> signals,
                                                 std::vector<CounterSpec> counters,
                                                 const FieldCatalog& catalog);

  CompiledSignals(CompiledSignals&&) = default;
  CompiledSignals& operator=(CompiledSignals&&) = default;
  CompiledSignals(const CompiledSignals&) = delete;
  CompiledSignals& operator=(const CompiledSignals&) = delete;

  size_t signal_count() const { return signals_.size(); }
  const SignalSpec& signal(int i) const { return signals_[i]; }
  int SignalIndex(std::string_view name) const;  // -1 when unknown

  size_t counter_count() const { return counters_.size(); }
  const CounterSpec& counter(int i) const { return counters_[i]; }
  int CounterIndex(std::string_view name) const;  // -1 when unknown

  // The event whose occurrence an input's contributions stand for: the A of an
  // abandonment, the `then` of a sequence, otherwise the input's event.
  std::string_view ContributingEvent(int signal, int input) const;

 private:
  friend class CustomerSignals;

  enum class Kind : uint8_t { kEvent, kRepeat, kAbandon, kRateChange, kSequence };
  enum class Role : uint8_t {
    kEvent,
    kRepeat,
    kAbandonStart,
    kAbandonUnless,
    kRateChange,
    kSequenceFirst,
    kSequenceThen,
    kCount,
  };

  // One input, flattened, with what the per-event path needs close at hand.
  struct Input {
    const InputSpec* spec = nullptr;  // into signals_ (heap storage; stable across moves)
    uint16_t signal = 0;
    uint8_t index = 0;  // within its signal
    Kind kind = Kind::kEvent;
    double weight = 0;
    double confidence = 0;
    Micros half_life = 0;
    Micros within = 0;      // repeat, abandon, sequence
    int count = 0;          // repeat
    int key_property = -1;  // repeat: the key's property id; -1 groups all events
    uint32_t predicates_begin = 0, predicates_end = 0;  // into predicates_
    uint32_t state = 0;        // index into CustomerSignals' vector for this kind
    uint64_t fingerprint = 0;  // what the state means; state survives a policy change only if equal
  };

  struct Route {
    uint32_t target;  // an index into inputs_, or into counters_ for kCount
    Role role;
  };

  CompiledSignals() = default;

  const Input& input(int signal, int index) const {
    return inputs_[signal_inputs_begin_[signal] + index];
  }

  std::vector<SignalSpec> signals_;
  std::vector<CounterSpec> counters_;
  std::vector<CounterShape> counter_shapes_;
  std::vector<Input> inputs_;
  std::vector<uint32_t> signal_inputs_begin_;  // signal_count() + 1 entries
  std::vector<Predicate> predicates_;
  std::vector<Route> routes_;
  StringMap<std::pair<uint32_t, uint32_t>> routes_by_event_;  // [begin, end) in routes_
  StringMap<int> signal_ids_;
  StringMap<int> counter_ids_;
  uint32_t repeat_count_ = 0;
  uint32_t abandon_count_ = 0;
  uint32_t rate_change_count_ = 0;
  uint32_t sequence_count_ = 0;
};

}  // namespace upfront
