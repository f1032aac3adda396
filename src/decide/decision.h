// One decision point: what the engine decided for a customer at a moment, and
// why, in the shape `upfront replay` writes and the API serves.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "upfront/time.h"

namespace upfront {

struct Decision {
  struct Blocked {
    std::string intervention;
    std::string reason;  // no_consent, quiet_hours, ... (docs/decisions.md)
    Micros retry_at = 0;  // 0 unless the step is deferred to that time
  };
  struct SignalValue {
    std::string name;
    double score = 0;
    double confidence = 0;
  };
  struct ModelValue {
    std::string name;
    std::string version;
    double score = 0;
    double confidence = 0;
    bool available = false;
  };

  std::string id;
  std::string customer;
  Micros at = 0;
  std::string trigger_message_id;  // empty: a timer
  std::string trigger_timer;       // what the timer was for ("ladder", "quiet_hours_end", ...)
  std::string segment;
  std::string cohort = "treatment";  // or "holdout": decided and logged, never delivered
  std::string experiment;  // the acting intervention's experiment, "" if none
  std::string variant;     // ... and the customer's variant of it
  std::string action = "none";  // deliver, review, ask_confirm or none
  std::string intervention;
  int step = -1;
  std::string channel;
  std::string template_name;
  std::string subject;
  std::string message;
  std::string why;      // the clue, in the template's words
  std::string benefit;  // what the help is for
  std::vector<std::string> options;  // accept, snooze, turn_off
  double confidence = 0;
  double priority = 0;
  std::vector<SignalValue> signals;
  std::vector<ModelValue> models;
  std::vector<Blocked> blocked;
  std::vector<std::string> missing;  // condition inputs the customer lacked
  std::string policy_version;
  std::string policy_hash;
};

nlohmann::json DecisionToJson(const Decision& decision);

// The same JSON written straight into `out` (cleared first), without building
// a document: what the engine hands its listener for every decision point.
void AppendDecisionJson(const Decision& decision, std::string* out);

}  // namespace upfront
