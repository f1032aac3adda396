// The statistics behind the scorecard: mergeable summaries of one arm's
// outcomes, and comparisons of two arms (treatment vs holdout, or a variant
// vs its control) with a difference, a confidence interval and a p-value.
//
//   MeanSummary holdout, treated;                 // e.g. CSAT ratings 1-5
//   for (const Outcome& o : outcomes) (o.treated ? treated : holdout).Add(o.csat);
//   absl::StatusOr<Comparison> csat = CompareMeans(holdout, treated);
//   if (csat.ok() && csat->enough_data) Show(csat->difference, csat->ci_low, csat->ci_high);
//
// What is offered:
//   summaries    MeanSummary (Welford), ProportionSummary, NpsSummary,
//                CovarianceSummary (for CUPED). Each is built one value at a
//                time and merges exactly, so per-partition or per-segment
//                summaries can be combined without revisiting events.
//   comparisons  CompareMeans (Welch t), CompareProportions (two-proportion
//                z), CompareNps (z on the multinomial variance), CupedAdjust
//                (pre-period covariate adjustment, then Welch). Each can
//                report an always-valid (sequential) interval instead of a
//                fixed-horizon one: CompareOptions::sequential.
//   single rates WilsonInterval.
//   checks       SampleRatioMismatch (chi-square goodness of fit).
//   families     HolmAdjust, BenjaminiHochbergAdjust.
//
// Conventions, for every comparison:
//   - difference = treatment - control; the interval is on the difference.
//   - Errors are values: InvalidArgument for options or inputs that
//     contradict themselves (confidence outside (0, 1), successes > n,
//     shares that are not positive). Data that is merely too thin is not an
//     error: the numbers that can be computed are returned, the rest are NaN,
//     and enough_data is false.
//   - A zero standard error (every value identical in both arms) gives a
//     point interval [difference, difference] and p = 1 if the difference is
//     0, else p = 0.
//
// Thread safety: summaries are plain values (not safe for concurrent Add on
// one object; merge per-thread summaries instead). All functions are pure and
// safe to call concurrently.
#pragma once

#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "upfront/status.h"

namespace upfront {

// Count, mean and sum of squared deviations (M2) of a stream of values, by
// Welford's update; Merge uses Chan et al.'s pairwise formula, so merging
// summaries gives the same moments (to rounding) as one pass over all the
// values. Stable for large offsets (e.g. revenue in cents around 1e9).
class MeanSummary {
 public:
  MeanSummary() = default;
  // A summary from stored moments. REQUIRES: m2 >= 0; count == 0 implies
  // mean == 0 and m2 == 0.
  static MeanSummary FromMoments(uint64_t count, double mean, double m2);

  // Adds one value. Non-finite values (NaN, inf) are skipped: a missing
  // rating says nothing about the arm.
  void Add(double x);
  void Merge(const MeanSummary& other);

  uint64_t count() const { return count_; }
  double mean() const { return mean_; }  // 0 when empty
  double m2() const { return m2_; }
  // Sample variance, M2 / (count - 1); NaN when count < 2.
  double variance() const;

 private:
  uint64_t count_ = 0;
  double mean_ = 0.0;
  double m2_ = 0.0;
};

// Successes out of n trials (CSAT as the share of 4-5 ratings, FCR, recontact
// within 7 days, opt-outs, acceptance).
struct ProportionSummary {
  uint64_t n = 0;
  uint64_t successes = 0;  // REQUIRES (checked by the comparisons): <= n

  void Add(bool success) {
    ++n;
    successes += success ? 1 : 0;
  }
  void Merge(const ProportionSummary& other) {
    n += other.n;
    successes += other.successes;
  }
  // successes / n; NaN when n == 0.
  double rate() const;
};

// Net Promoter Score answers: promoters rate 9-10, passives 7-8, detractors
// 0-6 on the 0-10 "how likely are you to recommend" scale.
struct NpsSummary {
  uint64_t promoters = 0;
  uint64_t passives = 0;
  uint64_t detractors = 0;

  // Counts one 0-10 rating. InvalidArgument (and nothing counted) outside
  // 0..10.
  absl::Status AddRating(int rating);
  void Merge(const NpsSummary& other);

  uint64_t n() const { return promoters + passives + detractors; }
  // NPS = 100 * (promoters - detractors) / n, in points from -100 to 100;
  // NaN when n == 0.
  double score() const;
  // Variance of score() as an estimate, in points squared:
  //   100^2 * (p_P + p_D - (p_P - p_D)^2) / n
  // (the multinomial variance of p_P - p_D; the delta method is exact here
  // because NPS is linear in the shares). NaN when n == 0.
  double score_variance() const;
};

// Pairs (y, x) of a metric y and a pre-period covariate x for the same
// customer (e.g. y = CSAT in the window, x = the customer's CSAT before it),
// with Welford/Chan updates of the means, M2s and the co-moment
// C = sum (y - mean_y)(x - mean_x).
class CovarianceSummary {
 public:
  CovarianceSummary() = default;
  // REQUIRES: m2_y, m2_x >= 0; comoment^2 <= m2_y * m2_x (up to rounding).
  static CovarianceSummary FromMoments(uint64_t count, double mean_y, double mean_x, double m2_y,
                                       double m2_x, double comoment);

  // Adds one pair; skipped when either value is non-finite. A customer with
  // no pre-period is the caller's choice: pass x = 0 (and accept less
  // variance reduction) or leave the customer out of the CUPED comparison.
  void Add(double y, double x);
  void Merge(const CovarianceSummary& other);

  uint64_t count() const { return count_; }
  double mean_y() const { return mean_y_; }
  double mean_x() const { return mean_x_; }
  double m2_y() const { return m2_y_; }
  double m2_x() const { return m2_x_; }
  double comoment() const { return comoment_; }
  // Sample (n - 1) variances and covariance; NaN when count < 2.
  double variance_y() const;
  double variance_x() const;
  double covariance() const;

 private:
  uint64_t count_ = 0;
  double mean_y_ = 0.0;
  double mean_x_ = 0.0;
  double m2_y_ = 0.0;
  double m2_x_ = 0.0;
  double comoment_ = 0.0;
};

// The default mixing standard deviation of the always-valid interval, in
// units of one observation's standard deviation (see CompareOptions).
inline constexpr double kDefaultSequentialMixingSd = 0.1;

struct CompareOptions {
  // Two-sided confidence of the interval; the p-value is two-sided.
  // REQUIRES: 0 < confidence < 1.
  double confidence = 0.95;
  // enough_data is false when either arm has fewer observations.
  uint64_t min_per_arm = 100;
  // When true, ci_low/ci_high and p_value are always valid: the chance that
  // the interval ever misses the true difference, at any of any number of
  // looks, is at most 1 - confidence (the mixture SPRT of Johari, Pekelis
  // and Walsh, 2017; the normal-mixture confidence sequence of Howard et
  // al., 2021). With V the variance of the difference estimate and tau^2 the
  // mixing variance, the interval is difference +- h with
  //   h^2 = V (V + tau^2) / tau^2 * (2 ln(1/alpha) + ln((V + tau^2) / V)),
  // and the p-value is min(1, 1 / Lambda), where
  //   Lambda = sqrt(V / (V + tau^2)) * exp(tau^2 d^2 / (2 V (V + tau^2)))
  // is the mixture likelihood ratio of the difference d against 0. Each
  // look's interval is valid on its own; a caller that keeps history may
  // also intersect the intervals and keep the running minimum p-value.
  // The guarantee is exact for a Gaussian difference with known variance
  // and a steady split between arms; here V and tau are estimated at each
  // look (normal approximation, no t), so it wants hundreds of observations
  // per arm, which enough_data asks for anyway.
  bool sequential = false;
  // tau = sequential_mixing_sd * (pooled per-observation standard deviation
  // of the metric), so one default serves ratings, rates and revenue alike.
  // At 95% the interval is tightest where tau^2 = 8.2 V, which for the
  // default 0.1 and two equal arms is about 1,600 observations per arm;
  // from ~200 to ~250,000 per arm it stays within 20% of that tightest
  // width, and it is 1.55 to 1.9 times the fixed-horizon width there.
  // 0.1 sd is the size of effect support interventions plausibly have; a
  // team planning far larger or smaller experiments can tune it.
  // REQUIRES: > 0.
  double sequential_mixing_sd = kDefaultSequentialMixingSd;
};

// One comparison of treatment against control, ready to display.
struct Comparison {
  static constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

  double control = kNaN;        // the control arm's estimate (mean, rate, or NPS points)
  double treatment = kNaN;      // the treatment arm's estimate
  double difference = kNaN;     // treatment - control
  double relative_lift = kNaN;  // difference / control; NaN when control == 0
  double ci_low = kNaN;         // interval on the difference at `confidence`
  double ci_high = kNaN;
  double p_value = kNaN;         // two-sided, against "no difference"
  double standard_error = kNaN;  // of the difference, as used for the interval
  double statistic = kNaN;       // t or z (or d / SE when sequential)
  // Welch-Satterthwaite df for t-tests; infinity for z-tests and sequential.
  double degrees_of_freedom = kNaN;
  double confidence = 0.95;
  uint64_t n_control = 0;
  uint64_t n_treatment = 0;
  bool enough_data = false;  // both arms have at least min_per_arm observations
  bool sequential = false;   // the interval and p-value are always valid
  std::string method;        // e.g. "Welch t-test", for display
};

// Welch's t-test on the difference of means, with Welch-Satterthwaite
// degrees of freedom:
//   SE^2 = s_c^2/n_c + s_t^2/n_t,
//   df = SE^4 / ((s_c^2/n_c)^2/(n_c-1) + (s_t^2/n_t)^2/(n_t-1)),
//   t = d / SE, CI = d +- t_{df, 1-alpha/2} SE.
// An arm with fewer than 2 values has no variance: SE, CI and p are NaN.
// InvalidArgument for invalid options.
absl::StatusOr<Comparison> CompareMeans(const MeanSummary& control, const MeanSummary& treatment,
                                        const CompareOptions& options = {});

// Two-proportion z-test: the p-value uses the pooled SE (the SE under "both
// rates are equal"), sqrt(p(1-p)(1/n_c + 1/n_t)); the interval uses the
// unpooled (Wald) SE, sqrt(p_c(1-p_c)/n_c + p_t(1-p_t)/n_t). These match R's
// prop.test(correct = FALSE). An empty arm gives NaN. InvalidArgument when
// successes > n in an arm, or for invalid options.
absl::StatusOr<Comparison> CompareProportions(const ProportionSummary& control,
                                              const ProportionSummary& treatment,
                                              const CompareOptions& options = {});

// NPS difference in points, z-test and interval with the per-arm variance
// NpsSummary::score_variance() (unpooled for both; "equal NPS" does not
// make the two answer distributions equal, so there is nothing to pool).
// InvalidArgument for invalid options.
absl::StatusOr<Comparison> CompareNps(const NpsSummary& control, const NpsSummary& treatment,
                                      const CompareOptions& options = {});

struct CupedComparison {
  Comparison adjusted;    // Welch on y - theta (x - mean_x)
  Comparison unadjusted;  // Welch on y alone, to show next to it
  double theta = Comparison::kNaN;
  // 1 - Var(adjusted difference) / Var(unadjusted difference); about rho^2
  // for a covariate with within-arm correlation rho. Can be slightly
  // negative for a useless covariate.
  double variance_reduction = Comparison::kNaN;
};

// CUPED (Deng, Xu, Kohavi and Walker, 2013): reduces the variance of a
// difference in means with a pre-period covariate x that the treatment
// cannot have affected.
//   theta = (C_c + C_t) / (M2x_c + M2x_t), the within-arm pooled regression
//     slope of y on x (the ANCOVA slope: it is not moved by the treatment
//     effect on mean y, as a slope over the two arms thrown together would
//     be).
//   adjusted arm mean = mean_y - theta (mean_x - overall mean_x),
//   adjusted arm variance = s_y^2 - 2 theta s_yx + theta^2 s_x^2
//     (the sample variance of y - theta x, exactly),
// then Welch on the adjusted means and variances. theta is treated as known
// (its estimation costs one degree of freedom; negligible at the sample
// sizes CUPED is for). When x has no variance theta is 0 and the adjusted
// comparison equals the unadjusted one. InvalidArgument for invalid options.
absl::StatusOr<CupedComparison> CupedAdjust(const CovarianceSummary& control,
                                            const CovarianceSummary& treatment,
                                            const CompareOptions& options = {});

struct Interval {
  double low = Comparison::kNaN;
  double high = Comparison::kNaN;
};

// Wilson score interval for one rate, successes / n:
//   (p + z^2/2n +- z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n).
// Stays inside [0, 1] and behaves at 0/n and n/n, unlike p +- z SE.
// {NaN, NaN} when n == 0. InvalidArgument when successes > n or confidence
// is outside (0, 1).
absl::StatusOr<Interval> WilsonInterval(uint64_t successes, uint64_t n, double confidence = 0.95);

// The usual sample-ratio-mismatch threshold: so many experiments are checked
// that a looser one would cry wolf, and a real assignment bug gives p-values
// far below it.
inline constexpr double kSrmThreshold = 0.001;

struct SampleRatioCheck {
  double chi_square = Comparison::kNaN;
  double degrees_of_freedom = Comparison::kNaN;  // arms - 1
  double p_value = Comparison::kNaN;             // NaN when no observations
  bool mismatch = false;                         // p_value < threshold
  std::vector<double> expected;                  // expected count per arm
};

// Chi-square goodness-of-fit of the observed count per arm against the
// designed shares (any positive weights; they are normalised, so {1, 1} and
// {0.5, 0.5} are the same design): chi^2 = sum (O - E)^2 / E on arms - 1
// df. A mismatch means assignment or logging is broken and no comparison
// from the experiment should be trusted. InvalidArgument when the sizes
// differ, there are fewer than 2 arms, a share is not finite and positive,
// or the threshold is outside (0, 1).
absl::StatusOr<SampleRatioCheck> SampleRatioMismatch(std::span<const uint64_t> observed,
                                                     std::span<const double> expected_shares,
                                                     double threshold = kSrmThreshold);

struct AdjustedPValues {
  std::vector<double> p_values;  // in the order given
  std::string method;            // for display, e.g. "Holm (family-wise), 5 comparisons"
};

// Holm's step-down adjustment, which controls the family-wise error rate:
// with p sorted ascending, adj_(i) = max_{j<=i} min(1, (m - j + 1) p_(j)).
// Benjamini-Hochberg's step-up adjustment, which controls the false
// discovery rate: adj_(i) = min_{j>=i} min(1, m p_(j) / j).
// Both match R's p.adjust and return values in the original order, never
// below the raw p-value and capped at 1. NaN entries (comparisons without
// enough data to test) stay NaN and are not counted in the family size m.
// InvalidArgument for a value outside [0, 1].
absl::StatusOr<AdjustedPValues> HolmAdjust(std::span<const double> p_values);
absl::StatusOr<AdjustedPValues> BenjaminiHochbergAdjust(std::span<const double> p_values);

}  // namespace upfront
