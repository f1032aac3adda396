#include "src/runtime/recent_message_ids.h"

#include <gtest/gtest.h>

namespace upfront {
namespace {

TEST(RecentMessageIds, ClearsUnseenIdsAndFlagsSeenOnesWithinTheirWindow) {
  RecentMessageIds ids(100);
  ids.Add("a", 1000);
  EXPECT_TRUE(ids.MaybeSeenSince("a", 1000));
  EXPECT_TRUE(ids.MaybeSeenSince("a", 500));
  EXPECT_FALSE(ids.MaybeSeenSince("a", 1001));  // seen, but before the window
  EXPECT_FALSE(ids.MaybeSeenSince("b", 0));
}

TEST(RecentMessageIds, ExpiryForgetsOldIds) {
  RecentMessageIds ids(100);
  ids.Add("a", 1000);
  ids.Add("b", 2000);
  ids.ExpireBefore(1500);
  EXPECT_FALSE(ids.MaybeSeenSince("a", 0));
  EXPECT_TRUE(ids.MaybeSeenSince("b", 0));
}

TEST(RecentMessageIds, EvictionNarrowsWhatTheIndexCovers) {
  RecentMessageIds ids(2);
  EXPECT_LT(ids.covered_from(), 0);
  ids.Add("a", 10);
  ids.Add("b", 20);
  ids.Add("c", 30);  // evicts "a"
  EXPECT_EQ(ids.covered_from(), 11);
  EXPECT_FALSE(ids.MaybeSeenSince("a", 0));
}

}  // namespace
}  // namespace upfront
