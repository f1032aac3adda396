#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

#include "src/runtime/partition.h"

namespace upfront {
namespace {

constexpr uint64_t kEvery = 1000;

// The sequence numbers at which `index` of `count` is due, walking the log
// one step at a time from 0 to `to`.
std::vector<uint64_t> SlotsUpTo(uint64_t to, int index, int count) {
  std::vector<uint64_t> due;
  for (uint64_t seq = 1; seq <= to; ++seq) {
    if (PassesCheckpointSlot(seq - 1, seq, index, count, kEvery)) due.push_back(seq);
  }
  return due;
}

TEST(CheckpointSlot, OnePartitionIsDueEveryInterval) {
  EXPECT_EQ(SlotsUpTo(3500, 0, 1), (std::vector<uint64_t>{1000, 2000, 3000}));
}

TEST(CheckpointSlot, PartitionsTakeTurns) {
  // Each is due once per count * every, offset by every from the last.
  EXPECT_EQ(SlotsUpTo(6500, 0, 2), (std::vector<uint64_t>{2000, 4000, 6000}));
  EXPECT_EQ(SlotsUpTo(6500, 1, 2), (std::vector<uint64_t>{1000, 3000, 5000}));
  EXPECT_EQ(SlotsUpTo(7000, 2, 3), (std::vector<uint64_t>{2000, 5000}));
}

TEST(CheckpointSlot, AJumpOverASlotCountsOnce) {
  EXPECT_TRUE(PassesCheckpointSlot(900, 2900, 1, 2, kEvery));   // passes 1000
  EXPECT_FALSE(PassesCheckpointSlot(1000, 2999, 1, 2, kEvery));  // 1000 was already taken
  EXPECT_TRUE(PassesCheckpointSlot(1000, 3000, 1, 2, kEvery));
  EXPECT_FALSE(PassesCheckpointSlot(2500, 2500, 0, 2, kEvery));
}

TEST(CheckpointSlot, AnEarlierCheckpointDoesNotShiftTheTurn) {
  // An idle checkpoint at 1500 leaves partition 0 due at 2000 as before,
  // so the partitions stay apart.
  EXPECT_TRUE(PassesCheckpointSlot(1500, 2000, 0, 2, kEvery));
  EXPECT_FALSE(PassesCheckpointSlot(1500, 1999, 0, 2, kEvery));
}

}  // namespace
}  // namespace upfront
