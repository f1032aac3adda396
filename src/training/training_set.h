// Training data for a policy's model, replayed from the stored event log: the
// same signals, counters and traits the engine computes, read at sampled
// moments, each labelled by whether the model's `learn:` label event
// followed within its horizon.
//
//   TrainingSetStats stats;
//   absl::StatusOr<TrainingSet> rows =
//       BuildTrainingSet(data_dir, policy, "churn_risk", {}, progress, &stats);
//
// Rows: a customer's features at their first event in each `sample_every`
// period of event time. Labels: positive when the label event comes after
// the moment and at most `horizon` later; negative when it does not and the
// log reaches past the horizon; rows whose horizon reaches past the end of the
// log are left out (their outcome is not known yet). Customer ids stay with
// the rows so evaluation can hold out whole customers.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "src/models/xgboost_model.h"
#include "upfront/policy.h"
#include "upfront/status.h"
#include "upfront/time.h"

namespace upfront {

struct TrainingSetOptions {
  Micros sample_every = kMicrosPerDay;
};

struct TrainingSetStats {
  uint64_t events = 0;
  uint64_t customers = 0;
  uint64_t rows = 0;
  uint64_t positives = 0;
  uint64_t censored = 0;  // moments left out: horizon past the end of the log
};

// `progress(events_read)` is called now and then. Opens the data directory's
// store read-only in effect (it writes nothing); an engine must not have it open.
absl::StatusOr<TrainingSet> BuildTrainingSet(const std::string& data_dir, const Policy& policy,
                                             const std::string& model,
                                             const TrainingSetOptions& options,
                                             const std::function<void(uint64_t)>& progress,
                                             TrainingSetStats* stats);

}  // namespace upfront
