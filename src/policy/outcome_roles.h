// The names of the outcome roles as written in a policy's `outcomes:` section,
// indexed by OutcomeRole. Internal to src/policy; outside it use OutcomeRoleName.
#pragma once

#include <array>
#include <optional>
#include <string_view>

#include "upfront/policy.h"

namespace upfront::policy_internal {

inline constexpr std::array<std::string_view, kOutcomeRoleCount> kOutcomeRoleNames = {
    "contact_opened",  "contact_resolved",  "csat",     "nps",       "ces",     "purchase",
    "incident_opened", "incident_resolved", "accepted", "dismissed", "snoozed", "opt_out",
    "complaint",
};
static_assert(static_cast<int>(OutcomeRole::kComplaint) == kOutcomeRoleCount - 1,
              "kOutcomeRoleNames must list every OutcomeRole in order");

inline std::optional<OutcomeRole> OutcomeRoleFromName(std::string_view name) {
  for (int i = 0; i < kOutcomeRoleCount; ++i) {
    if (kOutcomeRoleNames[i] == name) return static_cast<OutcomeRole>(i);
  }
  return std::nullopt;
}

}  // namespace upfront::policy_internal
