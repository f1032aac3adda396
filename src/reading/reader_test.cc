#include "src/reading/reader.h"

#include <gtest/gtest.h>

#include <cmath>

namespace upfront {
namespace {

constexpr Micros kT0 = 20'000 * kMicrosPerDay;

class ReaderTest : public ::testing::Test {
 protected:
  void Load(const std::string& yaml) {
    absl::StatusOr<Policy> policy = LoadPolicyText(yaml, "p.yaml");
    ASSERT_TRUE(policy.ok()) << policy.status().message();
    policy_ = std::make_unique<Policy>(*std::move(policy));
    catalog_ = std::make_unique<FieldCatalog>(policy_->events.keep_properties,
                                              policy_->events.keep_traits, policy_->events.hash,
                                              "key");
    absl::StatusOr<std::unique_ptr<PolicyReader>> reader = PolicyReader::Create(*policy_, *catalog_);
    ASSERT_TRUE(reader.ok()) << reader.status().message();
    reader_ = *std::move(reader);
  }
  void LoadExample() {
    absl::StatusOr<Policy> policy =
        LoadPolicyFile(std::string(UPFRONT_SOURCE_DIR) + "/examples/ecommerce/policy.yaml");
    ASSERT_TRUE(policy.ok()) << policy.status().message();
    policy_ = std::make_unique<Policy>(*std::move(policy));
    catalog_ = std::make_unique<FieldCatalog>(policy_->events.keep_properties,
                                              policy_->events.keep_traits, policy_->events.hash,
                                              "key");
    reader_ = *PolicyReader::Create(*policy_, *catalog_);
  }
  void SetTrait(Profile* p, std::string_view name, double number) {
    const auto id = static_cast<size_t>(catalog_->TraitId(name));
    p->traits.resize(catalog_->trait_count());
    p->has_trait.resize(catalog_->trait_count());
    p->traits[id].kind = FieldValue::Kind::kNumber;
    p->traits[id].number = number;
    p->has_trait[id] = true;
  }
  void SetTrait(Profile* p, std::string_view name, std::string text) {
    const auto id = static_cast<size_t>(catalog_->TraitId(name));
    p->traits.resize(catalog_->trait_count());
    p->has_trait.resize(catalog_->trait_count());
    p->traits[id].kind = FieldValue::Kind::kString;
    p->traits[id].text = std::move(text);
    p->has_trait[id] = true;
  }
  Event Make(std::string name, Micros t, std::string path = "") {
    Event e;
    e.name = std::move(name);
    e.timestamp = t;
    e.message_id = "m" + std::to_string(t);
    if (!path.empty()) {
      FieldValue& v = e.properties.Add(static_cast<uint16_t>(catalog_->PropertyId("path")));
      v.kind = FieldValue::Kind::kString;
      v.text = path;
    }
    return e;
  }
  int Model(std::string_view name) {
    for (size_t i = 0; i < policy_->models.size(); ++i) {
      if (policy_->models[i].name == name) return static_cast<int>(i);
    }
    return -1;
  }

  std::unique_ptr<Policy> policy_;
  std::unique_ptr<FieldCatalog> catalog_;
  std::unique_ptr<PolicyReader> reader_;
};

TEST_F(ReaderTest, ExampleChurnModelScoresByItsWeightsAndFirstSegmentWins) {
  LoadExample();
  Profile profile;
  SetTrait(&profile, "tenure_days", 10);
  SetTrait(&profile, "plan", "enterprise");  // vip too, but new_customer is listed first
  CustomerSignals signals(&reader_->signals());
  signals.OnEvent(Make("Form Error", kT0, "/checkout/pay"));
  signals.OnEvent(Make("Support Ticket Opened", kT0 + 1));
  Reading reading(*reader_);
  reader_->Read(profile, signals, kT0 + 1, &reading);

  EXPECT_EQ(reading.segment_name(), "new_customer");
  const int churn = Model("churn_risk");
  const double friction = 1 - std::exp(-0.6 * 0.9 * std::exp2(-1.0 / (10 * 60e6)));
  const double z = -2.0 + 3.0 * 0 + 0.8 * friction - 0.002 * 10 + 0.4 * 1;
  EXPECT_NEAR(reading.model(churn).score, 1 / (1 + std::exp(-z)), 1e-9);
  EXPECT_DOUBLE_EQ(reading.model(churn).confidence, 1.0);
  EXPECT_FALSE(reading.model(churn).low_confidence);
  EXPECT_NEAR(reading.contributions(churn)[3], 0.4, 1e-12);  // one contact in 30 days
  EXPECT_EQ(reader_->model_version(churn).substr(0, 3), "lr-");

  SetTrait(&profile, "tenure_days", 400);
  reader_->Read(profile, signals, kT0 + 1, &reading);
  EXPECT_EQ(reading.segment_name(), "vip");
  SetTrait(&profile, "plan", "pro");
  reader_->Read(profile, signals, kT0 + 1, &reading);
  EXPECT_EQ(reading.segment_name(), "default");
}

TEST_F(ReaderTest, AReadingHoldsEverySignalsScoreAndConfidenceAtItsTime) {
  LoadExample();
  Profile profile;
  CustomerSignals signals(&reader_->signals());
  signals.OnEvent(Make("Form Error", kT0, "/checkout/payment"));
  signals.OnEvent(Make("Form Error", kT0 + kMicrosPerMinute, "/checkout/payment"));
  Reading reading(*reader_);
  const Micros at = kT0 + 7 * kMicrosPerMinute;
  reader_->Read(profile, signals, at, &reading);
  int contributed = 0;
  for (size_t i = 0; i < reader_->signals().signal_count(); ++i) {
    const int s = static_cast<int>(i);
    EXPECT_EQ(reading.signal_score(s), signals.Score(s, at)) << reader_->signals().signal(s).name;
    EXPECT_EQ(reading.signal_confidence(s), signals.Confidence(s, at));
    contributed += reading.signal_score(s) > 0;
  }
  EXPECT_GT(contributed, 0);
}

TEST_F(ReaderTest, MissingInputsLowerConfidenceAndConditionsOnThemDoNotHold) {
  Load(R"(version: v1
events: {keep_traits: [tenure_days, plan]}
models:
  m:
    features: [traits.tenure_days, traits.plan]
    weights: {bias: 0, traits.tenure_days: 3, traits.plan: 1}
    min_coverage: 0.8
segments:
  long_time: 'traits.tenure_days > 100'
channels: {in_app: {}}
templates: {t: {text: "hi"}}
interventions:
  x: {when: 'models.m.score >= threshold', threshold: 0.5, ladder: [{channel: in_app, template: t}]}
)");
  Profile profile;  // no traits at all
  CustomerSignals signals(&reader_->signals());
  Reading reading(*reader_);
  reader_->Read(profile, signals, kT0, &reading);
  EXPECT_FALSE(reading.model(0).available);
  EXPECT_TRUE(reading.model(0).low_confidence);
  EXPECT_EQ(reading.segment_name(), "default");
  std::vector<int> missing;
  reading.SetThreshold(0.5);
  EXPECT_FALSE(policy_->interventions[0].when.Evaluate(reading, &missing));
  ASSERT_EQ(missing.size(), 1u);
  EXPECT_EQ(policy_->paths[missing[0]].text, "models.m.score");

  SetTrait(&profile, "tenure_days", 200);  // plan still missing, and text is not a number anyway
  reader_->Read(profile, signals, kT0, &reading);
  EXPECT_TRUE(reading.model(0).available);
  EXPECT_DOUBLE_EQ(reading.model(0).confidence, 0.75);
  EXPECT_TRUE(reading.model(0).low_confidence);
  EXPECT_TRUE(std::isnan(reading.features(0)[1]));
  EXPECT_EQ(reading.segment_name(), "long_time");
  reading.SetThreshold(0.5);  // a Read leaves threshold to whoever evaluates
  EXPECT_TRUE(policy_->interventions[0].when.Evaluate(reading));
}

TEST_F(ReaderTest, XgboostModelFileThatIsMissingIsAClearError) {
  absl::StatusOr<Policy> policy = LoadPolicyText(R"(version: v1
events: {keep_traits: [tenure_days]}
models:
  churn: {kind: xgboost, file: /nonexistent/churn.json, features: [traits.tenure_days]}
)", "p.yaml");
  ASSERT_TRUE(policy.ok()) << policy.status().message();
  FieldCatalog catalog({}, {"tenure_days"}, {}, "k");
  absl::StatusOr<std::unique_ptr<PolicyReader>> reader = PolicyReader::Create(*policy, catalog);
  ASSERT_FALSE(reader.ok());
  EXPECT_NE(reader.status().message().find("models.churn:"), std::string::npos);
  EXPECT_NE(reader.status().message().find("/nonexistent/churn.json"), std::string::npos);
  EXPECT_NE(reader.status().message().find("upfront train"), std::string::npos);
}

}  // namespace
}  // namespace upfront
