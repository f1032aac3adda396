// The scorecard: did proactive help move CSAT, NPS, FCR and revenue, and at
// what cost in opt-outs, complaints and fatigue? Treatment against the
// persistent holdout, each experiment's variants against its control, over
// all customers and among those exposed to the same intervention, with
// breakdowns, baselines, signal quality, a bias audit and targets
// (definitions: docs/metrics.md).
//
//   ScorecardOptions options;                       // two weeks to the end of the data
//   absl::StatusOr<nlohmann::json> card = BuildScorecard(engine, policy, options);
//   std::string html = RenderScorecardHtml(*card);  // src/measure/report_html.h
//
// Two entry points compute the same JSON:
//   - BuildScorecard reads an Engine (stored events and the "exposure" and
//     "action" records), maps each event to the customer's canonical id, and
//     calls
//   - ComputeScorecard, a pure function of in-memory records
//     (ScorecardInput), for tests and benchmarks.
//
// Thread safety: ComputeScorecard is pure and may run concurrently.
// BuildScorecard only reads the engine (Engine's scans are thread-safe), so
// it may run while the engine ingests; the result then reflects some
// consistent prefix of each scan.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "src/measure/scorecard_metrics.h"
#include "src/measure/statistics.h"
#include "upfront/engine.h"
#include "upfront/policy.h"
#include "upfront/status.h"
#include "upfront/time.h"

namespace upfront {

// The version of the JSON layout (docs/metrics.md, "The JSON"). Fields are
// only ever added within a version.
inline constexpr std::string_view kScorecardSchema = "upfront.scorecard/1";

enum class ScorecardWindow {
  kTwoWeeks,  // the 14 days before `to`
  kMonth,     // the calendar month (UTC) that `to` ends in, up to `to`
  kAll,       // from the first day of the data
};
enum class PValueAdjustment { kHolm, kBenjaminiHochberg };

struct ScorecardOptions {
  ScorecardWindow window = ScorecardWindow::kTwoWeeks;
  // An explicit range [from, to) overrides `window` (either end alone moves
  // only that end). Default `to`: the UTC midnight after the latest event.
  std::optional<Micros> from;
  std::optional<Micros> to;
  // The end of the observed data, which decides whether a follow-up window
  // (FCR's 7 days, ...) has passed. Default: the latest event time.
  std::optional<Micros> as_of;

  double confidence = 0.95;
  uint64_t min_per_arm = 100;  // below this, a result is shown but not called
  bool sequential = false;     // always-valid intervals and p-values
  PValueAdjustment adjustment = PValueAdjustment::kHolm;
  double srm_threshold = kSrmThreshold;
  int series_weeks = 12;  // weekly points in the over-time plots (1..52)

  // Bias audit: a segment's rate outside [low, high] x the overall rate is
  // flagged (the four-fifths rule and its inverse).
  double disparity_low = 0.8;
  double disparity_high = 1.25;
  // Signal quality: flagged as noisy with at least min_per_arm holdout
  // exposures when the precision is below, or dismissals above, these.
  double noisy_precision_below = 0.1;
  double noisy_dismissal_above = 0.5;

  // BuildScorecard only. Map stored customer ids through
  // Engine::CustomerIds, so events stored before an identity merge count for
  // the merged customer. Only ids that an event names beside a userId (an
  // identify's anonymousId, an alias's previousId) can have merged, so only
  // those cost an engine call.
  bool resolve_merges = true;
  // BuildScorecard only: told the number of events read so far, about every
  // 65,536 events and once at the end, from the calling thread.
  std::function<void(uint64_t events_read)> progress;
};

// Parses the spellings the CLI and the HTTP API accept: "two-weeks" (or
// "two_weeks", "2w"), "month", "all"; "holm", "bh" (or
// "benjamini-hochberg"). InvalidArgument naming the accepted values.
absl::StatusOr<ScorecardWindow> ParseScorecardWindow(std::string_view text);
absl::StatusOr<PValueAdjustment> ParsePValueAdjustment(std::string_view text);
std::string_view ScorecardWindowName(ScorecardWindow window);  // "two_weeks", "month", "all"

// ---- In-memory records (ComputeScorecard's input) ----

inline constexpr uint16_t kNoLabel = 0xffff;
inline constexpr uint8_t kUnknownHour = 0xff;
// ScorecardEvent::kind beyond the OutcomeRole values.
inline constexpr uint8_t kJourneyStartKind = 13;
inline constexpr uint8_t kJourneyEndKind = 14;
static_assert(kOutcomeRoleCount == kJourneyStartKind);

// One outcome event of one customer.
struct ScorecardEvent {
  Micros at = 0;  // event time
  // The rating (csat, nps, ces) or revenue (purchase); NaN when absent.
  double value = std::numeric_limits<double>::quiet_NaN();
  uint32_t customer = 0;              // index into ScorecardInput::customer_ids
  uint8_t kind = 0;                   // static_cast<uint8_t>(OutcomeRole), or kJourney*Kind
  uint8_t local_hour = kUnknownHour;  // 0..23 in the event's time zone
  uint16_t channel = kNoLabel;        // index into ScorecardInput::channels
  uint16_t case_type = kNoLabel;      // index into ScorecardInput::case_types
  uint16_t journey = 0;               // kJourney*Kind: index into ScorecardInput::journeys
};

// A customer first met an intervention's condition (record kind "exposure").
struct ScorecardExposure {
  Micros at = 0;
  uint32_t customer = 0;
  uint16_t intervention = 0;    // index into Policy::interventions
  int16_t variant = -1;         // index into the experiment's variants; -1: none
  uint16_t segment = kNoLabel;  // as the engine saw it, index into segments
  bool holdout = false;         // the cohort the engine recorded
};

enum class ScorecardActionKind : uint8_t { kDeliver, kAskConfirm, kReview };

// A decision that acted, or would have in the holdout (record kind "action").
struct ScorecardAction {
  Micros at = 0;
  uint32_t customer = 0;
  uint16_t intervention = 0;  // index into Policy::interventions
  uint16_t channel = kNoLabel;
  uint16_t segment = kNoLabel;
  int16_t variant = -1;
  ScorecardActionKind kind = ScorecardActionKind::kDeliver;
  bool holdout = false;
};

// The customer had some event (of any kind) in this UTC hour.
struct ScorecardActivity {
  uint32_t customer = 0;
  int32_t hour = 0;  // hours since the epoch
};

// A journey that can be dropped: a policy `abandon:` input.
struct ScorecardJourney {
  std::string name;   // "cart_abandoned: Checkout Started"
  Micros within = 0;  // the deadline after the (last) start
};

struct ScorecardInput {
  std::vector<std::string> customer_ids;    // canonical ids, by customer number
  std::vector<uint16_t> customer_segments;  // by customer number; missing or kNoLabel: "default"
  std::vector<std::string> segments;        // labels the indexes above refer to
  std::vector<std::string> channels;
  std::vector<std::string> case_types;
  std::vector<ScorecardJourney> journeys;
  // Any order; ComputeScorecard groups them by customer and time.
  std::vector<ScorecardEvent> events;
  std::vector<ScorecardActivity> activity;
  std::vector<ScorecardExposure> exposures;
  std::vector<ScorecardAction> actions;

  // The index of `label` in `labels`, appended when new. REQUIRES: fewer
  // than 65,535 labels.
  static uint16_t Intern(std::vector<std::string>* labels, std::string_view label);
};

// The scorecard as JSON (layout: docs/metrics.md). InvalidArgument for
// options that contradict themselves (confidence outside (0, 1), from >= to,
// series_weeks outside 1..52) or records that point outside the input (a
// customer, label or intervention index out of range).
absl::StatusOr<nlohmann::json> ComputeScorecard(const ScorecardInput& input, const Policy& policy,
                                                const ScorecardOptions& options = {});

// Reads the engine's stored events and records into a ScorecardInput (see
// docs/metrics.md for how events map to outcome roles, segments and local
// hours). Errors from the engine's scans pass through; records that cannot
// be read are skipped and counted in the JSON's "input.skipped_records".
absl::StatusOr<ScorecardInput> ReadScorecardInput(Engine& engine, const Policy& policy,
                                                  const ScorecardOptions& options = {},
                                                  uint64_t* skipped_records = nullptr);

// ReadScorecardInput, then ComputeScorecard: what `upfront report` and
// GET /v1/scorecard return.
absl::StatusOr<nlohmann::json> BuildScorecard(Engine& engine, const Policy& policy,
                                              const ScorecardOptions& options = {});

// One paragraph for people: the window, the population, the four headline
// metrics with their lift and interval, the guardrails and any warning.
std::string ScorecardSummary(const nlohmann::json& scorecard);

}  // namespace upfront
