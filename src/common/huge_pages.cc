#include "src/common/huge_pages.h"

#include <malloc.h>
#include <unistd.h>

#include <cstdlib>
#include <string_view>

namespace upfront {

namespace {
constexpr std::string_view kHugeTlb = "glibc.malloc.hugetlb";

// Largest the mmap threshold may be set to on 64-bit glibc.
constexpr int kLargestMmapThreshold = 32 << 20;
constexpr int kNeverTrim = 1 << 30;

// True when `tunables` (name=value pairs separated by colons) sets `name`.
bool SetsTunable(std::string_view tunables, std::string_view name) {
  for (size_t start = 0; start <= tunables.size();) {
    size_t end = tunables.find(':', start);
    if (end == std::string_view::npos) end = tunables.size();
    const std::string_view pair = tunables.substr(start, end - start);
    if (pair.starts_with(name) && pair.substr(name.size()).starts_with('=')) return true;
    start = end + 1;
  }
  return false;
}

}  // namespace

std::optional<std::string> TunablesWithHugePageHeap(const char* tunables, const char* opt_out) {
  if (opt_out != nullptr && std::string_view(opt_out) == "0") return std::nullopt;
  std::string value = tunables != nullptr ? tunables : "";
  if (SetsTunable(value, kHugeTlb)) return std::nullopt;
  if (!value.empty()) value += ':';
  value += kHugeTlb;
  value += "=1";
  return value;
}

void UseHugePageHeap(char** argv) {
  const std::optional<std::string> tunables =
      TunablesWithHugePageHeap(std::getenv("GLIBC_TUNABLES"), std::getenv("UPFRONT_HUGE_PAGES"));
  if (!tunables) return;
  if (setenv("GLIBC_TUNABLES", tunables->c_str(), 1) != 0) return;
  execv("/proc/self/exe", argv);
  // Still here: the program runs on with 4 KB pages. The variable stays set,
  // so a program this one starts is not re-executed for nothing.
}

void RetainFreedHeap() {
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  const std::string_view set = tunables != nullptr ? tunables : "";
  // Setting either threshold also stops glibc adjusting both as it goes.
  if (!SetsTunable(set, "glibc.malloc.mmap_threshold")) mallopt(M_MMAP_THRESHOLD, kLargestMmapThreshold);
  if (!SetsTunable(set, "glibc.malloc.trim_threshold")) mallopt(M_TRIM_THRESHOLD, kNeverTrim);
}

}  // namespace upfront
