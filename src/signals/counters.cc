#include "src/signals/counters.h"

#include <algorithm>
#include <string>

#include "src/common/time_format.h"

namespace upfront {
namespace {

int64_t FloorDiv(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

size_t SlotOf(int64_t bucket, size_t size) {
  const int64_t m = bucket % static_cast<int64_t>(size);
  return static_cast<size_t>(m < 0 ? m + static_cast<int64_t>(size) : m);
}

}  // namespace

absl::Status CheckCountWindow(Micros window) {
  const bool ok = window > 0 && (window <= kMaxHourWindow
                                     ? window % kMicrosPerHour == 0
                                     : window % kMicrosPerDay == 0 && window <= kMaxCountWindow);
  if (ok) return absl::OkStatus();
  return absl::InvalidArgumentError("count window " + FormatDuration(window) +
                                    " cannot be counted: use whole hours up to 48h (1h, 6h, 24h) "
                                    "or whole days up to 92d (7d, 30d, 90d)");
}

CounterShape EventCounter::ForWindows(const std::vector<Micros>& windows) {
  CounterShape shape;
  for (Micros w : windows) {
    if (w <= kMaxHourWindow) {
      shape.hours = std::max(shape.hours, static_cast<int>(w / kMicrosPerHour));
    } else {
      shape.days = std::max(shape.days, static_cast<int>(w / kMicrosPerDay));
    }
  }
  return shape;
}

EventCounter::EventCounter(CounterShape shape) {
  hours_.buckets.assign(static_cast<size_t>(shape.hours), 0);
  days_.buckets.assign(static_cast<size_t>(shape.days), 0);
}

void EventCounter::Ring::Add(Micros t) { AddToBucket(FloorDiv(t, width), 1); }

void EventCounter::Ring::AddToBucket(int64_t b, uint16_t count) {
  if (buckets.empty() || count == 0) return;
  const auto size = static_cast<int64_t>(buckets.size());
  if (newest == INT64_MIN || b >= newest + size) {
    std::fill(buckets.begin(), buckets.end(), 0);
    newest = b;
  } else if (b > newest) {
    for (int64_t i = newest + 1; i <= b; ++i) buckets[SlotOf(i, buckets.size())] = 0;
    newest = b;
  } else if (b <= newest - size) {
    return;  // older than the ring
  }
  uint16_t& bucket = buckets[SlotOf(b, buckets.size())];
  bucket = static_cast<uint16_t>(std::min<uint32_t>(UINT16_MAX, uint32_t{bucket} + count));
}

void EventCounter::Ring::Merge(const Ring& other) {
  if (other.newest == INT64_MIN) return;
  // Oldest first, so the newest bucket of `other` is not dropped by a ring
  // that moves forward while merging.
  for (int64_t j = static_cast<int64_t>(other.buckets.size()) - 1; j >= 0; --j) {
    AddToBucket(other.newest - j, other.Get(other.newest - j));
  }
}

void EventCounter::Merge(const EventCounter& other) {
  hours_.Merge(other.hours_);
  days_.Merge(other.days_);
}

uint16_t EventCounter::Ring::Get(int64_t bucket) const {
  const auto size = static_cast<int64_t>(buckets.size());
  if (newest == INT64_MIN || bucket > newest || bucket <= newest - size) return 0;
  return buckets[SlotOf(bucket, buckets.size())];
}

int64_t EventCounter::Ring::Sum(Micros now, int64_t k) const {
  if (newest == INT64_MIN) return 0;
  // Buckets current - k + 1 .. current, of which only newest - size + 1 ..
  // newest hold counts: one slot computed, then a walk back around the ring
  // (a modulo per bucket was a division per bucket, 24 of them for a day).
  const auto size = static_cast<int64_t>(buckets.size());
  const int64_t current = FloorDiv(now, width);
  const int64_t high = std::min(current, newest);
  const int64_t low = std::max(current - k + 1, newest - size + 1);
  int64_t sum = 0;
  size_t slot = high >= low ? SlotOf(high, buckets.size()) : 0;
  for (int64_t b = high; b >= low; --b) {
    sum += buckets[slot];
    slot = slot == 0 ? buckets.size() - 1 : slot - 1;
  }
  return sum;
}

bool EventCounter::Add(Micros t) {
  const auto older_than = [t](const Ring& r) {
    return r.buckets.empty() ||
           (r.newest != INT64_MIN &&
            FloorDiv(t, r.width) <= r.newest - static_cast<int64_t>(r.buckets.size()));
  };
  const bool dropped = older_than(hours_) && older_than(days_);
  hours_.Add(t);
  days_.Add(t);
  return !dropped;
}

int64_t EventCounter::Count(Micros now, Micros window) const {
  if (window <= 0) return -1;
  if (window <= kMaxHourWindow) {
    const int64_t k = window / kMicrosPerHour;
    if (window % kMicrosPerHour != 0 || k > static_cast<int64_t>(hours_.buckets.size())) return -1;
    return hours_.Sum(now, k);
  }
  const int64_t k = window / kMicrosPerDay;
  if (window % kMicrosPerDay != 0 || k > static_cast<int64_t>(days_.buckets.size())) return -1;
  return days_.Sum(now, k);
}

void EventCounter::Ring::Encode(Encoder* e) const {
  // Bucket numbers with their counts, newest first, zeros skipped: the
  // encoding does not depend on the ring's slot layout or size.
  size_t nonzero = 0;
  for (uint16_t v : buckets) nonzero += v != 0;
  e->PutVarint(nonzero);
  if (nonzero == 0) return;
  for (int64_t j = 0; j < static_cast<int64_t>(buckets.size()); ++j) {
    const uint16_t v = Get(newest - j);
    if (v == 0) continue;
    e->PutSigned(newest - j);
    e->PutVarint(v);
  }
}

bool EventCounter::Ring::Decode(Decoder* d) {
  std::fill(buckets.begin(), buckets.end(), 0);
  newest = INT64_MIN;
  const uint64_t n = d->GetVarint();
  int64_t previous = INT64_MAX;
  for (uint64_t i = 0; i < n && d->ok(); ++i) {
    const int64_t bucket = d->GetSigned();
    const uint64_t v = d->GetVarint();
    if (v > UINT16_MAX || bucket >= previous) return false;  // newest first
    previous = bucket;
    if (buckets.empty()) continue;
    if (i == 0) newest = bucket;
    if (bucket > newest - static_cast<int64_t>(buckets.size())) {
      buckets[SlotOf(bucket, buckets.size())] = static_cast<uint16_t>(v);
    }
  }
  return d->ok();
}

void EventCounter::Encode(Encoder* e) const {
  hours_.Encode(e);
  days_.Encode(e);
}

bool EventCounter::Decode(Decoder* d) { return hours_.Decode(d) && days_.Decode(d); }

}  // namespace upfront
