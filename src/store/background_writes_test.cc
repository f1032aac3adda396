#include "src/store/background_writes.h"

#include <sys/vfs.h>

#include <filesystem>
#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include "src/common/scratch_dir.h"

namespace upfront {
namespace {

constexpr long kExt4Magic = 0xEF53;

bool IsExt4(const std::string& dir) {
  struct statfs fs {};
  return statfs(dir.c_str(), &fs) == 0 && fs.f_type == kExt4Magic;
}

TEST(DirectWrites, TheProbeLeavesNothingBehind) {
  ScratchDir dir("direct-writes-test");
  ASSERT_FALSE(dir.path().empty());
  SupportsDirectWrites(dir.path());
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

TEST(DirectWrites, AMissingDirectoryCannotBeWritten) {
  EXPECT_FALSE(SupportsDirectWrites("/nonexistent/upfront-direct-writes-test"));
}

// Where the option is on, a database still flushes, compacts and reads back
// what it wrote; where the file system refuses direct IO (older tmpfs, some
// FUSE ones) it stays off, and the database works as before.
TEST(DirectWrites, ADatabaseFlushesAndCompactsWithTheOptionItGets) {
  ScratchDir dir("direct-writes-test");
  ASSERT_FALSE(dir.path().empty());
  const std::string db_dir = dir.path() + "/db";  // not there yet: created by the call
  rocksdb::Options options;
  options.create_if_missing = true;
  WriteTablesDirectWherePossible(&options, db_dir);
  EXPECT_EQ(options.use_direct_io_for_flush_and_compaction, SupportsDirectWrites(db_dir));
  if (IsExt4(dir.path())) {
    EXPECT_TRUE(options.use_direct_io_for_flush_and_compaction) << "ext4 takes direct writes";
  }
  rocksdb::DB* raw = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open(options, db_dir, &raw).ok());
  std::unique_ptr<rocksdb::DB> db(raw);
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 1000; ++i) {
      ASSERT_TRUE(db->Put({}, "key-" + std::to_string(i), std::string(100, static_cast<char>('a' + round))).ok());
    }
    ASSERT_TRUE(db->Flush({}).ok());
  }
  ASSERT_TRUE(db->CompactRange({}, nullptr, nullptr).ok());
  std::string value;
  ASSERT_TRUE(db->Get({}, "key-999", &value).ok());
  EXPECT_EQ(value, std::string(100, 'c'));
  ASSERT_TRUE(db->Close().ok());
}

}  // namespace
}  // namespace upfront
