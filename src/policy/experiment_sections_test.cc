// experiments (holdout, variants and their overrides) and targets.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "upfront/policy.h"

namespace upfront {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kBase[] = R"(version: v1
segments:
  vip: 'traits.plan == "enterprise"'
events:
  keep_traits: [plan]
signals:
  stuck: {half_life: 1h, inputs: [{event: "Form Error"}]}
channels:
  in_app: {}
  email: {}
moderation:
  max_per_day: 2
  cooldown: 2h
templates:
  tip: {text: "Here is how."}
  tip_friendly: {text: "Hi! Here is how."}
  mail: {text: "A note."}
interventions:
  help:
    when: 'signals.stuck.score >= threshold'
    threshold: {default: 0.6}
    ladder:
      - {channel: in_app, template: tip}
      - {channel: email, template: mail, after: 1h}
)";

std::vector<std::string> Errors(const std::string& extra) {
  std::vector<std::string> lines;
  for (const PolicyError& error : CheckPolicyText(kBase + extra, "p.yaml")) {
    lines.push_back(error.ToString().substr(std::string("p.yaml:").size()));
  }
  return lines;
}

TEST(PolicyExperiments, HoldoutVariantsAndTheirOverridesLoad) {
  absl::StatusOr<Policy> policy = LoadPolicyText(std::string(kBase) + R"(experiments:
  holdout: {share: 0.05, salt: "holdout-2026"}
  help_test:
    intervention: help
    variants:
      control: {share: 0.4}
      eager: {share: 0.3, threshold: {default: 0.4, vip: 0.5}, templates: {tip: tip_friendly}}
      patient:
        share: 0.3
        ladder: [{channel: in_app, template: tip}, {channel: email, template: mail, after: 3h}]
        moderation: {max_per_day: 1}
targets:
  csat: 0.85
  nps: {default: 40, vip: 55, channels: {chat: 50}}
)", "p.yaml");
  ASSERT_TRUE(policy.ok()) << policy.status().message();
  EXPECT_DOUBLE_EQ(policy->holdout.share, 0.05);
  EXPECT_EQ(policy->holdout.salt, "holdout-2026");
  ASSERT_EQ(policy->experiments.size(), 1u);
  const ExperimentSpec& e = policy->experiments[0];
  EXPECT_EQ(e.name, "help_test");
  EXPECT_EQ(e.salt, "help_test");
  EXPECT_EQ(e.intervention, 0);
  ASSERT_EQ(e.variants.size(), 3u);
  EXPECT_EQ(e.variants[0].name, "control");
  EXPECT_TRUE(e.variants[0].threshold.empty());
  EXPECT_FALSE(e.variants[0].overrides_moderation);
  EXPECT_DOUBLE_EQ(e.variants[1].threshold.at("default"), 0.4);
  EXPECT_DOUBLE_EQ(e.variants[1].threshold.at("vip"), 0.5);
  EXPECT_EQ(e.variants[1].templates.at("tip"), "tip_friendly");
  ASSERT_EQ(e.variants[2].ladder.size(), 2u);
  EXPECT_EQ(e.variants[2].ladder[1].after, 3 * kMicrosPerHour);
  EXPECT_TRUE(e.variants[2].overrides_moderation);
  EXPECT_EQ(e.variants[2].moderation.max_per_day, 1);
  EXPECT_EQ(e.variants[2].moderation.cooldown, 2 * kMicrosPerHour) << "the rest as the policy says";

  ASSERT_EQ(policy->targets.size(), 4u);
  EXPECT_EQ(policy->targets[0].metric, "csat");
  EXPECT_EQ(policy->targets[0].segment, "");
  EXPECT_DOUBLE_EQ(policy->targets[0].goal, 0.85);
  EXPECT_EQ(policy->targets[2].segment, "vip");
  EXPECT_EQ(policy->targets[3].channel, "chat");
  EXPECT_DOUBLE_EQ(policy->targets[3].goal, 50);
}

TEST(PolicyExperiments, MistakesAreNamedWithTheirPlace) {
  EXPECT_THAT(Errors(R"(experiments:
  holdout: {share: 5}
  t1:
    intervention: helpp
    variants: {a: {share: 0.5}, b: {share: 0.5}}
  t2:
    intervention: help
    variants: {a: {share: 0.5}, b: {share: 0.4}}
)"),
              ElementsAre(HasSubstr("26:20: experiments.holdout.share: must be between 0 and 0.5"), HasSubstr("28:19: experiments.t1.intervention: 'helpp' is not an intervention"),
                          HasSubstr("32:15: experiments.t2.variants: the variants' shares add up to 0.9")));
  EXPECT_THAT(Errors(R"(experiments:
  t:
    intervention: help
    variants:
      a: {share: 0.5}
      b: {share: 0.5, templates: {mail2: tip}, ladder: [{channel: in_app, template: tip}], colour: red}
)"),
              ElementsAre(HasSubstr("experiments.t.variants.b.templates.mail2: 'mail2' is not a template of intervention 'help'"),
                          HasSubstr("experiments.t.variants.b.ladder: has 1 steps; the intervention's ladder has 2"),
                          HasSubstr("experiments.t.variants.b.colour")));
  EXPECT_THAT(Errors("targets:\n  csatt: 0.8\n  nps: {gold: 3}\n"),
              ElementsAre(HasSubstr("targets.csatt"), HasSubstr("targets.nps.gold: 'gold' is not a segment")));
  EXPECT_THAT(Errors("experiments:\n  t:\n    variants: {a: {share: 1}}\n"),
              ElementsAre(HasSubstr("experiments.t: needs 'intervention'")));
}

}  // namespace
}  // namespace upfront
