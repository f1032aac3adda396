// The full in-process path of an event with the example policy and 1,000,000
// customers in state: parse and validate (simdjson), route to the customer,
// fold into the profile, update signals and counters, read models and
// segment, decide (guardrails, arbitration, rendering a message when one goes
// out). The durable log write is measured by ingest_bench; this is what a
// partition core does per event.
//
// Events are parsed a few ahead of the one being applied, and the state of
// the customers of the next ones is prefetched in stages, as the engine does
// (the ingest thread parses; the partition looks ahead in its queue:
// Partition::LookAhead). state.range(1) = 0 turns the look-ahead off.
//
// Reports throughput (items_per_second; and median_window_per_second, that of
// the median run of 10,000 events, which a busy neighbour on a shared host
// hardly moves), per-event latency percentiles and
// how many decision points and deliveries there were.

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <random>
#include <string>
#include <vector>

#if defined(__x86_64__)
#include <x86intrin.h>
#endif

#include "src/common/id_map.h"
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

// A clock for per-event latencies: the time-stamp counter where there is one.
uint64_t Ticks() {
#if defined(__x86_64__)
  return __rdtsc();
#else
  return static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
#endif
}

constexpr int kCustomers = 1'000'000;
constexpr int kEvents = 400'000;

struct Customer {
  explicit Customer(const CompiledSignals* compiled) : signals(compiled) {}
  Profile profile;
  CustomerSignals signals;
  DecisionState decisions;
};

struct World : ExamplePolicy {
  IdMap<Customer> customers;
};

// Event lines for `burst` events per customer in a row, customers at random.
// Each benchmark run plays its events three days after the previous run's
// (the customers are shared), so every run meets the same kind of state:
// long-past contacts, caps reset, cooldowns over.
std::string MakeLines(int burst) {
  static int run = 0;
  const int day = 10 + 3 * run++;
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
        R"("timestamp":"2026-11-%02dT10:%02d:%02d.%03dZ","properties":{"step":"%d","field":"card_number",)"
        R"("path":"/checkout/payment","order_id":"o-%d","delay_days":3},)"
        R"("context":{"timezone":"Europe/Madrid","page":{"path":"/checkout/payment"}}})"
        "\n",
        customer, kNames[random() % 8], n, day, static_cast<int>((t / 60'000'000) % 60),
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
    const auto tenure_id = static_cast<uint16_t>(w->catalog->TraitId("tenure_days"));
    const auto plan_id = static_cast<uint16_t>(w->catalog->TraitId("plan"));
    for (const char* name : {"path", "step", "field", "order_id", "delay_days"}) {
      FieldValue& v = event.properties.Add(static_cast<uint16_t>(w->catalog->PropertyId(name)));
      v.kind = FieldValue::Kind::kString;
      v.text = "warm-up value";
    }
    // A month before the measured events each customer did each of the
    // measured kinds once (long decayed, caps and cooldowns long over): a
    // long-lived customer's per-name counters and last properties exist.
    const char* kinds[] = {"Page Viewed", "Form Error", "Checkout Step Viewed", "Checkout Started",
                           "Order Completed", "Session Started", "Shipment Delayed", "Support Ticket Opened"};
    for (int c = 0; c < kCustomers; ++c) {
      std::snprintf(id, sizeof id, "customer-%07d", c);
      auto customer = std::make_unique<Customer>(&w->reader->signals());
      customer->profile.id = id;
      event.user_id = id;
      event.message_id = id;
      // Each set right after its Add: a later Add may move the list's slots.
      event.traits.Clear();
      FieldValue& tenure = event.traits.Add(tenure_id);
      tenure.kind = FieldValue::Kind::kNumber;
      tenure.number = c % 400;
      FieldValue& plan = event.traits.Add(plan_id);
      plan.kind = FieldValue::Kind::kString;
      plan.text = c % 10 == 0 ? "enterprise" : "pro";
      for (size_t k = 0; k < std::size(kinds); ++k) {
        event.name = kinds[k];
        event.type = k == 0 ? EventType::kPage : EventType::kTrack;
        event.timestamp = 1'792'972'800'000'000 + c + static_cast<Micros>(k) * kMicrosPerSecond;  // 2026-10-26
        ApplyEvent(*w->rules, event, &customer->profile);
        customer->signals.OnEvent(event);
        decider.Observe(event, &customer->decisions);
        w->reader->Read(customer->profile, customer->signals, event.timestamp, &reading);
        DecisionInput input{&customer->profile, &customer->signals, &reading, &event, event.timestamp};
        decider.Decide(input, &customer->decisions, &decision);
      }
      w->customers.Insert(id, std::move(customer));
    }
    return w;
  }();
  return *world;
}

void BM_FullPathPerEvent(benchmark::State& state) {
  World& w = TheWorld();
  std::string lines = MakeLines(static_cast<int>(state.range(0)));
  const bool look_ahead = state.range(1) != 0;
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
  EventError error;
  // A ring of parsed events: slot i % kAhead holds event i, parsed kParsed
  // events before it is applied; the prefetch stages follow the partition's.
  constexpr size_t kAhead = 16, kParsed = 9, kMapSlot = 8, kObject = 5, kVectors = 3, kNested = 1;
  std::vector<Event> ring(kAhead);
  std::vector<uint64_t> hash(kAhead, 0);  // of the customer id: the router's, handed over
  std::vector<Customer*> owner(kAhead, nullptr);
  size_t next_raw = 0;
  const auto parse_into = [&](size_t slot) {
    const RawEvent& r = raw[next_raw];
    if (++next_raw == raw.size()) next_raw = 0;
    ParseDefaults defaults{.arrival = 1'764'064'800'000'000};
    owner[slot] = nullptr;
    if (!parser.Parse(r.json, defaults, &ring[slot], &error)) return false;
    hash[slot] = IdMap<Customer>::HashOf(ring[slot].user_id);
    return true;
  };
  const size_t lead = look_ahead ? kParsed : 0;
  for (size_t k = 0; k < lead; ++k) {
    if (!parse_into(k)) {
      state.SkipWithError(error.reason.c_str());
      return;
    }
  }
  // What the look-ahead stages use: the probable customer, as Partition::LookAhead.
  const auto peek_at = [&](size_t n) { return w.customers.Peek(hash[n % kAhead]); };
  const auto customer_at = [&](size_t n) -> Customer* {
    const size_t slot = n % kAhead;
    if (owner[slot] == nullptr) owner[slot] = w.customers.Find(ring[slot].user_id, hash[slot]);
    return owner[slot];
  };
  // An event's latency is from the end of the one before to its own end: one
  // clock read per event instead of two. The read is the CPU's time-stamp
  // counter (~12 ns; steady_clock takes 24-30 ns on this VM, ~1.5% of an event),
  // converted to nanoseconds by the steady clock over the whole run.
  // resize, not reserve: the pages are touched before the clock starts.
  std::vector<int64_t> latencies(static_cast<size_t>(kEvents));
  size_t timed = 0;
  const auto run_start = std::chrono::steady_clock::now();
  const uint64_t ticks_start = Ticks();
  uint64_t last = ticks_start;
  int64_t decisions = 0, delivered = 0;
  size_t n = 0;
  for (auto _ : state) {
    if (!parse_into((n + lead) % kAhead)) {
      state.SkipWithError(error.reason.c_str());
      break;
    }
    if (look_ahead) {
      w.customers.Prefetch(hash[(n + kMapSlot) % kAhead]);
      if (const Customer* c = peek_at(n + kObject)) {
        const char* bytes = reinterpret_cast<const char*>(c);
        for (size_t line = 0; line < sizeof(Customer); line += 64) __builtin_prefetch(bytes + line);
      }
      if (const Customer* c = peek_at(n + kVectors)) {
        c->signals.Prefetch();
        c->decisions.Prefetch();
        c->profile.Prefetch();
      }
      if (const Customer* c = peek_at(n + kNested)) c->signals.PrefetchNested();
    }
    Event& event = ring[n % kAhead];
    Customer& c = *customer_at(n);
    ++n;
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
    const uint64_t end = Ticks();
    if (timed < latencies.size()) latencies[timed++] = static_cast<int64_t>(end - last);
    last = end;
  }
  const double ns_per_tick =
      static_cast<double>((std::chrono::steady_clock::now() - run_start).count()) /
      static_cast<double>(std::max<uint64_t>(Ticks() - ticks_start, 1));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  latencies.resize(timed);
  // Events/s of each run of kWindow events in a row, the median of them: a
  // neighbour on the shared host that stalls this core now and then moves
  // the mean (items_per_second) but hardly the median window.
  constexpr size_t kWindow = 10'000;
  std::vector<double> window_rates;
  for (size_t begin = 0; begin + kWindow <= latencies.size(); begin += kWindow) {
    int64_t ticks = 0;
    for (size_t i = begin; i < begin + kWindow; ++i) ticks += latencies[i];
    window_rates.push_back(1e9 * kWindow / (static_cast<double>(std::max<int64_t>(ticks, 1)) * ns_per_tick));
  }
  if (!window_rates.empty()) {
    std::nth_element(window_rates.begin(), window_rates.begin() + window_rates.size() / 2, window_rates.end());
    state.counters["median_window_per_second"] = window_rates[window_rates.size() / 2];
  }
  std::sort(latencies.begin(), latencies.end());
  const auto at = [&](double q) {
    return static_cast<double>(latencies[static_cast<size_t>(q * (latencies.size() - 1))]) * ns_per_tick;
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
    ->ArgNames({"burst", "look_ahead"})
    ->ArgsProduct({{1, 8}, {0, 1}})
    ->Iterations(kEvents)
    ->Unit(benchmark::kNanosecond);

}  // namespace
}  // namespace upfront
