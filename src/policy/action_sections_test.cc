// channels, moderation, templates and the acting half of interventions.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "upfront/policy.h"

namespace upfront {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<std::string> Errors(const std::string& yaml) {
  std::vector<std::string> lines;
  for (const PolicyError& error : CheckPolicyText(yaml, "p.yaml")) {
    lines.push_back(error.ToString().substr(std::string("p.yaml:").size()));
  }
  return lines;
}

TEST(PolicyActions, TheExampleLoadsChannelsModerationTemplatesAndLadders) {
  absl::StatusOr<Policy> policy =
      LoadPolicyFile(std::string(UPFRONT_SOURCE_DIR) + "/examples/ecommerce/policy.yaml");
  ASSERT_TRUE(policy.ok()) << policy.status().message();
  const ChannelSpec* in_flow = policy->FindChannel("in_flow");
  ASSERT_NE(in_flow, nullptr);
  EXPECT_TRUE(in_flow->needs_presence);
  EXPECT_TRUE(in_flow->quiet_hours_exempt);
  EXPECT_EQ(policy->FindChannel("email")->consent_trait, "email_opt_in");
  EXPECT_EQ(policy->FindChannel("email")->webhook, "email");
  EXPECT_EQ(policy->FindChannel("agent")->queue, "outreach");

  const ModerationSpec& m = policy->moderation;
  EXPECT_TRUE(m.has_quiet_hours);
  EXPECT_EQ(m.quiet_start_minute, 21 * 60);
  EXPECT_EQ(m.quiet_end_minute, 8 * 60);
  EXPECT_EQ(m.max_per_day, 2);
  EXPECT_EQ(m.max_per_week, 5);
  EXPECT_EQ(m.cooldown, 2 * kMicrosPerHour);
  EXPECT_EQ(m.dismiss_cooldown, 7 * kMicrosPerDay);
  EXPECT_EQ(m.suppress_after, 2);
  EXPECT_EQ(m.suppress_for, 30 * kMicrosPerDay);
  EXPECT_TRUE(m.pause_on_incident);
  EXPECT_FALSE(m.rolling_windows);

  const TemplateSpec* tip = policy->FindTemplate("checkout_tip");
  ASSERT_NE(tip, nullptr);
  ASSERT_TRUE(tip->base.text.has_value());
  ASSERT_EQ(tip->base.text->parts.size(), 3u);
  EXPECT_TRUE(tip->base.text->parts[1].variable);
  EXPECT_EQ(tip->base.text->parts[1].text, "last.properties.field");

  ASSERT_EQ(policy->interventions.size(), 3u);
  const InterventionSpec& help = policy->interventions[0];
  EXPECT_EQ(help.name, "checkout_help");
  EXPECT_DOUBLE_EQ(help.min_confidence, 0.5);
  EXPECT_EQ(help.low_confidence, LowConfidence::kAskConfirm);
  EXPECT_EQ(help.goal, "Order Completed");
  EXPECT_DOUBLE_EQ(help.priority, 0.8);
  EXPECT_DOUBLE_EQ(help.value, 30);
  EXPECT_EQ(help.cooldown, kMicrosPerDay);
  ASSERT_EQ(help.ladder.size(), 2u);
  EXPECT_EQ(help.ladder[1].channel, "email");
  EXPECT_EQ(help.ladder[1].template_name, "checkout_email");
  EXPECT_EQ(help.ladder[1].after, kMicrosPerHour);
  EXPECT_TRUE(policy->interventions[2].sensitive);
}

TEST(PolicyActions, MistakesInActingSectionsAreLocated) {
  EXPECT_THAT(Errors(R"(version: v1
events: {keep_properties: [field, card]}
signals: {f: {half_life: 1m, inputs: [{event: E}]}}
channels: {in_app: {needs_presence: maybe}, email: {}}
moderation:
  quiet_hours: {start: "21:00", end: "8am"}
  window: weekly
templates:
  tip: {text: "Fix {{last.properties.field}} now; {{evidence.g.count}} issues {{traits.plan}}"}
  ok: {text: "Hi {{evidence.f.count"}
  fine: {text: "Hello", why: "{{evidence.f.window}} ago"}
interventions:
  a:
    when: 'signals.f.score > 0.5'
    ladder:
      - {channel: in_app, template: fine, after: 1h}
      - {channel: sms, template: nope}
      - {channel: email, template: fine}
)"),
              ElementsAre(
                  HasSubstr("4:37: channels.in_app.needs_presence: must be true or false"),
                  HasSubstr("6:38: moderation.quiet_hours.end: '8am' is not a time of day"),
                  HasSubstr("7:11: moderation.window: 'weekly' is not a window"),
                  HasSubstr("9:15: templates.tip.text: {{evidence.g.count}}: unknown signal 'g'"),
                  HasSubstr("9:15: templates.tip.text: {{traits.plan}}: traits.plan is not kept"),
                  HasSubstr("10:14: templates.ok.text: '{{' at character 4 is never closed"),
                  HasSubstr("16:50: interventions.a.ladder[0].after: the first step goes out "
                            "when the condition holds"),
                  HasSubstr("17:9: interventions.a.ladder[1]: a later step needs 'after'"),
                  HasSubstr("17:19: interventions.a.ladder[1].channel: 'sms' is not a channel; "
                            "the channels are: in_app, email"),
                  HasSubstr("17:34: interventions.a.ladder[1].template: 'nope' is not a template"),
                  HasSubstr("18:9: interventions.a.ladder[2]: a later step needs 'after'")));
}

}  // namespace
}  // namespace upfront
