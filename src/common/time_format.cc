#include "src/common/time_format.h"

#include <charconv>
#include <cmath>
#include <cstdio>

#include <fmt/format.h>

namespace upfront {
namespace {

bool ReadDigits(std::string_view s, size_t& pos, int count, int* value) {
  if (pos + count > s.size()) return false;
  int v = 0;
  for (int i = 0; i < count; ++i) {
    char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  pos += count;
  *value = v;
  return true;
}

bool IsLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned DaysInMonth(int64_t y, unsigned m) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

// Two decimal digits at p, or -1.
int TwoDigits(const char* p) {
  const unsigned tens = static_cast<unsigned char>(p[0]) - '0', ones = static_cast<unsigned char>(p[1]) - '0';
  return tens <= 9 && ones <= 9 ? static_cast<int>(tens * 10 + ones) : -1;
}

}  // namespace

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2);
}

// "YYYY-MM-DDTHH:MM:SS[.f...]Z", what nearly every SDK sends (JavaScript's
// toISOString): every digit at a known place, so read without the general
// parser's bounds check per digit. nullopt when `s` is not in this layout or
// not a valid time; ParseTimestamp then has the general parser decide.
std::optional<Micros> ParseUtcLayout(std::string_view s) {
  if (s.size() < 20 || s.size() > 30 || s.back() != 'Z' || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
      s[13] != ':' || s[16] != ':') {
    return std::nullopt;
  }
  const char* p = s.data();
  const int century = TwoDigits(p), year2 = TwoDigits(p + 2), month = TwoDigits(p + 5), day = TwoDigits(p + 8);
  const int hour = TwoDigits(p + 11), minute = TwoDigits(p + 14), second = TwoDigits(p + 17);
  if ((century | year2 | month | day | hour | minute | second) < 0) return std::nullopt;
  const int year = century * 100 + year2;
  if (month < 1 || month > 12 || day < 1 || day > static_cast<int>(DaysInMonth(year, month)) || hour > 23 ||
      minute > 59 || second > 60) {
    return std::nullopt;
  }
  Micros fraction = 0;
  const size_t end = s.size() - 1;  // the Z
  if (end > 19) {
    if (s[19] != '.' || end == 20) return std::nullopt;
    Micros scale = 100000;
    for (size_t i = 20; i < end; ++i, scale /= 10) {
      const unsigned digit = static_cast<unsigned char>(s[i]) - '0';
      if (digit > 9) return std::nullopt;
      fraction += digit * scale;
    }
  }
  const int64_t seconds = DaysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second;
  return seconds * kMicrosPerSecond + fraction;
}

std::optional<Micros> ParseTimestamp(std::string_view s) {
  if (std::optional<Micros> t = ParseUtcLayout(s)) return t;
  size_t pos = 0;
  int year = 0, month = 0, day = 0;
  if (!ReadDigits(s, pos, 4, &year) || pos >= s.size() || s[pos++] != '-' ||
      !ReadDigits(s, pos, 2, &month) || pos >= s.size() || s[pos++] != '-' ||
      !ReadDigits(s, pos, 2, &day)) {
    return std::nullopt;
  }
  if (month < 1 || month > 12 || day < 1 || day > static_cast<int>(DaysInMonth(year, month))) {
    return std::nullopt;
  }
  int hour = 0, minute = 0, second = 0;
  Micros fraction = 0;
  int offset_minutes = 0;
  if (pos < s.size()) {
    char sep = s[pos++];
    if (sep != 'T' && sep != 't' && sep != ' ') return std::nullopt;
    if (!ReadDigits(s, pos, 2, &hour) || pos >= s.size() || s[pos++] != ':' ||
        !ReadDigits(s, pos, 2, &minute)) {
      return std::nullopt;
    }
    if (pos < s.size() && s[pos] == ':') {
      ++pos;
      if (!ReadDigits(s, pos, 2, &second)) return std::nullopt;
      if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
        ++pos;
        int digits = 0;
        Micros scale = 100000;
        while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
          fraction += (s[pos] - '0') * scale;
          scale /= 10;
          ++pos;
          ++digits;
        }
        if (digits == 0) return std::nullopt;
      }
    }
    if (hour > 23 || minute > 59 || second > 60) return std::nullopt;
    if (pos < s.size()) {
      char zone = s[pos++];
      if (zone == 'Z' || zone == 'z') {
        // UTC
      } else if (zone == '+' || zone == '-') {
        int oh = 0, om = 0;
        if (!ReadDigits(s, pos, 2, &oh)) return std::nullopt;
        if (pos < s.size() && s[pos] == ':') ++pos;
        if (pos < s.size() && !ReadDigits(s, pos, 2, &om)) return std::nullopt;
        if (oh > 23 || om > 59) return std::nullopt;
        offset_minutes = (oh * 60 + om) * (zone == '-' ? -1 : 1);
      } else {
        return std::nullopt;
      }
    }
    if (pos != s.size()) return std::nullopt;
  }
  const int64_t days = DaysFromCivil(year, month, day);
  const int64_t seconds =
      days * 86400 + hour * 3600 + minute * 60 + second - int64_t{offset_minutes} * 60;
  return seconds * kMicrosPerSecond + fraction;
}

char* WriteTimestamp(Micros t, char* out) {
  int64_t seconds = t >= 0 ? t / kMicrosPerSecond : -((-t + kMicrosPerSecond - 1) / kMicrosPerSecond);
  Micros fraction = t - seconds * kMicrosPerSecond;
  int64_t days = seconds >= 0 ? seconds / 86400 : -((-seconds + 86399) / 86400);
  int64_t sod = seconds - days * 86400;
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  // Hand-formatted: this runs for every stored event.
  char* p = out;
  auto put = [&p](int64_t v, int width) {
    for (int i = width - 1; i >= 0; --i) {
      p[i] = static_cast<char>('0' + v % 10);
      v /= 10;
    }
    p += width;
  };
  if (y < 0 || y > 9999) {
    p = std::to_chars(p, p + 24, y).ptr;
  } else {
    put(y, 4);
  }
  *p++ = '-';
  put(m, 2);
  *p++ = '-';
  put(d, 2);
  *p++ = 'T';
  put(sod / 3600, 2);
  *p++ = ':';
  put(sod / 60 % 60, 2);
  *p++ = ':';
  put(sod % 60, 2);
  *p++ = '.';
  if (fraction % 1000 == 0) {
    put(fraction / 1000, 3);
  } else {
    put(fraction, 6);
  }
  *p++ = 'Z';
  return p;
}

void AppendTimestamp(Micros t, std::string* out) {
  char buf[kMaxTimestampSize];
  out->append(buf, WriteTimestamp(t, buf));
}

std::string FormatTimestamp(Micros t) {
  std::string s;
  AppendTimestamp(t, &s);
  return s;
}

absl::StatusOr<Micros> ParseDuration(std::string_view text) {
  size_t pos = 0;
  while (pos < text.size() && ((text[pos] >= '0' && text[pos] <= '9') || text[pos] == '.')) ++pos;
  std::string_view number = text.substr(0, pos);
  std::string_view unit = text.substr(pos);
  double value = 0;
  if (number.empty() || std::sscanf(std::string(number).c_str(), "%lf", &value) != 1) {
    return absl::InvalidArgumentError(
        fmt::format("'{}' is not a duration; write a number and a unit, like 30s, 10m, 2h, 7d", text));
  }
  Micros per_unit;
  if (unit == "ms") per_unit = kMicrosPerMilli;
  else if (unit == "s") per_unit = kMicrosPerSecond;
  else if (unit == "m") per_unit = kMicrosPerMinute;
  else if (unit == "h") per_unit = kMicrosPerHour;
  else if (unit == "d") per_unit = kMicrosPerDay;
  else if (unit == "w") per_unit = 7 * kMicrosPerDay;
  else if (unit.empty() || unit.find_first_not_of("abcdefghijklmnopqrstuvwxyz") != std::string_view::npos) {
    return absl::InvalidArgumentError(
        fmt::format("'{}' is not a duration; write a number and a unit, like 30s, 10m, 2h, 7d", text));
  } else {
    return absl::InvalidArgumentError(
        fmt::format("'{}' has unit '{}'; use one of ms, s, m, h, d, w", text, unit));
  }
  return static_cast<Micros>(std::llround(value * static_cast<double>(per_unit)));
}

std::string FormatDuration(Micros d) {
  struct Unit {
    Micros size;
    const char* name;
  };
  static constexpr Unit kUnits[] = {{kMicrosPerDay, "d"},     {kMicrosPerHour, "h"},
                                    {kMicrosPerMinute, "m"},  {kMicrosPerSecond, "s"},
                                    {kMicrosPerMilli, "ms"}};
  if (d == 0) return "0s";
  for (const Unit& u : kUnits) {
    if (d % u.size == 0) return fmt::format("{}{}", d / u.size, u.name);
  }
  return fmt::format("{}us", d);
}

}  // namespace upfront
