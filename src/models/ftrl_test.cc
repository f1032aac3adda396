#include "src/models/ftrl.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

namespace upfront {
namespace {

TEST(FtrlLearner, StartsAtZeroWithoutAModel) {
  FtrlLearner learner(3, FtrlParams{});
  LogisticModel m = learner.Weights();
  EXPECT_EQ(m.bias, 0.0);
  EXPECT_EQ(m.weights, std::vector<double>(3, 0.0));
}

TEST(FtrlLearner, StartsExactlyAtTheGivenModel) {
  const LogisticModel start{.bias = -1.5, .weights = {0.7, 0.0, -2.25}};
  for (FtrlParams params : {FtrlParams{}, FtrlParams{.alpha = 0.05, .beta = 2, .l1 = 0.5, .l2 = 3}}) {
    FtrlLearner learner(start, params);
    LogisticModel m = learner.Weights();
    EXPECT_NEAR(m.bias, start.bias, 1e-12);
    ASSERT_EQ(m.weights.size(), 3u);
    for (size_t i = 0; i < 3; ++i) EXPECT_NEAR(m.weights[i], start.weights[i], 1e-12) << i;
  }
}

TEST(FtrlLearner, ALabelMovesARawFeaturesWeightByItsScaleNotByAlpha) {
  // Tenure in days with the policy's -0.002: one approval must not turn it
  // positive (at alpha's step it would become about +0.1, 40 logits at 400 days).
  FtrlLearner learner(LogisticModel{.bias = -2.0, .weights = {-0.002, 1.0}}, FtrlParams{});
  const std::vector<double> x = {434, 0.5};
  const std::vector<uint8_t> present = {1, 1};
  const double before = learner.Predict(x, present);
  learner.Update(x, present, true);
  const LogisticModel after = learner.Weights();
  EXPECT_NEAR(after.weights[0], -0.002, 0.001);
  EXPECT_GT(after.weights[0], -0.002);  // an approval pushes it up, a little
  EXPECT_GT(after.weights[1], 1.0);
  EXPECT_GT(learner.Predict(x, present), before);
  EXPECT_LT(learner.Predict(x, present), 0.5);  // one label does not flip the model
}

TEST(FtrlLearner, ScalesSurviveEncodeAndDecode) {
  FtrlLearner learner(LogisticModel{.bias = 0.1, .weights = {0.01}}, FtrlParams{});
  learner.Update(std::vector<double>{250.0}, std::vector<uint8_t>{1}, false);
  std::string state;
  learner.Encode(&state);
  FtrlLearner restored(0, FtrlParams{});
  ASSERT_TRUE(restored.Decode(state).ok());
  learner.Update(std::vector<double>{100.0}, std::vector<uint8_t>{1}, true);
  restored.Update(std::vector<double>{100.0}, std::vector<uint8_t>{1}, true);
  EXPECT_EQ(restored.Weights().weights[0], learner.Weights().weights[0]);
}

TEST(FtrlLearner, MissingFeaturesAreNotUpdated) {
  FtrlLearner learner(LogisticModel{.bias = 0.0, .weights = {0.5, -0.5}}, FtrlParams{});
  const double x[] = {1.0, 1.0};
  const uint8_t present[] = {1, 0};
  learner.Update(x, present, true);
  LogisticModel m = learner.Weights();
  EXPECT_GT(m.weights[0], 0.5);    // a positive label pushes a present, positive feature up
  EXPECT_EQ(m.weights[1], -0.5);   // the missing one is untouched
  EXPECT_GT(m.bias, 0.0);          // the bias is always present
}

TEST(FtrlLearner, StrongL1KeepsWeightsAtExactlyZero) {
  FtrlLearner learner(2, FtrlParams{.alpha = 0.1, .beta = 1, .l1 = 1e9, .l2 = 0});
  const double x[] = {1.0, -1.0};
  const uint8_t present[] = {1, 1};
  for (int i = 0; i < 100; ++i) learner.Update(x, present, i % 3 == 0);
  LogisticModel m = learner.Weights();
  EXPECT_EQ(m.weights, std::vector<double>(2, 0.0));
  EXPECT_EQ(m.bias, 0.0);
}

// Labels drawn from known weights: FTRL should recover them, and its log-loss
// on fresh data should be close to the best possible (the true model's).
TEST(FtrlLearner, ConvergesToTheTrueWeightsOnSyntheticData) {
  const LogisticModel truth{.bias = -0.5, .weights = {1.5, -2.0, 0.7, 0.0}};
  std::mt19937_64 rng(20240601);
  std::normal_distribution<double> feature(0.0, 1.0);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::vector<double> x(4);
  std::vector<uint8_t> present(4, 1);
  auto draw = [&] {
    for (double& v : x) v = feature(rng);
    return unit(rng) < truth.Score(x, present).score;
  };

  // l2 = 0: the regulariser would otherwise shrink weights below the truth.
  FtrlLearner learner(4, FtrlParams{.alpha = 0.1, .beta = 1.0, .l1 = 0.0, .l2 = 0.0});
  for (int i = 0; i < 200'000; ++i) {
    const bool label = draw();
    learner.Update(x, present, label);
  }
  const LogisticModel learned = learner.Weights();
  EXPECT_NEAR(learned.bias, truth.bias, 0.15);
  for (size_t i = 0; i < 4; ++i) EXPECT_NEAR(learned.weights[i], truth.weights[i], 0.15) << i;

  double learned_loss = 0, bayes_loss = 0;
  const int kTest = 50'000;
  for (int i = 0; i < kTest; ++i) {
    const bool label = draw();
    auto loss = [&](double p) { return -std::log(label ? p : 1 - p); };
    learned_loss += loss(learner.Predict(x, present));
    bayes_loss += loss(truth.Score(x, present).score);
  }
  learned_loss /= kTest;
  bayes_loss /= kTest;
  EXPECT_LT(learned_loss, bayes_loss + 0.01) << "bayes " << bayes_loss;
}

TEST(FtrlLearner, EncodeDecodeRoundTripsTheState) {
  FtrlLearner learner(LogisticModel{.bias = 0.3, .weights = {1.0, -1.0, 0.25}},
                      FtrlParams{.alpha = 0.2, .beta = 0.5, .l1 = 0.01, .l2 = 2});
  const double x[] = {0.5, 2.0, -1.0};
  const uint8_t present[] = {1, 1, 0};
  for (int i = 0; i < 10; ++i) learner.Update(x, present, i % 2 == 0);
  std::string blob;
  learner.Encode(&blob);

  FtrlLearner restored(0, FtrlParams{});
  ASSERT_TRUE(restored.Decode(blob).ok());
  EXPECT_EQ(restored.feature_count(), 3);
  EXPECT_EQ(restored.params().alpha, 0.2);
  EXPECT_EQ(restored.params().l2, 2.0);
  EXPECT_EQ(restored.Weights().weights, learner.Weights().weights);
  EXPECT_EQ(restored.Weights().bias, learner.Weights().bias);
  // And it keeps learning identically.
  learner.Update(x, present, true);
  restored.Update(x, present, true);
  EXPECT_EQ(restored.Weights().weights, learner.Weights().weights);
}

TEST(FtrlLearner, DecodeRejectsCorruptStateAndKeepsItsOwn) {
  FtrlLearner learner(LogisticModel{.bias = 0.3, .weights = {1.0, -1.0}}, FtrlParams{});
  std::string blob;
  learner.Encode(&blob);
  FtrlLearner target(LogisticModel{.bias = 9, .weights = {9}}, FtrlParams{});
  for (size_t cut = 0; cut < blob.size(); ++cut) {
    EXPECT_EQ(target.Decode(std::string_view(blob).substr(0, cut)).code(),
              absl::StatusCode::kDataLoss)
        << cut;
  }
  EXPECT_EQ(target.Decode(blob + "x").code(), absl::StatusCode::kDataLoss);
  std::string other_version = blob;
  other_version[0] = 7;
  EXPECT_EQ(target.Decode(other_version).message(),
            "FTRL learner state has format version 7, this build reads versions 1 and 2");
  EXPECT_EQ(target.feature_count(), 1);
  EXPECT_NEAR(target.Weights().bias, 9, 1e-12);
}

}  // namespace
}  // namespace upfront
