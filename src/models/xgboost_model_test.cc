#include "src/models/xgboost_model.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace upfront {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

std::string TempPath(const std::string& name) {
  return testing::TempDir() + "upfront_models_" + name;
}

// label = (x0 > 0.5) xor (x1 > 0.5), flipped 5% of the time; x2 is noise and
// often missing; x3 is pure noise.
TrainingSet XorDataset(int rows, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> unit(0.0f, 1.0f);
  TrainingSet data{.feature_count = 4, .rows = {}, .labels = {}};
  for (int i = 0; i < rows; ++i) {
    const float x0 = unit(rng), x1 = unit(rng), x2 = unit(rng), x3 = unit(rng);
    const bool missing = unit(rng) < 0.3f;
    bool label = (x0 > 0.5f) != (x1 > 0.5f);
    if (unit(rng) < 0.05f) label = !label;
    data.rows.insert(data.rows.end(), {x0, x1, missing ? kNaN : x2, x3});
    data.labels.push_back(label ? 1.0f : 0.0f);
  }
  return data;
}

TrainOptions FastOptions() { return TrainOptions{.rounds = 40, .max_depth = 4, .eta = 0.3}; }

TEST(XgboostModel, TrainThenServeGivesTheSameScores) {
  const TrainingSet data = XorDataset(4000, 7);
  const std::string path = TempPath("round_trip.json");
  int last_round = 0, calls = 0;
  absl::StatusOr<TrainReport> report =
      TrainXgboost(data, FastOptions(), path, [&](int round, int rounds) {
        EXPECT_EQ(round, last_round + 1);
        EXPECT_EQ(rounds, 40);
        last_round = round;
        ++calls;
      });
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(calls, 40);
  EXPECT_EQ(report->train_rows + report->holdout_rows, 4000u);
  EXPECT_NEAR(static_cast<double>(report->holdout_rows) / 4000, 0.2, 0.03);
  EXPECT_NEAR(report->positive_rate, 0.5, 0.05);
  EXPECT_GT(report->auc, 0.9);
  ASSERT_EQ(report->calibration.size(), 10u);
  ASSERT_EQ(report->holdout_indices.size(), report->holdout_rows);
  ASSERT_EQ(report->holdout_predictions.size(), report->holdout_rows);

  absl::StatusOr<XgboostModel> model = XgboostModel::Load(path);
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_EQ(model->feature_count(), 4);
  EXPECT_EQ(model->version().size(), 16u);
  EXPECT_EQ(model->path(), path);
  for (size_t i = 0; i < report->holdout_rows; ++i) {
    const size_t row = report->holdout_indices[i];
    std::span<const float> x(data.rows.data() + row * 4, 4);
    absl::StatusOr<double> p = model->Predict(x);
    ASSERT_TRUE(p.ok()) << p.status();
    ASSERT_NEAR(*p, report->holdout_predictions[i], 1e-6) << "holdout row " << row;
  }
  // The rule, read back from the served model.
  const float positive[] = {0.9f, 0.1f, kNaN, 0.5f};
  const float negative[] = {0.9f, 0.9f, kNaN, 0.5f};
  EXPECT_GT(model->PredictOrNaN(positive), 0.8);
  EXPECT_LT(model->PredictOrNaN(negative), 0.2);
  std::remove(path.c_str());
}

TEST(XgboostModel, SameDataAndOptionsGiveTheSameModel) {
  const TrainingSet data = XorDataset(2000, 11);
  const std::string a = TempPath("same_a.json"), b = TempPath("same_b.json");
  ASSERT_TRUE(TrainXgboost(data, FastOptions(), a).ok());
  ASSERT_TRUE(TrainXgboost(data, FastOptions(), b).ok());
  absl::StatusOr<XgboostModel> ma = XgboostModel::Load(a), mb = XgboostModel::Load(b);
  ASSERT_TRUE(ma.ok() && mb.ok());
  EXPECT_EQ(ma->version(), mb->version());

  TrainOptions other_seed = FastOptions();
  other_seed.seed = 2;
  absl::StatusOr<TrainReport> report = TrainXgboost(data, other_seed, b);
  ASSERT_TRUE(report.ok());
  absl::StatusOr<XgboostModel> mc = XgboostModel::Load(b);
  ASSERT_TRUE(mc.ok());
  EXPECT_NE(ma->version(), mc->version());  // another holdout, another model
  std::remove(a.c_str());
  std::remove(b.c_str());
}

TEST(XgboostModel, PredictionsAreTheSameFromConcurrentThreads) {
  const TrainingSet data = XorDataset(2000, 13);
  const std::string path = TempPath("threads.json");
  absl::StatusOr<TrainReport> report = TrainXgboost(data, FastOptions(), path);
  ASSERT_TRUE(report.ok());
  absl::StatusOr<XgboostModel> model = XgboostModel::Load(path);
  ASSERT_TRUE(model.ok());
  std::vector<int> mismatches(2, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&, t] {
      for (int repeat = 0; repeat < 5; ++repeat) {
        for (size_t i = 0; i < report->holdout_rows; ++i) {
          std::span<const float> x(data.rows.data() + report->holdout_indices[i] * 4, 4);
          if (std::abs(model->PredictOrNaN(x) - report->holdout_predictions[i]) > 1e-6) {
            ++mismatches[t];
          }
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(mismatches, std::vector<int>(2, 0));
  std::remove(path.c_str());
}

TEST(XgboostModel, MovedModelKeepsItsBooster) {
  const TrainingSet data = XorDataset(500, 17);
  const std::string path = TempPath("move.json");
  ASSERT_TRUE(TrainXgboost(data, TrainOptions{.rounds = 5}, path).ok());
  absl::StatusOr<XgboostModel> loaded = XgboostModel::Load(path);
  ASSERT_TRUE(loaded.ok());
  const float x[] = {0.9f, 0.1f, 0.5f, 0.5f};
  const double before = loaded->PredictOrNaN(x);
  XgboostModel model = std::move(*loaded);
  EXPECT_EQ(model.PredictOrNaN(x), before);
  XgboostModel other = std::move(model);
  EXPECT_EQ(other.PredictOrNaN(x), before);
  EXPECT_EQ(model.Predict(x).status().code(), absl::StatusCode::kFailedPrecondition);
  std::remove(path.c_str());
}

TEST(XgboostModel, WrongFeatureCountIsAnError) {
  const std::string path = TempPath("count.json");
  ASSERT_TRUE(TrainXgboost(XorDataset(500, 19), TrainOptions{.rounds = 5}, path).ok());
  absl::StatusOr<XgboostModel> model = XgboostModel::Load(path);
  ASSERT_TRUE(model.ok());
  const float three[] = {0.1f, 0.2f, 0.3f};
  absl::StatusOr<double> p = model->Predict(three);
  EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(p.status().message(), "model " + path + " takes 4 features, got 3");
  EXPECT_TRUE(std::isnan(model->PredictOrNaN(three)));
  std::remove(path.c_str());
}

TEST(XgboostModel, MissingFileIsNotFoundNamingThePath) {
  const std::string path = TempPath("does_not_exist.json");
  absl::StatusOr<XgboostModel> model = XgboostModel::Load(path);
  EXPECT_EQ(model.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(model.status().message(),
            "cannot read model file " + path + ": No such file or directory");
}

TEST(XgboostModel, CorruptOrEmptyFileIsInvalidNamingThePath) {
  for (const std::string& contents : {std::string("{\"learner\": [1, 2"), std::string("not a model"),
                                     std::string("{}"), std::string()}) {
    const std::string path = TempPath("corrupt.json");
    std::ofstream(path, std::ios::binary) << contents;
    absl::StatusOr<XgboostModel> model = XgboostModel::Load(path);
    EXPECT_EQ(model.status().code(), absl::StatusCode::kInvalidArgument) << contents;
    EXPECT_NE(model.status().message().find(path), std::string::npos) << model.status();
    std::remove(path.c_str());
  }
}

TEST(TrainXgboost, RejectsMalformedInputWithAReason) {
  TrainingSet data = XorDataset(100, 23);
  const std::string path = TempPath("bad.json");
  EXPECT_EQ(TrainXgboost(data, {}, TempPath("bad.model")).status().message(),
            "model path " + TempPath("bad.model") +
                " must end in .json (models are saved in XGBoost's JSON format)");

  TrainingSet short_rows = data;
  short_rows.rows.pop_back();
  EXPECT_EQ(TrainXgboost(short_rows, {}, path).status().message(),
            "training set has 399 values for 100 labels of 4 features; expected 400");

  TrainingSet bad_label = data;
  bad_label.labels[3] = 2.0f;
  EXPECT_EQ(TrainXgboost(bad_label, {}, path).status().message(),
            "training label 3 is 2; labels must be 0 or 1");

  EXPECT_EQ(TrainXgboost(data, TrainOptions{.rounds = 0}, path).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(TrainXgboost(TrainingSet{.feature_count = 2, .rows = {}, .labels = {}}, {}, path)
                .status()
                .message(),
            "no rows left to train on (0 rows, holdout_share 0.2)");
}

TEST(TrainXgboost, UnwritablePathNamesThePath) {
  const std::string path = TempPath("no_such_dir/model.json");
  absl::StatusOr<TrainReport> report = TrainXgboost(XorDataset(200, 29), {.rounds = 2}, path);
  EXPECT_EQ(report.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(report.status().message().find("cannot save the model to " + path),
            std::string::npos)
      << report.status();
}

}  // namespace
}  // namespace upfront
