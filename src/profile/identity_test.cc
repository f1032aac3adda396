#include "src/profile/identity.h"

#include <gtest/gtest.h>

namespace upfront {
namespace {

Event Make(EventType type, std::string user, std::string anon, std::string previous = "") {
  Event e;
  e.type = type;
  e.user_id = std::move(user);
  e.anonymous_id = std::move(anon);
  e.previous_id = std::move(previous);
  return e;
}

TEST(IdentityIndex, UnmergedIdsAreTheirOwnProfiles) {
  IdentityIndex index;
  Routing r;
  std::vector<std::pair<std::string, std::string>> changes;
  index.Route(Make(EventType::kTrack, "", "anon"), &r, &changes);
  EXPECT_EQ(r.canonical, "anon");
  index.Route(Make(EventType::kTrack, "user", "anon"), &r, &changes);
  EXPECT_EQ(r.canonical, "user");
  EXPECT_TRUE(r.merge_from.empty());
  EXPECT_TRUE(changes.empty());
  EXPECT_EQ(index.merged_ids(), 0u);
}

TEST(IdentityIndex, IdentifyWithBothIdsMergesAnonymousIntoKnown) {
  IdentityIndex index;
  Routing r;
  std::vector<std::pair<std::string, std::string>> changes;
  index.Route(Make(EventType::kIdentify, "user", "anon"), &r, &changes);
  EXPECT_EQ(r.canonical, "user");
  EXPECT_EQ(r.merge_from, "anon");
  EXPECT_EQ(changes, (std::vector<std::pair<std::string, std::string>>{{"anon", "user"}}));
  index.Route(Make(EventType::kTrack, "", "anon"), &r, &changes);
  EXPECT_EQ(r.canonical, "user");
  EXPECT_TRUE(r.merge_from.empty());
}

TEST(IdentityIndex, RepeatedIdentifyDoesNotMergeAgain) {
  IdentityIndex index;
  Routing r;
  std::vector<std::pair<std::string, std::string>> changes;
  index.Route(Make(EventType::kIdentify, "user", "anon"), &r, &changes);
  changes.clear();
  index.Route(Make(EventType::kIdentify, "user", "anon"), &r, &changes);
  EXPECT_TRUE(r.merge_from.empty());
  EXPECT_TRUE(changes.empty());
}

TEST(IdentityIndex, AliasMovesEveryMemberOfTheMergedProfile) {
  IdentityIndex index;
  Routing r;
  std::vector<std::pair<std::string, std::string>> changes;
  index.Route(Make(EventType::kIdentify, "old-user", "anon"), &r, &changes);
  changes.clear();
  index.Route(Make(EventType::kAlias, "new-user", "", "old-user"), &r, &changes);
  EXPECT_EQ(r.merge_from, "old-user");
  EXPECT_EQ(index.Resolve("anon"), "new-user");
  EXPECT_EQ(index.Resolve("old-user"), "new-user");
  EXPECT_EQ(changes.size(), 2u);
}

TEST(IdentityIndex, ForgetUnlinksEveryMemberOfAProfile) {
  IdentityIndex index;
  Routing r;
  std::vector<std::pair<std::string, std::string>> changes;
  index.Route(Make(EventType::kIdentify, "user", "anon"), &r, &changes);
  index.Route(Make(EventType::kAlias, "user", "", "old-device"), &r, &changes);
  EXPECT_EQ(index.Members("user"), (std::vector<std::string>{"user", "anon", "old-device"}));
  EXPECT_EQ(index.Members("stranger"), (std::vector<std::string>{"stranger"}));

  EXPECT_EQ(index.Forget("user"), (std::vector<std::string>{"user", "anon", "old-device"}));
  EXPECT_EQ(index.Resolve("anon"), "anon");
  EXPECT_EQ(index.Resolve("old-device"), "old-device");
  EXPECT_EQ(index.merged_ids(), 0u);
  EXPECT_EQ(index.Members("user"), (std::vector<std::string>{"user"}));
}

TEST(IdentityIndex, ASharedDeviceDoesNotJoinTwoKnownCustomers) {
  IdentityIndex index;
  Routing r;
  std::vector<std::pair<std::string, std::string>> changes;
  index.Route(Make(EventType::kIdentify, "alice", "device"), &r, &changes);
  index.Route(Make(EventType::kIdentify, "bob", "device"), &r, &changes);
  EXPECT_EQ(r.canonical, "bob");
  EXPECT_TRUE(r.merge_from.empty());
  EXPECT_EQ(index.Resolve("device"), "alice");
}

TEST(IdentityIndex, LoadRestoresLinks) {
  IdentityIndex index;
  index.Load("anon", "user");
  EXPECT_EQ(index.Resolve("anon"), "user");
  Routing r;
  std::vector<std::pair<std::string, std::string>> changes;
  index.Route(Make(EventType::kAlias, "other", "", "user"), &r, &changes);
  EXPECT_EQ(index.Resolve("anon"), "other");
}

}  // namespace
}  // namespace upfront
