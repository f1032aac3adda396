// Hash maps and sets keyed by std::string that can be searched with a
// std::string_view without building a string (Debian's Abseil has its own
// string_view type, so its default heterogeneous lookup does not accept
// std::string_view).
//
//   StringMap<int> counts;  counts.find(std::string_view("x"));
#pragma once

#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "src/common/hash.h"

namespace upfront {

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return static_cast<size_t>(Hash64(s)); }
};

struct StringEq {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const { return a == b; }
};

template <typename Value>
using StringMap = absl::flat_hash_map<std::string, Value, StringHash, StringEq>;
using StringSet = absl::flat_hash_set<std::string, StringHash, StringEq>;

}  // namespace upfront
