#include "src/server/http/decision_ledger.h"

#include <rocksdb/db.h>

#include <unistd.h>

#include <filesystem>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "src/common/scratch_dir.h"

namespace upfront {
namespace {

constexpr Micros kNoon = 1'795'000'000'000'000;

RecordedDecision Decision(const std::string& id, const std::string& customer, Micros at, bool nudge) {
  RecordedDecision d;
  d.id = id;
  d.customer = customer;
  d.at = at;
  d.json = R"({"decision_id":")" + id + R"(","customer":")" + customer + R"(","action":"deliver"})";
  d.nudge = nudge;
  d.nudge_expires = at + kMicrosPerDay;
  d.may_be_recorded = false;
  return d;
}

std::vector<std::string> Ids(const nlohmann::json& decisions) {
  std::vector<std::string> ids;
  for (const nlohmann::json& d : decisions) ids.push_back(d["decision_id"]);
  return ids;
}

TEST(DecisionLedger, FindsEachCustomersDecisionsAndPendingNudges) {
  ScratchDir dir("ledger-test");
  auto ledger = DecisionLedger::Open(dir.path());
  ASSERT_TRUE(ledger.ok()) << ledger.status();
  ASSERT_TRUE((*ledger)
                  ->Record({Decision("a1", "ann", kNoon, true), Decision("b1", "bob", kNoon + 1, false),
                            Decision("a2", "ann", kNoon + 2, false), Decision("a3", "ann", kNoon + 3, true)})
                  .ok());

  auto anns = (*ledger)->CustomerDecisions({"ann"}, 10);
  ASSERT_TRUE(anns.ok());
  EXPECT_THAT(Ids(*anns), ::testing::ElementsAre("a3", "a2", "a1"));  // newest first
  EXPECT_THAT(Ids(*(*ledger)->CustomerDecisions({"ann"}, 2)), ::testing::ElementsAre("a3", "a2"));
  EXPECT_THAT(Ids(*(*ledger)->CustomerDecisions({"bob"}, 10)), ::testing::ElementsAre("b1"));

  EXPECT_THAT(Ids(*(*ledger)->PendingNudges({"ann"}, kNoon)), ::testing::ElementsAre("a1", "a3"));
  EXPECT_TRUE((*(*ledger)->PendingNudges({"bob"}, kNoon)).empty());
  EXPECT_EQ((*ledger)->pending_nudges(), 2u);

  ASSERT_TRUE((*ledger)->RecordFeedback("a1", "accepted", kNoon + 10).ok());
  EXPECT_THAT(Ids(*(*ledger)->PendingNudges({"ann"}, kNoon)), ::testing::ElementsAre("a3"));
  EXPECT_EQ((*ledger)->pending_nudges(), 1u);
}

TEST(DecisionLedger, ADecisionToldTwiceInOneBatchIsOneNudgeWithItsLastRecord) {
  ScratchDir dir("ledger-test");
  auto ledger = DecisionLedger::Open(dir.path());
  ASSERT_TRUE(ledger.ok()) << ledger.status();
  RecordedDecision again = Decision("a1", "ann", kNoon, true);
  again.json = R"({"decision_id":"a1","customer":"ann","action":"review"})";
  ASSERT_TRUE((*ledger)->Record({Decision("a1", "ann", kNoon, true), Decision("b1", "bob", kNoon, true), again}).ok());
  EXPECT_EQ((*ledger)->pending_nudges(), 2u);
  EXPECT_THAT(Ids(*(*ledger)->PendingNudges({"ann"}, kNoon)), ::testing::ElementsAre("a1"));
  EXPECT_EQ((*(*ledger)->Get("a1"))["action"], "review");
  EXPECT_THAT(Ids(*(*ledger)->CustomerDecisions({"ann"}, 10)), ::testing::ElementsAre("a1"));
}

TEST(DecisionLedger, ErasureRemovesEveryDecisionAndNudgeOfTheCustomerOnly) {
  ScratchDir dir("ledger-test");
  auto ledger = DecisionLedger::Open(dir.path());
  ASSERT_TRUE(ledger.ok()) << ledger.status();
  ASSERT_TRUE((*ledger)
                  ->Record({Decision("a1", "ann", kNoon, true), Decision("b1", "bob", kNoon + 1, true),
                            Decision("a2", "ann-merged", kNoon + 2, false)})
                  .ok());
  auto erased = (*ledger)->EraseCustomers({"ann", "ann-merged"});
  ASSERT_TRUE(erased.ok());
  EXPECT_EQ(*erased, 2u);
  EXPECT_TRUE((*(*ledger)->CustomerDecisions({"ann", "ann-merged"}, 10)).empty());
  EXPECT_TRUE((*(*ledger)->PendingNudges({"ann"}, kNoon)).empty());
  EXPECT_EQ((*ledger)->Get("a1").status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(Ids(*(*ledger)->CustomerDecisions({"bob"}, 10)), ::testing::ElementsAre("b1"));
  EXPECT_EQ((*ledger)->pending_nudges(), 1u);
}

TEST(DecisionLedger, UnansweredNudgesExpireAndLeaveThePendingList) {
  ScratchDir dir("ledger-test");
  auto ledger = DecisionLedger::Open(dir.path());
  ASSERT_TRUE(ledger.ok()) << ledger.status();
  RecordedDecision early = Decision("a1", "ann", kNoon, true);
  RecordedDecision late = Decision("a2", "ann", kNoon, true);
  early.nudge_expires = kNoon + kMicrosPerHour;
  late.nudge_expires = kNoon + 3 * kMicrosPerHour;
  ASSERT_TRUE((*ledger)->Record({early, late, Decision("b1", "bob", kNoon, true)}).ok());
  ASSERT_TRUE((*ledger)->RecordFeedback("b1", "dismissed", kNoon).ok());

  auto expired = (*ledger)->ExpireNudges(kNoon + 2 * kMicrosPerHour);
  ASSERT_TRUE(expired.ok()) << expired.status();
  EXPECT_EQ(*expired, 1u);  // a1 only: a2 still has time, b1 was answered
  EXPECT_EQ((*ledger)->pending_nudges(), 1u);
  EXPECT_EQ((*(*ledger)->Get("a1"))["nudge"]["status"], "expired");
  EXPECT_EQ((*(*ledger)->Get("b1"))["nudge"]["status"], "dismissed");
  EXPECT_THAT(Ids(*(*ledger)->PendingNudges({"ann"}, kNoon)), ::testing::ElementsAre("a2"));
  EXPECT_EQ(*(*ledger)->ExpireNudges(kNoon + 2 * kMicrosPerHour), 0u);  // nothing twice

  // It may have been on screen as its time ran out: the answer still counts.
  ASSERT_TRUE((*ledger)->RecordFeedback("a1", "accepted", kNoon + 2 * kMicrosPerHour).ok());
  EXPECT_EQ((*(*ledger)->Get("a1"))["nudge"]["status"], "accepted");
  EXPECT_EQ((*ledger)->pending_nudges(), 1u);
  EXPECT_EQ((*ledger)->RecordFeedback("a1", "dismissed", kNoon).code(), absl::StatusCode::kFailedPrecondition);

  ledger->reset();
  ledger = DecisionLedger::Open(dir.path());
  EXPECT_EQ((*ledger)->pending_nudges(), 1u);  // counted from the pending list at open
}

// Decisions the size the engine tells them (~800 bytes) live in blob files
// once their memtable is flushed: more than one memtable's worth is written
// and the ledger closed (which flushes what its memtables held) and
// reopened; each decision reads back whole, and erasure still removes a
// customer's.
TEST(DecisionLedger, FullSizeDecisionsReadBackFromBlobFilesAfterAReopen) {
  ScratchDir dir("ledger-test");
  constexpr int kCount = 100'000;  // ~85 MB: past the 64 MB memtable
  const std::string padding(760, 'x');
  const auto id_of = [](int i) { return std::to_string(1'000'000 + i); };
  const auto customer_of = [](int i) { return std::to_string(i % 1000).insert(0, "customer-"); };
  {
    auto ledger = DecisionLedger::Open(dir.path());
    ASSERT_TRUE(ledger.ok()) << ledger.status();
    std::vector<RecordedDecision> batch;
    for (int i = 0; i < kCount; ++i) {
      RecordedDecision& d = batch.emplace_back(Decision(id_of(i), customer_of(i), kNoon + i, false));
      d.json.insert(d.json.size() - 1, R"(,"pad":")" + padding + "\"");
      if (batch.size() == 1000) {
        ASSERT_TRUE((*ledger)->Record(batch).ok());
        batch.clear();
      }
    }
  }
  auto ledger = DecisionLedger::Open(dir.path());
  ASSERT_TRUE(ledger.ok()) << ledger.status();
  bool has_blob_file = false;
  for (const auto& f : std::filesystem::directory_iterator(dir.path())) has_blob_file |= f.path().extension() == ".blob";
  EXPECT_TRUE(has_blob_file);
  for (int i : {0, 1, 4'999, 50'000, kCount - 1}) {
    auto d = (*ledger)->Get(id_of(i));
    ASSERT_TRUE(d.ok()) << i << ": " << d.status();
    EXPECT_EQ((*d)["customer"], customer_of(i));
    EXPECT_EQ((*d)["pad"], padding);
  }
  EXPECT_EQ((*(*ledger)->CustomerDecisions({customer_of(7)}, 1000)).size(), static_cast<size_t>(kCount / 1000));
  auto erased = (*ledger)->EraseCustomers({customer_of(7)});
  ASSERT_TRUE(erased.ok()) << erased.status();
  EXPECT_EQ(*erased, static_cast<uint64_t>(kCount / 1000));
  EXPECT_EQ((*ledger)->Get(id_of(7)).status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE((*ledger)->Get(id_of(8)).ok());
}

// A ledger written before the customer keys, nudge states and claims had
// column families of their own: opening it moves them, and nothing is lost.
TEST(DecisionLedger, OpensALedgerThatKeptEveryKeyInTheDefaultFamily) {
  ScratchDir dir("ledger-test");
  {
    rocksdb::Options options;
    options.create_if_missing = true;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(options, dir.path(), &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    const auto key = [](char space, std::string_view rest) { return std::string{space, '\0'} + std::string(rest); };
    std::string by_time = key('c', std::string("ann") + '\0');
    for (int shift = 56; shift >= 0; shift -= 8) by_time.push_back(static_cast<char>(kNoon >> shift));
    by_time += "a1";
    ASSERT_TRUE(db->Put({}, key('d', "a1"), R"({"decision_id":"a1","customer":"ann"})").ok());
    ASSERT_TRUE(db->Put({}, key('n', "a1"), R"({"customer":"ann","expires":"2099-01-01T00:00:00Z","status":"pending"})")
                    .ok());
    ASSERT_TRUE(db->Put({}, by_time, "").ok());
    ASSERT_TRUE(db->Put({}, key('p', std::string("ann") + '\0' + "a1"), "").ok());
    ASSERT_TRUE(db->Put({}, key('r', "review-1"), R"({"agent":"bo","until":4102444800000000})").ok());
  }
  for (int open = 0; open < 2; ++open) {  // the move happens once; the second open finds it done
    auto ledger = DecisionLedger::Open(dir.path());
    ASSERT_TRUE(ledger.ok()) << ledger.status();
    EXPECT_THAT(Ids(*(*ledger)->CustomerDecisions({"ann"}, 10)), ::testing::ElementsAre("a1"));
    EXPECT_THAT(Ids(*(*ledger)->PendingNudges({"ann"}, kNoon)), ::testing::ElementsAre("a1"));
    EXPECT_EQ((*ledger)->pending_nudges(), 1u);
    EXPECT_EQ((*(*ledger)->Get("a1"))["nudge"]["status"], "pending");
    EXPECT_EQ((*ledger)->ClaimHolder("review-1", kNoon), "bo");
  }
}

// Decisions are recorded without a log: a crash loses those recorded after
// the last Persist(), and the engine tells them again. A nudge's feedback is
// logged and synced, so it outlives its decision's record and is kept when
// the decision is told again. The crash runs in a child process (a death
// test), which ends without closing the ledger.
std::filesystem::path CrashDir(pid_t test_process) {
  return std::filesystem::temp_directory_path() / ("upfront-ledger-crash-" + std::to_string(test_process));
}

TEST(DecisionLedgerDeathTest, ACrashLosesOnlyWhatCameAfterPersistAndKeepsFeedback) {
  // A fresh process for the child: RocksDB's background threads, which
  // earlier tests may have started here, would not exist in a fork. It runs
  // this test again from the start, and writes where its parent reads.
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  const std::string path = CrashDir(getpid()).string();
  std::filesystem::remove_all(path);
  const auto retold = [](RecordedDecision d) {
    d.may_be_recorded = true;
    return d;
  };
  const RecordedDecision a = Decision("0001a", "ann", kNoon, true);
  const RecordedDecision b = Decision("0002b", "bea", kNoon + 1, true);
  const RecordedDecision c = Decision("0003c", "cid", kNoon + 2, true);
  EXPECT_EXIT(
      {
        auto ledger = DecisionLedger::Open(CrashDir(getppid()).string());
        if (!ledger.ok() || !(*ledger)->Record({a}).ok() || !(*ledger)->Persist().ok() ||
            !(*ledger)->Record({b, c}).ok() || !(*ledger)->RecordFeedback(b.id, "dismissed", kNoon + 5).ok()) {
          _exit(1);
        }
        _exit(0);  // a crash: nothing is closed, nothing more is flushed
      },
      ::testing::ExitedWithCode(0), "");

  auto ledger = DecisionLedger::Open(path);
  ASSERT_TRUE(ledger.ok()) << ledger.status();
  ASSERT_TRUE((*ledger)->Get(a.id).ok());
  EXPECT_EQ((*(*ledger)->Get(a.id))["nudge"]["status"], "pending");
  EXPECT_EQ((*ledger)->Get(b.id).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ((*ledger)->Get(c.id).status().code(), absl::StatusCode::kNotFound);

  // Recovery tells them again.
  ASSERT_TRUE((*ledger)->Record({retold(b), retold(c)}).ok());
  EXPECT_EQ((*(*ledger)->Get(b.id))["nudge"]["status"], "dismissed");
  EXPECT_EQ((*(*ledger)->Get(c.id))["nudge"]["status"], "pending");
  EXPECT_THAT(Ids(*(*ledger)->PendingNudges({"ann", "bea", "cid"}, kNoon)), ::testing::ElementsAre("0001a", "0003c"));
  EXPECT_EQ((*ledger)->pending_nudges(), 2u);
  EXPECT_THAT(Ids(*(*ledger)->CustomerDecisions({"bea"}, 10)), ::testing::ElementsAre("0002b"));
  ledger->reset();
  std::filesystem::remove_all(path);
}

}  // namespace
}  // namespace upfront
