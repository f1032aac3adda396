#include "src/store/hardware_crc32c.h"

#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include "src/common/scratch_dir.h"

// What RocksDB calls; linked with --wrap, a call from here comes to
// hardware_crc32c.cc too.
namespace rocksdb::crc32c {
uint32_t Extend(uint32_t crc, const char* data, size_t size);
}

namespace upfront {
namespace {

TEST(HardwareCrc32c, RunsOnTheCpuWhenItHasSse42) {
  __builtin_cpu_init();
  const bool sse42 = __builtin_cpu_supports("sse4.2") != 0;
  EXPECT_EQ(ActiveCrc32c(), sse42 ? Crc32cEngine::kHardware : Crc32cEngine::kLibrary)
      << Crc32cEngineName(ActiveCrc32c());
}

// The synced write's log record is checksummed on the writing thread.
TEST(HardwareCrc32c, RocksDbsLogWritesComeHere) {
  ScratchDir dir("hardware-crc32c-test");
  ASSERT_FALSE(dir.path().empty());
  rocksdb::Options options;
  options.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open(options, dir.path(), &raw).ok());
  std::unique_ptr<rocksdb::DB> db(raw);
  rocksdb::WriteOptions synced;
  synced.sync = true;
  const uint64_t before = Crc32cCallsOnThisThread();
  ASSERT_TRUE(db->Put(synced, "key", "value").ok());
  EXPECT_GT(Crc32cCallsOnThisThread(), before);
}

TEST(HardwareCrc32c, GivesTheStandardCheckValue) {
  EXPECT_EQ(rocksdb::crc32c::Extend(0, "123456789", 9), 0xE3069283u);
  EXPECT_EQ(LibraryCrc32cExtend(0, "123456789", 9), 0xE3069283u);
}

// Files written before this module (or on a CPU without SSE4.2) must read
// back, and the other way round.
TEST(HardwareCrc32c, MatchesRocksDbsOwnAtEveryLengthAlignmentAndStart) {
  std::mt19937_64 random(42);
  std::vector<char> bytes(5000);
  for (char& b : bytes) b = static_cast<char>(random());
  for (size_t offset = 0; offset < 8; ++offset) {
    for (size_t size : {0, 1, 3, 7, 8, 9, 15, 16, 17, 63, 64, 65, 255, 316, 1000, 4096, 4992}) {
      const auto start = static_cast<uint32_t>(random());
      ASSERT_EQ(rocksdb::crc32c::Extend(start, bytes.data() + offset, size),
                LibraryCrc32cExtend(start, bytes.data() + offset, size))
          << "offset " << offset << ", size " << size;
    }
  }
  // Extending piece by piece is the same as all at once.
  const uint32_t whole = rocksdb::crc32c::Extend(0, bytes.data(), bytes.size());
  const uint32_t head = rocksdb::crc32c::Extend(0, bytes.data(), 1234);
  EXPECT_EQ(rocksdb::crc32c::Extend(head, bytes.data() + 1234, bytes.size() - 1234), whole);
}

// A checksum that agreed with itself whatever the bytes would pass every
// round trip; this one must still catch a changed byte in the log.
TEST(HardwareCrc32c, ACorruptedLogRecordIsStillCaught) {
  ScratchDir dir("hardware-crc32c-test");
  ASSERT_FALSE(dir.path().empty());
  const std::string value(300, 'v');
  rocksdb::Options options;
  options.create_if_missing = true;
  options.wal_recovery_mode = rocksdb::WALRecoveryMode::kAbsoluteConsistency;
  {
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(options, dir.path(), &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    rocksdb::WriteOptions synced;
    synced.sync = true;
    ASSERT_TRUE(db->Put(synced, "key", value).ok());
  }
  std::string log_file;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    if (entry.path().extension() == ".log") log_file = entry.path();
  }
  ASSERT_FALSE(log_file.empty());
  std::string contents;
  {
    std::ifstream in(log_file, std::ios::binary);
    contents.assign(std::istreambuf_iterator<char>(in), {});
  }
  const size_t at = contents.find(value);
  ASSERT_NE(at, std::string::npos);
  contents[at + 100] = 'x';
  std::ofstream(log_file, std::ios::binary | std::ios::trunc) << contents;

  rocksdb::DB* raw = nullptr;
  const rocksdb::Status reopened = rocksdb::DB::Open(options, dir.path(), &raw);
  delete raw;
  EXPECT_TRUE(reopened.IsCorruption()) << reopened.ToString();
}

}  // namespace
}  // namespace upfront
