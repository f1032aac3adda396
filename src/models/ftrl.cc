#include "src/models/ftrl.h"

#include <cassert>
#include <cmath>

#include "src/common/binary_codec.h"

namespace upfront {
namespace {

constexpr uint64_t kFormatVersion = 2;  // 1: without scales

double Sign(double v) { return v > 0 ? 1.0 : (v < 0 ? -1.0 : 0.0); }

}  // namespace

FtrlLearner::FtrlLearner(int feature_count, const FtrlParams& params)
    : params_(params),
      z_(static_cast<size_t>(feature_count) + 1, 0.0),
      n_(z_.size(), 0.0),
      scale_(z_.size(), 0.0),
      w_(z_.size(), 0.0) {
  assert(feature_count >= 0 && params.alpha > 0 && params.beta >= 0 && params.l1 >= 0 &&
         params.l2 >= 0);
}

FtrlLearner::FtrlLearner(const LogisticModel& initial, const FtrlParams& params)
    : FtrlLearner(static_cast<int>(initial.weights.size()), params) {
  // Inverts WeightOf at n = 0; see the header for why this is the right start.
  for (size_t i = 0; i < initial.weights.size(); ++i) z_[i] = ZFor(initial.weights[i], 0);
  z_[bias_index()] = ZFor(initial.bias, 0);
}

double FtrlLearner::ZFor(double raw_weight, double n) const {
  return -raw_weight * ((params_.beta + std::sqrt(n)) / params_.alpha + params_.l2) -
         Sign(raw_weight) * params_.l1;
}

double FtrlLearner::RawWeightOf(size_t i) const {
  const double z = z_[i];
  if (std::abs(z) <= params_.l1) return 0.0;
  return -(z - Sign(z) * params_.l1) /
         ((params_.beta + std::sqrt(n_[i])) / params_.alpha + params_.l2);
}

double FtrlLearner::WeightOf(size_t i) const { return RawWeightOf(i) / Scale(i); }

double FtrlLearner::Predict(std::span<const double> x, std::span<const uint8_t> present) const {
  assert(x.size() + 1 == z_.size() && present.size() + 1 == z_.size());
  double dot = WeightOf(bias_index());
  for (size_t i = 0; i < x.size(); ++i) {
    if (present[i] != 0) dot += WeightOf(i) * x[i];
  }
  return Sigmoid(dot);
}

void FtrlLearner::Update(std::span<const double> x, std::span<const uint8_t> present,
                         bool label) {
  assert(x.size() + 1 == z_.size() && present.size() + 1 == z_.size());
  const size_t b = bias_index();
  // A coordinate's scale is fixed the first time it is seen non-zero; its z
  // is rewritten then so that its weight stays what it was.
  for (size_t i = 0; i < x.size(); ++i) {
    if (present[i] == 0 || scale_[i] > 0 || x[i] == 0 || !std::isfinite(x[i])) continue;
    const double weight = WeightOf(i);
    scale_[i] = std::max(1.0, std::abs(x[i]));
    z_[i] = ZFor(weight * scale_[i], n_[i]);
  }
  // The weights used for the prediction must be the ones the z/n update
  // corrects, so compute them once and keep them for the second pass.
  double dot = w_[b] = RawWeightOf(b);
  for (size_t i = 0; i < x.size(); ++i) {
    if (present[i] == 0) continue;
    w_[i] = RawWeightOf(i);
    dot += w_[i] * (x[i] / Scale(i));
  }
  const double error = Sigmoid(dot) - (label ? 1.0 : 0.0);
  auto step = [&](size_t i, double xi) {
    const double g = error * xi;
    const double sigma = (std::sqrt(n_[i] + g * g) - std::sqrt(n_[i])) / params_.alpha;
    z_[i] += g - sigma * w_[i];
    n_[i] += g * g;
  };
  for (size_t i = 0; i < x.size(); ++i) {
    if (present[i] != 0) step(i, x[i] / Scale(i));
  }
  step(b, 1.0);
}

LogisticModel FtrlLearner::Weights() const {
  LogisticModel model;
  model.bias = WeightOf(bias_index());
  model.weights.resize(z_.size() - 1);
  for (size_t i = 0; i + 1 < z_.size(); ++i) model.weights[i] = WeightOf(i);
  return model;
}

void FtrlLearner::Encode(std::string* out) const {
  Encoder e(out);
  e.PutVarint(kFormatVersion);
  e.PutDouble(params_.alpha);
  e.PutDouble(params_.beta);
  e.PutDouble(params_.l1);
  e.PutDouble(params_.l2);
  e.PutVarint(z_.size() - 1);
  for (size_t i = 0; i < z_.size(); ++i) {
    e.PutDouble(z_[i]);
    e.PutDouble(n_[i]);
    e.PutDouble(scale_[i]);
  }
}

absl::Status FtrlLearner::Decode(std::string_view in) {
  Decoder d(in);
  const uint64_t version = d.GetVarint();
  if (d.ok() && version != 1 && version != kFormatVersion) {
    return absl::DataLossError(
        "FTRL learner state has format version " + std::to_string(version) +
        ", this build reads versions 1 and " + std::to_string(kFormatVersion));
  }
  FtrlParams params;
  params.alpha = d.GetDouble();
  params.beta = d.GetDouble();
  params.l1 = d.GetDouble();
  params.l2 = d.GetDouble();
  const uint64_t features = d.GetVarint();
  // Each coordinate takes 16 or 24 bytes, so a count the buffer cannot hold
  // is corrupt; checking first keeps a bad count from causing a huge allocation.
  if (!d.ok() || features > in.size() / (version == 1 ? 16 : 24)) {
    return absl::DataLossError("FTRL learner state is truncated or corrupt");
  }
  if (!(params.alpha > 0) || !(params.beta >= 0) || !(params.l1 >= 0) || !(params.l2 >= 0)) {
    return absl::DataLossError("FTRL learner state has invalid parameters");
  }
  std::vector<double> z(features + 1), n(features + 1), scale(features + 1, 1.0);
  for (size_t i = 0; i < z.size(); ++i) {
    z[i] = d.GetDouble();
    n[i] = d.GetDouble();
    if (version >= 2) scale[i] = d.GetDouble();
    if (d.ok() && !(n[i] >= 0 && std::isfinite(z[i]) && std::isfinite(n[i]) && scale[i] >= 0 &&
                    std::isfinite(scale[i]))) {
      return absl::DataLossError("FTRL learner state has an invalid coordinate");
    }
  }
  if (!d.ok() || !d.done()) {
    return absl::DataLossError("FTRL learner state is truncated or corrupt");
  }
  params_ = params;
  z_ = std::move(z);
  n_ = std::move(n);
  scale_ = std::move(scale);
  w_.assign(z_.size(), 0.0);
  return absl::OkStatus();
}

}  // namespace upfront
