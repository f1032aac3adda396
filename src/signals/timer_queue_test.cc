#include "src/signals/timer_queue.h"

#include <gtest/gtest.h>

#include <string>

namespace upfront {
namespace {

TEST(TimerQueue, PopsInDueThenSignalThenInputOrder) {
  TimerQueue q;
  q.Schedule(300, 0, 0);
  q.Schedule(100, 2, 1);
  q.Schedule(100, 1, 3);
  q.Schedule(100, 2, 0);
  EXPECT_EQ(q.NextDue(), 100);
  SignalTimer t;
  ASSERT_TRUE(q.PopDue(1000, &t));
  EXPECT_EQ(t, (SignalTimer{100, 1, 3}));
  ASSERT_TRUE(q.PopDue(1000, &t));
  EXPECT_EQ(t, (SignalTimer{100, 2, 0}));
  ASSERT_TRUE(q.PopDue(1000, &t));
  EXPECT_EQ(t, (SignalTimer{100, 2, 1}));
  ASSERT_TRUE(q.PopDue(1000, &t));
  EXPECT_EQ(t, (SignalTimer{300, 0, 0}));
  EXPECT_FALSE(q.PopDue(1000, &t));
  EXPECT_EQ(q.NextDue(), kNever);
}

TEST(TimerQueue, ATimerIsDueAtExactlyItsDueTime) {
  TimerQueue q;
  q.Schedule(500, 0, 0);
  SignalTimer t;
  EXPECT_FALSE(q.PopDue(499, &t));
  EXPECT_TRUE(q.PopDue(500, &t));
  EXPECT_EQ(t.due, 500);
}

TEST(TimerQueue, ScheduleReplacesAndCancelRemovesOneInputsTimer) {
  TimerQueue q;
  q.Schedule(100, 1, 0);
  q.Schedule(200, 1, 1);
  q.Schedule(400, 1, 0);  // restart: replaces 100
  EXPECT_EQ(q.size(), 2u);
  EXPECT_EQ(q.NextDue(), 200);
  ASSERT_NE(q.Find(1, 0), nullptr);
  EXPECT_EQ(q.Find(1, 0)->due, 400);
  q.Cancel(1, 1);
  q.Cancel(7, 7);  // nothing pending: no-op
  EXPECT_EQ(q.size(), 1u);
  EXPECT_EQ(q.NextDue(), 400);
  EXPECT_EQ(q.Find(1, 1), nullptr);
}

TEST(TimerQueue, EncodeDecodeRoundTrips) {
  TimerQueue q;
  q.Schedule(1'700'000'000'000'000, 3, 1);
  q.Schedule(-5, 0, 7);
  std::string buf;
  Encoder e(&buf);
  q.Encode(&e);
  TimerQueue back;
  Decoder d(buf);
  ASSERT_TRUE(back.Decode(&d));
  EXPECT_EQ(back.pending(), q.pending());

  Decoder truncated(std::string_view(buf).substr(0, buf.size() - 1));
  EXPECT_FALSE(back.Decode(&truncated));
  EXPECT_TRUE(back.empty());
}

}  // namespace
}  // namespace upfront
