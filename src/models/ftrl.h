// Online learning of a LogisticModel from labelled outcomes (including
// agents' approve/reject decisions) with FTRL-Proximal: McMahan et al.,
// "Ad Click Prediction: a View from the Trenches" (KDD 2013), Algorithm 1,
// with per-coordinate learning rates and logistic loss. The bias is one more
// coordinate whose feature is always present with x = 1.
//
//   FtrlLearner learner(policy_model, FtrlParams{});   // start from the policy's weights
//   learner.Update(x, present, /*label=*/true);         // once per labelled outcome
//   LogisticModel now = learner.Weights();
//   std::string blob; learner.Encode(&blob);            // persist; Decode restores
//
// Starting from a model: each coordinate starts with n = 0 and
//   z = -w * (beta / alpha + l2) - sign(w) * l1,
// the one z for which FTRL's closed-form weight equals w. The starting weights
// therefore act as gradient evidence already seen, not as a fixed prior: as a
// coordinate accumulates squared gradients (n grows) its learning rate falls,
// the starting z counts for less, and what the outcomes say takes over.
//
// Feature scale: FTRL's per-coordinate step moves a weight by about alpha
// whatever the feature's magnitude, which is right for features near 1 (a
// signal's score) and wrong for raw ones (tenure in days, where the policy's
// weight is -0.002: one label would move it fifty-fold, and with it every
// score). So each coordinate learns on x / s, where s = max(1, |x|) at the
// first update that saw it non-zero, and its weight is rescaled then so the
// model does not change; Weights() are always in the features' own units.
//
// Missing features (present[i] == 0) are treated as x = 0: they get no
// gradient and their state does not change.
//
// Not thread-safe (one owner). Update does not allocate.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "src/models/logistic_model.h"
#include "upfront/status.h"

namespace upfront {

struct FtrlParams {
  double alpha = 0.1;  // learning-rate scale; > 0
  double beta = 1.0;   // learning-rate smoothing; >= 0
  double l1 = 0.0;     // L1 strength: drives weak weights to exactly 0; >= 0
  double l2 = 1.0;     // L2 strength; >= 0
};

class FtrlLearner {
 public:
  // All weights and the bias start at 0.
  // REQUIRES: feature_count >= 0 and params as documented on FtrlParams.
  FtrlLearner(int feature_count, const FtrlParams& params);
  // Starts at `initial` (see the file comment for how).
  FtrlLearner(const LogisticModel& initial, const FtrlParams& params);

  // One step of logistic loss on (x, label).
  // REQUIRES: x.size() == present.size() == feature_count().
  void Update(std::span<const double> x, std::span<const uint8_t> present, bool label);

  // The current weights: what Score should use now.
  LogisticModel Weights() const;

  // The predicted probability for x under the current weights.
  double Predict(std::span<const double> x, std::span<const uint8_t> present) const;

  int feature_count() const { return static_cast<int>(z_.size()) - 1; }
  const FtrlParams& params() const { return params_; }

  // Binary state: a format version, the params and each coordinate's
  // (z, n, scale). Version 1 states (without scales) read as scale 1.
  void Encode(std::string* out) const;
  // Replaces the whole state (feature count and params included) with one
  // written by Encode. DataLoss on a short, corrupt or unknown-version buffer;
  // the learner is unchanged on error.
  absl::Status Decode(std::string_view in);

 private:
  double WeightOf(size_t i) const;  // in the feature's own units
  double RawWeightOf(size_t i) const;  // on x / scale
  double Scale(size_t i) const { return scale_[i] > 0 ? scale_[i] : 1.0; }
  double ZFor(double raw_weight, double n) const;
  size_t bias_index() const { return z_.size() - 1; }

  FtrlParams params_;
  // Per coordinate, features first then the bias last.
  std::vector<double> z_;  // accumulated adjusted gradients
  std::vector<double> n_;  // accumulated squared gradients
  std::vector<double> scale_;  // per coordinate; 0 until first seen non-zero
  std::vector<double> w_;  // scratch for Update, so it does not allocate
};

}  // namespace upfront
