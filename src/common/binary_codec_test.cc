#include "src/common/binary_codec.h"

#include <gtest/gtest.h>

namespace upfront {
namespace {

TEST(BinaryCodec, RoundTripsEveryKind) {
  std::string buf;
  Encoder e(&buf);
  e.PutVarint(300);
  e.PutSigned(-5);
  e.PutDouble(0.125);
  e.PutBool(true);
  e.PutString("héllo");
  Decoder d(buf);
  EXPECT_EQ(d.GetVarint(), 300u);
  EXPECT_EQ(d.GetSigned(), -5);
  EXPECT_EQ(d.GetDouble(), 0.125);
  EXPECT_TRUE(d.GetBool());
  EXPECT_EQ(d.GetString(), "héllo");
  EXPECT_TRUE(d.ok());
  EXPECT_TRUE(d.done());
}

TEST(BinaryCodec, TruncatedInputFailsInsteadOfOverreading) {
  std::string buf;
  Encoder(&buf).PutString("a long enough string");
  Decoder d(std::string_view(buf).substr(0, 5));
  EXPECT_EQ(d.GetString(), "");
  EXPECT_FALSE(d.ok());
}

}  // namespace
}  // namespace upfront
