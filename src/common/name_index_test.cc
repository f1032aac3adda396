#include "src/common/name_index.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace upfront {
namespace {

TEST(NameIndex, FindsEachNameAtItsPositionAndNothingElse) {
  NameIndex index({"step", "path", "order_id", "order_ts", "a", "", "ab", "Checkout Step Viewed"});
  EXPECT_EQ(index.Find("step"), 0);
  EXPECT_EQ(index.Find("path"), 1);
  EXPECT_EQ(index.Find("order_id"), 2);
  EXPECT_EQ(index.Find("order_ts"), 3);
  EXPECT_EQ(index.Find("a"), 4);
  EXPECT_EQ(index.Find(""), 5);
  EXPECT_EQ(index.Find("ab"), 6);
  EXPECT_EQ(index.Find("Checkout Step Viewed"), 7);
  for (const char* absent : {"b", "stepp", "ste", "order_iD", "Checkout Step Viewe", "abc", "path "}) {
    EXPECT_EQ(index.Find(absent), -1) << absent;
  }
  EXPECT_EQ(NameIndex().Find("step"), -1);
}

TEST(NameIndex, ARepeatedNameKeepsItsFirstPosition) {
  NameIndex index({"x", "y", "x"});
  EXPECT_EQ(index.Find("x"), 0);
  EXPECT_EQ(index.Find("y"), 1);
}

// Names that share length and both ends (so they share a slot) are still told apart.
TEST(NameIndex, NamesThatShareASlotAreToldApart) {
  std::vector<std::string> names;
  for (int i = 0; i < 200; ++i) names.push_back("abcd" + std::to_string(1000 + i) + "wxyz");
  NameIndex index(names);
  for (int i = 0; i < 200; ++i) EXPECT_EQ(index.Find(names[i]), i);
  EXPECT_EQ(index.Find("abcd0999wxyz"), -1);
  EXPECT_EQ(index.Find("abcd1200wxyz"), -1);
}

TEST(NameIndex, AgreesWithALinearSearchOnRandomNames) {
  std::mt19937 random(11);
  const auto word = [&] {
    std::string w(random() % 20, 'a');
    for (char& c : w) c = static_cast<char>('a' + random() % 3);
    return w;
  };
  std::vector<std::string> names;
  for (int i = 0; i < 60; ++i) names.push_back(word());
  NameIndex index(names);
  for (int probe = 0; probe < 5000; ++probe) {
    // Random words, the names themselves, and names with one byte changed.
    std::string w = probe % 3 == 0 ? word() : names[random() % names.size()];
    if (probe % 3 == 2 && !w.empty()) w[random() % w.size()] = static_cast<char>('a' + random() % 3);
    const auto it = std::find(names.begin(), names.end(), w);
    EXPECT_EQ(index.Find(w), it == names.end() ? -1 : static_cast<int>(it - names.begin())) << w;
  }
}

}  // namespace
}  // namespace upfront
