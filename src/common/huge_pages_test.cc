#include "src/common/huge_pages.h"

#include <gtest/gtest.h>

namespace upfront {
namespace {

TEST(HugePagesTest, AddsTheTunableWhenNothingSetsIt) {
  EXPECT_EQ(TunablesWithHugePageHeap(nullptr, nullptr), "glibc.malloc.hugetlb=1");
  EXPECT_EQ(TunablesWithHugePageHeap("", nullptr), "glibc.malloc.hugetlb=1");
  EXPECT_EQ(TunablesWithHugePageHeap(nullptr, "1"), "glibc.malloc.hugetlb=1");
}

TEST(HugePagesTest, KeepsTheOtherTunables) {
  EXPECT_EQ(TunablesWithHugePageHeap("glibc.malloc.arena_max=2", nullptr),
            "glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1");
  // A tunable whose name only starts like it is another tunable.
  EXPECT_EQ(TunablesWithHugePageHeap("glibc.malloc.hugetlbx=3", nullptr),
            "glibc.malloc.hugetlbx=3:glibc.malloc.hugetlb=1");
}

TEST(HugePagesTest, TheEnvironmentHasTheLastWord) {
  EXPECT_EQ(TunablesWithHugePageHeap("glibc.malloc.hugetlb=0", nullptr), std::nullopt);
  EXPECT_EQ(TunablesWithHugePageHeap("glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1", nullptr),
            std::nullopt);  // also what the re-executed program sees: no second re-exec
  EXPECT_EQ(TunablesWithHugePageHeap(nullptr, "0"), std::nullopt);
  EXPECT_EQ(TunablesWithHugePageHeap("glibc.malloc.arena_max=2", "0"), std::nullopt);
}

}  // namespace
}  // namespace upfront
