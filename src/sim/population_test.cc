#include "src/sim/population.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace upfront::sim {
namespace {

using ::testing::HasSubstr;

std::string Source(const std::string& relative) { return std::string(UPFRONT_SOURCE_DIR) + "/" + relative; }

TEST(PopulationTest, BuiltInDefaultIsTheEcommerceExample) {
  PopulationModel model = DefaultPopulation();
  EXPECT_EQ(model.name, "ecommerce-shoppers");
  EXPECT_TRUE(model.source_file.empty());
  ASSERT_EQ(model.segments.size(), 3u);
  double shares = 0;
  for (const SegmentModel& s : model.segments) shares += s.share;
  EXPECT_NEAR(shares, 1.0, 1e-12);
  EXPECT_EQ(model.presence.hours.size(), 24u);
  ASSERT_FALSE(model.journeys.empty());
  EXPECT_EQ(model.journeys[0].name, "checkout");
  ASSERT_EQ(model.journeys[0].needs.size(), 1u);
  EXPECT_EQ(model.journeys[0].needs[0].helped_by, std::vector<std::string>{"checkout_help"});
}

// Each example domain ships a population whose events and needs fit its policy.
TEST(PopulationTest, EveryExamplePopulationFitsItsPolicy) {
  for (const std::string domain : {"ecommerce", "saas", "telecom"}) {
    SCOPED_TRACE(domain);
    absl::StatusOr<PopulationModel> model = LoadPopulationFile(Source("examples/" + domain + "/population.yaml"));
    ASSERT_TRUE(model.ok()) << model.status();
    absl::StatusOr<Policy> policy = LoadPolicyFile(Source("examples/" + domain + "/policy.yaml"));
    ASSERT_TRUE(policy.ok()) << policy.status();
    for (const std::string& note : CheckPopulationAgainstPolicy(*model, *policy)) {
      EXPECT_THAT(note, ::testing::Not(HasSubstr("helped_by"))) << note;
      EXPECT_THAT(note, ::testing::Not(HasSubstr("sends none of the events"))) << note;
    }
    // Every intervention of the policy addresses some need of the population.
    for (const InterventionSpec& intervention : policy->interventions) {
      bool addressed = false;
      for (const JourneySpec& j : model->journeys) {
        for (const NeedSpec& n : j.needs) {
          for (const std::string& h : n.helped_by) addressed |= h == intervention.name;
        }
      }
      EXPECT_TRUE(addressed) << intervention.name;
    }
  }
}

TEST(PopulationTest, ErrorsNameTheFileLineAndKey) {
  const std::string yaml =
      "name: broken\n"
      "segments:\n"
      "  a: {share: 1, colour: blue}\n"
      "journeys:\n"
      "  checkout:\n"
      "    start: sometimes\n"
      "    steps:\n"
      "      - {event: \"Checkout Started\", probability: 1.5}\n"
      "    needs:\n"
      "      stuck: {probability: 0.7, lasts: soon}\n"
      "      lost: {probability: 0.6}\n";
  absl::StatusOr<PopulationModel> model = LoadPopulationText(yaml, "pop.yaml");
  ASSERT_FALSE(model.ok());
  const std::string message(model.status().message());
  EXPECT_THAT(message, HasSubstr("pop.yaml:3:"));
  EXPECT_THAT(message, HasSubstr("segments.a.colour: unknown key"));
  EXPECT_THAT(message, HasSubstr("pop.yaml:6:"));
  EXPECT_THAT(message, HasSubstr("journeys.checkout.start: must be in_session, anytime or first_session"));
  EXPECT_THAT(message, HasSubstr("journeys.checkout.steps[0].probability: must be between 0 and 1"));
  EXPECT_THAT(message, HasSubstr("journeys.checkout.needs.stuck.lasts"));
  EXPECT_THAT(message, HasSubstr("at most 1"));
  // In file order.
  EXPECT_LT(message.find("pop.yaml:3:"), message.find("pop.yaml:6:"));
}

TEST(PopulationTest, UnreadableFileIsNotFound) {
  absl::StatusOr<PopulationModel> model = LoadPopulationFile("/nonexistent/population.yaml");
  EXPECT_EQ(model.status().code(), absl::StatusCode::kNotFound);
}

TEST(PopulationTest, ValuesKeepTheirTypes) {
  const std::string yaml =
      "segments:\n"
      "  a: {share: 1, traits: {plan: pro, seats: 3, beta: true, code: \"007\", tenure_days: {min: 1, max: 9},\n"
      "                          score: {min: 0.5, max: 1.5}, tier: {choice: {gold: 1, silver: 3}}}}\n"
      "journeys:\n"
      "  j: {steps: [{event: E, properties: {id: \"o-{customer}-{n}\"}}]}\n";
  absl::StatusOr<PopulationModel> model = LoadPopulationText(yaml, "pop.yaml");
  ASSERT_TRUE(model.ok()) << model.status();
  const Properties& traits = model->segments[0].traits;
  ASSERT_EQ(traits.size(), 7u);
  EXPECT_EQ(traits[0].second.texts[0], "\"pro\"");
  EXPECT_EQ(traits[1].second.texts[0], "3");
  EXPECT_EQ(traits[2].second.texts[0], "true");
  EXPECT_EQ(traits[3].second.texts[0], "\"007\"");  // quoted in YAML: text
  EXPECT_EQ(traits[4].second.kind, ValueSpec::Kind::kUniform);
  EXPECT_TRUE(traits[4].second.integer);
  EXPECT_FALSE(traits[5].second.integer);
  EXPECT_EQ(traits[6].second.kind, ValueSpec::Kind::kChoice);
  EXPECT_DOUBLE_EQ(traits[6].second.weights[0], 0.25);
  EXPECT_EQ(model->journeys[0].steps[0].properties[0].second.kind, ValueSpec::Kind::kTemplate);
}

}  // namespace
}  // namespace upfront::sim
