// Test helpers for the scorecard: a policy with every outcome role, and a
// builder of in-memory records. Tests only.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "src/common/time_format.h"
#include "src/decide/cohort.h"
#include "src/measure/scorecard.h"

namespace upfront::scorecard_testing {

inline std::string PolicyYaml(double holdout_share, const std::string& extra = "") {
  return R"(version: "scorecard-test"
events:
  keep_properties: [score, revenue, case_type, channel]
  keep_traits: [plan]
outcomes:
  contact_opened:    {event: "Ticket Opened", case_type: properties.case_type, channel: properties.channel}
  contact_resolved:  {event: "Ticket Resolved"}
  csat:              {event: "CSAT Submitted", score: properties.score, channel: properties.channel}
  nps:               {event: "NPS Submitted", score: properties.score}
  ces:               {event: "CES Submitted", score: properties.score}
  purchase:          {event: "Order Completed", revenue: properties.revenue}
  accepted:          {event: "Nudge Accepted"}
  dismissed:         {event: "Nudge Dismissed"}
  opt_out:           {event: "Proactive Opted Out"}
  complaint:         {event: "Complaint Filed"}
signals:
  friction:
    half_life: 10m
    inputs:
      - {event: "Form Error", weight: 1.0, confidence: 1.0}
  cart_abandoned:
    half_life: 2h
    inputs:
      - {abandon: "Checkout Started", unless: "Order Completed", within: 30m, weight: 1.0, confidence: 0.9}
segments:
  vip: 'traits.plan == "enterprise"'
channels:
  in_app: {}
  chat: {}
interventions:
  help:
    when: 'signals.friction.score >= threshold'
    threshold: {default: 0.5}
    ladder:
      - {channel: in_app, template: tip}
templates:
  tip: {text: "Need a hand?"}
experiments:
  holdout: {share: )" +
         std::to_string(holdout_share) + R"(, salt: "holdout-test"}
)" + extra;
}

inline Policy LoadTestPolicy(double holdout_share, const std::string& extra = "") {
  absl::StatusOr<Policy> policy =
      LoadPolicyText(PolicyYaml(holdout_share, extra), "scorecard-test.yaml");
  EXPECT_TRUE(policy.ok()) << policy.status().message();
  return policy.ok() ? *std::move(policy) : Policy();
}

// 2026-11-02T00:00:00Z, a Monday.
inline Micros T0() { return *ParseTimestamp("2026-11-02T00:00:00Z"); }

class RecordBuilder {
 public:
  explicit RecordBuilder(const Policy& policy) : policy_(policy) {}

  // A new customer with a fresh id; in the holdout or not, as asked (ids are
  // tried in turn until the hash agrees).
  uint32_t Customer(bool holdout, const std::string& segment = "") {
    std::string id;
    do {
      id = "cust-" + std::to_string(next_id_++);
    } while (policy_.holdout.share > 0 && InHoldout(policy_, id) != holdout);
    return Add(id, segment);
  }
  uint32_t Add(const std::string& id, const std::string& segment = "") {
    input.customer_ids.push_back(id);
    input.customer_segments.push_back(
        segment.empty() ? kNoLabel : ScorecardInput::Intern(&input.segments, segment));
    return static_cast<uint32_t>(input.customer_ids.size() - 1);
  }
  bool holdout(uint32_t c) const { return InHoldout(policy_, input.customer_ids[c]); }

  ScorecardEvent& Event(uint32_t c, Micros at, OutcomeRole role, double value = NAN,
                        const std::string& channel = "", const std::string& case_type = "") {
    ScorecardEvent e;
    e.at = at;
    e.customer = c;
    e.kind = static_cast<uint8_t>(role);
    e.value = value;
    if (!channel.empty()) e.channel = ScorecardInput::Intern(&input.channels, channel);
    if (!case_type.empty()) e.case_type = ScorecardInput::Intern(&input.case_types, case_type);
    input.events.push_back(e);
    return input.events.back();
  }
  void Exposure(uint32_t c, Micros at, int intervention = 0) {
    ScorecardExposure x;
    x.at = at;
    x.customer = c;
    x.intervention = static_cast<uint16_t>(intervention);
    x.holdout = holdout(c);
    input.exposures.push_back(x);
  }
  void Action(uint32_t c, Micros at, const std::string& channel = "in_app", int intervention = 0) {
    ScorecardAction a;
    a.at = at;
    a.customer = c;
    a.intervention = static_cast<uint16_t>(intervention);
    a.channel = ScorecardInput::Intern(&input.channels, channel);
    a.holdout = holdout(c);
    input.actions.push_back(a);
  }
  void Active(uint32_t c, Micros at) {
    input.activity.push_back({c, static_cast<int32_t>(at / kMicrosPerHour)});
  }

  ScorecardInput input;

 private:
  const Policy& policy_;
  uint64_t next_id_ = 0;
};

// The overall result of `metric` in the comparison `id`.
inline const nlohmann::json& Overall(const nlohmann::json& card, const std::string& id,
                                     const std::string& metric) {
  static const nlohmann::json kNull;
  for (const nlohmann::json& c : card["comparisons"]) {
    if (c["id"] == id && c["metrics"].contains(metric)) return c["metrics"][metric]["overall"];
  }
  ADD_FAILURE() << "no " << metric << " in comparison " << id;
  return kNull;
}

inline const nlohmann::json& Headline(const nlohmann::json& card, const std::string& metric) {
  static const nlohmann::json kNull;
  for (const char* section : {"headline", "guardrails"}) {
    for (const nlohmann::json& h : card[section]) {
      if (h["metric"] == metric) return h;
    }
  }
  ADD_FAILURE() << "no headline " << metric;
  return kNull;
}

}  // namespace upfront::scorecard_testing
