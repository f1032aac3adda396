// The event log's commit on its own: StateStore::Commit of groups of 500
// events into a fresh RocksDB store, not synced (the fsync is the disk's, not
// ours), after 1,000,000 events already committed, so the memtables are full
// and flushes and compactions run alongside.
//
// Message ids are either random UUIDs, as Segment's libraries send them, or
// sequential ("m-000000000001"), as bench/ingest_bench makes them (and
// bench/http_load_bench unless HTTP_LOAD_MESSAGE_IDS=random). The difference is the cost of the dedup
// index's inserts, whose keys are the message ids.
#include <filesystem>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "src/store/store.h"

namespace upfront {
namespace {

constexpr int kGroup = 500;
constexpr int kPrefill = 1'000'000;

std::string RandomUuid(std::mt19937_64& rng) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(36, '-');
  for (int i = 0; i < 36; ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) continue;
    id[i] = kHex[rng() & 15];
  }
  return id;
}

void BM_Commit(benchmark::State& state) {
  const bool random_ids = state.range(0) == 1;
  const std::string dir = (std::filesystem::temp_directory_path() / "upfront-store-bench").string();
  std::filesystem::remove_all(dir);
  auto store = OpenRocksDbStore(dir, {}).value();
  const std::string event_json(300, 'x');
  std::mt19937_64 rng(7);
  uint64_t seq = 0;
  std::vector<std::string> ids(kGroup), customers(kGroup);
  CommitBatch batch;
  const auto fill = [&] {
    batch.events.clear();
    for (int i = 0; i < kGroup; ++i) {
      ++seq;
      ids[i] = random_ids ? RandomUuid(rng) : "m-" + std::to_string(1'000'000'000'000 + seq);
      customers[i] = "customer-" + std::to_string(rng() % 100'000);
      batch.events.push_back({seq, static_cast<Micros>(seq), ids[i], customers[i], "", event_json});
    }
    batch.stream_watermark = static_cast<Micros>(seq);
  };
  while (seq < kPrefill) {
    fill();
    if (!store->Commit(batch, false).ok()) state.SkipWithError("commit failed");
  }
  for (auto _ : state) {
    state.PauseTiming();
    fill();
    state.ResumeTiming();
    if (!store->Commit(batch, false).ok()) state.SkipWithError("commit failed");
  }
  state.SetItemsProcessed(state.iterations() * kGroup);
  store.reset();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_Commit)->ArgName("random_ids")->Arg(0)->Arg(1)->Iterations(2000);

// LookupMessageIds of 500 new random ids against 1 M stored: what every event
// costs the sequencer once the in-memory index of recent ids (8 M) no longer
// reaches back a whole dedup window, as under sustained load.
void BM_LookupNewIds(benchmark::State& state) {
  const std::string dir = (std::filesystem::temp_directory_path() / "upfront-store-bench").string();
  std::filesystem::remove_all(dir);
  auto store = OpenRocksDbStore(dir, {}).value();
  const std::string event_json(300, 'x');
  std::mt19937_64 rng(7);
  uint64_t seq = 0;
  std::vector<std::string> ids(kGroup), customers(kGroup);
  CommitBatch batch;
  while (seq < kPrefill) {
    batch.events.clear();
    for (int i = 0; i < kGroup; ++i) {
      ++seq;
      ids[i] = RandomUuid(rng);
      customers[i] = "customer-" + std::to_string(rng() % 100'000);
      batch.events.push_back({seq, static_cast<Micros>(seq), ids[i], customers[i], "", event_json});
    }
    if (!store->Commit(batch, false).ok()) state.SkipWithError("commit failed");
  }
  std::vector<std::string_view> asked(kGroup);
  std::vector<std::optional<Micros>> arrivals;
  for (auto _ : state) {
    state.PauseTiming();
    for (int i = 0; i < kGroup; ++i) {
      ids[i] = RandomUuid(rng);
      asked[i] = ids[i];
    }
    state.ResumeTiming();
    if (!store->LookupMessageIds(asked, &arrivals).ok()) state.SkipWithError("lookup failed");
  }
  state.SetItemsProcessed(state.iterations() * kGroup);
  store.reset();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_LookupNewIds)->Iterations(2000);

}  // namespace
}  // namespace upfront
