// Drift monitoring for model scores: a fixed-bin histogram of scores in
// [0, 1] and the population stability index (PSI) between a reference
// histogram (e.g. the scores when the model was trained or approved) and a
// current one:
//   PSI = sum over bins of (current_share - reference_share) * ln(current_share / reference_share)
// Shares are floored at kPsiShareFloor so an empty bin on either side gives a
// large but finite term instead of infinity.
//
//   ScoreHistogram reference, current;          // 10 equal bins
//   for (double s : training_scores) reference.Add(s);
//   for (double s : todays_scores) current.Add(s);
//   double psi = PopulationStabilityIndex(reference, current);
//   if (ClassifyDrift(psi) == DriftLevel::kSignificant) alert(DriftLevelName(...));
//
// The usual reading: PSI < 0.1 stable, 0.1 to 0.25 a moderate shift worth a
// look, > 0.25 a significant shift (retrain or recalibrate). These are rules
// of thumb from credit scoring, not statistical tests; small samples inflate
// PSI, so compare histograms with hundreds of scores or more.
//
// A ScoreHistogram is a plain value; not thread-safe for concurrent Add.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "upfront/status.h"

namespace upfront {

inline constexpr double kPsiShareFloor = 1e-4;

class ScoreHistogram {
 public:
  // REQUIRES: 1 <= bins <= 1000.
  explicit ScoreHistogram(int bins = 10);

  // Counts `score` in its bin: bin i holds [i/bins, (i+1)/bins), the last bin
  // also holds 1.0. Scores outside [0, 1] count in the nearest end bin; NaN is
  // ignored (a model that produced no score says nothing about drift).
  void Add(double score);

  // Adds `other`'s counts. InvalidArgument when the bin counts differ.
  absl::Status Merge(const ScoreHistogram& other);

  int bins() const { return static_cast<int>(counts_.size()); }
  uint64_t count(int bin) const { return counts_[bin]; }
  uint64_t total() const { return total_; }

  void Encode(std::string* out) const;
  // Replaces the histogram with one written by Encode. DataLoss on a short or
  // corrupt buffer; unchanged on error.
  absl::Status Decode(std::string_view in);

 private:
  std::vector<uint64_t> counts_;
  uint64_t total_ = 0;
};

// PSI of `current` against `reference` as described above. 0 when either is
// empty (no evidence of drift).
// REQUIRES: reference.bins() == current.bins().
double PopulationStabilityIndex(const ScoreHistogram& reference, const ScoreHistogram& current);

enum class DriftLevel { kStable, kModerate, kSignificant };

// < 0.1 stable, 0.1 to 0.25 moderate (0.25 itself is moderate), > 0.25 significant.
DriftLevel ClassifyDrift(double psi);
// "stable", "moderate", "significant".
std::string_view DriftLevelName(DriftLevel level);

}  // namespace upfront
