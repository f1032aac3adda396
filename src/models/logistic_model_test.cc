#include "src/models/logistic_model.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace upfront {
namespace {

TEST(Sigmoid, IsStableAtTheExtremes) {
  EXPECT_DOUBLE_EQ(Sigmoid(0), 0.5);
  EXPECT_NEAR(Sigmoid(2), 1 / (1 + std::exp(-2.0)), 1e-15);
  EXPECT_NEAR(Sigmoid(-2), 1 / (1 + std::exp(2.0)), 1e-15);
  EXPECT_EQ(Sigmoid(1000), 1.0);
  EXPECT_EQ(Sigmoid(-1000), 0.0);
  EXPECT_FALSE(std::isnan(Sigmoid(-1e308)));
}

TEST(LogisticModel, AllPresentScoresTheFullLinearTermWithFullCoverage) {
  LogisticModel m{.bias = -2.0, .weights = {0.8, -0.3, 1.5}};
  const double x[] = {1.2, 2.0, 0.4};
  const uint8_t present[] = {1, 1, 1};
  ModelScore s = m.Score(x, present);
  EXPECT_NEAR(s.score, Sigmoid(-2.0 + 0.96 - 0.6 + 0.6), 1e-12);
  EXPECT_DOUBLE_EQ(s.coverage, 1.0);
}

TEST(LogisticModel, MissingFeaturesAreNeutralAndLowerCoverageByTheirWeight) {
  LogisticModel m{.bias = -2.0, .weights = {0.8, -0.3, 1.5}};
  const double x[] = {1.2, 99.0, 0.4};  // the missing value is ignored, whatever it holds
  const uint8_t present[] = {1, 0, 1};
  ModelScore s = m.Score(x, present);
  EXPECT_NEAR(s.score, Sigmoid(-2.0 + 0.96 + 0.6), 1e-12);
  EXPECT_NEAR(s.coverage, 2.3 / 2.6, 1e-12);

  const uint8_t none[] = {0, 0, 0};
  s = m.Score(x, none);
  EXPECT_NEAR(s.score, Sigmoid(-2.0), 1e-12);
  EXPECT_DOUBLE_EQ(s.coverage, 0.0);
}

TEST(LogisticModel, CoverageIsOneWhenAllWeightsAreZero) {
  LogisticModel m{.bias = 0.5, .weights = {0.0, 0.0}};
  const double x[] = {1.0, 1.0};
  const uint8_t present[] = {0, 1};
  ModelScore s = m.Score(x, present);
  EXPECT_DOUBLE_EQ(s.coverage, 1.0);
  EXPECT_NEAR(s.score, Sigmoid(0.5), 1e-12);

  LogisticModel empty{.bias = 0.0, .weights = {}};
  EXPECT_DOUBLE_EQ(empty.Score({}, {}).score, 0.5);
  EXPECT_DOUBLE_EQ(empty.Score({}, {}).coverage, 1.0);
}

TEST(LogisticModel, ContributionsAreWeightTimesValueAndZeroWhenMissing) {
  LogisticModel m{.bias = -2.0, .weights = {0.8, -0.3, 1.5}};
  const double x[] = {1.2, 2.0, 0.4};
  const uint8_t present[] = {1, 1, 0};
  std::vector<double> out(3, 42.0);
  m.Contributions(x, present, out);
  EXPECT_NEAR(out[0], 0.96, 1e-12);
  EXPECT_NEAR(out[1], -0.6, 1e-12);
  EXPECT_EQ(out[2], 0.0);
}

}  // namespace
}  // namespace upfront
