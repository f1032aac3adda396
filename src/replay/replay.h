// The replay contract (docs/decisions.md): events run through a real engine,
// in a scratch data directory, in the file's order as the arrival order, with
// each customer's state in event time, late events handled as late, and
// timers firing as event time advances (and at the end up to `until`).
// Decisions come out in the order they were made, one JSON object each; the
// same input gives byte-identical output.
//
//   ReplayStats stats;
//   absl::Status s = Replay(policy, file, "events.jsonl", {.until = t}, write_line, &stats);
#pragma once

#include <functional>
#include <map>
#include <istream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "upfront/policy.h"
#include "upfront/status.h"
#include "upfront/time.h"

namespace upfront {

struct ReplayOptions {
  std::optional<Micros> until;  // fire timers up to this event time at the end
  // Called with the events read so far, now and then (for progress).
  std::function<void(size_t events)> progress;
};

struct ReplayStats {
  size_t events = 0;
  size_t accepted = 0;
  size_t duplicates = 0;
  size_t rejected = 0;
  size_t late = 0;
  size_t decisions = 0;
  std::map<std::string, size_t> actions;        // deliver, review, ask_confirm, none
  std::map<std::string, size_t> blocked;        // by reason
  std::map<std::string, size_t> interventions;  // taken actions by intervention
  std::vector<std::string> errors;              // "events.jsonl:12: event 11: field ...: reason"
};

absl::Status Replay(std::shared_ptr<const Policy> policy, std::istream& events,
                    const std::string& events_name, const ReplayOptions& options,
                    const std::function<void(std::string_view decision_json)>& write,
                    ReplayStats* stats);

}  // namespace upfront
