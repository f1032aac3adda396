#include "src/common/hash.h"

#include <gtest/gtest.h>

namespace upfront {
namespace {

TEST(Hash64, IsStableAndSeeded) {
  EXPECT_EQ(Hash64("customer-1"), Hash64("customer-1"));
  EXPECT_NE(Hash64("customer-1"), Hash64("customer-2"));
  EXPECT_NE(Hash64("customer-1", 1), Hash64("customer-1", 2));
}

TEST(HmacSha256Hex, MatchesRfc4231TestCase2) {
  EXPECT_EQ(HmacSha256Hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(RandomHex, HasRequestedLengthAndVaries) {
  std::string a = RandomHex(16), b = RandomHex(16);
  EXPECT_EQ(a.size(), 32u);
  EXPECT_NE(a, b);
}

}  // namespace
}  // namespace upfront
