// A Clock that moves only when told to: for tests and for simulation.
#pragma once

#include <atomic>

#include "upfront/time.h"

namespace upfront {

class ManualClock final : public Clock {
 public:
  explicit ManualClock(Micros start = 0) : now_(start) {}
  Micros Now() const override { return now_.load(std::memory_order_acquire); }
  void Set(Micros now) { now_.store(now, std::memory_order_release); }
  void Advance(Micros by) { now_.fetch_add(by, std::memory_order_acq_rel); }

 private:
  std::atomic<Micros> now_;
};

}  // namespace upfront
