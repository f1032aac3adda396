#include "src/store/write_pacer.h"

#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <string>
#include <vector>

#include "src/common/scratch_dir.h"

namespace upfront {
namespace {

// 1 MB/s in writes of 1 KB: a kilobyte's slot is 1/1024 s.
constexpr int64_t kRate = 1 << 20;
constexpr int64_t kBurst = 1 << 10;
constexpr int64_t kSlotNanos = 1'000'000'000 / 1024;

// A clock that a sleep moves forward, recording each sleep.
struct FakeTime {
  int64_t now = 5'000'000'000;
  std::vector<int64_t> sleeps;
  WritePacer Pacer() {
    return WritePacer(
        kRate, kBurst, [this] { return now; },
        [this](int64_t nanos) {
          sleeps.push_back(nanos);
          now += nanos;
        });
  }
};

TEST(WritePacer, AQuietDiskTakesABurstAtOnce) {
  FakeTime time;
  WritePacer pacer = time.Pacer();
  pacer.Request(kBurst, rocksdb::Env::IO_HIGH, nullptr);
  pacer.Request(kBurst, rocksdb::Env::IO_HIGH, nullptr);
  EXPECT_TRUE(time.sleeps.empty());
  EXPECT_EQ(pacer.GetSingleBurstBytes(), kBurst);
}

TEST(WritePacer, SustainedWritesGoAtTheRate) {
  FakeTime time;
  WritePacer pacer = time.Pacer();
  const int64_t start = time.now;
  for (int i = 0; i < 1026; ++i) pacer.Request(kBurst, rocksdb::Env::IO_LOW, nullptr);
  // 1026 KB at 1 MB/s, of which the first two went at once (the idle
  // credit and the slot beginning now): a second of writing.
  EXPECT_NEAR(static_cast<double>(time.now - start), 1024.0 * kSlotNanos, 1024.0);
  EXPECT_EQ(time.sleeps.size(), 1024u);
  EXPECT_EQ(pacer.GetTotalBytesThrough(), 1026 * kBurst);
  EXPECT_EQ(pacer.GetTotalRequests(rocksdb::Env::IO_LOW), 1026);
  EXPECT_EQ(pacer.GetTotalRequests(rocksdb::Env::IO_HIGH), 0);
}

TEST(WritePacer, IdleTimeCountsForOneBurstOnly) {
  FakeTime time;
  WritePacer pacer = time.Pacer();
  pacer.Request(kBurst, rocksdb::Env::IO_HIGH, nullptr);
  time.now += 3'600'000'000'000;  // an hour of nothing
  for (int i = 0; i < 3; ++i) pacer.Request(kBurst, rocksdb::Env::IO_HIGH, nullptr);
  ASSERT_EQ(time.sleeps.size(), 1u);
  EXPECT_NEAR(static_cast<double>(time.sleeps[0]), kSlotNanos, 1.0);
}

TEST(WritePacer, ANewRateAppliesToTheNextWrites) {
  FakeTime time;
  WritePacer pacer = time.Pacer();
  pacer.SetBytesPerSecond(kRate / 2);
  EXPECT_EQ(pacer.GetBytesPerSecond(), kRate / 2);
  for (int i = 0; i < 4; ++i) pacer.Request(kBurst, rocksdb::Env::IO_HIGH, nullptr);
  // Half the rate: each kilobyte takes two slots.
  ASSERT_EQ(time.sleeps.size(), 2u);
  EXPECT_NEAR(static_cast<double>(time.sleeps.back()), 2.0 * kSlotNanos, 2.0);
}

// Flushes and compactions of a real database go through the pacer, in
// pieces no larger than its burst, and what they wrote reads back.
TEST(WritePacer, ADatabaseFlushesAndCompactsThroughIt) {
  ScratchDir dir("write-pacer-test");
  ASSERT_FALSE(dir.path().empty());
  auto pacer = std::make_shared<WritePacer>(256 << 20, 64 << 10);
  rocksdb::Options options;
  options.create_if_missing = true;
  options.rate_limiter = pacer;
  options.compression = rocksdb::kNoCompression;  // so the bytes written are the bytes put
  rocksdb::DB* raw = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open(options, dir.path(), &raw).ok());
  std::unique_ptr<rocksdb::DB> db(raw);
  const std::string value(1000, 'v');
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < 2000; ++i) ASSERT_TRUE(db->Put({}, "key" + std::to_string(i), value).ok());
    ASSERT_TRUE(db->Flush({}).ok());
  }
  EXPECT_GT(pacer->GetTotalBytesThrough(rocksdb::Env::IO_HIGH), 2000 * 1000);
  ASSERT_TRUE(db->CompactRange({}, nullptr, nullptr).ok());
  EXPECT_GT(pacer->GetTotalBytesThrough(rocksdb::Env::IO_LOW), 2000 * 1000);
  EXPECT_GT(pacer->GetTotalRequests(), pacer->GetTotalBytesThrough() / (64 << 10) - 1);
  std::string read;
  ASSERT_TRUE(db->Get({}, "key1999", &read).ok());
  EXPECT_EQ(read, value);
}

}  // namespace
}  // namespace upfront
