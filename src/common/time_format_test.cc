#include "src/common/time_format.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace upfront {
namespace {

TEST(ParseTimestamp, AcceptsRfc3339WithZuluAndFraction) {
  auto t = ParseTimestamp("2026-11-25T10:00:00.250Z");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(FormatTimestamp(*t), "2026-11-25T10:00:00.250Z");
}

TEST(ParseTimestamp, AppliesOffsets) {
  EXPECT_EQ(*ParseTimestamp("2026-11-25T11:30:00+01:30"), *ParseTimestamp("2026-11-25T10:00:00Z"));
  EXPECT_EQ(*ParseTimestamp("2026-11-25T05:00:00-0500"), *ParseTimestamp("2026-11-25T10:00:00Z"));
}

TEST(ParseTimestamp, DateOnlyAndNoOffsetMeanUtc) {
  EXPECT_EQ(*ParseTimestamp("1970-01-02"), kMicrosPerDay);
  EXPECT_EQ(*ParseTimestamp("1970-01-01T00:00:01"), kMicrosPerSecond);
}

TEST(ParseTimestamp, RejectsNonsense) {
  for (const char* bad : {"", "yesterday", "2026-13-01T00:00:00Z", "2026-02-30", "2026-11-25T25:00:00Z",
                          "2026-11-25T10:00:00Q", "2026-11-25T10:00:00.Z", "1700000000"}) {
    EXPECT_FALSE(ParseTimestamp(bad).has_value()) << bad;
  }
}

// The ...Z layout has a fast path of its own; the same instant written with
// an offset goes through the general parser.
TEST(ParseTimestamp, TheZuluLayoutAgreesWithTheGeneralParser) {
  uint64_t x = 88172645463325252u;  // xorshift: a fixed spread of instants, 1900 to 2100
  for (int i = 0; i < 20000; ++i) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    const Micros t = -2'208'988'800'000'000 + static_cast<Micros>(x % 6'311'433'600'000'000);
    const std::string zulu = FormatTimestamp(t);  // ".mmmZ" or ".uuuuuuZ"
    std::string offset = zulu;
    offset.replace(offset.size() - 1, 1, "+00:00");
    ASSERT_EQ(ParseTimestamp(zulu), t) << zulu;
    ASSERT_EQ(ParseTimestamp(offset), t) << offset;
    const std::string whole_seconds = zulu.substr(0, 19) + "Z";
    ASSERT_EQ(ParseTimestamp(whole_seconds), ParseTimestamp(zulu.substr(0, 19) + "+00:00")) << whole_seconds;
  }
  EXPECT_EQ(*ParseTimestamp("2026-11-25T10:00:00.1Z"), *ParseTimestamp("2026-11-25T10:00:00.100Z"));
  EXPECT_EQ(*ParseTimestamp("2026-11-25T10:00:60Z"), *ParseTimestamp("2026-11-25T10:01:00Z"));  // a leap second
  EXPECT_EQ(*ParseTimestamp("2026-11-25T10:00:00,5Z"), *ParseTimestamp("2026-11-25T10:00:00.5Z"));
  for (const char* bad : {"2026-11-25T10:00:00.Z", "2026-11-25T10:0a:00Z",
                          "2026-11-25T24:00:00Z", "2026-04-31T10:00:00Z", "2026-11-25T10:00:00.12x4Z"}) {
    EXPECT_FALSE(ParseTimestamp(bad).has_value()) << bad;
  }
}

TEST(ParseTimestamp, KnowsLeapYears) {
  EXPECT_TRUE(ParseTimestamp("2024-02-29").has_value());
  EXPECT_FALSE(ParseTimestamp("2026-02-29").has_value());
}

TEST(FormatTimestamp, KeepsMicrosecondsWhenPresent) {
  EXPECT_EQ(FormatTimestamp(1), "1970-01-01T00:00:00.000001Z");
  EXPECT_EQ(FormatTimestamp(-kMicrosPerSecond), "1969-12-31T23:59:59.000Z");
}

TEST(ParseDuration, ReadsEveryUnit) {
  EXPECT_EQ(*ParseDuration("30s"), 30 * kMicrosPerSecond);
  EXPECT_EQ(*ParseDuration("10m"), 10 * kMicrosPerMinute);
  EXPECT_EQ(*ParseDuration("2h"), 2 * kMicrosPerHour);
  EXPECT_EQ(*ParseDuration("7d"), 7 * kMicrosPerDay);
  EXPECT_EQ(*ParseDuration("1w"), 7 * kMicrosPerDay);
  EXPECT_EQ(*ParseDuration("250ms"), 250 * kMicrosPerMilli);
  EXPECT_EQ(*ParseDuration("1.5h"), 90 * kMicrosPerMinute);
}

TEST(ParseDuration, ExplainsMistakes) {
  auto no_unit = ParseDuration("10");
  ASSERT_FALSE(no_unit.ok());
  EXPECT_NE(no_unit.status().message().find("unit"), std::string::npos);
  EXPECT_FALSE(ParseDuration("ten minutes").ok());
  EXPECT_FALSE(ParseDuration("10 m").ok());
}

TEST(FormatDuration, UsesLargestExactUnit) {
  EXPECT_EQ(FormatDuration(10 * kMicrosPerMinute), "10m");
  EXPECT_EQ(FormatDuration(90 * kMicrosPerMinute), "90m");
  EXPECT_EQ(FormatDuration(2 * kMicrosPerDay), "2d");
}

}  // namespace
}  // namespace upfront
