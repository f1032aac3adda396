#include "src/signals/patterns.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <utility>
#include <vector>

namespace upfront {
namespace {

constexpr Micros kMin = kMicrosPerMinute;
constexpr Micros kDay = kMicrosPerDay;
constexpr Micros kT0 = 20'000 * kDay;  // a UTC midnight

// ---------------------------------------------------------------- repeat

TEST(RepeatPattern, FiresOnTheNthEventWithTheSameKeyWithinTheWindow) {
  RepeatPattern r;
  Micros fired = 0;
  EXPECT_FALSE(r.OnEvent(/*key=*/1, kT0, 3, 5 * kMin, &fired));
  EXPECT_FALSE(r.OnEvent(2, kT0 + kMin, 3, 5 * kMin, &fired));  // another step
  EXPECT_FALSE(r.OnEvent(1, kT0 + 2 * kMin, 3, 5 * kMin, &fired));
  EXPECT_TRUE(r.OnEvent(1, kT0 + 3 * kMin, 3, 5 * kMin, &fired));
  EXPECT_EQ(fired, kT0 + 3 * kMin);
  EXPECT_EQ(r.key_count(), 2u);
}

TEST(RepeatPattern, WithinIsInclusiveAtTheBoundary) {
  RepeatPattern exact, over;
  Micros fired = 0;
  exact.OnEvent(1, kT0, 3, 5 * kMin, &fired);
  exact.OnEvent(1, kT0 + kMin, 3, 5 * kMin, &fired);
  EXPECT_TRUE(exact.OnEvent(1, kT0 + 5 * kMin, 3, 5 * kMin, &fired));  // t_last - t_first == W

  over.OnEvent(1, kT0, 3, 5 * kMin, &fired);
  over.OnEvent(1, kT0 + kMin, 3, 5 * kMin, &fired);
  EXPECT_FALSE(over.OnEvent(1, kT0 + 5 * kMin + 1, 3, 5 * kMin, &fired));
  // The oldest fell out; the two later ones plus one more make a window.
  EXPECT_EQ(over.TimesOf(1, 3), (std::vector<Micros>{kT0 + kMin, kT0 + 5 * kMin + 1}));
  EXPECT_TRUE(over.OnEvent(1, kT0 + 6 * kMin, 3, 5 * kMin, &fired));
}

TEST(RepeatPattern, FiringStartsTheKeysWindowOver) {
  RepeatPattern r;
  Micros fired = 0;
  int fires = 0;
  for (int i = 0; i < 7; ++i) fires += r.OnEvent(1, kT0 + i * kMin / 10, 3, 5 * kMin, &fired);
  EXPECT_EQ(fires, 2);  // on the 3rd and the 6th, not on every event after the 3rd
  EXPECT_EQ(r.TimesOf(1, 3).size(), 1u);
}

TEST(RepeatPattern, AnOutOfOrderEventCompletesTheWindowAtTheLatestTime) {
  RepeatPattern r;
  Micros fired = 0;
  r.OnEvent(1, kT0 + 2 * kMin, 3, 5 * kMin, &fired);
  r.OnEvent(1, kT0 + 4 * kMin, 3, 5 * kMin, &fired);
  EXPECT_TRUE(r.OnEvent(1, kT0 + 1 * kMin, 3, 5 * kMin, &fired));  // late
  EXPECT_EQ(fired, kT0 + 4 * kMin);
}

TEST(RepeatPattern, KeepsAtMostKKeysEvictingTheLeastRecent) {
  RepeatPattern r;
  Micros fired = 0;
  for (int k = 0; k < kRepeatKeys; ++k) r.OnEvent(100 + k, kT0 + k, 3, 5 * kMin, &fired);
  r.OnEvent(100, kT0 + 50, 3, 5 * kMin, &fired);  // key 100 is now recent; 101 is the oldest
  EXPECT_EQ(r.key_count(), static_cast<size_t>(kRepeatKeys));
  r.OnEvent(999, kT0 + 60, 3, 5 * kMin, &fired);
  EXPECT_EQ(r.key_count(), static_cast<size_t>(kRepeatKeys));
  EXPECT_TRUE(r.TimesOf(101, 3).empty());
  EXPECT_EQ(r.TimesOf(100, 3).size(), 2u);
  EXPECT_EQ(r.TimesOf(999, 3), (std::vector<Micros>{kT0 + 60}));
}

TEST(RepeatPattern, EncodeDecodeKeepsTheWindows) {
  RepeatPattern r;
  Micros fired = 0;
  r.OnEvent(1, kT0, 3, 5 * kMin, &fired);
  r.OnEvent(1, kT0 + kMin, 3, 5 * kMin, &fired);
  r.OnEvent(2, kT0 + kMin, 3, 5 * kMin, &fired);
  std::string buf;
  Encoder e(&buf);
  r.Encode(&e, 3);
  RepeatPattern back;
  Decoder d(buf);
  ASSERT_TRUE(back.Decode(&d, 3));
  EXPECT_EQ(back.TimesOf(1, 3), r.TimesOf(1, 3));
  EXPECT_TRUE(back.OnEvent(1, kT0 + 2 * kMin, 3, 5 * kMin, &fired));
  Decoder wrong_count(buf);
  EXPECT_FALSE(back.Decode(&wrong_count, 2));  // two times kept, room for one
}

// ---------------------------------------------------------------- abandon

constexpr Micros kWithin = 30 * kMin;

TEST(AbandonPattern, FiresAtTheDeadlineWhenBNeverCame) {
  AbandonPattern a;
  EXPECT_EQ(a.OnStart(kT0, kWithin, kNever, "m1"), AbandonPattern::Action::kArm);
  EXPECT_EQ(a.deadline(kWithin), kT0 + kWithin);
  EXPECT_TRUE(a.pending());
  EXPECT_TRUE(a.OnTimer(kT0 + kWithin, kWithin));
  EXPECT_EQ(a.start_message_id(), "m1");
  EXPECT_FALSE(a.pending());
  EXPECT_FALSE(a.OnTimer(kT0 + kWithin, kWithin));  // once
}

TEST(AbandonPattern, BAtExactlyTheDeadlineCancelsButNotAfter) {
  AbandonPattern on_time, too_late;
  on_time.OnStart(kT0, kWithin, kNever, "m1");
  EXPECT_TRUE(on_time.OnUnless(kT0 + kWithin, kWithin));
  EXPECT_FALSE(on_time.OnTimer(kT0 + kWithin, kWithin));

  too_late.OnStart(kT0, kWithin, kNever, "m1");
  EXPECT_FALSE(too_late.OnUnless(kT0 + kWithin + 1, kWithin));
  EXPECT_TRUE(too_late.OnTimer(kT0 + kWithin, kWithin));
}

TEST(AbandonPattern, ALaterARestartsTheClockAndTheOldTimerIsStale) {
  AbandonPattern a;
  a.OnStart(kT0, kWithin, kNever, "m1");
  EXPECT_EQ(a.OnStart(kT0 + 10 * kMin, kWithin, kNever, "m2"), AbandonPattern::Action::kArm);
  EXPECT_EQ(a.deadline(kWithin), kT0 + 40 * kMin);
  EXPECT_FALSE(a.OnTimer(kT0 + kWithin, kWithin));  // the first A's deadline
  EXPECT_TRUE(a.OnTimer(kT0 + 40 * kMin, kWithin));
  EXPECT_EQ(a.start_message_id(), "m2");
  // An A older than the latest changes nothing.
  EXPECT_EQ(a.OnStart(kT0 + 5 * kMin, kWithin, kNever, "m0"), AbandonPattern::Action::kNone);
}

TEST(AbandonPattern, BBeforeADoesNotCancelButAnOutOfOrderBAfterADoes) {
  AbandonPattern before;
  before.OnUnless(kT0 - 1, kWithin);
  EXPECT_EQ(before.OnStart(kT0, kWithin, kNever, "m1"), AbandonPattern::Action::kArm);

  AbandonPattern out_of_order;  // B (at +5m) arrives before the late A (at 0)
  EXPECT_FALSE(out_of_order.OnUnless(kT0 + 5 * kMin, kWithin));
  EXPECT_EQ(out_of_order.OnStart(kT0, kWithin, kT0 + 5 * kMin, "m1"),
            AbandonPattern::Action::kDisarm);
  EXPECT_FALSE(out_of_order.pending());
}

TEST(AbandonPattern, AnAWhoseDeadlineHasPassedDoesNotArm) {
  AbandonPattern a;
  EXPECT_EQ(a.OnStart(kT0, kWithin, /*advanced_to=*/kT0 + kWithin, "m1"),
            AbandonPattern::Action::kDisarm);
  EXPECT_EQ(a.OnStart(kT0 + 1, kWithin, kT0 + kWithin, "m2"), AbandonPattern::Action::kArm);
}

TEST(AbandonPattern, EncodeDecodeKeepsThePendingAbandonment) {
  AbandonPattern a;
  a.OnStart(kT0, kWithin, kNever, "message-1");
  std::string buf;
  Encoder e(&buf);
  a.Encode(&e);
  AbandonPattern back;
  Decoder d(buf);
  ASSERT_TRUE(back.Decode(&d));
  EXPECT_TRUE(back.pending());
  EXPECT_EQ(back.start_message_id(), "message-1");
  EXPECT_TRUE(back.OnTimer(kT0 + kWithin, kWithin));
}

// ---------------------------------------------------------------- rate change

RateChangeInput UsageDrop() {
  return RateChangeInput{.event = "Session Started",
                         .short_window = 7 * kDay,
                         .long_window = 28 * kDay,
                         .drop = 0.6,
                         .min_baseline_count = 4};
}

// Two events a day (00:00 and 12:00) on days [from, to).
void AddDaily(RateChangePattern* r, int from, int to) {
  for (int day = from; day < to; ++day) {
    ASSERT_TRUE(r->Add(kT0 + day * kDay));
    ASSERT_TRUE(r->Add(kT0 + day * kDay + kDay / 2));
  }
}

TEST(RateChangePattern, CountsAWindowOfWholeDaysInterpolatingTheOldestDay) {
  RateChangePattern r;
  for (int i = 0; i < 4; ++i) r.Add(kT0 + i * kMicrosPerHour);  // 4 on day 0
  r.Add(kT0 + 3 * kDay);                                        // 1 on day 3
  // At day 7 06:00 a 7-day window reaches back to day 0 06:00: 3/4 of day 0.
  EXPECT_NEAR(r.Count(kT0 + 7 * kDay + 6 * kMicrosPerHour, 7), 1 + 4 * 0.75, 1e-12);
  EXPECT_NEAR(r.Count(kT0 + 7 * kDay, 7), 5, 1e-12);              // at midnight: exactly days 0..6
  EXPECT_NEAR(r.Count(kT0 + 3 * kDay, 1), 4 * 0 + 1 + 0, 1e-12);  // today (day 3) + none of day 2
  EXPECT_NEAR(r.Count(kT0 + 8 * kDay, 7), 1, 1e-12);
}

TEST(RateChangePattern, FiresWhenTheShortRateDropsBelowTheBaseline) {
  RateChangePattern r;
  AddDaily(&r, 0, 21);  // 2/day for three weeks: 42 events
  r.Add(kT0 + 21 * kDay);
  r.Add(kT0 + 23 * kDay);
  r.Add(kT0 + 25 * kDay);  // then 3 in a week
  double drop = 0;
  // At day 28: short = 3/7 a day; baseline = 42 over 21 days = 2 a day;
  // 3/7 <= 0.4 × 2, so it fires with drop 1 - (3/7)/2.
  ASSERT_TRUE(r.Evaluate(kT0 + 28 * kDay, UsageDrop(), &drop));
  EXPECT_NEAR(drop, 78.57142857142857, 1e-9);
  EXPECT_EQ(r.last_fired(), kT0 + 28 * kDay);
}

TEST(RateChangePattern, AModestDipDoesNotFire) {
  RateChangePattern r;
  AddDaily(&r, 0, 21);
  for (int day = 21; day < 28; ++day) r.Add(kT0 + day * kDay);  // 1/day: half the baseline
  double drop = 0;
  EXPECT_FALSE(r.Evaluate(kT0 + 28 * kDay, UsageDrop(), &drop));  // 1 > 0.4 × 2
}

TEST(RateChangePattern, NeedsAFullShortWindowOfHistoryBeforeTheShortWindow) {
  RateChangePattern r;
  AddDaily(&r, 0, 7);  // one busy week, then silence
  double drop = 0;
  // history 13d 23h59m < 2 × 7d
  EXPECT_FALSE(r.Evaluate(kT0 + 14 * kDay - 1, UsageDrop(), &drop));
  // Exactly 14 days of history: the baseline is the first week (14 events).
  EXPECT_TRUE(r.Evaluate(kT0 + 14 * kDay, UsageDrop(), &drop));
  EXPECT_NEAR(drop, 100, 1e-9);
}

TEST(RateChangePattern, NeedsAMinimumBaselineCount) {
  RateChangePattern r;
  r.Add(kT0);
  r.Add(kT0 + kDay);
  r.Add(kT0 + 2 * kDay);  // 3 < min_baseline_count 4
  double drop = 0;
  EXPECT_FALSE(r.Evaluate(kT0 + 20 * kDay, UsageDrop(), &drop));
  r.Add(kT0 + 3 * kDay);
  EXPECT_TRUE(r.Evaluate(kT0 + 20 * kDay, UsageDrop(), &drop));
}

TEST(RateChangePattern, ALastingDropContributesOncePerShortWindow) {
  RateChangePattern r;
  AddDaily(&r, 0, 21);
  double drop = 0;
  ASSERT_TRUE(r.Evaluate(kT0 + 26 * kDay, UsageDrop(), &drop));
  EXPECT_FALSE(r.Evaluate(kT0 + 27 * kDay, UsageDrop(), &drop));
  EXPECT_FALSE(r.Evaluate(kT0 + 33 * kDay - 1, UsageDrop(), &drop));
  EXPECT_TRUE(r.Evaluate(kT0 + 33 * kDay, UsageDrop(), &drop));
}

TEST(RateChangePattern, IsActiveWhileTheLongWindowHoldsEvents) {
  RateChangePattern r;
  EXPECT_FALSE(r.Active(kT0, 28 * kDay));
  r.Add(kT0 + kDay / 2);
  EXPECT_TRUE(r.Active(kT0 + 28 * kDay, 28 * kDay));
  EXPECT_FALSE(r.Active(kT0 + 29 * kDay, 28 * kDay));
}

TEST(RateChangePattern, NextCheckSkipsTheMidnightsThatCannotFire) {
  RateChangePattern r;
  EXPECT_EQ(r.NextCheck(kT0, UsageDrop()), kNever);  // nothing seen
  for (int day = 0; day < 3; ++day) r.Add(kT0 + day * kDay + kDay / 2);
  EXPECT_EQ(r.NextCheck(kT0 + 3 * kDay, UsageDrop()), kNever);  // 3 < min_baseline 4
  r.Add(kT0 + 3 * kDay + kDay / 2);
  // Four events: no check before two short windows of history (day 14.5),
  // so the first is the midnight after.
  EXPECT_EQ(r.NextCheck(kT0 + 3 * kDay + kDay / 2, UsageDrop()), kT0 + 15 * kDay);
  // Strictly after `after`, even on a midnight.
  EXPECT_EQ(r.NextCheck(kT0 + 15 * kDay, UsageDrop()), kT0 + 16 * kDay);
  double drop = 0;
  ASSERT_TRUE(r.Evaluate(kT0 + 16 * kDay, UsageDrop(), &drop));
  // After a contribution, the next one is a short window later.
  EXPECT_EQ(r.NextCheck(kT0 + 16 * kDay, UsageDrop()), kT0 + 23 * kDay);
  // Once the long window holds fewer than four, the rule is quiet (day 0's
  // event leaves it at day 28.5).
  EXPECT_EQ(r.NextCheck(kT0 + 27 * kDay, UsageDrop()), kT0 + 28 * kDay);
  EXPECT_EQ(r.NextCheck(kT0 + 28 * kDay, UsageDrop()), kNever);
}

// Checking only at NextCheck's midnights finds exactly what checking every
// midnight finds, for customers whose use rises, fades and stops at random.
TEST(RateChangePattern, CheckingAtNextCheckFindsWhatADailyCheckFinds) {
  std::mt19937_64 random(11);
  int contributions = 0;
  for (int customer = 0; customer < 200; ++customer) {
    RateChangePattern daily, planned;
    std::vector<std::pair<Micros, double>> found_daily, found_planned;
    Micros next = kNever;
    const int active_days = static_cast<int>(random() % 40);
    const int per_day = 1 + static_cast<int>(random() % 4);
    for (int day = 0; day < 80; ++day) {
      const Micros midnight = kT0 + day * kDay;
      double drop = 0;
      if (daily.Evaluate(midnight, UsageDrop(), &drop)) found_daily.emplace_back(midnight, drop);
      if (midnight == next) {
        if (planned.Evaluate(midnight, UsageDrop(), &drop)) found_planned.emplace_back(midnight, drop);
        next = planned.NextCheck(midnight, UsageDrop());
      }
      ASSERT_TRUE(next == kNever || next > midnight);
      // Use at full rate, then fading to a tenth, then now and then.
      const int events = day < active_days ? per_day : day < active_days + 10 ? static_cast<int>(random() % 2)
                                                                              : static_cast<int>(random() % 8 == 0);
      for (int e = 0; e < events; ++e) {
        const Micros t = midnight + static_cast<Micros>(random() % kDay);
        daily.Add(t);
        planned.Add(t);
        if (daily.Evaluate(t, UsageDrop(), &drop)) found_daily.emplace_back(t, drop);
        if (planned.Evaluate(t, UsageDrop(), &drop)) found_planned.emplace_back(t, drop);
        next = planned.NextCheck(t, UsageDrop());
      }
    }
    EXPECT_EQ(found_planned, found_daily) << "customer " << customer;
    contributions += static_cast<int>(found_daily.size());
  }
  EXPECT_GT(contributions, 50);  // the comparison saw drops, not only silence
}

TEST(RateChangePattern, DropsEventsOlderThanItsBucketsAndRollsOldDaysOff) {
  RateChangePattern r;
  r.Add(kT0);
  r.Add(kT0 + 40 * kDay);
  EXPECT_FALSE(r.Add(kT0 + 5 * kDay));  // 35 days before the newest
  EXPECT_NEAR(r.Count(kT0 + 40 * kDay + kDay - 1, 31), 1, 1e-9);
  EXPECT_EQ(r.first_seen(), kT0);
}

TEST(RateChangePattern, EncodeDecodeRoundTrips) {
  RateChangePattern r;
  AddDaily(&r, 0, 21);
  r.Add(kT0 + 21 * kDay);
  r.Add(kT0 + 23 * kDay);
  r.Add(kT0 + 25 * kDay);
  std::string buf;
  Encoder e(&buf);
  r.Encode(&e);
  RateChangePattern back;
  Decoder d(buf);
  ASSERT_TRUE(back.Decode(&d));
  EXPECT_NEAR(back.Count(kT0 + 28 * kDay, 28), 45, 1e-12);
  double drop = 0;
  ASSERT_TRUE(back.Evaluate(kT0 + 28 * kDay, UsageDrop(), &drop));
  EXPECT_NEAR(drop, 78.57142857142857, 1e-9);
}

// ---------------------------------------------------------------- sequence

TEST(SequencePattern, AThenBWithinTFiresOnB) {
  SequencePattern s;
  Micros fired = 0;
  EXPECT_FALSE(s.OnFirst(kT0, 10 * kMin, &fired));
  EXPECT_TRUE(s.OnThen(kT0 + 10 * kMin, 10 * kMin));   // exactly T: inclusive
  EXPECT_FALSE(s.OnThen(kT0 + 11 * kMin, 10 * kMin));  // the A is used up
}

TEST(SequencePattern, BAfterTOrBeforeADoesNotFire) {
  SequencePattern late;
  Micros fired = 0;
  late.OnFirst(kT0, 10 * kMin, &fired);
  EXPECT_FALSE(late.OnThen(kT0 + 10 * kMin + 1, 10 * kMin));

  SequencePattern reversed;
  EXPECT_FALSE(reversed.OnThen(kT0, 10 * kMin));
  EXPECT_FALSE(reversed.OnFirst(kT0 + 1, 10 * kMin, &fired));
}

TEST(SequencePattern, AnOutOfOrderAPairsWithTheBSeenBeforeIt) {
  SequencePattern s;
  Micros fired = 0;
  EXPECT_FALSE(s.OnThen(kT0 + 5 * kMin, 10 * kMin));
  EXPECT_TRUE(s.OnFirst(kT0, 10 * kMin, &fired));
  EXPECT_EQ(fired, kT0 + 5 * kMin);
  EXPECT_FALSE(s.OnFirst(kT0 + 1, 10 * kMin, &fired));  // the B is used up
}

TEST(SequencePattern, EncodeDecodeKeepsTheWaitingA) {
  SequencePattern s;
  Micros fired = 0;
  s.OnFirst(kT0, 10 * kMin, &fired);
  std::string buf;
  Encoder e(&buf);
  s.Encode(&e);
  SequencePattern back;
  Decoder d(buf);
  ASSERT_TRUE(back.Decode(&d));
  EXPECT_TRUE(back.OnThen(kT0 + kMin, 10 * kMin));
}

}  // namespace
}  // namespace upfront
