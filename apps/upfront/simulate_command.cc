// `upfront simulate`: wires the simulator (src/sim) to files and a terminal.

#include "apps/upfront/simulate_command.h"

#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "src/common/time_format.h"
#include "src/measure/report_html.h"
#include "src/sim/population.h"
#include "src/sim/simulator.h"
#include "upfront/policy.h"

namespace upfront {
namespace {

int Fail(absl::string_view message) {
  std::cerr << "upfront: " << message << "\n";
  return 2;
}

// The population for a policy: the one named, else population.yaml beside
// the policy, else the built-in shoppers.
absl::StatusOr<sim::PopulationModel> PopulationFor(const SimulateCommand& command, std::string* source) {
  std::string path = command.population;
  if (path.empty()) {
    const std::filesystem::path beside = std::filesystem::path(command.policy).parent_path() / "population.yaml";
    if (std::filesystem::exists(beside)) path = beside.string();
  }
  if (path.empty()) {
    *source = "the built-in population (examples/ecommerce/population.yaml)";
    return sim::DefaultPopulation();
  }
  *source = path;
  return sim::LoadPopulationFile(path);
}

// "events.jsonl" -> "events.b.jsonl": the second policy's events under --compare.
std::string SecondName(const std::string& path) {
  std::filesystem::path p(path);
  return (p.parent_path() / (p.stem().string() + ".b" + p.extension().string())).string();
}

absl::Status WriteFile(const std::filesystem::path& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) return absl::InternalError(fmt::format("cannot write {}", path.string()));
  return absl::OkStatus();
}

// scorecard.json, report.html, truth.json and summary.json into `dir`.
absl::Status WriteResults(const std::filesystem::path& dir, const sim::SimulationResult& result) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return absl::InternalError(fmt::format("cannot create {}: {}", dir.string(), ec.message()));
  if (result.scorecard.is_object()) {
    UPFRONT_RETURN_IF_ERROR(WriteFile(dir / "scorecard.json", result.scorecard.dump(2) + "\n"));
    UPFRONT_RETURN_IF_ERROR(WriteFile(dir / "report.html", RenderScorecardHtml(result.scorecard)));
  }
  UPFRONT_RETURN_IF_ERROR(WriteFile(dir / "truth.json", result.truth.dump(2) + "\n"));
  UPFRONT_RETURN_IF_ERROR(WriteFile(dir / "summary.json", result.summary.dump(2) + "\n"));
  return absl::OkStatus();
}

class Progress {
 public:
  explicit Progress(bool enabled) : enabled_(enabled), start_(Clock::now()) {}
  void Update(const sim::SimulationProgress& p, std::string_view label) {
    if (!enabled_) return;
    const double secs = Seconds();
    std::fprintf(stderr, "\r  %s day %4.1f/%d  %llu events  %.0f events/s   ", std::string(label).c_str(), p.day,
                 p.days, static_cast<unsigned long long>(p.events),
                 secs > 0 ? static_cast<double>(p.events) / secs : 0.0);
    std::fflush(stderr);
  }
  void Done() {
    if (enabled_) std::fprintf(stderr, "\r\033[K");
  }
  void Restart() { start_ = Clock::now(); }
  double Seconds() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }

 private:
  using Clock = std::chrono::steady_clock;
  bool enabled_;
  Clock::time_point start_;
};

absl::StatusOr<sim::SimulationResult> RunOne(const std::string& policy_path, const sim::PopulationModel& population,
                                             const sim::SimulationOptions& base, const std::string& events_out,
                                             std::string_view label, Progress& progress) {
  absl::StatusOr<Policy> policy = LoadPolicyFile(policy_path);
  if (!policy.ok()) return policy.status();
  sim::SimulationOptions options = base;
  std::ofstream events;
  if (!events_out.empty()) {
    events.open(events_out, std::ios::binary | std::ios::trunc);
    if (!events) return absl::InvalidArgumentError(fmt::format("--events-out: cannot write {}", events_out));
    options.events_out = [&events](std::string_view jsonl) { events.write(jsonl.data(), static_cast<std::streamsize>(jsonl.size())); };
  }
  options.progress = [&progress, label](const sim::SimulationProgress& p) { progress.Update(p, label); };
  progress.Restart();
  absl::StatusOr<sim::SimulationResult> result =
      sim::Simulate(std::make_shared<Policy>(*std::move(policy)), population, options);
  progress.Done();
  if (events.is_open()) {
    events.close();
    if (!events) return absl::InternalError(fmt::format("--events-out: writing {} failed", events_out));
  }
  if (result.ok()) {
    const double secs = progress.Seconds();
    std::cerr << fmt::format("  {}: {} customers x {} days in {:.1f} s ({:.0f} events/s)\n", label, options.customers,
                             options.days, secs, secs > 0 ? static_cast<double>(result->events) / secs : 0.0);
  }
  return result;
}

}  // namespace

int RunSimulate(const SimulateCommand& command) {
  std::string source;
  absl::StatusOr<sim::PopulationModel> population = PopulationFor(command, &source);
  if (!population.ok()) return Fail(population.status().message());
  absl::StatusOr<Micros> tick = ParseDuration(command.tick);
  if (!tick.ok()) return Fail(fmt::format("--tick: {}", std::string(tick.status().message())));
  sim::SimulationOptions options;
  options.customers = command.customers;
  options.days = command.days;
  options.seed = command.seed;
  options.tick = *tick;
  options.partitions = command.partitions;
  options.freeze_models = command.freeze_models;
  if (command.barrier == "clock") {
    options.barrier = sim::SimulationOptions::TickBarrier::kClock;
  } else if (command.barrier == "checkpoint") {
    options.barrier = sim::SimulationOptions::TickBarrier::kCheckpoint;
  } else {
    return Fail("--barrier: must be checkpoint or clock");
  }
  Progress progress(isatty(STDERR_FILENO) != 0);
  std::cerr << "  population: " << source << "\n";

  absl::StatusOr<sim::SimulationResult> a =
      RunOne(command.policy, *population, options, command.events_out, command.compare.empty() ? "run" : "a", progress);
  if (!a.ok()) return Fail(a.status().message());
  for (const std::string& note : a->notes) std::cerr << "  note: " << note << "\n";
  if (!a->scorecard_error.empty()) std::cerr << "  note: no scorecard: " << a->scorecard_error << "\n";

  if (command.compare.empty()) {
    if (!command.out.empty()) {
      if (absl::Status s = WriteResults(command.out, *a); !s.ok()) return Fail(s.message());
    }
    std::cout << (command.json ? a->summary.dump(2) + "\n" : sim::FormatSummary(a->summary));
    if (!command.out.empty() && !command.json) {
      std::cout << fmt::format("\n  Wrote {0}/scorecard.json, {0}/report.html, {0}/truth.json, {0}/summary.json\n",
                               command.out);
    }
    return 0;
  }

  const std::string second_events = command.events_out.empty() ? "" : SecondName(command.events_out);
  absl::StatusOr<sim::SimulationResult> b = RunOne(command.compare, *population, options, second_events, "b", progress);
  if (!b.ok()) return Fail(b.status().message());
  for (const std::string& note : b->notes) std::cerr << "  note (b): " << note << "\n";
  const nlohmann::json comparison = sim::ComparisonJson(a->summary, b->summary);
  if (!command.out.empty()) {
    const std::filesystem::path dir(command.out);
    if (absl::Status s = WriteResults(dir / "a", *a); !s.ok()) return Fail(s.message());
    if (absl::Status s = WriteResults(dir / "b", *b); !s.ok()) return Fail(s.message());
    if (absl::Status s = WriteFile(dir / "compare.json", comparison.dump(2) + "\n"); !s.ok()) return Fail(s.message());
  }
  if (command.json) {
    std::cout << comparison.dump(2) << "\n";
  } else {
    std::cout << "a: " << command.policy << "\nb: " << command.compare << "\n\n"
              << sim::FormatComparison(a->summary, b->summary);
    if (!command.out.empty()) {
      std::cout << fmt::format("\n  Wrote {0}/a/, {0}/b/ (scorecard.json, report.html, truth.json, summary.json) and "
                               "{0}/compare.json\n",
                               command.out);
    }
  }
  return 0;
}

}  // namespace upfront
