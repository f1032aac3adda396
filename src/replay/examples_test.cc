// The shipped examples replay to the decisions a support lead would expect;
// if a change to the engine alters them, this says which and how.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "src/common/time_format.h"
#include "src/replay/replay.h"

namespace upfront {
namespace {

using ::testing::ElementsAre;

// "at customer action intervention/step channel" or "at customer none reason…".
std::vector<std::string> ReplayExample(const std::string& name, const std::string& until,
                                       size_t rejected = 0) {
  const std::string dir = std::string(UPFRONT_SOURCE_DIR) + "/examples/" + name;
  auto policy = LoadPolicyFile(dir + "/policy.yaml");
  EXPECT_TRUE(policy.ok()) << policy.status().message();
  std::ifstream events(dir + "/events.jsonl");
  ReplayOptions options;
  options.until = ParseTimestamp(until);
  ReplayStats stats;
  std::vector<std::string> out;
  EXPECT_TRUE(Replay(std::make_shared<Policy>(*policy), events, "events.jsonl", options,
                     [&](std::string_view json) {
                       const nlohmann::json d = nlohmann::json::parse(json);
                       std::string line = d["at"].get<std::string>().substr(0, 16) + " " +
                                          d["customer"].get<std::string>() + " " +
                                          d["action"].get<std::string>();
                       if (d["action"] != "none") {
                         line += " " + d["intervention"].get<std::string>() + "/" +
                                 std::to_string(d["step"].get<int>()) + " " +
                                 d["channel"].get<std::string>();
                       }
                       for (const auto& b : d["blocked"]) line += " " + b["reason"].get<std::string>();
                       out.push_back(line);
                     },
                     &stats)
                  .ok());
  EXPECT_EQ(stats.rejected, rejected);
  return out;
}

TEST(Examples, SaasHelpsSetupFixesIntegrationsAndReviewsAccountsAtRisk) {
  EXPECT_THAT(
      ReplayExample("saas", "2026-11-06T18:00:00Z"),
      ElementsAre("2026-11-02T15:14 beta-dev deliver integration_help/0 in_flow",
                  "2026-11-02T16:12 gamma-founder deliver finish_setup/0 in_app",
                  "2026-11-02T16:40 gamma-founder none goal_met",
                  // The abandonment fires two days after setup stopped; email a day later.
                  "2026-11-04T14:05 acme-admin deliver finish_setup/0 in_app",
                  "2026-11-05T14:05 acme-admin deliver finish_setup/1 email",
                  // Five tickets in a week at an enterprise account: a person decides.
                  "2026-11-06T17:30 delta-lead review save_account/0 csm"));
}

TEST(Examples, TelecomExplainsBillsPausesDuringOutagesAndWaitsForMorning) {
  EXPECT_THAT(
      ReplayExample("telecom", "2026-11-11T12:00:00Z"),
      ElementsAre("2026-11-10T09:30 lucia deliver explain_bill/0 in_app",
                  "2026-11-10T09:35 ana deliver explain_bill/0 in_app",
                  "2026-11-10T10:05 ana none goal_met",
                  "2026-11-10T10:15 lucia none duplicate",
                  "2026-11-10T11:30 lucia none incident_pause",
                  "2026-11-10T13:00 lucia deliver explain_bill/1 sms",
                  "2026-11-10T22:20 tom none quiet_hours",
                  "2026-11-11T09:00 tom deliver network_help/0 sms"));
}

TEST(Examples, EcommerceHelpsAtCheckoutAndWarnsOfDelays) {
  const std::vector<std::string> lines = ReplayExample("ecommerce", "2026-11-25T14:00:00Z",
                                                        /*rejected=*/2);  // shown on purpose
  ASSERT_GE(lines.size(), 2u);
  EXPECT_EQ(lines[0], "2026-11-25T10:06 anon-7f3a deliver checkout_help/0 in_flow");
  EXPECT_THAT(lines, ::testing::Contains("2026-11-25T10:15 cust-2077 deliver delivery_heads_up/0 in_app"));
  // The email step needs consent cust-2077 said no to.
  EXPECT_THAT(lines, ::testing::Contains("2026-11-25T12:15 cust-2077 none channel_opt_out"));
}

}  // namespace
}  // namespace upfront
