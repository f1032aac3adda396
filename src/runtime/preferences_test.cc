// Preferences and consent through the engine: persisted per customer, and
// each one holding help the way the customer asked.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <mutex>
#include <nlohmann/json.hpp>

#include "src/common/manual_clock.h"
#include "src/common/time_format.h"
#include "src/testing/temp_dir.h"
#include "upfront/engine.h"

namespace upfront {
namespace {

constexpr char kPolicy[] = R"(version: prefs-test
signals:
  late: {half_life: 1d, inputs: [{event: "Order Late"}]}
channels:
  in_app: {}
  email: {}
templates:
  note: {text: "Your order is late."}
interventions:
  heads_up:
    when: 'signals.late.score >= 0.5'
    ladder: [{channel: email, template: note}]
)";

class PreferencesTest : public ::testing::Test {
 protected:
  void Open() {
    engine_.reset();
    EngineOptions options;
    options.data_dir = dir_.path();
    options.policy = std::make_shared<Policy>(LoadPolicyText(kPolicy, "p.yaml").value());
    options.partitions = 2;
    options.clock = &clock_;
    options.arrival = ArrivalClock::kEventTime;
    options.on_decision = [this](std::string_view json) {
      std::lock_guard lock(mu_);
      last_ = nlohmann::json::parse(json);
    };
    engine_ = Engine::Open(options).value();
  }
  // The outcome of an Order Late event at `at`: "deliver" or the reason held.
  std::string Outcome(const std::string& customer, const std::string& at) {
    const nlohmann::json e = {{"type", "track"}, {"userId", customer}, {"event", "Order Late"},
                              {"timestamp", at}, {"messageId", customer + at}};
    EXPECT_TRUE(engine_->Ingest(e.dump()).ok());
    EXPECT_TRUE(engine_->Flush().ok());
    std::lock_guard lock(mu_);
    if (last_["action"] != "none") return last_["action"];
    return last_["blocked"][0]["reason"];
  }
  nlohmann::json Update(const std::string& customer, const std::string& patch, const std::string& at) {
    auto result = engine_->UpdatePreferences(customer, patch, *ParseTimestamp(at));
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? nlohmann::json::parse(*result) : nlohmann::json();
  }

  testing::TempDir dir_;
  ManualClock clock_{1'800'000'000'000'000};
  std::mutex mu_;
  nlohmann::json last_;
  std::unique_ptr<Engine> engine_;
};

TEST_F(PreferencesTest, ChannelOptOutSnoozeAndDeclineEachHoldHelpAndArePersisted) {
  Open();
  EXPECT_EQ(Outcome("u1", "2026-11-20T08:00:00Z"), "deliver");
  nlohmann::json prefs = Update("u1", R"({"channels": {"email": "opt_out"}})", "2026-11-20T09:00:00Z");
  EXPECT_EQ(prefs["channels"]["email"], "opt_out");
  EXPECT_EQ(prefs["channels"]["in_app"], "default");
  Open();  // preferences survive a restart
  EXPECT_EQ(nlohmann::json::parse(engine_->Preferences("u1").value())["channels"]["email"], "opt_out");
  EXPECT_EQ(Outcome("u1", "2026-11-22T08:00:00Z"), "channel_opt_out");

  Update("u1", R"({"channels": {"email": "default"}, "snooze_until": "2026-11-25T00:00:00Z"})",
         "2026-11-22T09:00:00Z");
  EXPECT_EQ(Outcome("u1", "2026-11-24T08:00:00Z"), "snoozed");
  Update("u1", R"({"snooze_until": null, "declined": ["heads_up"]})", "2026-11-24T09:00:00Z");
  EXPECT_EQ(Outcome("u1", "2026-11-24T10:00:00Z"), "declined");
  Update("u1", R"({"declined": []})", "2026-11-24T11:00:00Z");
  EXPECT_EQ(Outcome("u1", "2026-11-24T12:00:00Z"), "deliver");

  // A snooze of one intervention (a nudge's "snooze until").
  prefs = Update("u1", R"({"snoozed": {"heads_up": "2026-11-26T00:00:00Z"}})", "2026-11-24T13:00:00Z");
  EXPECT_EQ(prefs["snoozed"]["heads_up"], "2026-11-26T00:00:00.000Z");
  EXPECT_EQ(Outcome("u1", "2026-11-25T08:00:00Z"), "snoozed");
  EXPECT_EQ(Outcome("u1", "2026-11-26T08:00:00Z"), "deliver");
  auto bad = engine_->UpdatePreferences("u1", R"({"snoozed": {"nothing": null}})");
  EXPECT_THAT(bad.status().message(), ::testing::HasSubstr("snoozed.nothing"));
}

TEST_F(PreferencesTest, ConsentThatWasRevokedOrHasLapsedBlocksLikeNone) {
  Open();
  Outcome("u1", "2026-11-20T08:00:00Z");
  Update("u1", R"({"consent": {"proactive_support": {"state": "granted", "expires": "2026-11-25T00:00:00Z"}}})",
         "2026-11-20T09:00:00Z");
  EXPECT_EQ(Outcome("u1", "2026-11-24T08:00:00Z"), "deliver");
  EXPECT_EQ(Outcome("u1", "2026-11-26T08:00:00Z"), "no_consent");  // lapsed
  Update("u1", R"({"consent": {"proactive_support": {"state": "granted"}}})", "2026-11-26T09:00:00Z");
  EXPECT_EQ(Outcome("u1", "2026-11-28T08:00:00Z"), "deliver");
  Update("u1", R"({"consent": {"proactive_support": {"state": "revoked"}}})", "2026-11-28T09:00:00Z");
  const nlohmann::json prefs = nlohmann::json::parse(engine_->Preferences("u1").value());
  EXPECT_EQ(prefs["consent"]["proactive_support"]["state"], "revoked");
  EXPECT_EQ(prefs["consent"]["proactive_support"]["since"], "2026-11-28T09:00:00.000Z");
  EXPECT_EQ(Outcome("u1", "2026-11-30T08:00:00Z"), "no_consent");
}

TEST_F(PreferencesTest, ABadPatchNamesTheFieldAndChangesNothing) {
  Open();
  Outcome("u1", "2026-11-25T08:00:00Z");
  auto bad = engine_->UpdatePreferences(
      "u1", R"({"preferred_channel": "in_app", "channels": {"fax": "opt_in"}})", std::nullopt);
  ASSERT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad.status().message()), ::testing::HasSubstr("channels.fax: is not a channel"));
  EXPECT_TRUE(nlohmann::json::parse(engine_->Preferences("u1").value())["preferred_channel"].is_null());
  EXPECT_EQ(engine_->UpdatePreferences("u1", "{not json", std::nullopt).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(engine_->Preferences("nobody").status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace upfront
