// Owned objects by string id (customers by canonical id), found by the id's
// 64-bit hash first.
//
//   IdMap<CustomerState> customers;
//   customers.Insert("u1", std::make_unique<CustomerState>(...));
//   const uint64_t h = IdMap<CustomerState>::HashOf("u1");   // once per event
//   customers.Prefetch(h);                 // a few events ahead: the table slot
//   customers.Peek(h);                     // a little later: the id and object
//   CustomerState* s = customers.Find("u1", h);   // nullptr when absent
//
// Why not a string-keyed hash map: with millions of customers met at random,
// confirming a hit there compares the key, and an id longer than the
// small-string buffer lives in a heap block of its own, one more cache miss
// per lookup that a look-ahead cannot start early, since it only learns
// where the key is by doing the lookup. Here the table is keyed by the hash,
// Peek hands out the probable object without confirming (and starts loading
// its id), and Find confirms the id once it is in cache. Ids whose hash
// another id already holds (vanishingly rare for 64 bits, but possible) live
// in a string-keyed overflow map, so every id is still found exactly.
//
// Why not absl::flat_hash_map keyed by the hash: its prefetch loads the first
// slot of the 16-slot group a key probes, and the key's own slot is any of
// them, so with 48-byte slots the look-ahead loaded the wrong line eleven
// times in twelve and Peek then waited on memory. Here a hash's home slot is
// known from the hash alone (linear probing, at most half full), so Prefetch
// loads the very line Peek reads. Which slot is a hash's home depends on a
// per-process secret, as absl's does, so the order ForEach visits ids in
// differs from run to run.
//
// Not thread-safe.
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "src/common/hash.h"
#include "src/common/string_map.h"

namespace upfront {

struct IdHash {
  uint64_t operator()(std::string_view id) const { return Hash64(id); }
};

template <typename T, typename Hasher = IdHash>
class IdMap {
 public:
  static uint64_t HashOf(std::string_view id) { return Hasher{}(id); }

  T* Find(std::string_view id) const { return Find(id, HashOf(id)); }
  // `hash` must be HashOf(id).
  T* Find(std::string_view id, uint64_t hash) const {
    if (const size_t i = IndexOf(hash); i != kAbsent && slots_[i].id == id) return slots_[i].value.get();
    if (overflow_.empty()) return nullptr;
    auto it = overflow_.find(id);
    return it == overflow_.end() ? nullptr : it->second.get();
  }

  // Starts loading the table slot of `hash` (both lines a slot may straddle).
  void Prefetch(uint64_t hash) const {
    if (slots_.empty()) return;
    const char* home = reinterpret_cast<const char*>(&slots_[HomeOf(hash)]);
    __builtin_prefetch(home);
    __builtin_prefetch(home + sizeof(Slot) - 1);
  }

  // For looking ahead only: the object that the id with this hash most likely
  // is (nullptr when no id has it), after starting to load that object's id
  // so that a later Find confirms it from cache. Reads the table slot, which
  // Prefetch should have brought in.
  const T* Peek(uint64_t hash) const {
    const size_t i = IndexOf(hash);
    if (i == kAbsent) return nullptr;
    __builtin_prefetch(slots_[i].id.data());
    return slots_[i].value.get();
  }

  // `id` must not be in the map.
  T& Insert(std::string_view id, std::unique_ptr<T> value) {
    const uint64_t hash = HashOf(id);
    if (IndexOf(hash) != kAbsent) {
      std::unique_ptr<T>& slot = overflow_[std::string(id)];
      slot = std::move(value);
      return *slot;
    }
    if (2 * (used_ + 1) > slots_.size()) Rehash(std::max<size_t>(kMinSlots, 2 * slots_.size()));
    Slot& slot = slots_[FreeSlotFor(hash)];
    slot.hash = hash;
    slot.id.assign(id);
    slot.value = std::move(value);
    ++used_;
    return *slot.value;
  }

  // Removes the id and hands back its object; nullptr when it was absent.
  std::unique_ptr<T> Take(std::string_view id) {
    if (const size_t i = IndexOf(HashOf(id)); i != kAbsent && slots_[i].id == id) {
      std::unique_ptr<T> taken = std::move(slots_[i].value);
      Erase(i);
      return taken;
    }
    auto it = overflow_.find(id);
    if (it == overflow_.end()) return nullptr;
    std::unique_ptr<T> taken = std::move(it->second);
    overflow_.erase(it);
    return taken;
  }

  size_t size() const { return used_ + overflow_.size(); }
  void reserve(size_t n) {
    size_t slots = kMinSlots;
    while (slots < 2 * n) slots *= 2;
    if (slots > slots_.size()) Rehash(slots);
  }

  // fn(std::string_view id, T& value) for every entry, in no particular order.
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    for (const Slot& slot : slots_) {
      if (slot.value) fn(std::string_view(slot.id), *slot.value);
    }
    for (const auto& [id, value] : overflow_) fn(std::string_view(id), *value);
  }

 private:
  static constexpr size_t kMinSlots = 16;
  static constexpr size_t kAbsent = SIZE_MAX;

  struct Slot {
    uint64_t hash = 0;
    std::unique_ptr<T> value;  // empty slot: nullptr
    std::string id;
  };

  // The hash mixed with a per-process secret, then its top bits. Ids come
  // from outside and their XXH3 hash is public: without the secret, a sender
  // could pick ids that all share a home slot and make every lookup walk one
  // long run. The mix also spreads a weak hash (a test's) whose low bits are equal.
  size_t HomeOf(uint64_t hash) const {
    const unsigned __int128 m = static_cast<unsigned __int128>(hash ^ secret_) * kSpread;
    return static_cast<size_t>((static_cast<uint64_t>(m) ^ static_cast<uint64_t>(m >> 64)) >> shift_);
  }
  static uint64_t ProcessSecret() {
    static const uint64_t secret = (uint64_t{std::random_device{}()} << 32) | std::random_device{}();
    return secret;
  }
  size_t Next(size_t i) const { return (i + 1) & (slots_.size() - 1); }

  // Where the slot holding `hash` is, or kAbsent.
  size_t IndexOf(uint64_t hash) const {
    if (slots_.empty()) return kAbsent;
    for (size_t i = HomeOf(hash);; i = Next(i)) {
      if (!slots_[i].value) return kAbsent;
      if (slots_[i].hash == hash) return i;
    }
  }

  size_t FreeSlotFor(uint64_t hash) const {
    size_t i = HomeOf(hash);
    while (slots_[i].value) i = Next(i);
    return i;
  }

  void Rehash(size_t slots) {
    std::vector<Slot> old = std::move(slots_);
    slots_ = std::vector<Slot>(slots);
    shift_ = 64 - std::countr_zero(slots);
    for (Slot& slot : old) {
      if (slot.value) slots_[FreeSlotFor(slot.hash)] = std::move(slot);
    }
  }

  // Linear probing's deletion: later slots of the run that could live in the
  // freed one move back, so no lookup ever stops short at a hole.
  void Erase(size_t hole) {
    slots_[hole] = Slot{};
    --used_;
    for (size_t i = Next(hole); slots_[i].value; i = Next(i)) {
      const size_t home = HomeOf(slots_[i].hash);
      // Does `home` lie cyclically in (hole, i]? Then the entry stays.
      const bool stays = hole < i ? (hole < home && home <= i) : (hole < home || home <= i);
      if (stays) continue;
      slots_[hole] = std::move(slots_[i]);
      slots_[i] = Slot{};
      hole = i;
    }
  }

  static constexpr uint64_t kSpread = 0x9e3779b97f4a7c15;  // 2^64 / golden ratio
  uint64_t secret_ = ProcessSecret();  // a member: no guard check per lookup
  std::vector<Slot> slots_;
  size_t used_ = 0;
  int shift_ = 64;
  StringMap<std::unique_ptr<T>> overflow_;
};

}  // namespace upfront
