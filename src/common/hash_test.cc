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

// Keys of every length class, alternating, so a context keyed for one key is
// never reused for another (the hasher keeps one keyed context per thread).
TEST(HmacSha256Hex, MatchesRfc4231WhenTheKeyChanges) {
  const std::string key1(20, '\x0b');
  const std::string key6(131, '\xaa');  // longer than a block: hashed first
  for (int round = 0; round < 2; ++round) {
    EXPECT_EQ(HmacSha256Hex(key1, "Hi There"),
              "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    EXPECT_EQ(HmacSha256Hex(key6, "Test Using Larger Than Block-Size Key - Hash Key First"),
              "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    EXPECT_EQ(HmacSha256Hex("Jefe", "what do ya want for nothing?"),
              "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    EXPECT_EQ(HmacSha256Hex("Jefe", "what do ya want for nothing?"),
              "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");  // same key twice
    EXPECT_EQ(HmacSha256Hex("", ""), "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
  }
}

TEST(RandomHex, HasRequestedLengthAndVaries) {
  std::string a = RandomHex(16), b = RandomHex(16);
  EXPECT_EQ(a.size(), 32u);
  EXPECT_NE(a, b);
}

}  // namespace
}  // namespace upfront
