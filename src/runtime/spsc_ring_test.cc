#include "src/runtime/spsc_ring.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

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

}  // namespace
}  // namespace upfront
