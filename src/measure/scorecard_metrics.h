// The scorecard's metrics: their names, units and directions (the catalog
// docs/metrics.md describes), and the per-customer rules that need care —
// when a support contact counts as resolved first time, as a recontact, or is
// still pending; when a started journey counts as dropped off.
//
//   const MetricInfo& info = MetricInfoOf(ScorecardMetric::kFcr);  // "fcr", higher is better
//   std::vector<ContactFate> fates;
//   EvaluateContacts(opened_at, resolved_at, as_of, &fates);        // one per opened contact
//   if (fates[0].fcr == Fate::kYes) ...
//
// Window edges are inclusive: a new contact exactly 7 x 24 h after a
// resolution is a recontact within 7 days, so that contact is not resolved
// first time; one second later it is.
//
// Pure functions and constant tables; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "upfront/time.h"

namespace upfront {

enum class ScorecardMetric : uint8_t {
  kCsat,                 // share of CSAT ratings 4-5 (1-5 scale)
  kCsatMean,             // mean CSAT rating
  kNps,                  // % promoters - % detractors, one answer per customer
  kCes,                  // mean customer effort score
  kFcr,                  // contacts resolved with no new contact within 7 days
  kRecontact7d,          // contacts followed by another within 7 days of opening
  kRecontact14d,         // ... within 14 days
  kTimeToResolve,        // hours from a contact's opening to its resolution
  kContactsPerCustomer,  // contacts opened per customer in the window
  kLtv,                  // revenue per customer in the window
  kDropOff,              // started journeys abandoned (policy `abandon:` inputs)
  kOptOut,               // customers who opted out of proactive contact
  kComplaint,            // customers who complained
  kAcceptance,           // actions the customer accepted
  kDismissal,            // actions the customer dismissed (likely false positives)
  kFatigue,              // actions per contacted customer per day
};
inline constexpr int kScorecardMetricCount = 16;

struct MetricInfo {
  ScorecardMetric metric;
  std::string_view name;   // as in the policy's `targets` and the JSON: "csat", "fcr"
  std::string_view label;  // for people: "CSAT", "First-contact resolution"
  // "share" (0..1), "points" (NPS), "score", "hours", "count", "currency", "per day"
  std::string_view unit;
  bool higher_is_better;
  // What one observation is: "rating", "answer", "contact", "customer", "journey", "action".
  std::string_view observation;
  // True: a ratio of sums over customers (sum y / sum x, e.g. FCR contacts /
  // contacts), compared with the delta method on per-customer sums. False:
  // one value per customer (LTV, contacts per customer, opt-out).
  bool ratio;
  // Acceptance, dismissal and fatigue describe contacts that the holdout
  // never receives: they are compared between variants, never against the
  // holdout.
  bool treatment_only;
  std::string_view definition;  // one sentence, as in docs/metrics.md
};

std::span<const MetricInfo> AllMetricInfos();  // in ScorecardMetric order
const MetricInfo& MetricInfoOf(ScorecardMetric metric);
std::optional<ScorecardMetric> MetricByName(std::string_view name);

// The follow-up windows of docs/metrics.md.
inline constexpr Micros kFcrWindow = 7 * kMicrosPerDay;
inline constexpr Micros kRecontactShortWindow = 7 * kMicrosPerDay;
inline constexpr Micros kRecontactLongWindow = 14 * kMicrosPerDay;
// A response (accepted/dismissed) belongs to the latest action delivered
// strictly before it, if that action is at most this old.
inline constexpr Micros kResponseAttributionWindow = 7 * kMicrosPerDay;
// Signal quality: the bad outcome an exposure predicts must follow within this.
inline constexpr Micros kBadOutcomeWindow = 7 * kMicrosPerDay;

// Known yes, known no, or not decided yet because the follow-up window has
// not fully passed by `as_of` (the end of the data).
enum class Fate : uint8_t { kNo, kYes, kPending };

struct ContactFate {
  // Resolved by the first contact_resolved at or after the opening and no
  // later than the customer's next contact_opened; kNever when unresolved.
  Micros resolved_at = kNever;
  // kYes: resolved, and the next contact (if any) came more than 7 days
  // after the resolution. kNo: a new contact before the resolution or within
  // 7 days (inclusive) of it. kPending: unresolved with no newer contact, or
  // resolved less than 7 days before as_of with no recontact so far.
  Fate fcr = Fate::kPending;
  // kYes: the next contact_opened came within 7 (14) days of this contact's
  // opening, inclusive. kNo: it came later, or none came and the window has
  // passed by as_of. kPending otherwise.
  Fate recontact_7d = Fate::kPending;
  Fate recontact_14d = Fate::kPending;
};

// One fate per opened contact, in order. REQUIRES: both spans ascending.
// `out` is cleared first; its capacity is reused.
void EvaluateContacts(std::span<const Micros> opened_at, std::span<const Micros> resolved_at,
                      Micros as_of, std::vector<ContactFate>* out);

// One event of a journey: its start event or its completing event.
struct JourneyStep {
  Micros at = 0;
  bool start = false;
};

struct JourneyFate {
  Micros started_at = 0;  // the first start of the journey
  Fate abandoned = Fate::kPending;
};

// Journeys from an `abandon: A, unless: B, within: W` input, as the signal
// reads them: A starts a journey; B at or before (last A + W) completes it;
// another A by then restarts the clock (same journey); with no B by the
// deadline the journey is abandoned (kYes), and pending when the deadline is
// after as_of. REQUIRES: `steps` ascending by time. `out` is cleared first.
void EvaluateJourneys(std::span<const JourneyStep> steps, Micros within, Micros as_of,
                      std::vector<JourneyFate>* out);

}  // namespace upfront
