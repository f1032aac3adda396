// Time in Upfront: microseconds since the Unix epoch (UTC) as a plain int64,
// compact enough to keep per signal and per event. Durations use the same unit.
#pragma once

#include <cstdint>
#include <limits>

namespace upfront {

using Micros = int64_t;

inline constexpr Micros kMicrosPerMilli = 1000;
inline constexpr Micros kMicrosPerSecond = 1000 * kMicrosPerMilli;
inline constexpr Micros kMicrosPerMinute = 60 * kMicrosPerSecond;
inline constexpr Micros kMicrosPerHour = 60 * kMicrosPerMinute;
inline constexpr Micros kMicrosPerDay = 24 * kMicrosPerHour;

// "No time": a timer that is not set, a moment that has not happened yet.
// Below every real time, so max() with it is the other time.
inline constexpr Micros kNever = std::numeric_limits<Micros>::min();

// The source of "now". Wall-clock time enters the engine only through a
// Clock, so decisions are a function of event time and tests stay
// deterministic. Implementations must be thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual Micros Now() const = 0;
};

// The system's real-time clock.
const Clock& SystemClock();

}  // namespace upfront
