// Deterministic assignment of customers to the holdout and to experiment
// variants (DESIGN.md §6): a hash of the salt and the customer's canonical id,
// so an assignment is stable across restarts, replays and machines, and a
// merged profile keeps the known id's assignment.
//
//   if (InHoldout(policy, customer)) ...              // never contacted
//   const VariantSpec& v = policy.experiments[e].variants[VariantOf(policy.experiments[e], customer)];
//
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string_view>

#include "upfront/policy.h"

namespace upfront {

// A uniform number in [0, 1) from salt and id (the same everywhere).
double AssignmentPoint(std::string_view salt, std::string_view customer_id);

// The salt's share of AssignmentPoint, for a caller that assigns customer
// after customer under the same salts (the decider, once per event):
// AssignmentPoint(SaltSeed(salt), id) == AssignmentPoint(salt, id).
uint64_t SaltSeed(std::string_view salt);
double AssignmentPoint(uint64_t salt_seed, std::string_view customer_id);

// Whether a customer at `point` (their AssignmentPoint under the holdout's
// salt) is in the holdout, and the variant one at `point` under the
// experiment's salt is in. REQUIRES: experiment.variants is not empty.
bool InHoldoutAt(const Policy& policy, double point);
int VariantAt(const ExperimentSpec& experiment, double point);

// True when the customer falls in the policy's holdout share.
bool InHoldout(const Policy& policy, std::string_view customer_id);

// The index of the customer's variant in `experiment.variants`.
// REQUIRES: experiment.variants is not empty.
int VariantOf(const ExperimentSpec& experiment, std::string_view customer_id);

// The experiment testing intervention `i`, or nullptr.
const ExperimentSpec* ExperimentOf(const Policy& policy, int intervention);

}  // namespace upfront
