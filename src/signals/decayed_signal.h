// A signal's decayed strength and evidence (DESIGN.md 3) in O(1) state.
//
// With half-life h and d(t) = 2^(-(now - t)/h):
//   strength S = Σ w·c·d(t_i),  evidence E = Σ c·d(t_i),
//   score = 1 - exp(-S),        confidence = 1 - exp(-E).
// Both sums are kept as of `updated_at` and decayed on demand, so an update is
// a multiply and an add whatever the number of past contributions.
//
//   DecayedSignal s;
//   s.Add(/*w=*/0.6, /*c=*/0.9, t, /*half_life=*/10 * kMicrosPerMinute);
//   double score = s.Score(t + 10 * kMicrosPerMinute, 10 * kMicrosPerMinute);  // 1 - e^-0.27
//
// The half-life is the signal spec's, passed in rather than stored, to keep
// the state at two doubles and a timestamp. Not thread-safe (one owner: the
// customer's partition).
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>

#include "src/common/binary_codec.h"
#include "upfront/time.h"

namespace upfront {


class DecayedSignal {
 public:
  // Adds one contribution of intensity `w` and confidence `c` at event time
  // `t`. In order (t >= updated_at) the sums decay to t first and updated_at
  // moves to t. Out of order (t < updated_at, an event within lateness) the
  // contribution is added already decayed to updated_at, which gives exactly
  // the sums in-order arrival would have. REQUIRES: half_life > 0.
  void Add(double w, double c, Micros t, Micros half_life) {
    if (updated_at_ == kNever || t >= updated_at_) {
      const double d = Decay(t, half_life);
      strength_ = strength_ * d + w * c;
      evidence_ = evidence_ * d + c;
      updated_at_ = t;
    } else {
      const double d =
          std::exp2(-static_cast<double>(updated_at_ - t) / static_cast<double>(half_life));
      strength_ += w * c * d;
      evidence_ += c * d;
    }
  }

  // Adds another customer's sums (an identity merge): both decay to the later
  // of the two update times and add, exactly as if every contribution had
  // been made to one signal.
  void Merge(const DecayedSignal& other, Micros half_life) {
    if (other.updated_at_ == kNever) return;
    if (updated_at_ == kNever) {
      *this = other;
      return;
    }
    const Micros t = std::max(updated_at_, other.updated_at_);
    strength_ = Strength(t, half_life) + other.Strength(t, half_life);
    evidence_ = EvidenceSum(t, half_life) + other.EvidenceSum(t, half_life);
    updated_at_ = t;
  }

  // S and E as of `now`. For now < updated_at they are the values at
  // updated_at: contributions are never "un-decayed" into the past.
  double Strength(Micros now, Micros half_life) const { return strength_ * Decay(now, half_life); }
  double EvidenceSum(Micros now, Micros half_life) const {
    return evidence_ * Decay(now, half_life);
  }

  // In [0, 1]; a negative strength (counter-evidence) scores 0.
  double Score(Micros now, Micros half_life) const { return Saturate(Strength(now, half_life)); }
  double Confidence(Micros now, Micros half_life) const { return Saturate(EvidenceSum(now, half_life)); }
  // Score and Confidence, exactly, decaying once. A sum that is zero (a
  // signal that never contributed) reads 0 without an exp.
  void ScoreAndConfidence(Micros now, Micros half_life, double* score, double* confidence) const {
    if (strength_ == 0 && evidence_ == 0) {
      *score = *confidence = 0;
      return;
    }
    const double d = Decay(now, half_life);
    *score = Saturate(strength_ * d);
    *confidence = Saturate(evidence_ * d);
  }

  Micros updated_at() const { return updated_at_; }  // kNever before the first Add

  void Encode(Encoder* e) const {
    e->PutDouble(strength_);
    e->PutDouble(evidence_);
    e->PutSigned(updated_at_);
  }
  // False on a short or corrupt buffer (the state is then unspecified).
  bool Decode(Decoder* d) {
    strength_ = d->GetDouble();
    evidence_ = d->GetDouble();
    updated_at_ = d->GetSigned();
    return d->ok();
  }

  bool operator==(const DecayedSignal&) const = default;

 private:
  static double Saturate(double sum) { return 1.0 - std::exp(-std::max(0.0, sum)); }
  double Decay(Micros now, Micros half_life) const {
    if (updated_at_ == kNever || now <= updated_at_) return 1.0;
    return std::exp2(-static_cast<double>(now - updated_at_) / static_cast<double>(half_life));
  }

  double strength_ = 0;
  double evidence_ = 0;
  Micros updated_at_ = kNever;
};

}  // namespace upfront
