#include "src/signals/decayed_signal.h"

#include <gtest/gtest.h>

#include <string>

namespace upfront {
namespace {

constexpr Micros kHalfLife = 10 * kMicrosPerMinute;
constexpr Micros kT0 = 1'700'000'000LL * kMicrosPerSecond;

TEST(DecayedSignal, OneEventHalvesAfterOneHalfLife) {
  DecayedSignal s;
  s.Add(0.6, 0.9, kT0, kHalfLife);
  // At the event: S = w·c = 0.54, E = c = 0.9.
  EXPECT_NEAR(s.Strength(kT0, kHalfLife), 0.54, 1e-12);
  EXPECT_NEAR(s.Score(kT0, kHalfLife), 0.41725174762601036, 1e-12);
  // One half-life later: S = 0.27, E = 0.45.
  const Micros later = kT0 + kHalfLife;
  EXPECT_NEAR(s.Strength(later, kHalfLife), 0.27, 1e-12);
  EXPECT_NEAR(s.EvidenceSum(later, kHalfLife), 0.45, 1e-12);
  EXPECT_NEAR(s.Score(later, kHalfLife), 0.23662050566314685, 1e-12);       // 1 - e^-0.27
  EXPECT_NEAR(s.Confidence(later, kHalfLife), 0.36237184837822667, 1e-12);  // 1 - e^-0.45
  EXPECT_EQ(s.updated_at(), kT0);  // reading does not move the state
}

TEST(DecayedSignal, ScoreAndConfidenceTogetherAreExactlyEachAlone) {
  DecayedSignal s;
  double score = 1, confidence = 1;
  s.ScoreAndConfidence(kT0, kHalfLife, &score, &confidence);  // never contributed
  EXPECT_EQ(score, 0);
  EXPECT_EQ(confidence, 0);
  s.Add(0.6, 0.9, kT0, kHalfLife);
  s.Add(-0.2, 0.5, kT0 + kHalfLife / 3, kHalfLife);
  for (Micros at : {kT0 - kHalfLife, kT0, kT0 + 1, kT0 + kHalfLife, kT0 + 40 * kHalfLife}) {
    s.ScoreAndConfidence(at, kHalfLife, &score, &confidence);
    EXPECT_EQ(score, s.Score(at, kHalfLife)) << at;  // bit for bit, not near
    EXPECT_EQ(confidence, s.Confidence(at, kHalfLife)) << at;
  }
  EXPECT_GT(confidence, 0);
}

TEST(DecayedSignal, TwoEventsSumTheirDecayedContributions) {
  DecayedSignal s;
  s.Add(0.6, 0.9, kT0, kHalfLife);
  s.Add(1.0, 0.8, kT0 + 5 * kMicrosPerMinute, kHalfLife);
  const Micros now = kT0 + 10 * kMicrosPerMinute;
  // S = 0.54·2^-1 + 0.8·2^-0.5, E = 0.9·2^-1 + 0.8·2^-0.5.
  EXPECT_NEAR(s.Strength(now, kHalfLife), 0.8356854249492381, 1e-12);
  EXPECT_NEAR(s.EvidenceSum(now, kHalfLife), 1.0156854249492382, 1e-12);
  EXPECT_NEAR(s.Score(now, kHalfLife), 0.5664228050659903, 1e-12);
  EXPECT_NEAR(s.Confidence(now, kHalfLife), 0.6378458847243635, 1e-12);
  EXPECT_EQ(s.updated_at(), kT0 + 5 * kMicrosPerMinute);
}

TEST(DecayedSignal, OutOfOrderAddEqualsInOrderAndKeepsUpdatedAt) {
  DecayedSignal in_order, out_of_order;
  in_order.Add(0.6, 0.9, kT0, kHalfLife);
  in_order.Add(1.0, 0.8, kT0 + 5 * kMicrosPerMinute, kHalfLife);
  out_of_order.Add(1.0, 0.8, kT0 + 5 * kMicrosPerMinute, kHalfLife);
  out_of_order.Add(0.6, 0.9, kT0, kHalfLife);  // late, within lateness
  EXPECT_EQ(out_of_order.updated_at(), kT0 + 5 * kMicrosPerMinute);
  for (Micros now :
       {kT0 + 5 * kMicrosPerMinute, kT0 + 10 * kMicrosPerMinute, kT0 + kMicrosPerHour}) {
    EXPECT_NEAR(out_of_order.Strength(now, kHalfLife), in_order.Strength(now, kHalfLife), 1e-12);
    EXPECT_NEAR(out_of_order.EvidenceSum(now, kHalfLife), in_order.EvidenceSum(now, kHalfLife),
                1e-12);
  }
  EXPECT_NEAR(out_of_order.Strength(kT0 + 10 * kMicrosPerMinute, kHalfLife), 0.8356854249492381,
              1e-12);
}

TEST(DecayedSignal, EmptyScoresZeroAndThePastReadsAsUpdatedAt) {
  DecayedSignal s;
  EXPECT_EQ(s.Score(kT0, kHalfLife), 0);
  EXPECT_EQ(s.Confidence(kT0, kHalfLife), 0);
  EXPECT_EQ(s.updated_at(), kNever);
  s.Add(0.6, 0.9, kT0, kHalfLife);
  EXPECT_NEAR(s.Strength(kT0 - kHalfLife, kHalfLife), 0.54, 1e-12);  // never un-decayed
}

TEST(DecayedSignal, CounterEvidenceLowersStrengthButScoreStaysInRange) {
  DecayedSignal s;
  s.Add(0.5, 1.0, kT0, kHalfLife);
  s.Add(-2.0, 1.0, kT0, kHalfLife);
  EXPECT_NEAR(s.Strength(kT0, kHalfLife), -1.5, 1e-12);
  EXPECT_EQ(s.Score(kT0, kHalfLife), 0);
  EXPECT_NEAR(s.Confidence(kT0, kHalfLife), 1 - std::exp(-2.0), 1e-12);
}

TEST(DecayedSignal, ALongGapDecaysToNothing) {
  DecayedSignal s;
  s.Add(5, 1, kT0, kHalfLife);
  EXPECT_LT(s.Score(kT0 + 200 * kHalfLife, kHalfLife), 1e-50);
  s.Add(0.6, 0.9, kT0 + 200 * kHalfLife, kHalfLife);
  EXPECT_NEAR(s.Strength(kT0 + 201 * kHalfLife, kHalfLife), 0.27, 1e-12);
}

TEST(DecayedSignal, EncodeDecodeRoundTrips) {
  DecayedSignal s;
  s.Add(0.6, 0.9, kT0, kHalfLife);
  s.Add(1.0, 0.8, kT0 + 1, kHalfLife);
  std::string buf;
  Encoder e(&buf);
  s.Encode(&e);
  DecayedSignal back;
  Decoder d(buf);
  ASSERT_TRUE(back.Decode(&d));
  EXPECT_EQ(back, s);
  Decoder short_buffer(std::string_view(buf).substr(0, 10));
  EXPECT_FALSE(back.Decode(&short_buffer));
}

}  // namespace
}  // namespace upfront
