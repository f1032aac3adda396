// Durable ingest throughput: parse, validate, dedup, route, group-commit into
// RocksDB with the WAL synced, and apply to partitioned customer state.
//
// Events are ~300-byte Segment track calls from 100,000 customers, sent as
// JSON-lines batches; two batches are in flight (one parsing while the other
// commits), as `upfront ingest` does.

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "upfront/engine.h"

namespace upfront {
namespace {

constexpr const char* kPolicy = R"(
version: "bench"
events:
  keep_properties: [step, field, path, order_id]
  keep_traits: [plan]
  dedup_window: 24h
outcomes:
  purchase: {event: "Order Completed"}
)";

std::string MakeBatch(uint64_t first, int size) {
  static const char* kEvents[] = {"Checkout Step Viewed", "Form Error", "Order Completed", "Page Viewed"};
  std::string out;
  char buf[512];
  for (int i = 0; i < size; ++i) {
    uint64_t n = first + i;
    int len = std::snprintf(
        buf, sizeof buf,
        R"({"type":"track","userId":"customer-%06llu","event":"%s","messageId":"m-%012llu",)"
        R"("timestamp":"2026-11-25T10:%02llu:%02llu.%03lluZ","properties":{"step":"%llu","field":"card_number",)"
        R"("path":"/checkout/payment","order_id":"o-%llu","ignored":"x"},"context":{"timezone":"Europe/Madrid"}})"
        "\n",
        static_cast<unsigned long long>((n * 7919) % 100000), kEvents[n % 4], static_cast<unsigned long long>(n),
        static_cast<unsigned long long>((n / 60000) % 60), static_cast<unsigned long long>((n / 1000) % 60),
        static_cast<unsigned long long>(n % 1000), static_cast<unsigned long long>(n % 5),
        static_cast<unsigned long long>(n));
    out.append(buf, len);
  }
  return out;
}

void BM_DurableIngest(benchmark::State& state) {
  const int batch_size = static_cast<int>(state.range(0));
  std::string dir = (std::filesystem::temp_directory_path() / "upfront-ingest-bench").string();
  std::filesystem::remove_all(dir);
  EngineOptions options;
  options.data_dir = dir;
  options.policy = std::make_shared<Policy>(LoadPolicyText(kPolicy, "bench.yaml").value());
  options.partitions = 2;
  options.arrival = ArrivalClock::kEventTime;
  options.sync = std::getenv("BENCH_NOSYNC") == nullptr;
  auto engine = Engine::Open(options).value();
  IngestOptions ingest;
  ingest.format = IngestFormat::kJsonLines;
  ingest.max_batch_bytes = 0;

  constexpr int kPrepared = 64;
  std::vector<std::string> batches;
  uint64_t next = 0;
  size_t bytes = 0;
  for (int i = 0; i < kPrepared; ++i) {
    batches.push_back(MakeBatch(next, batch_size));
    next += batch_size;
  }
  uint64_t events = 0, round = 0;
  std::future<absl::StatusOr<IngestReport>> in_flight;
  for (auto _ : state) {
    std::string& batch = batches[round % kPrepared];
    if (round >= kPrepared) {
      state.PauseTiming();
      batch = MakeBatch(next, batch_size);
      next += batch_size;
      state.ResumeTiming();
    }
    auto submitted = engine->Submit(batch, ingest);
    if (in_flight.valid()) {
      auto report = in_flight.get();
      if (!report.ok() || report->accepted == 0) state.SkipWithError("ingest failed");
    }
    in_flight = std::move(submitted);
    events += batch_size;
    bytes += batch.size();
    ++round;
  }
  if (in_flight.valid()) (void)in_flight.get();
  (void)engine->Flush();
  state.SetItemsProcessed(static_cast<int64_t>(events));
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.counters["avg_event_bytes"] = static_cast<double>(bytes) / static_cast<double>(events);
  engine.reset();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_DurableIngest)->Arg(100)->Arg(1000)->Arg(5000)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace upfront
