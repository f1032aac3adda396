// The decision ledger's write path, as the server's decision worker drives
// it: Record() of batches of decisions as the engine tells them (~830-byte
// JSON, time-ordered ids, customers drawn at random from 100,000, one in
// three an in-flow nudge), into a fresh RocksDB ledger.
//
// Each iteration records the argument's number of decisions; the counter is
// decisions/s. 200 k fill the ledger past its first memtable flush, so the
// figure includes inserting into a full memtable, not only an empty one.

#include <sys/resource.h>

#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include "src/server/http/decision_ledger.h"

namespace upfront {
namespace {

constexpr int kCustomers = 100'000;
constexpr int kDecisions = 200'000;  // the short Record() run's, and the reads' ledger
constexpr int kBatch = 512;

std::string DecisionJson(const std::string& id, const std::string& customer) {
  return fmt::format(
      R"({{"decision_id":"{}","customer":"{}","at":"2026-11-25T10:06:00.000Z","trigger":{{"message_id":"e-020"}},)"
      R"("segment":"default","cohort":"treatment","experiment":"checkout_threshold","variant":"control",)"
      R"("action":"deliver","intervention":"checkout_help","step":0,"channel":"in_flow","template":"checkout_tip",)"
      R"("message":"Stuck on card_number? Here is how to fix it in one step.","explanation":{{"why":"We noticed 2 )"
      R"(checkout problems in the last 1 minute.","benefit":"finish your order without starting over","options":)"
      R"(["accept","snooze","turn_off"],"confidence":0.807263}},"confidence":0.807263,"priority":21.712312,)"
      R"("signals":{{"checkout_friction":{{"score":0.723744,"confidence":0.807263}},"cart_abandoned":{{"score":0,)"
      R"("confidence":0}},"usage_drop":{{"score":0,"confidence":0}},"delivery_risk":{{"score":0,"confidence":0}}}},)"
      R"("models":{{"churn_risk":{{"score":0.194504,"confidence":0.999524,"version":"lr-77132fcb360b983c"}}}},)"
      R"("blocked":[],"missing":[],"policy_version":"checkout-2026-11","policy_hash":"be15391847af465c"}})",
      id, customer);
}

double ProcessCpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

std::vector<std::vector<RecordedDecision>> MakeBatches(int decisions) {
  std::mt19937_64 rng(7);
  std::vector<std::vector<RecordedDecision>> batches((decisions + kBatch - 1) / kBatch);
  Micros at = 1'795'000'000'000'000;
  for (int i = 0; i < decisions; ++i) {
    RecordedDecision& d = batches[i / kBatch].emplace_back();
    at += 9;  // ~110,000 decisions/s of event time
    d.id = fmt::format("{:012x}{:016x}", static_cast<uint64_t>(at / 1000), rng());
    d.customer = fmt::format("user-{}", rng() % kCustomers);
    d.at = at;
    d.json = DecisionJson(d.id, d.customer);
    d.nudge = i % 3 == 0;
    d.nudge_expires = at + kMicrosPerDay;
    d.may_be_recorded = false;
  }
  return batches;
}

std::filesystem::path BenchDir() {
  return std::filesystem::temp_directory_path() / ("upfront-ledger-bench-" + std::to_string(::getpid()));
}

void BM_LedgerRecord(benchmark::State& state) {
  const int decisions = static_cast<int>(state.range(0));
  const std::vector<std::vector<RecordedDecision>> batches = MakeBatches(decisions);
  const std::filesystem::path dir = BenchDir();
  double cpu = 0;
  for (auto _ : state) {
    state.PauseTiming();
    std::filesystem::remove_all(dir);
    auto ledger = DecisionLedger::Open(dir.string());
    if (!ledger.ok()) {
      state.SkipWithError(ledger.status().ToString().c_str());
      return;
    }
    const double cpu_start = ProcessCpuSeconds();
    state.ResumeTiming();
    for (const std::vector<RecordedDecision>& batch : batches) {
      if (auto s = (*ledger)->Record(batch); !s.ok()) {
        state.SkipWithError(s.ToString().c_str());
        return;
      }
    }
    state.PauseTiming();
    ledger->reset();  // waits for background flushes: their CPU counts
    cpu += ProcessCpuSeconds() - cpu_start;
    state.ResumeTiming();
  }
  std::filesystem::remove_all(dir);
  state.counters["process_cpu_us/decision"] = cpu * 1e6 / (static_cast<double>(decisions) * state.iterations());
  state.counters["decisions/s"] =
      benchmark::Counter(static_cast<double>(decisions) * state.iterations(), benchmark::Counter::kIsRate);
}
// 200 k decisions fill about two memtables; 1.5 M (1.2 GB) take the ledger
// through several compactions, as a server that runs for a while.
BENCHMARK(BM_LedgerRecord)->Arg(kDecisions)->Iterations(3)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_LedgerRecord)->Arg(1'500'000)->Iterations(1)->Unit(benchmark::kMillisecond);

// What an agent's view of a customer (their decisions, newest first) and a
// page's poll for nudges cost once the ledger holds the decisions above, most
// of them still in memtables: the customer history's vector memtable is
// sorted (a copy) for each read.
void BM_LedgerCustomerReads(benchmark::State& state) {
  const std::filesystem::path dir = BenchDir();
  std::filesystem::remove_all(dir);
  auto ledger = DecisionLedger::Open(dir.string());
  if (!ledger.ok()) {
    state.SkipWithError(ledger.status().ToString().c_str());
    return;
  }
  for (const std::vector<RecordedDecision>& batch : MakeBatches(kDecisions)) {
    if (auto s = (*ledger)->Record(batch); !s.ok()) {
      state.SkipWithError(s.ToString().c_str());
      return;
    }
  }
  std::mt19937_64 rng(11);
  size_t found = 0;
  for (auto _ : state) {
    const std::vector<std::string> ids = {fmt::format("user-{}", rng() % kCustomers)};
    auto decisions = state.range(0) == 0 ? (*ledger)->CustomerDecisions(ids, 50)
                                         : (*ledger)->PendingNudges(ids, 1'795'000'000'000'000);
    if (!decisions.ok()) {
      state.SkipWithError(decisions.status().ToString().c_str());
      return;
    }
    found += decisions->size();
  }
  ledger->reset();
  std::filesystem::remove_all(dir);
  state.counters["found_per_read"] = static_cast<double>(found) / static_cast<double>(state.iterations());
  state.SetLabel(state.range(0) == 0 ? "customer decisions" : "pending nudges");
}
BENCHMARK(BM_LedgerCustomerReads)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace upfront
