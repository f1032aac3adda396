#include "src/store/flush_priority.h"

#include <sys/resource.h>

#include <cerrno>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include "src/common/scratch_dir.h"

namespace upfront {
namespace {

std::vector<int> FlushThreadNiceness() {
  std::vector<int> out;
  for (int tid : FlushThreadIds()) {
    errno = 0;
    const int nice = getpriority(PRIO_PROCESS, static_cast<id_t>(tid));
    if (errno == 0) out.push_back(nice);
  }
  return out;
}

TEST(FlushPriority, LowersEveryFlushThreadAndNeverRaisesOne) {
  ScratchDir dir("flush-priority-test");
  rocksdb::Options options;
  options.create_if_missing = true;
  options.IncreaseParallelism(2);  // starts the flush thread
  rocksdb::DB* raw = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open(options, dir.path(), &raw).ok());
  std::unique_ptr<rocksdb::DB> db(raw);
  ASSERT_TRUE(db->Put({}, "k", "v").ok());
  ASSERT_TRUE(db->Flush({}).ok());  // has run on the flush thread, so it has its name

  EXPECT_GE(LowerFlushThreadPriority(kFlushThreadNiceness), 1);
  std::vector<int> nice = FlushThreadNiceness();
  ASSERT_FALSE(nice.empty());
  for (int n : nice) EXPECT_EQ(n, kFlushThreadNiceness);

  LowerFlushThreadPriority(kFlushThreadNiceness - 5);
  for (int n : FlushThreadNiceness()) EXPECT_EQ(n, kFlushThreadNiceness) << "a lower niceness is not applied";
  ASSERT_TRUE(db->Put({}, "k2", "v").ok());
  EXPECT_TRUE(db->Flush({}).ok()) << "a lowered flush thread still flushes";
}

}  // namespace
}  // namespace upfront
