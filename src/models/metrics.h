// Offline checks of a model's scores against outcomes: ranking quality (area
// under the ROC curve) and calibration (does a predicted 0.3 mean 30%?).
//
//   double auc = AreaUnderRoc(scores, labels);                  // 0.5 = chance, 1 = perfect
//   for (const CalibrationBin& b : CalibrationTable(scores, labels))
//     fmt::print("{:.1f}-{:.1f}: n={} predicted {:.3f} observed {:.3f}\n", b.lower, b.upper,
//                b.count, b.mean_predicted, b.observed_rate);
//
// Pure functions; safe to call concurrently.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace upfront {

// The probability that a random positive scores above a random negative
// (ties count one half), from the rank-sum (Mann-Whitney U) statistic with
// tied scores given their average rank. NaN when labels hold only one class.
// labels[i] != 0 means positive.
// REQUIRES: scores.size() == labels.size(); no NaN scores.
double AreaUnderRoc(std::span<const double> scores, std::span<const uint8_t> labels);

struct CalibrationBin {
  double lower = 0.0;           // the bin holds scores in [lower, upper); the last also holds 1
  double upper = 0.0;
  uint64_t count = 0;           // scores in the bin
  double mean_predicted = 0.0;  // mean score in the bin; 0 when empty
  double observed_rate = 0.0;   // share of positives in the bin; 0 when empty
};

// `bins` equal-width bins over [0, 1], empty ones included so tables from
// different runs line up. Scores outside [0, 1] count in the nearest end bin;
// NaN scores are skipped.
// REQUIRES: scores.size() == labels.size(); bins >= 1.
std::vector<CalibrationBin> CalibrationTable(std::span<const double> scores,
                                             std::span<const uint8_t> labels, int bins = 10);

}  // namespace upfront
