// Parse + validate + minimize + route of ~300-byte Segment track events on one
// core: the per-event work every ingest path does before the store.

#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "src/common/hash.h"
#include "src/event/batch.h"
#include "src/event/event_parser.h"

namespace upfront {
namespace {

std::string MakeLines(int count) {
  static const char* kEvents[] = {"Checkout Step Viewed", "Form Error", "Order Completed", "Page Viewed"};
  std::string out;
  char buf[512];
  for (int n = 0; n < count; ++n) {
    int len = std::snprintf(
        buf, sizeof buf,
        R"({"type":"track","userId":"customer-%06d","event":"%s","messageId":"m-%012d",)"
        R"("timestamp":"2026-11-25T10:%02d:%02d.%03dZ","properties":{"step":"%d","field":"card_number",)"
        R"("path":"/checkout/payment","order_id":"o-%d","ignored":"x"},"context":{"timezone":"Europe/Madrid"}})"
        "\n",
        (n * 7919) % 100000, kEvents[n % 4], n, (n / 60000) % 60, (n / 1000) % 60, n % 1000, n % 5, n);
    out.append(buf, len);
  }
  return out;
}

void BM_ParseValidateRoute(benchmark::State& state) {
  FieldCatalog catalog({"step", "field", "path", "order_id"}, {"plan"}, {}, "key");
  EventParser parser(&catalog);
  std::string lines = MakeLines(10000);
  lines.append(kParsePadding, '\0');
  std::string_view body(lines.data(), lines.size() - kParsePadding);
  std::vector<RawEvent> raw;
  BatchInfo info;
  if (!SplitPayload(body, PayloadFormat::kJsonLines, &raw, &info).ok()) state.SkipWithError("split failed");
  Event event;
  EventError error;
  ParseDefaults defaults{.arrival = 1};
  constexpr uint64_t kPartitions = 2;
  uint64_t routed[kPartitions] = {};
  size_t i = 0, bytes = 0;
  for (auto _ : state) {
    const RawEvent& r = raw[i];
    if (!parser.Parse(r.json, defaults, &event, &error)) state.SkipWithError(error.reason.c_str());
    ++routed[Hash64(event.SenderId()) % kPartitions];
    bytes += r.json.size();
    if (++i == raw.size()) i = 0;
  }
  benchmark::DoNotOptimize(routed);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.counters["avg_event_bytes"] = static_cast<double>(body.size()) / static_cast<double>(raw.size());
}
BENCHMARK(BM_ParseValidateRoute);

void BM_SplitJsonLines(benchmark::State& state) {
  std::string lines = MakeLines(1000);
  lines.append(kParsePadding, '\0');
  std::string_view body(lines.data(), lines.size() - kParsePadding);
  std::vector<RawEvent> raw;
  BatchInfo info;
  for (auto _ : state) {
    (void)SplitPayload(body, PayloadFormat::kJsonLines, &raw, &info);
    benchmark::DoNotOptimize(raw.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * 1000);
}
BENCHMARK(BM_SplitJsonLines);

}  // namespace
}  // namespace upfront
