#include "src/server/control/audit_trail.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <thread>

#include "src/common/time_format.h"
#include "src/server/control/control_db.h"
#include "src/server/control/control_test_util.h"
#include "src/testing/temp_dir.h"

namespace upfront {
namespace {

using ::testing::HasSubstr;
using Json = nlohmann::json;
using testing::OpenControlStore;
using testing::RawControlDb;
using testing::TempDir;

AuditEntry Decision(int n, std::vector<std::string> customers = {"cust-1"}) {
  return {.actor = "system",
          .action = "decision",
          .customers = std::move(customers),
          .subject = "d-" + std::to_string(n),
          .details = {{"message", "hello " + std::to_string(n)}, {"score", 0.5}}};
}

AuditRecord SampleRecord() {
  AuditRecord r;
  r.seq = 42;
  r.at = 1'764'000'000'123'456;
  r.actor = "key_\"quoted\"\\";
  r.action = "decision.deliver";
  r.subject = "line\nbreak\ttab\x01";
  r.customers = {"p_0123456789abcdef", "p_fedcba9876543210"};
  r.details_digest = std::string(64, 'd');
  r.prev = kZeroHash;
  r.hash = std::string(64, 'a');
  return r;
}

void ExpectSameRecord(const AuditRecord& a, const AuditRecord& b) {
  EXPECT_EQ(a.seq, b.seq);
  EXPECT_EQ(a.at, b.at);
  EXPECT_EQ(a.actor, b.actor);
  EXPECT_EQ(a.action, b.action);
  EXPECT_EQ(a.subject, b.subject);
  EXPECT_EQ(a.customers, b.customers);
  EXPECT_EQ(a.details_digest, b.details_digest);
  EXPECT_EQ(a.prev, b.prev);
  EXPECT_EQ(a.hash, b.hash);
  EXPECT_EQ(a.redacted, b.redacted);
}

TEST(AuditRecordTest, WritesWhatNlohmannWritesAndReadsBack) {
  for (bool redacted : {false, true}) {
    AuditRecord r = SampleRecord();
    r.redacted = redacted;
    Json j = {{"seq", r.seq},         {"at", r.at},
              {"actor", r.actor},     {"action", r.action},
              {"subject", r.subject}, {"customers", r.customers},
              {"details_digest", r.details_digest}, {"prev", r.prev},
              {"hash", r.hash}};
    if (redacted) j["redacted"] = true;
    EXPECT_EQ(r.ToJson(), j.dump());
    std::optional<AuditRecord> back = AuditRecord::Parse(r.ToJson());
    ASSERT_TRUE(back.has_value());
    ExpectSameRecord(*back, r);
  }
}

TEST(AuditRecordTest, NonAsciiTextStaysReadableAndInvalidUtf8IsReplaced) {
  AuditRecord r = SampleRecord();
  r.subject = "Zoë's policy";
  std::optional<AuditRecord> back = AuditRecord::Parse(r.ToJson());
  ASSERT_TRUE(back.has_value());
  ExpectSameRecord(*back, r);

  r.subject = "bad \xff byte";
  back = AuditRecord::Parse(r.ToJson());
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->subject, "bad \xef\xbf\xbd byte");  // U+FFFD
}

class AuditTrailTest : public ::testing::Test {
 protected:
  void SetUp() override { store_ = OpenControlStore(dir_.path(), &clock_); }
  void Reopen() {
    store_.reset();
    store_ = OpenControlStore(dir_.path(), &clock_);
  }
  void AppendDecisions(int n) {
    for (int i = 1; i <= n; ++i) {
      ASSERT_TRUE(store_->Append(Decision(i)).ok());
      clock_.Advance(kMicrosPerSecond);
    }
  }
  Json Entries(std::string_view customer = "", uint64_t from = 1, size_t limit = 0) {
    absl::StatusOr<std::string> json = store_->AuditJson(customer, from, limit);
    EXPECT_TRUE(json.ok()) << json.status();
    return Json::parse(json.value_or("[]"));
  }
  // Closes the store and opens its database directly, as an attacker could.
  std::unique_ptr<RawControlDb> Tamper() {
    store_.reset();
    return std::make_unique<RawControlDb>(dir_.path());
  }
  AuditVerifyReport VerifyAfter(std::unique_ptr<RawControlDb> raw) {
    raw.reset();
    store_ = OpenControlStore(dir_.path(), &clock_);
    return store_->Verify();
  }
  static std::string EntryKey(uint64_t seq) { return NumberedKey(kAuditPrefix, seq); }
  static std::string DetailsKey(uint64_t seq) { return NumberedKey(kDetailsPrefix, seq); }

  TempDir dir_;
  ManualClock clock_{1'700'000'000 * kMicrosPerSecond};
  std::unique_ptr<ControlStore> store_;
};

TEST_F(AuditTrailTest, AppendedEntriesAreChainedAndVerify) {
  EXPECT_EQ(store_->Append(Decision(1)).value(), 1u);
  clock_.Advance(kMicrosPerSecond);
  EXPECT_EQ(store_->Append(Decision(2, {"cust-1", "cust-2", "cust-1", ""})).value(), 2u);

  Json entries = Entries();
  ASSERT_EQ(entries.size(), 2u);
  const Json& first = entries[0];
  EXPECT_EQ(first["seq"], 1);
  EXPECT_EQ(first["at"], "2023-11-14T22:13:20.000Z");
  EXPECT_EQ(first["actor"], "system");
  EXPECT_EQ(first["action"], "decision");
  EXPECT_EQ(first["subject"], "d-1");
  EXPECT_EQ(first["customers"], Json::array({store_->Pseudonym("cust-1")}));
  EXPECT_EQ(first["details"], Json({{"message", "hello 1"}, {"score", 0.5}}));
  EXPECT_EQ(first["details_digest"], Sha256Hex(R"({"message":"hello 1","score":0.5})"));
  EXPECT_EQ(first["prev"], std::string(64, '0'));
  EXPECT_THAT(first["hash"].get<std::string>(), ::testing::MatchesRegex("[0-9a-f]{64}"));
  EXPECT_FALSE(first.contains("redacted"));
  // Customers are pseudonymised once each; the clear ids are nowhere.
  EXPECT_EQ(entries[1]["customers"],
            Json::array({store_->Pseudonym("cust-1"), store_->Pseudonym("cust-2")}));
  EXPECT_EQ(entries[1]["prev"], first["hash"]);
  EXPECT_EQ(entries[1]["at"], "2023-11-14T22:13:21.000Z");

  AuditVerifyReport report = store_->Verify();
  EXPECT_TRUE(report.ok) << report.problem;
  EXPECT_EQ(report.entries, 2u);
  EXPECT_EQ(report.head_hash, entries[1]["hash"]);
  store_.reset();
  EXPECT_FALSE(testing::FilesContain(dir_.path(), "cust-2"));
}

TEST_F(AuditTrailTest, PseudonymsAreKeyedAndStable) {
  std::string p = store_->Pseudonym("cust-1");
  EXPECT_THAT(p, ::testing::MatchesRegex("p_[0-9a-f]{16}"));
  EXPECT_EQ(p, store_->Pseudonym("cust-1"));
  EXPECT_NE(p, store_->Pseudonym("cust-2"));
  ControlOptions options;
  options.clock = &clock_;
  options.pseudonym_key = "another key, another pseudonym space";
  auto other = ControlStore::Open(dir_.file("other"), options).value();
  EXPECT_NE(other->Pseudonym("cust-1"), p);
}

TEST_F(AuditTrailTest, EmptyTrailVerifies) {
  AuditVerifyReport report = store_->Verify();
  EXPECT_TRUE(report.ok);
  EXPECT_EQ(report.entries, 0u);
  EXPECT_EQ(report.head_hash, std::string(64, '0'));
  EXPECT_EQ(store_->AuditJson("", 1, 0).value(), "[]");
}

TEST_F(AuditTrailTest, ChainContinuesAcrossReopen) {
  AppendDecisions(3);
  Reopen();
  EXPECT_EQ(store_->Append(Decision(4)).value(), 4u);
  AuditVerifyReport report = store_->Verify();
  EXPECT_TRUE(report.ok) << report.problem;
  EXPECT_EQ(report.entries, 4u);
}

TEST_F(AuditTrailTest, AppendManyWritesDenseSeqsAtOnce) {
  AppendDecisions(2);
  std::vector<AuditEntry> batch = {Decision(3), Decision(4), Decision(5)};
  EXPECT_EQ(store_->AppendMany(batch).value(), 3u);
  EXPECT_EQ(store_->AppendMany({}).value(), 0u);
  Json entries = Entries();
  ASSERT_EQ(entries.size(), 5u);
  EXPECT_EQ(entries[4]["subject"], "d-5");
  EXPECT_TRUE(store_->Verify().ok);
  // One invalid entry refuses the whole batch.
  batch.push_back({.actor = "system"});
  absl::StatusOr<uint64_t> refused = store_->AppendMany(batch);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(refused.status().message(), HasSubstr("entry 3"));
  EXPECT_EQ(Entries().size(), 5u);
}

TEST_F(AuditTrailTest, ActorAndActionAreRequired) {
  EXPECT_EQ(store_->Append({.action = "decision"}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->Append({.actor = "system"}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Entries().size(), 0u);
}

TEST_F(AuditTrailTest, ConcurrentAppendsShareWritesAndStayDense) {
  // Synced, as in production, so appenders queue behind each other's fsync.
  store_.reset();
  ControlOptions options;
  options.clock = &clock_;
  options.pseudonym_key = testing::kTestPseudonymKey;
  store_ = ControlStore::Open(dir_.path(), options).value();
  constexpr int kThreads = 4, kPerThread = 100;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        ASSERT_TRUE(store_->Append(Decision(t * kPerThread + i)).ok());
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  AuditVerifyReport report = store_->Verify();
  EXPECT_TRUE(report.ok) << report.problem;
  EXPECT_EQ(report.entries, uint64_t{kThreads * kPerThread});
}

TEST_F(AuditTrailTest, QueriesByCustomerAndPages) {
  ASSERT_TRUE(store_->Append(Decision(1, {"alice"})).ok());
  ASSERT_TRUE(store_->Append(Decision(2, {"bob"})).ok());
  ASSERT_TRUE(store_->Append(Decision(3, {"bob", "alice"})).ok());
  ASSERT_TRUE(store_->Append(Decision(4, {})).ok());
  ASSERT_TRUE(store_->Append(Decision(5, {"alice"})).ok());

  auto seqs = [](const Json& entries) {
    std::vector<int> out;
    for (const Json& e : entries) out.push_back(e["seq"].get<int>());
    return out;
  };
  EXPECT_EQ(seqs(Entries("alice")), (std::vector<int>{1, 3, 5}));
  EXPECT_EQ(seqs(Entries("bob")), (std::vector<int>{2, 3}));
  EXPECT_EQ(seqs(Entries("carol")), (std::vector<int>{}));
  EXPECT_EQ(seqs(Entries("alice", 2)), (std::vector<int>{3, 5}));
  EXPECT_EQ(seqs(Entries("alice", 1, 2)), (std::vector<int>{1, 3}));
  EXPECT_EQ(seqs(Entries("", 3, 2)), (std::vector<int>{3, 4}));
  EXPECT_EQ(seqs(Entries("", 0, 0)), (std::vector<int>{1, 2, 3, 4, 5}));
  EXPECT_EQ(Entries("alice")[0]["details"]["message"], "hello 1");
}

// A store from before the customer index had a column family of its own:
// read-only it is read where it is; a writable open moves it, once.
TEST_F(AuditTrailTest, ReadsAndMovesTheCustomerIndexOfAnOlderStore) {
  ASSERT_TRUE(store_->Append(Decision(1, {"alice"})).ok());
  ASSERT_TRUE(store_->Append(Decision(2, {"bob"})).ok());
  ASSERT_TRUE(store_->Append(Decision(3, {"alice"})).ok());
  store_.reset();
  {
    rocksdb::Options options;
    std::vector<rocksdb::ColumnFamilyDescriptor> families = {
        {rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions()},
        {kAuditIndexFamily, rocksdb::ColumnFamilyOptions()}};
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* db = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::DBOptions(options), dir_.path(), families, &handles, &db).ok());
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator({}, handles[1]));
    int moved = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next(), ++moved) {
      ASSERT_TRUE(db->Put({}, handles[0], it->key(), it->value()).ok());
    }
    it.reset();
    EXPECT_EQ(moved, 3);
    ASSERT_TRUE(db->DropColumnFamily(handles[1]).ok());
    for (auto* handle : handles) db->DestroyColumnFamilyHandle(handle);
    delete db;
  }
  const auto seqs = [](const Json& entries) {
    std::vector<int> out;
    for (const Json& e : entries) out.push_back(e["seq"].get<int>());
    return out;
  };
  store_ = OpenControlStore(dir_.path(), &clock_, /*read_only=*/true);
  ASSERT_NE(store_, nullptr);
  EXPECT_EQ(seqs(Entries("alice")), (std::vector<int>{1, 3}));
  store_.reset();
  for (int open = 0; open < 2; ++open) {
    Reopen();
    EXPECT_EQ(seqs(Entries("alice")), (std::vector<int>{1, 3}));
    EXPECT_EQ(seqs(Entries("bob")), (std::vector<int>{2}));
  }
  ASSERT_TRUE(store_->Append(Decision(4, {"bob"})).ok());
  EXPECT_EQ(seqs(Entries("bob")), (std::vector<int>{2, 4}));
  EXPECT_TRUE(store_->Verify().ok);
}

TEST_F(AuditTrailTest, AlteredFieldIsDetected) {
  AppendDecisions(10);
  auto raw = Tamper();
  Json record = Json::parse(raw->Get(EntryKey(7)));
  record["actor"] = "agent:mallory";
  raw->Put(EntryKey(7), record.dump());
  AuditVerifyReport report = VerifyAfter(std::move(raw));
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 7u);
  EXPECT_EQ(report.entries, 6u);
  EXPECT_THAT(report.problem, HasSubstr("entry 7 altered"));
}

TEST_F(AuditTrailTest, AlteredTimeIsDetected) {
  AppendDecisions(3);
  auto raw = Tamper();
  Json record = Json::parse(raw->Get(EntryKey(2)));
  record["at"] = record["at"].get<Micros>() - kMicrosPerHour;
  raw->Put(EntryKey(2), record.dump());
  AuditVerifyReport report = VerifyAfter(std::move(raw));
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 2u);
}

TEST_F(AuditTrailTest, EntryRewrittenWithItsHashRecomputedIsDetected) {
  AppendDecisions(6);
  auto raw = Tamper();
  AuditRecord record = AuditRecord::Parse(raw->Get(EntryKey(4))).value();
  record.subject = "d-forged";
  record.hash = record.ComputeHash();
  raw->Put(EntryKey(4), record.ToJson());
  AuditVerifyReport report = VerifyAfter(std::move(raw));
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 4u);
  EXPECT_THAT(report.problem, HasSubstr("entry 5 does not link to entry 4"));
}

TEST_F(AuditTrailTest, LastEntryRewrittenWithItsHashRecomputedIsDetected) {
  AppendDecisions(5);
  auto raw = Tamper();
  AuditRecord record = AuditRecord::Parse(raw->Get(EntryKey(5))).value();
  record.actor = "agent:mallory";
  record.hash = record.ComputeHash();
  raw->Put(EntryKey(5), record.ToJson());
  AuditVerifyReport report = VerifyAfter(std::move(raw));
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 5u);
  EXPECT_THAT(report.problem, HasSubstr("does not match the recorded head"));
}

TEST_F(AuditTrailTest, AlteredDetailsAreDetected) {
  AppendDecisions(4);
  auto raw = Tamper();
  raw->Put(DetailsKey(3), R"({"message":"something else","score":0.5})");
  AuditVerifyReport report = VerifyAfter(std::move(raw));
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 3u);
  EXPECT_THAT(report.problem, HasSubstr("entry 3 details altered"));
}

TEST_F(AuditTrailTest, RemovedDetailsAreDetected) {
  AppendDecisions(4);
  auto raw = Tamper();
  raw->Delete(DetailsKey(2));
  AuditVerifyReport report = VerifyAfter(std::move(raw));
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 2u);
  EXPECT_THAT(report.problem, HasSubstr("entry 2 details missing"));
}

TEST_F(AuditTrailTest, DetailsRedactedOutsideAnErasureAreDetected) {
  AppendDecisions(4);
  auto raw = Tamper();
  Json record = Json::parse(raw->Get(EntryKey(3)));
  record["redacted"] = true;  // not covered by the hash, but needs an erasure entry
  raw->Put(EntryKey(3), record.dump());
  raw->Delete(DetailsKey(3));
  AuditVerifyReport report = VerifyAfter(std::move(raw));
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 3u);
  EXPECT_THAT(report.problem, HasSubstr("without an erasure entry"));
}

TEST_F(AuditTrailTest, DeletedMiddleEntryIsDetected) {
  AppendDecisions(10);
  auto raw = Tamper();
  raw->Delete(EntryKey(5));
  raw->Delete(DetailsKey(5));
  AuditVerifyReport report = VerifyAfter(std::move(raw));
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 5u);
  EXPECT_EQ(report.entries, 4u);
  EXPECT_THAT(report.problem, HasSubstr("entry 5 missing"));
}

TEST_F(AuditTrailTest, SwappedEntriesAreDetected) {
  AppendDecisions(8);
  auto raw = Tamper();
  std::string third = raw->Get(EntryKey(3));
  std::string sixth = raw->Get(EntryKey(6));
  raw->Put(EntryKey(3), sixth);
  raw->Put(EntryKey(6), third);
  AuditVerifyReport report = VerifyAfter(std::move(raw));
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 3u);
  EXPECT_THAT(report.problem, HasSubstr("out of order"));
}

TEST_F(AuditTrailTest, SwappedEntriesWithRenumberedSeqsAreDetected) {
  AppendDecisions(8);
  auto raw = Tamper();
  AuditRecord third = AuditRecord::Parse(raw->Get(EntryKey(3))).value();
  AuditRecord sixth = AuditRecord::Parse(raw->Get(EntryKey(6))).value();
  std::swap(third.seq, sixth.seq);
  raw->Put(EntryKey(3), sixth.ToJson());
  raw->Put(EntryKey(6), third.ToJson());
  AuditVerifyReport report = VerifyAfter(std::move(raw));
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 3u);
  EXPECT_THAT(report.problem, HasSubstr("entry 3 altered"));
}

TEST_F(AuditTrailTest, TruncatedTailIsDetected) {
  AppendDecisions(10);
  auto raw = Tamper();
  for (uint64_t seq : {9, 10}) {
    raw->Delete(EntryKey(seq));
    raw->Delete(DetailsKey(seq));
  }
  AuditVerifyReport report = VerifyAfter(std::move(raw));
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 9u);
  EXPECT_EQ(report.entries, 8u);
  EXPECT_THAT(report.problem, HasSubstr("entries 9..10 missing"));
  // New entries continue after the recorded head: the gap stays visible.
  EXPECT_EQ(store_->Append(Decision(11)).value(), 11u);
  EXPECT_EQ(store_->Verify().first_bad_seq, 9u);
}

TEST_F(AuditTrailTest, EntryAppendedBehindTheStoresBackIsDetected) {
  AppendDecisions(3);
  auto raw = Tamper();
  AuditRecord last = AuditRecord::Parse(raw->Get(EntryKey(3))).value();
  AuditRecord forged = last;
  forged.seq = 4;
  forged.prev = last.hash;
  forged.hash = forged.ComputeHash();
  raw->Put(EntryKey(4), forged.ToJson());
  raw->Put(DetailsKey(4), raw->Get(DetailsKey(3)));
  AuditVerifyReport report = VerifyAfter(std::move(raw));
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 4u);
  EXPECT_THAT(report.problem, HasSubstr("past the recorded head"));
}

TEST_F(AuditTrailTest, ErasureRedactsDetailsAndKeepsTheChain) {
  const std::string alice = "alice@example.com";
  const std::string bob = "bob@example.com";
  ASSERT_TRUE(store_->Append({.actor = "system", .action = "decision", .customers = {alice},
                              .subject = "d-1", .details = {{"message", "Hi " + alice}}})
                  .ok());
  ASSERT_TRUE(store_->Append({.actor = "system", .action = "decision", .customers = {bob},
                              .subject = "d-2", .details = {{"message", "Hi " + bob}}})
                  .ok());
  Reopen();  // the recovered log is flushed to a table file: erasure must reach those too
  ASSERT_TRUE(store_->Append({.actor = "agent:carol", .action = "feedback",
                              .customers = {bob, alice}, .subject = "r-3",
                              .details = {{"note", alice + " and " + bob + " share a seat"}}})
                  .ok());
  ASSERT_TRUE(store_->Append({.actor = "system", .action = "delivery", .subject = "d-1"}).ok());
  ASSERT_TRUE(testing::FilesContain(dir_.path(), alice));

  absl::StatusOr<uint64_t> redacted = store_->EraseCustomers({alice, alice}, "admin:dpo");
  ASSERT_TRUE(redacted.ok()) << redacted.status();
  EXPECT_EQ(*redacted, 2u);

  AuditVerifyReport report = store_->Verify();
  EXPECT_TRUE(report.ok) << report.problem;
  EXPECT_EQ(report.entries, 5u);

  Json mine = Entries(alice);
  ASSERT_EQ(mine.size(), 3u);
  EXPECT_EQ(mine[0]["seq"], 1);
  EXPECT_EQ(mine[0]["redacted"], true);
  EXPECT_FALSE(mine[0].contains("details"));
  EXPECT_EQ(mine[0]["subject"], "d-1");  // the chained record stays
  EXPECT_EQ(mine[1]["seq"], 3);
  EXPECT_EQ(mine[1]["redacted"], true);
  const Json& tombstone = mine[2];
  EXPECT_EQ(tombstone["action"], "customer.erase");
  EXPECT_EQ(tombstone["actor"], "admin:dpo");
  EXPECT_EQ(tombstone["customers"], Json::array({store_->Pseudonym(alice)}));
  EXPECT_EQ(tombstone["details"], Json({{"entries_redacted", 2}}));

  // Bob's own entry keeps its details.
  Json bobs = Entries(bob);
  ASSERT_EQ(bobs.size(), 2u);
  EXPECT_EQ(bobs[0]["details"]["message"], "Hi " + bob);
  EXPECT_EQ(bobs[1]["redacted"], true);

  // Erasing again finds nothing more, and the trail still verifies.
  EXPECT_EQ(store_->EraseCustomers({alice}, "admin:dpo").value(), 0u);
  EXPECT_TRUE(store_->Verify().ok);
  EXPECT_EQ(Entries(alice)[2]["details"], Json({{"entries_redacted", 2}}));
  EXPECT_EQ(store_->EraseCustomers({}, "admin:dpo").status().code(),
            absl::StatusCode::kInvalidArgument);

  EXPECT_FALSE(testing::FilesContain(dir_.path(), alice));
  store_.reset();
  EXPECT_FALSE(testing::FilesContain(dir_.path(), alice));
  EXPECT_TRUE(testing::FilesContain(dir_.path(), "Hi " + bob));
  store_ = OpenControlStore(dir_.path(), &clock_);
  EXPECT_TRUE(store_->Verify().ok);
}

}  // namespace
}  // namespace upfront
