// ComputeScorecard: one pass over customers, grouped with a counting sort.
//
// Everything is summed per customer first (the customer is the unit of
// randomisation, so it is the unit of every variance), then added to flat
// tables of mergeable summaries indexed by (arm, metric, breakdown value).
// Per-event work touches only small reused scratch vectors: nothing is
// allocated per event once they have grown.

#include "src/measure/scorecard.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>
#include <span>

#include "src/common/time_format.h"
#include "src/decide/cohort.h"
#include "src/measure/report_html.h"

namespace upfront {
namespace {

using M = ScorecardMetric;
constexpr int kMetricCount = kScorecardMetricCount;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr Micros kWeek = 7 * kMicrosPerDay;

constexpr int Idx(M m) { return static_cast<int>(m); }

// ---- breakdowns ----

enum Dim { kOverall, kSegment, kChannel, kCaseType, kHour, kDimCount };
constexpr std::string_view kDimKeys[] = {"overall", "by_segment", "by_channel", "by_case_type",
                                         "by_hour"};
// Breakdowns by a property of the event itself (not of the customer).
constexpr Dim kItemDims[] = {kChannel, kCaseType, kHour};

// Metrics whose pre-period value is used for CUPED.
bool UsesCuped(int m) { return m == Idx(M::kLtv) || m == Idx(M::kContactsPerCustomer); }
// One 0/1 value per customer: compared as two proportions.
bool IsCustomerProportion(int m) { return m == Idx(M::kOptOut) || m == Idx(M::kComplaint); }

// One customer's sums for one window (or for one breakdown value in it).
// For ratio metrics y / x are numerator and denominator (good ratings /
// ratings); for per-customer metrics y is the value and x is 1 when the
// customer counts (every active customer; fatigue: contacted ones).
struct Totals {
  std::array<double, kMetricCount> y;
  std::array<double, kMetricCount> x;
  int nps = -1;  // the latest 0-10 answer
  void Clear() {
    y.fill(0);
    x.fill(0);
    nps = -1;
  }
};

// Per-breakdown-value totals of the current customer, touched sparsely.
struct DimScratch {
  std::vector<Totals> totals;
  std::vector<uint8_t> is_touched;
  std::vector<uint16_t> touched;
  void Init(size_t values) {
    totals.resize(values);
    is_touched.assign(values, 0);
    touched.clear();
  }
  Totals& Touch(uint16_t v) {
    if (!is_touched[v]) {
      is_touched[v] = 1;
      touched.push_back(v);
      totals[v].Clear();
    }
    return totals[v];
  }
  void Reset() {
    for (uint16_t v : touched) is_touched[v] = 0;
    touched.clear();
  }
};

// ---- summaries ----

struct Cell {
  CovarianceSummary yx;     // per customer (y, x)
  CovarianceSummary cuped;  // per customer (y, pre-period y)
  NpsSummary nps;
  double sum_y = 0;
  double sum_x = 0;

  void Add(double y, double x) {
    yx.Add(y, x);
    sum_y += y;
    sum_x += x;
  }
  double Value(int m) const {
    if (m == Idx(M::kNps)) return nps.score();
    return sum_x > 0 ? sum_y / sum_x : kNaN;
  }
  uint64_t N(int m) const { return m == Idx(M::kNps) ? nps.n() : yx.count(); }
};

// A comparison's population and arms; arm 0 is the control.
struct Grouping {
  enum class Kind { kCohort, kExperiment, kTriggered, kTriggeredExperiment };
  Kind kind = Kind::kCohort;
  std::string id_prefix;  // "cohort", "experiment:NAME", "triggered:INTERVENTION", ...
  std::string label;
  std::string population;
  int experiment = -1;
  int intervention = -1;
  std::vector<std::string> arms;
  std::vector<double> shares;  // designed shares, for the sample-ratio check
  bool breakdowns = false;     // channel, case type and hour breakdowns
  bool against_holdout = false;
  std::vector<uint64_t> customers;  // per arm
  std::vector<Cell> cells;          // arms x metrics x values
};

struct Layout {
  std::array<size_t, kDimCount> offset{};
  std::array<size_t, kDimCount> size{};
  size_t values = 0;
  size_t Index(int arm, int metric, int dim, size_t value) const {
    return (static_cast<size_t>(arm) * kMetricCount + metric) * values + offset[dim] + value;
  }
};

// ---- one customer's outcomes, parsed once ----

struct Rating {
  Micros at;
  double score;
  uint16_t channel, case_type;
  uint8_t hour;
};
struct Contact {
  Micros at;
  uint16_t channel, case_type;
  uint8_t hour;
};
struct Purchase {
  Micros at;
  double revenue;
};
struct Response {
  Micros at;
  bool accepted;  // else dismissed
};
struct ActionView {
  Micros at;
  uint16_t intervention, channel;
  bool contact;  // delivered or asked (not only queued for review)
  bool accepted = false, dismissed = false;
};

struct CustomerScratch {
  std::vector<Rating> csat, nps, ces;
  std::vector<Contact> contacts;
  std::vector<Micros> opens, resolves, bad, opt_outs, complaints;
  std::vector<ContactFate> fates;
  std::vector<Purchase> purchases;
  std::vector<std::vector<JourneyStep>> journey_steps;
  std::vector<JourneyFate> journey_fates, journeys;
  std::vector<Response> responses;
  std::vector<ActionView> actions;
  void Clear() {
    csat.clear();
    nps.clear();
    ces.clear();
    contacts.clear();
    opens.clear();
    resolves.clear();
    bad.clear();
    opt_outs.clear();
    complaints.clear();
    purchases.clear();
    for (auto& s : journey_steps) s.clear();
    journeys.clear();
    responses.clear();
    actions.clear();
  }
};

bool ValidNps(double v) {
  return std::isfinite(v) && v >= 0 && v <= 10 && std::fabs(v - std::round(v)) < 1e-9;
}

// Records grouped by customer (stable: time order within a customer is
// kept, and restored by sorting when the input was not in time order).
template <typename T, typename CustomerOf, typename Less>
void GroupByCustomer(std::span<const T> in, size_t customers, CustomerOf customer_of, Less less,
                     std::vector<T>* out, std::vector<uint32_t>* offsets) {
  offsets->assign(customers + 1, 0);
  for (const T& r : in) ++(*offsets)[customer_of(r) + 1];
  for (size_t c = 0; c < customers; ++c) (*offsets)[c + 1] += (*offsets)[c];
  std::vector<uint32_t> next(offsets->begin(), offsets->end() - 1);
  out->resize(in.size());
  for (const T& r : in) (*out)[next[customer_of(r)]++] = r;
  for (size_t c = 0; c < customers; ++c) {
    auto b = out->begin() + (*offsets)[c], e = out->begin() + (*offsets)[c + 1];
    if (!std::is_sorted(b, e, less)) std::sort(b, e, less);
  }
}

nlohmann::json Num(double v) {
  return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
}

Micros DayFloor(Micros t) {
  Micros d = t / kMicrosPerDay;
  if (t < 0 && d * kMicrosPerDay != t) --d;
  return d * kMicrosPerDay;
}

Micros MonthStart(Micros t) {
  int64_t y;
  unsigned m, d;
  CivilFromDays(DayFloor(t) / kMicrosPerDay, &y, &m, &d);
  return DaysFromCivil(y, m, 1) * kMicrosPerDay;
}

struct Window {
  Micros from = 0, to = 0;
  bool Has(Micros t) const { return t >= from && t < to; }
  double Days() const {
    return static_cast<double>(to - from) / static_cast<double>(kMicrosPerDay);
  }
};

// ---- the computation ----

class ScorecardComputer {
 public:
  ScorecardComputer(const ScorecardInput& input, const Policy& policy,
                    const ScorecardOptions& options)
      : in_(input), policy_(policy), options_(options) {}

  absl::StatusOr<nlohmann::json> Run();

 private:
  struct Result {
    size_t grouping = 0;
    int arm = 0;
    int metric = 0;
    int dim = 0;
    size_t value = 0;
    Comparison c;
    bool cuped = false;
    Comparison unadjusted;
    double theta = kNaN;
    double variance_reduction = kNaN;
    double p_adjusted = kNaN;
    bool called = false;
    std::string_view verdict;
  };
  struct InterventionQuality {
    uint64_t exposed[2] = {0, 0};  // first exposures in the window, [holdout, treatment]
    uint64_t known[2] = {0, 0};    // whose 7 days have passed or had the bad outcome
    uint64_t bad[2] = {0, 0};
    uint64_t actions = 0, accepted = 0, dismissed = 0;  // treatment, in the window
  };
  struct SegmentAudit {
    uint64_t customers = 0, with_action = 0, actions = 0, dismissed = 0, complaints = 0,
             opt_outs = 0;
  };

  absl::Status Validate() const;
  void ResolveWindows();
  void BuildGroupings();
  void ParseCustomer(uint32_t c);
  void CollectWindow(const Window& w, Totals* t, bool with_dims);
  void AddItem(Totals* t, bool with_dims, int metric, double y, double x, uint16_t channel,
               uint16_t case_type, uint8_t hour);
  void AddToGrouping(Grouping& g, int arm, uint16_t segment, const Totals& t, const Totals& pre);
  void ProcessCustomer(uint32_t c);
  absl::Status ComputeResults();
  absl::StatusOr<Result> Compare(const Cell& control, const Cell& treatment, int metric,
                                 bool zero_block, uint64_t zeros_control,
                                 uint64_t zeros_treatment) const;
  void Finish(Result* r) const;
  absl::Status AdjustFamilies();

  nlohmann::json ResultJson(const Result& r, bool with_method) const;
  nlohmann::json ComparisonsJson() const;
  nlohmann::json SrmJson(nlohmann::json* warnings) const;
  nlohmann::json SignalQualityJson() const;
  nlohmann::json BiasAuditJson(nlohmann::json* warnings) const;
  nlohmann::json TargetsJson() const;
  nlohmann::json SeriesJson() const;
  nlohmann::json BaselineJson(nlohmann::json* warnings) const;
  nlohmann::json MetricsCatalogJson() const;
  nlohmann::json HeadlineJson(std::span<const M> metrics) const;
  std::string_view DimValueName(int dim, size_t value, std::string* buffer) const;
  const Result* FindResult(size_t grouping, int arm, int metric, int dim, size_t value) const;

  const ScorecardInput& in_;
  const Policy& policy_;
  const ScorecardOptions& options_;
  CompareOptions compare_;

  size_t customers_ = 0;
  std::vector<std::string> segments_;  // the input's, plus "default"
  uint16_t default_segment_ = 0;
  std::array<bool, kMetricCount> enabled_{};
  std::array<bool, 16> kind_present_{};

  Micros data_start_ = 0, data_end_ = 0, as_of_ = 0;
  Window window_, pre_;
  Micros series_start_ = 0;
  int series_weeks_ = 1;

  // Grouped records.
  std::vector<ScorecardEvent> events_;
  std::vector<uint32_t> event_offsets_;
  std::vector<ScorecardAction> actions_;
  std::vector<uint32_t> action_offsets_;
  std::vector<ScorecardExposure> exposures_;
  std::vector<uint32_t> exposure_offsets_;
  std::vector<ScorecardActivity> activity_;
  std::vector<uint32_t> activity_offsets_;

  std::vector<uint8_t> holdout_;               // by customer
  std::vector<std::vector<uint8_t>> variant_;  // by experiment, by customer
  std::vector<bool> intervention_in_window_;   // has exposures in the window

  Layout layout_;
  std::vector<Grouping> groupings_;
  size_t cohort_ = 0;                           // index of the cohort grouping
  std::vector<int> triggered_of_intervention_;  // grouping index or -1
  std::vector<int> triggered_of_experiment_;    // grouping index or -1

  // Scratch for the current customer.
  CustomerScratch s_;
  std::array<DimScratch, kDimCount> dims_;
  Totals window_totals_, pre_totals_;
  std::vector<Micros> first_exposure_;  // by intervention, kNever when none in the window
  std::vector<int8_t> arm_of_;          // by grouping

  // Baseline, series, signal quality, bias audit.
  std::vector<Cell> baseline_;  // [arm][metric]
  struct SeriesPoint {
    double y = 0, x = 0;
  };
  static constexpr M kSeriesMetrics[] = {M::kCsat, M::kNps, M::kFcr, M::kLtv};
  std::vector<SeriesPoint> series_;     // [arm][week][series metric]
  std::vector<NpsSummary> series_nps_;  // [arm][week]
  std::vector<InterventionQuality> quality_;
  std::vector<SegmentAudit> audit_;
  uint64_t assignment_mismatches_ = 0;
  uint64_t active_customers_ = 0;

  std::vector<Result> results_;
  // (grouping, arm, family) -> method text
  std::vector<std::array<std::string, 2>> adjustment_text_;  // by grouping * arms
};

absl::Status ScorecardComputer::Validate() const {
  if (!(options_.confidence > 0 && options_.confidence < 1)) {
    return absl::InvalidArgumentError(
        fmt::format("confidence {} is outside (0, 1)", options_.confidence));
  }
  if (options_.series_weeks < 1 || options_.series_weeks > 52) {
    return absl::InvalidArgumentError(
        fmt::format("series_weeks {} is outside 1..52", options_.series_weeks));
  }
  if (!(options_.disparity_low > 0 && options_.disparity_low < 1 && options_.disparity_high > 1)) {
    return absl::InvalidArgumentError(
        "the disparity band must be low < 1 < high, e.g. 0.8 and 1.25");
  }
  const size_t n = in_.customer_ids.size();
  if (n > std::numeric_limits<uint32_t>::max())
    return absl::InvalidArgumentError("too many customers");
  if (in_.customer_segments.size() > n) {
    return absl::InvalidArgumentError("customer_segments has more entries than customer_ids");
  }
  for (size_t c = 0; c < in_.customer_segments.size(); ++c) {
    const uint16_t s = in_.customer_segments[c];
    if (s != kNoLabel && s >= in_.segments.size()) {
      return absl::InvalidArgumentError(
          fmt::format("customer {} has segment {} of {}", c, s, in_.segments.size()));
    }
  }
  auto label_ok = [](uint16_t v, size_t size) { return v == kNoLabel || v < size; };
  for (size_t i = 0; i < in_.events.size(); ++i) {
    const ScorecardEvent& e = in_.events[i];
    if (e.customer >= n || e.kind > kJourneyEndKind || !label_ok(e.channel, in_.channels.size()) ||
        !label_ok(e.case_type, in_.case_types.size()) ||
        (e.local_hour != kUnknownHour && e.local_hour > 23) ||
        (e.kind >= kJourneyStartKind && e.journey >= in_.journeys.size())) {
      return absl::InvalidArgumentError(
          fmt::format("event {}: a customer, kind, label, hour or journey index "
                      "is out of range",
                      i));
    }
  }
  const size_t interventions = policy_.interventions.size();
  for (size_t i = 0; i < in_.actions.size(); ++i) {
    const ScorecardAction& a = in_.actions[i];
    if (a.customer >= n || a.intervention >= interventions ||
        !label_ok(a.channel, in_.channels.size()) || !label_ok(a.segment, in_.segments.size())) {
      return absl::InvalidArgumentError(
          fmt::format("action {}: a customer, intervention or label index is out "
                      "of range",
                      i));
    }
  }
  for (size_t i = 0; i < in_.exposures.size(); ++i) {
    const ScorecardExposure& x = in_.exposures[i];
    if (x.customer >= n || x.intervention >= interventions ||
        !label_ok(x.segment, in_.segments.size())) {
      return absl::InvalidArgumentError(
          fmt::format("exposure {}: a customer, intervention or segment index is "
                      "out of range",
                      i));
    }
  }
  for (size_t i = 0; i < in_.activity.size(); ++i) {
    if (in_.activity[i].customer >= n) {
      return absl::InvalidArgumentError(fmt::format("activity {}: customer out of range", i));
    }
  }
  if (options_.from && options_.to && *options_.from >= *options_.to) {
    return absl::InvalidArgumentError(fmt::format("the range is empty: from {} is not before to {}",
                                                  FormatTimestamp(*options_.from),
                                                  FormatTimestamp(*options_.to)));
  }
  return absl::OkStatus();
}

void ScorecardComputer::ResolveWindows() {
  bool any = false;
  Micros lo = std::numeric_limits<Micros>::max(), hi = std::numeric_limits<Micros>::min();
  auto see = [&](Micros t) {
    any = true;
    lo = std::min(lo, t);
    hi = std::max(hi, t);
  };
  for (const ScorecardEvent& e : in_.events) see(e.at);
  for (const ScorecardAction& a : in_.actions) see(a.at);
  for (const ScorecardExposure& x : in_.exposures) see(x.at);
  for (const ScorecardActivity& a : in_.activity) see(static_cast<Micros>(a.hour) * kMicrosPerHour);
  if (!any) lo = hi = options_.as_of.value_or(options_.to.value_or(0));
  data_start_ = lo;
  data_end_ = hi;
  as_of_ = options_.as_of.value_or(data_end_);

  window_.to = options_.to.value_or(DayFloor(as_of_) + kMicrosPerDay);
  if (options_.from) {
    window_.from = *options_.from;
  } else {
    switch (options_.window) {
      case ScorecardWindow::kTwoWeeks:
        window_.from = window_.to - 14 * kMicrosPerDay;
        break;
      case ScorecardWindow::kMonth:
        window_.from = MonthStart(window_.to - 1);
        break;
      case ScorecardWindow::kAll:
        window_.from = DayFloor(data_start_);
        break;
    }
  }
  if (window_.from >= window_.to) window_.from = window_.to - kMicrosPerDay;
  pre_.to = window_.from;
  pre_.from = window_.from - (window_.to - window_.from);

  const Micros first_day = DayFloor(data_start_);
  int weeks = options_.series_weeks;
  if (first_day < window_.to) {
    const Micros span = window_.to - first_day;
    weeks = static_cast<int>(std::min<Micros>(weeks, (span + kWeek - 1) / kWeek));
  }
  series_weeks_ = std::max(1, weeks);
  series_start_ = window_.to - series_weeks_ * kWeek;
}

void ScorecardComputer::BuildGroupings() {
  const size_t segments = segments_.size();
  layout_.size = {1, segments, in_.channels.size(), in_.case_types.size(), 24};
  size_t offset = 0;
  for (int d = 0; d < kDimCount; ++d) {
    layout_.offset[d] = offset;
    offset += layout_.size[d];
  }
  layout_.values = offset;

  auto add = [&](Grouping g) {
    g.customers.assign(g.arms.size(), 0);
    g.cells.resize(g.arms.size() * kMetricCount * layout_.values);
    groupings_.push_back(std::move(g));
    return static_cast<int>(groupings_.size() - 1);
  };
  const double h = policy_.holdout.share;
  {
    Grouping g;
    g.kind = Grouping::Kind::kCohort;
    g.id_prefix = "cohort";
    g.label = "Treatment vs holdout";
    g.population = "every customer active in the window";
    g.arms = {"holdout", "treatment"};
    g.shares = {h, 1 - h};
    g.breakdowns = true;
    g.against_holdout = true;
    cohort_ = static_cast<size_t>(add(std::move(g)));
  }
  triggered_of_experiment_.assign(policy_.experiments.size(), -1);
  for (size_t e = 0; e < policy_.experiments.size(); ++e) {
    const ExperimentSpec& spec = policy_.experiments[e];
    if (spec.variants.size() < 2) continue;
    Grouping g;
    g.kind = Grouping::Kind::kExperiment;
    g.id_prefix = "experiment:" + spec.name;
    g.label = "Experiment " + spec.name;
    g.population = "treatment customers active in the window, by assigned variant";
    g.experiment = static_cast<int>(e);
    g.intervention = spec.intervention;
    for (const VariantSpec& v : spec.variants) {
      g.arms.push_back(v.name);
      g.shares.push_back(v.share);
    }
    g.breakdowns = true;
    add(std::move(g));
  }
  triggered_of_intervention_.assign(policy_.interventions.size(), -1);
  for (size_t i = 0; i < policy_.interventions.size(); ++i) {
    if (!intervention_in_window_[i]) continue;
    Grouping g;
    g.kind = Grouping::Kind::kTriggered;
    g.id_prefix = "triggered:" + policy_.interventions[i].name;
    g.label = "Triggered: " + policy_.interventions[i].name;
    g.population = "customers who first met " + policy_.interventions[i].name +
                   "'s condition in the window, treatment vs holdout";
    g.intervention = static_cast<int>(i);
    g.arms = {"holdout", "treatment"};
    g.shares = {h, 1 - h};
    g.against_holdout = true;
    triggered_of_intervention_[i] = add(std::move(g));
  }
  for (size_t e = 0; e < policy_.experiments.size(); ++e) {
    const ExperimentSpec& spec = policy_.experiments[e];
    if (spec.variants.size() < 2 || spec.intervention < 0 ||
        static_cast<size_t>(spec.intervention) >= policy_.interventions.size() ||
        !intervention_in_window_[spec.intervention]) {
      continue;
    }
    // A variant that moves the threshold changes who meets the condition, so
    // the exposed customers of two variants are not comparable groups.
    const bool moves_condition =
        std::any_of(spec.variants.begin(), spec.variants.end(),
                    [](const VariantSpec& v) { return !v.threshold.empty(); });
    if (moves_condition) continue;
    Grouping g;
    g.kind = Grouping::Kind::kTriggeredExperiment;
    g.id_prefix = "triggered_experiment:" + spec.name;
    g.label = "Triggered experiment " + spec.name;
    g.population = "treatment customers who first met " +
                   policy_.interventions[spec.intervention].name +
                   "'s condition in the window, by variant";
    g.experiment = static_cast<int>(e);
    g.intervention = spec.intervention;
    for (const VariantSpec& v : spec.variants) {
      g.arms.push_back(v.name);
      g.shares.push_back(v.share);
    }
    triggered_of_experiment_[e] = add(std::move(g));
  }
  arm_of_.assign(groupings_.size(), -1);
}

void ScorecardComputer::ParseCustomer(uint32_t c) {
  s_.Clear();
  for (uint32_t i = event_offsets_[c]; i < event_offsets_[c + 1]; ++i) {
    const ScorecardEvent& e = events_[i];
    if (e.kind >= kJourneyStartKind) {
      s_.journey_steps[e.journey].push_back({e.at, e.kind == kJourneyStartKind});
      continue;
    }
    switch (static_cast<OutcomeRole>(e.kind)) {
      case OutcomeRole::kContactOpened:
        s_.contacts.push_back({e.at, e.channel, e.case_type, e.local_hour});
        s_.opens.push_back(e.at);
        s_.bad.push_back(e.at);
        break;
      case OutcomeRole::kContactResolved:
        s_.resolves.push_back(e.at);
        break;
      case OutcomeRole::kCsat:
        if (std::isfinite(e.value) && e.value >= 1 && e.value <= 5) {
          s_.csat.push_back({e.at, e.value, e.channel, e.case_type, e.local_hour});
        }
        break;
      case OutcomeRole::kNps:
        if (ValidNps(e.value))
          s_.nps.push_back({e.at, std::round(e.value), e.channel, e.case_type, e.local_hour});
        break;
      case OutcomeRole::kCes:
        if (std::isfinite(e.value))
          s_.ces.push_back({e.at, e.value, e.channel, e.case_type, e.local_hour});
        break;
      case OutcomeRole::kPurchase:
        s_.purchases.push_back({e.at, std::isfinite(e.value) ? e.value : 0.0});
        break;
      case OutcomeRole::kAccepted:
        s_.responses.push_back({e.at, true});
        break;
      case OutcomeRole::kDismissed:
        s_.responses.push_back({e.at, false});
        break;
      case OutcomeRole::kOptOut:
        s_.opt_outs.push_back(e.at);
        break;
      case OutcomeRole::kComplaint:
        s_.complaints.push_back(e.at);
        s_.bad.push_back(e.at);
        break;
      default:
        break;  // incidents and snoozes are not scorecard metrics
    }
  }
  // opens and complaints are each in time order; their union must be too.
  std::sort(s_.bad.begin(), s_.bad.end());
  EvaluateContacts(s_.opens, s_.resolves, as_of_, &s_.fates);
  for (size_t j = 0; j < s_.journey_steps.size(); ++j) {
    EvaluateJourneys(s_.journey_steps[j], in_.journeys[j].within, as_of_, &s_.journey_fates);
    s_.journeys.insert(s_.journeys.end(), s_.journey_fates.begin(), s_.journey_fates.end());
  }

  for (uint32_t i = action_offsets_[c]; i < action_offsets_[c + 1]; ++i) {
    const ScorecardAction& a = actions_[i];
    s_.actions.push_back({a.at, a.intervention, a.channel, a.kind != ScorecardActionKind::kReview});
  }
  // Each response goes to the latest contact strictly before it, within 7
  // days (an action at the same instant may have been decided on the
  // response itself).
  size_t next = 0;
  int latest = -1;
  for (const Response& r : s_.responses) {
    while (next < s_.actions.size() && s_.actions[next].at < r.at) {
      if (s_.actions[next].contact) latest = static_cast<int>(next);
      ++next;
    }
    if (latest < 0 || r.at - s_.actions[latest].at > kResponseAttributionWindow) continue;
    (r.accepted ? s_.actions[latest].accepted : s_.actions[latest].dismissed) = true;
  }
}

void ScorecardComputer::AddItem(Totals* t, bool with_dims, int metric, double y, double x,
                                uint16_t channel, uint16_t case_type, uint8_t hour) {
  t->y[metric] += y;
  t->x[metric] += x;
  if (!with_dims) return;
  if (channel != kNoLabel) {
    Totals& d = dims_[kChannel].Touch(channel);
    d.y[metric] += y;
    d.x[metric] += x;
  }
  if (case_type != kNoLabel) {
    Totals& d = dims_[kCaseType].Touch(case_type);
    d.y[metric] += y;
    d.x[metric] += x;
  }
  if (hour != kUnknownHour) {
    Totals& d = dims_[kHour].Touch(hour);
    d.y[metric] += y;
    d.x[metric] += x;
  }
}

void ScorecardComputer::CollectWindow(const Window& w, Totals* t, bool with_dims) {
  t->Clear();
  for (const Rating& r : s_.csat) {
    if (!w.Has(r.at)) continue;
    AddItem(t, with_dims, Idx(M::kCsat), r.score >= 4 ? 1 : 0, 1, r.channel, r.case_type, r.hour);
    AddItem(t, with_dims, Idx(M::kCsatMean), r.score, 1, r.channel, r.case_type, r.hour);
  }
  for (const Rating& r : s_.nps) {  // time order: the last one wins
    if (!w.Has(r.at)) continue;
    const int v = static_cast<int>(r.score);
    t->nps = v;
    if (!with_dims) continue;
    if (r.channel != kNoLabel) dims_[kChannel].Touch(r.channel).nps = v;
    if (r.case_type != kNoLabel) dims_[kCaseType].Touch(r.case_type).nps = v;
    if (r.hour != kUnknownHour) dims_[kHour].Touch(r.hour).nps = v;
  }
  for (const Rating& r : s_.ces) {
    if (w.Has(r.at))
      AddItem(t, with_dims, Idx(M::kCes), r.score, 1, r.channel, r.case_type, r.hour);
  }
  for (size_t i = 0; i < s_.contacts.size(); ++i) {
    const Contact& k = s_.contacts[i];
    if (!w.Has(k.at)) continue;
    const ContactFate& f = s_.fates[i];
    AddItem(t, with_dims, Idx(M::kContactsPerCustomer), 1, 0, k.channel, k.case_type, k.hour);
    if (f.fcr != Fate::kPending) {
      AddItem(t, with_dims, Idx(M::kFcr), f.fcr == Fate::kYes, 1, k.channel, k.case_type, k.hour);
    }
    if (f.recontact_7d != Fate::kPending) {
      AddItem(t, with_dims, Idx(M::kRecontact7d), f.recontact_7d == Fate::kYes, 1, k.channel,
              k.case_type, k.hour);
    }
    if (f.recontact_14d != Fate::kPending) {
      AddItem(t, with_dims, Idx(M::kRecontact14d), f.recontact_14d == Fate::kYes, 1, k.channel,
              k.case_type, k.hour);
    }
    if (f.resolved_at != kNever) {
      AddItem(t, with_dims, Idx(M::kTimeToResolve),
              static_cast<double>(f.resolved_at - k.at) / static_cast<double>(kMicrosPerHour), 1,
              k.channel, k.case_type, k.hour);
    }
  }
  for (const Purchase& p : s_.purchases) {
    if (w.Has(p.at)) t->y[Idx(M::kLtv)] += p.revenue;
  }
  for (const JourneyFate& j : s_.journeys) {
    if (!w.Has(j.started_at) || j.abandoned == Fate::kPending) continue;
    t->y[Idx(M::kDropOff)] += j.abandoned == Fate::kYes;
    t->x[Idx(M::kDropOff)] += 1;
  }
  for (Micros at : s_.opt_outs) {
    if (w.Has(at)) t->y[Idx(M::kOptOut)] = 1;
  }
  for (Micros at : s_.complaints) {
    if (w.Has(at)) t->y[Idx(M::kComplaint)] = 1;
  }
  for (const ActionView& a : s_.actions) {
    if (!a.contact || !w.Has(a.at)) continue;
    AddItem(t, with_dims, Idx(M::kAcceptance), a.accepted, 1, a.channel, kNoLabel, kUnknownHour);
    AddItem(t, with_dims, Idx(M::kDismissal), a.dismissed, 1, a.channel, kNoLabel, kUnknownHour);
    AddItem(t, with_dims, Idx(M::kFatigue), 1, 0, a.channel, kNoLabel, kUnknownHour);
  }

  // Per-customer metrics: every active customer counts once; fatigue only
  // the contacted ones, as actions per day.
  const double days = w.Days();
  auto per_customer = [&](Totals* x) {
    x->x[Idx(M::kContactsPerCustomer)] = 1;
    x->x[Idx(M::kLtv)] = 1;
    x->x[Idx(M::kOptOut)] = 1;
    x->x[Idx(M::kComplaint)] = 1;
  };
  auto fatigue = [&](Totals* x) {
    double& y = x->y[Idx(M::kFatigue)];
    if (y > 0) {
      y /= days;
      x->x[Idx(M::kFatigue)] = 1;
    }
  };
  per_customer(t);
  fatigue(t);
  if (!with_dims) return;
  for (Dim d : kItemDims) {
    for (uint16_t v : dims_[d].touched) {
      Totals& x = dims_[d].totals[v];
      if (x.y[Idx(M::kContactsPerCustomer)] > 0) x.x[Idx(M::kContactsPerCustomer)] = 1;
      fatigue(&x);
    }
  }
}

void ScorecardComputer::AddToGrouping(Grouping& g, int arm, uint16_t segment, const Totals& t,
                                      const Totals& pre) {
  ++g.customers[arm];
  auto add = [&](int dim, size_t value, const Totals& x, bool cuped) {
    for (int m = 0; m < kMetricCount; ++m) {
      if (!enabled_[m]) continue;
      Cell& cell = g.cells[layout_.Index(arm, m, dim, value)];
      if (m == Idx(M::kNps)) {
        if (x.nps >= 0) cell.nps.AddRating(x.nps).IgnoreError();  // 0..10 by construction
        continue;
      }
      if (!(x.x[m] > 0)) continue;
      cell.Add(x.y[m], x.x[m]);
      if (cuped && UsesCuped(m)) cell.cuped.Add(x.y[m], pre.y[m]);
    }
  };
  add(kOverall, 0, t, true);
  add(kSegment, segment, t, true);
  if (!g.breakdowns) return;
  for (Dim d : kItemDims) {
    for (uint16_t v : dims_[d].touched) add(d, v, dims_[d].totals[v], false);
  }
}

void ScorecardComputer::ProcessCustomer(uint32_t c) {
  // Activity: in the window, and by week for the series.
  bool active = false;
  uint64_t weeks = 0;
  auto see = [&](Micros t) {
    if (window_.Has(t)) active = true;
    if (t >= series_start_ && t < window_.to) weeks |= uint64_t{1} << ((t - series_start_) / kWeek);
  };
  for (uint32_t i = event_offsets_[c]; i < event_offsets_[c + 1]; ++i) see(events_[i].at);
  for (uint32_t i = activity_offsets_[c]; i < activity_offsets_[c + 1]; ++i) {
    see(static_cast<Micros>(activity_[i].hour) * kMicrosPerHour);
  }
  for (uint32_t i = action_offsets_[c]; i < action_offsets_[c + 1]; ++i) see(actions_[i].at);
  for (uint32_t i = exposure_offsets_[c]; i < exposure_offsets_[c + 1]; ++i) see(exposures_[i].at);
  if (!active && weeks == 0) return;

  const bool holdout = holdout_[c];
  const int cohort_arm = holdout ? 0 : 1;
  ParseCustomer(c);

  // Series: weekly values by cohort, over every customer active that week.
  {
    const size_t base = static_cast<size_t>(cohort_arm) * series_weeks_;
    auto week_of = [&](Micros t) -> int {
      return t >= series_start_ && t < window_.to ? static_cast<int>((t - series_start_) / kWeek)
                                                  : -1;
    };
    auto point = [&](int week, int metric_slot) -> SeriesPoint& {
      return series_[(base + week) * std::size(kSeriesMetrics) + metric_slot];
    };
    for (const Rating& r : s_.csat) {
      if (int w = week_of(r.at); w >= 0) {
        point(w, 0).y += r.score >= 4;
        point(w, 0).x += 1;
      }
    }
    int last_week = -1, last_answer = -1;
    for (const Rating& r : s_.nps) {
      const int w = week_of(r.at);
      if (w != last_week && last_week >= 0)
        series_nps_[base + last_week].AddRating(last_answer).IgnoreError();
      last_week = w;
      last_answer = static_cast<int>(r.score);
    }
    if (last_week >= 0) series_nps_[base + last_week].AddRating(last_answer).IgnoreError();
    for (size_t i = 0; i < s_.contacts.size(); ++i) {
      const int w = week_of(s_.contacts[i].at);
      if (w < 0 || s_.fates[i].fcr == Fate::kPending) continue;
      point(w, 2).y += s_.fates[i].fcr == Fate::kYes;
      point(w, 2).x += 1;
    }
    for (const Purchase& p : s_.purchases) {
      if (int w = week_of(p.at); w >= 0) point(w, 3).y += p.revenue;
    }
    for (int w = 0; w < series_weeks_; ++w) {
      if (weeks >> w & 1) point(w, 3).x += 1;
    }
  }
  if (!active) return;

  ++active_customers_;
  const uint16_t segment = c < in_.customer_segments.size() && in_.customer_segments[c] != kNoLabel
                               ? in_.customer_segments[c]
                               : default_segment_;
  CollectWindow(pre_, &pre_totals_, false);
  CollectWindow(window_, &window_totals_, true);

  // Exposures: the first in the window per intervention.
  std::fill(first_exposure_.begin(), first_exposure_.end(), kNever);
  for (uint32_t i = exposure_offsets_[c]; i < exposure_offsets_[c + 1]; ++i) {
    const ScorecardExposure& x = exposures_[i];
    if (x.holdout != holdout) ++assignment_mismatches_;
    if (window_.Has(x.at) && first_exposure_[x.intervention] == kNever)
      first_exposure_[x.intervention] = x.at;
  }
  for (uint32_t i = action_offsets_[c]; i < action_offsets_[c + 1]; ++i) {
    if (actions_[i].holdout != holdout) ++assignment_mismatches_;
  }

  // Arms.
  std::fill(arm_of_.begin(), arm_of_.end(), -1);
  arm_of_[cohort_] = static_cast<int8_t>(cohort_arm);
  for (size_t g = 0; g < groupings_.size(); ++g) {
    const Grouping& grouping = groupings_[g];
    switch (grouping.kind) {
      case Grouping::Kind::kCohort:
        break;
      case Grouping::Kind::kExperiment:
        if (!holdout) arm_of_[g] = static_cast<int8_t>(variant_[grouping.experiment][c]);
        break;
      case Grouping::Kind::kTriggered:
        if (first_exposure_[grouping.intervention] != kNever)
          arm_of_[g] = static_cast<int8_t>(cohort_arm);
        break;
      case Grouping::Kind::kTriggeredExperiment:
        if (!holdout && first_exposure_[grouping.intervention] != kNever) {
          arm_of_[g] = static_cast<int8_t>(variant_[grouping.experiment][c]);
        }
        break;
    }
  }
  for (size_t g = 0; g < groupings_.size(); ++g) {
    if (arm_of_[g] >= 0)
      AddToGrouping(groupings_[g], arm_of_[g], segment, window_totals_, pre_totals_);
  }
  for (Dim d : kItemDims) dims_[d].Reset();

  // Baseline: the same customers in the pre-period.
  for (int m = 0; m < kMetricCount; ++m) {
    if (!enabled_[m]) continue;
    Cell& cell = baseline_[static_cast<size_t>(cohort_arm) * kMetricCount + m];
    if (m == Idx(M::kNps)) {
      if (pre_totals_.nps >= 0) cell.nps.AddRating(pre_totals_.nps).IgnoreError();
    } else if (pre_totals_.x[m] > 0) {
      cell.Add(pre_totals_.y[m], pre_totals_.x[m]);
    }
  }

  // Signal quality: did the bad outcome follow each first exposure?
  for (size_t i = 0; i < first_exposure_.size(); ++i) {
    const Micros t = first_exposure_[i];
    if (t == kNever) continue;
    InterventionQuality& q = quality_[i];
    ++q.exposed[cohort_arm];
    auto it = std::upper_bound(s_.bad.begin(), s_.bad.end(), t);
    if (it != s_.bad.end() && *it - t <= kBadOutcomeWindow) {
      ++q.known[cohort_arm];
      ++q.bad[cohort_arm];
    } else if (t + kBadOutcomeWindow <= as_of_) {
      ++q.known[cohort_arm];
    }
  }
  bool any_action = false;
  SegmentAudit& audit = audit_[segment];
  for (const ActionView& a : s_.actions) {
    if (!window_.Has(a.at)) continue;
    any_action = true;
    if (holdout || !a.contact) continue;
    InterventionQuality& q = quality_[a.intervention];
    ++q.actions;
    q.accepted += a.accepted;
    q.dismissed += a.dismissed;
    ++audit.actions;
    audit.dismissed += a.dismissed;
  }
  ++audit.customers;
  audit.with_action += any_action;
  audit.complaints += window_totals_.y[Idx(M::kComplaint)] > 0;
  audit.opt_outs += window_totals_.y[Idx(M::kOptOut)] > 0;
}

absl::StatusOr<ScorecardComputer::Result> ScorecardComputer::Compare(
    const Cell& control, const Cell& treatment, int metric, bool zero_block, uint64_t zeros_control,
    uint64_t zeros_treatment) const {
  Result r;
  const MetricInfo& info = AllMetricInfos()[metric];
  if (metric == Idx(M::kNps)) {
    UPFRONT_ASSIGN_OR_RETURN(r.c, CompareNps(control.nps, treatment.nps, compare_));
    return r;
  }
  CovarianceSummary a = control.yx, b = treatment.yx;
  if (zero_block) {
    // Customers without an item of this breakdown value count with 0.
    a.Merge(CovarianceSummary::FromMoments(zeros_control, 0, 1, 0, 0, 0));
    b.Merge(CovarianceSummary::FromMoments(zeros_treatment, 0, 1, 0, 0, 0));
  }
  if (IsCustomerProportion(metric)) {
    auto prop = [](const CovarianceSummary& s) {
      ProportionSummary p;
      p.n = s.count();
      p.successes =
          static_cast<uint64_t>(std::llround(s.mean_y() * static_cast<double>(s.count())));
      p.successes = std::min(p.successes, p.n);
      return p;
    };
    UPFRONT_ASSIGN_OR_RETURN(r.c, CompareProportions(prop(a), prop(b), compare_));
    return r;
  }
  if (info.ratio) {
    // The delta method: the ratio R = sum y / sum x over customers has
    // variance ~ Var(y - R x) / (n mean_x^2), so a summary with mean R and
    // the moments of the linearised values (y - R x) / mean_x gives Welch
    // the right standard error with the customer as the unit.
    auto linearised = [](const CovarianceSummary& s) {
      if (s.count() == 0 || !(s.mean_x() > 0)) return MeanSummary::FromMoments(s.count(), 0, 0);
      const double ratio = s.mean_y() / s.mean_x();
      const double m2 = (s.m2_y() - 2 * ratio * s.comoment() + ratio * ratio * s.m2_x()) /
                        (s.mean_x() * s.mean_x());
      return MeanSummary::FromMoments(s.count(), ratio, std::max(0.0, m2));
    };
    UPFRONT_ASSIGN_OR_RETURN(r.c, CompareMeans(linearised(a), linearised(b), compare_));
    r.c.method = "delta method on per-customer sums, " + r.c.method;
    return r;
  }
  auto mean = [](const CovarianceSummary& s) {
    return MeanSummary::FromMoments(s.count(), s.mean_y(), s.m2_y());
  };
  UPFRONT_ASSIGN_OR_RETURN(r.c, CompareMeans(mean(a), mean(b), compare_));
  if (!zero_block && UsesCuped(metric)) {
    const bool has_pre = control.cuped.m2_x() > 0 || treatment.cuped.m2_x() > 0 ||
                         control.cuped.mean_x() != 0 || treatment.cuped.mean_x() != 0;
    if (has_pre && control.cuped.count() > 1 && treatment.cuped.count() > 1) {
      UPFRONT_ASSIGN_OR_RETURN(CupedComparison cuped,
                               CupedAdjust(control.cuped, treatment.cuped, compare_));
      r.cuped = true;
      r.unadjusted = r.c;
      r.c = cuped.adjusted;
      // Arm values as observed; the difference, interval and p-value adjusted.
      r.c.control = r.unadjusted.control;
      r.c.treatment = r.unadjusted.treatment;
      r.c.relative_lift = r.c.control != 0 ? r.c.difference / r.c.control : kNaN;
      r.theta = cuped.theta;
      r.variance_reduction = cuped.variance_reduction;
    }
  }
  return r;
}

void ScorecardComputer::Finish(Result* r) const {
  const MetricInfo& info = AllMetricInfos()[r->metric];
  const double alpha = 1 - options_.confidence;
  const double p = std::isnan(r->p_adjusted) ? r->c.p_value : r->p_adjusted;
  r->called = r->c.enough_data && p < alpha;
  if (!r->c.enough_data) {
    r->verdict = "not_enough_data";
  } else if (!r->called) {
    r->verdict = "no_clear_difference";
  } else {
    r->verdict = (r->c.difference > 0) == info.higher_is_better ? "better" : "worse";
  }
}

absl::Status ScorecardComputer::ComputeResults() {
  for (size_t gi = 0; gi < groupings_.size(); ++gi) {
    const Grouping& g = groupings_[gi];
    // Without a holdout there is nothing to compare the treatment with.
    if (g.against_holdout && !(policy_.holdout.share > 0)) continue;
    for (int arm = 1; arm < static_cast<int>(g.arms.size()); ++arm) {
      for (int m = 0; m < kMetricCount; ++m) {
        if (!enabled_[m]) continue;
        if (g.against_holdout && AllMetricInfos()[m].treatment_only) continue;
        for (int d = 0; d < kDimCount; ++d) {
          if (d >= kChannel && !g.breakdowns) continue;
          for (size_t v = 0; v < layout_.size[d]; ++v) {
            const Cell& control = g.cells[layout_.Index(0, m, d, v)];
            const Cell& treatment = g.cells[layout_.Index(arm, m, d, v)];
            if (control.N(m) == 0 && treatment.N(m) == 0) continue;
            const bool zero_block = d >= kChannel && m == Idx(M::kContactsPerCustomer);
            const uint64_t zc = zero_block ? g.customers[0] - control.yx.count() : 0;
            const uint64_t zt = zero_block ? g.customers[arm] - treatment.yx.count() : 0;
            UPFRONT_ASSIGN_OR_RETURN(Result r, Compare(control, treatment, m, zero_block, zc, zt));
            r.grouping = gi;
            r.arm = arm;
            r.metric = m;
            r.dim = d;
            r.value = v;
            results_.push_back(std::move(r));
          }
        }
      }
    }
  }
  return AdjustFamilies();
}

absl::Status ScorecardComputer::AdjustFamilies() {
  // Two families per comparison: the metrics overall and by segment (the
  // ones a reader is shown first), and the finer breakdowns.
  size_t arms_total = 0;
  std::vector<size_t> arm_base(groupings_.size());
  for (size_t g = 0; g < groupings_.size(); ++g) {
    arm_base[g] = arms_total;
    arms_total += groupings_[g].arms.size();
  }
  adjustment_text_.assign(arms_total, {});
  std::vector<std::vector<size_t>> members(arms_total * 2);
  for (size_t i = 0; i < results_.size(); ++i) {
    const Result& r = results_[i];
    const int family = r.dim <= kSegment ? 0 : 1;
    members[(arm_base[r.grouping] + r.arm) * 2 + family].push_back(i);
  }
  std::vector<double> p;
  for (size_t f = 0; f < members.size(); ++f) {
    if (members[f].empty()) continue;
    p.clear();
    for (size_t i : members[f]) {
      const Result& r = results_[i];
      p.push_back(r.c.enough_data ? std::clamp(r.c.p_value, 0.0, 1.0) : kNaN);
    }
    absl::StatusOr<AdjustedPValues> adjusted =
        options_.adjustment == PValueAdjustment::kHolm ? HolmAdjust(p) : BenjaminiHochbergAdjust(p);
    if (!adjusted.ok()) return adjusted.status();
    for (size_t k = 0; k < members[f].size(); ++k)
      results_[members[f][k]].p_adjusted = adjusted->p_values[k];
    adjustment_text_[f / 2][f % 2] = adjusted->method;
  }
  for (Result& r : results_) Finish(&r);
  return absl::OkStatus();
}

const ScorecardComputer::Result* ScorecardComputer::FindResult(size_t grouping, int arm, int metric,
                                                               int dim, size_t value) const {
  for (const Result& r : results_) {
    if (r.grouping == grouping && r.arm == arm && r.metric == metric && r.dim == dim &&
        r.value == value)
      return &r;
  }
  return nullptr;
}

std::string_view ScorecardComputer::DimValueName(int dim, size_t value, std::string* buffer) const {
  switch (dim) {
    case kOverall:
      return "overall";
    case kSegment:
      return segments_[value];
    case kChannel:
      return in_.channels[value];
    case kCaseType:
      return in_.case_types[value];
    default:
      *buffer = fmt::format("{:02d}", value);
      return *buffer;
  }
}

nlohmann::json ScorecardComputer::ResultJson(const Result& r, bool with_method) const {
  nlohmann::json j = {
      {"control", Num(r.c.control)},
      {"treatment", Num(r.c.treatment)},
      {"difference", Num(r.c.difference)},
      // A lift relative to a zero or negative control (an NPS of -20) means nothing.
      {"relative_lift", r.c.control > 0 ? Num(r.c.relative_lift) : nlohmann::json(nullptr)},
      {"ci_low", Num(r.c.ci_low)},
      {"ci_high", Num(r.c.ci_high)},
      {"p_value", Num(r.c.p_value)},
      {"p_adjusted", Num(r.p_adjusted)},
      {"n_control", r.c.n_control},
      {"n_treatment", r.c.n_treatment},
      {"enough_data", r.c.enough_data},
      {"called", r.called},
      {"verdict", std::string(r.verdict)},
  };
  if (with_method) j["method"] = r.c.method;
  if (r.cuped) {
    j["cuped"] = {{"theta", Num(r.theta)},
                  {"variance_reduction", Num(r.variance_reduction)},
                  {"unadjusted",
                   {{"difference", Num(r.unadjusted.difference)},
                    {"ci_low", Num(r.unadjusted.ci_low)},
                    {"ci_high", Num(r.unadjusted.ci_high)},
                    {"p_value", Num(r.unadjusted.p_value)}}}};
  }
  return j;
}

nlohmann::json ScorecardComputer::ComparisonsJson() const {
  nlohmann::json out = nlohmann::json::array();
  size_t arm_index = 0;
  std::string buffer;
  for (size_t gi = 0; gi < groupings_.size(); ++gi) {
    const Grouping& g = groupings_[gi];
    if (g.against_holdout && !(policy_.holdout.share > 0)) {
      arm_index += g.arms.size();
      continue;
    }
    for (int arm = 1; arm < static_cast<int>(g.arms.size()); ++arm) {
      const std::array<std::string, 2>& text = adjustment_text_[arm_index + arm];
      nlohmann::json c = {
          {"id", g.kind == Grouping::Kind::kCohort || g.kind == Grouping::Kind::kTriggered
                     ? g.id_prefix
                     : g.id_prefix + ":" + g.arms[arm]},
          {"kind", g.kind == Grouping::Kind::kCohort       ? "cohort"
                   : g.kind == Grouping::Kind::kExperiment ? "experiment"
                   : g.kind == Grouping::Kind::kTriggered  ? "triggered"
                                                           : "triggered_experiment"},
          {"label",
           g.arms.size() > 2 ? g.label + ": " + g.arms[arm] + " vs " + g.arms[0] : g.label},
          {"population", g.population},
          {"control", g.arms[0]},
          {"treatment", g.arms[arm]},
          {"customers", {{"control", g.customers[0]}, {"treatment", g.customers[arm]}}},
          {"adjustment",
           {{"primary",
             text[0].empty() ? "none" : text[0] + "; family: every metric overall and by segment"},
            {"breakdowns", text[1].empty()
                               ? "none"
                               : text[1] + "; family: channel, case type and hour breakdowns"}}},
      };
      if (g.experiment >= 0) c["experiment"] = policy_.experiments[g.experiment].name;
      if (g.intervention >= 0 &&
          static_cast<size_t>(g.intervention) < policy_.interventions.size()) {
        c["intervention"] = policy_.interventions[g.intervention].name;
      }
      nlohmann::json metrics = nlohmann::json::object();
      for (const Result& r : results_) {
        if (r.grouping != gi || r.arm != arm) continue;
        nlohmann::json& m = metrics[std::string(AllMetricInfos()[r.metric].name)];
        if (r.dim == kOverall) {
          m["overall"] = ResultJson(r, true);
        } else {
          m[std::string(kDimKeys[r.dim])][std::string(DimValueName(r.dim, r.value, &buffer))] =
              ResultJson(r, false);
        }
      }
      c["metrics"] = std::move(metrics);
      out.push_back(std::move(c));
    }
    arm_index += g.arms.size();
  }
  return out;
}

nlohmann::json ScorecardComputer::SrmJson(nlohmann::json* warnings) const {
  nlohmann::json out = nlohmann::json::array();
  for (const Grouping& g : groupings_) {
    if (g.kind == Grouping::Kind::kTriggeredExperiment) continue;
    if (std::any_of(g.shares.begin(), g.shares.end(), [](double s) { return !(s > 0); })) continue;
    uint64_t total = std::accumulate(g.customers.begin(), g.customers.end(), uint64_t{0});
    if (total == 0) continue;
    absl::StatusOr<SampleRatioCheck> check =
        SampleRatioMismatch(g.customers, g.shares, options_.srm_threshold);
    if (!check.ok()) continue;
    nlohmann::json arms = nlohmann::json::array();
    for (size_t a = 0; a < g.arms.size(); ++a) {
      arms.push_back({{"arm", g.arms[a]},
                      {"observed", g.customers[a]},
                      {"expected", Num(check->expected[a])},
                      {"share", Num(g.shares[a])}});
    }
    out.push_back({{"comparison", g.id_prefix},
                   {"label", g.label},
                   {"arms", std::move(arms)},
                   {"chi_square", Num(check->chi_square)},
                   {"p_value", Num(check->p_value)},
                   {"threshold", options_.srm_threshold},
                   {"mismatch", check->mismatch}});
    if (check->mismatch) {
      std::string observed;
      for (size_t a = 0; a < g.arms.size(); ++a) {
        observed += fmt::format("{}{} {} (expected {:.0f})", a ? ", " : "", g.arms[a],
                                g.customers[a], check->expected[a]);
      }
      warnings->push_back(
          {{"kind", "sample_ratio_mismatch"},
           {"comparison", g.id_prefix},
           {"message", fmt::format("Sample ratio mismatch in {}: {}; p = {:.2g}. Assignment or "
                                   "logging is broken; do not trust these comparisons until it "
                                   "is explained.",
                                   g.label, observed, check->p_value)}});
    }
  }
  return out;
}

nlohmann::json ScorecardComputer::SignalQualityJson() const {
  const uint64_t min_n = options_.min_per_arm;
  auto wilson = [](uint64_t k, uint64_t n, double confidence) -> nlohmann::json {
    absl::StatusOr<Interval> w = WilsonInterval(k, n, confidence);
    if (!w.ok() || n == 0) return {nullptr, nullptr};
    return {Num(w->low), Num(w->high)};
  };
  auto ratio = [](uint64_t k, uint64_t n) {
    return n ? static_cast<double>(k) / static_cast<double>(n) : kNaN;
  };
  auto entry = [&](const InterventionQuality& q) {
    const double precision = ratio(q.bad[0], q.known[0]);
    const double dismissal = ratio(q.dismissed, q.actions);
    nlohmann::json j = {
        {"holdout_exposures", q.exposed[0]},
        {"holdout_known", q.known[0]},
        {"holdout_bad_outcomes", q.bad[0]},
        {"precision", Num(precision)},
        {"precision_ci", wilson(q.bad[0], q.known[0], options_.confidence)},
        {"treatment_exposures", q.exposed[1]},
        {"treatment_bad_outcome_rate", Num(ratio(q.bad[1], q.known[1]))},
        {"actions", q.actions},
        {"accepted", q.accepted},
        {"dismissed", q.dismissed},
        {"acceptance_rate", Num(ratio(q.accepted, q.actions))},
        {"dismissal_rate", Num(dismissal)},
    };
    ProportionSummary h{q.known[0], q.bad[0]}, t{q.known[1], q.bad[1]};
    absl::StatusOr<Comparison> effect = CompareProportions(h, t, compare_);
    if (effect.ok() && (h.n > 0 || t.n > 0)) {
      j["effect"] = {{"difference", Num(effect->difference)},
                     {"ci_low", Num(effect->ci_low)},
                     {"ci_high", Num(effect->ci_high)},
                     {"p_value", Num(effect->p_value)},
                     {"enough_data", effect->enough_data}};
    }
    const bool enough = q.known[0] >= min_n;
    j["noisy"] = (enough && precision < options_.noisy_precision_below) ||
                 (q.actions >= min_n && dismissal > options_.noisy_dismissal_above);
    return j;
  };

  nlohmann::json interventions = nlohmann::json::array();
  std::vector<std::string> signal_names;
  std::vector<std::vector<size_t>> signal_interventions;
  for (size_t i = 0; i < policy_.interventions.size(); ++i) {
    const InterventionSpec& spec = policy_.interventions[i];
    std::vector<std::string> signals;
    for (int slot : spec.when.slots()) {
      if (slot < 0 || static_cast<size_t>(slot) >= policy_.paths.size()) continue;
      const ValuePath& p = policy_.paths[slot];
      if (p.kind != ValuePath::Kind::kSignalScore && p.kind != ValuePath::Kind::kSignalConfidence)
        continue;
      if (std::find(signals.begin(), signals.end(), p.name) == signals.end())
        signals.push_back(p.name);
    }
    for (const std::string& s : signals) {
      auto it = std::find(signal_names.begin(), signal_names.end(), s);
      if (it == signal_names.end()) {
        signal_names.push_back(s);
        signal_interventions.push_back({i});
      } else {
        signal_interventions[it - signal_names.begin()].push_back(i);
      }
    }
    nlohmann::json j = {{"intervention", spec.name}, {"signals", signals}};
    j.update(entry(quality_[i]));
    interventions.push_back(std::move(j));
  }
  nlohmann::json signals = nlohmann::json::array();
  for (size_t s = 0; s < signal_names.size(); ++s) {
    InterventionQuality sum;
    std::vector<std::string> names;
    for (size_t i : signal_interventions[s]) {
      const InterventionQuality& q = quality_[i];
      for (int k = 0; k < 2; ++k) {
        sum.exposed[k] += q.exposed[k];
        sum.known[k] += q.known[k];
        sum.bad[k] += q.bad[k];
      }
      sum.actions += q.actions;
      sum.accepted += q.accepted;
      sum.dismissed += q.dismissed;
      names.push_back(policy_.interventions[i].name);
    }
    nlohmann::json j = {{"signal", signal_names[s]}, {"interventions", names}};
    j.update(entry(sum));
    signals.push_back(std::move(j));
  }
  return {{"bad_outcome", "a contact_opened or complaint within 7 days after the exposure"},
          {"precision_definition",
           "share of holdout exposures (never contacted) followed by the bad outcome"},
          {"interventions", std::move(interventions)},
          {"signals", std::move(signals)}};
}

nlohmann::json ScorecardComputer::BiasAuditJson(nlohmann::json* warnings) const {
  SegmentAudit all;
  for (const SegmentAudit& a : audit_) {
    all.customers += a.customers;
    all.with_action += a.with_action;
    all.actions += a.actions;
    all.dismissed += a.dismissed;
    all.complaints += a.complaints;
    all.opt_outs += a.opt_outs;
  }
  struct Rate {
    const char* name;
    uint64_t SegmentAudit::*num;
    uint64_t SegmentAudit::*den;
  };
  const Rate rates[] = {
      {"intervention_rate", &SegmentAudit::with_action, &SegmentAudit::customers},
      {"dismissal_rate", &SegmentAudit::dismissed, &SegmentAudit::actions},
      {"complaint_rate", &SegmentAudit::complaints, &SegmentAudit::customers},
      {"opt_out_rate", &SegmentAudit::opt_outs, &SegmentAudit::customers},
  };
  auto rate = [](uint64_t k, uint64_t n) {
    return n ? static_cast<double>(k) / static_cast<double>(n) : kNaN;
  };
  nlohmann::json overall = nlohmann::json::object();
  for (const Rate& r : rates) overall[r.name] = Num(rate(all.*r.num, all.*r.den));
  overall["customers"] = all.customers;
  nlohmann::json segments = nlohmann::json::array();
  nlohmann::json flags = nlohmann::json::array();
  for (size_t s = 0; s < audit_.size(); ++s) {
    const SegmentAudit& a = audit_[s];
    if (a.customers == 0) continue;
    nlohmann::json j = {{"segment", segments_[s]}, {"customers", a.customers}};
    for (const Rate& r : rates) {
      const uint64_t k = a.*r.num, n = a.*r.den;
      const double value = rate(k, n), base = rate(all.*r.num, all.*r.den);
      const double ratio = base > 0 ? value / base : kNaN;
      const bool flagged = n >= options_.min_per_arm && std::isfinite(ratio) &&
                           (ratio < options_.disparity_low || ratio > options_.disparity_high);
      ProportionSummary rest{all.*r.den - n, all.*r.num - k}, seg{n, k};
      absl::StatusOr<Comparison> vs = CompareProportions(rest, seg, compare_);
      j[r.name] = {{"value", Num(value)},
                   {"n", n},
                   {"ratio_to_overall", Num(ratio)},
                   {"p_value_vs_rest", vs.ok() ? Num(vs->p_value) : nlohmann::json(nullptr)},
                   {"flag", flagged}};
      if (flagged) {
        const std::string text =
            fmt::format("{} in segment {} is {:.2f}x the overall rate ({:.1f}% vs {:.1f}%)", r.name,
                        segments_[s], ratio, 100 * value, 100 * base);
        flags.push_back(text);
        warnings->push_back({{"kind", "bias_disparity"},
                             {"segment", segments_[s]},
                             {"metric", r.name},
                             {"message", text}});
      }
    }
    segments.push_back(std::move(j));
  }
  return {{"rule",
           fmt::format(
               "a segment's rate outside {:g}-{:g} x the overall rate is flagged (the four-fifths "
               "rule and its inverse), when the segment has at least {} customers (actions for "
               "dismissals)",
               options_.disparity_low, options_.disparity_high, options_.min_per_arm)},
          {"overall", std::move(overall)},
          {"segments", std::move(segments)},
          {"flags", std::move(flags)}};
}

nlohmann::json ScorecardComputer::TargetsJson() const {
  nlohmann::json out = nlohmann::json::array();
  const Grouping& g = groupings_[cohort_];
  for (const TargetSpec& t : policy_.targets) {
    nlohmann::json j = {{"metric", t.metric},
                        {"segment", t.segment},
                        {"channel", t.channel},
                        {"goal", t.goal},
                        {"key", t.key}};
    std::optional<ScorecardMetric> metric = MetricByName(t.metric);
    int dim = kOverall;
    size_t value = 0;
    std::string status;
    if (!metric) {
      status = "unknown_metric";
    } else if (!t.segment.empty() && !t.channel.empty()) {
      status = "not_supported";  // the policy format has no such target
    } else if (!t.segment.empty()) {
      dim = kSegment;
      auto it = std::find(segments_.begin(), segments_.end(), t.segment);
      if (it == segments_.end()) status = "no_data";
      value = it - segments_.begin();
    } else if (!t.channel.empty()) {
      dim = kChannel;
      auto it = std::find(in_.channels.begin(), in_.channels.end(), t.channel);
      if (it == in_.channels.end()) status = "no_data";
      value = it - in_.channels.begin();
    }
    if (status.empty()) {
      const int m = Idx(*metric);
      const MetricInfo& info = MetricInfoOf(*metric);
      const Cell& cell = g.cells[layout_.Index(1, m, dim, value)];
      const double actual = enabled_[m] ? cell.Value(m) : kNaN;
      const uint64_t n = enabled_[m] ? cell.N(m) : 0;
      j["actual"] = Num(actual);
      j["n"] = n;
      j["unit"] = info.unit;
      j["higher_is_better"] = info.higher_is_better;
      if (!std::isfinite(actual) || n == 0) {
        status = "no_data";
      } else {
        const bool met = info.higher_is_better ? actual >= t.goal : actual <= t.goal;
        j["met"] = met;
        j["gap"] = actual - t.goal;
        status = met ? "met" : "missed";
      }
    }
    j["status"] = status;
    out.push_back(std::move(j));
  }
  return out;
}

nlohmann::json ScorecardComputer::SeriesJson() const {
  nlohmann::json weeks = nlohmann::json::array();
  for (int w = 0; w < series_weeks_; ++w) {
    weeks.push_back({{"from", FormatTimestamp(series_start_ + w * kWeek)},
                     {"to", FormatTimestamp(series_start_ + (w + 1) * kWeek)}});
  }
  nlohmann::json metrics = nlohmann::json::object();
  for (size_t k = 0; k < std::size(kSeriesMetrics); ++k) {
    const int m = Idx(kSeriesMetrics[k]);
    if (!enabled_[m]) continue;
    nlohmann::json arms = nlohmann::json::object();
    for (int arm = 0; arm < 2; ++arm) {
      nlohmann::json values = nlohmann::json::array();
      for (int w = 0; w < series_weeks_; ++w) {
        const size_t at = static_cast<size_t>(arm) * series_weeks_ + w;
        if (kSeriesMetrics[k] == M::kNps) {
          values.push_back(Num(series_nps_[at].score()));
        } else {
          const SeriesPoint& p = series_[at * std::size(kSeriesMetrics) + k];
          values.push_back(p.x > 0 ? Num(p.y / p.x) : nlohmann::json(nullptr));
        }
      }
      arms[groupings_[cohort_].arms[arm]] = std::move(values);
    }
    metrics[std::string(AllMetricInfos()[m].name)] = std::move(arms);
  }
  return {{"comparison", "cohort"},
          {"bucket", "week"},
          {"weeks", std::move(weeks)},
          {"metrics", std::move(metrics)}};
}

nlohmann::json ScorecardComputer::BaselineJson(nlohmann::json* warnings) const {
  nlohmann::json metrics = nlohmann::json::object();
  for (int m = 0; m < kMetricCount; ++m) {
    if (!enabled_[m] || AllMetricInfos()[m].treatment_only) continue;
    const Cell& control = baseline_[m];
    const Cell& treatment = baseline_[kMetricCount + m];
    if (control.N(m) == 0 && treatment.N(m) == 0) continue;
    absl::StatusOr<Result> r = Compare(control, treatment, m, false, 0, 0);
    if (!r.ok()) continue;
    metrics[std::string(AllMetricInfos()[m].name)] = {
        {"control", Num(r->c.control)},       {"treatment", Num(r->c.treatment)},
        {"difference", Num(r->c.difference)}, {"ci_low", Num(r->c.ci_low)},
        {"ci_high", Num(r->c.ci_high)},       {"p_value", Num(r->c.p_value)},
        {"n_control", r->c.n_control},        {"n_treatment", r->c.n_treatment}};
    if (r->c.enough_data && r->c.p_value < options_.srm_threshold) {
      warnings->push_back(
          {{"kind", "pre_period_imbalance"},
           {"metric", AllMetricInfos()[m].name},
           {"message",
            fmt::format("{} already differed between holdout and treatment before the window "
                        "(p = {:.2g}): the cohorts may not be comparable.",
                        AllMetricInfos()[m].label, r->c.p_value)}});
    }
  }
  return {{"from", FormatTimestamp(pre_.from)},
          {"to", FormatTimestamp(pre_.to)},
          {"population", "the window's active customers, in the same-length period before it"},
          {"metrics", std::move(metrics)}};
}

nlohmann::json ScorecardComputer::MetricsCatalogJson() const {
  nlohmann::json out = nlohmann::json::array();
  for (const MetricInfo& info : AllMetricInfos()) {
    const int m = Idx(info.metric);
    std::string method;
    if (info.metric == M::kNps) {
      method = "z-test on the multinomial variance of the NPS (delta method)";
    } else if (IsCustomerProportion(m)) {
      method = "two-proportion z-test";
    } else if (info.ratio) {
      method = "delta method on per-customer sums, Welch t-test";
    } else if (UsesCuped(m)) {
      method = "Welch t-test, CUPED-adjusted with the pre-period value when there is one";
    } else {
      method = "Welch t-test";
    }
    out.push_back({{"name", info.name},
                   {"label", info.label},
                   {"unit", info.unit},
                   {"higher_is_better", info.higher_is_better},
                   {"observation", info.observation},
                   {"treatment_only", info.treatment_only},
                   {"available", enabled_[m]},
                   {"method", method},
                   {"definition", info.definition}});
  }
  return out;
}

nlohmann::json ScorecardComputer::HeadlineJson(std::span<const M> metrics) const {
  nlohmann::json out = nlohmann::json::array();
  const Grouping& g = groupings_[cohort_];
  for (M metric : metrics) {
    const int m = Idx(metric);
    if (!enabled_[m]) continue;
    const MetricInfo& info = MetricInfoOf(metric);
    nlohmann::json j;
    if (const Result* r = FindResult(cohort_, 1, m, kOverall, 0)) {
      j = ResultJson(*r, true);
    } else {
      const Cell& control = g.cells[layout_.Index(0, m, kOverall, 0)];
      const Cell& treatment = g.cells[layout_.Index(1, m, kOverall, 0)];
      j = {{"control", Num(control.Value(m))},
           {"treatment", Num(treatment.Value(m))},
           {"n_control", control.N(m)},
           {"n_treatment", treatment.N(m)},
           {"verdict", info.treatment_only            ? "treatment_only"
                       : !(policy_.holdout.share > 0) ? "no_holdout"
                                                      : "no_data"}};
    }
    if (metric == M::kLtv) {
      // A run rate, not a survival model: what a year at the window's pace
      // would bring per customer.
      const double scale = 365.0 / window_.Days();
      auto scaled = [&](const char* key) {
        return j.contains(key) && j[key].is_number() ? Num(j[key].get<double>() * scale)
                                                     : nlohmann::json(nullptr);
      };
      j["projected_annual"] = {
          {"method", "revenue per customer per day of the window x 365 (run rate)"},
          {"control", scaled("control")},
          {"treatment", scaled("treatment")},
          {"difference", scaled("difference")},
          {"ci_low", scaled("ci_low")},
          {"ci_high", scaled("ci_high")}};
    }
    j["metric"] = info.name;
    j["label"] = info.label;
    j["unit"] = info.unit;
    j["higher_is_better"] = info.higher_is_better;
    for (const TargetSpec& t : policy_.targets) {
      if (t.metric == info.name && t.segment.empty() && t.channel.empty()) j["target"] = t.goal;
    }
    out.push_back(std::move(j));
  }
  return out;
}

absl::StatusOr<nlohmann::json> ScorecardComputer::Run() {
  UPFRONT_RETURN_IF_ERROR(Validate());
  compare_.confidence = options_.confidence;
  compare_.min_per_arm = options_.min_per_arm;
  compare_.sequential = options_.sequential;
  customers_ = in_.customer_ids.size();

  segments_ = in_.segments;
  default_segment_ = ScorecardInput::Intern(&segments_, kDefaultSegment);
  for (const SegmentSpec& s : policy_.segments) ScorecardInput::Intern(&segments_, s.name);

  ResolveWindows();

  // Group the records by customer.
  auto by_time = [](const auto& a, const auto& b) { return a.at < b.at; };
  GroupByCustomer<ScorecardEvent>(
      in_.events, customers_, [](const ScorecardEvent& e) { return e.customer; },
      [](const ScorecardEvent& a, const ScorecardEvent& b) {
        return a.at < b.at || (a.at == b.at && a.kind < b.kind);
      },
      &events_, &event_offsets_);
  GroupByCustomer<ScorecardAction>(
      in_.actions, customers_, [](const ScorecardAction& a) { return a.customer; }, by_time,
      &actions_, &action_offsets_);
  GroupByCustomer<ScorecardExposure>(
      in_.exposures, customers_, [](const ScorecardExposure& x) { return x.customer; }, by_time,
      &exposures_, &exposure_offsets_);
  GroupByCustomer<ScorecardActivity>(
      in_.activity, customers_, [](const ScorecardActivity& a) { return a.customer; },
      [](const ScorecardActivity& a, const ScorecardActivity& b) { return a.hour < b.hour; },
      &activity_, &activity_offsets_);

  // Which metrics have data to speak of: the policy maps the role, or the
  // input has such events.
  for (const ScorecardEvent& e : in_.events) kind_present_[e.kind] = true;
  auto has = [&](OutcomeRole role) {
    return kind_present_[static_cast<int>(role)] || policy_.FindOutcome(role) != nullptr;
  };
  enabled_[Idx(M::kCsat)] = enabled_[Idx(M::kCsatMean)] = has(OutcomeRole::kCsat);
  enabled_[Idx(M::kNps)] = has(OutcomeRole::kNps);
  enabled_[Idx(M::kCes)] = has(OutcomeRole::kCes);
  const bool contacts = has(OutcomeRole::kContactOpened);
  enabled_[Idx(M::kFcr)] = enabled_[Idx(M::kTimeToResolve)] =
      contacts && has(OutcomeRole::kContactResolved);
  enabled_[Idx(M::kRecontact7d)] = enabled_[Idx(M::kRecontact14d)] = contacts;
  enabled_[Idx(M::kContactsPerCustomer)] = contacts;
  enabled_[Idx(M::kLtv)] = has(OutcomeRole::kPurchase);
  enabled_[Idx(M::kDropOff)] = !in_.journeys.empty();
  enabled_[Idx(M::kOptOut)] = has(OutcomeRole::kOptOut);
  enabled_[Idx(M::kComplaint)] = has(OutcomeRole::kComplaint);
  enabled_[Idx(M::kAcceptance)] = has(OutcomeRole::kAccepted);
  enabled_[Idx(M::kDismissal)] = has(OutcomeRole::kDismissed);
  enabled_[Idx(M::kFatigue)] = !in_.actions.empty() || !policy_.interventions.empty();

  // Assignment of every customer, as the engine assigns it.
  holdout_.resize(customers_);
  for (size_t c = 0; c < customers_; ++c) holdout_[c] = InHoldout(policy_, in_.customer_ids[c]);
  variant_.assign(policy_.experiments.size(), {});
  for (size_t e = 0; e < policy_.experiments.size(); ++e) {
    const ExperimentSpec& spec = policy_.experiments[e];
    if (spec.variants.size() < 2) continue;
    variant_[e].resize(customers_);
    for (size_t c = 0; c < customers_; ++c) {
      variant_[e][c] = static_cast<uint8_t>(VariantOf(spec, in_.customer_ids[c]));
    }
  }
  intervention_in_window_.assign(policy_.interventions.size(), false);
  for (const ScorecardExposure& x : in_.exposures) {
    if (window_.Has(x.at)) intervention_in_window_[x.intervention] = true;
  }

  BuildGroupings();
  for (Dim d : kItemDims) dims_[d].Init(layout_.size[d]);
  s_.journey_steps.resize(in_.journeys.size());
  first_exposure_.assign(policy_.interventions.size(), kNever);
  baseline_.assign(2 * kMetricCount, Cell{});
  series_.assign(2 * static_cast<size_t>(series_weeks_) * std::size(kSeriesMetrics), SeriesPoint{});
  series_nps_.assign(2 * static_cast<size_t>(series_weeks_), NpsSummary{});
  quality_.assign(policy_.interventions.size(), InterventionQuality{});
  audit_.assign(segments_.size(), SegmentAudit{});

  for (uint32_t c = 0; c < customers_; ++c) ProcessCustomer(c);
  UPFRONT_RETURN_IF_ERROR(ComputeResults());

  // The JSON.
  nlohmann::json warnings = nlohmann::json::array();
  nlohmann::json srm = SrmJson(&warnings);
  if (assignment_mismatches_ > 0) {
    warnings.push_back(
        {{"kind", "assignment_mismatch"},
         {"message", fmt::format("{} exposure or action records name a cohort other than the "
                                 "customer's assignment (hash of the holdout salt and the "
                                 "canonical id): check identity merges and the holdout salt.",
                                 assignment_mismatches_)}});
  }
  if (active_customers_ == 0) {
    warnings.push_back({{"kind", "no_data"}, {"message", "No customer was active in the window."}});
  }
  const double h = policy_.holdout.share;
  if (!(h > 0)) {
    warnings.push_back(
        {{"kind", "no_holdout"},
         {"message",
          "The policy has no holdout (experiments.holdout.share), so nothing measures "
          "what the interventions change; the figures are treatment values only."}});
  }
  nlohmann::json bias = BiasAuditJson(&warnings);
  nlohmann::json baseline = BaselineJson(&warnings);

  constexpr M kHeadline[] = {M::kCsat, M::kNps, M::kFcr, M::kLtv};
  constexpr M kGuardrails[] = {M::kOptOut, M::kComplaint, M::kFatigue, M::kDismissal};
  const Grouping& cohort = groupings_[cohort_];
  nlohmann::json out = {
      {"schema", kScorecardSchema},
      {"policy", {{"version", policy_.version}, {"content_hash", policy_.content_hash}}},
      {"window",
       {{"name", options_.from || options_.to ? "range"
                                              : std::string(ScorecardWindowName(options_.window))},
        {"from", FormatTimestamp(window_.from)},
        {"to", FormatTimestamp(window_.to)},
        {"days", window_.Days()},
        {"pre_from", FormatTimestamp(pre_.from)},
        {"pre_to", FormatTimestamp(pre_.to)},
        {"as_of", FormatTimestamp(as_of_)},
        {"data_from", FormatTimestamp(data_start_)},
        {"data_to", FormatTimestamp(data_end_)}}},
      {"options",
       {{"confidence", options_.confidence},
        {"min_per_arm", options_.min_per_arm},
        {"sequential", options_.sequential},
        {"adjustment",
         options_.adjustment == PValueAdjustment::kHolm ? "holm" : "benjamini_hochberg"},
        {"srm_threshold", options_.srm_threshold}}},
      {"input",
       {{"customers", customers_},
        {"events", in_.events.size()},
        {"exposures", in_.exposures.size()},
        {"actions", in_.actions.size()}}},
      {"population",
       {{"active_customers", active_customers_},
        {"holdout", cohort.customers[0]},
        {"treatment", cohort.customers[1]},
        {"holdout_share", h},
        {"assignment_mismatches", assignment_mismatches_}}},
      {"warnings", nlohmann::json::array()},
      {"srm", std::move(srm)},
      {"headline", HeadlineJson(kHeadline)},
      {"guardrails", HeadlineJson(kGuardrails)},
      {"metrics", MetricsCatalogJson()},
      {"comparisons", ComparisonsJson()},
      {"baseline", std::move(baseline)},
      {"series", SeriesJson()},
      {"signal_quality", SignalQualityJson()},
      {"bias_audit", std::move(bias)},
      {"targets", TargetsJson()},
  };
  out["warnings"] = std::move(warnings);
  out["summary"] = ScorecardSummary(out);
  return out;
}

// ---- the summary paragraph ----

double NumberOr(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<double>() : kNaN;
}

std::string DateOf(const nlohmann::json& t) {
  const std::string s = t.is_string() ? t.get<std::string>() : "";
  return s.substr(0, 10);
}

}  // namespace

uint16_t ScorecardInput::Intern(std::vector<std::string>* labels, std::string_view label) {
  for (size_t i = 0; i < labels->size(); ++i) {
    if ((*labels)[i] == label) return static_cast<uint16_t>(i);
  }
  labels->emplace_back(label);
  return static_cast<uint16_t>(labels->size() - 1);
}

absl::StatusOr<ScorecardWindow> ParseScorecardWindow(std::string_view text) {
  if (text == "two-weeks" || text == "two_weeks" || text == "2w" || text == "14d")
    return ScorecardWindow::kTwoWeeks;
  if (text == "month") return ScorecardWindow::kMonth;
  if (text == "all") return ScorecardWindow::kAll;
  return absl::InvalidArgumentError(
      fmt::format("window '{}': must be two-weeks, month or all (or give from/to)", text));
}

absl::StatusOr<PValueAdjustment> ParsePValueAdjustment(std::string_view text) {
  if (text == "holm") return PValueAdjustment::kHolm;
  if (text == "bh" || text == "benjamini-hochberg" || text == "benjamini_hochberg") {
    return PValueAdjustment::kBenjaminiHochberg;
  }
  return absl::InvalidArgumentError(fmt::format("adjustment '{}': must be holm or bh", text));
}

std::string_view ScorecardWindowName(ScorecardWindow window) {
  switch (window) {
    case ScorecardWindow::kTwoWeeks:
      return "two_weeks";
    case ScorecardWindow::kMonth:
      return "month";
    case ScorecardWindow::kAll:
      return "all";
  }
  return "two_weeks";
}

absl::StatusOr<nlohmann::json> ComputeScorecard(const ScorecardInput& input, const Policy& policy,
                                                const ScorecardOptions& options) {
  return ScorecardComputer(input, policy, options).Run();
}

std::string ScorecardSummary(const nlohmann::json& card) {
  try {
    const nlohmann::json& window = card.at("window");
    const nlohmann::json& population = card.at("population");
    const double days = window.at("days").get<double>();
    std::string out = fmt::format(
        "From {} to {} ({:g} day{}), {} customers were active: {} treated and {} held out.",
        DateOf(window.at("from")), DateOf(window.at("to")), days, days == 1 ? "" : "s",
        population.at("active_customers").get<uint64_t>(),
        population.at("treatment").get<uint64_t>(), population.at("holdout").get<uint64_t>());
    const bool has_holdout = population.at("holdout_share").get<double>() > 0;
    const double confidence = card.at("options").at("confidence").get<double>();
    std::vector<std::string> parts;
    for (const nlohmann::json& h : card.at("headline")) {
      const std::string unit = h.at("unit");
      const std::string label = h.at("label");
      std::string text =
          fmt::format("{} {}", label, FormatMetricValue(NumberOr(h, "treatment"), unit));
      if (!has_holdout) {
        // Nothing to compare with: the value alone.
      } else if (!std::isfinite(NumberOr(h, "difference"))) {
        text += " (not enough data to compare with the holdout yet)";
      } else {
        std::string verdict = h.value("verdict", "");
        std::replace(verdict.begin(), verdict.end(), '_', ' ');
        text += fmt::format(" vs {} in the holdout ({}, {:.0f}% CI {} to {}; {})",
                            FormatMetricValue(NumberOr(h, "control"), unit),
                            FormatMetricDifference(NumberOr(h, "difference"), unit),
                            100 * confidence, FormatMetricDifference(NumberOr(h, "ci_low"), unit),
                            FormatMetricDifference(NumberOr(h, "ci_high"), unit), verdict);
      }
      parts.push_back(std::move(text));
    }
    if (!parts.empty()) {
      out += has_holdout ? " Treated customers had " : " Overall: ";
      for (size_t i = 0; i < parts.size(); ++i) out += (i ? "; " : "") + parts[i];
      out += ".";
    }
    std::vector<std::string> guard;
    for (const nlohmann::json& g : card.at("guardrails")) {
      const std::string unit = g.at("unit");
      std::string text = fmt::format("{} {}", std::string(g.at("label")),
                                     FormatMetricValue(NumberOr(g, "treatment"), unit));
      if (g.value("verdict", "") == "worse") text += " (worse than the holdout)";
      guard.push_back(text);
    }
    if (!guard.empty()) {
      out += " Guardrails: ";
      for (size_t i = 0; i < guard.size(); ++i) out += (i ? ", " : "") + guard[i];
      out += ".";
    }
    const nlohmann::json& warnings = card.at("warnings");
    if (!warnings.empty()) {
      out += fmt::format(" {} warning{}: {}", warnings.size(), warnings.size() == 1 ? "" : "s",
                         warnings[0].at("message").get<std::string>());
      if (warnings.size() > 1) out += " (and more in the report)";
    }
    const std::string adjustment = card.at("options").at("adjustment");
    out += fmt::format(" p-values are {}-adjusted across the metrics and segments shown.",
                       adjustment == "holm" ? "Holm" : "Benjamini-Hochberg");
    return out;
  } catch (const nlohmann::json::exception& e) {
    return std::string("The scorecard is incomplete: ") + e.what();
  }
}

}  // namespace upfront
