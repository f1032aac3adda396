#include "upfront/engine.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/resource.h>

#include <cerrno>
#include <nlohmann/json.hpp>

#include "src/common/manual_clock.h"
#include "src/common/time_format.h"
#include "src/store/background_priority.h"
#include "src/testing/temp_dir.h"

namespace upfront {
namespace {

using ::testing::HasSubstr;

constexpr const char* kPolicy = R"(
version: "engine-test"
events:
  keep_properties: [step, path]
  keep_traits: [plan, email, email_opt_in]
  hash: [email]
  dedup_window: 1h
  allowed_lateness: 10m
outcomes:
  csat: {event: "CSAT Submitted"}
channels:
  email: {consent: traits.email_opt_in}
)";

std::shared_ptr<const Policy> TestPolicy() {
  auto policy = LoadPolicyText(kPolicy, "test.yaml");
  EXPECT_TRUE(policy.ok()) << policy.status();
  return std::make_shared<Policy>(std::move(policy).value());
}

std::string Track(const std::string& id, const std::string& event, const std::string& ts,
                  const std::string& message_id, const std::string& extra = "") {
  return R"({"type":"track","userId":")" + id + R"(","event":")" + event + R"(","timestamp":")" + ts +
         R"(","messageId":")" + message_id + "\"" + extra + "}";
}

class EngineTest : public ::testing::Test {
 protected:
  void Open(ArrivalClock arrival = ArrivalClock::kEventTime) {
    engine_.reset();
    EngineOptions options;
    options.data_dir = dir_.path();
    options.policy = policy_;
    options.partitions = 2;
    options.clock = &clock_;
    options.arrival = arrival;
    auto engine = Engine::Open(options);
    ASSERT_TRUE(engine.ok()) << engine.status();
    engine_ = std::move(engine).value();
  }
  IngestReport Ingest(const std::string& payload) {
    auto report = engine_->Ingest(payload);
    EXPECT_TRUE(report.ok()) << report.status();
    return report.ok() ? *report : IngestReport();
  }
  nlohmann::json Profile(const std::string& id) {
    auto json = engine_->ProfileJson(id);
    EXPECT_TRUE(json.ok()) << json.status();
    return json.ok() ? nlohmann::json::parse(*json) : nlohmann::json();
  }

  testing::TempDir dir_;
  std::shared_ptr<const Policy> policy_ = TestPolicy();
  ManualClock clock_{1'800'000'000'000'000};
  std::unique_ptr<Engine> engine_;
};

TEST_F(EngineTest, GoodEventsOfAPartlyBadBatchLand) {
  Open();
  std::string payload = Track("u1", "Form Error", "2026-11-25T10:00:00Z", "m1") + "\n" +
                        R"({"type":"track","event":"Form Error","timestamp":"2026-11-25T10:00:01Z"})" + "\n" +
                        Track("u1", "Form Error", "2026-11-25T10:00:02Z", "m3") + "\n";
  IngestReport report = Ingest(payload);
  EXPECT_EQ(report.accepted, 2u);
  EXPECT_EQ(report.rejected, 1u);
  ASSERT_EQ(report.events.size(), 3u);
  EXPECT_EQ(report.events[1].status, EventResult::Status::kRejected);
  EXPECT_EQ(report.events[1].index, 1u);
  EXPECT_EQ(report.events[1].line, 2u);
  EXPECT_EQ(report.events[1].field, "userId");
  EXPECT_THAT(IngestReport::Describe(report.events[1]), HasSubstr("event 1 (line 2): field userId"));
  EXPECT_EQ(Profile("u1")["events"], 2);
}

// Partitions apply what is already acknowledged: they run below the threads
// an acknowledgement waits for (the sequencer stays at the process's own).
TEST_F(EngineTest, PartitionThreadsRunBelowTheSequencer) {
  Open();
  Ingest(Track("u1", "Form Error", "2026-11-25T10:00:00Z", "m1"));
  ASSERT_TRUE(engine_->Flush().ok());  // every thread has started and applied it
  for (const char* name : {"upfront-part-0", "upfront-part-1", "upfront-seq"}) {
    const std::vector<int> ids = BackgroundThreadIds(name);
    ASSERT_EQ(ids.size(), 1u) << name;
    errno = 0;
    const int niceness = getpriority(PRIO_PROCESS, static_cast<id_t>(ids[0]));
    ASSERT_EQ(errno, 0) << name;
    const int policy = sched_getscheduler(ids[0]);
    if (std::string_view(name) == "upfront-seq") {
      EXPECT_EQ(niceness, getpriority(PRIO_PROCESS, 0)) << name;
      EXPECT_EQ(policy, sched_getscheduler(0)) << name;
    } else {
      EXPECT_GE(niceness, 8) << name;
      EXPECT_EQ(policy, SCHED_BATCH) << name << ": a woken partition would preempt the sequencer";
    }
  }
}

TEST_F(EngineTest, OversizedBatchIsRejectedWholeAndStoresNothing) {
  Open();
  std::string batch = R"({"batch":[)";
  for (int i = 0; i < 3000; ++i) {
    if (i) batch += ",";
    batch += Track("big", "Page Padding", "2026-11-25T10:00:00Z", "pad-" + std::to_string(i),
                   R"(,"properties":{"step":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"})");
  }
  batch += "]}";
  ASSERT_GT(batch.size(), 500u * 1024);
  auto report = engine_->Ingest(batch);
  ASSERT_FALSE(report.ok());
  EXPECT_THAT(report.status().message(), HasSubstr("limit is 512000 bytes"));
  EXPECT_EQ(engine_->Stats().last_seq, 0u);
  EXPECT_EQ(engine_->ProfileJson("big").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(EngineTest, DuplicateMessageIdsAreIgnoredWithinTheWindowEvenAcrossARestart) {
  Open();
  Ingest(Track("u1", "Form Error", "2026-11-25T10:00:00Z", "same"));
  IngestReport again = Ingest(Track("u1", "Form Error", "2026-11-25T10:05:00Z", "same"));
  EXPECT_EQ(again.duplicates, 1u);
  Open();  // restart
  IngestReport after_restart = Ingest(Track("u1", "Form Error", "2026-11-25T10:30:00Z", "same"));
  EXPECT_EQ(after_restart.duplicates, 1u);
  EXPECT_EQ(after_restart.accepted, 0u);
  EXPECT_EQ(Profile("u1")["events"], 1);
}

TEST_F(EngineTest, DuplicatesWithinOneBatchAreCaught) {
  Open();
  IngestReport report = Ingest(Track("u1", "A", "2026-11-25T10:00:00Z", "dup") + "\n" +
                               Track("u1", "A", "2026-11-25T10:00:00Z", "dup") + "\n");
  EXPECT_EQ(report.accepted, 1u);
  EXPECT_EQ(report.duplicates, 1u);
}

TEST_F(EngineTest, AMessageIdIsNewAgainAfterTheDedupWindow) {
  Open();
  Ingest(Track("u1", "A", "2026-11-25T10:00:00Z", "m"));
  IngestReport later = Ingest(Track("u1", "A", "2026-11-25T11:00:01Z", "m"));
  EXPECT_EQ(later.accepted, 1u);
}

TEST_F(EngineTest, EventsLaterThanTheAllowedLatenessAreStoredAndFlagged) {
  Open();
  Ingest(Track("u1", "A", "2026-11-25T10:30:00Z", "a"));
  IngestReport within = Ingest(Track("u1", "B", "2026-11-25T10:20:00Z", "b"));  // exactly 10m: on time
  EXPECT_EQ(within.late, 0u);
  IngestReport late = Ingest(Track("u1", "C", "2026-11-25T10:19:59Z", "c"));
  EXPECT_EQ(late.accepted, 1u);
  EXPECT_EQ(late.late, 1u);
  EXPECT_TRUE(late.events[0].late);
  nlohmann::json p = Profile("u1");
  EXPECT_EQ(p["events"], 3);
  EXPECT_EQ(p["lateEvents"], 1);
}

TEST_F(EngineTest, WallClockArrivalFlagsOldEventsLate) {
  Open(ArrivalClock::kWall);
  clock_.Set(*ParseTimestamp("2026-11-25T12:00:00Z"));
  IngestReport report = Ingest(Track("u1", "A", "2026-11-25T11:00:00Z", "x") + "\n" +
                               Track("u1", "A", "2026-11-25T11:55:00Z", "y") + "\n");
  EXPECT_TRUE(report.events[0].late);
  EXPECT_FALSE(report.events[1].late);
}

TEST_F(EngineTest, IdentifyMergesTheAnonymousProfileIntoTheKnownOne) {
  Open();
  Ingest(R"({"type":"page","anonymousId":"anon-1","timestamp":"2026-11-25T10:00:00Z","messageId":"p1","properties":{"path":"/checkout"}})");
  Ingest(R"({"type":"track","anonymousId":"anon-1","event":"Form Error","timestamp":"2026-11-25T10:01:00Z","messageId":"p2","traits":{"email_opt_in":false}})");
  Ingest(R"({"type":"track","userId":"user-1","event":"Login","timestamp":"2026-11-25T09:00:00Z","messageId":"p3"})");
  Ingest(R"({"type":"identify","userId":"user-1","anonymousId":"anon-1","timestamp":"2026-11-25T10:02:00Z","messageId":"p4","traits":{"plan":"pro","email_opt_in":true}})");
  Ingest(R"({"type":"track","anonymousId":"anon-1","event":"Form Error","timestamp":"2026-11-25T10:03:00Z","messageId":"p5"})");

  nlohmann::json known = Profile("user-1");
  EXPECT_EQ(known["id"], "user-1");
  EXPECT_EQ(known["events"], 5);
  EXPECT_EQ(known["eventCounts"]["Form Error"], 2);
  EXPECT_EQ(known["eventCounts"]["Page Viewed"], 1);
  EXPECT_EQ(known["traits"]["plan"], "pro");
  EXPECT_EQ(known["anonymousIds"], nlohmann::json::array({"anon-1"}));
  EXPECT_EQ(known["firstSeen"], "2026-11-25T09:00:00.000Z");
  // Later events under the anonymous id reach the merged profile.
  EXPECT_EQ(Profile("anon-1"), known);
}

TEST_F(EngineTest, TheStricterConsentWinsAMerge) {
  Open();
  Ingest(R"({"type":"identify","anonymousId":"anon-2","timestamp":"2026-11-25T10:00:00Z","messageId":"c1","traits":{"email_opt_in":false}})");
  Ingest(R"({"type":"identify","userId":"user-2","timestamp":"2026-11-25T10:01:00Z","messageId":"c2","traits":{"email_opt_in":true}})");
  Ingest(R"({"type":"alias","previousId":"anon-2","userId":"user-2","timestamp":"2026-11-25T10:02:00Z","messageId":"c3"})");
  EXPECT_EQ(Profile("user-2")["consent"]["email"]["state"], "denied");
}

TEST_F(EngineTest, AnAnonymousIdNeverMergesTwoKnownCustomers) {
  Open();
  Ingest(R"({"type":"identify","userId":"alice","anonymousId":"shared-device","timestamp":"2026-11-25T10:00:00Z","messageId":"s1"})");
  Ingest(R"({"type":"identify","userId":"bob","anonymousId":"shared-device","timestamp":"2026-11-25T11:00:00Z","messageId":"s2"})");
  EXPECT_EQ(Profile("alice")["events"], 1);
  EXPECT_EQ(Profile("bob")["events"], 1);
  EXPECT_EQ(Profile("bob")["mergedIds"], nlohmann::json::array());
}

TEST_F(EngineTest, OnlyDeclaredFieldsAreKeptAndHashedOnesNeverInClear) {
  Open();
  Ingest(R"({"type":"identify","userId":"u9","timestamp":"2026-11-25T10:00:00Z","messageId":"h1","traits":{"email":"ana@example.com","ssn":"123-45-6789","plan":"pro"}})");
  nlohmann::json p = Profile("u9");
  EXPECT_FALSE(p["traits"].contains("ssn"));
  ASSERT_TRUE(p["traits"].contains("email"));
  std::string hashed = p["traits"]["email"];
  EXPECT_EQ(hashed.size(), 64u);
  EXPECT_EQ(hashed.find("example"), std::string::npos);
  std::string serialized = p.dump();
  EXPECT_EQ(serialized.find("ana@example.com"), std::string::npos);
}

TEST_F(EngineTest, StateSurvivesARestartAndMergesKeepWorking) {
  Open();
  Ingest(R"({"type":"track","anonymousId":"a7","event":"X","timestamp":"2026-11-25T10:00:00Z","messageId":"r1"})");
  Open();
  Ingest(R"({"type":"identify","userId":"u7","anonymousId":"a7","timestamp":"2026-11-25T10:01:00Z","messageId":"r2"})");
  Open();
  nlohmann::json p = Profile("a7");
  EXPECT_EQ(p["id"], "u7");
  EXPECT_EQ(p["events"], 2);
  EXPECT_EQ(engine_->Stats().replayed_on_open, 0u);  // clean shutdowns checkpoint everything
}

TEST_F(EngineTest, TheLogKeepsEventsOnlyForTheRetentionButStateRemains) {
  auto policy = LoadPolicyText(std::string(kPolicy) + "\n", "t.yaml").value();
  policy.events.retention = 30 * kMicrosPerDay;
  policy_ = std::make_shared<Policy>(policy);
  Open();
  Ingest(Track("u1", "A", "2026-01-01T00:00:00Z", "old"));
  Ingest(Track("u1", "A", "2026-03-01T00:00:00Z", "new"));
  Open();
  EXPECT_EQ(engine_->Stats().purged_on_open, 1u);
  EXPECT_EQ(Profile("u1")["events"], 2);
  Open();
  EXPECT_EQ(engine_->Stats().purged_on_open, 0u);
}

TEST_F(EngineTest, UnknownCustomerIsNotFound) {
  Open();
  EXPECT_EQ(engine_->ProfileJson("nobody").status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace upfront

namespace upfront {
namespace {

class ErasureTest : public EngineTest {};

TEST_F(ErasureTest, ExportHoldsEverythingAboutBothMergedIds) {
  Open();
  Ingest(R"({"type":"track","anonymousId":"anon-1","event":"Form Error","timestamp":"2026-11-25T10:00:00Z","messageId":"a1"})");
  Ingest(R"({"type":"identify","userId":"u1","anonymousId":"anon-1","traits":{"plan":"pro"},"timestamp":"2026-11-25T10:01:00Z","messageId":"a2"})");
  Ingest(Track("u1", "Form Error", "2026-11-25T10:02:00Z", "a3"));
  Ingest(Track("u2", "Form Error", "2026-11-25T10:02:00Z", "b1"));

  auto ids = engine_->CustomerIds("anon-1");
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_EQ(*ids, (std::vector<std::string>{"u1", "anon-1"}));
  auto exported = engine_->ExportCustomer("anon-1");
  ASSERT_TRUE(exported.ok()) << exported.status();
  const nlohmann::json out = nlohmann::json::parse(*exported);
  ASSERT_EQ(out["events"].size(), 3u);
  EXPECT_EQ(out["events"][0]["event"]["messageId"], "a1");
  EXPECT_EQ(out["events"][2]["event"]["messageId"], "a3");
  EXPECT_EQ(out["profile"]["traits"]["plan"], "pro");
  EXPECT_TRUE(out.contains("preferences"));
  EXPECT_EQ(engine_->CustomerIds("nobody").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(ErasureTest, EraseRemovesBothIdsDurablyAndLeavesOthers) {
  Open();
  Ingest(R"({"type":"track","anonymousId":"anon-1","event":"Form Error","timestamp":"2026-11-25T10:00:00Z","messageId":"a1"})");
  Ingest(R"({"type":"identify","userId":"u1","anonymousId":"anon-1","traits":{"plan":"pro"},"timestamp":"2026-11-25T10:01:00Z","messageId":"a2"})");
  Ingest(Track("u2", "Form Error", "2026-11-25T10:02:00Z", "b1"));

  auto report = engine_->EraseCustomer("u1");
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->ids, (std::vector<std::string>{"u1", "anon-1"}));
  EXPECT_EQ(report->events, 2u);
  EXPECT_EQ(engine_->ProfileJson("u1").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(engine_->ProfileJson("anon-1").status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(engine_->ProfileJson("u2").ok());

  // Nothing comes back after a restart: not from state, not from the log.
  Open();
  EXPECT_EQ(engine_->ProfileJson("u1").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(engine_->ProfileJson("anon-1").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Profile("u2")["traits"].size(), 0u);

  // The old anonymous id is free again: new events start a new profile.
  Ingest(R"({"type":"track","anonymousId":"anon-1","event":"Form Error","timestamp":"2026-11-25T11:00:00Z","messageId":"a9"})");
  auto ids = engine_->CustomerIds("anon-1");
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(*ids, (std::vector<std::string>{"anon-1"}));
  auto exported = engine_->ExportCustomer("anon-1");
  ASSERT_TRUE(exported.ok());
  EXPECT_EQ(nlohmann::json::parse(*exported)["events"].size(), 1u);
  EXPECT_EQ(engine_->EraseCustomer("nobody").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(ErasureTest, RetentionPurgesOldEvents) {
  Open(ArrivalClock::kWall);
  Ingest(Track("u1", "Form Error", "2026-11-25T10:00:00Z", "r1"));
  clock_.Advance(400 * kMicrosPerDay);  // the default retention is shorter
  Ingest(Track("u1", "Form Error", "2026-11-25T10:00:00Z", "r2"));
  auto purged = engine_->PurgeExpiredEvents();
  ASSERT_TRUE(purged.ok()) << purged.status();
  EXPECT_EQ(*purged, 1u);
  auto exported = engine_->ExportCustomer("u1");
  ASSERT_TRUE(exported.ok());
  EXPECT_EQ(nlohmann::json::parse(*exported)["events"].size(), 1u);
}

}  // namespace
}  // namespace upfront
