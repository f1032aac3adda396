#include "src/store/background_priority.h"

#include <sched.h>
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

std::vector<int> Niceness(std::string_view thread_name) {
  std::vector<int> out;
  for (int tid : BackgroundThreadIds(thread_name)) {
    errno = 0;
    const int nice = getpriority(PRIO_PROCESS, static_cast<id_t>(tid));
    if (errno == 0) out.push_back(nice);
  }
  return out;
}

TEST(BackgroundPriority, LowersEveryFlushAndCompactionThreadAndNeverRaisesOne) {
  ScratchDir dir("background-priority-test");
  rocksdb::Options options;
  options.create_if_missing = true;
  options.IncreaseParallelism(2);  // a flush thread and compaction threads
  rocksdb::DB* raw = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open(options, dir.path(), &raw).ok());
  std::unique_ptr<rocksdb::DB> db(raw);
  // Each has run on its thread, so the threads have their names.
  ASSERT_TRUE(db->Put({}, "k", "v").ok());
  ASSERT_TRUE(db->Flush({}).ok());
  ASSERT_TRUE(db->CompactRange({}, nullptr, nullptr).ok());

  EXPECT_GE(LowerBackgroundThreadPriority(kBackgroundThreadNiceness), 2);
  for (const char* name : {"rocksdb:high", "rocksdb:low"}) {
    const std::vector<int> nice = Niceness(name);
    ASSERT_FALSE(nice.empty()) << name;
    for (int n : nice) EXPECT_EQ(n, kBackgroundThreadNiceness) << name;
    for (int tid : BackgroundThreadIds(name)) EXPECT_EQ(sched_getscheduler(tid), SCHED_BATCH) << name;
  }

  LowerBackgroundThreadPriority(kBackgroundThreadNiceness - 5);
  for (const char* name : {"rocksdb:high", "rocksdb:low"}) {
    for (int n : Niceness(name)) EXPECT_EQ(n, kBackgroundThreadNiceness) << name << ": a lower niceness is not applied";
  }
  ASSERT_TRUE(db->Put({}, "k2", "v").ok());
  EXPECT_TRUE(db->Flush({}).ok()) << "a lowered flush thread still flushes";
  EXPECT_TRUE(db->CompactRange({}, nullptr, nullptr).ok()) << "a lowered compaction thread still compacts";
}

}  // namespace
}  // namespace upfront
