// The audit trail's write path, as the server's decision worker drives it:
// AppendMany() of batches of "decision.deliver" entries (one customer each,
// drawn at random from 100,000; ~330 bytes of details as the worker writes
// them), hash-chained into a fresh control store, synced as the server syncs.
//
// Each iteration appends the argument's number of entries; the counter is
// entries/s, and process_cpu_us/entry the CPU per entry, background flushes
// included (the store is closed before the clock stops).

#include <sys/resource.h>

#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include "src/server/control/control_store.h"

namespace upfront {
namespace {

constexpr int kCustomers = 100'000;
constexpr int kBatch = 512;

double ProcessCpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

std::vector<std::vector<AuditEntry>> MakeBatches(int entries) {
  std::mt19937_64 rng(7);
  std::vector<std::vector<AuditEntry>> batches((entries + kBatch - 1) / kBatch);
  uint64_t millis = 1'795'000'000'000;
  for (int i = 0; i < entries; ++i) {
    AuditEntry& e = batches[i / kBatch].emplace_back();
    millis += i % 10 == 0 ? 1 : 0;
    const std::string id = fmt::format("{:012x}{:016x}", millis, rng());
    e.actor = "engine";
    e.action = "decision.deliver";
    e.customers = {fmt::format("user-{}", rng() % kCustomers)};
    e.subject = id;
    e.details_text = fmt::format(
        R"({{"channel":"in_flow","cohort":"treatment","confidence":0.807263,"intervention":"checkout_help",)"
        R"("message":"Stuck on card_number? Here is how to fix it in one step.","models":{{"churn_risk":)"
        R"("lr-77132fcb360b983c"}},"policy_hash":"be15391847af465c","policy_version":"checkout-2026-11",)"
        R"("step":0,"trigger":{{"message_id":"e-{}"}}}})",
        i);
  }
  return batches;
}

void BM_AuditAppendMany(benchmark::State& state) {
  const int entries = static_cast<int>(state.range(0));
  const std::vector<std::vector<AuditEntry>> batches = MakeBatches(entries);
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("upfront-audit-bench-" + std::to_string(::getpid()));
  double cpu = 0;
  for (auto _ : state) {
    state.PauseTiming();
    std::filesystem::remove_all(dir);
    ControlOptions options;
    options.pseudonym_key = "0123456789abcdef0123456789abcdef";
    auto store = ControlStore::Open(dir.string(), options);
    if (!store.ok()) {
      state.SkipWithError(store.status().ToString().c_str());
      return;
    }
    const double cpu_start = ProcessCpuSeconds();
    state.ResumeTiming();
    for (const std::vector<AuditEntry>& batch : batches) {
      if (auto s = (*store)->AppendMany(batch); !s.ok()) {
        state.SkipWithError(s.status().ToString().c_str());
        return;
      }
    }
    state.PauseTiming();
    store->reset();  // waits for background flushes: their CPU counts
    cpu += ProcessCpuSeconds() - cpu_start;
    state.ResumeTiming();
  }
  std::filesystem::remove_all(dir);
  state.counters["process_cpu_us/entry"] = cpu * 1e6 / (static_cast<double>(entries) * state.iterations());
  state.counters["entries/s"] =
      benchmark::Counter(static_cast<double>(entries) * state.iterations(), benchmark::Counter::kIsRate);
}
// 200 k entries: about what the worker appends in 15 s at 130 k events/s.
BENCHMARK(BM_AuditAppendMany)->Arg(200'000)->Iterations(3)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace upfront
