#include "src/runtime/spsc_ring.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace upfront {
namespace {

TEST(SpscRing, DeliversEveryItemInOrderAcrossThreads) {
  SpscRing<uint64_t> ring(8);  // small, so the producer has to wait for the consumer
  constexpr uint64_t kItems = 200000;
  std::atomic<bool> done{false};
  uint64_t expected = 0;
  bool in_order = true;
  std::thread consumer([&] {
    while (expected < kItems) {
      if (uint64_t* v = ring.Front()) {
        in_order &= *v == expected;
        ++expected;
        ring.Pop();
      } else {
        ring.Sleep([&] { return done.load(); });
      }
    }
  });
  for (uint64_t i = 0; i < kItems; ++i) {
    *ring.BeginPush() = i;
    ring.EndPush();
  }
  consumer.join();
  EXPECT_TRUE(in_order);
  EXPECT_EQ(expected, kItems);
  EXPECT_GT(ring.producer_waits(), 0u);
}

// The producer of a full ring sleeps (rather than spinning) until the
// consumer has made room, and the pops that make it wake it.
TEST(SpscRing, AProducerOfAFullRingSleepsUntilTheConsumerMakesRoom) {
  SpscRing<int> ring(4);
  for (int i = 0; i < 4; ++i) {
    *ring.BeginPush() = i;
    ring.EndPush();
  }
  std::atomic<bool> pushed{false};
  std::thread producer([&] {
    *ring.BeginPush() = 4;
    ring.EndPush();
    pushed.store(true);
  });
  while (ring.producer_waits() == 0) std::this_thread::yield();
  EXPECT_FALSE(pushed.load()) << "pushed into a full ring";
  std::vector<int> received;
  while (received.size() < 5) {
    if (int* v = ring.Front()) {
      received.push_back(*v);
      ring.Pop();
    } else {
      std::this_thread::yield();  // the producer is being woken
    }
  }
  producer.join();
  EXPECT_EQ(received, (std::vector<int>{0, 1, 2, 3, 4}));
  EXPECT_EQ(ring.producer_waits(), 1u);
}

TEST(SpscRing, WakeInterruptsASleepingConsumer) {
  SpscRing<int> ring(4);
  std::atomic<bool> flag{false};
  std::thread consumer([&] {
    while (!flag.load()) ring.Sleep([&] { return flag.load(); });
  });
  flag.store(true);
  ring.Wake();
  consumer.join();
}


TEST(SpscRing, SleepForReturnsFalseOnceTheTimeoutElapsesWithNothingToDo) {
  SpscRing<int> ring(4);
  EXPECT_FALSE(ring.SleepFor(std::chrono::milliseconds(1), [] { return false; }));
  EXPECT_EQ(ring.Front(), nullptr);
}

TEST(SpscRing, SleepForReturnsAtOnceWhenWorkIsAlreadyThere) {
  SpscRing<int> ring(4);
  // Hours: if either call waited for the timeout, the test would not end.
  EXPECT_TRUE(ring.SleepFor(std::chrono::hours(1), [] { return true; }));
  *ring.BeginPush() = 7;
  ring.EndPush();
  EXPECT_TRUE(ring.SleepFor(std::chrono::hours(1), [] { return false; }));
}

// Many rounds of publish-and-answer, so that some publications land while
// the consumer is inside the futex wait and some just before it. A sleep may
// end for a wake-up of the round before (its work already taken), but none
// may end by the timeout: that would be a lost wake-up.
TEST(SpscRing, SleepForIsEndedByEveryPublishedItem) {
  SpscRing<int> ring(4);
  constexpr int kRounds = 2000;
  std::atomic<int> answered{0};
  int received_in_order = 0;
  bool timed_out = false;
  std::thread consumer([&] {
    for (int i = 0; i < kRounds && !timed_out; ++i) {
      while (ring.Front() == nullptr && !timed_out) {
        timed_out = !ring.SleepFor(std::chrono::seconds(10), [] { return false; });
      }
      if (int* item = ring.Front()) {
        received_in_order += *item == i;
        ring.Pop();
      }
      answered.store(i + 1);
    }
    answered.store(kRounds);  // let the producer finish either way
  });
  for (int i = 0; i < kRounds && answered.load() == i; ++i) {
    *ring.BeginPush() = i;
    ring.EndPush();
    while (answered.load() == i) std::this_thread::yield();
  }
  consumer.join();
  EXPECT_FALSE(timed_out) << "a publication did not end the sleep";
  EXPECT_EQ(received_in_order, kRounds);
}

TEST(SpscRing, SleepForIsEndedByEveryWake) {
  SpscRing<int> ring(4);
  constexpr int kRounds = 2000;
  std::atomic<int> requested{0};
  std::atomic<int> answered{0};
  int requests_seen = 0;
  bool timed_out = false;
  std::thread consumer([&] {
    for (int i = 0; i < kRounds && !timed_out; ++i) {
      while (requested.load() == i && !timed_out) {
        timed_out = !ring.SleepFor(std::chrono::seconds(10), [&] { return requested.load() > i; });
      }
      requests_seen += requested.load() == i + 1;
      answered.store(i + 1);
    }
    answered.store(kRounds);
  });
  for (int i = 0; i < kRounds && answered.load() == i; ++i) {
    requested.store(i + 1);
    ring.Wake();
    while (answered.load() == i) std::this_thread::yield();
  }
  consumer.join();
  EXPECT_FALSE(timed_out) << "a Wake() did not end the sleep";
  EXPECT_EQ(requests_seen, kRounds);
  EXPECT_EQ(ring.Front(), nullptr);
}

}  // namespace
}  // namespace upfront
