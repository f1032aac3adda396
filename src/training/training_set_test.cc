#include "src/training/training_set.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

#include "src/common/manual_clock.h"
#include "src/common/time_format.h"
#include "src/testing/temp_dir.h"
#include "upfront/engine.h"

namespace upfront {
namespace {

constexpr char kPolicy[] = R"(version: train-test
events:
  keep_traits: [tenure_days]
outcomes:
  contact_opened: {event: "Support Ticket Opened"}
models:
  churn:
    kind: KIND
    FILE
    features: [counts.contact_opened.7d, traits.tenure_days]
    WEIGHTS
    learn: {label: "Subscription Cancelled", horizon: 2d}
)";

std::string PolicyText(bool xgboost, const std::string& file) {
  std::string text = kPolicy;
  const auto replace = [&](const std::string& from, const std::string& to) {
    text.replace(text.find(from), from.size(), to);
  };
  replace("KIND", xgboost ? "xgboost" : "logistic");
  replace("FILE", xgboost ? "file: " + file : "");
  replace("WEIGHTS", xgboost ? "" : "weights: {bias: 0}");
  return text;
}

std::string Event(int customer, const std::string& name, Micros t, int n) {
  return nlohmann::json{{"type", "track"},
                        {"userId", fmt::format("c{}", customer)},
                        {"event", name},
                        {"timestamp", FormatTimestamp(t)},
                        {"messageId", fmt::format("m{}-{}", customer, n)}}
             .dump() +
         "\n";
}

// 400 customers over ten days. Every fourth opens a ticket on days 2, 3 and 4
// and cancels on day 5; every tenth other one opens one ticket and stays.
class TrainingSetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    policy_ = std::make_shared<Policy>(LoadPolicyText(PolicyText(false, ""), "p.yaml").value());
    auto engine = OpenEngine(policy_);
    const Micros day0 = *ParseTimestamp("2026-11-01T08:00:00Z");
    std::string events;
    for (int c = 0; c < 400; ++c) {
      int n = 0;
      events += nlohmann::json{{"type", "identify"}, {"userId", fmt::format("c{}", c)},
                               {"traits", {{"tenure_days", 30 + c % 7}}},
                               {"timestamp", FormatTimestamp(day0)},
                               {"messageId", fmt::format("i{}", c)}}
                    .dump() +
                "\n";
      for (int day = 0; day < 10; ++day) {
        const Micros t = day0 + day * kMicrosPerDay + c * kMicrosPerMinute;
        events += Event(c, "Session Started", t, n++);
        const bool risky = c % 4 == 0;
        if (risky && day >= 2 && day <= 4) events += Event(c, "Support Ticket Opened", t + 1, n++);
        if (!risky && c % 10 == 1 && day == 3) events += Event(c, "Support Ticket Opened", t + 1, n++);
        if (risky && day == 5) events += Event(c, "Subscription Cancelled", t + 2, n++);
      }
    }
    auto report = engine->Ingest(events, IngestOptions{.max_batch_bytes = 0});
    ASSERT_TRUE(report.ok()) << report.status();
    ASSERT_EQ(report->rejected, 0u);
    ASSERT_TRUE(engine->Flush().ok());
  }

  std::unique_ptr<Engine> OpenEngine(std::shared_ptr<const Policy> policy) {
    EngineOptions options;
    options.data_dir = dir_.path();
    options.policy = std::move(policy);
    options.partitions = 2;
    options.clock = &clock_;
    options.arrival = ArrivalClock::kEventTime;
    auto engine = Engine::Open(options);
    EXPECT_TRUE(engine.ok()) << engine.status();
    return engine.ok() ? *std::move(engine) : nullptr;
  }

  testing::TempDir dir_;
  ManualClock clock_{1'800'000'000'000'000};
  std::shared_ptr<const Policy> policy_;
};

TEST_F(TrainingSetTest, RowsAreFeaturesAtSampledMomentsLabelledWithinTheHorizon) {
  TrainingSetStats stats;
  absl::StatusOr<TrainingSet> set = BuildTrainingSet(dir_.path(), *policy_, "churn", {}, {}, &stats);
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(stats.customers, 400u);
  EXPECT_EQ(set->feature_count, 2);
  // Daily moments on days 0..9; a negative needs 2 days of log after it, so
  // days 8 and 9 are censored; risky customers' rows on days 3 and 4 (cancel on
  // day 5 within 2 days) are positive.
  EXPECT_EQ(stats.positives, 100u * 2);
  EXPECT_EQ(stats.rows, 400u * 8 + 0);
  EXPECT_EQ(stats.censored, 400u * 2);
  // Row features: contacts in the last 7 days and tenure, as the engine reads them.
  bool saw_three_contacts = false;
  for (size_t r = 0; r < set->labels.size(); ++r) {
    if (set->rows[r * 2] == 3 && set->labels[r] == 1) saw_three_contacts = true;
    EXPECT_GE(set->rows[r * 2 + 1], 30);
  }
  EXPECT_TRUE(saw_three_contacts);

  // Rows come customer by customer in id order ("c0", "c1", "c10", ...), 8
  // each, so the holdout and the model are the same on every run.
  std::vector<std::string> ids;
  for (int c = 0; c < 400; ++c) ids.push_back(fmt::format("c{}", c));
  std::sort(ids.begin(), ids.end());
  for (size_t r = 0; r < set->labels.size(); ++r) {
    const int customer = std::stoi(ids[r / 8].substr(1));
    ASSERT_EQ(set->rows[r * 2 + 1], 30 + customer % 7) << "row " << r;
  }
}

TEST_F(TrainingSetTest, TrainedModelServesTheSameScoresInTheEngine) {
  TrainingSetStats stats;
  absl::StatusOr<TrainingSet> set = BuildTrainingSet(dir_.path(), *policy_, "churn", {}, {}, &stats);
  ASSERT_TRUE(set.ok()) << set.status();
  const std::string model_file = dir_.path() + "/churn.json";
  TrainOptions options;
  options.rounds = 50;
  options.eta = 0.3;
  absl::StatusOr<TrainReport> report = TrainXgboost(*set, options, model_file);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_GT(report->auc, 0.9);

  auto served_policy =
      std::make_shared<Policy>(LoadPolicyText(PolicyText(true, model_file), "p.yaml").value());
  auto engine = OpenEngine(served_policy);
  ASSERT_NE(engine, nullptr);
  auto json = engine->InspectJson("c0", *ParseTimestamp("2026-11-05T08:00:10Z"));
  ASSERT_TRUE(json.ok()) << json.status();
  const nlohmann::json model = nlohmann::json::parse(*json)["models"][0];
  ASSERT_TRUE(model["available"].get<bool>());
  absl::StatusOr<XgboostModel> loaded = XgboostModel::Load(model_file);
  ASSERT_TRUE(loaded.ok());
  const float contacts = model["top_features"][0]["value"].get<float>();
  const float tenure = model["top_features"][1]["value"].get<float>();
  EXPECT_EQ(contacts, 3);
  const std::vector<float> row = {contacts, tenure};
  EXPECT_NEAR(model["score"].get<double>(), *loaded->Predict(row), 1e-6);
  // Half of the rows with three recent contacts precede a cancellation.
  EXPECT_NEAR(model["score"].get<double>(), 0.4, 0.15);
}

TEST_F(TrainingSetTest, ModelWithoutLearnOrUnknownIsAClearError) {
  TrainingSetStats stats;
  EXPECT_EQ(BuildTrainingSet(dir_.path(), *policy_, "nope", {}, {}, &stats).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(BuildTrainingSet("/nonexistent", *policy_, "churn", {}, {}, &stats).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace upfront
