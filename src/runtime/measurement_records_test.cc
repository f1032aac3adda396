// The records measurement reads: an exposure once per customer, intervention
// and variant; an action per decision that acted (or would have, in the
// holdout); and no review item for a held-out customer.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>

#include "src/decide/cohort.h"
#include "src/testing/temp_dir.h"
#include "upfront/engine.h"

namespace upfront {
namespace {

constexpr char kPolicy[] = R"(version: records
signals:
  stuck: {half_life: 1d, inputs: [{event: "Stuck"}]}
  upset: {half_life: 1d, inputs: [{event: "Upset"}]}
channels: {in_app: {}, agent: {queue: outreach}}
templates:
  tip: {text: "Need a hand?"}
  call: {text: "Call them."}
interventions:
  help:
    when: 'signals.stuck.score >= 0.5'
    ladder: [{channel: in_app, template: tip}]
  call:
    when: 'signals.upset.score >= 0.5'
    sensitive: true
    ladder: [{channel: agent, template: call}]
experiments:
  holdout: {share: 0.3}
  help_test:
    intervention: help
    variants: {a: {share: 0.5}, b: {share: 0.5}}
)";

std::vector<nlohmann::json> Records(Engine& engine, const char* kind) {
  std::vector<nlohmann::json> out;
  EXPECT_TRUE(engine.ScanRecords(kind, [&](std::string_view, std::string_view json) {
                      out.push_back(nlohmann::json::parse(json));
                      return true;
                    }).ok());
  return out;
}

TEST(MeasurementRecords, ExposuresAreLoggedOncePerCustomerInterventionAndVariant) {
  testing::TempDir dir;
  const Policy policy = LoadPolicyText(kPolicy, "p.yaml").value();
  EngineOptions options;
  options.data_dir = dir.path();
  options.policy = std::make_shared<Policy>(policy);
  options.arrival = ArrivalClock::kEventTime;
  options.partitions = 2;
  auto engine = Engine::Open(options).value();
  std::string batch;
  constexpr int kCustomers = 30;
  for (int c = 0; c < kCustomers; ++c) {
    for (int k = 0; k < 3; ++k) {  // the condition holds three times: one exposure
      batch += nlohmann::json{{"type", "track"}, {"userId", "c" + std::to_string(c)}, {"event", k == 2 ? "Upset" : "Stuck"},
                              {"messageId", std::to_string(c) + "-" + std::to_string(k)},
                              {"timestamp", "2026-11-25T10:0" + std::to_string(k) + ":00Z"}}
                   .dump() +
               "\n";
    }
  }
  ASSERT_EQ(engine->Ingest(batch).value().accepted, 3u * kCustomers);
  ASSERT_TRUE(engine->Flush().ok());

  std::map<std::string, int> exposures;
  int held = 0;
  for (const nlohmann::json& e : Records(*engine, "exposure")) {
    const std::string customer = e["customer"];
    ++exposures[customer + " " + e["intervention"].get<std::string>()];
    EXPECT_EQ(e["cohort"], InHoldout(policy, customer) ? "holdout" : "treatment");
    if (e["intervention"] == "help") {
      EXPECT_EQ(e["experiment"], "help_test");
      EXPECT_EQ(e["variant"], policy.experiments[0].variants[VariantOf(policy.experiments[0], customer)].name);
    } else {
      EXPECT_EQ(e["experiment"], "");
    }
    held += e["cohort"] == "holdout";
  }
  EXPECT_EQ(exposures.size(), 2u * kCustomers);
  for (const auto& [key, n] : exposures) EXPECT_EQ(n, 1) << key;
  EXPECT_GT(held, 0);

  // One help delivery and one call review per customer, holdout included.
  const std::vector<nlohmann::json> actions = Records(*engine, "action");
  EXPECT_EQ(actions.size(), 2u * kCustomers);
  // Agents only see the treatment's reviews.
  const nlohmann::json review = nlohmann::json::parse(engine->ReviewItems("pending", 1000).value());
  size_t treated = 0;
  for (int c = 0; c < kCustomers; ++c) treated += !InHoldout(policy, "c" + std::to_string(c));
  EXPECT_EQ(review.size(), treated);
  for (const nlohmann::json& item : review) EXPECT_FALSE(InHoldout(policy, item["customer"].get<std::string>()));
}

}  // namespace
}  // namespace upfront
