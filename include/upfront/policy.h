// The policy: what to watch, when to act, how to act and how to measure,
// loaded from YAML (see shared/policy-example.yaml and docs/policy.md).
//
//   absl::StatusOr<Policy> policy = LoadPolicyFile("policy.yaml");
//   std::vector<PolicyError> errors = CheckPolicyFile("policy.yaml");  // all of them
//
// A Policy is immutable once loaded and safe to share between threads.
#pragma once

#include <map>
#include <optional>
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

// `channels.<name>`: where a step is delivered and what it needs.
struct ChannelSpec {
  std::string name;
  bool needs_presence = false;      // in-flow: only while the customer is in a session
  bool quiet_hours_exempt = false;  // a tip inside the page is not an interruption
  std::string consent_trait;        // the trait that states consent ("" = none needed)
  std::string webhook;              // delivered through this webhook (email, SMS, push)
  std::string queue;                // delivered by a human from this queue
};

// `webhooks.<name>`: an endpoint of the customer's that channels such as email,
// SMS or push are POSTed to, signed per Standard Webhooks (src/server/outbox).
// Exactly one of secret_env and secret is set. A secret_env is only named
// here: the variable is read when the server starts, never at load.
struct WebhookSpec {
  std::string name;
  std::string url;         // http:// or https://, host, optional port and path; checked at load
  std::string secret_env;  // environment variable holding "whsec_<base64>"
  std::string secret;      // inline "whsec_<base64>" (tests and local setups)
  Micros timeout = 5 * kMicrosPerSecond;  // per request
};

// `moderation:`: how often and when the customer may be contacted.
struct ModerationSpec {
  bool has_quiet_hours = false;
  int quiet_start_minute = 0;  // minutes after local midnight
  int quiet_end_minute = 0;
  int max_per_day = 0;   // 0 = no cap
  int max_per_week = 0;  // 0 = no cap
  bool rolling_windows = false;  // `window: rolling`: 24h / 7d instead of local calendar day / week
  Micros cooldown = 0;           // after any proactive contact
  Micros dismiss_cooldown = 0;   // after a dismissal
  int suppress_after = 0;        // dismissals (0 = never suppress)
  Micros suppress_for = 0;
  bool pause_on_incident = false;
  Micros presence_window = 30 * kMicrosPerMinute;  // a session is activity within this
};

// A template's text with its {{variables}} split out, checked at load.
struct TemplateText {
  std::string source;
  struct Part {
    bool variable = false;
    std::string text;  // literal text, or the variable path ("last.properties.field")
  };
  std::vector<Part> parts;
};

// `templates.<name>`: the response library. Locale and tone variants replace
// the base texts they set.
struct TemplateSpec {
  struct Texts {
    std::optional<TemplateText> text, subject, why, confirm;
  };
  std::string name;
  Texts base;
  std::map<std::string, Texts, std::less<>> locales;  // "es", "es-ES"
  std::map<std::string, Texts, std::less<>> tones;    // "friendly", "neutral"
};

enum class LowConfidence : uint8_t { kAskConfirm, kReview, kSkip };

struct LadderStep {
  std::string channel;
  std::string template_name;
  Micros after = 0;  // since the previous step (0 for the first)
};

// `interventions.<name>`.
struct InterventionSpec {
  std::string name;
  Expression when;
  std::map<std::string, double, std::less<>> threshold;  // segment -> value; "default" always present when set
  double min_confidence = 0;
  LowConfidence low_confidence = LowConfidence::kSkip;
  std::string goal;  // event name that ends the ladder
  double priority = 1;  // the lever
  double value = 1;
  Micros cooldown = 0;
  bool sensitive = false;
  std::string benefit;
  std::map<std::string, std::string, std::less<>> tone;  // segment -> tone
  std::vector<LadderStep> ladder;
};

// `experiments.<name>.variants.<variant>`: what the variant changes in its
// experiment's intervention. Unset overrides keep what the policy says.
struct VariantSpec {
  std::string name;
  double share = 0;  // of the customers in the experiment; an experiment's shares sum to 1
  std::map<std::string, double, std::less<>> threshold;  // segment -> value (empty: the policy's)
  std::map<std::string, std::string, std::less<>> templates;  // template -> the variant's template
  std::vector<LadderStep> ladder;  // empty: the policy's
  bool overrides_moderation = false;
  ModerationSpec moderation;  // the policy's with the variant's values, when overrides_moderation
};

// `experiments.<name>`: an A/B (or A/B/n) test of one intervention.
struct ExperimentSpec {
  std::string name;
  std::string salt;      // assignment hash salt; defaults to the name
  int intervention = -1; // index into Policy::interventions
  std::vector<VariantSpec> variants;  // the first is the control
};

// `experiments.holdout`: customers never contacted, for the scorecard's control.
struct HoldoutSpec {
  double share = 0;
  std::string salt = "holdout";
};

// `targets`: a goal for a scorecard metric, optionally for one segment and/or channel.
struct TargetSpec {
  std::string metric;   // a metric name of docs/metrics.md, e.g. "csat", "nps", "fcr", "ltv"
  std::string segment;  // "" for every segment
  std::string channel;  // "" for every channel
  double goal = 0;      // in the metric's own unit (share 0..1, NPS points, currency)
  std::string key;      // where it was written, e.g. "targets.csat.vip", for messages
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
  std::vector<ChannelSpec> channels;
  std::vector<WebhookSpec> webhooks;  // in file order
  ModerationSpec moderation;
  std::vector<TemplateSpec> templates;
  std::vector<InterventionSpec> interventions;
  HoldoutSpec holdout;
  std::vector<ExperimentSpec> experiments;
  std::vector<TargetSpec> targets;

  const ChannelSpec* FindChannel(std::string_view name) const;
  const TemplateSpec* FindTemplate(std::string_view name) const;

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
