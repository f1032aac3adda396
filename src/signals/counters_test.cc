#include "src/signals/counters.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <tuple>
#include <vector>

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

// Against the event times themselves: a window counts the events whose hour
// (day) is among its last k up to now's, of those the ring still holds (the
// `size` buckets up to the newest it has seen). Times on both sides of 1970.
TEST(EventCounter, CountsAgreeWithTheEventsThemselves) {
  uint64_t x = 2463534242u;
  const auto next = [&x] { return x ^= x << 13, x ^= x >> 7, x ^= x << 17; };
  const auto floor_div = [](Micros a, Micros b) { return a >= 0 ? a / b : -((-a + b - 1) / b); };
  for (int round = 0; round < 200; ++round) {
    EventCounter c(CounterShape{24, 30});
    std::vector<Micros> times;
    const Micros base = (round % 2 == 0 ? 1 : -1) * kT0 + static_cast<Micros>(next() % (5 * kDay));
    for (int i = 0; i < 40; ++i) {
      const Micros t = base + static_cast<Micros>(next() % (40 * kDay)) - 20 * kDay;
      c.Add(t);
      times.push_back(t);
    }
    for (int q = 0; q < 20; ++q) {
      const Micros now = base + static_cast<Micros>(next() % (60 * kDay)) - 30 * kDay;
      for (const auto& [width, k, size] : {std::tuple{kHour, Micros{1 + q % 24}, Micros{24}},
                                           std::tuple{kDay, Micros{3 + q % 28}, Micros{30}}}) {
        Micros newest = INT64_MIN;
        for (Micros t : times) newest = std::max(newest, floor_div(t, width));
        const Micros current = floor_div(now, width);
        int64_t expected = 0;
        for (Micros t : times) {
          const Micros b = floor_div(t, width);
          expected += b <= current && b > current - k && b > newest - size;
        }
        ASSERT_EQ(c.Count(now, k * width), expected) << "round " << round << " window " << k << "x" << width;
      }
    }
  }
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
