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
// Not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "absl/container/flat_hash_map.h"
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
    if (auto it = by_hash_.find(hash); it != by_hash_.end() && it->second.id == id) {
      return it->second.value.get();
    }
    if (overflow_.empty()) return nullptr;
    auto it = overflow_.find(id);
    return it == overflow_.end() ? nullptr : it->second.get();
  }

  // Starts loading the table slot of `hash`.
  void Prefetch(uint64_t hash) const { by_hash_.prefetch(hash); }

  // For looking ahead only: the object that the id with this hash most likely
  // is (nullptr when no id has it), after starting to load that object's id
  // so that a later Find confirms it from cache. Reads the table slot, which
  // Prefetch should have brought in.
  const T* Peek(uint64_t hash) const {
    auto it = by_hash_.find(hash);
    if (it == by_hash_.end()) return nullptr;
    __builtin_prefetch(it->second.id.data());
    return it->second.value.get();
  }

  // `id` must not be in the map.
  T& Insert(std::string_view id, std::unique_ptr<T> value) {
    auto [it, inserted] = by_hash_.try_emplace(HashOf(id));
    if (inserted) {
      it->second.id.assign(id);
      it->second.value = std::move(value);
      return *it->second.value;
    }
    std::unique_ptr<T>& slot = overflow_[std::string(id)];
    slot = std::move(value);
    return *slot;
  }

  // Removes the id and hands back its object; nullptr when it was absent.
  std::unique_ptr<T> Take(std::string_view id) {
    if (auto it = by_hash_.find(HashOf(id)); it != by_hash_.end() && it->second.id == id) {
      std::unique_ptr<T> taken = std::move(it->second.value);
      by_hash_.erase(it);
      return taken;
    }
    auto it = overflow_.find(id);
    if (it == overflow_.end()) return nullptr;
    std::unique_ptr<T> taken = std::move(it->second);
    overflow_.erase(it);
    return taken;
  }

  size_t size() const { return by_hash_.size() + overflow_.size(); }
  void reserve(size_t n) { by_hash_.reserve(n); }

  // fn(std::string_view id, T& value) for every entry, in no particular order.
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    for (const auto& [hash, entry] : by_hash_) fn(std::string_view(entry.id), *entry.value);
    for (const auto& [id, value] : overflow_) fn(std::string_view(id), *value);
  }

 private:
  struct Entry {
    std::string id;
    std::unique_ptr<T> value;
  };
  absl::flat_hash_map<uint64_t, Entry> by_hash_;
  StringMap<std::unique_ptr<T>> overflow_;
};

}  // namespace upfront
