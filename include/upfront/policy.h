// The policy: what to watch, when to act, how to act and how to measure,
// loaded from YAML (see shared/policy-example.yaml and docs/policy.md).
//
//   absl::StatusOr<Policy> policy = LoadPolicyFile("policy.yaml");
//   std::vector<PolicyError> errors = CheckPolicyFile("policy.yaml");  // all of them
//
// A Policy is immutable once loaded and safe to share between threads.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "src/signals/signal_spec.h"
#include "upfront/expression.h"
#include "upfront/status.h"
#include "upfront/time.h"

namespace upfront {

// One problem in a policy file, located precisely enough to fix it.
struct PolicyError {
  std::string file;
  int line = 0;    // 1-based; 0 when unknown
  int column = 0;  // 1-based; 0 when unknown
  std::string key; // dotted path, e.g. "events.dedup_window"
  std::string message;
  // "file:line:column: key: message"
  std::string ToString() const;
};

struct EventsPolicy {
  std::vector<std::string> keep_properties;
  std::vector<std::string> keep_traits;
  std::vector<std::string> hash;  // kept only as a keyed hash
  Micros dedup_window = 24 * kMicrosPerHour;
  Micros allowed_lateness = 10 * kMicrosPerMinute;
  Micros retention = 365 * kMicrosPerDay;  // the event log keeps this long
};

// The roles measurement needs, each mapped to the customer's own event name.
enum class OutcomeRole {
  kContactOpened, kContactResolved, kCsat, kNps, kCes, kPurchase, kIncidentOpened,
  kIncidentResolved, kAccepted, kDismissed, kSnoozed, kOptOut, kComplaint,
};
inline constexpr int kOutcomeRoleCount = 13;
std::string_view OutcomeRoleName(OutcomeRole role);  // "contact_opened", ...

struct OutcomeRule {
  OutcomeRole role;
  std::string event;
  // Extra fields the role reads (score, revenue, case_type, channel) -> a path
  // such as "properties.score" or "traits.plan".
  std::map<std::string, std::string> fields;
};

// A value that conditions, segments and model features read, resolved once at
// load. Its index in Policy::paths is the expression slot that reads it.
struct ValuePath {
  enum class Kind : uint8_t {
    kSignalScore, kSignalConfidence, kModelScore, kModelConfidence, kTrait, kCount, kThreshold,
  };
  Kind kind = Kind::kThreshold;
  std::string text;  // as written: "signals.checkout_friction.score"
  std::string name;  // the signal, model, trait or counter it reads
  Micros window = 0; // kCount
};

// `models.<name>`: a score in [0, 1] over features the policy names.
struct ModelSpec {
  enum class Kind : uint8_t { kLogistic, kXgboost };
  std::string name;
  Kind kind = Kind::kLogistic;
  std::vector<int> features;    // slots in Policy::paths, in the order written
  double bias = 0;              // logistic
  std::vector<double> weights;  // logistic, one per feature
  std::string file;             // xgboost: the model file, relative paths resolved against the policy's folder
  // `learn:` — online updates (logistic, FTRL-Proximal) and training labels:
  // `label_event` within `horizon` after a scored moment is a positive.
  bool learn = false;
  std::string label_event;
  Micros horizon = 0;
  // Below this share of (weighted) features present the score is flagged low-confidence.
  double min_coverage = 0;
};

// `segments.<name>: '<condition>'`: first match wins; `default` otherwise.
struct SegmentSpec {
  std::string name;
  Expression condition;
};
inline constexpr std::string_view kDefaultSegment = "default";

// What this module reads of an intervention so far: its condition and its
// threshold per segment. The decide module reads the rest.
struct InterventionSpec {
  std::string name;
  Expression when;
  std::map<std::string, double, std::less<>> threshold;  // segment -> value; "default" always present when set
};

struct Policy {
  std::string version;       // the label written in the file
  std::string content_hash;  // sha256 of the file's bytes, first 16 hex digits
  std::string source_file;
  std::string default_timezone = "UTC";
  EventsPolicy events;
  std::vector<OutcomeRule> outcomes;
  // Traits named as channel consent (channels.X.consent: traits.T): T -> X.
  std::map<std::string, std::string> consent_traits;
  // Traits that must never drive a decision: no condition, segment or model
  // feature may read them (checked at load).
  std::vector<std::string> sensitive_traits;

  std::vector<SignalSpec> signals;
  // counts.<name>.<window> used anywhere, one spec per name with every window.
  std::vector<CounterSpec> counters;
  std::vector<ValuePath> paths;
  std::vector<ModelSpec> models;  // in dependency-free order: features never read models
  std::vector<SegmentSpec> segments;
  std::vector<InterventionSpec> interventions;

  const OutcomeRule* FindOutcome(OutcomeRole role) const;
};

// Loads and validates a policy. On failure the status message lists every
// error, one per line, in PolicyError::ToString() form, in file order; the
// code is InvalidArgument for an invalid policy and NotFound when the file
// cannot be read.
absl::StatusOr<Policy> LoadPolicyFile(const std::string& path);
absl::StatusOr<Policy> LoadPolicyText(const std::string& yaml, const std::string& file_name);

// Every error in the file; empty when the policy is valid.
std::vector<PolicyError> CheckPolicyFile(const std::string& path);
std::vector<PolicyError> CheckPolicyText(const std::string& yaml, const std::string& file_name);

}  // namespace upfront
