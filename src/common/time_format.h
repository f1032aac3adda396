// ISO-8601 / RFC 3339 timestamps <-> Micros, and policy durations ("10m").
//
//   std::optional<Micros> t = ParseTimestamp("2026-11-25T10:00:00.250+01:00");
//   std::string s = FormatTimestamp(*t);   // "2026-11-25T09:00:00.250Z"
//   absl::StatusOr<Micros> d = ParseDuration("2h");
//
// ParseTimestamp is on the ingest hot path: it allocates nothing.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "upfront/status.h"
#include "upfront/time.h"

namespace upfront {

// Accepts YYYY-MM-DD, optionally followed by T (or a space) hh:mm[:ss[.fraction]]
// and an offset (Z, +hh:mm, +hhmm, +hh). No offset means UTC. Returns nullopt
// when the text is not such a timestamp or names an impossible date.
std::optional<Micros> ParseTimestamp(std::string_view text);

// RFC 3339 in UTC with millisecond precision, or microseconds when needed.
std::string FormatTimestamp(Micros t);
void AppendTimestamp(Micros t, std::string* out);
// The same at `out`, which has room for kMaxTimestampSize bytes; returns the end.
inline constexpr size_t kMaxTimestampSize = 48;
char* WriteTimestamp(Micros t, char* out);

// Durations as written in policies: an integer or decimal followed by a unit,
// one of ms, s, m, h, d, w ("30s", "10m", "1.5h", "7d"). Errors say why.
absl::StatusOr<Micros> ParseDuration(std::string_view text);

// The shortest exact rendering in the largest unit: 600000000 -> "10m".
std::string FormatDuration(Micros d);

// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's
// algorithm), and back.
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d);
void CivilFromDays(int64_t days, int64_t* y, unsigned* m, unsigned* d);

}  // namespace upfront
