#include "src/signals/patterns.h"

#include <algorithm>
#include <cmath>

namespace upfront {

// ---------------------------------------------------------------- repeat

bool RepeatPattern::OnEvent(uint64_t key, Micros t, int count, Micros within, Micros* fired_at) {
  const size_t capacity = static_cast<size_t>(count - 1);
  size_t slot = keys_.size();
  for (size_t i = 0; i < keys_.size(); ++i) {
    if (keys_[i].key == key) {
      slot = i;
      break;
    }
  }
  if (slot == keys_.size()) {
    if (keys_.size() < static_cast<size_t>(kRepeatKeys)) {
      // Reserve every slot at once so later keys do not reallocate.
      if (keys_.empty()) {
        keys_.reserve(kRepeatKeys);
        times_.reserve(kRepeatKeys * capacity);
      }
      keys_.emplace_back();
      times_.resize(keys_.size() * capacity);
    } else {
      slot = 0;
      for (size_t i = 1; i < keys_.size(); ++i) {
        if (keys_[i].last_seen < keys_[slot].last_seen) slot = i;
      }
    }
    keys_[slot] = KeyWindow{key, t, 0};
  }
  KeyWindow& window = keys_[slot];
  window.last_seen = std::max(window.last_seen, t);

  // Insert into a sorted scratch copy of at most `count` times (by hand:
  // std::inplace_merge may allocate a buffer).
  std::array<Micros, kMaxRepeatCount> merged;
  Micros* kept = times_.data() + slot * capacity;
  size_t n = window.size;
  std::copy(kept, kept + n, merged.begin());
  size_t at = n;
  while (at > 0 && merged[at - 1] > t) {
    merged[at] = merged[at - 1];
    --at;
  }
  merged[at] = t;
  ++n;

  if (n == static_cast<size_t>(count)) {
    if (merged[n - 1] - merged[0] <= within) {
      *fired_at = merged[n - 1];
      window.size = 0;
      return true;
    }
    // The oldest can no longer be part of a window with the later ones.
    std::copy(merged.begin() + 1, merged.begin() + n, kept);
    window.size = static_cast<uint8_t>(n - 1);
    return false;
  }
  std::copy(merged.begin(), merged.begin() + n, kept);
  window.size = static_cast<uint8_t>(n);
  return false;
}

std::vector<Micros> RepeatPattern::TimesOf(uint64_t key, int count) const {
  const size_t capacity = static_cast<size_t>(count - 1);
  for (size_t i = 0; i < keys_.size(); ++i) {
    if (keys_[i].key == key) {
      const Micros* kept = times_.data() + i * capacity;
      return std::vector<Micros>(kept, kept + keys_[i].size);
    }
  }
  return {};
}

void RepeatPattern::Encode(Encoder* e, int count) const {
  const size_t capacity = static_cast<size_t>(count - 1);
  e->PutVarint(keys_.size());
  for (size_t i = 0; i < keys_.size(); ++i) {
    e->PutVarint(keys_[i].key);
    e->PutSigned(keys_[i].last_seen);
    e->PutVarint(keys_[i].size);
    for (size_t j = 0; j < keys_[i].size; ++j) e->PutSigned(times_[i * capacity + j]);
  }
}

bool RepeatPattern::Decode(Decoder* d, int count) {
  const size_t capacity = static_cast<size_t>(count - 1);
  keys_.clear();
  times_.clear();
  const uint64_t n = d->GetVarint();
  if (!d->ok() || n > static_cast<uint64_t>(kRepeatKeys)) return false;
  keys_.reserve(kRepeatKeys);
  times_.reserve(kRepeatKeys * capacity);
  for (uint64_t i = 0; i < n; ++i) {
    KeyWindow w;
    w.key = d->GetVarint();
    w.last_seen = d->GetSigned();
    const uint64_t size = d->GetVarint();
    if (!d->ok() || size > capacity) return false;
    w.size = static_cast<uint8_t>(size);
    keys_.push_back(w);
    times_.resize(keys_.size() * capacity);
    for (size_t j = 0; j < size; ++j) times_[i * capacity + j] = d->GetSigned();
  }
  return d->ok();
}

// ---------------------------------------------------------------- abandon

AbandonPattern::Action AbandonPattern::OnStart(Micros t, Micros within, Micros advanced_to,
                                               std::string_view message_id) {
  if (last_start_ != kNever && t <= last_start_) return Action::kNone;
  last_start_ = t;
  start_message_id_.assign(message_id);
  const bool followed = last_unless_ != kNever && last_unless_ >= t && last_unless_ <= t + within;
  const bool too_late = advanced_to != kNever && t + within <= advanced_to;
  if (followed || too_late) {
    pending_ = false;
    return Action::kDisarm;
  }
  pending_ = true;
  return Action::kArm;
}

bool AbandonPattern::OnUnless(Micros t, Micros within) {
  if (last_unless_ == kNever || t > last_unless_) last_unless_ = t;
  if (pending_ && t >= last_start_ && t <= last_start_ + within) {
    pending_ = false;
    return true;
  }
  return false;
}

bool AbandonPattern::OnTimer(Micros due, Micros within) {
  if (!pending_ || due != last_start_ + within) return false;
  pending_ = false;
  return true;
}

void AbandonPattern::Encode(Encoder* e) const {
  e->PutSigned(last_start_);
  e->PutSigned(last_unless_);
  e->PutBool(pending_);
  e->PutString(start_message_id_);
}

bool AbandonPattern::Decode(Decoder* d) {
  last_start_ = d->GetSigned();
  last_unless_ = d->GetSigned();
  pending_ = d->GetBool();
  start_message_id_.assign(d->GetString());
  return d->ok();
}

// ---------------------------------------------------------------- rate change

namespace {

size_t Slot(int64_t day) {
  const int64_t m = day % kRateChangeDays;
  return static_cast<size_t>(m < 0 ? m + kRateChangeDays : m);
}

}  // namespace

uint16_t RateChangePattern::Bucket(int64_t day) const {
  if (newest_day_ == INT64_MIN || day > newest_day_ || day <= newest_day_ - kRateChangeDays)
    return 0;
  return buckets_[Slot(day)];
}

bool RateChangePattern::Add(Micros t) {
  if (first_seen_ == kNever || t < first_seen_) first_seen_ = t;
  const int64_t day = DayOf(t);
  if (newest_day_ == INT64_MIN || day >= newest_day_ + kRateChangeDays) {
    buckets_.fill(0);
    newest_day_ = day;
  } else if (day > newest_day_) {
    for (int64_t d = newest_day_ + 1; d <= day; ++d) buckets_[Slot(d)] = 0;
    newest_day_ = day;
  } else if (day <= newest_day_ - kRateChangeDays) {
    return false;
  }
  uint16_t& bucket = buckets_[Slot(day)];
  if (bucket < UINT16_MAX) ++bucket;
  return true;
}

double RateChangePattern::Count(Micros now, int days) const {
  double count;
  Counts(now, days, days, &count, &count);
  return count;
}

void RateChangePattern::Counts(Micros now, int short_days, int long_days, double* short_count,
                               double* long_count) const {
  const int64_t today = DayOf(now);
  const double rest_of_oldest =
      1.0 - static_cast<double>(now - today * kMicrosPerDay) / static_cast<double>(kMicrosPerDay);
  *short_count = *long_count = 0;
  if (newest_day_ == INT64_MIN) return;
  // Day by day back from today, adding in the same order as a window-by-
  // window count would, and stopping at the oldest bucket kept.
  double sum = 0;
  for (int j = 0; j <= long_days; ++j) {
    const int64_t day = today - j;
    if (day <= newest_day_ - kRateChangeDays) break;
    const double bucket = day > newest_day_ ? 0 : buckets_[Slot(day)];
    if (j == short_days) *short_count = sum + bucket * rest_of_oldest;
    if (j == long_days) *long_count = sum + bucket * rest_of_oldest;
    sum += bucket;
  }
  if (today - short_days <= newest_day_ - kRateChangeDays) *short_count = sum;
  if (today - long_days <= newest_day_ - kRateChangeDays) *long_count = sum;
}

bool RateChangePattern::Active(Micros now, Micros long_window) const {
  return newest_day_ != INT64_MIN && DayOf(now) - newest_day_ <= long_window / kMicrosPerDay;
}

Micros RateChangePattern::NextCheck(Micros after, const RateChangeInput& spec) const {
  if (first_seen_ == kNever) return kNever;
  const auto midnight_from = [](Micros t) { return (DayOf(t - 1) + 1) * kMicrosPerDay; };  // at or after t
  Micros at = midnight_from(after + 1);
  at = std::max(at, midnight_from(first_seen_ + 2 * spec.short_window));
  if (last_fired_ != kNever) at = std::max(at, midnight_from(last_fired_ + spec.short_window));
  if (!Active(at, spec.long_window)) return kNever;
  if (Count(at, static_cast<int>(spec.long_window / kMicrosPerDay)) < spec.min_baseline_count) return kNever;
  return at;
}

bool RateChangePattern::Evaluate(Micros now, const RateChangeInput& spec, double* drop_pct) {
  if (first_seen_ == kNever) return false;
  const Micros history = now - first_seen_;
  if (history < 2 * spec.short_window) return false;
  if (last_fired_ != kNever && now - last_fired_ < spec.short_window) return false;

  const int short_days = static_cast<int>(spec.short_window / kMicrosPerDay);
  const int long_days = static_cast<int>(spec.long_window / kMicrosPerDay);
  double short_count, long_count;
  Counts(now, short_days, long_days, &short_count, &long_count);
  const double baseline_count = long_count - short_count;
  if (baseline_count < spec.min_baseline_count) return false;

  const Micros baseline_span =
      std::min(spec.long_window - spec.short_window, history - spec.short_window);
  const double short_rate = short_count / short_days;
  const double baseline_rate =
      baseline_count / (static_cast<double>(baseline_span) / static_cast<double>(kMicrosPerDay));
  if (!(short_rate <= (1.0 - spec.drop) * baseline_rate)) return false;

  last_fired_ = now;
  *drop_pct = 100.0 * (1.0 - short_rate / baseline_rate);
  return true;
}

void RateChangePattern::Encode(Encoder* e) const {
  e->PutSigned(newest_day_ == INT64_MIN ? 0 : 1);
  if (newest_day_ != INT64_MIN) {
    e->PutSigned(newest_day_);
    // Oldest to newest, so the slot arithmetic can change without breaking state.
    for (int j = kRateChangeDays - 1; j >= 0; --j) e->PutVarint(Bucket(newest_day_ - j));
  }
  e->PutSigned(first_seen_);
  e->PutSigned(last_fired_);
}

bool RateChangePattern::Decode(Decoder* d) {
  buckets_.fill(0);
  newest_day_ = INT64_MIN;
  if (d->GetSigned() != 0) {
    const int64_t newest = d->GetSigned();
    for (int j = kRateChangeDays - 1; j >= 0; --j) {
      const uint64_t v = d->GetVarint();
      if (v > UINT16_MAX) return false;
      buckets_[Slot(newest - j)] = static_cast<uint16_t>(v);
    }
    newest_day_ = newest;
  }
  first_seen_ = d->GetSigned();
  last_fired_ = d->GetSigned();
  return d->ok();
}

// ---------------------------------------------------------------- sequence

bool SequencePattern::OnFirst(Micros t, Micros within, Micros* fired_at) {
  if (then_at_ != kNever && t <= then_at_ && then_at_ - t <= within) {
    *fired_at = then_at_;
    then_at_ = kNever;
    return true;
  }
  if (first_at_ == kNever || t > first_at_) first_at_ = t;
  return false;
}

bool SequencePattern::OnThen(Micros t, Micros within) {
  if (first_at_ != kNever && first_at_ <= t && t - first_at_ <= within) {
    first_at_ = kNever;
    return true;
  }
  if (then_at_ == kNever || t > then_at_) then_at_ = t;
  return false;
}

void SequencePattern::Encode(Encoder* e) const {
  e->PutSigned(first_at_);
  e->PutSigned(then_at_);
}

bool SequencePattern::Decode(Decoder* d) {
  first_at_ = d->GetSigned();
  then_at_ = d->GetSigned();
  return d->ok();
}

}  // namespace upfront
