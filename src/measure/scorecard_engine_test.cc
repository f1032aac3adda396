// End to end: events ingested through a real Engine into a temporary data
// directory, the engine's own exposure and action records, then
// BuildScorecard.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include "src/measure/report_html.h"
#include "src/measure/scorecard.h"
#include "src/measure/scorecard_test_util.h"
#include "src/store/store.h"
#include "src/testing/temp_dir.h"

namespace upfront {
namespace {

using scorecard_testing::PolicyYaml;
using ::testing::HasSubstr;

std::string Track(const std::string& user, const std::string& event, const std::string& ts, int n,
                  const std::string& properties = "{}", const std::string& zone = "UTC") {
  return R"({"type":"track","userId":")" + user + R"(","event":")" + event + R"(","timestamp":")" +
         ts + R"(","messageId":"m-)" + std::to_string(n) + R"(","properties":)" + properties +
         R"(,"context":{"timezone":")" + zone + R"("}})" + "\n";
}

class ScorecardEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<Policy> policy = LoadPolicyText(PolicyYaml(0.5), "scorecard-test.yaml");
    ASSERT_TRUE(policy.ok()) << policy.status();
    policy_ = std::make_shared<Policy>(*std::move(policy));
  }
  std::unique_ptr<Engine> Open() {
    EngineOptions options;
    options.data_dir = dir_.path();
    options.policy = policy_;
    options.partitions = 2;
    options.arrival = ArrivalClock::kEventTime;
    options.sync = false;
    auto engine = Engine::Open(options);
    EXPECT_TRUE(engine.ok()) << engine.status();
    return engine.ok() ? std::move(engine).value() : nullptr;
  }

  testing::TempDir dir_;
  std::shared_ptr<const Policy> policy_;
};

TEST_F(ScorecardEngineTest, IngestedEventsAndEngineRecordsMakeTheScorecard) {
  // Twelve customers: everyone rates CSAT and buys; every third one is vip
  // (identify), hits a form error (the `help` intervention) and later
  // dismisses the nudge; one opens a ticket from Tokyo.
  std::string events;
  int n = 0;
  std::vector<std::string> users;
  for (int i = 0; i < 12; ++i) users.push_back("user-" + std::to_string(i));
  for (int i = 0; i < 12; ++i) {
    const std::string& u = users[i];
    const std::string day = "2026-11-" + std::to_string(10 + i % 3);
    if (i % 3 == 0) {
      events += R"({"type":"identify","userId":")" + u + R"(","timestamp":")" + day +
                R"(T08:00:00Z","messageId":"id-)" + std::to_string(i) +
                R"(","traits":{"plan":"enterprise"}})" + "\n";
      events += Track(u, "Form Error", day + "T09:00:00Z", n++);
      events += Track(u, "Nudge Dismissed", day + "T09:05:00Z", n++);
    }
    events += Track(u, "CSAT Submitted", day + "T10:00:00Z", n++,
                    R"({"score":)" + std::to_string(1 + i % 5) + "}");
    events += Track(u, "Order Completed", day + "T11:00:00Z", n++,
                    R"({"revenue":)" + std::to_string(10 * (i + 1)) + "}");
  }
  events += Track(users[1], "Ticket Opened", "2026-11-10T01:00:00Z", n++,
                  R"({"channel":"chat","case_type":"billing"})", "Asia/Tokyo");
  events += Track(users[1], "Ticket Resolved", "2026-11-10T03:00:00Z", n++);
  events += Track(users[1], "Checkout Started", "2026-11-10T04:00:00Z",
                  n++);  // never finished: a drop-off
  events += Track(users[1], "Checkout Started", "2026-11-10T12:00:00Z", n++);
  events += Track(users[1], "Order Completed", "2026-11-10T12:10:00Z", n++, R"({"revenue":0})");
  // Later data, so the follow-up windows have passed.
  events += Track(users[2], "Page Seen", "2026-11-25T00:00:00Z", n++);

  // In time order, so that no event arrives late (late events never act).
  std::vector<std::pair<std::string, std::string>> lines;
  for (size_t start = 0; start < events.size();) {
    const size_t end = events.find('\n', start);
    const std::string line = events.substr(start, end - start + 1);
    lines.emplace_back(nlohmann::json::parse(line)["timestamp"].get<std::string>(), line);
    start = end + 1;
  }
  std::stable_sort(lines.begin(), lines.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  events.clear();
  for (const auto& [ts, line] : lines) events += line;

  std::unique_ptr<Engine> engine = Open();
  ASSERT_NE(engine, nullptr);
  absl::StatusOr<IngestReport> report = engine->Ingest(events);
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_EQ(report->rejected, 0u) << (report->events.empty()
                                          ? ""
                                          : IngestReport::Describe(report->events[0]));
  ASSERT_TRUE(engine->Flush().ok());

  // The engine writes exposures and actions; if this build's engine does
  // not, write what it would have (one per form error, deliver in_app).
  size_t exposures = 0;
  ASSERT_TRUE(
      engine
          ->ScanRecords("exposure", [&](std::string_view, std::string_view) { return ++exposures; })
          .ok());
  if (exposures == 0) {
    engine.reset();
    auto store = OpenRocksDbStore(dir_.path() + "/db", {});
    ASSERT_TRUE(store.ok()) << store.status();
    for (int i = 0; i < 12; i += 3) {
      const std::string day = "2026-11-" + std::to_string(10 + i % 3);
      const std::string cohort = InHoldout(*policy_, users[i]) ? "holdout" : "treatment";
      const nlohmann::json x = {{"customer", users[i]},    {"intervention", "help"},
                                {"experiment", ""},        {"variant", ""},
                                {"cohort", cohort},        {"segment", "vip"},
                                {"at", day + "T09:00:00Z"}};
      ASSERT_TRUE((*store)->PutRecord("exposure", users[i] + "|help|", x.dump()).ok());
      nlohmann::json a = x;
      a["action"] = "deliver";
      a["channel"] = "in_app";
      a["step"] = 0;
      a["decision_id"] = "d" + std::to_string(i);
      ASSERT_TRUE((*store)->PutRecord("action", users[i] + "|" + std::to_string(i), a.dump()).ok());
    }
    store->reset();
    engine = Open();
    ASSERT_NE(engine, nullptr);
  }

  ScorecardOptions options;
  options.from = *ParseTimestamp("2026-11-09T00:00:00Z");
  options.to = *ParseTimestamp("2026-11-16T00:00:00Z");
  options.min_per_arm = 1;
  uint64_t progress_calls = 0, last_progress = 0;
  options.progress = [&](uint64_t read) {
    ++progress_calls;
    last_progress = read;
  };
  absl::StatusOr<nlohmann::json> built = BuildScorecard(*engine, *policy_, options);
  ASSERT_TRUE(built.ok()) << built.status();
  const nlohmann::json& card = *built;
  EXPECT_GE(progress_calls, 1u);
  EXPECT_EQ(last_progress, static_cast<uint64_t>(report->accepted));
  EXPECT_EQ(card["input"]["skipped_records"], 0);

  // Population: the twelve, split by the holdout hash of their ids.
  uint64_t holdout = 0;
  for (const std::string& u : users) holdout += InHoldout(*policy_, u);
  EXPECT_EQ(card["population"]["active_customers"], 12);
  EXPECT_EQ(card["population"]["holdout"], holdout);
  EXPECT_EQ(card["population"]["assignment_mismatches"], 0);

  // CSAT and revenue by cohort, by hand.
  double good[2] = {0, 0}, rated[2] = {0, 0}, revenue[2] = {0, 0};
  for (int i = 0; i < 12; ++i) {
    const int arm = InHoldout(*policy_, users[i]) ? 0 : 1;
    good[arm] += 1 + i % 5 >= 4;
    rated[arm] += 1;
    revenue[arm] += 10 * (i + 1);
  }
  auto overall = [&](const std::string& metric) {
    return card["comparisons"][0]["metrics"][metric]["overall"];
  };
  ASSERT_EQ(card["comparisons"][0]["id"], "cohort");
  EXPECT_DOUBLE_EQ(overall("csat")["control"].get<double>(), good[0] / rated[0]);
  EXPECT_DOUBLE_EQ(overall("csat")["treatment"].get<double>(), good[1] / rated[1]);
  EXPECT_DOUBLE_EQ(overall("ltv")["control"].get<double>(), revenue[0] / rated[0]);
  EXPECT_DOUBLE_EQ(overall("ltv")["treatment"].get<double>(), revenue[1] / rated[1]);

  // Segments from identify traits; the ticket's local hour in Tokyo (10:00).
  EXPECT_TRUE(card["comparisons"][0]["metrics"]["csat"]["by_segment"].contains("vip"));
  const nlohmann::json& contacts = card["comparisons"][0]["metrics"]["contacts_per_customer"];
  EXPECT_TRUE(contacts["by_hour"].contains("10")) << contacts.dump();
  EXPECT_TRUE(contacts["by_channel"].contains("chat"));
  EXPECT_TRUE(contacts["by_case_type"].contains("billing"));
  const bool user1_holdout = InHoldout(*policy_, users[1]);
  EXPECT_DOUBLE_EQ(overall("fcr")[user1_holdout ? "control" : "treatment"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(overall("drop_off_rate")[user1_holdout ? "control" : "treatment"].get<double>(),
                   0.5);

  // The form errors made exposures; dismissals follow the treated ones.
  const nlohmann::json& help = card["signal_quality"]["interventions"][0];
  EXPECT_EQ(help["holdout_exposures"].get<uint64_t>() + help["treatment_exposures"].get<uint64_t>(),
            4u);
  uint64_t treated_vip = 0;
  for (int i = 0; i < 12; i += 3) treated_vip += !InHoldout(*policy_, users[i]);
  EXPECT_GE(help["actions"].get<uint64_t>(), treated_vip);
  EXPECT_EQ(help["dismissed"], treated_vip)
      << "each treated form error was dismissed 5 minutes later";
  std::set<std::string> ids;
  for (const nlohmann::json& c : card["comparisons"]) ids.insert(c["id"].get<std::string>());
  EXPECT_TRUE(ids.count("triggered:help"));

  const std::string html = RenderScorecardHtml(card);
  EXPECT_THAT(html, HasSubstr("Revenue per customer (LTV)"));
  EXPECT_THAT(html, HasSubstr("<svg"));
}

TEST_F(ScorecardEngineTest, EventsBeforeAnIdentityMergeCountForTheMergedCustomer) {
  std::string events;
  // An anonymous visitor rates, then identifies as a known customer who buys.
  events +=
      R"({"type":"track","anonymousId":"anon-1","event":"CSAT Submitted","timestamp":"2026-11-10T10:00:00Z",)"
      R"("messageId":"a1","properties":{"score":5}})"
      "\n";
  events +=
      R"({"type":"identify","userId":"known-1","anonymousId":"anon-1","timestamp":"2026-11-10T10:05:00Z",)"
      R"("messageId":"a2","traits":{"plan":"pro"}})"
      "\n";
  events += Track("known-1", "Order Completed", "2026-11-10T10:10:00Z", 3, R"({"revenue":42})");
  std::unique_ptr<Engine> engine = Open();
  ASSERT_NE(engine, nullptr);
  ASSERT_TRUE(engine->Ingest(events).ok());
  ASSERT_TRUE(engine->Flush().ok());

  ScorecardOptions options;
  options.window = ScorecardWindow::kAll;
  absl::StatusOr<nlohmann::json> merged = BuildScorecard(*engine, *policy_, options);
  ASSERT_TRUE(merged.ok()) << merged.status();
  EXPECT_EQ((*merged)["population"]["active_customers"], 1);

  options.resolve_merges = false;
  absl::StatusOr<nlohmann::json> unmerged = BuildScorecard(*engine, *policy_, options);
  ASSERT_TRUE(unmerged.ok());
  EXPECT_EQ((*unmerged)["population"]["active_customers"], 2)
      << "the anonymous profile counted apart";
}

TEST(ScorecardExamples, EveryShippedExampleMakesAScorecardAndAPage) {
  for (const char* example : {"ecommerce", "saas", "telecom"}) {
    SCOPED_TRACE(example);
    const std::string root = std::string(UPFRONT_SOURCE_DIR) + "/examples/" + example;
    absl::StatusOr<Policy> policy = LoadPolicyFile(root + "/policy.yaml");
    ASSERT_TRUE(policy.ok()) << policy.status();
    testing::TempDir dir;
    EngineOptions options;
    options.data_dir = dir.path();
    options.policy = std::make_shared<Policy>(*policy);
    options.arrival = ArrivalClock::kEventTime;
    options.sync = false;
    auto engine = Engine::Open(options);
    ASSERT_TRUE(engine.ok()) << engine.status();
    std::ifstream in(root + "/events.jsonl");
    std::stringstream events;
    events << in.rdbuf();
    ASSERT_TRUE((*engine)->Ingest(events.str()).ok());
    ASSERT_TRUE((*engine)->Flush().ok());
    ScorecardOptions scorecard;
    scorecard.window = ScorecardWindow::kAll;
    absl::StatusOr<nlohmann::json> card = BuildScorecard(**engine, *policy, scorecard);
    ASSERT_TRUE(card.ok()) << card.status();
    EXPECT_GT((*card)["population"]["active_customers"].get<int>(), 0);
    EXPECT_EQ((*card)["input"]["skipped_records"], 0);
    EXPECT_THAT(RenderScorecardHtml(*card), HasSubstr("</html>"));
  }
}

}  // namespace
}  // namespace upfront
