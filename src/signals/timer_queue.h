// Event-time timers of one customer: "look again at A + 30m" for an
// abandonment, "re-check the rate at midnight" for a rate change. Each
// (signal, input) has at most one pending timer, so the queue is a small
// vector kept sorted by (due, signal, input) — a fixed order, so timers due at
// the same moment always fire the same way.
//
//   TimerQueue timers;
//   timers.Schedule(t + 30 * kMicrosPerMinute, /*signal=*/1, /*input=*/0);
//   SignalTimer timer;
//   while (timers.PopDue(now, &timer)) { ... }
//
// Times are event time; nothing here reads a clock. The runtime keeps its own
// index of customers by NextDue(). Not thread-safe.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "src/common/binary_codec.h"
#include "src/signals/decayed_signal.h"
#include "upfront/time.h"

namespace upfront {

struct SignalTimer {
  Micros due = 0;
  uint16_t signal = 0;
  uint8_t input = 0;

  bool operator==(const SignalTimer&) const = default;
  bool operator<(const SignalTimer& o) const {
    if (due != o.due) return due < o.due;
    if (signal != o.signal) return signal < o.signal;
    return input < o.input;
  }
};

class TimerQueue {
 public:
  // Sets the timer of (signal, input) to `due`, replacing any pending one.
  // Allocates only when the queue grows past its largest size so far.
  void Schedule(Micros due, uint16_t signal, uint8_t input) {
    Cancel(signal, input);
    SignalTimer timer{due, signal, input};
    timers_.insert(std::upper_bound(timers_.begin(), timers_.end(), timer), timer);
  }

  // Removes the pending timer of (signal, input), if any.
  void Cancel(uint16_t signal, uint8_t input) {
    for (auto it = timers_.begin(); it != timers_.end(); ++it) {
      if (it->signal == signal && it->input == input) {
        timers_.erase(it);
        return;
      }
    }
  }

  // The pending timer of (signal, input); nullptr when none.
  const SignalTimer* Find(uint16_t signal, uint8_t input) const {
    for (const SignalTimer& t : timers_) {
      if (t.signal == signal && t.input == input) return &t;
    }
    return nullptr;
  }

  // The earliest due time; kNever when nothing is pending.
  Micros NextDue() const { return timers_.empty() ? kNever : timers_.front().due; }

  // Removes and returns the earliest timer if it is due at or before `now`.
  bool PopDue(Micros now, SignalTimer* timer) {
    if (timers_.empty() || timers_.front().due > now) return false;
    *timer = timers_.front();
    timers_.erase(timers_.begin());
    return true;
  }

  size_t size() const { return timers_.size(); }
  bool empty() const { return timers_.empty(); }
  const std::vector<SignalTimer>& pending() const { return timers_; }
  void Clear() { timers_.clear(); }

  void Encode(Encoder* e) const {
    e->PutVarint(timers_.size());
    for (const SignalTimer& t : timers_) {
      e->PutSigned(t.due);
      e->PutVarint(t.signal);
      e->PutVarint(t.input);
    }
  }
  // False on a short or corrupt buffer; the queue is then empty.
  bool Decode(Decoder* d) {
    timers_.clear();
    const uint64_t n = d->GetVarint();
    for (uint64_t i = 0; i < n && d->ok(); ++i) {
      const Micros due = d->GetSigned();
      const uint64_t signal = d->GetVarint();
      const uint64_t input = d->GetVarint();
      if (signal > UINT16_MAX || input > UINT8_MAX) break;
      Schedule(due, static_cast<uint16_t>(signal), static_cast<uint8_t>(input));
    }
    if (!d->ok() || timers_.size() != n) {
      timers_.clear();
      return false;
    }
    return true;
  }

 private:
  std::vector<SignalTimer> timers_;
};

}  // namespace upfront
