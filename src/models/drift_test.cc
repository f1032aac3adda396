#include "src/models/drift.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace upfront {
namespace {

TEST(ScoreHistogram, BinsAreHalfOpenWithOneInTheLastBinAndEndsClamped) {
  ScoreHistogram h;  // 10 bins
  EXPECT_EQ(h.bins(), 10);
  h.Add(0.0);
  h.Add(0.0999);
  h.Add(0.1);
  h.Add(0.95);
  h.Add(1.0);
  h.Add(-3.0);
  h.Add(7.0);
  h.Add(std::numeric_limits<double>::infinity());
  h.Add(std::numeric_limits<double>::quiet_NaN());  // ignored
  EXPECT_EQ(h.count(0), 3u);
  EXPECT_EQ(h.count(1), 1u);
  EXPECT_EQ(h.count(9), 4u);
  EXPECT_EQ(h.total(), 8u);
}

TEST(ScoreHistogram, MergeAddsCountsOfTheSameShapeOnly) {
  ScoreHistogram a(4), b(4), c(5);
  a.Add(0.1);
  b.Add(0.1);
  b.Add(0.9);
  ASSERT_TRUE(a.Merge(b).ok());
  EXPECT_EQ(a.count(0), 2u);
  EXPECT_EQ(a.count(3), 1u);
  EXPECT_EQ(a.total(), 3u);
  EXPECT_EQ(a.Merge(c).message(), "cannot merge a score histogram of 5 bins into one of 4");
  EXPECT_EQ(a.total(), 3u);
}

TEST(ScoreHistogram, EncodeDecodeRoundTripsAndRejectsCorruptBuffers) {
  ScoreHistogram h(5);
  for (int i = 0; i < 300; ++i) h.Add(i / 300.0);
  std::string blob;
  h.Encode(&blob);
  ScoreHistogram restored;
  ASSERT_TRUE(restored.Decode(blob).ok());
  EXPECT_EQ(restored.bins(), 5);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(restored.count(i), h.count(i));
  EXPECT_EQ(restored.total(), 300u);

  ScoreHistogram target;
  for (size_t cut = 0; cut < blob.size(); ++cut) {
    EXPECT_EQ(target.Decode(std::string_view(blob).substr(0, cut)).code(),
              absl::StatusCode::kDataLoss);
  }
  EXPECT_EQ(target.Decode(blob + "x").code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(target.bins(), 10);
  EXPECT_EQ(target.total(), 0u);
}

TEST(PopulationStabilityIndex, IdenticalDistributionsHaveNone) {
  ScoreHistogram a, b;
  for (int i = 0; i < 100; ++i) {
    a.Add(i / 100.0);
    b.Add(i / 100.0);
    b.Add(i / 100.0);  // same shares, twice the count
  }
  EXPECT_NEAR(PopulationStabilityIndex(a, b), 0.0, 1e-12);
}

TEST(PopulationStabilityIndex, MatchesAHandComputedValue) {
  // Shares 0.5/0.5 against 0.8/0.2:
  // (0.8-0.5)ln(0.8/0.5) + (0.2-0.5)ln(0.2/0.5) = 0.3 (ln 1.6 - ln 0.4) = 0.3 ln 4.
  ScoreHistogram reference(2), current(2);
  for (int i = 0; i < 50; ++i) reference.Add(0.25), reference.Add(0.75);
  for (int i = 0; i < 80; ++i) current.Add(0.25);
  for (int i = 0; i < 20; ++i) current.Add(0.75);
  EXPECT_NEAR(PopulationStabilityIndex(reference, current), 0.3 * std::log(4.0), 1e-12);
  EXPECT_EQ(ClassifyDrift(PopulationStabilityIndex(reference, current)),
            DriftLevel::kSignificant);
}

TEST(PopulationStabilityIndex, EmptyBinsUseTheShareFloor) {
  // The reference never saw a high score: its share floors at 1e-4.
  ScoreHistogram reference(2), current(2);
  for (int i = 0; i < 100; ++i) reference.Add(0.1);
  current.Add(0.1);
  current.Add(0.9);
  const double expected = (0.5 - 1.0) * std::log(0.5 / 1.0) + (0.5 - 1e-4) * std::log(0.5 / 1e-4);
  EXPECT_NEAR(PopulationStabilityIndex(reference, current), expected, 1e-12);
}

TEST(PopulationStabilityIndex, IsZeroWhenEitherSideIsEmpty) {
  ScoreHistogram empty, some;
  some.Add(0.3);
  EXPECT_EQ(PopulationStabilityIndex(empty, some), 0.0);
  EXPECT_EQ(PopulationStabilityIndex(some, empty), 0.0);
}

TEST(DriftLevel, FollowsTheUsualReading) {
  EXPECT_EQ(ClassifyDrift(0.0), DriftLevel::kStable);
  EXPECT_EQ(ClassifyDrift(0.0999), DriftLevel::kStable);
  EXPECT_EQ(ClassifyDrift(0.1), DriftLevel::kModerate);
  EXPECT_EQ(ClassifyDrift(0.25), DriftLevel::kModerate);
  EXPECT_EQ(ClassifyDrift(0.2501), DriftLevel::kSignificant);
  EXPECT_EQ(DriftLevelName(DriftLevel::kStable), "stable");
  EXPECT_EQ(DriftLevelName(DriftLevel::kModerate), "moderate");
  EXPECT_EQ(DriftLevelName(DriftLevel::kSignificant), "significant");
}

}  // namespace
}  // namespace upfront
