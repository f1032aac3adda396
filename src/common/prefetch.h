// Asking the CPU to start loading memory that a later step will read, so the
// step does not wait for it (the partitions look a few events ahead).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace upfront {

// Every cache line that [data, data + bytes) touches, at most
// kMaxPrefetchLines of them (a larger block is mostly not read per event).
// A block need not start at a line: 64 bytes from malloc span two lines three
// times in four.
inline constexpr size_t kMaxPrefetchLines = 8;
inline void PrefetchBytes(const void* data, size_t bytes) {
  if (bytes == 0) return;
  const uintptr_t first = reinterpret_cast<uintptr_t>(data) & ~uintptr_t{63};
  const uintptr_t last = (reinterpret_cast<uintptr_t>(data) + bytes - 1) & ~uintptr_t{63};
  for (uintptr_t line = first, n = 0; line <= last && n < kMaxPrefetchLines; line += 64, ++n) {
    __builtin_prefetch(reinterpret_cast<const void*>(line));
  }
}

template <typename T>
void PrefetchVector(const std::vector<T>& v) {
  if (!v.empty()) PrefetchBytes(v.data(), v.size() * sizeof(T));
}

}  // namespace upfront
