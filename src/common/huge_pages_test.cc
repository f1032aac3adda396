#include "src/common/huge_pages.h"

#include <gtest/gtest.h>
#include <malloc.h>

#include <cstdlib>
#include <string_view>
#include <vector>

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

TEST(RetainFreedHeapTest, FreedBlocksStayInTheHeapForTheNextAllocation) {
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  if (tunables != nullptr && std::string_view(tunables).find("threshold") != std::string_view::npos) {
    GTEST_SKIP() << "GLIBC_TUNABLES sets a threshold, and it wins";
  }
  RetainFreedHeap();
  constexpr size_t kBlock = 1 << 20;
  constexpr int kBlocks = 48;
  const struct mallinfo2 before = mallinfo2();
  std::vector<void*> blocks;
  for (int i = 0; i < kBlocks; ++i) {
    blocks.push_back(std::malloc(kBlock));
    static_cast<volatile char*>(blocks.back())[kBlock - 1] = 1;  // used, so the pair is not optimized out
  }
  const struct mallinfo2 allocated = mallinfo2();
  // By default glibc maps blocks over 128 KB on their own and unmaps them when freed.
  EXPECT_EQ(allocated.hblkhd, before.hblkhd);
  for (void* block : blocks) std::free(block);
  const struct mallinfo2 freed = mallinfo2();
  // And it trims a free top of the heap over 128 KB back to the kernel.
  EXPECT_EQ(freed.arena, allocated.arena);
  EXPECT_GE(freed.fordblks, kBlocks * kBlock);
}

}  // namespace
}  // namespace upfront
