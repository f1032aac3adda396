// A Reading as JSON, for `upfront inspect` and the API's customer view: the
// segment, each signal with its evidence, the counts, and each model's score
// with its confidence, version and the features that pushed it most.
#pragma once

#include <nlohmann/json.hpp>

#include "src/profile/profile.h"
#include "src/reading/reader.h"
#include "src/signals/customer_signals.h"

namespace upfront {

// How many features each model lists, largest push first.
inline constexpr size_t kTopFeatures = 5;

nlohmann::json ReadingToJson(const PolicyReader& reader, const Profile& profile,
                             const CustomerSignals& signals, const Reading& reading);

}  // namespace upfront
