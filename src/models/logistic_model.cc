#include "src/models/logistic_model.h"

#include <cassert>
#include <cmath>

namespace upfront {

double Sigmoid(double z) {
  // Branching on the sign keeps exp's argument non-positive, so it never overflows.
  if (z >= 0) return 1.0 / (1.0 + std::exp(-z));
  const double e = std::exp(z);
  return e / (1.0 + e);
}

ModelScore LogisticModel::Score(std::span<const double> features,
                                std::span<const uint8_t> present) const {
  assert(features.size() == weights.size() && present.size() == weights.size());
  double z = bias;
  double present_mass = 0.0;
  double total_mass = 0.0;
  for (size_t i = 0; i < weights.size(); ++i) {
    const double magnitude = std::abs(weights[i]);
    total_mass += magnitude;
    if (present[i] == 0) continue;
    z += weights[i] * features[i];
    present_mass += magnitude;
  }
  return {Sigmoid(z), total_mass > 0.0 ? present_mass / total_mass : 1.0};
}

void LogisticModel::Contributions(std::span<const double> features,
                                  std::span<const uint8_t> present, std::span<double> out) const {
  assert(features.size() == weights.size() && present.size() == weights.size() &&
         out.size() == weights.size());
  for (size_t i = 0; i < weights.size(); ++i) {
    out[i] = present[i] != 0 ? weights[i] * features[i] : 0.0;
  }
}

}  // namespace upfront
