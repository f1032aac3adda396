// `upfront replay`: run an event file through the engine in a scratch
// directory and write every decision point as a JSON line.

#include <fmt/format.h>
#include <unistd.h>

#include <fstream>
#include <iostream>

#include "apps/upfront/commands.h"
#include "src/common/time_format.h"
#include "src/replay/replay.h"

namespace upfront {

int RunReplay(const ReplayCommand& command, const Policy& policy) {
  std::optional<Micros> until;
  if (!command.until.empty()) {
    until = ParseTimestamp(command.until);
    if (!until) {
      std::cerr << "upfront: --until: '" << command.until
                << "' is not an ISO-8601 time like 2026-11-25T12:00:00Z\n";
      return 2;
    }
  }
  std::ifstream events(command.events, std::ios::binary);
  if (!events) {
    std::cerr << "upfront: cannot open " << command.events << "\n";
    return 2;
  }
  std::ofstream file;
  std::ostream* out = &std::cout;
  if (!command.out.empty() && command.out != "-") {
    file.open(command.out, std::ios::binary | std::ios::trunc);
    if (!file) {
      std::cerr << "upfront: cannot write " << command.out << "\n";
      return 2;
    }
    out = &file;
  }
  const bool terminal = isatty(STDERR_FILENO) != 0;
  ReplayOptions options;
  options.until = until;
  options.progress = [terminal](size_t n) {
    if (terminal) std::cerr << fmt::format("\rreplaying: {} events", n) << std::flush;
  };
  ReplayStats stats;
  absl::Status status = Replay(std::make_shared<Policy>(policy), events, command.events, options,
                               [out](std::string_view json) { *out << json << '\n'; }, &stats);
  if (terminal) std::cerr << "\r\033[K";
  for (const std::string& error : stats.errors) std::cerr << error << "\n";
  if (!status.ok()) {
    std::cerr << "upfront: " << status.message() << "\n";
    return 2;
  }
  out->flush();
  // The summary goes to stderr when the decisions go to stdout.
  std::ostream& summary = out == &std::cout ? std::cerr : std::cout;
  summary << fmt::format("{} events ({} accepted, {} duplicates, {} rejected, {} late) -> {} decision points\n",
                         stats.events, stats.accepted, stats.duplicates, stats.rejected, stats.late,
                         stats.decisions);
  for (const auto& [action, n] : stats.actions) summary << fmt::format("  {:<12} {}\n", action, n);
  if (!stats.interventions.empty()) summary << "by intervention\n";
  for (const auto& [name, n] : stats.interventions) summary << fmt::format("  {:<24} {}\n", name, n);
  if (!stats.blocked.empty()) summary << "held back\n";
  for (const auto& [reason, n] : stats.blocked) summary << fmt::format("  {:<24} {}\n", reason, n);
  return stats.rejected > 0 ? 1 : 0;
}

}  // namespace upfront
