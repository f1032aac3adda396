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

struct Policy {
  std::string version;       // the label written in the file
  std::string content_hash;  // sha256 of the file's bytes, first 16 hex digits
  std::string source_file;
  std::string default_timezone = "UTC";
  EventsPolicy events;
  std::vector<OutcomeRule> outcomes;
  // Traits named as channel consent (channels.X.consent: traits.T): T -> X.
  std::map<std::string, std::string> consent_traits;

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
