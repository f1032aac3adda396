// Gradient-boosted trees: trained offline with XGBoost (`upfront train`) and
// served in-process from the saved JSON model.
//
//   TrainingSet data{.feature_count = 3, .rows = {...}, .labels = {...}};  // NaN = missing
//   absl::StatusOr<TrainReport> report = TrainXgboost(data, {}, "churn.json");
//   // report->auc and report->calibration are measured on the held-out rows.
//
//   absl::StatusOr<XgboostModel> model = XgboostModel::Load("churn.json");
//   absl::StatusOr<double> p = model->Predict(features);   // one row, NaN = missing
//   model->version();                                      // hex hash of the file's bytes
//
// Errors are absl::Status values carrying XGBoost's own message (from
// XGBGetLastError) and the file path where there is one.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "src/models/metrics.h"
#include "upfront/status.h"

namespace upfront {

struct TrainingSet {
  int feature_count = 0;
  std::vector<float> rows;    // row-major, labels.size() rows of feature_count; NaN = missing
  std::vector<float> labels;  // 0 or 1
};

struct TrainOptions {
  int rounds = 100;             // boosting rounds (trees); >= 1
  int max_depth = 4;            // >= 1
  double eta = 0.1;             // learning rate, in (0, 1]
  double holdout_share = 0.2;   // share of rows kept out of training to measure on, in [0, 1)
  uint64_t seed = 1;            // picks the holdout rows and seeds XGBoost
};

struct TrainReport {
  double auc = 0.0;                         // on the holdout; NaN when it lacks a class
  std::vector<CalibrationBin> calibration;  // on the holdout, 10 bins
  size_t train_rows = 0;
  size_t holdout_rows = 0;
  double positive_rate = 0.0;               // share of positive labels over all rows
  // The holdout rows (indices into the training set, ascending) and what the
  // just-trained booster predicted for them, so a caller can check that the
  // saved model serves the same scores.
  std::vector<size_t> holdout_indices;
  std::vector<double> holdout_predictions;
};

// Trains a binary:logistic booster on the rows not held out and saves it as
// JSON to `out_path`. A row is held out when a hash of (its index, seed) falls
// below holdout_share, so the split is the same on every run and machine and
// does not depend on row order elsewhere. Training uses the hist method with
// fixed threads and seed, so the same data and options give the same model.
// `progress`, when set, is called after each round with (rounds done, rounds).
//
// InvalidArgument for a malformed set (row count, labels other than 0/1, no
// rows to train on), bad options or an out_path not ending in ".json";
// Internal with XGBoost's message when training fails; the path and reason
// when saving fails.
absl::StatusOr<TrainReport> TrainXgboost(const TrainingSet& data, const TrainOptions& options,
                                         const std::string& out_path,
                                         std::function<void(int round, int rounds)> progress = {});

// A loaded booster, ready to score single rows.
//
// Thread safety: Predict and PredictOrNaN may be called concurrently from any
// number of threads. They use XGBoost's in-place prediction, which XGBoost
// documents as safe and lock-free when it is the only method called on the
// booster, and Load runs one prediction before returning so the booster's
// lazy configuration never happens under concurrent calls. Moving or
// destroying the model must not race with Predict.
//
// Move-only: owns the XGBoost booster handle and frees it on destruction.
class XgboostModel {
 public:
  // Reads and loads the JSON model at `path`. NotFound / PermissionDenied
  // naming the path when it cannot be read; InvalidArgument naming the path
  // and XGBoost's reason when it is not a usable model.
  static absl::StatusOr<XgboostModel> Load(const std::string& path);

  XgboostModel(XgboostModel&& other) noexcept;
  XgboostModel& operator=(XgboostModel&& other) noexcept;
  XgboostModel(const XgboostModel&) = delete;
  XgboostModel& operator=(const XgboostModel&) = delete;
  ~XgboostModel();

  // The predicted probability for one row. NaN features are missing.
  // InvalidArgument when features.size() != feature_count(); Internal with
  // XGBoost's message if prediction fails. Does not allocate on success.
  absl::StatusOr<double> Predict(std::span<const float> features) const;
  // Predict for hot paths that fall back on a missing score: NaN on any error.
  double PredictOrNaN(std::span<const float> features) const;

  int feature_count() const { return feature_count_; }
  // XXH3-64 of the model file's bytes as 16 hex digits: names exactly which
  // model produced a score, and changes whenever the file does.
  const std::string& version() const { return version_; }
  const std::string& path() const { return path_; }

 private:
  XgboostModel(void* booster, int feature_count, std::string version, std::string path)
      : booster_(booster), feature_count_(feature_count), version_(std::move(version)),
        path_(std::move(path)) {}

  void* booster_ = nullptr;  // XGBoost's BoosterHandle
  int feature_count_ = 0;
  std::string version_;
  std::string path_;
};

}  // namespace upfront
