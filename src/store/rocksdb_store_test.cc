#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rocksdb/db.h>

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

std::vector<std::string> RecordKeys(StateStore& store, std::string_view kind) {
  std::vector<std::string> keys;
  EXPECT_TRUE(store.ScanRecords(kind, [&](std::string_view key, std::string_view) {
    keys.emplace_back(key);
    return true;
  }).ok());
  return keys;
}

TEST(RocksDbStore, RecordsOfEachKindScanInKeyOrderAndEraseByCustomer) {
  testing::TempDir dir;
  {
    auto store = Open(dir.path());
    // Measurement kinds and others live in different column families.
    ASSERT_TRUE(store
                    ->PutRecords(std::vector<StateStore::RecordWrite>{
                        {"exposure", "zoe|tip|", R"({"customer":"zoe"})"},
                        {"exposure", "ann|tip|", R"({"customer":"ann"})"},
                        {"action", "ann|01|d1", R"({"customer":"ann"})"},
                        {"review", "r1", R"({"customer":"ann"})"},
                        {"review", "r2", R"({"customer":"zoe"})"}})
                    .ok());
    ASSERT_TRUE(store->PutRecord("exposure", "bob|tip|", R"({"customer":"bob"})").ok());
    EXPECT_THAT(RecordKeys(*store, "exposure"), ::testing::ElementsAre("ann|tip|", "bob|tip|", "zoe|tip|"));
  }
  auto store = Open(dir.path());
  EXPECT_THAT(RecordKeys(*store, "exposure"), ::testing::ElementsAre("ann|tip|", "bob|tip|", "zoe|tip|"));
  EXPECT_THAT(RecordKeys(*store, "action"), ::testing::ElementsAre("ann|01|d1"));
  std::string value;
  ASSERT_TRUE(*store->GetRecord("exposure", "bob|tip|", &value));
  EXPECT_EQ(value, R"({"customer":"bob"})");
  EXPECT_FALSE(*store->GetRecord("review", "bob|tip|", &value));

  ASSERT_TRUE(store->EraseCustomer(std::vector<std::string>{"ann"}).ok());
  EXPECT_THAT(RecordKeys(*store, "exposure"), ::testing::ElementsAre("bob|tip|", "zoe|tip|"));
  EXPECT_THAT(RecordKeys(*store, "action"), ::testing::ElementsAre());
  EXPECT_THAT(RecordKeys(*store, "review"), ::testing::ElementsAre("r2"));
}

// A data directory from before the "measurement" column family kept
// exposures and actions in "records": they move over at open, once.
TEST(RocksDbStore, OpensADirectoryThatKeptMeasurementRecordsWithTheOthers) {
  testing::TempDir dir;
  {
    rocksdb::Options options;
    options.create_if_missing = true;
    options.create_missing_column_families = true;
    std::vector<rocksdb::ColumnFamilyDescriptor> families;
    for (const char* name : {"default", "events", "dedup", "history", "identity", "state", "timers", "records"}) {
      families.emplace_back(name, rocksdb::ColumnFamilyOptions());
    }
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::DBOptions(options), dir.path(), families, &handles, &raw).ok());
    rocksdb::ColumnFamilyHandle* records = handles.back();
    ASSERT_TRUE(raw->Put({}, records, std::string("exposure") + '\0' + "ann|tip|", "{}").ok());
    for (int i = 0; i < 25'000; ++i) {  // more than one chunk of the move
      ASSERT_TRUE(raw->Put({}, records, std::string("exposure") + '\0' + "zz" + std::to_string(i), "{}").ok());
    }
    ASSERT_TRUE(raw->Put({}, records, std::string("action") + '\0' + "ann|01|d1", "{}").ok());
    ASSERT_TRUE(raw->Put({}, records, std::string("review") + '\0' + "r1", "{}").ok());
    for (auto* handle : handles) raw->DestroyColumnFamilyHandle(handle);
    delete raw;
  }
  for (int open = 0; open < 2; ++open) {
    auto store = Open(dir.path());
    const std::vector<std::string> exposures = RecordKeys(*store, "exposure");
    ASSERT_EQ(exposures.size(), 25'001u);
    EXPECT_EQ(exposures.front(), "ann|tip|");
    EXPECT_THAT(RecordKeys(*store, "action"), ::testing::ElementsAre("ann|01|d1"));
    EXPECT_THAT(RecordKeys(*store, "review"), ::testing::ElementsAre("r1"));
  }
}

// A data directory from before the checkpoint database kept checkpoints in
// the log's database ("state", "timers" and learner keys in "default"):
// they move over at open, and the old families are dropped.
TEST(RocksDbStore, OpensADirectoryThatKeptCheckpointsWithTheLog) {
  testing::TempDir dir;
  const auto big_endian = [](uint64_t v) {
    std::string out;
    for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
    return out;
  };
  {
    rocksdb::Options options;
    options.create_if_missing = true;
    options.create_missing_column_families = true;
    std::vector<rocksdb::ColumnFamilyDescriptor> families;
    for (const char* name :
         {"default", "events", "dedup", "history", "identity", "state", "timers", "records", "measurement"}) {
      families.emplace_back(name, rocksdb::ColumnFamilyOptions());
    }
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::DBOptions(options), dir.path(), families, &handles, &raw).ok());
    ASSERT_TRUE(raw->Put({}, handles[0], "learner/1/churn", "weights").ok());
    ASSERT_TRUE(raw->Put({}, handles[0], "partitions", big_endian(2)).ok());
    ASSERT_TRUE(raw->Put({}, handles[5], "p/1", big_endian(42)).ok());
    for (int i = 0; i < 12'000; ++i) {  // more than one chunk of the move
      ASSERT_TRUE(raw->Put({}, handles[5], "c/zz" + std::to_string(i), "s").ok());
    }
    ASSERT_TRUE(raw->Put({}, handles[5], "c/alice", "state-a").ok());
    ASSERT_TRUE(raw->Put({}, handles[6], "alice", big_endian(777)).ok());
    for (auto* handle : handles) raw->DestroyColumnFamilyHandle(handle);
    delete raw;
  }
  for (int open = 0; open < 2; ++open) {
    auto store = Open(dir.path());
    EXPECT_EQ(*store->PartitionCount(8), 2);
    EXPECT_EQ(store->AppliedSeq(1), 42u);
    std::string state;
    ASSERT_TRUE(*store->ReadState("alice", &state));
    EXPECT_EQ(state, "state-a");
    EXPECT_TRUE(*store->ReadState("zz11999", &state));
    std::vector<std::pair<std::string, Micros>> timers;
    ASSERT_TRUE(store->ScanTimers([&](std::string_view id, Micros due) { timers.emplace_back(id, due); }).ok());
    EXPECT_THAT(timers, ::testing::ElementsAre(std::pair<std::string, Micros>("alice", 777)));
    std::vector<std::string> learners;
    ASSERT_TRUE(store->ScanLearners(1, [&](std::string_view model, std::string_view value) {
      learners.push_back(std::string(model) + "=" + std::string(value));
    }).ok());
    EXPECT_THAT(learners, ::testing::ElementsAre("churn=weights"));
  }
  std::vector<std::string> families;
  ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir.path(), &families).ok());
  EXPECT_THAT(families, ::testing::Not(::testing::Contains("state")));
  EXPECT_THAT(families, ::testing::Not(::testing::Contains("timers")));

  // Erasure reaches the moved state and timer index.
  auto store = Open(dir.path());
  ASSERT_TRUE(store->EraseCustomer(std::vector<std::string>{"alice"}).ok());
  std::string state;
  EXPECT_FALSE(*store->ReadState("alice", &state));
  int timers = 0;
  ASSERT_TRUE(store->ScanTimers([&](std::string_view, Micros) { ++timers; }).ok());
  EXPECT_EQ(timers, 0);
}

TEST(RocksDbStore, ReportsAnUnusableDirectory) {
  auto store = OpenRocksDbStore("/proc/upfront-cannot-be-here", {});
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.status().message().find("data directory"), std::string::npos);
}

}  // namespace
}  // namespace upfront
