// The full in-process path of an event with the example policy and 1,000,000
// customers in state: parse and validate (simdjson), route to the customer,
// fold into the profile, update signals and counters, read models and
// segment, decide (guardrails, arbitration, rendering a message when one goes
// out). The durable log write is measured by ingest_bench; this is what a
// partition core does per event.
//
// Reports throughput (items_per_second), per-event latency percentiles and
// how many decision points and deliveries there were.

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "src/common/string_map.h"
#include "src/decide/decider.h"
#include "src/event/batch.h"
#include "src/event/event_parser.h"
#include "bench/example_policy.h"
#include "src/event/field_catalog.h"
#include "src/profile/profile.h"
#include "src/reading/reader.h"
#include "src/signals/customer_signals.h"
#include "upfront/policy.h"

namespace upfront {
namespace {

constexpr int kCustomers = 1'000'000;
constexpr int kEvents = 400'000;

struct Customer {
  explicit Customer(const CompiledSignals* compiled) : signals(compiled) {}
  Profile profile;
  CustomerSignals signals;
  DecisionState decisions;
};

struct World : ExamplePolicy {
  StringMap<std::unique_ptr<Customer>> customers;
};

// Event lines for `burst` events per customer in a row, customers at random.
std::string MakeLines(int burst) {
  static const char* kNames[] = {"Form Error", "Checkout Step Viewed", "Page Viewed",
                                  "Checkout Started", "Order Completed", "Session Started",
                                  "Shipment Delayed", "Support Ticket Opened"};
  std::mt19937_64 random(7);
  std::string out;
  char buf[640];
  int customer = 0;
  for (int n = 0; n < kEvents; ++n) {
    if (n % burst == 0) customer = static_cast<int>(random() % kCustomers);
    const Micros t = 1'764'064'800'000'000 + static_cast<Micros>(n) * 1000;  // 1 ms apart
    const int len = std::snprintf(
        buf, sizeof buf,
        R"({"type":"track","userId":"customer-%07d","event":"%s","messageId":"m-%09d",)"
        R"("timestamp":"2026-11-25T10:%02d:%02d.%03dZ","properties":{"step":"%d","field":"card_number",)"
        R"("path":"/checkout/payment","order_id":"o-%d","delay_days":3},)"
        R"("context":{"timezone":"Europe/Madrid","page":{"path":"/checkout/payment"}}})"
        "\n",
        customer, kNames[random() % 8], n, static_cast<int>((t / 60'000'000) % 60),
        static_cast<int>((t / 1'000'000) % 60), static_cast<int>((t / 1000) % 1000), n % 5, n);
    out.append(buf, static_cast<size_t>(len));
  }
  return out;
}

World& TheWorld() {
  static World* world = [] {
    auto* w = new World;
    static_cast<ExamplePolicy&>(*w) = ExamplePolicy::Load();
    w->customers.reserve(kCustomers);
    char id[32];
    // Every customer has been seen before (a page view and their traits), so
    // what is measured is the steady state, not first-time allocation.
    Decider decider(*w->reader, *w->rules);
    Reading reading(*w->reader);
    Decision decision;
    Event event;
    event.type = EventType::kPage;
    event.name = "Page Viewed";
    event.channel = "browser";
    event.timezone = "Europe/Madrid";
    FieldValue& tenure = event.traits.Add(static_cast<uint16_t>(w->catalog->TraitId("tenure_days")));
    tenure.kind = FieldValue::Kind::kNumber;
    FieldValue& plan = event.traits.Add(static_cast<uint16_t>(w->catalog->TraitId("plan")));
    plan.kind = FieldValue::Kind::kString;
    for (const char* name : {"path", "step", "field", "order_id", "delay_days"}) {
      FieldValue& v = event.properties.Add(static_cast<uint16_t>(w->catalog->PropertyId(name)));
      v.kind = FieldValue::Kind::kString;
      v.text = "warm-up value";
    }
    for (int c = 0; c < kCustomers; ++c) {
      std::snprintf(id, sizeof id, "customer-%07d", c);
      auto customer = std::make_unique<Customer>(&w->reader->signals());
      customer->profile.id = id;
      event.user_id = id;
      event.message_id = id;
      event.timestamp = 1'764'000'000'000'000 + c;
      tenure.number = c % 400;
      plan.text = c % 10 == 0 ? "enterprise" : "pro";
      ApplyEvent(*w->rules, event, &customer->profile);
      customer->signals.OnEvent(event);
      decider.Observe(event, &customer->decisions);
      w->reader->Read(customer->profile, customer->signals, event.timestamp, &reading);
      DecisionInput input{&customer->profile, &customer->signals, &reading, &event, event.timestamp};
      decider.Decide(input, &customer->decisions, &decision);
      w->customers.emplace(id, std::move(customer));
    }
    return w;
  }();
  return *world;
}

void BM_FullPathPerEvent(benchmark::State& state) {
  World& w = TheWorld();
  std::string lines = MakeLines(static_cast<int>(state.range(0)));
  lines.append(kParsePadding, '\0');
  std::vector<RawEvent> raw;
  BatchInfo info;
  if (!SplitPayload(std::string_view(lines.data(), lines.size() - kParsePadding),
                    PayloadFormat::kJsonLines, &raw, &info)
           .ok()) {
    state.SkipWithError("split failed");
    return;
  }
  EventParser parser(w.catalog.get());
  Decider decider(*w.reader, *w.rules);
  Reading reading(*w.reader);
  Decision decision;
  std::string json;
  Event event;
  EventError error;
  std::vector<int64_t> latencies;
  latencies.reserve(raw.size() * 4);
  int64_t decisions = 0, delivered = 0;
  size_t i = 0;
  for (auto _ : state) {
    const RawEvent& r = raw[i];
    if (++i == raw.size()) i = 0;
    const auto start = std::chrono::steady_clock::now();
    ParseDefaults defaults{.arrival = 1'764'064'800'000'000};
    if (!parser.Parse(r.json, defaults, &event, &error)) {
      state.SkipWithError(error.reason.c_str());
      break;
    }
    Customer& c = *w.customers.find(event.user_id)->second;
    ApplyEvent(*w.rules, event, &c.profile);
    c.signals.OnEvent(event);
    decider.Observe(event, &c.decisions);
    w.reader->Read(c.profile, c.signals, event.timestamp, &reading);
    DecisionInput input{&c.profile, &c.signals, &reading, &event, event.timestamp};
    if (decider.Decide(input, &c.decisions, &decision)) {
      ++decisions;
      AppendDecisionJson(decision, &json);  // what the listener is handed
      delivered += decision.action != "none";
    }
    const auto end = std::chrono::steady_clock::now();
    if (latencies.size() < latencies.capacity()) latencies.push_back((end - start).count());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  std::sort(latencies.begin(), latencies.end());
  const auto at = [&](double q) {
    return static_cast<double>(latencies[static_cast<size_t>(q * (latencies.size() - 1))]);
  };
  if (!latencies.empty()) {
    state.counters["p50_ns"] = at(0.5);
    state.counters["p99_ns"] = at(0.99);
    state.counters["p999_ns"] = at(0.999);
  }
  state.counters["decision_points"] = static_cast<double>(decisions);
  state.counters["actions"] = static_cast<double>(delivered);
  state.counters["customers"] = kCustomers;
}
BENCHMARK(BM_FullPathPerEvent)
    ->ArgName("burst")
    ->Arg(1)
    ->Arg(8)
    ->Iterations(kEvents)
    ->Unit(benchmark::kNanosecond);

}  // namespace
}  // namespace upfront
