#include <gtest/gtest.h>

#include "src/common/manual_clock.h"
#include "src/store/store.h"
#include "src/testing/temp_dir.h"

namespace upfront {
namespace {

std::unique_ptr<StateStore> Open(const std::string& dir) {
  auto store = OpenRocksDbStore(dir, {});
  EXPECT_TRUE(store.ok()) << store.status();
  return std::move(store).value();
}

CommitBatch TwoEvents() {
  CommitBatch batch;
  batch.events.push_back({1, 100, "m1", "alice", "", R"({"type":"track"})"});
  batch.events.push_back({2, 200, "m2", "bob", "anon-9", R"({"type":"identify"})"});
  batch.identity_changes.emplace_back("anon-9", "bob");
  batch.stream_watermark = 200;
  return batch;
}

TEST(RocksDbStore, CommittedEventsSurviveReopen) {
  testing::TempDir dir;
  {
    auto store = Open(dir.path());
    ASSERT_TRUE(store->Commit(TwoEvents(), /*sync=*/true).ok());
  }
  auto store = Open(dir.path());
  EXPECT_EQ(store->last_seq(), 2u);
  EXPECT_EQ(store->stream_watermark(), 200);
  std::vector<std::string> seen;
  ASSERT_TRUE(store->ScanLog(0, [&](const LogRecord& r) {
    seen.push_back(std::string(r.message_id) + ":" + std::string(r.canonical) + ":" + std::string(r.merge_from));
    return true;
  }).ok());
  EXPECT_EQ(seen, (std::vector<std::string>{"m1:alice:", "m2:bob:anon-9"}));
  std::vector<std::pair<std::string, std::string>> ids;
  ASSERT_TRUE(store->ScanIdentities([&](auto id, auto c) { ids.emplace_back(id, c); }).ok());
  EXPECT_EQ(ids, (std::vector<std::pair<std::string, std::string>>{{"anon-9", "bob"}}));
}

TEST(RocksDbStore, LooksUpMessageIdsWithTheirArrival) {
  testing::TempDir dir;
  auto store = Open(dir.path());
  ASSERT_TRUE(store->Commit(TwoEvents(), true).ok());
  std::vector<std::string_view> ids = {"m2", "nope", "m1"};
  std::vector<std::optional<Micros>> arrivals;
  ASSERT_TRUE(store->LookupMessageIds(ids, &arrivals).ok());
  ASSERT_EQ(arrivals.size(), 3u);
  EXPECT_EQ(arrivals[0], 200);
  EXPECT_FALSE(arrivals[1].has_value());
  EXPECT_EQ(arrivals[2], 100);
}

TEST(RocksDbStore, CustomerLogFollowsTheRecordedCanonicalId) {
  testing::TempDir dir;
  auto store = Open(dir.path());
  ASSERT_TRUE(store->Commit(TwoEvents(), true).ok());
  std::vector<uint64_t> seqs;
  ASSERT_TRUE(store->ScanCustomerLog("bob", [&](const LogRecord& r) { seqs.push_back(r.seq); return true; }).ok());
  EXPECT_EQ(seqs, std::vector<uint64_t>{2});
}

TEST(RocksDbStore, CheckpointsKeepStateAndAppliedSequence) {
  testing::TempDir dir;
  {
    auto store = Open(dir.path());
    Checkpoint c{1, 42, {{"alice", "state-a"}, {"bob", "state-b"}}, {}};
    ASSERT_TRUE(store->WriteCheckpoints({&c, 1}).ok());
    Checkpoint d{1, 43, {}, {"bob"}};
    ASSERT_TRUE(store->WriteCheckpoints({&d, 1}).ok());
  }
  auto store = Open(dir.path());
  EXPECT_EQ(store->AppliedSeq(1), 43u);
  EXPECT_EQ(store->AppliedSeq(0), 0u);
  std::string state;
  EXPECT_TRUE(*store->ReadState("alice", &state));
  EXPECT_EQ(state, "state-a");
  EXPECT_FALSE(*store->ReadState("bob", &state));
}

TEST(RocksDbStore, PartitionCountIsFixedAtCreation) {
  testing::TempDir dir;
  auto store = Open(dir.path());
  EXPECT_EQ(*store->PartitionCount(4), 4);
  EXPECT_EQ(*store->PartitionCount(8), 4);
}

TEST(RocksDbStore, PurgeRemovesOnlyRecordsBeforeTheCutoff) {
  testing::TempDir dir;
  auto store = Open(dir.path());
  ASSERT_TRUE(store->Commit(TwoEvents(), true).ok());
  EXPECT_EQ(*store->PurgeLogBefore(150), 1u);
  std::vector<uint64_t> seqs;
  ASSERT_TRUE(store->ScanLog(0, [&](const LogRecord& r) { seqs.push_back(r.seq); return true; }).ok());
  EXPECT_EQ(seqs, std::vector<uint64_t>{2});
}

TEST(RocksDbStore, ReportsAnUnusableDirectory) {
  auto store = OpenRocksDbStore("/proc/upfront-cannot-be-here", {});
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.status().message().find("data directory"), std::string::npos);
}

}  // namespace
}  // namespace upfront
