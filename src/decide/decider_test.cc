#include "src/decide/decider.h"

#include <gtest/gtest.h>

#include "src/decide/decision_state.h"
#include "src/event/field_catalog.h"
#include "src/profile/profile.h"
#include "src/reading/reader.h"

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

TEST(RenderField, ShowsValuesAsAMessageWould) {
  const auto number = [](double n) {
    FieldValue v;
    v.kind = FieldValue::Kind::kNumber;
    v.number = n;
    return RenderField(v);
  };
  EXPECT_EQ(number(3), "3");
  EXPECT_EQ(number(-42), "-42");
  EXPECT_EQ(number(0), "0");
  EXPECT_EQ(number(123456789012345), "123456789012345");
  EXPECT_EQ(number(2.5), "2.50");
  EXPECT_EQ(number(1e15), "1000000000000000.00");
  FieldValue text;
  text.kind = FieldValue::Kind::kString;
  text.text = "card";
  std::string out = "card number";  // reused: what was there is replaced
  RenderFieldTo(text, &out);
  EXPECT_EQ(out, "card");
  RenderFieldTo(text, &out);
  EXPECT_EQ(out, "card");
  FieldValue yes;
  yes.kind = FieldValue::Kind::kBool;
  yes.boolean = true;
  EXPECT_EQ(RenderField(yes), "true");
  EXPECT_EQ(RenderField(FieldValue{}), "");
}

TEST(DecisionJson, WritesEveryFieldOfTheContract) {
  const Decision d = Sample(true);
  std::string text = "left over";
  AppendDecisionJson(d, &text);
  const nlohmann::json j = nlohmann::json::parse(text);  // valid JSON, escapes and all
  EXPECT_EQ(j["decision_id"], "00ab");
  EXPECT_EQ(j["customer"], "c \"1\"");
  EXPECT_EQ(j["at"], "2025-11-25T10:00:00.123Z");
  EXPECT_EQ(j["trigger"], nlohmann::json({{"message_id", "m-1"}}));
  EXPECT_EQ(j["message"], "Line one\nline two ✓");
  EXPECT_EQ(j["subject"], "Still stuck?");
  EXPECT_EQ(j["step"], 1);
  EXPECT_EQ(j["explanation"]["options"], nlohmann::json({"accept", "snooze", "turn_off"}));
  EXPECT_EQ(j["confidence"], 0.812346);  // six decimals
  EXPECT_EQ(j["priority"], 12.5);
  EXPECT_EQ(j["signals"]["stuck"]["score"], 0.75);
  EXPECT_EQ(j["signals"]["late"]["score"], 0);
  EXPECT_TRUE(j["models"]["xgb"]["score"].is_null());
  EXPECT_EQ(j["blocked"][0]["retry_at"], "2025-11-25T19:46:40.000Z");
  EXPECT_FALSE(j["blocked"][1].contains("retry_at"));
  EXPECT_EQ(j["missing"][0], "traits.plan");

  const nlohmann::json none = DecisionToJson(Sample(false));
  EXPECT_EQ(none["trigger"], nlohmann::json({{"timer", "scheduled"}}));
  EXPECT_TRUE(none["explanation"].is_null());
  EXPECT_TRUE(none["intervention"].is_null());
  EXPECT_TRUE(none["step"].is_null());
  EXPECT_FALSE(none.contains("subject"));
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

// Only what a template will render is held about the customer.
TEST(Decider, RemembersOnlyThePropertiesATemplateRenders) {
  absl::StatusOr<Policy> policy = LoadPolicyText(R"(version: v
events: {keep_properties: [order_id, path, field, secret], hash: [secret]}
signals:
  late: {half_life: 1d, inputs: [{event: "Order Late"}]}
channels: {in_app: {}}
templates:
  note: {text: "Order {{last.properties.order_id}}", why: "At {{last.properties.field}}."}
interventions:
  heads_up:
    when: 'signals.late.score >= 0.5'
    ladder: [{channel: in_app, template: note}]
)",
                                                 "p.yaml");
  ASSERT_TRUE(policy.ok()) << policy.status().message();
  const EventsPolicy& ev = policy->events;
  FieldCatalog catalog(ev.keep_properties, ev.keep_traits, ev.hash, "key");
  ProfileRules rules(*policy, catalog);
  auto reader = PolicyReader::Create(*policy, catalog);
  ASSERT_TRUE(reader.ok()) << reader.status().message();
  Decider decider(**reader, rules);

  Event event;
  event.name = "Order Late";
  event.timestamp = 1'764'064'800'000'000;
  for (const char* name : {"order_id", "path", "field", "secret"}) {
    FieldValue& v = event.properties.Add(static_cast<uint16_t>(catalog.PropertyId(name)));
    v.kind = FieldValue::Kind::kString;
    v.text = std::string(name) + "-value";
  }
  DecisionState state;
  decider.Observe(event, &state);
  const auto id = [&](const char* name) { return static_cast<uint16_t>(catalog.PropertyId(name)); };
  std::vector<std::pair<uint16_t, std::string>> expected = {{id("order_id"), "order_id-value"},
                                                            {id("field"), "field-value"}};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(state.last_properties, expected);
}

}  // namespace
}  // namespace upfront
