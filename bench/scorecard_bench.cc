// The full scorecard (src/measure/scorecard.h) over 10,000,000 synthetic
// outcome events of 1,000,000 customers, with the shipped example policy
// (holdout 5%, one A/B experiment, three interventions): cohorts, the
// experiment, triggered analyses, breakdowns by segment, channel, case type
// and hour, the pre-period, weekly series, signal quality, the bias audit
// and the JSON: BM_ScorecardAllData and BM_ScorecardTwoWeeks time
// ComputeScorecard alone.
//
// BM_BuildScorecardFromEngine times what `upfront report` does on a real
// data directory: scan the engine's stored events (simdjson per event),
// resolve every id through the identity index, then compute; over 1,000,000
// stored events of 100,000 customers ingested in setup.
//
// Target (issue 6): <= 10 s for 10M outcome events on the 2-core development
// machine.

#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "src/common/time_format.h"
#include "src/decide/cohort.h"
#include "src/measure/scorecard.h"
#include "upfront/engine.h"
#include "upfront/policy.h"

namespace upfront {
namespace {

constexpr int kCustomers = 1'000'000;
constexpr size_t kEvents = 10'000'000;
constexpr int kDays = 56;

struct Synthetic {
  Policy policy;
  ScorecardInput input;
};

Synthetic* Make() {
  auto* s = new Synthetic;
  s->policy =
      LoadPolicyFile(std::string(UPFRONT_SOURCE_DIR) + "/examples/ecommerce/policy.yaml").value();
  const Policy& policy = s->policy;
  ScorecardInput& in = s->input;
  in.journeys.push_back({"cart_abandoned: Checkout Started", 30 * kMicrosPerMinute});
  for (const char* seg : {"new_customer", "vip"}) ScorecardInput::Intern(&in.segments, seg);
  for (const char* ch : {"in_flow", "in_app", "email", "agent", "chat", "phone"})
    ScorecardInput::Intern(&in.channels, ch);
  for (int k = 0; k < 12; ++k) ScorecardInput::Intern(&in.case_types, "case_" + std::to_string(k));

  const Micros start = *ParseTimestamp("2026-10-01T00:00:00Z");
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> u(0, 1);
  std::uniform_int_distribution<int64_t> when(0, kDays * kMicrosPerDay - 1);
  std::lognormal_distribution<double> revenue(3.3, 0.8);
  std::uniform_int_distribution<int> nps(0, 10), hour(0, 23), channel(0, 5), case_type(0, 11),
      count(5, 15);
  in.customer_ids.reserve(kCustomers);
  in.customer_segments.reserve(kCustomers);
  in.events.reserve(kEvents + 16);
  std::vector<Micros> times;
  for (int c = 0; c < kCustomers && in.events.size() < kEvents; ++c) {
    char id[24];
    std::snprintf(id, sizeof id, "cust-%07d", c);
    in.customer_ids.emplace_back(id);
    const double r = u(rng);
    in.customer_segments.push_back(r < 0.1 ? 1 : r < 0.3 ? 0 : kNoLabel);
    const bool treated = !InHoldout(policy, in.customer_ids.back());
    const uint32_t customer = static_cast<uint32_t>(c);
    const int n = c + 1 == kCustomers
                      ? static_cast<int>(kEvents - in.events.size())
                      : std::min<int>(count(rng), static_cast<int>(kEvents - in.events.size()));
    times.resize(n);
    for (Micros& t : times) t = start + when(rng);
    std::sort(times.begin(), times.end());
    for (int k = 0; k < n; ++k) {
      ScorecardEvent e;
      e.at = times[k];
      e.customer = customer;
      e.local_hour = static_cast<uint8_t>(hour(rng));
      const double kind = u(rng);
      if (kind < 0.20) {
        e.kind = static_cast<uint8_t>(OutcomeRole::kContactOpened);
        e.channel = static_cast<uint16_t>(channel(rng));
        e.case_type = static_cast<uint16_t>(case_type(rng));
      } else if (kind < 0.36) {
        e.kind = static_cast<uint8_t>(OutcomeRole::kContactResolved);
      } else if (kind < 0.51) {
        e.kind = static_cast<uint8_t>(OutcomeRole::kCsat);
        const double p = u(rng) + (treated ? 0.06 : 0);
        e.value = p < 0.05 ? 1 : p < 0.15 ? 2 : p < 0.4 ? 3 : p < 0.75 ? 4 : 5;
        e.channel = static_cast<uint16_t>(channel(rng));
      } else if (kind < 0.59) {
        e.kind = static_cast<uint8_t>(OutcomeRole::kNps);
        e.value = nps(rng);
      } else if (kind < 0.74) {
        e.kind = static_cast<uint8_t>(OutcomeRole::kPurchase);
        e.value = std::round(revenue(rng) * 100) / 100;
      } else if (kind < 0.82) {
        e.kind = kJourneyStartKind;
      } else if (kind < 0.88) {
        e.kind = kJourneyEndKind;
      } else if (kind < 0.92) {
        e.kind = static_cast<uint8_t>(OutcomeRole::kAccepted);
      } else if (kind < 0.96) {
        e.kind = static_cast<uint8_t>(OutcomeRole::kDismissed);
      } else if (kind < 0.98) {
        e.kind = static_cast<uint8_t>(OutcomeRole::kOptOut);
      } else {
        e.kind = static_cast<uint8_t>(OutcomeRole::kComplaint);
      }
      in.events.push_back(e);
    }
    // A fifth of the customers met an intervention's condition; most of
    // those were acted on (or would have been, in the holdout).
    if (u(rng) < 0.2) {
      ScorecardExposure x;
      x.at = start + when(rng);
      x.customer = customer;
      x.intervention = static_cast<uint16_t>(c % policy.interventions.size());
      x.holdout = !treated;
      in.exposures.push_back(x);
      for (int a = 0; a < 2 && u(rng) < 0.75; ++a) {
        ScorecardAction act;
        act.at = x.at + a * kMicrosPerHour;
        act.customer = customer;
        act.intervention = x.intervention;
        act.channel = static_cast<uint16_t>(a);
        act.holdout = x.holdout;
        in.actions.push_back(act);
      }
    }
  }
  // Arrival order: the engine's log is in (roughly) time order across customers.
  std::sort(in.events.begin(), in.events.end(),
            [](const ScorecardEvent& a, const ScorecardEvent& b) { return a.at < b.at; });
  return s;
}

const Synthetic& Data() {
  static const Synthetic* data = Make();
  return *data;
}

void RunScorecard(benchmark::State& state, ScorecardWindow window) {
  const Synthetic& data = Data();
  ScorecardOptions options;
  options.window = window;
  size_t comparisons = 0, bytes = 0;
  for (auto _ : state) {
    absl::StatusOr<nlohmann::json> card = ComputeScorecard(data.input, data.policy, options);
    if (!card.ok()) {
      state.SkipWithError(std::string(card.status().message()).c_str());
      return;
    }
    comparisons = (*card)["comparisons"].size();
    state.PauseTiming();
    bytes = card->dump().size();
    state.ResumeTiming();
    benchmark::DoNotOptimize(card);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * data.input.events.size()));
  state.counters["events"] = static_cast<double>(data.input.events.size());
  state.counters["customers"] = static_cast<double>(data.input.customer_ids.size());
  state.counters["comparisons"] = static_cast<double>(comparisons);
  state.counters["json_bytes"] = static_cast<double>(bytes);
}

// Every event in the window: the most work (all breakdowns are filled).
void BM_ScorecardAllData(benchmark::State& state) { RunScorecard(state, ScorecardWindow::kAll); }
// The default report: the last two weeks, with the pre-period before them.
void BM_ScorecardTwoWeeks(benchmark::State& state) {
  RunScorecard(state, ScorecardWindow::kTwoWeeks);
}
BENCHMARK(BM_ScorecardAllData)->Unit(benchmark::kSecond)->Iterations(3);
BENCHMARK(BM_ScorecardTwoWeeks)->Unit(benchmark::kSecond)->Iterations(3);

// ---- through the engine ----

constexpr int kStoredCustomers = 100'000;
constexpr int kStoredEvents = 1'000'000;

struct StoredData {
  std::string dir;
  std::shared_ptr<const Policy> policy;
  std::unique_ptr<Engine> engine;
  ~StoredData() {
    engine.reset();
    std::filesystem::remove_all(dir);
  }
};

StoredData* MakeStored() {
  auto* d = new StoredData;
  d->dir = (std::filesystem::temp_directory_path() /
            ("upfront-scorecard-bench-" + std::to_string(::getpid())))
               .string();
  std::filesystem::remove_all(d->dir);
  d->policy = std::make_shared<Policy>(
      LoadPolicyFile(std::string(UPFRONT_SOURCE_DIR) + "/examples/ecommerce/policy.yaml").value());
  EngineOptions options;
  options.data_dir = d->dir;
  options.policy = d->policy;
  options.arrival = ArrivalClock::kEventTime;
  options.sync = false;
  d->engine = Engine::Open(options).value();

  std::mt19937_64 rng(9);
  std::uniform_int_distribution<int> customer(0, kStoredCustomers - 1), score(1, 5), nps(0, 10),
      pick(0, 99);
  std::lognormal_distribution<double> revenue(3.3, 0.8);
  const char* channels[] = {"chat", "email", "phone"};
  Micros t = *ParseTimestamp("2026-10-01T00:00:00Z");
  std::string batch;
  IngestOptions ingest;
  ingest.max_batch_bytes = 0;
  for (int i = 0; i < kStoredEvents; ++i) {
    t += 4 * kMicrosPerSecond;  // 1M events over ~46 days, in time order
    const std::string user = "cust-" + std::to_string(customer(rng));
    const int k = pick(rng);
    std::string event, properties = "{}";
    if (k < 15) {
      event = "Support Ticket Opened";
      properties = std::string(R"({"case_type":"case_)") + std::to_string(k % 6) +
                   R"(","channel":")" + channels[k % 3] + "\"}";
    } else if (k < 27) {
      event = "Support Ticket Resolved";
    } else if (k < 37) {
      event = "CSAT Submitted";
      properties = R"({"score":)" + std::to_string(score(rng)) + "}";
    } else if (k < 42) {
      event = "NPS Submitted";
      properties = R"({"score":)" + std::to_string(nps(rng)) + "}";
    } else if (k < 52) {
      event = "Order Completed";
      properties = R"({"revenue":)" + std::to_string(std::round(revenue(rng) * 100) / 100) + "}";
    } else if (k < 60) {
      event = "Checkout Started";
    } else {
      event = "Product Viewed";  // not an outcome: only an activity mark
    }
    batch += R"({"type":"track","userId":")" + user + R"(","event":")" + event +
             R"(","timestamp":")" + FormatTimestamp(t) + R"(","messageId":"b-)" +
             std::to_string(i) + R"(","properties":)" + properties +
             R"(,"context":{"timezone":"Europe/Madrid"}})" + "\n";
    if (batch.size() > (1 << 20) || i + 1 == kStoredEvents) {
      d->engine->Ingest(batch, ingest).value();
      batch.clear();
    }
  }
  (void)d->engine->Flush();
  return d;
}

void BM_BuildScorecardFromEngine(benchmark::State& state) {
  static const std::unique_ptr<StoredData> data(MakeStored());
  ScorecardOptions options;
  options.window = ScorecardWindow::kAll;
  uint64_t events = 0;
  for (auto _ : state) {
    absl::StatusOr<nlohmann::json> card = BuildScorecard(*data->engine, *data->policy, options);
    if (!card.ok()) {
      state.SkipWithError(std::string(card.status().message()).c_str());
      return;
    }
    events = (*card)["input"]["events"].get<uint64_t>();
    benchmark::DoNotOptimize(card);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * kStoredEvents);
  state.counters["stored_events"] = kStoredEvents;
  state.counters["outcome_events"] = static_cast<double>(events);
}
BENCHMARK(BM_BuildScorecardFromEngine)->Unit(benchmark::kSecond)->Iterations(2);

}  // namespace
}  // namespace upfront
