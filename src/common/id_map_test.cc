#include "src/common/id_map.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>

namespace upfront {
namespace {

// Every id of the same length collides: exercises the overflow path that a
// 64-bit hash reaches only by extreme chance.
struct LengthHash {
  uint64_t operator()(std::string_view id) const { return id.size(); }
};

TEST(IdMap, FindsInsertedIdsAndNothingElse) {
  IdMap<int> map;
  map.Insert("a-customer-id-longer-than-sso", std::make_unique<int>(1));
  map.Insert("b", std::make_unique<int>(2));
  ASSERT_NE(map.Find("a-customer-id-longer-than-sso"), nullptr);
  EXPECT_EQ(*map.Find("a-customer-id-longer-than-sso"), 1);
  EXPECT_EQ(*map.Find("b", IdMap<int>::HashOf("b")), 2);
  EXPECT_EQ(map.Find("c"), nullptr);
  EXPECT_EQ(map.size(), 2u);
}

TEST(IdMap, PeekReturnsTheObjectOfAHashWithoutConfirmingTheId) {
  IdMap<int, LengthHash> map;
  map.Insert("ab", std::make_unique<int>(7));
  // "xy" has the same hash: Peek is a guess for prefetching, Find is exact.
  ASSERT_NE(map.Peek(LengthHash{}("xy")), nullptr);
  EXPECT_EQ(*map.Peek(LengthHash{}("xy")), 7);
  EXPECT_EQ(map.Find("xy"), nullptr);
  EXPECT_EQ(map.Peek(LengthHash{}("abc")), nullptr);
}

TEST(IdMap, CollidingIdsAreKeptApartAndTakenExactly) {
  IdMap<int, LengthHash> map;
  map.Insert("aa", std::make_unique<int>(1));
  map.Insert("bb", std::make_unique<int>(2));  // same hash: overflow
  map.Insert("cc", std::make_unique<int>(3));
  EXPECT_EQ(map.size(), 3u);
  EXPECT_EQ(*map.Find("aa"), 1);
  EXPECT_EQ(*map.Find("bb"), 2);
  EXPECT_EQ(*map.Find("cc"), 3);

  // Taking the id that holds the hash leaves the overflowed ones findable,
  // and a new id with the hash takes the free slot.
  std::unique_ptr<int> taken = map.Take("aa");
  ASSERT_NE(taken, nullptr);
  EXPECT_EQ(*taken, 1);
  EXPECT_EQ(map.Find("aa"), nullptr);
  EXPECT_EQ(*map.Find("bb"), 2);
  map.Insert("dd", std::make_unique<int>(4));
  EXPECT_EQ(*map.Find("dd"), 4);
  EXPECT_EQ(*map.Take("cc"), 3);
  EXPECT_EQ(map.Take("cc"), nullptr);
  EXPECT_EQ(map.Find("cc"), nullptr);
  EXPECT_EQ(map.size(), 2u);
}

// Against std::map as the model, with many collisions.
TEST(IdMap, BehavesLikeAnOrdinaryMapUnderRandomOperations) {
  IdMap<int, LengthHash> map;
  std::map<std::string, int> model;
  std::mt19937 random(3);
  for (int step = 0; step < 20000; ++step) {
    const std::string id(1 + random() % 6, static_cast<char>('a' + random() % 3));
    const std::string other = id + std::to_string(random() % 4);
    const std::string& key = random() % 2 ? id : other;
    if (random() % 3 == 0) {
      std::unique_ptr<int> taken = map.Take(key);
      auto it = model.find(key);
      ASSERT_EQ(taken != nullptr, it != model.end()) << key;
      if (taken) {
        EXPECT_EQ(*taken, it->second);
        model.erase(it);
      }
    } else if (map.Find(key) == nullptr) {
      ASSERT_EQ(model.count(key), 0u) << key;
      map.Insert(key, std::make_unique<int>(step));
      model[key] = step;
    } else {
      EXPECT_EQ(*map.Find(key), model.at(key));
    }
    ASSERT_EQ(map.size(), model.size());
  }
  std::map<std::string, int> listed;
  map.ForEach([&](std::string_view id, int& value) { listed[std::string(id)] = value; });
  EXPECT_EQ(listed, model);
}

// Real hashes, few slots: runs of neighbouring slots, wrapping at the end of
// the table, form and break up all the time (linear probing's deletion moves
// entries back), and the table grows and regrows from a few ids to many.
TEST(IdMap, ProbeRunsSurviveRandomInsertsAndTakes) {
  std::mt19937 random(11);
  for (int round = 0; round < 20; ++round) {
    IdMap<int> map;
    std::map<std::string, int> model;
    const int ids = 4 + round * round;  // 4 to 365 ids in play
    for (int step = 0; step < 5000; ++step) {
      const std::string key = "customer-" + std::to_string(random() % ids);
      if (random() % 2 == 0) {
        std::unique_ptr<int> taken = map.Take(key);
        ASSERT_EQ(taken != nullptr, model.erase(key) == 1) << key;
      } else if (!model.count(key)) {
        map.Insert(key, std::make_unique<int>(step));
        model[key] = step;
      }
      ASSERT_EQ(map.size(), model.size());
    }
    for (int i = 0; i < ids; ++i) {
      const std::string key = "customer-" + std::to_string(i);
      int* found = map.Find(key, IdMap<int>::HashOf(key));
      ASSERT_EQ(found != nullptr, model.count(key) == 1) << key;
      if (found != nullptr) {
        EXPECT_EQ(*found, model.at(key));
        EXPECT_EQ(map.Peek(IdMap<int>::HashOf(key)), found);
      }
    }
    size_t listed = 0;
    map.ForEach([&](std::string_view, int&) { ++listed; });
    EXPECT_EQ(listed, model.size());
  }
}

TEST(IdMap, ReserveKeepsWhatIsThere) {
  IdMap<int> map;
  for (int i = 0; i < 100; ++i) map.Insert("c" + std::to_string(i), std::make_unique<int>(i));
  map.reserve(100000);
  map.Prefetch(IdMap<int>::HashOf("c7"));
  for (int i = 0; i < 100; ++i) ASSERT_EQ(*map.Find("c" + std::to_string(i)), i);
  EXPECT_EQ(map.Find("c100"), nullptr);
  EXPECT_EQ(map.Peek(IdMap<int>::HashOf("c100")), nullptr);
}

}  // namespace
}  // namespace upfront
