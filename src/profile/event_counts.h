// How many events of each name a profile has seen: at most kMaxNames names,
// the events of any further name counted under "(other)".
//
//   EventCounts counts;
//   counts.Add("Page Viewed", 1);
//   counts.Count("Page Viewed");   // 1
//   counts.ForEach([](std::string_view name, uint64_t n) { ... });  // first seen first
//
// Names are matched by their 64-bit hash (XXH3), kept apart from the counts
// and the names: a lookup, once per event, reads one cache line of hashes and
// one of counts, both of which the look-ahead can load early, and never the
// name's own heap block. Two names whose hashes collide would share a count;
// with at most 65 names per profile the chance is below 1e-16.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "src/common/hash.h"
#include "src/common/prefetch.h"

namespace upfront {

class EventCounts {
 public:
  static constexpr size_t kMaxNames = 64;
  static constexpr std::string_view kOther = "(other)";

  void Add(std::string_view name, uint64_t count) {
    const uint64_t hash = Hash64(name);
    for (size_t i = 0; i < hashes_.size(); ++i) {
      if (hashes_[i] == hash) {
        counts_[i] += count;
        return;
      }
    }
    if (hashes_.size() >= kMaxNames && name != kOther) return Add(kOther, count);
    hashes_.push_back(hash);
    counts_.push_back(count);
    names_.emplace_back(name);
  }

  // 0 for a name never counted (or counted under "(other)").
  uint64_t Count(std::string_view name) const {
    const uint64_t hash = Hash64(name);
    for (size_t i = 0; i < hashes_.size(); ++i) {
      if (hashes_[i] == hash) return counts_[i];
    }
    return 0;
  }

  size_t size() const { return names_.size(); }

  // fn(std::string_view name, uint64_t count), in the order names were first seen.
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    for (size_t i = 0; i < names_.size(); ++i) fn(std::string_view(names_[i]), counts_[i]);
  }

  void Prefetch() const {
    PrefetchVector(hashes_);
    PrefetchVector(counts_);
  }

  bool operator==(const EventCounts& other) const {
    return names_ == other.names_ && counts_ == other.counts_;
  }

 private:
  std::vector<uint64_t> hashes_;
  std::vector<uint64_t> counts_;
  std::vector<std::string> names_;
};

}  // namespace upfront
