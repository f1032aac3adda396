#include "src/signals/counters.h"

#include <gtest/gtest.h>

#include <string>

namespace upfront {
namespace {

constexpr Micros kHour = kMicrosPerHour;
constexpr Micros kDay = kMicrosPerDay;
constexpr Micros kT0 = 20'000 * kDay;  // a UTC midnight

TEST(CheckCountWindow, WholeHoursUpTo48hThenWholeDaysUpTo92d) {
  EXPECT_TRUE(CheckCountWindow(kHour).ok());
  EXPECT_TRUE(CheckCountWindow(24 * kHour).ok());
  EXPECT_TRUE(CheckCountWindow(48 * kHour).ok());
  EXPECT_TRUE(CheckCountWindow(3 * kDay).ok());
  EXPECT_TRUE(CheckCountWindow(92 * kDay).ok());
  EXPECT_FALSE(CheckCountWindow(0).ok());
  EXPECT_FALSE(CheckCountWindow(50 * kHour).ok());
  EXPECT_FALSE(CheckCountWindow(93 * kDay).ok());
  EXPECT_EQ(CheckCountWindow(30 * kMicrosPerMinute).message(),
            "count window 30m cannot be counted: use whole hours up to 48h (1h, 6h, 24h) "
            "or whole days up to 92d (7d, 30d, 90d)");
}

TEST(EventCounter, ShapeKeepsOnlyWhatTheLongestWindowsNeed) {
  EXPECT_EQ(EventCounter::ForWindows({6 * kHour, 30 * kDay, 7 * kDay}), (CounterShape{6, 30}));
  EXPECT_EQ(EventCounter::ForWindows({kDay}), (CounterShape{24, 0}));
  EXPECT_EQ(EventCounter(CounterShape{6, 30}).shape(), (CounterShape{6, 30}));
}

TEST(EventCounter, HourWindowsCountTheCurrentHourAndWholeHoursBefore) {
  EventCounter c(EventCounter::ForWindows({6 * kHour}));
  const Micros now = kT0 + 10 * kHour + 30 * kMicrosPerMinute;
  c.Add(now - 10 * kMicrosPerMinute);              // this hour
  c.Add(kT0 + 10 * kHour);                         // this hour, at its start
  c.Add(kT0 + 9 * kHour + 59 * kMicrosPerMinute);  // the hour before
  c.Add(kT0 + 5 * kHour);                          // 6th hour back: the oldest in a 6h window
  c.Add(kT0 + 5 * kHour - 1);                      // just outside
  EXPECT_EQ(c.Count(now, kHour), 2);
  EXPECT_EQ(c.Count(now, 2 * kHour), 3);
  EXPECT_EQ(c.Count(now, 6 * kHour), 4);
  EXPECT_EQ(c.Count(now, 7 * kHour), -1);  // not kept
  EXPECT_EQ(c.Count(now, 30 * kDay), -1);
}

TEST(EventCounter, DayWindowsCountTodayAndWholeDaysBeforeNeverMore) {
  EventCounter c(EventCounter::ForWindows({30 * kDay}));
  const Micros now = kT0 + 100 * kDay + 15 * kHour;
  c.Add(kT0 + 100 * kDay);     // today
  c.Add(kT0 + 71 * kDay);      // 29 days before today: inside 30d
  c.Add(kT0 + 71 * kDay - 1);  // day 70: outside
  c.Add(kT0 + 95 * kDay + 3 * kHour);
  EXPECT_EQ(c.Count(now, 30 * kDay), 3);
  EXPECT_EQ(c.Count(now, 3 * kDay), 1);
  EXPECT_EQ(c.Count(now + kDay, 30 * kDay), 2);  // tomorrow day 71 has left the window
}

TEST(EventCounter, LateEventsLandInTheirBucketAndTooOldOnesAreDropped) {
  EventCounter c(EventCounter::ForWindows({3 * kDay}));
  EXPECT_TRUE(c.Add(kT0 + 10 * kDay));
  EXPECT_TRUE(c.Add(kT0 + 9 * kDay));   // late, still in the ring
  EXPECT_FALSE(c.Add(kT0 + 7 * kDay));  // 3 buckets: days 8..10
  EXPECT_EQ(c.Count(kT0 + 10 * kDay, 3 * kDay), 2);
}

TEST(EventCounter, OldBucketsRollOffAsTimeMovesOn) {
  EventCounter c(EventCounter::ForWindows({3 * kDay, 2 * kHour}));
  for (int day = 0; day < 10; ++day) c.Add(kT0 + day * kDay);
  EXPECT_EQ(c.Count(kT0 + 9 * kDay, 3 * kDay), 3);
  EXPECT_EQ(c.Count(kT0 + 9 * kDay, 2 * kHour), 1);
  EXPECT_EQ(c.Count(kT0 + 11 * kDay, 3 * kDay), 1);
  EXPECT_EQ(c.Count(kT0 + 12 * kDay, 3 * kDay), 0);
  EXPECT_EQ(EventCounter().Count(kT0, kDay), -1);
}

TEST(EventCounter, EncodeDecodeKeepsCountsEvenIntoAnotherShape) {
  EventCounter c(EventCounter::ForWindows({30 * kDay, 6 * kHour}));
  for (int day = 0; day < 40; ++day) c.Add(kT0 + day * kDay + 12 * kHour);
  const Micros now = kT0 + 39 * kDay + 13 * kHour;
  std::string buf;
  Encoder e(&buf);
  c.Encode(&e);

  EventCounter same(c.shape());
  Decoder d(buf);
  ASSERT_TRUE(same.Decode(&d));
  EXPECT_EQ(same.Count(now, 30 * kDay), 30);
  EXPECT_EQ(same.Count(now, 6 * kHour), 1);

  EventCounter smaller(EventCounter::ForWindows({7 * kDay}));
  Decoder d2(buf);
  ASSERT_TRUE(smaller.Decode(&d2));
  EXPECT_EQ(smaller.Count(now, 7 * kDay), 7);

  Decoder truncated(std::string_view(buf).substr(0, buf.size() - 2));
  EXPECT_FALSE(same.Decode(&truncated));
}

}  // namespace
}  // namespace upfront
