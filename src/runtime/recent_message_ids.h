// The message ids the sequencer accepted recently, as 64-bit hashes with
// their arrival time. It answers "certainly new" without touching the store;
// a hit only means "maybe seen" (hashes can collide) and is confirmed against
// the store. Not thread-safe: owned by the sequencer.
#pragma once

#include <cstdint>
#include <deque>
#include <limits>
#include <string_view>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "src/common/hash.h"
#include "upfront/time.h"

namespace upfront {

class RecentMessageIds {
 public:
  // Holds at most `capacity` ids; evicting one narrows what the index covers.
  explicit RecentMessageIds(size_t capacity) : capacity_(capacity) {}

  // Every id accepted with an arrival at or after this time is in the index.
  Micros covered_from() const { return covered_from_; }
  void set_covered_from(Micros t) { covered_from_ = t; }

  // True when `id` may have been accepted at or after `since`.
  bool MaybeSeenSince(std::string_view id, Micros since) const {
    auto it = latest_.find(Hash64(id));
    return it != latest_.end() && it->second >= since;
  }

  void Add(std::string_view id, Micros arrival) {
    const uint64_t h = Hash64(id);
    latest_[h] = arrival;
    order_.emplace_back(arrival, h);
    while (order_.size() > capacity_) Evict();
  }

  // Forgets ids that arrived before `t`; they can no longer be duplicates.
  void ExpireBefore(Micros t) {
    while (!order_.empty() && order_.front().first < t) Evict();
  }

 private:
  void Evict() {
    auto [arrival, h] = order_.front();
    order_.pop_front();
    if (auto it = latest_.find(h); it != latest_.end() && it->second == arrival) latest_.erase(it);
    if (arrival >= covered_from_) covered_from_ = arrival + 1;
  }

  size_t capacity_;
  Micros covered_from_ = std::numeric_limits<Micros>::min();
  absl::flat_hash_map<uint64_t, Micros> latest_;
  std::deque<std::pair<Micros, uint64_t>> order_;
};

}  // namespace upfront
