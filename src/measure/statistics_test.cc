#include "src/measure/statistics.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace upfront {
namespace {

using ::testing::DoubleNear;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Deterministic draws on every toolchain: std::mt19937_64's output is fixed
// by the standard, but std::normal_distribution and friends are not, so the
// conversions are written out here.
class Draws {
 public:
  explicit Draws(uint64_t seed) : engine_(seed) {}

  double Uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }  // [0, 1)
  bool Bernoulli(double p) { return Uniform() < p; }
  uint64_t Below(uint64_t n) { return engine_() % n; }  // bias ~n/2^64, irrelevant here

  // Box-Muller.
  double Normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    const double r = std::sqrt(-2.0 * std::log(1.0 - Uniform()));
    const double angle = 2.0 * M_PI * Uniform();
    spare_ = r * std::sin(angle);
    has_spare_ = true;
    return r * std::cos(angle);
  }

  // Index i with probability probs[i].
  int Categorical(std::span<const double> probs) {
    double u = Uniform();
    for (size_t i = 0; i + 1 < probs.size(); ++i) {
      if (u < probs[i]) return static_cast<int>(i);
      u -= probs[i];
    }
    return static_cast<int>(probs.size()) - 1;
  }

 private:
  std::mt19937_64 engine_;
  bool has_spare_ = false;
  double spare_ = 0.0;
};

// Kolmogorov-Smirnov distance of the sample from Uniform(0, 1).
double KsAgainstUniform(std::vector<double> p) {
  std::sort(p.begin(), p.end());
  const double n = static_cast<double>(p.size());
  double d = 0.0;
  for (size_t i = 0; i < p.size(); ++i) {
    d = std::max({d, (static_cast<double>(i) + 1.0) / n - p[i], p[i] - static_cast<double>(i) / n});
  }
  return d;
}

// Pearson chi-square of the p-values' decile counts against 10% each.
double DecileChiSquare(const std::vector<double>& p) {
  std::array<double, 10> counts{};
  for (double v : p) counts[std::min(9, static_cast<int>(v * 10.0))] += 1.0;
  const double expected = static_cast<double>(p.size()) / 10.0;
  double chi = 0.0;
  for (double c : counts) chi += (c - expected) * (c - expected) / expected;
  return chi;
}

bool Covers(const Comparison& c, double value) { return c.ci_low <= value && value <= c.ci_high; }

MeanSummary Summarize(const std::vector<double>& values) {
  MeanSummary s;
  for (double v : values) s.Add(v);
  return s;
}

// CSAT ratings 1-5: the holdout's answers, and the treated arm's with the
// mean moved up by exactly 0.3 (3.65 -> 3.95) and the 4-5 share by 0.12
// (0.60 -> 0.72).
constexpr std::array<double, 5> kHoldoutCsat = {0.05, 0.10, 0.25, 0.35, 0.25};
constexpr std::array<double, 5> kTreatedCsat = {0.03, 0.06, 0.19, 0.37, 0.35};

// ---- Summaries ----

TEST(MeanSummaryTest, StaysExactAroundALargeOffset) {
  // Sum-of-squares arithmetic loses every digit here; Welford does not.
  const MeanSummary s = Summarize({1e9 + 4, 1e9 + 7, 1e9 + 13, 1e9 + 16});
  EXPECT_EQ(s.count(), 4u);
  EXPECT_DOUBLE_EQ(s.mean(), 1e9 + 10);
  EXPECT_NEAR(s.variance(), 30.0, 1e-9);  // deviations -6 -3 3 6: 90 / 3
}

TEST(MeanSummaryTest, MergedPiecesEqualOnePass) {
  Draws draws(11);
  std::vector<double> values;
  for (int i = 0; i < 1000; ++i) values.push_back(100.0 + 15.0 * draws.Normal());
  const MeanSummary whole = Summarize(values);

  MeanSummary a = Summarize({values.begin(), values.begin() + 137});
  const MeanSummary b = Summarize({values.begin() + 137, values.begin() + 600});
  const MeanSummary c = Summarize({values.begin() + 600, values.end()});
  a.Merge(b);
  a.Merge(MeanSummary());
  MeanSummary merged;
  merged.Merge(a);
  merged.Merge(c);

  EXPECT_EQ(merged.count(), whole.count());
  EXPECT_NEAR(merged.mean(), whole.mean(), 1e-12 * whole.mean());
  EXPECT_NEAR(merged.m2(), whole.m2(), 1e-9 * whole.m2());
}

TEST(MeanSummaryTest, SkipsNonFiniteValuesAndHasNoVarianceBelowTwo) {
  MeanSummary s;
  s.Add(kNaN);
  s.Add(std::numeric_limits<double>::infinity());
  EXPECT_EQ(s.count(), 0u);
  s.Add(4.0);
  EXPECT_EQ(s.count(), 1u);
  EXPECT_TRUE(std::isnan(s.variance()));
  s.Add(2.0);
  EXPECT_DOUBLE_EQ(s.variance(), 2.0);
}

TEST(CovarianceSummaryTest, MergedPiecesEqualTwoPassMoments) {
  Draws draws(12);
  std::vector<std::pair<double, double>> pairs;
  for (int i = 0; i < 500; ++i) {
    const double x = 50.0 + draws.Normal();
    pairs.emplace_back(3.0 + 0.5 * x + draws.Normal(), x);
  }
  double my = 0, mx = 0;
  for (auto [y, x] : pairs) {
    my += y / 500;
    mx += x / 500;
  }
  double syy = 0, sxx = 0, sxy = 0;  // two-pass moments
  for (auto [y, x] : pairs) {
    syy += (y - my) * (y - my);
    sxx += (x - mx) * (x - mx);
    sxy += (y - my) * (x - mx);
  }

  CovarianceSummary a, b;
  for (int i = 0; i < 500; ++i) (i < 321 ? a : b).Add(pairs[i].first, pairs[i].second);
  a.Merge(b);
  a.Add(kNaN, 1.0);  // skipped
  EXPECT_EQ(a.count(), 500u);
  EXPECT_NEAR(a.mean_y(), my, 1e-12);
  EXPECT_NEAR(a.mean_x(), mx, 1e-12);
  EXPECT_NEAR(a.variance_y(), syy / 499, 1e-10);
  EXPECT_NEAR(a.variance_x(), sxx / 499, 1e-10);
  EXPECT_NEAR(a.covariance(), sxy / 499, 1e-10);
}

TEST(NpsSummaryTest, BucketsTheZeroToTenScaleAndRejectsOtherRatings) {
  NpsSummary s;
  for (int r = 0; r <= 10; ++r) ASSERT_TRUE(s.AddRating(r).ok());
  EXPECT_EQ(s.promoters, 2u);   // 9, 10
  EXPECT_EQ(s.passives, 2u);    // 7, 8
  EXPECT_EQ(s.detractors, 7u);  // 0-6
  EXPECT_DOUBLE_EQ(s.score(), 100.0 * (2.0 - 7.0) / 11.0);

  EXPECT_EQ(s.AddRating(11).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.AddRating(-1).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.n(), 11u);
  EXPECT_TRUE(std::isnan(NpsSummary().score()));
}

// ---- Hand-checkable values ----

TEST(CompareMeansTest, MatchesRsWelchTestOnTheSleepData) {
  // Student's sleep data (R's `sleep`): extra hours of sleep under two drugs.
  // R: t.test(extra ~ group, data = sleep) prints
  //   t = -1.8608, df = 17.776, p-value = 0.07939
  //   95 percent confidence interval: -3.3654832  0.2054832
  // for group 1 - group 2; here difference = group 2 - group 1, so the signs
  // flip. More digits recomputed with mpmath (regularized incomplete beta).
  const MeanSummary group1 = Summarize({0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0});
  const MeanSummary group2 = Summarize({1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4});
  absl::StatusOr<Comparison> c = CompareMeans(group1, group2, {.min_per_arm = 10});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_DOUBLE_EQ(c->control, 0.75);
  EXPECT_DOUBLE_EQ(c->treatment, 2.33);
  EXPECT_NEAR(c->difference, 1.58, 1e-12);
  EXPECT_NEAR(c->statistic, 1.8608134674868531, 1e-9);
  EXPECT_NEAR(c->degrees_of_freedom, 17.776473516178490, 1e-9);
  EXPECT_NEAR(c->p_value, 0.079394140187358138, 1e-9);
  EXPECT_NEAR(c->ci_low, -0.20548323071171097, 1e-9);
  EXPECT_NEAR(c->ci_high, 3.3654832307117110, 1e-9);
  EXPECT_NEAR(c->relative_lift, 1.58 / 0.75, 1e-12);
  EXPECT_TRUE(c->enough_data);
  EXPECT_EQ(c->method, "Welch t-test");
}

TEST(CompareProportionsTest, MatchesHandComputedZTest) {
  // 100/1000 vs 130/1000. Pooled p = 0.115, SE0 = sqrt(.115 * .885 * .002)
  // = 0.0142671, z = 0.03 / SE0 = 2.10274, p = 0.0354885 (R:
  // prop.test(c(130, 100), c(1000, 1000), correct = FALSE) gives X-squared
  // = z^2 = 4.4215). Unpooled SE = sqrt(.09/1000 + .1131/1000) = 0.0142513;
  // CI = 0.03 -+ 1.959964 * 0.0142513 = (0.0020679, 0.0579321).
  absl::StatusOr<Comparison> c =
      CompareProportions({.n = 1000, .successes = 100}, {.n = 1000, .successes = 130});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_DOUBLE_EQ(c->control, 0.10);
  EXPECT_DOUBLE_EQ(c->treatment, 0.13);
  EXPECT_NEAR(c->statistic, 2.1027406056221143, 1e-9);
  EXPECT_NEAR(c->p_value, 0.035488450466474692, 1e-9);
  EXPECT_NEAR(c->ci_low, 0.0020679344393763643, 1e-9);
  EXPECT_NEAR(c->ci_high, 0.057932065560623636, 1e-9);
  EXPECT_NEAR(c->relative_lift, 0.3, 1e-12);
  EXPECT_TRUE(std::isinf(c->degrees_of_freedom));
}

TEST(CompareNpsTest, MatchesHandComputedDeltaMethodZTest) {
  // Control 400/300/300 (P/passive/D): NPS 10, Var = 1e4 (0.7 - 0.1^2) / 1000
  // = 6.9. Treatment 500/250/250: NPS 25, Var = 1e4 (0.75 - 0.25^2) / 1000 =
  // 6.875. SE = sqrt(13.775) = 3.711469, z = 15 / SE = 4.041527,
  // p = 5.31043e-5, CI = 15 -+ 1.959964 SE = (7.725655, 22.274345).
  const NpsSummary control{.promoters = 400, .passives = 300, .detractors = 300};
  const NpsSummary treatment{.promoters = 500, .passives = 250, .detractors = 250};
  EXPECT_NEAR(control.score_variance(), 6.9, 1e-12);
  absl::StatusOr<Comparison> c = CompareNps(control, treatment);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_NEAR(c->control, 10.0, 1e-12);
  EXPECT_NEAR(c->treatment, 25.0, 1e-12);
  EXPECT_NEAR(c->standard_error, 3.7114687119791270, 1e-9);
  EXPECT_NEAR(c->statistic, 4.0415267281079423, 1e-9);
  EXPECT_NEAR(c->p_value, 5.3104326827016410e-5, 1e-12);
  EXPECT_NEAR(c->ci_low, 7.7256549947736473, 1e-8);
  EXPECT_NEAR(c->ci_high, 22.274345005226353, 1e-8);
}

TEST(WilsonIntervalTest, EightOfTenAndZeroOfTenAt95Percent) {
  // 8/10: (0.4902, 0.9433), the textbook example (Wilson, 1927; Newcombe,
  // 1998). 0/10: upper limit z^2 / (n + z^2) = 3.841459 / 13.841459.
  absl::StatusOr<Interval> eight = WilsonInterval(8, 10);
  ASSERT_TRUE(eight.ok());
  EXPECT_NEAR(eight->low, 0.49016247153664170, 1e-9);
  EXPECT_NEAR(eight->high, 0.94331784854562475, 1e-9);
  absl::StatusOr<Interval> zero = WilsonInterval(0, 10);
  ASSERT_TRUE(zero.ok());
  EXPECT_EQ(zero->low, 0.0);
  EXPECT_NEAR(zero->high, 0.27753279986288925, 1e-9);
}

TEST(WilsonIntervalTest, EmptyIsNaNAndContradictionsAreErrors) {
  absl::StatusOr<Interval> empty = WilsonInterval(0, 0);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(std::isnan(empty->low) && std::isnan(empty->high));
  EXPECT_EQ(WilsonInterval(11, 10).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(WilsonInterval(1, 10, 1.0).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(SampleRatioMismatchTest, FlagsFiftyFourHundredAgainstFiveThousandOnly) {
  // 50/50 design. 5000 vs 5400: E = 5200, chi^2 = 2 * 200^2 / 5200 =
  // 15.3846, p = erfc(sqrt(chi^2 / 2)) = 8.76994e-5 < 0.001. 5000 vs 5050:
  // chi^2 = 2 * 25^2 / 5025 = 0.248756, p = 0.617952.
  const std::vector<double> even = {0.5, 0.5};
  const std::vector<uint64_t> skewed = {5000, 5400};
  absl::StatusOr<SampleRatioCheck> bad = SampleRatioMismatch(skewed, even);
  ASSERT_TRUE(bad.ok()) << bad.status();
  EXPECT_NEAR(bad->chi_square, 15.384615384615385, 1e-9);
  EXPECT_NEAR(bad->p_value, 8.7699423755902331e-5, 1e-12);
  EXPECT_EQ(bad->degrees_of_freedom, 1.0);
  EXPECT_THAT(bad->expected, ElementsAre(5200.0, 5200.0));
  EXPECT_TRUE(bad->mismatch);

  const std::vector<uint64_t> fine = {5000, 5050};
  absl::StatusOr<SampleRatioCheck> good = SampleRatioMismatch(fine, even);
  ASSERT_TRUE(good.ok());
  EXPECT_NEAR(good->chi_square, 0.24875621890547264, 1e-12);
  EXPECT_NEAR(good->p_value, 0.61795222667956246, 1e-9);
  EXPECT_FALSE(good->mismatch);
}

TEST(SampleRatioMismatchTest, ThreeArmsWithWeightsMatchTheClosedForm) {
  // Weights 2:1:1 of 10000: E = 5000, 2500, 2500; observed 5000, 2600, 2400:
  // chi^2 = 0 + 4 + 4 = 8 on 2 df, whose survival function is exp(-x/2).
  const std::vector<uint64_t> observed = {5000, 2600, 2400};
  const std::vector<double> weights = {2, 1, 1};
  absl::StatusOr<SampleRatioCheck> check = SampleRatioMismatch(observed, weights);
  ASSERT_TRUE(check.ok());
  EXPECT_NEAR(check->chi_square, 8.0, 1e-12);
  EXPECT_NEAR(check->p_value, std::exp(-4.0), 1e-12);
  EXPECT_FALSE(check->mismatch);
}

TEST(SampleRatioMismatchTest, ThresholdIsAParameter) {
  // 5000 vs 5200: chi^2 = 2 * 100^2 / 5100 = 3.92157, p = 0.0476704.
  const std::vector<uint64_t> observed = {5000, 5200};
  const std::vector<double> even = {1, 1};
  EXPECT_FALSE(SampleRatioMismatch(observed, even)->mismatch);
  EXPECT_TRUE(SampleRatioMismatch(observed, even, 0.05)->mismatch);
}

TEST(SampleRatioMismatchTest, RejectsMalformedDesignsAndToleratesNoTraffic) {
  const std::vector<uint64_t> two = {10, 10};
  const std::vector<uint64_t> one = {10};
  const std::vector<double> three_shares = {1, 1, 1};
  const std::vector<double> zero_share = {1, 0};
  const std::vector<double> one_share = {1};
  EXPECT_EQ(SampleRatioMismatch(two, three_shares).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SampleRatioMismatch(two, zero_share).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SampleRatioMismatch(one, one_share).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(SampleRatioMismatch(two, zero_share).status().message(), HasSubstr("arm 1"));

  const std::vector<uint64_t> none = {0, 0};
  const std::vector<double> even = {1, 1};
  absl::StatusOr<SampleRatioCheck> check = SampleRatioMismatch(none, even);
  ASSERT_TRUE(check.ok());
  EXPECT_TRUE(std::isnan(check->p_value));
  EXPECT_FALSE(check->mismatch);
}

TEST(MultipleComparisonsTest, HolmAndBenjaminiHochbergOnAKnownVector) {
  // p = {0.031, 0.001, 0.03, 0.6, 0.012}, m = 5. Sorted: 0.001, 0.012, 0.03,
  // 0.031, 0.6.
  // Holm, (m - j + 1) p_(j) with a running max:
  //   5 * .001 = .005; 4 * .012 = .048; 3 * .03 = .09; 2 * .031 = .062 -> .09
  //   (the running max); 1 * .6 = .6.
  // BH, m p_(j) / j with a running min from the top:
  //   .6; 5/4 * .031 = .03875; 5/3 * .03 = .05 -> .03875 (the running min);
  //   5/2 * .012 = .03; 5 * .001 = .005.
  const std::vector<double> p = {0.031, 0.001, 0.03, 0.6, 0.012};
  absl::StatusOr<AdjustedPValues> holm = HolmAdjust(p);
  ASSERT_TRUE(holm.ok());
  EXPECT_THAT(holm->p_values, ElementsAre(DoubleNear(0.09, 1e-15), DoubleNear(0.005, 1e-15),
                                          DoubleNear(0.09, 1e-15), DoubleNear(0.6, 1e-15),
                                          DoubleNear(0.048, 1e-15)));
  EXPECT_EQ(holm->method, "Holm (family-wise error), 5 comparisons");

  absl::StatusOr<AdjustedPValues> bh = BenjaminiHochbergAdjust(p);
  ASSERT_TRUE(bh.ok());
  EXPECT_THAT(bh->p_values, ElementsAre(DoubleNear(0.03875, 1e-15), DoubleNear(0.005, 1e-15),
                                        DoubleNear(0.03875, 1e-15), DoubleNear(0.6, 1e-15),
                                        DoubleNear(0.03, 1e-15)));
  EXPECT_EQ(bh->method, "Benjamini-Hochberg (false discovery rate), 5 comparisons");
}

TEST(MultipleComparisonsTest, CapsAtOneSkipsNaNAndRejectsNonProbabilities) {
  // {0.6, 0.7}: Holm 2 * .6 = 1.2 -> 1, then max(1, .7) = 1. BH: .7, then
  // min(2 * .6, .7) = .7.
  const std::vector<double> high = {0.6, 0.7};
  EXPECT_THAT(HolmAdjust(high)->p_values, ElementsAre(1.0, 1.0));
  EXPECT_THAT(BenjaminiHochbergAdjust(high)->p_values, ElementsAre(0.7, 0.7));

  // A comparison without enough data to test is not part of the family.
  const std::vector<double> with_gap = {0.01, kNaN, 0.04};
  absl::StatusOr<AdjustedPValues> holm = HolmAdjust(with_gap);
  ASSERT_TRUE(holm.ok());
  EXPECT_DOUBLE_EQ(holm->p_values[0], 0.02);
  EXPECT_TRUE(std::isnan(holm->p_values[1]));
  EXPECT_DOUBLE_EQ(holm->p_values[2], 0.04);
  EXPECT_THAT(holm->method, HasSubstr("2 comparisons"));

  const std::vector<double> bad = {0.2, 1.5};
  EXPECT_EQ(HolmAdjust(bad).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(BenjaminiHochbergAdjust(bad).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(HolmAdjust(std::vector<double>{})->p_values.empty());
}

TEST(MultipleComparisonsTest, AdjustedValuesKeepTheRawOrderAndNeverShrink) {
  Draws draws(13);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<double> p(12);
    for (double& v : p) v = std::pow(draws.Uniform(), 3.0);  // many small ones
    const std::vector<double> holm = HolmAdjust(p)->p_values;
    const std::vector<double> bh = BenjaminiHochbergAdjust(p)->p_values;
    for (size_t i = 0; i < p.size(); ++i) {
      EXPECT_GE(holm[i], p[i]);
      EXPECT_GE(bh[i], p[i]);
      EXPECT_LE(holm[i], 1.0);
      EXPECT_LE(bh[i], holm[i] + 1e-15);  // BH is never stricter than Holm
      for (size_t j = 0; j < p.size(); ++j) {
        if (p[i] < p[j]) {
          EXPECT_LE(holm[i], holm[j]);
          EXPECT_LE(bh[i], bh[j]);
        }
      }
    }
  }
}

// ---- Contracts for thin or degenerate data ----

TEST(CompareContractTest, ThinArmsStillGetNumbersButNotEnoughData) {
  Draws draws(14);
  MeanSummary control, treatment;
  for (int i = 0; i < 99; ++i) control.Add(3.5 + draws.Normal());
  for (int i = 0; i < 400; ++i) treatment.Add(3.6 + draws.Normal());
  absl::StatusOr<Comparison> c = CompareMeans(control, treatment);
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(c->enough_data);  // 99 < the default 100
  EXPECT_TRUE(std::isfinite(c->p_value));
  EXPECT_TRUE(std::isfinite(c->ci_low) && std::isfinite(c->ci_high));
  EXPECT_EQ(c->n_control, 99u);
  EXPECT_EQ(c->n_treatment, 400u);
  EXPECT_TRUE(CompareMeans(control, treatment, {.min_per_arm = 99})->enough_data);

  // One value has no variance: the estimates stand, the inference is NaN.
  const MeanSummary single = Summarize({4.0});
  absl::StatusOr<Comparison> lone = CompareMeans(single, treatment);
  ASSERT_TRUE(lone.ok());
  EXPECT_DOUBLE_EQ(lone->control, 4.0);
  EXPECT_TRUE(std::isnan(lone->p_value) && std::isnan(lone->ci_low));

  absl::StatusOr<Comparison> empty = CompareProportions({}, {.n = 10, .successes = 3});
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(std::isnan(empty->control) && std::isnan(empty->p_value));
  EXPECT_FALSE(empty->enough_data);
}

TEST(CompareContractTest, RelativeLiftIsNaNWhenControlIsZero) {
  absl::StatusOr<Comparison> c =
      CompareProportions({.n = 500, .successes = 0}, {.n = 500, .successes = 5});
  ASSERT_TRUE(c.ok());
  EXPECT_DOUBLE_EQ(c->difference, 0.01);
  EXPECT_TRUE(std::isnan(c->relative_lift));
}

TEST(CompareContractTest, IdenticalValuesGiveAPointInterval) {
  const MeanSummary fives = MeanSummary::FromMoments(200, 5.0, 0.0);
  absl::StatusOr<Comparison> c = CompareMeans(fives, fives);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->ci_low, 0.0);
  EXPECT_EQ(c->ci_high, 0.0);
  EXPECT_EQ(c->p_value, 1.0);
  absl::StatusOr<Comparison> all = CompareProportions(
      {.n = 300, .successes = 300}, {.n = 300, .successes = 300}, {.sequential = true});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->ci_low, 0.0);
  EXPECT_EQ(all->p_value, 1.0);
}

TEST(CompareContractTest, RejectsInvalidOptionsAndImpossibleCounts) {
  const MeanSummary s = Summarize({1, 2, 3});
  for (double confidence : {0.0, 1.0, 1.5, -0.1, kNaN}) {
    EXPECT_EQ(CompareMeans(s, s, {.confidence = confidence}).status().code(),
              absl::StatusCode::kInvalidArgument)
        << confidence;
  }
  EXPECT_EQ(CompareMeans(s, s, {.sequential = true, .sequential_mixing_sd = 0.0}).status().code(),
            absl::StatusCode::kInvalidArgument);
  absl::StatusOr<Comparison> c =
      CompareProportions({.n = 10, .successes = 11}, {.n = 10, .successes = 1});
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(c.status().message(), HasSubstr("control arm has 11 successes out of 10"));
}

// ---- Planted effects ----

TEST(PlantedEffectTest, CsatLiftOfPointThreeIsFoundAndCovered) {
  Draws draws(20240601);
  MeanSummary holdout, treated;
  ProportionSummary holdout_satisfied, treated_satisfied;
  for (int i = 0; i < 5000; ++i) {
    const int h = 1 + draws.Categorical(kHoldoutCsat);
    const int t = 1 + draws.Categorical(kTreatedCsat);
    holdout.Add(h);
    treated.Add(t);
    holdout_satisfied.Add(h >= 4);
    treated_satisfied.Add(t >= 4);
  }
  absl::StatusOr<Comparison> mean = CompareMeans(holdout, treated);
  ASSERT_TRUE(mean.ok());
  EXPECT_LT(mean->p_value, 0.05);
  EXPECT_TRUE(Covers(*mean, 0.3)) << mean->ci_low << " " << mean->ci_high;
  EXPECT_FALSE(Covers(*mean, 0.0));
  EXPECT_TRUE(mean->enough_data);

  absl::StatusOr<Comparison> share = CompareProportions(holdout_satisfied, treated_satisfied);
  ASSERT_TRUE(share.ok());
  EXPECT_LT(share->p_value, 0.05);
  EXPECT_TRUE(Covers(*share, 0.12)) << share->ci_low << " " << share->ci_high;

  absl::StatusOr<Interval> holdout_rate =
      WilsonInterval(holdout_satisfied.successes, holdout_satisfied.n);
  ASSERT_TRUE(holdout_rate.ok());
  EXPECT_LE(holdout_rate->low, 0.60);
  EXPECT_GE(holdout_rate->high, 0.60);
}

// ---- Calibration under the null ----

TEST(NullEffectTest, WelchPValuesAreUniformAndIntervalsCoverZero) {
  // Equal means, unequal spreads and sizes: where Welch earns its keep (a
  // pooled-variance t-test is miscalibrated here).
  constexpr int kRuns = 2000;
  Draws draws(30);
  std::vector<double> p_values;
  int covered = 0;
  for (int run = 0; run < kRuns; ++run) {
    MeanSummary control, treatment;
    for (int i = 0; i < 200; ++i) control.Add(3.5 + draws.Normal());
    for (int i = 0; i < 120; ++i) treatment.Add(3.5 + 2.0 * draws.Normal());
    absl::StatusOr<Comparison> c = CompareMeans(control, treatment);
    ASSERT_TRUE(c.ok());
    p_values.push_back(c->p_value);
    covered += Covers(*c, 0.0);
  }
  RecordProperty("ks", std::to_string(KsAgainstUniform(p_values)));
  RecordProperty("covered", covered);
  EXPECT_LT(KsAgainstUniform(p_values), 1.63 / std::sqrt(kRuns));  // KS 1% critical value
  EXPECT_GE(covered, 0.93 * kRuns);
  EXPECT_LE(covered, 0.97 * kRuns);
}

TEST(NullEffectTest, ProportionPValuesAreUniformAtFiveThousandPerArm) {
  // The z statistic lives on a lattice (the difference in success counts),
  // so its p-values come in atoms: at 200 per arm they pile up at ~0.91 and
  // 1, and even at 1,000 per arm the exact decile shares (summed over the
  // two binomials) range from 7.7% to 11.5%, which alone would push this
  // chi-square to ~27. At 5,000 per arm they are within 0.5% of 10%, so a
  // failure here means the test, not the lattice. The levels that decide
  // anything (5%) are checked at 200 per arm below.
  constexpr int kRuns = 2000;
  Draws draws(31);
  std::vector<double> p_values;
  for (int run = 0; run < kRuns; ++run) {
    ProportionSummary control, treatment;
    for (int i = 0; i < 5000; ++i) control.Add(draws.Bernoulli(0.3));
    for (int i = 0; i < 5000; ++i) treatment.Add(draws.Bernoulli(0.3));
    p_values.push_back(CompareProportions(control, treatment)->p_value);
  }
  RecordProperty("decile_chi_square", std::to_string(DecileChiSquare(p_values)));
  EXPECT_LT(DecileChiSquare(p_values), 21.666);  // chi-square 9 df, 1% critical value
}

TEST(NullEffectTest, ProportionIntervalsCoverZeroAndRejectAtFivePercent) {
  constexpr int kRuns = 2000;
  Draws draws(32);
  int covered = 0;
  int rejected = 0;
  for (int run = 0; run < kRuns; ++run) {
    ProportionSummary control, treatment;
    for (int i = 0; i < 200; ++i) control.Add(draws.Bernoulli(0.3));
    for (int i = 0; i < 200; ++i) treatment.Add(draws.Bernoulli(0.3));
    absl::StatusOr<Comparison> c = CompareProportions(control, treatment);
    ASSERT_TRUE(c.ok());
    covered += Covers(*c, 0.0);
    rejected += c->p_value < 0.05;
  }
  RecordProperty("covered", covered);
  RecordProperty("rejected", rejected);
  EXPECT_GE(covered, 0.93 * kRuns);
  EXPECT_LE(covered, 0.97 * kRuns);
  EXPECT_GE(rejected, 0.03 * kRuns);
  EXPECT_LE(rejected, 0.07 * kRuns);
}

// ---- NPS variance ----

TEST(NpsVarianceTest, DeltaMethodMatchesABootstrap) {
  // NPS +50, so the (p_P - p_D)^2 term matters: leaving it out would
  // overstate the variance by 55%, far outside the 10% tolerance.
  constexpr std::array<double, 3> kShares = {0.60, 0.30, 0.10};  // P, passive, D
  constexpr int kAnswers = 1000;
  constexpr int kResamples = 2000;
  Draws draws(40);
  std::vector<int> answers;
  NpsSummary observed;
  for (int i = 0; i < kAnswers; ++i) {
    answers.push_back(draws.Categorical(kShares));
    ASSERT_TRUE(observed.AddRating(answers.back() == 0 ? 10 : answers.back() == 1 ? 8 : 3).ok());
  }
  MeanSummary bootstrap_scores;
  for (int b = 0; b < kResamples; ++b) {
    NpsSummary resample;
    for (int i = 0; i < kAnswers; ++i) {
      switch (answers[draws.Below(kAnswers)]) {
        case 0:
          ++resample.promoters;
          break;
        case 1:
          ++resample.passives;
          break;
        default:
          ++resample.detractors;
          break;
      }
    }
    bootstrap_scores.Add(resample.score());
  }
  const double delta = observed.score_variance();
  RecordProperty("bootstrap_over_delta", std::to_string(bootstrap_scores.variance() / delta));
  EXPECT_NEAR(bootstrap_scores.variance() / delta, 1.0, 0.10)
      << "bootstrap " << bootstrap_scores.variance() << " delta method " << delta;
  EXPECT_NEAR(delta, 1e4 * (0.60 + 0.10 - 0.5 * 0.5) / kAnswers, 0.1 * delta);  // population
}

// ---- CUPED ----

// Customers whose pre-period x has correlation rho with the metric y.
void AddCustomers(Draws& draws, int n, double effect, double rho, CovarianceSummary& arm,
                  MeanSummary* raw_y = nullptr) {
  for (int i = 0; i < n; ++i) {
    const double x = 3.5 + draws.Normal();
    const double y = 3.5 + effect + rho * (x - 3.5) + std::sqrt(1 - rho * rho) * draws.Normal();
    arm.Add(y, x);
    if (raw_y != nullptr) raw_y->Add(y);
  }
}

TEST(CupedTest, CorrelatedCovariateNarrowsTheIntervalAndKeepsTheEffect) {
  Draws draws(50);
  CovarianceSummary control, treatment;
  AddCustomers(draws, 5000, 0.0, 0.7, control);
  AddCustomers(draws, 5000, 0.3, 0.7, treatment);
  absl::StatusOr<CupedComparison> cuped = CupedAdjust(control, treatment);
  ASSERT_TRUE(cuped.ok()) << cuped.status();
  RecordProperty("variance_reduction", std::to_string(cuped->variance_reduction));
  EXPECT_NEAR(cuped->theta, 0.7, 0.03);
  EXPECT_NEAR(cuped->variance_reduction, 1 - 0.49, 0.05);
  const double raw_width = cuped->unadjusted.ci_high - cuped->unadjusted.ci_low;
  const double adjusted_width = cuped->adjusted.ci_high - cuped->adjusted.ci_low;
  EXPECT_LT(adjusted_width, 0.8 * raw_width);  // sqrt(0.49) = 0.71 expected
  EXPECT_TRUE(Covers(cuped->adjusted, 0.3))
      << cuped->adjusted.ci_low << " " << cuped->adjusted.ci_high;
  EXPECT_TRUE(Covers(cuped->unadjusted, 0.3));
  EXPECT_EQ(cuped->adjusted.method, "CUPED-adjusted Welch t-test");
}

TEST(CupedTest, AdjustedComparisonIsWelchOnTheAdjustedValues) {
  // Pins the adjusted variance: Var(y - theta x) = Var y - 2 theta Cov + theta^2 Var x,
  // not Var y - theta^2 Var x (which is right only for each arm's own slope).
  Draws draws(51);
  std::vector<std::pair<double, double>> c_pairs, t_pairs;
  CovarianceSummary control, treatment;
  for (int i = 0; i < 300; ++i) {
    const double x = draws.Normal();
    c_pairs.emplace_back(0.5 * x + draws.Normal(), x);
    control.Add(c_pairs.back().first, x);
  }
  for (int i = 0; i < 200; ++i) {
    const double x = 1.0 + 2.0 * draws.Normal();
    t_pairs.emplace_back(0.2 + 1.5 * x + draws.Normal(), x);  // a different slope
    treatment.Add(t_pairs.back().first, x);
  }
  absl::StatusOr<CupedComparison> cuped = CupedAdjust(control, treatment);
  ASSERT_TRUE(cuped.ok());

  const double mean_x = (control.mean_x() * 300 + treatment.mean_x() * 200) / 500;
  MeanSummary c_adj, t_adj;
  for (auto [y, x] : c_pairs) c_adj.Add(y - cuped->theta * (x - mean_x));
  for (auto [y, x] : t_pairs) t_adj.Add(y - cuped->theta * (x - mean_x));
  absl::StatusOr<Comparison> direct = CompareMeans(c_adj, t_adj);
  ASSERT_TRUE(direct.ok());
  EXPECT_NEAR(cuped->adjusted.difference, direct->difference, 1e-10);
  EXPECT_NEAR(cuped->adjusted.standard_error, direct->standard_error, 1e-10);
  EXPECT_NEAR(cuped->adjusted.degrees_of_freedom, direct->degrees_of_freedom, 1e-6);
  EXPECT_NEAR(cuped->adjusted.p_value, direct->p_value, 1e-10);
  // theta is the within-arm pooled slope.
  EXPECT_NEAR(cuped->theta,
              (control.comoment() + treatment.comoment()) / (control.m2_x() + treatment.m2_x()),
              1e-12);
}

TEST(CupedTest, CovariateWithoutVarianceChangesNothing) {
  CovarianceSummary control, treatment;
  Draws draws(52);
  for (int i = 0; i < 200; ++i) control.Add(3.5 + draws.Normal(), 0.0);
  for (int i = 0; i < 200; ++i) treatment.Add(3.7 + draws.Normal(), 0.0);
  absl::StatusOr<CupedComparison> cuped = CupedAdjust(control, treatment);
  ASSERT_TRUE(cuped.ok());
  EXPECT_EQ(cuped->theta, 0.0);
  EXPECT_DOUBLE_EQ(cuped->adjusted.difference, cuped->unadjusted.difference);
  EXPECT_DOUBLE_EQ(cuped->adjusted.ci_low, cuped->unadjusted.ci_low);
  EXPECT_NEAR(cuped->variance_reduction, 0.0, 1e-12);
}

// ---- Sequential (always-valid) intervals ----

TEST(SequentialTest, HalfWidthAndPValueMatchTheMixtureFormula) {
  // n = 1000 per arm, variance 1 in each: V = 2/1000 = 0.002, pooled sd 1,
  // tau^2 = 0.1^2 = 0.01. h = sqrt(V (V + tau2) / tau2 * (2 ln 20 + ln 6))
  // = sqrt(0.0024 * 7.783224) = 0.1366738. With d = 0.1:
  // ln Lambda = -ln(6)/2 + 0.01 * 0.01 / (2 * 0.002 * 0.012) = 1.187454,
  // p = 1 / Lambda = 0.3049969.
  const MeanSummary control = MeanSummary::FromMoments(1000, 3.5, 999.0);
  const MeanSummary treatment = MeanSummary::FromMoments(1000, 3.6, 999.0);
  absl::StatusOr<Comparison> c = CompareMeans(control, treatment, {.sequential = true});
  ASSERT_TRUE(c.ok());
  EXPECT_NEAR(c->ci_high - c->difference, 0.13667383670332259, 1e-9);
  EXPECT_NEAR(c->difference - c->ci_low, 0.13667383670332259, 1e-9);
  EXPECT_NEAR(c->p_value, 0.30499692063044819, 1e-9);
  EXPECT_TRUE(c->sequential);
  EXPECT_EQ(c->method, "Welch t-test, always-valid (mSPRT)");
}

TEST(SequentialTest, AlwaysValidIntervalIsWiderThanTheFixedOne) {
  Draws draws(60);
  MeanSummary m_control, m_treatment;
  NpsSummary n_control, n_treatment;
  ProportionSummary p_control, p_treatment;
  for (int i = 0; i < 3000; ++i) {
    m_control.Add(draws.Normal());
    m_treatment.Add(0.05 + draws.Normal());
    ASSERT_TRUE(n_control.AddRating(static_cast<int>(draws.Below(11))).ok());
    ASSERT_TRUE(n_treatment.AddRating(static_cast<int>(draws.Below(11))).ok());
    p_control.Add(draws.Bernoulli(0.2));
    p_treatment.Add(draws.Bernoulli(0.22));
  }
  auto check = [](const Comparison& fixed, const Comparison& seq) {
    EXPECT_DOUBLE_EQ(fixed.difference, seq.difference);
    EXPECT_LT(seq.ci_low, fixed.ci_low);
    EXPECT_GT(seq.ci_high, fixed.ci_high);
    EXPECT_GE(seq.p_value, fixed.p_value);
    EXPECT_FALSE(fixed.sequential);
    EXPECT_TRUE(seq.sequential);
  };
  check(*CompareMeans(m_control, m_treatment),
        *CompareMeans(m_control, m_treatment, {.sequential = true}));
  check(*CompareNps(n_control, n_treatment),
        *CompareNps(n_control, n_treatment, {.sequential = true}));
  check(*CompareProportions(p_control, p_treatment),
        *CompareProportions(p_control, p_treatment, {.sequential = true}));
}

// An A/A test looked at 20 times (every 100 per arm up to 2,000): how often
// does some look's interval exclude 0?
template <typename Summary, typename AddOne, typename Compare>
std::pair<double, double> PeekingFalseAlarmRates(uint64_t seed, AddOne add_one, Compare compare) {
  constexpr int kRuns = 1000;
  Draws draws(seed);
  int naive_alarms = 0;
  int sequential_alarms = 0;
  for (int run = 0; run < kRuns; ++run) {
    Summary control, treatment;
    bool naive = false;
    bool sequential = false;
    for (int look = 1; look <= 20; ++look) {
      for (int i = 0; i < 100; ++i) {
        add_one(draws, control);
        add_one(draws, treatment);
      }
      const Comparison fixed = *compare(control, treatment, CompareOptions{});
      const Comparison valid = *compare(control, treatment, CompareOptions{.sequential = true});
      naive = naive || !Covers(fixed, 0.0);
      sequential = sequential || !Covers(valid, 0.0);
    }
    naive_alarms += naive;
    sequential_alarms += sequential;
  }
  return {static_cast<double>(naive_alarms) / kRuns,
          static_cast<double>(sequential_alarms) / kRuns};
}

TEST(SequentialTest, PeekingDailyAtAnAATestRarelyExcludesZero) {
  auto [naive, sequential] = PeekingFalseAlarmRates<MeanSummary>(
      70, [](Draws& d, MeanSummary& s) { s.Add(3.5 + d.Normal()); },
      [](const MeanSummary& c, const MeanSummary& t, const CompareOptions& o) {
        return CompareMeans(c, t, o);
      });
  RecordProperty("naive", std::to_string(naive));
  RecordProperty("sequential", std::to_string(sequential));
  EXPECT_LE(sequential, 0.055) << "naive " << naive;
  EXPECT_GT(naive, 0.10);  // 20 looks at a fixed 95% interval: ~20-25% false alarms
  EXPECT_GT(naive, 2 * sequential);
}

TEST(SequentialTest, PeekingDailyAtAnAATestOfRatesRarelyExcludesZero) {
  auto [naive, sequential] = PeekingFalseAlarmRates<ProportionSummary>(
      71, [](Draws& d, ProportionSummary& s) { s.Add(d.Bernoulli(0.3)); },
      [](const ProportionSummary& c, const ProportionSummary& t, const CompareOptions& o) {
        return CompareProportions(c, t, o);
      });
  RecordProperty("naive", std::to_string(naive));
  RecordProperty("sequential", std::to_string(sequential));
  EXPECT_LE(sequential, 0.055) << "naive " << naive;
  EXPECT_GT(naive, 0.10);
  EXPECT_GT(naive, 2 * sequential);
}

}  // namespace
}  // namespace upfront
