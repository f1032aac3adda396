// The simulator: a synthetic population (population.h) lives through a
// policy in the real engine, in simulated time, and reacts to the help it
// actually sees; then the scorecard measures the policy against the holdout
// and the ground truth says what really happened (docs/simulation.md).
//
//   SimulationOptions options;
//   options.customers = 10000;
//   options.days = 30;
//   options.seed = 7;
//   absl::StatusOr<SimulationResult> result = Simulate(policy, DefaultPopulation(), options);
//   std::cout << FormatSummary(result->summary);
//
// The engine runs in-process on a scratch data directory (no fsync), with a
// ManualClock as its wall clock so arrival time is simulated time. Time moves
// in ticks: the events customers produce in a tick are ingested as one batch,
// the clock is advanced (firing abandonment timers and ladder steps), the
// engine is flushed, and its decisions are taken in (at, customer,
// decision_id) order; customers react from the next tick on. The same seed,
// population, policy and options give byte-identical events, summary and
// ground truth.
//
// Thread safety: Simulate may run concurrently with itself (each run has its
// own engine and directory).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "src/sim/population.h"
#include "upfront/policy.h"
#include "upfront/status.h"
#include "upfront/time.h"

namespace upfront::sim {

inline constexpr std::string_view kSummarySchema = "upfront.simulation/1";
inline constexpr std::string_view kTruthSchema = "upfront.simulation.truth/1";

struct SimulationProgress {
  double day = 0;  // simulated days done
  int days = 0;
  uint64_t events = 0;
  uint64_t decisions = 0;
};

struct SimulationOptions {
  uint32_t customers = 1000;
  int days = 30;
  uint64_t seed = 1;
  std::optional<Micros> start;  // default: the population's `start`
  // How far simulated time moves per engine round trip. Customers notice a
  // decision at the earliest one tick after the event that caused it. At most
  // half the policy's allowed_lateness.
  Micros tick = kMicrosPerMinute;
  int partitions = 2;
  // How each tick ends; both wait until every event of the tick is applied
  // and its decisions told. kClock: Engine::AdvanceClock to the tick's end,
  // so timers due in the tick fire by its end and customers can react from
  // the next one; state is written as a server writes it, and at the end.
  // kCheckpoint: Engine::Flush, which also writes every touched
  // customer's state each tick (about half its CPU time); timers fire only as
  // later events reach their partition, so a timer due after its
  // partition's last event of a tick reaches the customer a tick late (rare
  // at 100,000 customers, common in quiet stretches of small populations).
  // Each is deterministic for a seed. See docs/simulation.md, "How the
  // engine is driven" and "Speed".
  enum class TickBarrier { kCheckpoint, kClock };
  TickBarrier barrier = TickBarrier::kClock;
  std::string data_dir;  // "" : a scratch directory, removed afterwards
  // Keep every model at the policy's weights: no online learning during the
  // run (`learn:` is ignored). Separates the policy's effect from what the
  // models learn during it.
  bool freeze_models = false;
  // Also simulate each treated customer without any help (same seed), to
  // know the true effect of the policy (summary "true_effect").
  bool true_effect = true;
  // truth.json lists every need (customer, when, how it ended); false: only totals.
  bool list_needs = true;
  // Told every batch of generated events (JSON lines, in the order ingested).
  std::function<void(std::string_view jsonl)> events_out;
  // Told now and then (about every simulated hour), from the calling thread.
  std::function<void(const SimulationProgress&)> progress;
};

struct SimulationResult {
  nlohmann::json summary;    // schema upfront.simulation/1 (docs/simulation.md)
  nlohmann::json truth;      // schema upfront.simulation.truth/1
  nlohmann::json scorecard;  // the measurement scorecard (docs/metrics.md); null if it failed
  std::string scorecard_error;
  std::vector<std::string> notes;  // population vs policy mismatches, ingest problems
  uint64_t events = 0;
  uint64_t decisions = 0;
};

// Runs the simulation. InvalidArgument for options that cannot work (no
// customers, days < 1, a tick longer than half the allowed lateness);
// errors from the engine pass through.
absl::StatusOr<SimulationResult> Simulate(std::shared_ptr<const Policy> policy, const PopulationModel& population,
                                          const SimulationOptions& options);

// The summary for people: the run, the four headline metrics treatment vs
// holdout with the true effect, interruption load, opt-outs, complaints and
// the true precision and recall of each intervention and signal.
std::string FormatSummary(const nlohmann::json& summary);

// Two runs of the same population side by side (--compare).
std::string FormatComparison(const nlohmann::json& a, const nlohmann::json& b);
// The same, as JSON: {"a": summary, "b": summary, "differences": {...}}.
nlohmann::json ComparisonJson(const nlohmann::json& a, const nlohmann::json& b);

}  // namespace upfront::sim
