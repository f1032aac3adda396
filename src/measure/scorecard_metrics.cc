#include "src/measure/scorecard_metrics.h"

#include <algorithm>

namespace upfront {
namespace {

using M = ScorecardMetric;

// Kept in ScorecardMetric order (checked by MetricInfoOf's users in tests).
constexpr MetricInfo kMetrics[] = {
    {M::kCsat, "csat", "CSAT", "share", true, "rating", true, false,
     "Share of CSAT ratings that are 4 or 5 on the 1-5 scale, over the ratings given in the "
     "window."},
    {M::kCsatMean, "csat_mean", "CSAT (mean)", "score", true, "rating", true, false,
     "Mean CSAT rating (1-5) over the ratings given in the window."},
    {M::kNps, "nps", "NPS", "points", true, "answer", false, false,
     "% promoters (9-10) minus % detractors (0-6), counting each customer's latest answer in the "
     "window."},
    {M::kCes, "ces", "Customer effort", "score", false, "rating", true, false,
     "Mean customer effort score over the ratings in the window; lower means less effort."},
    {M::kFcr, "fcr", "First-contact resolution", "share", true, "contact", true, false,
     "Share of contacts opened in the window that were resolved with no new contact within 7 days "
     "of the "
     "resolution."},
    {M::kRecontact7d, "recontact_7d", "Recontact within 7 days", "share", false, "contact", true,
     false,
     "Share of contacts opened in the window followed by another contact within 7 days of the "
     "opening."},
    {M::kRecontact14d, "recontact_14d", "Recontact within 14 days", "share", false, "contact", true,
     false,
     "Share of contacts opened in the window followed by another contact within 14 days of the "
     "opening."},
    {M::kTimeToResolve, "time_to_resolve_hours", "Time to resolve", "hours", false, "contact", true,
     false,
     "Mean hours from a contact's opening to its resolution, over contacts opened in the window "
     "and resolved."},
    {M::kContactsPerCustomer, "contacts_per_customer", "Contacts per customer", "count", false,
     "customer", false, false, "Contacts opened in the window per active customer."},
    {M::kLtv, "ltv", "Revenue per customer (LTV)", "currency", true, "customer", false, false,
     "Revenue from purchases in the window per active customer."},
    {M::kDropOff, "drop_off_rate", "Drop-offs", "share", false, "journey", true, false,
     "Share of journeys started in the window (the policy's abandon: inputs) that were abandoned."},
    {M::kOptOut, "opt_out_rate", "Opt-outs", "share", false, "customer", false, false,
     "Share of active customers who opted out of proactive contact in the window."},
    {M::kComplaint, "complaint_rate", "Complaints", "share", false, "customer", false, false,
     "Share of active customers who filed a complaint in the window."},
    {M::kAcceptance, "acceptance_rate", "Acceptance", "share", true, "action", true, true,
     "Share of actions delivered in the window that the customer accepted (within 7 days)."},
    {M::kDismissal, "dismissal_rate", "Dismissals", "share", false, "action", true, true,
     "Share of actions delivered in the window that the customer dismissed (within 7 days): likely "
     "false "
     "positives."},
    {M::kFatigue, "actions_per_customer_day", "Contact fatigue", "per day", false, "customer",
     false, true, "Actions delivered per contacted customer per day of the window."},
};
static_assert(std::size(kMetrics) == kScorecardMetricCount);

}  // namespace

std::span<const MetricInfo> AllMetricInfos() { return kMetrics; }

const MetricInfo& MetricInfoOf(ScorecardMetric metric) {
  return kMetrics[static_cast<int>(metric)];
}

std::optional<ScorecardMetric> MetricByName(std::string_view name) {
  for (const MetricInfo& m : kMetrics) {
    if (m.name == name) return m.metric;
  }
  return std::nullopt;
}

void EvaluateContacts(std::span<const Micros> opened_at, std::span<const Micros> resolved_at,
                      Micros as_of, std::vector<ContactFate>* out) {
  out->clear();
  size_t r = 0;  // first resolution not before the current opening
  for (size_t i = 0; i < opened_at.size(); ++i) {
    const Micros open = opened_at[i];
    const bool has_next = i + 1 < opened_at.size();
    const Micros next = has_next ? opened_at[i + 1] : 0;
    while (r < resolved_at.size() && resolved_at[r] < open) ++r;
    ContactFate fate;
    if (r < resolved_at.size() && (!has_next || resolved_at[r] <= next))
      fate.resolved_at = resolved_at[r];

    if (fate.resolved_at == kNever) {
      // Another contact before any resolution: the customer had to come back.
      fate.fcr = has_next ? Fate::kNo : Fate::kPending;
    } else if (has_next && next - fate.resolved_at <= kFcrWindow) {
      fate.fcr = Fate::kNo;
    } else if (has_next || fate.resolved_at + kFcrWindow <= as_of) {
      fate.fcr = Fate::kYes;
    } else {
      fate.fcr = Fate::kPending;
    }

    auto recontact = [&](Micros window) {
      if (has_next && next - open <= window) return Fate::kYes;
      if (has_next || open + window <= as_of) return Fate::kNo;
      return Fate::kPending;
    };
    fate.recontact_7d = recontact(kRecontactShortWindow);
    fate.recontact_14d = recontact(kRecontactLongWindow);
    out->push_back(fate);
  }
}

void EvaluateJourneys(std::span<const JourneyStep> steps, Micros within, Micros as_of,
                      std::vector<JourneyFate>* out) {
  out->clear();
  bool open = false;
  Micros started = 0, last_start = 0;
  for (const JourneyStep& step : steps) {
    if (open && step.at - last_start > within) {
      out->push_back({started, Fate::kYes});  // the deadline passed before this step
      open = false;
    }
    if (step.start) {
      if (!open) {
        open = true;
        started = step.at;
      }
      last_start = step.at;
    } else if (open) {
      out->push_back({started, Fate::kNo});
      open = false;
    }
  }
  if (open) out->push_back({started, last_start + within <= as_of ? Fate::kYes : Fate::kPending});
}

}  // namespace upfront
