#include "src/measure/statistics.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <utility>

#include <boost/math/distributions/chi_squared.hpp>
#include <boost/math/distributions/normal.hpp>
#include <boost/math/distributions/students_t.hpp>

namespace upfront {
namespace {

namespace bm = boost::math;

// Boost.Math throws on domain errors by default; the checks below keep the
// arguments in range, and this policy makes any case they miss come back as
// NaN instead of an exception escaping the module.
using NoThrow = bm::policies::policy<bm::policies::domain_error<bm::policies::ignore_error>,
                                     bm::policies::pole_error<bm::policies::ignore_error>,
                                     bm::policies::overflow_error<bm::policies::ignore_error>,
                                     bm::policies::evaluation_error<bm::policies::ignore_error>>;
using Normal = bm::normal_distribution<double, NoThrow>;
using StudentsT = bm::students_t_distribution<double, NoThrow>;
using ChiSquared = bm::chi_squared_distribution<double, NoThrow>;

constexpr double kNaN = Comparison::kNaN;
constexpr double kInf = std::numeric_limits<double>::infinity();

absl::Status ValidateConfidence(double confidence) {
  if (!(confidence > 0.0 && confidence < 1.0)) {
    return absl::InvalidArgumentError("confidence " + std::to_string(confidence) +
                                      " is outside (0, 1); use e.g. 0.95 for a 95% interval");
  }
  return absl::OkStatus();
}

absl::Status ValidateOptions(const CompareOptions& options) {
  UPFRONT_RETURN_IF_ERROR(ValidateConfidence(options.confidence));
  if (!(options.sequential_mixing_sd > 0.0) || !std::isfinite(options.sequential_mixing_sd)) {
    return absl::InvalidArgumentError("sequential_mixing_sd " +
                                      std::to_string(options.sequential_mixing_sd) +
                                      " must be a positive number of standard deviations");
  }
  return absl::OkStatus();
}

// The upper alpha/2 point: z for z-tests (df infinite), t for t-tests.
double CriticalValue(double confidence, double df) {
  const double tail = (1.0 - confidence) / 2.0;
  if (std::isinf(df)) return bm::quantile(bm::complement(Normal(), tail));
  if (!(df > 0.0)) return kNaN;
  return bm::quantile(bm::complement(StudentsT(df), tail));
}

double TwoSidedP(double statistic, double df) {
  const double a = std::fabs(statistic);
  if (std::isnan(a)) return kNaN;
  if (std::isinf(df)) return 2.0 * bm::cdf(bm::complement(Normal(), a));
  if (!(df > 0.0)) return kNaN;
  return std::min(1.0, 2.0 * bm::cdf(bm::complement(StudentsT(df), a)));
}

// What a comparison method contributes before the shared arithmetic.
struct ArmEstimates {
  double control = kNaN;
  double treatment = kNaN;
  uint64_t n_control = 0;
  uint64_t n_treatment = 0;
  double se_interval = kNaN;  // SE of the difference for the interval
  double se_test = kNaN;      // SE of the difference under the null, for p
  double df = kInf;           // infinite for z
  // Pooled per-observation variance of the metric; scales the mixing
  // variance of the sequential interval.
  double unit_variance = kNaN;
};

Comparison Finish(const ArmEstimates& e, const CompareOptions& options, std::string method) {
  Comparison c;
  c.control = e.control;
  c.treatment = e.treatment;
  c.difference = e.treatment - e.control;
  c.relative_lift = (e.control != 0.0) ? c.difference / e.control : kNaN;
  c.n_control = e.n_control;
  c.n_treatment = e.n_treatment;
  c.confidence = options.confidence;
  c.enough_data = e.n_control >= options.min_per_arm && e.n_treatment >= options.min_per_arm;
  c.sequential = options.sequential;
  c.standard_error = e.se_interval;
  c.degrees_of_freedom = options.sequential ? kInf : e.df;
  const double d = c.difference;

  // Every value identical in both arms: no sampling noise is visible, so
  // the estimate is its own interval.
  auto point = [&](double se) { return se == 0.0 && !std::isnan(d); };

  if (!std::isnan(e.se_test) && e.se_test > 0.0) c.statistic = d / e.se_test;

  if (!options.sequential) {
    c.method = std::move(method);
    if (point(e.se_test)) {
      c.p_value = d == 0.0 ? 1.0 : 0.0;
    } else if (e.se_test > 0.0) {
      c.p_value = TwoSidedP(c.statistic, e.df);
    }
    if (point(e.se_interval)) {
      c.ci_low = c.ci_high = d;
    } else if (e.se_interval > 0.0) {
      const double half = CriticalValue(options.confidence, e.df) * e.se_interval;
      c.ci_low = d - half;
      c.ci_high = d + half;
    }
    return c;
  }

  // Always valid: the normal-mixture SPRT with mixing variance tau2.
  c.method = std::move(method) + ", always-valid (mSPRT)";
  const double alpha = 1.0 - options.confidence;
  const double tau2 = options.sequential_mixing_sd * options.sequential_mixing_sd * e.unit_variance;
  const double v = e.se_interval * e.se_interval;
  const double v_test = e.se_test * e.se_test;
  if (point(e.se_interval)) {
    c.ci_low = c.ci_high = d;
  } else if (v > 0.0 && tau2 > 0.0) {
    // h^2 = V (V + tau2) / tau2 * (2 ln(1/alpha) + ln((V + tau2) / V)).
    const double half =
        std::sqrt(v * (1.0 + v / tau2) * (-2.0 * std::log(alpha) + std::log1p(tau2 / v)));
    c.ci_low = d - half;
    c.ci_high = d + half;
  } else if (v > 0.0) {
    c.ci_low = -kInf;  // a mixture concentrated at 0 never learns anything
    c.ci_high = kInf;
  }
  if (point(e.se_test)) {
    c.p_value = d == 0.0 ? 1.0 : 0.0;
  } else if (v_test > 0.0 && tau2 > 0.0) {
    // ln Lambda = -1/2 ln(1 + tau2/V) + d^2 tau2 / (2 V (V + tau2)).
    const double log_lambda =
        -0.5 * std::log1p(tau2 / v_test) + 0.5 * (d * d / v_test) * (tau2 / (v_test + tau2));
    c.p_value = std::exp(std::min(0.0, -log_lambda));
  } else if (v_test > 0.0) {
    c.p_value = 1.0;
  }
  return c;
}

absl::Status ValidateProportion(const ProportionSummary& arm, const char* name) {
  if (arm.successes > arm.n) {
    return absl::InvalidArgumentError(std::string(name) + " arm has " +
                                      std::to_string(arm.successes) + " successes out of " +
                                      std::to_string(arm.n) + " trials");
  }
  return absl::OkStatus();
}

absl::Status ValidatePValues(std::span<const double> p_values) {
  for (size_t i = 0; i < p_values.size(); ++i) {
    const double p = p_values[i];
    if (!std::isnan(p) && !(p >= 0.0 && p <= 1.0)) {
      return absl::InvalidArgumentError("p-value " + std::to_string(p) + " at index " +
                                        std::to_string(i) + " is outside [0, 1]");
    }
  }
  return absl::OkStatus();
}

// Indices of the non-NaN p-values, ascending by p (ties keep input order).
std::vector<size_t> TestedInAscendingOrder(std::span<const double> p_values) {
  std::vector<size_t> order;
  order.reserve(p_values.size());
  for (size_t i = 0; i < p_values.size(); ++i) {
    if (!std::isnan(p_values[i])) order.push_back(i);
  }
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return p_values[a] < p_values[b]; });
  return order;
}

std::string FamilyText(const char* name, size_t m) {
  return std::string(name) + ", " + std::to_string(m) + (m == 1 ? " comparison" : " comparisons");
}

}  // namespace

// ---- MeanSummary ----

MeanSummary MeanSummary::FromMoments(uint64_t count, double mean, double m2) {
  MeanSummary s;
  s.count_ = count;
  s.mean_ = count == 0 ? 0.0 : mean;
  s.m2_ = count == 0 ? 0.0 : std::max(0.0, m2);
  return s;
}

void MeanSummary::Add(double x) {
  if (!std::isfinite(x)) return;
  ++count_;
  const double delta = x - mean_;
  mean_ += delta / static_cast<double>(count_);
  m2_ += delta * (x - mean_);
}

void MeanSummary::Merge(const MeanSummary& other) {
  if (other.count_ == 0) return;
  if (count_ == 0) {
    *this = other;
    return;
  }
  const double na = static_cast<double>(count_);
  const double nb = static_cast<double>(other.count_);
  const double n = na + nb;
  const double delta = other.mean_ - mean_;
  mean_ += delta * (nb / n);
  m2_ += other.m2_ + delta * delta * (na * nb / n);
  count_ += other.count_;
}

double MeanSummary::variance() const {
  return count_ < 2 ? kNaN : m2_ / static_cast<double>(count_ - 1);
}

// ---- ProportionSummary, NpsSummary ----

double ProportionSummary::rate() const {
  return n == 0 ? kNaN : static_cast<double>(successes) / static_cast<double>(n);
}

absl::Status NpsSummary::AddRating(int rating) {
  if (rating < 0 || rating > 10) {
    return absl::InvalidArgumentError("NPS rating " + std::to_string(rating) +
                                      " is outside the 0-10 scale");
  }
  if (rating >= 9) {
    ++promoters;
  } else if (rating >= 7) {
    ++passives;
  } else {
    ++detractors;
  }
  return absl::OkStatus();
}

void NpsSummary::Merge(const NpsSummary& other) {
  promoters += other.promoters;
  passives += other.passives;
  detractors += other.detractors;
}

double NpsSummary::score() const {
  const uint64_t total = n();
  if (total == 0) return kNaN;
  return 100.0 * (static_cast<double>(promoters) - static_cast<double>(detractors)) /
         static_cast<double>(total);
}

double NpsSummary::score_variance() const {
  const uint64_t total = n();
  if (total == 0) return kNaN;
  const double nd = static_cast<double>(total);
  const double pp = static_cast<double>(promoters) / nd;
  const double pd = static_cast<double>(detractors) / nd;
  // Var(1{P} - 1{D}) per answer = p_P + p_D - (p_P - p_D)^2.
  return 1e4 * std::max(0.0, pp + pd - (pp - pd) * (pp - pd)) / nd;
}

// ---- CovarianceSummary ----

CovarianceSummary CovarianceSummary::FromMoments(uint64_t count, double mean_y, double mean_x,
                                                 double m2_y, double m2_x, double comoment) {
  CovarianceSummary s;
  if (count == 0) return s;
  s.count_ = count;
  s.mean_y_ = mean_y;
  s.mean_x_ = mean_x;
  s.m2_y_ = std::max(0.0, m2_y);
  s.m2_x_ = std::max(0.0, m2_x);
  s.comoment_ = comoment;
  return s;
}

void CovarianceSummary::Add(double y, double x) {
  if (!std::isfinite(y) || !std::isfinite(x)) return;
  ++count_;
  const double n = static_cast<double>(count_);
  const double dx = x - mean_x_;
  const double dy = y - mean_y_;
  mean_x_ += dx / n;
  mean_y_ += dy / n;
  m2_x_ += dx * (x - mean_x_);
  m2_y_ += dy * (y - mean_y_);
  comoment_ += dx * (y - mean_y_);
}

void CovarianceSummary::Merge(const CovarianceSummary& other) {
  if (other.count_ == 0) return;
  if (count_ == 0) {
    *this = other;
    return;
  }
  const double na = static_cast<double>(count_);
  const double nb = static_cast<double>(other.count_);
  const double n = na + nb;
  const double dx = other.mean_x_ - mean_x_;
  const double dy = other.mean_y_ - mean_y_;
  const double w = na * nb / n;
  mean_x_ += dx * (nb / n);
  mean_y_ += dy * (nb / n);
  m2_x_ += other.m2_x_ + dx * dx * w;
  m2_y_ += other.m2_y_ + dy * dy * w;
  comoment_ += other.comoment_ + dx * dy * w;
  count_ += other.count_;
}

double CovarianceSummary::variance_y() const {
  return count_ < 2 ? kNaN : m2_y_ / static_cast<double>(count_ - 1);
}
double CovarianceSummary::variance_x() const {
  return count_ < 2 ? kNaN : m2_x_ / static_cast<double>(count_ - 1);
}
double CovarianceSummary::covariance() const {
  return count_ < 2 ? kNaN : comoment_ / static_cast<double>(count_ - 1);
}

// ---- Comparisons ----

absl::StatusOr<Comparison> CompareMeans(const MeanSummary& control, const MeanSummary& treatment,
                                        const CompareOptions& options) {
  UPFRONT_RETURN_IF_ERROR(ValidateOptions(options));
  ArmEstimates e;
  e.n_control = control.count();
  e.n_treatment = treatment.count();
  e.control = e.n_control > 0 ? control.mean() : kNaN;
  e.treatment = e.n_treatment > 0 ? treatment.mean() : kNaN;
  const double a = control.variance() / static_cast<double>(e.n_control);
  const double b = treatment.variance() / static_cast<double>(e.n_treatment);
  const double se2 = a + b;  // NaN when an arm has fewer than 2 values
  e.se_interval = e.se_test = std::sqrt(se2);
  e.df = se2 > 0.0 ? se2 * se2 /
                         (a * a / static_cast<double>(e.n_control - 1) +
                          b * b / static_cast<double>(e.n_treatment - 1))
                   : kNaN;
  if (e.n_control + e.n_treatment > 2) {
    e.unit_variance =
        (control.m2() + treatment.m2()) / static_cast<double>(e.n_control + e.n_treatment - 2);
  }
  return Finish(e, options, "Welch t-test");
}

absl::StatusOr<Comparison> CompareProportions(const ProportionSummary& control,
                                              const ProportionSummary& treatment,
                                              const CompareOptions& options) {
  UPFRONT_RETURN_IF_ERROR(ValidateOptions(options));
  UPFRONT_RETURN_IF_ERROR(ValidateProportion(control, "control"));
  UPFRONT_RETURN_IF_ERROR(ValidateProportion(treatment, "treatment"));
  ArmEstimates e;
  e.n_control = control.n;
  e.n_treatment = treatment.n;
  e.control = control.rate();
  e.treatment = treatment.rate();
  const double nc = static_cast<double>(control.n);
  const double nt = static_cast<double>(treatment.n);
  e.se_interval =
      std::sqrt(e.control * (1.0 - e.control) / nc + e.treatment * (1.0 - e.treatment) / nt);
  if (control.n > 0 && treatment.n > 0) {
    const double pooled = static_cast<double>(control.successes + treatment.successes) / (nc + nt);
    e.unit_variance = pooled * (1.0 - pooled);
    e.se_test = std::sqrt(e.unit_variance * (1.0 / nc + 1.0 / nt));
  }
  e.df = kInf;
  return Finish(e, options, "Two-proportion z-test");
}

absl::StatusOr<Comparison> CompareNps(const NpsSummary& control, const NpsSummary& treatment,
                                      const CompareOptions& options) {
  UPFRONT_RETURN_IF_ERROR(ValidateOptions(options));
  ArmEstimates e;
  e.n_control = control.n();
  e.n_treatment = treatment.n();
  e.control = control.score();
  e.treatment = treatment.score();
  const double vc = control.score_variance();
  const double vt = treatment.score_variance();
  e.se_interval = e.se_test = std::sqrt(vc + vt);
  if (e.n_control > 0 && e.n_treatment > 0) {
    // n * Var(score) is one answer's variance; pool the arms by their sizes.
    const double nc = static_cast<double>(e.n_control);
    const double nt = static_cast<double>(e.n_treatment);
    e.unit_variance = (nc * nc * vc + nt * nt * vt) / (nc + nt);
  }
  e.df = kInf;
  return Finish(e, options, "NPS z-test (delta method)");
}

absl::StatusOr<CupedComparison> CupedAdjust(const CovarianceSummary& control,
                                            const CovarianceSummary& treatment,
                                            const CompareOptions& options) {
  UPFRONT_RETURN_IF_ERROR(ValidateOptions(options));
  CupedComparison out;
  const double m2x = control.m2_x() + treatment.m2_x();
  out.theta = m2x > 0.0 ? (control.comoment() + treatment.comoment()) / m2x : 0.0;

  const uint64_t n = control.count() + treatment.count();
  const double mean_x_all = n == 0 ? 0.0
                                   : (static_cast<double>(control.count()) * control.mean_x() +
                                      static_cast<double>(treatment.count()) * treatment.mean_x()) /
                                         static_cast<double>(n);
  // y - theta (x - overall mean x): its mean and exact sum of squares.
  auto adjusted = [&](const CovarianceSummary& arm) {
    const double mean = arm.mean_y() - out.theta * (arm.mean_x() - mean_x_all);
    const double m2 =
        arm.m2_y() - 2.0 * out.theta * arm.comoment() + out.theta * out.theta * arm.m2_x();
    return MeanSummary::FromMoments(arm.count(), mean, m2);
  };
  auto raw = [](const CovarianceSummary& arm) {
    return MeanSummary::FromMoments(arm.count(), arm.mean_y(), arm.m2_y());
  };
  UPFRONT_ASSIGN_OR_RETURN(out.unadjusted, CompareMeans(raw(control), raw(treatment), options));
  UPFRONT_ASSIGN_OR_RETURN(out.adjusted,
                           CompareMeans(adjusted(control), adjusted(treatment), options));
  out.adjusted.method = "CUPED-adjusted " + out.adjusted.method;
  const double se_raw = out.unadjusted.standard_error;
  if (se_raw > 0.0) {
    const double se_adj = out.adjusted.standard_error;
    out.variance_reduction = 1.0 - (se_adj * se_adj) / (se_raw * se_raw);
  }
  return out;
}

absl::StatusOr<Interval> WilsonInterval(uint64_t successes, uint64_t n, double confidence) {
  UPFRONT_RETURN_IF_ERROR(ValidateConfidence(confidence));
  if (successes > n) {
    return absl::InvalidArgumentError(std::to_string(successes) + " successes out of " +
                                      std::to_string(n) + " trials");
  }
  Interval interval;
  if (n == 0) return interval;
  const double z = CriticalValue(confidence, kInf);
  const double nd = static_cast<double>(n);
  const double p = static_cast<double>(successes) / nd;
  const double z2n = z * z / nd;
  const double center = (p + z2n / 2.0) / (1.0 + z2n);
  const double half = z / (1.0 + z2n) * std::sqrt(p * (1.0 - p) / nd + z2n / (4.0 * nd));
  interval.low = std::max(0.0, center - half);
  interval.high = std::min(1.0, center + half);
  return interval;
}

absl::StatusOr<SampleRatioCheck> SampleRatioMismatch(std::span<const uint64_t> observed,
                                                     std::span<const double> expected_shares,
                                                     double threshold) {
  if (observed.size() != expected_shares.size()) {
    return absl::InvalidArgumentError("sample ratio check has " + std::to_string(observed.size()) +
                                      " observed counts but " +
                                      std::to_string(expected_shares.size()) + " expected shares");
  }
  if (observed.size() < 2) {
    return absl::InvalidArgumentError("sample ratio check needs at least 2 arms");
  }
  if (!(threshold > 0.0 && threshold < 1.0)) {
    return absl::InvalidArgumentError("sample ratio threshold " + std::to_string(threshold) +
                                      " is outside (0, 1)");
  }
  double share_total = 0.0;
  for (size_t i = 0; i < expected_shares.size(); ++i) {
    const double s = expected_shares[i];
    if (!std::isfinite(s) || !(s > 0.0)) {
      return absl::InvalidArgumentError("expected share " + std::to_string(s) + " of arm " +
                                        std::to_string(i) + " is not a positive number");
    }
    share_total += s;
  }
  const double total =
      static_cast<double>(std::accumulate(observed.begin(), observed.end(), uint64_t{0}));

  SampleRatioCheck check;
  check.degrees_of_freedom = static_cast<double>(observed.size() - 1);
  check.expected.reserve(observed.size());
  double chi_square = 0.0;
  for (size_t i = 0; i < observed.size(); ++i) {
    const double expected = total * expected_shares[i] / share_total;
    check.expected.push_back(expected);
    if (total > 0.0) {
      const double diff = static_cast<double>(observed[i]) - expected;
      chi_square += diff * diff / expected;
    }
  }
  if (total == 0.0) return check;
  check.chi_square = chi_square;
  check.p_value = bm::cdf(bm::complement(ChiSquared(check.degrees_of_freedom), chi_square));
  check.mismatch = check.p_value < threshold;
  return check;
}

absl::StatusOr<AdjustedPValues> HolmAdjust(std::span<const double> p_values) {
  UPFRONT_RETURN_IF_ERROR(ValidatePValues(p_values));
  const std::vector<size_t> order = TestedInAscendingOrder(p_values);
  const size_t m = order.size();
  AdjustedPValues out;
  out.p_values.assign(p_values.begin(), p_values.end());  // NaN stays NaN
  double running_max = 0.0;
  for (size_t rank = 0; rank < m; ++rank) {
    const double p = p_values[order[rank]];
    running_max = std::max(running_max, std::min(1.0, static_cast<double>(m - rank) * p));
    out.p_values[order[rank]] = running_max;
  }
  out.method = FamilyText("Holm (family-wise error)", m);
  return out;
}

absl::StatusOr<AdjustedPValues> BenjaminiHochbergAdjust(std::span<const double> p_values) {
  UPFRONT_RETURN_IF_ERROR(ValidatePValues(p_values));
  const std::vector<size_t> order = TestedInAscendingOrder(p_values);
  const size_t m = order.size();
  AdjustedPValues out;
  out.p_values.assign(p_values.begin(), p_values.end());
  double running_min = 1.0;
  for (size_t rank = m; rank-- > 0;) {
    const double p = p_values[order[rank]];
    // p * (m / rank) rather than m * p / rank: the factor is exactly 1 at
    // the top rank, so no adjusted value rounds below its raw p-value.
    running_min =
        std::min(running_min, p * (static_cast<double>(m) / static_cast<double>(rank + 1)));
    out.p_values[order[rank]] = running_min;
  }
  out.method = FamilyText("Benjamini-Hochberg (false discovery rate)", m);
  return out;
}

}  // namespace upfront
