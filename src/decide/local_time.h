// The customer's own clock: local time of day, calendar day and week in
// their IANA time zone, for quiet hours and daily/weekly caps.
//
//   LocalClock clock("UTC");                              // the policy's default zone
//   LocalClock::Local local = clock.At("Asia/Tokyo", t);  // minute of day, day, week
//   Micros end = clock.NextMinuteOfDay("Asia/Tokyo", t, 8 * 60);
//
// Zones are loaded once and cached; an unknown zone name falls back to the
// default. Not thread-safe (one per partition).
#pragma once

#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "src/common/string_map.h"
#include "upfront/time.h"

namespace upfront {

class LocalClock {
 public:
  explicit LocalClock(std::string_view default_zone);

  struct Local {
    int minute_of_day = 0;  // 0..1439
    int64_t day = 0;        // local calendar day number (days since 1970-01-01 local)
    int64_t week = 0;       // local calendar week number, weeks starting on Monday
  };
  Local At(std::string_view zone, Micros t);

  // The first instant strictly after `t` at which the local clock reads
  // `minute_of_day`:00. Across a DST gap, the first valid instant after it.
  Micros NextMinuteOfDay(std::string_view zone, Micros t, int minute_of_day);

 private:
  const absl::TimeZone& Zone(std::string_view name);

  absl::TimeZone default_zone_;
  StringMap<absl::TimeZone> zones_;
};

// Whether `minute` (of the day) is inside quiet hours [start, end); the
// window may wrap midnight (21:00–08:00).
bool InQuietHours(int minute, int start, int end);

}  // namespace upfront
