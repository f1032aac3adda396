// `upfront report`: reads the data directory through the engine, computes
// the scorecard and writes the page (or the JSON) and a summary.

#include "apps/upfront/report_command.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>

#include "src/common/time_format.h"
#include "src/measure/report_html.h"
#include "src/measure/scorecard.h"
#include "upfront/engine.h"

namespace upfront {
namespace {

int Fail(const std::string& message) {
  std::cerr << "upfront: " << message << "\n";
  return 2;
}

// "\r  1234567 events read  (3.2 s)" on a terminal, at most five times a second.
class ScanProgress {
 public:
  explicit ScanProgress(bool enabled)
      : enabled_(enabled), start_(std::chrono::steady_clock::now()) {}
  void Update(uint64_t events) {
    if (!enabled_) return;
    const auto now = std::chrono::steady_clock::now();
    if (shown_ && now - last_ < std::chrono::milliseconds(200)) return;
    shown_ = true;
    last_ = now;
    std::fprintf(stderr, "\r  reading events: %llu  (%.1f s)   ",
                 static_cast<unsigned long long>(events),
                 std::chrono::duration<double>(now - start_).count());
  }
  void Done(const char* what) {
    if (!enabled_) return;
    std::fprintf(stderr, "\r  %s in %.1f s%30s\n", what,
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count(),
                 "");
  }

 private:
  bool enabled_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point start_, last_;
};

bool WriteFile(const std::string& path, const std::string& content, std::string* error) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) {
    *error = "cannot write " + path;
    return false;
  }
  out << content;
  out.close();
  if (!out) {
    *error = "cannot write " + path;
    return false;
  }
  return true;
}

}  // namespace

int RunReport(const ReportCommand& command, const Policy& policy) {
  ScorecardOptions options;
  if (!command.window.empty()) {
    absl::StatusOr<ScorecardWindow> window = ParseScorecardWindow(command.window);
    if (!window.ok()) return Fail("--" + std::string(window.status().message()));
    options.window = *window;
  }
  absl::StatusOr<PValueAdjustment> adjust = ParsePValueAdjustment(command.adjust);
  if (!adjust.ok()) return Fail("--adjust: " + std::string(adjust.status().message()));
  options.adjustment = *adjust;
  for (const auto& [flag, text, slot] : {std::tuple{"--from", &command.from, &options.from},
                                         std::tuple{"--to", &command.to, &options.to}}) {
    if (text->empty()) continue;
    std::optional<Micros> t = ParseTimestamp(*text);
    if (!t)
      return Fail(std::string(flag) + ": '" + *text +
                  "' is not an RFC 3339 time like 2026-11-01T00:00:00Z");
    *slot = *t;
  }
  if (options.from && options.to && *options.from >= *options.to)
    return Fail("--from must be before --to");
  options.sequential = command.sequential;
  options.min_per_arm = command.min_per_arm;

  EngineOptions engine_options;
  engine_options.data_dir = command.data_dir;
  engine_options.policy = std::make_shared<Policy>(policy);
  absl::StatusOr<std::unique_ptr<Engine>> engine = Engine::Open(engine_options);
  if (!engine.ok()) return Fail(std::string(engine.status().message()));

  ScanProgress progress(isatty(STDERR_FILENO));
  options.progress = [&](uint64_t events) { progress.Update(events); };
  absl::StatusOr<nlohmann::json> card = BuildScorecard(**engine, policy, options);
  if (!card.ok()) {
    progress.Done("stopped");
    return Fail(std::string(card.status().message()));
  }
  progress.Done("scorecard computed");

  const std::string summary = ScorecardSummary(*card);
  std::string error;
  if (command.json) {
    const std::string text = card->dump(2) + "\n";
    if (command.out.empty()) {
      std::cout << text;
      std::cerr << summary << "\n";  // stdout carries the JSON
      return 0;
    }
    if (!WriteFile(command.out, text, &error)) return Fail(error);
  } else {
    const std::string out = command.out.empty() ? "report.html" : command.out;
    if (!WriteFile(out, RenderScorecardHtml(*card), &error)) return Fail(error);
  }
  std::cout << summary << "\n";
  return 0;
}

}  // namespace upfront
