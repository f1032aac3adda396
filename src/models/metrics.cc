#include "src/models/metrics.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>
#include <numeric>

namespace upfront {

double AreaUnderRoc(std::span<const double> scores, std::span<const uint8_t> labels) {
  assert(scores.size() == labels.size());
  const size_t n = scores.size();
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return scores[a] < scores[b]; });
  double positive_rank_sum = 0.0;
  uint64_t positives = 0;
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j < n && scores[order[j]] == scores[order[i]]) ++j;
    // Ranks are 1-based; a run of ties at positions [i, j) shares their mean rank.
    const double mean_rank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2.0;
    for (size_t k = i; k < j; ++k) {
      if (labels[order[k]] != 0) {
        positive_rank_sum += mean_rank;
        ++positives;
      }
    }
    i = j;
  }
  const uint64_t negatives = n - positives;
  if (positives == 0 || negatives == 0) return std::numeric_limits<double>::quiet_NaN();
  const double p = static_cast<double>(positives);
  const double u = positive_rank_sum - p * (p + 1.0) / 2.0;
  return u / (p * static_cast<double>(negatives));
}

std::vector<CalibrationBin> CalibrationTable(std::span<const double> scores,
                                             std::span<const uint8_t> labels, int bins) {
  assert(scores.size() == labels.size() && bins >= 1);
  std::vector<CalibrationBin> table(static_cast<size_t>(bins));
  std::vector<double> score_sums(table.size(), 0.0);
  std::vector<uint64_t> positives(table.size(), 0);
  for (size_t i = 0; i < scores.size(); ++i) {
    if (std::isnan(scores[i])) continue;
    const double scaled = std::clamp(scores[i], 0.0, 1.0) * bins;
    const size_t bin = static_cast<size_t>(std::min(static_cast<int>(scaled), bins - 1));
    ++table[bin].count;
    score_sums[bin] += scores[i];
    if (labels[i] != 0) ++positives[bin];
  }
  for (size_t b = 0; b < table.size(); ++b) {
    CalibrationBin& bin = table[b];
    bin.lower = static_cast<double>(b) / bins;
    bin.upper = static_cast<double>(b + 1) / bins;
    if (bin.count == 0) continue;
    bin.mean_predicted = score_sums[b] / static_cast<double>(bin.count);
    bin.observed_rate = static_cast<double>(positives[b]) / static_cast<double>(bin.count);
  }
  return table;
}

}  // namespace upfront
