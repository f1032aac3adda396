#include "src/decide/decider.h"

#include <gtest/gtest.h>

#include "src/decide/decision_state.h"

namespace upfront {
namespace {

Decision Sample(bool acted) {
  Decision d;
  d.id = "00ab";
  d.customer = "c \"1\"";
  d.at = 1'764'064'800'123'000;
  d.trigger_message_id = acted ? "m-1" : "";
  d.trigger_timer = "scheduled";
  d.segment = "vip";
  d.action = acted ? "deliver" : "none";
  if (acted) {
    d.intervention = "help";
    d.step = 1;
    d.channel = "email";
    d.template_name = "mail";
    d.subject = "Still stuck?";
    d.message = "Line one\nline two ✓";
    d.why = "why";
    d.benefit = "benefit";
    d.options = {"accept", "snooze", "turn_off"};
  }
  d.confidence = 0.8123456789;
  d.priority = 12.5;
  d.signals = {{"stuck", 0.75, 0.5}, {"late", 0, 0}};
  d.models = {{"churn", "lr-1", 0.25, 1, true}, {"xgb", "xgb-2", 0, 0, false}};
  d.blocked = {{"other", "quiet_hours", 1'764'100'000'000'000}, {"third", "cooldown", 0}};
  d.missing = {"traits.plan"};
  d.policy_version = "v1";
  d.policy_hash = "abc";
  return d;
}

TEST(DecisionJson, TheFastWriterSaysExactlyWhatTheDocumentSays) {
  for (bool acted : {true, false}) {
    const Decision d = Sample(acted);
    std::string fast = "left over";
    AppendDecisionJson(d, &fast);
    EXPECT_EQ(nlohmann::json::parse(fast), DecisionToJson(d)) << fast;
  }
}

TEST(DecisionState, EncodesAndDecodesEverything) {
  DecisionState s;
  InterventionState& i = s.intervention(2);
  i.step = 1;
  i.step_at = 5;
  i.in_review = true;
  i.review_id = "r1";
  i.review_expires = 9;
  i.dismissals = 2;
  i.declined = true;
  s.contacts.push_back({7, 2, "email", 3, 1});
  s.preferences.channel_opt_outs = {"sms"};
  s.preferences.purposes.push_back({"proactive_support", PurposeConsent::State::kRevoked, 1, 2});
  s.preferences.has_quiet_hours = true;
  s.preferences.quiet_start_minute = 1320;
  s.timezone = "Asia/Tokyo";
  s.last_properties = {{1, "card"}, {4, "o-1"}};
  s.incident_open = true;
  s.decisions = 42;
  std::string blob;
  s.Encode(&blob);
  DecisionState back;
  ASSERT_TRUE(back.Decode(blob).ok());
  EXPECT_EQ(back, s);
  EXPECT_FALSE(back.Decode(blob.substr(0, blob.size() / 2)).ok());
}

}  // namespace
}  // namespace upfront
