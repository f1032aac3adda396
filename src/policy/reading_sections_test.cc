// The signals, models, segments, sensitive_traits and intervention conditions
// of a policy: what loads, and every error a user can make, located.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "upfront/policy.h"

namespace upfront {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr char kBase[] = R"(version: v1
events:
  keep_properties: [path, step, delay_days, email_hash]
  keep_traits: [plan, tenure_days, age, email]
  hash: [email, email_hash]
outcomes:
  contact_opened: {event: "Support Ticket Opened"}
sensitive_traits: [age]
channels: {in_app: {}}
templates: {t: {text: "hi"}}
)";

std::vector<std::string> Errors(const std::string& sections) {
  std::vector<std::string> lines;
  for (const PolicyError& error : CheckPolicyText(kBase + sections, "p.yaml")) {
    lines.push_back(error.ToString().substr(std::string("p.yaml:").size()));
  }
  return lines;
}

Policy Load(const std::string& sections) {
  absl::StatusOr<Policy> policy = LoadPolicyText(kBase + sections, "dir/p.yaml");
  EXPECT_TRUE(policy.ok()) << policy.status().message();
  return policy.ok() ? *std::move(policy) : Policy{};
}

TEST(PolicySignals, ExampleSignalsLoadWithEveryPattern) {
  absl::StatusOr<Policy> policy =
      LoadPolicyFile(std::string(UPFRONT_SOURCE_DIR) + "/examples/ecommerce/policy.yaml");
  ASSERT_TRUE(policy.ok()) << policy.status().message();
  ASSERT_EQ(policy->signals.size(), 4u);
  const SignalSpec& friction = policy->signals[0];
  EXPECT_EQ(friction.name, "checkout_friction");
  EXPECT_EQ(friction.half_life, 10 * kMicrosPerMinute);
  ASSERT_EQ(friction.inputs.size(), 3u);
  const auto& form_error = std::get<EventInput>(friction.inputs[0].pattern);
  EXPECT_EQ(form_error.event, "Form Error");
  ASSERT_EQ(form_error.where.size(), 1u);
  EXPECT_EQ(form_error.where[0].op, Predicate::Op::kGlob);
  EXPECT_DOUBLE_EQ(friction.inputs[0].weight, 0.6);
  EXPECT_DOUBLE_EQ(friction.inputs[0].confidence, 0.9);
  const auto& repeat = std::get<RepeatInput>(friction.inputs[1].pattern);
  EXPECT_EQ(repeat.key, "step");
  EXPECT_EQ(repeat.count, 3);
  EXPECT_EQ(repeat.within, 5 * kMicrosPerMinute);
  const auto& abandon = std::get<AbandonInput>(policy->signals[1].inputs[0].pattern);
  EXPECT_EQ(abandon.unless, "Order Completed");
  EXPECT_EQ(abandon.within, 30 * kMicrosPerMinute);
  const auto& rate = std::get<RateChangeInput>(policy->signals[2].inputs[0].pattern);
  EXPECT_EQ(rate.short_window, 7 * kMicrosPerDay);
  EXPECT_EQ(rate.long_window, 28 * kMicrosPerDay);
  EXPECT_DOUBLE_EQ(rate.drop, 0.6);
  const auto& delay = std::get<EventInput>(policy->signals[3].inputs[0].pattern);
  EXPECT_EQ(delay.where[0].op, Predicate::Op::kGe);
  EXPECT_DOUBLE_EQ(delay.where[0].number, 2);

  ASSERT_EQ(policy->models.size(), 1u);
  const ModelSpec& churn = policy->models[0];
  EXPECT_EQ(churn.kind, ModelSpec::Kind::kLogistic);
  ASSERT_EQ(churn.features.size(), 4u);
  EXPECT_EQ(policy->paths[churn.features[2]].text, "traits.tenure_days");
  EXPECT_DOUBLE_EQ(churn.bias, -2.0);
  EXPECT_THAT(churn.weights, ElementsAre(3.0, 0.8, -0.002, 0.4));
  EXPECT_TRUE(churn.learn);
  EXPECT_EQ(churn.label_event, "Subscription Cancelled");
  EXPECT_EQ(churn.horizon, 30 * kMicrosPerDay);
  EXPECT_DOUBLE_EQ(churn.min_coverage, 0.6);

  ASSERT_EQ(policy->counters.size(), 1u);
  EXPECT_EQ(policy->counters[0].name, "contact_opened");
  EXPECT_EQ(policy->counters[0].event, "Support Ticket Opened");
  EXPECT_THAT(policy->counters[0].windows, ElementsAre(30 * kMicrosPerDay));

  ASSERT_EQ(policy->segments.size(), 2u);
  EXPECT_EQ(policy->segments[0].name, "new_customer");
  EXPECT_EQ(policy->segments[1].name, "vip");
  ASSERT_EQ(policy->interventions.size(), 3u);
  EXPECT_EQ(policy->interventions[0].threshold.at("new_customer"), 0.5);
  EXPECT_EQ(policy->interventions[0].threshold.at("default"), 0.6);
  EXPECT_EQ(policy->interventions[2].when.slots().size(), 3u);
}

TEST(PolicySignals, InputMistakesAreLocatedAndExplained) {
  EXPECT_THAT(Errors(R"(signals:
  s:
    half_life: 10m
    inputs:
      - {event: "A", repeat: "B", within: 5m}
      - {repeat: "B", count: 40}
      - {event: "A", where: {color: "red"}}
      - {event: "A", wieght: 2}
      - {abandon: "A", within: 0s}
      - {rate_change: "S", short: 7d, long: 5d}
      - {event: "A", where: {email_hash: "/x*"}}
      - {event: "A", confidence: 1.5}
)"),
              ElementsAre(
                  "15:22: signals.s.inputs[0]: has both 'event' and 'repeat'; an input is one "
                  "pattern, so write two inputs",
                  "16:9: signals.s.inputs[1]: a repeat input needs 'within': the window the "
                  "repeats fall in, e.g. within: 5m",
                  "16:30: signals.s.inputs[1].count: must be between 2 and 32, found 40",
                  "17:30: signals.s.inputs[2].where.color: properties.color is not kept; add "
                  "'color' to events.keep_properties",
                  "18:22: signals.s.inputs[3].wieght: unknown key 'wieght'; did you mean "
                  "'weight'? known keys are event, where, weight, confidence",
                  "19:9: signals.s.inputs[4]: a abandon input needs 'unless': the event that "
                  "completes what was started",
                  "19:32: signals.s.inputs[4].within: '0s' must be longer than zero",
                  "20:9: signals.s.inputs[5]: 'long' must be longer than 'short'",
                  "21:42: signals.s.inputs[6].where.email_hash: properties.email_hash is stored "
                  "only as a keyed hash, so it can be compared for equality but not with "
                  "patterns or < >",
                  "22:34: signals.s.inputs[7].confidence: must be between 0 and 1, found 1.5"));
}

TEST(PolicySignals, SignalNeedsHalfLifeAndInputs) {
  EXPECT_THAT(Errors("signals:\n  s: {description: x}\n"),
              ElementsAre(HasSubstr("12:6: signals.s: needs 'half_life'"),
                          HasSubstr("12:6: signals.s: needs 'inputs'")));
}

TEST(PolicyConditions, UnknownNamesAndTypeErrorsPointIntoTheCondition) {
  EXPECT_THAT(Errors(R"(signals:
  friction: {half_life: 10m, inputs: [{event: "Form Error"}]}
segments:
  pro: 'traits.plan == "pro"'
  odd: 'signals.fricton.score > 0.5'
interventions:
  help:
    when: 'signals.friction.score >= "high"'
    threshold: 0.5
    ladder: [{channel: in_app, template: t}]
)"),
              ElementsAre("15:9: segments.odd: unknown signal 'fricton'; the signals are: friction",
                          "18:38: interventions.help.when: cannot compare a number with a string"));
}

TEST(PolicyConditions, SensitiveTraitsCannotDriveAnything) {
  EXPECT_THAT(Errors(R"(models:
  m: {features: [traits.age], weights: {traits.age: 0.1}}
segments:
  older: 'traits.age > 60'
interventions:
  x: {when: 'traits.plan == "pro" || traits.age < 30', ladder: [{channel: in_app, template: t}]}
)"),
              ElementsAre("12:18: models.m.features[0]: traits.age is listed in sensitive_traits "
                          "and must never drive a decision",
                          "14:11: segments.older: traits.age is listed in sensitive_traits and "
                          "must never drive a decision",
                          "16:38: interventions.x.when: traits.age is listed in sensitive_traits "
                          "and must never drive a decision"));
}

TEST(PolicyConditions, ThresholdBelongsToInterventionsWithOne) {
  EXPECT_THAT(Errors(R"(signals:
  f: {half_life: 10m, inputs: [{event: "E"}]}
segments:
  s: 'signals.f.score > threshold'
  ok: 'signals.f.score > 0.9'
interventions:
  a: {when: 'signals.f.score >= threshold', ladder: [{channel: in_app, template: t}]}
  b: {when: 'signals.f.score >= threshold', threshold: {vip: 0.5, ok: 0.4}, ladder: [{channel: in_app, template: t}]}
)"),
              ElementsAre("14:25: segments.s: 'threshold' is only defined in an intervention's when:",
                          "17:13: interventions.a.when: reads 'threshold' but the intervention sets "
                          "none; add e.g. threshold: {default: 0.6}",
                          "18:56: interventions.b.threshold: needs a 'default' value for customers "
                          "in no listed segment",
                          "18:57: interventions.b.threshold.vip: 'vip' is not a segment; the "
                          "segments are default, ok"));
}

TEST(PolicyConditions, CountsReadOutcomeRolesOrEventsInCountableWindows) {
  Policy policy = Load(R"(segments:
  busy: 'counts.contact_opened.30d > 2 || counts.contact_opened.24h > 0 || counts.Login.7d < 1'
)");
  ASSERT_EQ(policy.counters.size(), 2u);
  EXPECT_EQ(policy.counters[0].event, "Support Ticket Opened");
  EXPECT_THAT(policy.counters[0].windows, ElementsAre(30 * kMicrosPerDay, 24 * kMicrosPerHour));
  EXPECT_EQ(policy.counters[1].event, "Login");

  EXPECT_THAT(Errors("segments:\n  a: 'counts.csat.7d > 1'\n  b: 'counts.x.100d > 1'\n"),
              ElementsAre(HasSubstr("12:7: segments.a: counts.csat counts the outcome role csat, "
                                    "which outcomes: does not map to an event"),
                          HasSubstr("13:7: segments.b: 'counts.x.100d': ")));
}

TEST(PolicyModels, WeightsMustMatchFeatures) {
  EXPECT_THAT(Errors(R"(models:
  m:
    features: [traits.tenure_days, traits.plan]
    weights: {bias: 1, traits.tenure_days: 0.1, traits.plann: 2}
  n: {features: [models.m.score], weights: {}}
)"),
              ElementsAre(HasSubstr("14:14: models.m.weights: 'traits.plan' has no weight"),
                          HasSubstr("14:49: models.m.weights.traits.plann: is not one of the "
                                    "model's features"),
                          HasSubstr("15:18: models.n.features[0]: 'models.m.score': a model "
                                    "feature cannot read another model")));
}

TEST(PolicyModels, XgboostModelsReadAFileNextToThePolicy) {
  Policy policy = Load(R"(models:
  churn:
    kind: xgboost
    file: models/churn.json
    features: [traits.tenure_days, counts.contact_opened.30d]
    learn: {label: "Subscription Cancelled", horizon: 30d}
)");
  ASSERT_EQ(policy.models.size(), 1u);
  EXPECT_EQ(policy.models[0].kind, ModelSpec::Kind::kXgboost);
  EXPECT_EQ(policy.models[0].file, "dir/models/churn.json");
  EXPECT_THAT(Errors("models:\n  x: {kind: xgboost, features: [traits.plan], weights: {}}\n"),
              ElementsAre(HasSubstr("models.x: an xgboost model needs 'file'"),
                          HasSubstr("models.x.weights: an xgboost model's trees come from its "
                                    "file")));
}

TEST(PolicyConditions, ConditionsOnMissingSectionsStillLoadWithoutAny) {
  Policy policy = Load("");
  EXPECT_THAT(policy.signals, IsEmpty());
  EXPECT_THAT(policy.segments, IsEmpty());
  EXPECT_THAT(policy.paths, IsEmpty());
}

}  // namespace
}  // namespace upfront
