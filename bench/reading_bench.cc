// Per-event update of every signal, counter, model and segment of the shipped
// example policy, with 1,000,000 customers in state: what a partition does
// for each event after the store (profile, signals, reading), on one core.
//
// Reports throughput (items_per_second) and per-event latency percentiles
// (p50_ns, p99_ns, p999_ns) measured around each event.

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "bench/example_policy.h"
#include "src/event/field_catalog.h"
#include "src/profile/profile.h"
#include "src/reading/reader.h"
#include "src/signals/customer_signals.h"
#include "upfront/policy.h"

namespace upfront {
namespace {

constexpr int kCustomers = 1'000'000;
constexpr int kEventKinds = 8;

struct Customer {
  explicit Customer(const CompiledSignals* compiled) : signals(compiled) {}
  Profile profile;
  CustomerSignals signals;
};

struct World : ExamplePolicy {
  std::vector<std::unique_ptr<Customer>> customers;
  std::vector<Event> events;  // one template per kind
  Micros now = 20'000 * kMicrosPerDay;
};

void SetText(const FieldCatalog& catalog, Event* e, std::string_view property, std::string text) {
  FieldValue& v = e->properties.Add(static_cast<uint16_t>(catalog.PropertyId(property)));
  v.kind = FieldValue::Kind::kString;
  v.text = std::move(text);
}

World& TheWorld() {
  static World* world = [] {
    auto* w = new World;
    static_cast<ExamplePolicy&>(*w) = ExamplePolicy::Load();
    const int tenure = w->catalog->TraitId("tenure_days");
    const int plan = w->catalog->TraitId("plan");
    w->customers.reserve(kCustomers);
    for (int c = 0; c < kCustomers; ++c) {
      auto customer = std::make_unique<Customer>(&w->reader->signals());
      customer->profile.id = "customer-" + std::to_string(c);
      customer->profile.traits.resize(w->catalog->trait_count());
      customer->profile.has_trait.assign(w->catalog->trait_count(), false);
      customer->profile.traits[tenure].kind = FieldValue::Kind::kNumber;
      customer->profile.traits[tenure].number = c % 400;
      customer->profile.has_trait[tenure] = true;
      customer->profile.traits[plan].kind = FieldValue::Kind::kString;
      customer->profile.traits[plan].text = c % 10 == 0 ? "enterprise" : "pro";
      customer->profile.has_trait[plan] = true;
      w->customers.push_back(std::move(customer));
    }
    const char* names[kEventKinds] = {"Form Error",      "Checkout Step Viewed", "Page Viewed",
                                      "Checkout Started", "Order Completed",     "Session Started",
                                      "Shipment Delayed", "Support Ticket Opened"};
    for (const char* name : names) {
      Event e;
      e.type = EventType::kTrack;
      e.name = name;
      e.message_id = "m-000000000000";
      SetText(*w->catalog, &e, "path", "/checkout/payment");
      SetText(*w->catalog, &e, "step", "2");
      FieldValue& delay = e.properties.Add(static_cast<uint16_t>(w->catalog->PropertyId("delay_days")));
      delay.kind = FieldValue::Kind::kNumber;
      delay.number = 3;
      w->events.push_back(std::move(e));
    }
    return w;
  }();
  return *world;
}

// state.range(0): events in a row for the same customer. 1 is the worst case
// (every event a different customer at random, so every event misses the
// caches); 8 is closer to real traffic, where a session's events come close
// together.
// state.range(1): 1 to also fold the event into the profile (ids, traits,
// per-event-name counts), as a partition does; 0 for signals and models only.
void BM_ReadingPerEvent(benchmark::State& state) {
  World& w = TheWorld();
  const int64_t burst = state.range(0);
  const bool with_profile = state.range(1) != 0;
  // state.range(2): look ahead in the queue and prefetch the state of the
  // customers of the next events, as the partition does.
  const bool prefetch = state.range(2) != 0;
  std::vector<size_t> upcoming(16);  // the customers of the next events
  size_t c = 0;
  Reading reading(*w.reader);
  std::mt19937_64 random(42);
  std::vector<int64_t> latencies;
  latencies.reserve(1 << 22);
  int64_t processed = 0;
  for (auto _ : state) {
    // Customers at random: state far bigger than the caches, as in a partition.
    if (processed == 0) {
      for (size_t k = 0; k < upcoming.size(); ++k) upcoming[k] = static_cast<size_t>(random() % kCustomers);
    }
    if (processed % burst == 0) {
      if (prefetch) {
        c = upcoming[processed / burst % upcoming.size()];
        upcoming[processed / burst % upcoming.size()] = static_cast<size_t>(random() % kCustomers);
        // The partition's stages (Partition::LookAhead): the state object,
        // then its vectors, then what they point to.
        const auto ahead = [&](size_t k) -> const Customer& {
          return *w.customers[upcoming[(processed / burst + k) % upcoming.size()]];
        };
        const char* object = reinterpret_cast<const char*>(&ahead(5));
        for (size_t line = 0; line < sizeof(Customer); line += 64) __builtin_prefetch(object + line);
        ahead(3).signals.Prefetch();
        __builtin_prefetch(ahead(3).profile.traits.data());
        ahead(1).signals.PrefetchNested();
      } else {
        c = static_cast<size_t>(random() % kCustomers);
      }
    }
    Event& event = w.events[random() % kEventKinds];
    w.now += 1000;  // 1 ms of event time per event
    event.timestamp = w.now;
    const auto start = std::chrono::steady_clock::now();
    Customer& customer = *w.customers[c];
    if (with_profile) ApplyEvent(*w.rules, event, &customer.profile);
    customer.signals.OnEvent(event);
    w.reader->Read(customer.profile, customer.signals, event.timestamp, &reading);
    benchmark::DoNotOptimize(reading.model(0).score);
    const auto end = std::chrono::steady_clock::now();
    if (latencies.size() < latencies.capacity()) latencies.push_back((end - start).count());
    ++processed;
  }
  state.SetItemsProcessed(processed);
  std::sort(latencies.begin(), latencies.end());
  const auto at = [&](double q) {
    return static_cast<double>(latencies[static_cast<size_t>(q * (latencies.size() - 1))]);
  };
  if (!latencies.empty()) {
    state.counters["p50_ns"] = at(0.5);
    state.counters["p99_ns"] = at(0.99);
    state.counters["p999_ns"] = at(0.999);
  }
  state.counters["customers"] = kCustomers;
}
BENCHMARK(BM_ReadingPerEvent)
    ->ArgNames({"burst", "profile", "prefetch"})
    ->ArgsProduct({{1, 8}, {0, 1}, {0, 1}})
    ->Iterations(3'000'000)
    ->Unit(benchmark::kNanosecond);

}  // namespace
}  // namespace upfront
