#include "src/decide/local_time.h"

#include <gtest/gtest.h>

#include "src/common/time_format.h"

namespace upfront {
namespace {

Micros At(const char* text) { return *ParseTimestamp(text); }

TEST(LocalClock, TheSameInstantIsADifferentHourAndDayByZone) {
  LocalClock clock("UTC");
  const Micros t = At("2026-11-25T22:30:00Z");
  EXPECT_EQ(clock.At("Asia/Tokyo", t).minute_of_day, 7 * 60 + 30);  // 07:30 on the 26th
  EXPECT_EQ(clock.At("Europe/Madrid", t).minute_of_day, 23 * 60 + 30);
  EXPECT_EQ(clock.At("Asia/Tokyo", t).day, clock.At("Europe/Madrid", t).day + 1);
  EXPECT_EQ(clock.At("", t).minute_of_day, 22 * 60 + 30);          // the default zone
  EXPECT_EQ(clock.At("Not/AZone", t).minute_of_day, 22 * 60 + 30);  // falls back to it
}

TEST(LocalClock, WeeksStartOnMonday) {
  LocalClock clock("UTC");
  const auto week = [&](const char* t) { return clock.At("UTC", At(t)).week; };
  EXPECT_EQ(week("2026-11-23T00:00:00Z"), week("2026-11-29T23:59:59Z"));  // Monday..Sunday
  EXPECT_EQ(week("2026-11-30T00:00:00Z"), week("2026-11-29T23:59:59Z") + 1);
}

TEST(LocalClock, NextMinuteOfDayIsInTheCustomersZoneAndAcrossDst) {
  LocalClock clock("UTC");
  // 22:00 in Madrid (21:00 UTC): the next 08:00 there is 07:00 UTC.
  EXPECT_EQ(FormatTimestamp(clock.NextMinuteOfDay("Europe/Madrid", At("2026-11-25T21:00:00Z"), 8 * 60)),
            "2026-11-26T07:00:00.000Z");
  // The night summer time starts (29 March 2026): 08:00 is then UTC+2.
  EXPECT_EQ(FormatTimestamp(clock.NextMinuteOfDay("Europe/Madrid", At("2026-03-28T22:00:00Z"), 8 * 60)),
            "2026-03-29T06:00:00.000Z");
}

TEST(QuietHours, WindowsMayWrapMidnight) {
  EXPECT_TRUE(InQuietHours(22 * 60, 21 * 60, 8 * 60));
  EXPECT_TRUE(InQuietHours(7 * 60 + 59, 21 * 60, 8 * 60));
  EXPECT_FALSE(InQuietHours(8 * 60, 21 * 60, 8 * 60));
  EXPECT_TRUE(InQuietHours(13 * 60, 12 * 60, 14 * 60));
  EXPECT_FALSE(InQuietHours(14 * 60, 12 * 60, 14 * 60));
}

}  // namespace
}  // namespace upfront
