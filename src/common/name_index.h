// A fixed set of names (a policy's kept properties and traits) and the
// position of each, looked up many times per event.
//
//   NameIndex index({"step", "path"});
//   index.Find("path");   // 1
//   index.Find("other");  // -1
//
// Why not a StringMap: these sets are small and their names short, and a
// lookup there hashes the whole name and probes a general table (about 140
// instructions). Here the slot comes from the length and the first and last
// four bytes, and a hit or a miss costs one or two slot reads and, when the
// length matches, one comparison: the event parser looks up every property
// and trait key of every event. Not for sets an attacker can choose (a crafted set could
// make every name share a slot; lookups stay correct, only slower).
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace upfront {

class NameIndex {
 public:
  NameIndex() = default;
  // A name listed twice keeps its first position.
  explicit NameIndex(std::vector<std::string> names) : names_(std::move(names)) {
    size_t capacity = 4;
    while (capacity < 2 * names_.size()) capacity *= 2;
    slots_.assign(capacity, Slot{});
    mask_ = static_cast<uint32_t>(capacity - 1);
    for (size_t id = 0; id < names_.size(); ++id) {
      if (Find(names_[id]) >= 0) continue;
      uint32_t i = SlotOf(names_[id]);
      while (slots_[i].id >= 0) i = (i + 1) & mask_;
      slots_[i] = {static_cast<int32_t>(id), static_cast<uint32_t>(names_[id].size())};
    }
  }

  // The position of `name`; -1 when it is not in the set.
  int Find(std::string_view name) const {
    if (slots_.empty()) return -1;
    for (uint32_t i = SlotOf(name);; i = (i + 1) & mask_) {
      const Slot& slot = slots_[i];
      if (slot.id < 0) return -1;
      if (slot.size == name.size() && SameBytes(names_[slot.id].data(), name.data(), name.size())) {
        return slot.id;
      }
    }
  }

 private:
  struct Slot {
    int32_t id = -1;
    uint32_t size = 0;
  };

  // memcmp(a, b, n) == 0, with the short lengths names have done in a few
  // loads instead of a call.
  static bool SameBytes(const char* a, const char* b, size_t n) {
    const auto load8 = [](const char* p) {
      uint64_t v;
      std::memcpy(&v, p, 8);
      return v;
    };
    const auto load4 = [](const char* p) {
      uint32_t v;
      std::memcpy(&v, p, 4);
      return v;
    };
    if (n >= 8) {
      if (n > 16) return std::memcmp(a, b, n) == 0;
      return load8(a) == load8(b) && load8(a + n - 8) == load8(b + n - 8);
    }
    if (n >= 4) return load4(a) == load4(b) && load4(a + n - 4) == load4(b + n - 4);
    for (size_t i = 0; i < n; ++i) {
      if (a[i] != b[i]) return false;
    }
    return true;
  }

  uint32_t SlotOf(std::string_view name) const {
    const size_t n = name.size();
    uint64_t ends = n;
    if (n >= 4) {
      uint32_t head, tail;
      std::memcpy(&head, name.data(), 4);
      std::memcpy(&tail, name.data() + n - 4, 4);
      ends ^= (static_cast<uint64_t>(head) << 32 | tail) << 3;
    } else {
      for (char c : name) ends = ends << 8 ^ static_cast<unsigned char>(c);
    }
    ends *= 0x9E3779B97F4A7C15ull;
    return static_cast<uint32_t>(ends >> 32) & mask_;
  }

  std::vector<std::string> names_;
  std::vector<Slot> slots_;  // a power of two, at most half full: a probe ends at an empty slot
  uint32_t mask_ = 0;
};

}  // namespace upfront
