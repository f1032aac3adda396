#include "src/common/huge_pages.h"

#include <unistd.h>

#include <cstdlib>
#include <string_view>

namespace upfront {

namespace {
constexpr std::string_view kHugeTlb = "glibc.malloc.hugetlb";
}  // namespace

std::optional<std::string> TunablesWithHugePageHeap(const char* tunables, const char* opt_out) {
  if (opt_out != nullptr && std::string_view(opt_out) == "0") return std::nullopt;
  std::string value = tunables != nullptr ? tunables : "";
  // Tunables are name=value pairs separated by colons.
  for (size_t start = 0; start <= value.size();) {
    size_t end = value.find(':', start);
    if (end == std::string::npos) end = value.size();
    const std::string_view pair = std::string_view(value).substr(start, end - start);
    if (pair.starts_with(kHugeTlb) && pair.substr(kHugeTlb.size()).starts_with('=')) return std::nullopt;
    start = end + 1;
  }
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

}  // namespace upfront
