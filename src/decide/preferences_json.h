// A customer's preferences and consent as JSON (the API's and the console's
// view), and changes to them from a JSON patch:
//
//   {"channels": {"email": "opt_out", "sms": "opt_in", "push": "default"},
//    "preferred_channel": "in_app",
//    "snooze_until": "2026-12-01T00:00:00Z",       (null clears)
//    "opted_out": false,                           (no proactive help at all)
//    "declined": ["save_at_risk"],                 (help the customer turned off)
//    "quiet_hours": {"start": "22:00", "end": "07:00"},   (null: the policy's)
//    "consent": {"proactive_support": {"state": "granted", "expires": "2027-11-25T00:00:00Z"}}}
//
// A patch sets only the keys it has. Errors name the field and leave the
// state unchanged.
#pragma once

#include <nlohmann/json.hpp>

#include "src/decide/decision_state.h"
#include "upfront/policy.h"
#include "upfront/status.h"

namespace upfront {

nlohmann::json PreferencesToJson(const Policy& policy, const DecisionState& state);

absl::Status ApplyPreferencesPatch(const Policy& policy, const nlohmann::json& patch, Micros now,
                                   DecisionState* state);

}  // namespace upfront
