// Signals, timers, models and segments through the whole engine: events in,
// a reading out, across merges and restarts.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "src/common/manual_clock.h"
#include "src/common/time_format.h"
#include "src/testing/temp_dir.h"
#include "upfront/engine.h"
#include "upfront/policy.h"

namespace upfront {
namespace {

constexpr const char* kPolicy = R"(
version: "reading-test"
events:
  keep_properties: [path]
  keep_traits: [plan, tenure_days]
outcomes:
  contact_opened: {event: "Support Ticket Opened"}
signals:
  checkout_friction:
    half_life: 10m
    inputs:
      - {event: "Form Error", where: {path: "/checkout*"}, weight: 0.6, confidence: 0.9}
  cart_abandoned:
    half_life: 2h
    inputs:
      - {abandon: "Checkout Started", unless: "Order Completed", within: 30m, weight: 1.5, confidence: 0.9}
models:
  churn_risk:
    features: [signals.checkout_friction.score, traits.tenure_days, counts.contact_opened.30d]
    weights: {bias: -1, signals.checkout_friction.score: 2, traits.tenure_days: -0.01, counts.contact_opened.30d: 0.5}
    min_coverage: 0.9
segments:
  vip: 'traits.plan == "enterprise"'
)";

std::string Track(const std::string& id_field, const std::string& id, const std::string& event,
                  const std::string& ts, const std::string& message_id,
                  const std::string& extra = "") {
  return R"({"type":"track",")" + id_field + R"(":")" + id + R"(","event":")" + event +
         R"(","timestamp":")" + ts + R"(","messageId":")" + message_id + "\"" + extra + "}\n";
}

class ReadingEngineTest : public ::testing::Test {
 protected:
  void Open() {
    engine_.reset();
    EngineOptions options;
    options.data_dir = dir_.path();
    options.policy = policy_;
    options.partitions = 2;
    options.clock = &clock_;
    options.arrival = ArrivalClock::kEventTime;
    auto engine = Engine::Open(options);
    ASSERT_TRUE(engine.ok()) << engine.status();
    engine_ = std::move(engine).value();
  }
  void Ingest(const std::string& payload) {
    auto report = engine_->Ingest(payload);
    ASSERT_TRUE(report.ok()) << report.status();
    ASSERT_EQ(report->rejected, 0u) << IngestReport::Describe(report->events[0]);
  }
  nlohmann::json Inspect(const std::string& id, const std::string& at) {
    auto json = engine_->InspectJson(id, *ParseTimestamp(at));
    EXPECT_TRUE(json.ok()) << json.status();
    return json.ok() ? nlohmann::json::parse(*json) : nlohmann::json();
  }
  static const nlohmann::json& Signal(const nlohmann::json& reading, const std::string& name) {
    for (const auto& s : reading["signals"]) {
      if (s["name"] == name) return s;
    }
    static const nlohmann::json kNone;
    return kNone;
  }

  testing::TempDir dir_;
  std::shared_ptr<const Policy> policy_ =
      std::make_shared<Policy>(LoadPolicyText(kPolicy, "test.yaml").value());
  ManualClock clock_{1'800'000'000'000'000};
  std::unique_ptr<Engine> engine_;
};

TEST_F(ReadingEngineTest, SignalHistoryReplaysTheStoredEventsOfEveryMergedId) {
  Open();
  Ingest(Track("anonymousId", "anon", "Form Error", "2026-11-25T10:00:00Z", "f1",
               R"(,"properties":{"path":"/checkout/pay"})") +
         R"({"type":"identify","userId":"u1","anonymousId":"anon","timestamp":"2026-11-25T10:05:00Z","messageId":"i1"})"
         "\n" +
         Track("userId", "u1", "Form Error", "2026-11-25T10:10:00Z", "f2", R"(,"properties":{"path":"/checkout/pay"})"));
  auto json = engine_->SignalHistoryJson("u1", 100, *ParseTimestamp("2026-11-25T10:30:00Z"));
  ASSERT_TRUE(json.ok()) << json.status();
  const nlohmann::json history = nlohmann::json::parse(*json);
  ASSERT_EQ(history["signals"], nlohmann::json({"checkout_friction", "cart_abandoned"}));
  const nlohmann::json& points = history["points"];
  ASSERT_EQ(points.size(), 4u);  // three events, then decay to `until`
  EXPECT_EQ(points[0]["event"], "Form Error");
  EXPECT_EQ(points[1]["event"], "Identify");
  EXPECT_EQ(points[3]["at"], "2026-11-25T10:30:00.000Z");
  const double one = 0.6 * 0.9;
  EXPECT_NEAR(points[0]["scores"][0].get<double>(), 1 - std::exp(-one), 1e-4);
  // The anonymous error, decayed one half-life, plus the second one.
  const double two = one * 0.5 + one;
  EXPECT_NEAR(points[2]["scores"][0].get<double>(), 1 - std::exp(-two), 1e-4);
  EXPECT_LT(points[3]["scores"][0].get<double>(), points[2]["scores"][0].get<double>());

  auto thinned = engine_->SignalHistoryJson("u1", 2, std::nullopt);
  ASSERT_TRUE(thinned.ok());
  const nlohmann::json ends = nlohmann::json::parse(*thinned)["points"];
  ASSERT_EQ(ends.size(), 2u);
  EXPECT_EQ(ends[0]["at"], "2026-11-25T10:00:00.000Z");
  EXPECT_EQ(ends[1]["at"], "2026-11-25T10:10:00.000Z");
  EXPECT_EQ(engine_->SignalHistoryJson("nobody", 10).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(ReadingEngineTest, EventsDriveSignalsModelsAndSegments) {
  Open();
  Ingest(R"({"type":"identify","userId":"u1","traits":{"plan":"enterprise","tenure_days":100},"timestamp":"2026-11-25T09:00:00Z","messageId":"i1"})"
         "\n" +
         Track("userId", "u1", "Form Error", "2026-11-25T10:00:00Z", "f1",
               R"(,"properties":{"path":"/checkout/pay"})") +
         Track("userId", "u1", "Form Error", "2026-11-25T10:01:00Z", "f2",
               R"(,"properties":{"path":"/account"})") +
         Track("userId", "u1", "Support Ticket Opened", "2026-11-25T10:02:00Z", "t1"));
  nlohmann::json reading = Inspect("u1", "2026-11-25T10:02:00Z");
  EXPECT_EQ(reading["segment"], "vip");
  const nlohmann::json& friction = Signal(reading, "checkout_friction");
  // One matching error (the /account one does not match), two minutes ago.
  const double s = 0.6 * 0.9 * std::exp2(-2.0 / 10);
  EXPECT_NEAR(friction["score"].get<double>(), 1 - std::exp(-s), 1e-9);
  EXPECT_EQ(friction["evidence"]["count"], 1);
  EXPECT_EQ(friction["evidence"]["last_message_id"], "f1");
  EXPECT_EQ(reading["counts"]["counts.contact_opened.30d"], 1);
  const nlohmann::json& churn = reading["models"][0];
  const double z = -1 + 2 * (1 - std::exp(-s)) - 0.01 * 100 + 0.5 * 1;
  EXPECT_NEAR(churn["score"].get<double>(), 1 / (1 + std::exp(-z)), 1e-9);
  EXPECT_EQ(churn["top_features"][0]["feature"], "traits.tenure_days");  // -0.01 x 100 pushes most
  EXPECT_FALSE(churn["low_confidence"].get<bool>());
}

TEST_F(ReadingEngineTest, AbandonmentTimerFiresFromTheClockAfterARestart) {
  Open();
  Ingest(Track("userId", "u1", "Checkout Started", "2026-11-25T10:00:00Z", "c1"));
  nlohmann::json before = Inspect("u1", "2026-11-25T10:10:00Z");
  ASSERT_EQ(before["pending_timers"].size(), 1u);
  EXPECT_EQ(before["pending_timers"][0]["due"], "2026-11-25T10:30:00.000Z");
  ASSERT_TRUE(engine_->Flush().ok());

  Open();  // the timer is now only in the stored index
  ASSERT_TRUE(engine_->AdvanceClock(*ParseTimestamp("2026-11-25T10:45:00Z")).ok());
  // Read at an earlier moment: only a timer fired by the clock explains a score.
  nlohmann::json after = Inspect("u1", "2026-11-25T10:20:00Z");
  EXPECT_TRUE(after["pending_timers"].empty());
  const nlohmann::json& abandoned = Signal(after, "cart_abandoned");
  EXPECT_NEAR(abandoned["score"].get<double>(), 1 - std::exp(-1.5 * 0.9), 1e-9);
  EXPECT_EQ(abandoned["evidence"]["last_message_id"], "c1");
}

TEST_F(ReadingEngineTest, AnOrderInTimeCancelsTheAbandonment) {
  Open();
  Ingest(Track("userId", "u1", "Checkout Started", "2026-11-25T10:00:00Z", "c1") +
         Track("userId", "u1", "Order Completed", "2026-11-25T10:30:00Z", "o1"));
  ASSERT_TRUE(engine_->AdvanceClock(*ParseTimestamp("2026-11-25T12:00:00Z")).ok());
  EXPECT_EQ(Signal(Inspect("u1", "2026-11-25T12:00:00Z"), "cart_abandoned")["score"], 0.0);
}

TEST_F(ReadingEngineTest, AMergeCarriesAnonymousSignalsAndPendingTimers) {
  Open();
  Ingest(Track("anonymousId", "a1", "Form Error", "2026-11-25T10:00:00Z", "f1",
               R"(,"properties":{"path":"/checkout"})") +
         Track("anonymousId", "a1", "Checkout Started", "2026-11-25T10:01:00Z", "c1") +
         Track("userId", "u1", "Form Error", "2026-11-25T10:02:00Z", "f2",
               R"(,"properties":{"path":"/checkout"})") +
         R"({"type":"identify","userId":"u1","anonymousId":"a1","timestamp":"2026-11-25T10:03:00Z","messageId":"i1"})"
         "\n");
  nlohmann::json merged = Inspect("a1", "2026-11-25T10:03:00Z");
  EXPECT_EQ(merged["id"], "u1");
  EXPECT_EQ(Signal(merged, "checkout_friction")["evidence"]["count"], 2);
  ASSERT_EQ(merged["pending_timers"].size(), 1u);
  EXPECT_EQ(merged["pending_timers"][0]["signal"], "cart_abandoned");
}

TEST_F(ReadingEngineTest, LearningModelsUpdateOnlineFromLabelsAndKeepWhatTheyLearnt) {
  policy_ = std::make_shared<Policy>(LoadPolicyText(R"(version: learn-test
outcomes:
  contact_opened: {event: "Support Ticket Opened"}
models:
  churn:
    features: [counts.contact_opened.7d]
    weights: {bias: 0, counts.contact_opened.7d: 0}
    learn: {label: "Subscription Cancelled", horizon: 1d}
)", "learn.yaml").value());
  Open();
  auto model = [&](const std::string& id, const std::string& at) {
    return Inspect(id, at)["models"][0];
  };
  Ingest(Track("userId", "probe", "Session Started", "2026-11-01T08:00:00Z", "p-s"));
  const std::string policy_version = model("probe", "2026-11-01T08:00:00Z")["version"];
  // Customers who come in with a ticket cancel within the day; customers who
  // come in for a session never do. Each customer's first reading is the
  // moment the model learns from.
  // Two cohorts a day apart (c0-c99 on the 2nd, c100-c199 on the 3rd).
  std::string cohorts[2];
  for (int c = 0; c < 200; ++c) {
    const std::string id = "c" + std::to_string(c);
    const std::string day = c < 100 ? "2026-11-02" : "2026-11-03";
    std::string& events = cohorts[c < 100 ? 0 : 1];
    if (c % 2 == 0) {
      events += Track("userId", id, "Support Ticket Opened", day + "T08:00:00Z", id + "-t");
      events += Track("userId", id, "Subscription Cancelled", day + "T10:00:00Z", id + "-x");
    } else {
      events += Track("userId", id, "Session Started", day + "T08:00:00Z", id + "-s");
    }
  }
  auto ticket_push = [&](const std::string& id, const std::string& at) {
    const nlohmann::json reading = model(id, at);  // kept: the loop must not outlive it
    for (const auto& f : reading["top_features"]) {
      if (f["feature"] == "counts.contact_opened.7d") return f["contribution"].get<double>();
    }
    return 0.0;
  };
  Ingest(cohorts[0]);
  // The first cohort's positives are known (cancelled at 10:00), its
  // negatives not yet. Nothing is learnt from either until their horizon
  // closes, so the learner never sees positives alone: the ticket weight is
  // still the policy's 0 (the probe's negative, learnt, had no ticket).
  EXPECT_EQ(ticket_push("c0", "2026-11-02T10:00:00Z"), 0);
  // The next day's events close the first cohort's horizon: tickets now
  // push churn up.
  Ingest(cohorts[1]);
  EXPECT_GT(ticket_push("c0", "2026-11-03T08:00:00Z"), 0.1);
  // The horizon of the quiet customers' moments passes: those are negatives.
  ASSERT_TRUE(engine_->AdvanceClock(*ParseTimestamp("2026-11-06T00:00:00Z")).ok());
  EXPECT_NE(model("c0", "2026-11-06T00:00:00Z")["version"], policy_version);
  ASSERT_TRUE(engine_->Flush().ok());

  // Tickets now push churn up: the learnt weight is positive, the policy's was 0.
  auto push = [&](const nlohmann::json& m) { return m["top_features"][0]["contribution"].get<double>(); };
  Ingest(Track("userId", "fresh", "Support Ticket Opened", "2026-11-06T09:00:00Z", "f-t"));
  const nlohmann::json fresh = model("fresh", "2026-11-06T09:00:00Z");
  EXPECT_GT(push(fresh), 0.1);
  const std::string version = fresh["version"];
  EXPECT_EQ(version.substr(0, 3), "lr-");

  Open();  // what was learnt survives a restart
  EXPECT_EQ(model("fresh", "2026-11-06T09:00:00Z")["version"], version);
  EXPECT_NEAR(push(model("fresh", "2026-11-06T09:00:00Z")), push(fresh), 1e-12);
}

TEST_F(ReadingEngineTest, InspectingAnUnknownCustomerIsNotFound) {
  Open();
  auto json = engine_->InspectJson("nobody", std::nullopt);
  EXPECT_EQ(json.status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace upfront
