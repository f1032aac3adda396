#include "src/models/drift.h"

#include <algorithm>
#include <cassert>
#include <cmath>

#include "src/common/binary_codec.h"

namespace upfront {

ScoreHistogram::ScoreHistogram(int bins) : counts_(static_cast<size_t>(bins), 0) {
  assert(bins >= 1 && bins <= 1000);
}

void ScoreHistogram::Add(double score) {
  if (std::isnan(score)) return;
  const int n = bins();
  // Clamping before the cast keeps out-of-range scores (and infinities) from
  // overflowing the integer conversion.
  const double scaled = std::clamp(score, 0.0, 1.0) * n;
  const int bin = std::min(static_cast<int>(scaled), n - 1);
  ++counts_[bin];
  ++total_;
}

absl::Status ScoreHistogram::Merge(const ScoreHistogram& other) {
  if (other.bins() != bins()) {
    return absl::InvalidArgumentError("cannot merge a score histogram of " +
                                      std::to_string(other.bins()) + " bins into one of " +
                                      std::to_string(bins()));
  }
  for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  total_ += other.total_;
  return absl::OkStatus();
}

void ScoreHistogram::Encode(std::string* out) const {
  Encoder e(out);
  e.PutVarint(counts_.size());
  for (uint64_t c : counts_) e.PutVarint(c);
}

absl::Status ScoreHistogram::Decode(std::string_view in) {
  Decoder d(in);
  const uint64_t n = d.GetVarint();
  if (!d.ok() || n < 1 || n > 1000) {
    return absl::DataLossError("score histogram state is truncated or corrupt");
  }
  std::vector<uint64_t> counts(n);
  uint64_t total = 0;
  for (uint64_t& c : counts) {
    c = d.GetVarint();
    total += c;
  }
  if (!d.ok() || !d.done()) {
    return absl::DataLossError("score histogram state is truncated or corrupt");
  }
  counts_ = std::move(counts);
  total_ = total;
  return absl::OkStatus();
}

double PopulationStabilityIndex(const ScoreHistogram& reference, const ScoreHistogram& current) {
  assert(reference.bins() == current.bins());
  if (reference.total() == 0 || current.total() == 0) return 0.0;
  double psi = 0.0;
  for (int i = 0; i < reference.bins(); ++i) {
    const double ref = std::max(
        static_cast<double>(reference.count(i)) / static_cast<double>(reference.total()),
        kPsiShareFloor);
    const double cur = std::max(
        static_cast<double>(current.count(i)) / static_cast<double>(current.total()),
        kPsiShareFloor);
    psi += (cur - ref) * std::log(cur / ref);
  }
  return psi;
}

DriftLevel ClassifyDrift(double psi) {
  if (psi < 0.1) return DriftLevel::kStable;
  if (psi <= 0.25) return DriftLevel::kModerate;
  return DriftLevel::kSignificant;
}

std::string_view DriftLevelName(DriftLevel level) {
  switch (level) {
    case DriftLevel::kStable:
      return "stable";
    case DriftLevel::kModerate:
      return "moderate";
    case DriftLevel::kSignificant:
      return "significant";
  }
  return "unknown";
}

}  // namespace upfront
