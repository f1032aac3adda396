// What the simulator costs besides the engine: the synthetic population of
// examples/ecommerce/population.yaml living 30 days, with every event
// rendered as a JSON line (BM_PopulationEvents), and the whole simulation
// through the real engine at a small scale (BM_SimulateWithEngine).
// Reports events per second.

#include <benchmark/benchmark.h>

#include <memory>
#include <string>

#include "src/sim/population.h"
#include "src/sim/simulator.h"
#include "src/sim/world.h"
#include "upfront/policy.h"

namespace upfront::sim {
namespace {

const std::string kSource = UPFRONT_SOURCE_DIR;

void BM_PopulationEvents(benchmark::State& state) {
  const PopulationModel population = *LoadPopulationFile(kSource + "/examples/ecommerce/population.yaml");
  const Policy policy = *LoadPolicyFile(kSource + "/examples/ecommerce/policy.yaml");
  uint64_t events = 0;
  for (auto _ : state) {
    World::Config config;
    config.model = &population;
    config.policy = &policy;
    config.seed = 1;
    config.customers = static_cast<uint32_t>(state.range(0));
    config.start = population.start;
    config.end = population.start + 30 * kMicrosPerDay;
    World world(config);
    std::string batch;
    for (Micros t = config.start; t < config.end; t += kMicrosPerMinute) {
      batch.clear();
      events += world.RunUntil(t + kMicrosPerMinute, &batch);
      benchmark::DoNotOptimize(batch.data());
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(events));
}
BENCHMARK(BM_PopulationEvents)->Arg(10000)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_SimulateWithEngine(benchmark::State& state) {
  const PopulationModel population = *LoadPopulationFile(kSource + "/examples/ecommerce/population.yaml");
  auto policy = std::make_shared<Policy>(*LoadPolicyFile(kSource + "/examples/ecommerce/policy.yaml"));
  uint64_t events = 0;
  for (auto _ : state) {
    SimulationOptions options;
    options.customers = static_cast<uint32_t>(state.range(0));
    options.days = 7;
    options.list_needs = false;
    absl::StatusOr<SimulationResult> result = Simulate(policy, population, options);
    if (!result.ok()) {
      state.SkipWithError(std::string(result.status().message()).c_str());
      return;
    }
    events += result->events;
  }
  state.SetItemsProcessed(static_cast<int64_t>(events));
}
BENCHMARK(BM_SimulateWithEngine)->Arg(5000)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);

}  // namespace
}  // namespace upfront::sim
