#include "src/models/metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

namespace upfront {
namespace {

TEST(AreaUnderRoc, MatchesHandComputedPairCounts) {
  // Positives 0.35 and 0.8 against negatives 0.1 and 0.4: 3 of 4 pairs ordered.
  const std::vector<double> scores = {0.1, 0.4, 0.35, 0.8};
  const std::vector<uint8_t> labels = {0, 0, 1, 1};
  EXPECT_DOUBLE_EQ(AreaUnderRoc(scores, labels), 0.75);
}

TEST(AreaUnderRoc, TiesCountOneHalf) {
  // Positives 0.2, 0.5, 0.9; negatives 0.5, 0.5. Pairs won: 0 + (0.5 + 0.5) + 2 = 3 of 6.
  const std::vector<double> scores = {0.2, 0.5, 0.5, 0.5, 0.9};
  const std::vector<uint8_t> labels = {1, 0, 1, 0, 1};
  EXPECT_DOUBLE_EQ(AreaUnderRoc(scores, labels), 0.5);
  // All scores equal: chance.
  const std::vector<double> flat = {0.3, 0.3, 0.3};
  const std::vector<uint8_t> mixed = {1, 0, 0};
  EXPECT_DOUBLE_EQ(AreaUnderRoc(flat, mixed), 0.5);
}

TEST(AreaUnderRoc, PerfectInvertedAndSingleClass) {
  const std::vector<double> scores = {0.1, 0.2, 0.8, 0.9};
  EXPECT_DOUBLE_EQ(AreaUnderRoc(scores, std::vector<uint8_t>{0, 0, 1, 1}), 1.0);
  EXPECT_DOUBLE_EQ(AreaUnderRoc(scores, std::vector<uint8_t>{1, 1, 0, 0}), 0.0);
  EXPECT_TRUE(std::isnan(AreaUnderRoc(scores, std::vector<uint8_t>{1, 1, 1, 1})));
  EXPECT_TRUE(std::isnan(AreaUnderRoc({}, {})));
}

TEST(CalibrationTable, BinsMeansAndObservedRates) {
  const std::vector<double> scores = {0.1, 0.3, 0.6, 1.0, 0.5};
  const std::vector<uint8_t> labels = {0, 1, 1, 1, 0};
  std::vector<CalibrationBin> table = CalibrationTable(scores, labels, 2);
  ASSERT_EQ(table.size(), 2u);
  EXPECT_EQ(table[0].lower, 0.0);
  EXPECT_EQ(table[0].upper, 0.5);
  EXPECT_EQ(table[0].count, 2u);
  EXPECT_NEAR(table[0].mean_predicted, 0.2, 1e-12);
  EXPECT_NEAR(table[0].observed_rate, 0.5, 1e-12);
  EXPECT_EQ(table[1].lower, 0.5);
  EXPECT_EQ(table[1].upper, 1.0);
  EXPECT_EQ(table[1].count, 3u);
  EXPECT_NEAR(table[1].mean_predicted, 0.7, 1e-12);
  EXPECT_NEAR(table[1].observed_rate, 2.0 / 3.0, 1e-12);
}

TEST(CalibrationTable, KeepsEmptyBinsAndSkipsNaN) {
  const std::vector<double> scores = {0.05, std::numeric_limits<double>::quiet_NaN(), 0.95};
  const std::vector<uint8_t> labels = {0, 1, 1};
  std::vector<CalibrationBin> table = CalibrationTable(scores, labels);
  ASSERT_EQ(table.size(), 10u);
  EXPECT_EQ(table[0].count, 1u);
  EXPECT_EQ(table[9].count, 1u);
  EXPECT_EQ(table[9].observed_rate, 1.0);
  EXPECT_NEAR(table[4].lower, 0.4, 1e-12);
  EXPECT_NEAR(table[4].upper, 0.5, 1e-12);
  EXPECT_EQ(table[4].count, 0u);
  EXPECT_EQ(table[4].mean_predicted, 0.0);
  uint64_t total = 0;
  for (const CalibrationBin& b : table) total += b.count;
  EXPECT_EQ(total, 2u);
}

}  // namespace
}  // namespace upfront
