// A logistic model whose weights come from the policy or from FtrlLearner,
// scored over features some of which may be missing. A missing feature adds
// nothing to the linear term (it is imputed at 0, the neutral value), and the
// share of the model's total weight magnitude that was present is reported as
// `coverage`, so callers can fall back when too little of the model saw data.
//
//   LogisticModel churn{.bias = -2.0, .weights = {0.8, -0.3, 1.5}};
//   double x[] = {1.2, 0.0, 0.4};
//   uint8_t present[] = {1, 0, 1};
//   ModelScore s = churn.Score(x, present);   // s.score in (0,1), s.coverage = 2.3/2.6
//   double why[3]; churn.Contributions(x, present, why);   // w_i * x_i, 0 when missing
//
// A plain value; const methods are safe to call concurrently.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace upfront {

struct ModelScore {
  double score = 0.0;     // sigmoid(bias + sum of w_i * x_i over present features)
  double coverage = 1.0;  // sum |w_i| over present / sum |w_i| over all; 1 when all weights are 0
};

// The logistic function, stable for large |z| (no overflow to inf/NaN).
double Sigmoid(double z);

struct LogisticModel {
  double bias = 0.0;
  std::vector<double> weights;

  // REQUIRES: features.size() == present.size() == weights.size().
  // Does not allocate.
  ModelScore Score(std::span<const double> features, std::span<const uint8_t> present) const;

  // Writes w_i * x_i into out[i] (0 when feature i is missing), so callers can
  // show the features that pushed the score up or down.
  // REQUIRES: features, present and out all have weights.size() elements.
  void Contributions(std::span<const double> features, std::span<const uint8_t> present,
                     std::span<double> out) const;
};

}  // namespace upfront
