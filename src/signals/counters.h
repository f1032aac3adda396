// `counts.<event or outcome role>.<window>`: how many times a customer did
// something recently (contacts in the last 30 days), in bounded memory.
//
// Events are counted in rings of buckets aligned to UTC hours and days:
//   - windows up to 48h are whole hours, counted in hour buckets: "6h" is the
//     current hour so far and the 5 whole hours before it;
//   - longer windows are whole days up to 92d, counted in day buckets: "30d"
//     is today so far and the 29 whole days before it.
// So a window of k buckets covers between k-1 and k buckets of time, never
// more: a count never includes an event older than the window, and an
// explanation such as "3 contacts in the last 30 days" stays true. A ring
// keeps only as many buckets as the longest window that needs it; bucket
// counts saturate at 65535.
//
//   EventCounter contacts(EventCounter::ForWindows({30 * kMicrosPerDay}));
//   contacts.Add(event_time);
//   int64_t n = contacts.Count(now, 30 * kMicrosPerDay);
//
// Not thread-safe (one owner: the customer's partition).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "src/common/binary_codec.h"
#include "upfront/status.h"
#include "upfront/time.h"

namespace upfront {

inline constexpr Micros kMaxHourWindow = 48 * kMicrosPerHour;
inline constexpr Micros kMaxCountWindow = 92 * kMicrosPerDay;

// OK when `window` can be counted: whole hours in 1h..48h or whole days in
// 3d..92d; otherwise InvalidArgument saying which windows can.
absl::Status CheckCountWindow(Micros window);

// The shape of an EventCounter: how many hour and day buckets it keeps.
struct CounterShape {
  int hours = 0;  // 0..48
  int days = 0;   // 0..92
  bool operator==(const CounterShape&) const = default;
};

class EventCounter {
 public:
  // The smallest shape that answers every window in `windows`.
  // REQUIRES: CheckCountWindow(w).ok() for each.
  static CounterShape ForWindows(const std::vector<Micros>& windows);

  EventCounter() = default;
  explicit EventCounter(CounterShape shape);

  // Counts one event at `t`. Returns false when `t` is older than every
  // bucket kept (it cannot fall in any window this counter answers).
  bool Add(Micros t);

  // Events in `window` ending at `now`, as described above. A counter answers
  // every hour window up to its hour buckets and every day window (over 48h)
  // up to its day buckets; -1 for any other window.
  int64_t Count(Micros now, Micros window) const;

  // Adds another counter's events (an identity merge), bucket by bucket, as
  // far as this counter's buckets reach.
  void Merge(const EventCounter& other);

  void Prefetch() const {
    __builtin_prefetch(hours_.buckets.data());
    __builtin_prefetch(days_.buckets.data());
  }

  CounterShape shape() const {
    return {static_cast<int>(hours_.buckets.size()), static_cast<int>(days_.buckets.size())};
  }

  void Encode(Encoder* e) const;
  // Restores buckets written by Encode. A different shape is fine: buckets
  // the new shape does not keep are dropped. False on a corrupt buffer.
  bool Decode(Decoder* d);

 private:
  struct Ring {
    Micros width = 0;
    std::vector<uint16_t> buckets;
    int64_t newest = INT64_MIN;  // the newest bucket's number; INT64_MIN when none
    void Add(Micros t);
    void AddToBucket(int64_t bucket, uint16_t count);
    void Merge(const Ring& other);
    uint16_t Get(int64_t bucket) const;
    int64_t Sum(Micros now, int64_t k) const;
    void Encode(Encoder* e) const;
    bool Decode(Decoder* d);
  };
  Ring hours_{kMicrosPerHour, {}, INT64_MIN};
  Ring days_{kMicrosPerDay, {}, INT64_MIN};
};

}  // namespace upfront
