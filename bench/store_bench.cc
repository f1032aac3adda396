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
#include <memory>
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

// A fresh store and the next groups of events to commit into it.
class CommitFeed {
 public:
  CommitFeed(bool random_ids, benchmark::State& state) : random_ids_(random_ids), state_(state) {
    std::filesystem::remove_all(dir_);
    store_ = OpenRocksDbStore(dir_, {}).value();
  }
  ~CommitFeed() {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  StateStore& store() { return *store_; }
  std::string RandomId() { return RandomUuid(rng_); }

  // Builds the next group; CommitNext() writes it.
  void FillNext() {
    batch_.events.clear();
    for (int i = 0; i < kGroup; ++i) {
      ++seq_;
      ids_[i] = random_ids_ ? RandomUuid(rng_) : "m-" + std::to_string(1'000'000'000'000 + seq_);
      customers_[i] = "customer-" + std::to_string(rng_() % 100'000);
      batch_.events.push_back({seq_, static_cast<Micros>(seq_), ids_[i], customers_[i], "", event_json_});
    }
    batch_.stream_watermark = static_cast<Micros>(seq_);
  }
  void CommitNext() {
    if (!store_->Commit(batch_, false).ok()) state_.SkipWithError("commit failed");
  }
  void Prefill() {
    while (seq_ < kPrefill) {
      FillNext();
      CommitNext();
    }
  }

 private:
  const bool random_ids_;
  benchmark::State& state_;
  const std::string dir_ = (std::filesystem::temp_directory_path() / "upfront-store-bench").string();
  std::unique_ptr<StateStore> store_;
  const std::string event_json_ = std::string(300, 'x');
  std::mt19937_64 rng_{7};
  uint64_t seq_ = 0;
  std::vector<std::string> ids_ = std::vector<std::string>(kGroup), customers_ = std::vector<std::string>(kGroup);
  CommitBatch batch_;
};

void BM_Commit(benchmark::State& state) {
  CommitFeed feed(state.range(0) == 1, state);
  feed.Prefill();
  for (auto _ : state) {
    state.PauseTiming();
    feed.FillNext();
    state.ResumeTiming();
    feed.CommitNext();
  }
  state.SetItemsProcessed(state.iterations() * kGroup);
}
BENCHMARK(BM_Commit)->ArgName("random_ids")->Arg(0)->Arg(1)->Iterations(2000);

// LookupMessageIds of 500 new random ids against 1 M stored: what every event
// costs the sequencer once the in-memory index of recent ids (8 M) no longer
// reaches back a whole dedup window, as under sustained load.
void BM_LookupNewIds(benchmark::State& state) {
  CommitFeed feed(/*random_ids=*/true, state);
  feed.Prefill();
  std::vector<std::string> ids(kGroup);
  std::vector<std::string_view> asked(kGroup);
  std::vector<std::optional<Micros>> arrivals;
  for (auto _ : state) {
    state.PauseTiming();
    for (int i = 0; i < kGroup; ++i) {
      ids[i] = feed.RandomId();
      asked[i] = ids[i];
    }
    state.ResumeTiming();
    if (!feed.store().LookupMessageIds(asked, &arrivals).ok()) state.SkipWithError("lookup failed");
  }
  state.SetItemsProcessed(state.iterations() * kGroup);
}
BENCHMARK(BM_LookupNewIds)->Iterations(2000);

}  // namespace
}  // namespace upfront
