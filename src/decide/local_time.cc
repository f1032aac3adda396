#include "src/decide/local_time.h"

#include "absl/time/civil_time.h"

namespace upfront {
namespace {

const absl::CivilDay kEpochDay(1970, 1, 1);  // a Thursday

}  // namespace

LocalClock::LocalClock(std::string_view default_zone) {
  if (!absl::LoadTimeZone(std::string(default_zone), &default_zone_)) {
    default_zone_ = absl::UTCTimeZone();
  }
}

const absl::TimeZone& LocalClock::Zone(std::string_view name) {
  if (name.empty()) return default_zone_;
  auto it = zones_.find(name);
  if (it != zones_.end()) return it->second;
  absl::TimeZone zone;
  if (!absl::LoadTimeZone(std::string(name), &zone)) zone = default_zone_;
  return zones_.emplace(std::string(name), zone).first->second;
}

LocalClock::Local LocalClock::At(std::string_view zone, Micros t) {
  const absl::CivilMinute minute = absl::ToCivilMinute(absl::FromUnixMicros(t), Zone(zone));
  const absl::CivilDay day(minute);
  Local local;
  local.minute_of_day = minute.hour() * 60 + minute.minute();
  local.day = day - kEpochDay;
  // 1970-01-01 was a Thursday: shifting by 3 makes weeks start on Monday.
  const int64_t shifted = local.day + 3;
  local.week = shifted >= 0 ? shifted / 7 : (shifted - 6) / 7;
  return local;
}

Micros LocalClock::NextMinuteOfDay(std::string_view zone, Micros t, int minute_of_day) {
  const absl::TimeZone& tz = Zone(zone);
  const absl::CivilMinute now = absl::ToCivilMinute(absl::FromUnixMicros(t), tz);
  absl::CivilMinute target(absl::CivilDay(now).year(), absl::CivilDay(now).month(),
                           absl::CivilDay(now).day(), minute_of_day / 60, minute_of_day % 60);
  // FromCivil maps a time skipped by a DST change to just after the change.
  for (int i = 0; i < 3; ++i) {
    const Micros candidate = absl::ToUnixMicros(absl::FromCivil(target, tz));
    if (candidate > t) return candidate;
    target += 24 * 60;
  }
  return t + kMicrosPerDay;
}

bool InQuietHours(int minute, int start, int end) {
  return start < end ? (minute >= start && minute < end) : (minute >= start || minute < end);
}

}  // namespace upfront
