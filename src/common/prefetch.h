// Asking the CPU to start loading memory that a later step will read, so the
// step does not wait for it (the partitions look a few events ahead).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace upfront {

// Every cache line of [data, data + bytes), at most kMaxPrefetchLines of them
// (a larger block is mostly not read per event).
inline constexpr size_t kMaxPrefetchLines = 8;
inline void PrefetchBytes(const void* data, size_t bytes) {
  const char* p = static_cast<const char*>(data);
  const size_t lines = (bytes + 63) / 64;
  for (size_t i = 0; i < lines && i < kMaxPrefetchLines; ++i) __builtin_prefetch(p + 64 * i);
}

template <typename T>
void PrefetchVector(const std::vector<T>& v) {
  if (!v.empty()) PrefetchBytes(v.data(), v.size() * sizeof(T));
}

}  // namespace upfront
