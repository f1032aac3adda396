#include "src/server/outbox/internal/retry.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <string>
#include <vector>

#include "src/common/hash.h"
#include "src/common/time_format.h"

namespace upfront::outbox_internal {
namespace {

// A Retry-After beyond this is taken as this: anything past the horizon
// dead-letters the message anyway, and it keeps the arithmetic from overflowing.
constexpr int64_t kMaxRetryAfterSeconds = 366LL * 24 * 3600;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::optional<int> Number(std::string_view s) {
  if (s.empty() || s.size() > 4) return std::nullopt;
  int value = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return value;
}

std::optional<unsigned> Month(std::string_view name) {
  static constexpr std::array<std::string_view, 12> kMonths = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  for (unsigned i = 0; i < kMonths.size(); ++i) {
    if (name == kMonths[i]) return i + 1;
  }
  return std::nullopt;
}

std::vector<std::string_view> Split(std::string_view s, std::string_view separators) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (start <= s.size()) {
    const size_t end = s.find_first_of(separators, start);
    if (end == std::string_view::npos) {
      if (start < s.size()) parts.push_back(s.substr(start));
      break;
    }
    if (end > start) parts.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

// HTTP dates (RFC 9110 section 5.6.7): IMF-fixdate "Sun, 06 Nov 1994 08:49:37
// GMT", and the obsolete "Sunday, 06-Nov-94 08:49:37 GMT" and "Sun Nov  6
// 08:49:37 1994", which senders must not produce but receivers accept.
std::optional<Micros> ParseHttpDate(std::string_view text) {
  std::vector<std::string_view> parts = Split(text, " ,-");
  std::optional<int> day, year, hour, minute, second;
  std::optional<unsigned> month;
  std::string_view clock;
  if (parts.size() == 6 && parts[5] == "GMT") {  // IMF-fixdate or RFC 850
    day = Number(parts[1]);
    month = Month(parts[2]);
    year = Number(parts[3]);
    clock = parts[4];
    if (year && parts[3].size() == 2) *year += *year < 70 ? 2000 : 1900;
  } else if (parts.size() == 5) {  // asctime
    month = Month(parts[1]);
    day = Number(parts[2]);
    clock = parts[3];
    year = Number(parts[4]);
  } else {
    return std::nullopt;
  }
  std::vector<std::string_view> hms = Split(clock, ":");
  if (hms.size() != 3) return std::nullopt;
  hour = Number(hms[0]);
  minute = Number(hms[1]);
  second = Number(hms[2]);
  if (!day || !month || !year || !hour || !minute || !second || *day < 1 || *day > 31 ||
      *hour > 23 || *minute > 59 || *second > 60) {
    return std::nullopt;
  }
  const int64_t days = DaysFromCivil(*year, *month, static_cast<unsigned>(*day));
  return ((days * 24 + *hour) * 60 + *minute) * kMicrosPerMinute + *second * kMicrosPerSecond;
}

}  // namespace

Micros RetryDelay(const RetryPolicy& policy, uint32_t attempts, std::string_view id,
                  uint64_t seed) {
  Micros delay = std::max<Micros>(policy.first_delay, 0);
  for (uint32_t i = 1; i < attempts && delay < policy.max_delay; ++i) delay *= 2;
  delay = std::min(delay, policy.max_delay);
  if (policy.jitter > 0) {
    std::string key(id);
    key += '#';
    key += std::to_string(attempts);
    // A uniform draw in [-1, 1) from the hash: the same message retries on the
    // same schedule after a restart, and messages that failed together spread.
    const double unit = static_cast<double>(Hash64(key, seed) >> 11) * 0x1.0p-53 * 2 - 1;
    delay = static_cast<Micros>(
        std::llround(static_cast<double>(delay) * (1 + std::min(policy.jitter, 1.0) * unit)));
    delay = std::clamp<Micros>(delay, 0, policy.max_delay);
  }
  return delay;
}

std::optional<Micros> ParseRetryAfter(std::string_view value, Micros now) {
  value = Trim(value);
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    int64_t seconds = 0;
    for (char c : value) {
      seconds = std::min(seconds * 10 + (c - '0'), kMaxRetryAfterSeconds);
    }
    return now + seconds * kMicrosPerSecond;
  }
  std::optional<Micros> date = ParseHttpDate(value);
  if (!date) return std::nullopt;
  return std::min(*date, now + kMaxRetryAfterSeconds * kMicrosPerSecond);
}

}  // namespace upfront::outbox_internal
