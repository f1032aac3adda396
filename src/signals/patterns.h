// Per-customer state of the signal patterns (DESIGN.md 3): repeat,
// abandonment, rate change and sequence. Each holds bounded state and takes
// its parameters from the spec on every call, so the state stays small and a
// spec change never leaves it inconsistent. CustomerSignals routes events and
// timers to them; they never read a clock.
//
// "Within W" is inclusive everywhere: two events W apart are within W.
//
// Not thread-safe (one owner: the customer's partition).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "src/common/binary_codec.h"
#include "src/signals/decayed_signal.h"
#include "src/signals/signal_spec.h"
#include "upfront/time.h"

namespace upfront {

// The UTC day number of `t` (floor division, so times before 1970 work too).
inline int64_t DayOf(Micros t) {
  return t >= 0 ? t / kMicrosPerDay : -((-t + kMicrosPerDay - 1) / kMicrosPerDay);
}

// repeat: N events with the same key value within W.
//
// Keeps, per key value (as a 64-bit hash), the latest N-1 event times, and at
// most kRepeatKeys keys; a new key beyond that evicts the key seen least
// recently. Times are kept sorted, so an out-of-order event lands where it
// belongs. Allocates when a new key slot is first used, never after.
class RepeatPattern {
 public:
  // Counts one event at `t` with key hash `key`. When it makes `count` events
  // with t_last - t_first <= within, returns true with *fired_at = t_last (the
  // moment the pattern became true) and empties that key's window, so the
  // next fire needs `count` new events. REQUIRES: 2 <= count <= kMaxRepeatCount.
  bool OnEvent(uint64_t key, Micros t, int count, Micros within, Micros* fired_at);

  size_t key_count() const { return keys_.size(); }
  void Prefetch() const {
    __builtin_prefetch(keys_.data());
    __builtin_prefetch(times_.data());
  }
  // The kept times of `key` in ascending order; empty when unknown.
  std::vector<Micros> TimesOf(uint64_t key, int count) const;

  void Encode(Encoder* e, int count) const;
  bool Decode(Decoder* d, int count);  // false on a corrupt buffer

 private:
  struct KeyWindow {
    uint64_t key = 0;
    Micros last_seen = kNever;
    uint8_t size = 0;
  };
  std::vector<KeyWindow> keys_;
  std::vector<Micros> times_;  // count-1 slots per key, in keys_ order
};

// abandon: A not followed by B within T.
//
// Remembers the latest A (its time and message id), the latest B, and whether
// an abandonment is pending. The caller owns the timer: it schedules one at
// the deadline when OnStart says kArm and removes it on kDisarm or when
// OnUnless returns true.
class AbandonPattern {
 public:
  enum class Action : uint8_t {
    kNone,    // nothing changes (an A older than the latest one)
    kArm,     // (re)start: set the timer to deadline()
    kDisarm,  // no abandonment pending any more: remove the timer
  };

  // An A at `t`. A later A restarts the clock. An A already followed by a
  // known B (an out-of-order B at t..t+within) does not arm, and neither does
  // one whose deadline is not after `advanced_to` (it arrived too late to act
  // on). `message_id` is kept for the evidence.
  Action OnStart(Micros t, Micros within, Micros advanced_to, std::string_view message_id);
  // A B at `t`. True when it cancels the pending abandonment (A <= t <= A + within).
  bool OnUnless(Micros t, Micros within);
  // The timer fired at `due`. True when the abandonment happens; a stale
  // timer (not the current deadline) is ignored.
  bool OnTimer(Micros due, Micros within);

  bool pending() const { return pending_; }
  Micros deadline(Micros within) const { return last_start_ + within; }
  Micros last_start() const { return last_start_; }
  const std::string& start_message_id() const { return start_message_id_; }

  void Encode(Encoder* e) const;
  bool Decode(Decoder* d);

 private:
  Micros last_start_ = kNever;
  Micros last_unless_ = kNever;
  bool pending_ = false;
  std::string start_message_id_;
};

// rate_change: the customer's recent rate of an event against their own
// baseline.
//
// Events are counted in kRateChangeDays UTC day buckets (saturating at 65535
// a day). A window of k days ending at `now` is the k-1 whole days before
// today, today so far, and the uncovered part of the day k days back, taken as
// its count times the fraction of that day inside the window (uniform within
// a day). So a window is always exactly k·24h long and rates do not jump at
// midnight.
//
// The baseline is the part of the long window before the short window,
// shortened to the customer's history (since the first event of this name).
// The rule contributes when:
//   history >= 2 × short (a full short window of history before the short one),
//   baseline count >= min_baseline_count,
//   short_rate <= (1 - drop) × baseline_rate (rates per day), and
//   it has not contributed in the last short window (a lasting drop
//   re-contributes once per short window, not on every check).
class RateChangePattern {
 public:
  // Counts one event at `t`. False when `t` is older than the buckets kept.
  bool Add(Micros t);
  // Evaluates the rule at `now`; on true, *drop_pct is the drop in percent of
  // the baseline rate (100 when the event stopped).
  bool Evaluate(Micros now, const RateChangeInput& spec, double* drop_pct);
  // Events over (now - days·24h, now], interpolated as described above.
  // REQUIRES: 1 <= days < kRateChangeDays.
  double Count(Micros now, int days) const;
  // Count(now, short_days) and Count(now, long_days) in one walk (the rule
  // reads both on every evaluation). REQUIRES: short_days <= long_days.
  void Counts(Micros now, int short_days, int long_days, double* short_count, double* long_count) const;
  // Whether some event is inside the long window ending at `now` (without
  // one, no check can find anything; NextCheck asks this first).
  bool Active(Micros now, Micros long_window) const;
  // The first UTC midnight after `after` at which Evaluate can still return
  // true if no further event is added; kNever when none can. Midnights that
  // can only return false are skipped: those inside the short window after a
  // contribution, those before two short windows of history, and all of them
  // once the long window holds fewer than min_baseline_count events (with no
  // new events that count only falls, and the baseline is part of it).
  Micros NextCheck(Micros after, const RateChangeInput& spec) const;

  Micros first_seen() const { return first_seen_; }
  Micros last_fired() const { return last_fired_; }

  void Encode(Encoder* e) const;
  bool Decode(Decoder* d);

 private:
  uint16_t Bucket(int64_t day) const;

  std::array<uint16_t, kRateChangeDays> buckets_{};
  int64_t newest_day_ = INT64_MIN;  // INT64_MIN before the first event
  Micros first_seen_ = kNever;
  Micros last_fired_ = kNever;
};

// sequence: A then B within T, contributing at B's time.
//
// Keeps the latest unpaired A and the latest unpaired B: a B pairs with an
// earlier A (A <= B <= A + within), and an A that arrives out of order pairs
// with a B already seen. A pair consumes both, so each A counts once.
class SequencePattern {
 public:
  // True when this A completes a pair with a B seen earlier; *fired_at = B's time.
  bool OnFirst(Micros t, Micros within, Micros* fired_at);
  // True when this B completes a pair (contribute at `t`).
  bool OnThen(Micros t, Micros within);

  void Encode(Encoder* e) const;
  bool Decode(Decoder* d);

 private:
  Micros first_at_ = kNever;
  Micros then_at_ = kNever;
};

}  // namespace upfront
