#include "src/decide/cohort.h"

#include "src/common/hash.h"

namespace upfront {

uint64_t SaltSeed(std::string_view salt) { return Hash64(salt); }

double AssignmentPoint(uint64_t salt_seed, std::string_view customer_id) {
  // The salt seeds the hash of the id: no buffer to build on the decision path.
  const uint64_t h = Hash64(customer_id, salt_seed);
  // The top 53 bits: every double in [0, 1) they can make is equally likely.
  return static_cast<double>(h >> 11) * 0x1.0p-53;
}

double AssignmentPoint(std::string_view salt, std::string_view customer_id) {
  return AssignmentPoint(SaltSeed(salt), customer_id);
}

bool InHoldout(const Policy& policy, std::string_view customer_id) {
  return InHoldoutAt(policy, AssignmentPoint(policy.holdout.salt, customer_id));
}

bool InHoldoutAt(const Policy& policy, double point) {
  return policy.holdout.share > 0 && point < policy.holdout.share;
}

int VariantOf(const ExperimentSpec& experiment, std::string_view customer_id) {
  return VariantAt(experiment, AssignmentPoint(experiment.salt, customer_id));
}

int VariantAt(const ExperimentSpec& experiment, double point) {
  double upto = 0;
  for (size_t v = 0; v < experiment.variants.size(); ++v) {
    upto += experiment.variants[v].share;
    if (point < upto) return static_cast<int>(v);
  }
  return static_cast<int>(experiment.variants.size()) - 1;  // shares summing to 0.999...
}

const ExperimentSpec* ExperimentOf(const Policy& policy, int intervention) {
  for (const ExperimentSpec& e : policy.experiments) {
    if (e.intervention == intervention) return &e;
  }
  return nullptr;
}

}  // namespace upfront
