#include "src/models/xgboost_model.h"

#include <fmt/format.h>
#include <xgboost/c_api.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <memory>
#include <sstream>
#include <utility>

#include "src/common/hash.h"

namespace upfront {
namespace {

// Two threads is all the target machines have; hist training gives the same
// trees for a fixed thread count and seed, which keeps runs reproducible.
constexpr int kTrainThreads = 2;
constexpr float kMissing = std::numeric_limits<float>::quiet_NaN();
// In-place prediction config. Serving predicts one row at a time, where
// threads cost more than they save, hence nthread 1 on loaded boosters.
constexpr char kPredictConfig[] =
    R"({"type":0,"training":false,"iteration_begin":0,"iteration_end":0,)"
    R"("strict_shape":false,"missing":NaN,"cache_id":0})";

// XGBoost appends a native stack trace to its messages; users need only the reason.
std::string LastXgboostError() {
  std::string message = XGBGetLastError();
  if (size_t trace = message.find("\nStack trace:"); trace != std::string::npos) {
    message.resize(trace);
  }
  return message;
}

struct DMatrixDeleter {
  void operator()(void* h) const { XGDMatrixFree(h); }
};
struct BoosterDeleter {
  void operator()(void* h) const { XGBoosterFree(h); }
};
using DMatrixPtr = std::unique_ptr<void, DMatrixDeleter>;
using BoosterPtr = std::unique_ptr<void, BoosterDeleter>;

absl::Status XgbCheck(int rc, std::string_view what) {
  if (rc == 0) return absl::OkStatus();
  return absl::InternalError(fmt::format("XGBoost failed to {}: {}", what, LastXgboostError()));
}

// A numpy __array_interface__ for a float32 row-major matrix, which is what
// XGBoosterPredictFromDense reads. Written into `buf` so it does not allocate.
std::string_view ArrayInterface(const float* data, size_t rows, size_t cols, char* buf,
                                size_t size) {
  auto r = fmt::format_to_n(buf, size - 1,
                            R"({{"data":[{},true],"shape":[{},{}],"typestr":"<f4","version":3}})",
                            reinterpret_cast<uintptr_t>(data), rows, cols);
  *r.out = '\0';
  return {buf, static_cast<size_t>(r.out - buf)};
}

// Predicts rows x cols into `out`; the result buffer XGBoost returns belongs
// to the calling thread and the booster, so it is copied out at once.
absl::Status PredictDense(void* booster, const float* data, size_t rows, size_t cols,
                          double* out) {
  char interface[160];
  ArrayInterface(data, rows, cols, interface, sizeof interface);
  const bst_ulong* shape = nullptr;
  bst_ulong dims = 0;
  const float* result = nullptr;
  if (XGBoosterPredictFromDense(booster, interface, kPredictConfig, nullptr, &shape, &dims,
                                &result) != 0) {
    return absl::InternalError(fmt::format("XGBoost prediction failed: {}", LastXgboostError()));
  }
  bst_ulong n = 1;
  for (bst_ulong i = 0; i < dims; ++i) n *= shape[i];
  if (n != rows) {
    return absl::InternalError(
        fmt::format("XGBoost returned {} predictions for {} rows", n, rows));
  }
  for (size_t i = 0; i < rows; ++i) out[i] = result[i];
  return absl::OkStatus();
}

bool IsHeldOut(size_t row, const TrainOptions& options) {
  char key[8];
  const uint64_t index = row;
  std::memcpy(key, &index, sizeof key);
  // The top 53 bits as a uniform double in [0, 1).
  const double u = static_cast<double>(Hash64(std::string_view(key, sizeof key), options.seed) >>
                                       11) * 0x1.0p-53;
  return u < options.holdout_share;
}

absl::Status CheckTrainingInput(const TrainingSet& data, const TrainOptions& options,
                                const std::string& out_path) {
  if (out_path.size() < 5 || out_path.compare(out_path.size() - 5, 5, ".json") != 0) {
    return absl::InvalidArgumentError(fmt::format(
        "model path {} must end in .json (models are saved in XGBoost's JSON format)", out_path));
  }
  if (data.feature_count < 1) {
    return absl::InvalidArgumentError("training set needs at least one feature");
  }
  if (data.rows.size() != data.labels.size() * static_cast<size_t>(data.feature_count)) {
    return absl::InvalidArgumentError(fmt::format(
        "training set has {} values for {} labels of {} features; expected {}", data.rows.size(),
        data.labels.size(), data.feature_count,
        data.labels.size() * static_cast<size_t>(data.feature_count)));
  }
  for (size_t i = 0; i < data.labels.size(); ++i) {
    if (data.labels[i] != 0.0f && data.labels[i] != 1.0f) {
      return absl::InvalidArgumentError(
          fmt::format("training label {} is {}; labels must be 0 or 1", i, data.labels[i]));
    }
  }
  if (options.rounds < 1 || options.max_depth < 1 || !(options.eta > 0 && options.eta <= 1) ||
      !(options.holdout_share >= 0 && options.holdout_share < 1)) {
    return absl::InvalidArgumentError(fmt::format(
        "training options out of range: rounds {} (>= 1), max_depth {} (>= 1), eta {} (0..1], "
        "holdout_share {} [0..1)",
        options.rounds, options.max_depth, options.eta, options.holdout_share));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<TrainReport> TrainXgboost(const TrainingSet& data, const TrainOptions& options,
                                         const std::string& out_path,
                                         std::function<void(int round, int rounds)> progress) {
  UPFRONT_RETURN_IF_ERROR(CheckTrainingInput(data, options, out_path));
  const size_t cols = static_cast<size_t>(data.feature_count);

  TrainReport report;
  std::vector<float> train_rows, train_labels, holdout_rows;
  double positives = 0;
  for (size_t i = 0; i < data.labels.size(); ++i) {
    positives += data.labels[i];
    const float* row = data.rows.data() + i * cols;
    if (IsHeldOut(i, options)) {
      holdout_rows.insert(holdout_rows.end(), row, row + cols);
      report.holdout_indices.push_back(i);
    } else {
      train_rows.insert(train_rows.end(), row, row + cols);
      train_labels.push_back(data.labels[i]);
    }
  }
  report.train_rows = train_labels.size();
  report.holdout_rows = report.holdout_indices.size();
  report.positive_rate = data.labels.empty() ? 0.0 : positives / data.labels.size();
  if (report.train_rows == 0) {
    return absl::InvalidArgumentError(fmt::format(
        "no rows left to train on ({} rows, holdout_share {})", data.labels.size(),
        options.holdout_share));
  }

  void* handle = nullptr;
  UPFRONT_RETURN_IF_ERROR(XgbCheck(
      XGDMatrixCreateFromMat(train_rows.data(), report.train_rows, cols, kMissing, &handle),
      "build the training matrix"));
  DMatrixPtr train(handle);
  UPFRONT_RETURN_IF_ERROR(XgbCheck(XGDMatrixSetFloatInfo(train.get(), "label",
                                                         train_labels.data(),
                                                         train_labels.size()),
                                   "set the training labels"));
  handle = train.get();
  void* booster_handle = nullptr;
  UPFRONT_RETURN_IF_ERROR(XgbCheck(XGBoosterCreate(&handle, 1, &booster_handle),
                                   "create a booster"));
  BoosterPtr booster(booster_handle);
  const std::pair<std::string, std::string> params[] = {
      {"objective", "binary:logistic"},
      {"tree_method", "hist"},
      {"max_depth", std::to_string(options.max_depth)},
      {"eta", fmt::format("{}", options.eta)},
      {"nthread", std::to_string(kTrainThreads)},
      // XGBoost's seed is a 32-bit int; fold the 64-bit seed into it.
      {"seed", std::to_string(static_cast<int32_t>(options.seed ^ (options.seed >> 32)))},
      {"verbosity", "0"},
  };
  for (const auto& [name, value] : params) {
    UPFRONT_RETURN_IF_ERROR(XgbCheck(XGBoosterSetParam(booster.get(), name.c_str(),
                                                       value.c_str()),
                                     fmt::format("set {}={}", name, value)));
  }
  for (int round = 0; round < options.rounds; ++round) {
    UPFRONT_RETURN_IF_ERROR(XgbCheck(XGBoosterUpdateOneIter(booster.get(), round, train.get()),
                                     fmt::format("train round {}", round + 1)));
    if (progress) progress(round + 1, options.rounds);
  }
  if (XGBoosterSaveModel(booster.get(), out_path.c_str()) != 0) {
    return absl::UnavailableError(
        fmt::format("cannot save the model to {}: {}", out_path, LastXgboostError()));
  }

  report.holdout_predictions.resize(report.holdout_rows);
  if (report.holdout_rows > 0) {
    UPFRONT_RETURN_IF_ERROR(PredictDense(booster.get(), holdout_rows.data(),
                                         report.holdout_rows, cols,
                                         report.holdout_predictions.data()));
  }
  std::vector<uint8_t> holdout_labels(report.holdout_rows);
  for (size_t i = 0; i < report.holdout_rows; ++i) {
    holdout_labels[i] = data.labels[report.holdout_indices[i]] != 0.0f;
  }
  report.auc = AreaUnderRoc(report.holdout_predictions, holdout_labels);
  report.calibration = CalibrationTable(report.holdout_predictions, holdout_labels);
  return report;
}

absl::StatusOr<XgboostModel> XgboostModel::Load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int err = errno;
    const std::string message = fmt::format("cannot read model file {}: {}", path,
                                            std::strerror(err));
    if (err == EACCES) return absl::PermissionDeniedError(message);
    return absl::NotFoundError(message);
  }
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (in.bad()) {
    return absl::DataLossError(fmt::format("cannot read model file {}: read failed", path));
  }
  const std::string contents = std::move(bytes).str();
  if (contents.empty()) {
    return absl::InvalidArgumentError(fmt::format("model file {} is empty", path));
  }

  void* handle = nullptr;
  if (XGBoosterCreate(nullptr, 0, &handle) != 0) {
    return absl::InternalError(
        fmt::format("XGBoost failed to create a booster: {}", LastXgboostError()));
  }
  BoosterPtr booster(handle);
  // Loading from the bytes already read (not the path again) guarantees the
  // version hash describes exactly the model that was loaded.
  if (XGBoosterLoadModelFromBuffer(booster.get(), contents.data(), contents.size()) != 0) {
    return absl::InvalidArgumentError(fmt::format("model file {} is not a usable XGBoost model: {}",
                                                  path, LastXgboostError()));
  }
  bst_ulong features = 0;
  if (XGBoosterGetNumFeature(booster.get(), &features) != 0 || features == 0 ||
      features > static_cast<bst_ulong>(std::numeric_limits<int>::max())) {
    return absl::InvalidArgumentError(
        fmt::format("model file {} does not say how many features it takes", path));
  }
  if (XGBoosterSetParam(booster.get(), "nthread", "1") != 0) {
    return absl::InternalError(
        fmt::format("XGBoost failed to set nthread: {}", LastXgboostError()));
  }
  XgboostModel model(booster.release(), static_cast<int>(features),
                     fmt::format("{:016x}", Hash64(contents)), path);
  // The first prediction configures the booster; doing it here keeps that
  // one-time, non-thread-safe step out of concurrent Predict calls.
  std::vector<float> warm_up(features, kMissing);
  if (absl::StatusOr<double> p = model.Predict(warm_up); !p.ok()) {
    return absl::InvalidArgumentError(fmt::format("model file {} cannot predict: {}", path,
                                                  std::string(p.status().message())));
  }
  return model;
}

XgboostModel::XgboostModel(XgboostModel&& other) noexcept
    : booster_(std::exchange(other.booster_, nullptr)),
      feature_count_(other.feature_count_),
      version_(std::move(other.version_)),
      path_(std::move(other.path_)) {}

XgboostModel& XgboostModel::operator=(XgboostModel&& other) noexcept {
  if (this != &other) {
    if (booster_ != nullptr) XGBoosterFree(booster_);
    booster_ = std::exchange(other.booster_, nullptr);
    feature_count_ = other.feature_count_;
    version_ = std::move(other.version_);
    path_ = std::move(other.path_);
  }
  return *this;
}

XgboostModel::~XgboostModel() {
  if (booster_ != nullptr) XGBoosterFree(booster_);
}

absl::StatusOr<double> XgboostModel::Predict(std::span<const float> features) const {
  if (booster_ == nullptr) return absl::FailedPreconditionError("model was moved from");
  if (features.size() != static_cast<size_t>(feature_count_)) {
    return absl::InvalidArgumentError(fmt::format("model {} takes {} features, got {}", path_,
                                                  feature_count_, features.size()));
  }
  double p = 0.0;
  UPFRONT_RETURN_IF_ERROR(PredictDense(booster_, features.data(), 1, features.size(), &p));
  return p;
}

double XgboostModel::PredictOrNaN(std::span<const float> features) const {
  absl::StatusOr<double> p = Predict(features);
  return p.ok() ? *p : std::numeric_limits<double>::quiet_NaN();
}

}  // namespace upfront
