// One customer's signals: decayed scores, evidence, pattern state, timers and
// counters, driven only by event time.
//
//   CustomerSignals state(&compiled);             // compiled: CompiledSignals
//   state.OnEvent(event);                         // each event, in arrival order
//   state.AdvanceTo(now);                         // fire timers due by `now`
//   double score = state.Score(compiled.SignalIndex("checkout_friction"), now);
//   const Evidence& why = state.evidence(i);      // for explanations
//   std::string blob; state.Encode(&blob);        // persist; Decode restores
//
// Time: the state has reached `advanced_to()`: every timer due at or before
// it has fired. OnEvent(e) first fires the timers due strictly before
// e.timestamp, then applies the event, so an event and a timer at the same
// instant resolve in the event's favour (a B exactly at A + T still cancels
// A's abandonment: "within" is inclusive) and the result does not depend on
// how often the caller calls AdvanceTo. An event older than advanced_to()
// (late, within or beyond the allowed lateness) still updates scores,
// evidence, patterns and counters at its own time, but cannot undo a timer
// that has fired, and an abandonment whose deadline has already passed is
// not armed (the moment to help has gone).
//
// Cost: OnEvent does one hash lookup on the event name and touches only the
// inputs and counters that watch that name; in steady state it allocates
// nothing (message ids reuse their buffer once it is large enough; a repeat
// key slot allocates on first use).
//
// Not thread-safe: owned by the partition thread that owns the customer.
// `compiled` is not owned and must outlive this object.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "src/signals/compiled_signals.h"
#include "src/signals/counters.h"
#include "src/signals/decayed_signal.h"
#include "src/signals/evidence.h"
#include "src/signals/patterns.h"
#include "src/signals/timer_queue.h"
#include "upfront/event.h"
#include "upfront/status.h"
#include "upfront/time.h"

namespace upfront {

class CustomerSignals {
 public:
  explicit CustomerSignals(const CompiledSignals* compiled);

  // Applies one event of this customer (see the header comment for timing).
  // Returns how many timers fired before it was applied (they may have
  // changed scores just like AdvanceTo).
  int OnEvent(const Event& event);

  // Fires, in (due, signal, input) order, every timer due at or before `now`
  // (including timers those firings schedule), then records that the state
  // has reached `now`. Returns how many timers fired. Moving backwards is a
  // no-op.
  int AdvanceTo(Micros now);

  // The earliest pending timer; kNever when none. The runtime wakes the
  // customer then.
  Micros NextDue() const { return timers_.NextDue(); }
  Micros advanced_to() const { return advanced_to_; }

  // Score and confidence of signal `signal` (CompiledSignals index) at `now`,
  // both in [0, 1]. They read the state as it is: call AdvanceTo(now) first so
  // that timers due by `now` have fired.
  double Score(int signal, Micros now) const;
  double Confidence(int signal, Micros now) const;
  void ScoreAndConfidence(int signal, Micros now, double* score, double* confidence) const;
  const DecayedSignal& decayed(int signal) const { return decayed_[signal]; }

  const Evidence& evidence(int signal) const { return evidence_[signal]; }
  // The name of the event behind the latest contribution; empty before any.
  std::string_view LastEventName(int signal) const;

  // counts.<name>.<window>: events of counter `counter` in `window` ending at
  // `now`; -1 when the counter was not compiled with that window.
  int64_t Count(int counter, Micros now, Micros window) const {
    return counters_[counter].Count(now, window);
  }

  const TimerQueue& timers() const { return timers_; }

  // Folds in the state of another profile of the same person (an identity
  // merge; `other` uses the same CompiledSignals). Scores, evidence and
  // counters add up as if every event had come under one id. Pattern state
  // is per pattern: an abandonment pending in `other` (a checkout started
  // anonymously) is taken, with its timer, when this one has none pending;
  // other patterns in progress (an unfinished repeat run or sequence, a
  // rate_change baseline) keep this profile's, as the surviving history.
  void Absorb(const CustomerSignals& other);

  // Asks the CPU to start loading this state's heap blocks, so that an
  // OnEvent a few events later does not wait on memory (the partition looks
  // ahead in its queue). Reads only this object's own fields.
  // Only the first line of each block: most events touch little beyond it,
  // and loading more than is read delays what is.
  void Prefetch() const {
    __builtin_prefetch(decayed_.data());
    __builtin_prefetch(evidence_.data());
    __builtin_prefetch(repeats_.data());
    __builtin_prefetch(abandons_.data());
    __builtin_prefetch(rate_changes_.data());
    __builtin_prefetch(sequences_.data());
    __builtin_prefetch(counters_.data());
    __builtin_prefetch(timers_.pending().data());
  }
  // The next level down (repeat windows, counter buckets); call after
  // Prefetch() has had time to bring in the vectors it reads.
  void PrefetchNested() const {
    for (const RepeatPattern& repeat : repeats_) repeat.Prefetch();
    for (const EventCounter& counter : counters_) counter.Prefetch();
  }

  // Appends the state to `out`. Signals, inputs and counters are written
  // under their names and what their state means, so Decode with a changed
  // policy keeps the state of everything unchanged and starts the rest fresh.
  void Encode(std::string* out) const;
  // Replaces the state with one written by Encode. DataLoss on a short or
  // corrupt buffer, leaving a fresh state.
  absl::Status Decode(std::string_view in);

 private:
  using Input = CompiledSignals::Input;

  void Reset();
  bool Matches(const Input& input, const Event& event) const;
  void Contribute(const Input& input, Micros t, std::string_view message_id);
  void FireTimer(const SignalTimer& timer);
  void ScheduleRateCheck(const Input& input, const RateChangePattern& rate, Micros after);
  bool DecodeInput(const Input& input, std::string_view block);

  const CompiledSignals* compiled_;
  Micros advanced_to_ = kNever;
  // By signal. Apart, because every reading reads all the scores and only a
  // contribution touches a signal's evidence: the scores of a policy's
  // signals share one or two cache lines.
  std::vector<DecayedSignal> decayed_;
  std::vector<Evidence> evidence_;
  std::vector<RepeatPattern> repeats_;
  std::vector<AbandonPattern> abandons_;
  std::vector<RateChangePattern> rate_changes_;
  std::vector<SequencePattern> sequences_;
  std::vector<EventCounter> counters_;
  TimerQueue timers_;
};

}  // namespace upfront
