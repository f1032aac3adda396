// The replay contract's properties: deterministic output, and the same
// decisions whether the events come in one run or in two with a restart.
#include "src/replay/replay.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>

#include "src/common/time_format.h"
#include "src/testing/temp_dir.h"
#include "upfront/engine.h"

namespace upfront {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::shared_ptr<const Policy> Example() {
  return std::make_shared<Policy>(
      LoadPolicyFile(std::string(UPFRONT_SOURCE_DIR) + "/examples/ecommerce/policy.yaml").value());
}

// A day of a few hundred customers with friction, delays, orders, feedback
// and identity merges: enough to exercise timers, ladders and guardrails.
std::string Events() {
  std::string out;
  const Micros start = *ParseTimestamp("2026-11-25T06:00:00Z");
  int n = 0;
  const auto add = [&](nlohmann::json e, Micros t) {
    e["timestamp"] = FormatTimestamp(t);
    e["messageId"] = "m" + std::to_string(n++);
    out += e.dump() + "\n";
  };
  for (int c = 0; c < 300; ++c) {
    const std::string user = "u" + std::to_string(c);
    const std::string anon = "a" + std::to_string(c);
    const Micros t = start + c * 3 * kMicrosPerMinute;
    const std::string zone = c % 3 == 0 ? "Asia/Tokyo" : c % 3 == 1 ? "Europe/Madrid" : "America/New_York";
    const nlohmann::json context = {{"timezone", zone}, {"page", {{"path", "/checkout/pay"}}}};
    add({{"type", "page"}, {"anonymousId", anon}, {"context", context}}, t);
    add({{"type", "track"}, {"anonymousId", anon}, {"event", "Checkout Started"}, {"context", context}}, t + 1);
    for (int k = 0; k < 1 + c % 3; ++k) {
      add({{"type", "track"}, {"anonymousId", anon}, {"event", "Form Error"},
           {"properties", {{"path", "/checkout/pay"}, {"field", "card"}}}, {"context", context}},
          t + (k + 1) * kMicrosPerMinute);
    }
    add({{"type", "identify"}, {"userId", user}, {"anonymousId", anon},
         {"traits", {{"email_opt_in", c % 2 == 0}, {"tenure_days", c % 50}, {"plan", c % 7 == 0 ? "enterprise" : "pro"}}},
         {"context", context}},
        t + 5 * kMicrosPerMinute);
    if (c % 4 == 0) {
      add({{"type", "track"}, {"userId", user}, {"event", "Order Completed"}}, t + 20 * kMicrosPerMinute);
    }
    if (c % 5 == 0) {
      add({{"type", "track"}, {"userId", user}, {"event", "Shipment Delayed"},
           {"properties", {{"delay_days", 3}, {"order_id", "o" + std::to_string(c)}}}},
          t + 30 * kMicrosPerMinute);
    }
    if (c % 6 == 0) add({{"type", "track"}, {"userId", user}, {"event", "Nudge Dismissed"}}, t + 7 * kMicrosPerMinute);
  }
  return out;
}

std::vector<std::string> ReplayLines(const std::string& events) {
  std::istringstream in(events);
  std::vector<std::string> lines;
  ReplayStats stats;
  ReplayOptions options;
  options.until = ParseTimestamp("2026-11-26T12:00:00Z");
  EXPECT_TRUE(Replay(Example(), in, "events.jsonl", options,
                     [&](std::string_view json) { lines.emplace_back(json); }, &stats)
                  .ok());
  EXPECT_EQ(stats.rejected, 0u);
  return lines;
}

TEST(Replay, SameInputGivesByteIdenticalDecisions) {
  const std::string events = Events();
  const std::vector<std::string> first = ReplayLines(events);
  ASSERT_GT(first.size(), 300u);
  EXPECT_EQ(ReplayLines(events), first);

  size_t delivered = 0, timers = 0;
  for (const std::string& line : first) {
    const nlohmann::json d = nlohmann::json::parse(line);
    delivered += d["action"] == "deliver";
    timers += d["trigger"].contains("timer");
  }
  EXPECT_GT(delivered, 50u);
  EXPECT_GT(timers, 10u);  // ladders' next steps, deferrals
}

// Ids lead with the decision's time in milliseconds, so sorting ids sorts
// decisions by time (the server's ledger relies on it), and stay unique.
TEST(Replay, DecisionIdsAreUniqueAndSortByTime) {
  std::vector<std::pair<std::string, Micros>> ids;
  for (const std::string& line : ReplayLines(Events())) {
    const nlohmann::json d = nlohmann::json::parse(line);
    const std::string id = d["decision_id"];
    ASSERT_THAT(id, ::testing::MatchesRegex("[0-9a-f]{28}"));
    const Micros at = *ParseTimestamp(d["at"].get<std::string>());
    EXPECT_EQ(std::stoull(id.substr(0, 12), nullptr, 16), static_cast<uint64_t>(at / 1000)) << id;
    ids.emplace_back(id, at);
  }
  std::sort(ids.begin(), ids.end());
  EXPECT_TRUE(std::adjacent_find(ids.begin(), ids.end(), [](const auto& a, const auto& b) {
                return a.first == b.first;
              }) == ids.end());
  EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end(), [](const auto& a, const auto& b) {
    return a.second / 1000 < b.second / 1000;  // to the millisecond
  }));
}

TEST(Replay, TheShippedExampleReplays) {
  std::ifstream in(std::string(UPFRONT_SOURCE_DIR) + "/examples/ecommerce/events.jsonl");
  ReplayStats stats;
  std::vector<nlohmann::json> decisions;
  ASSERT_TRUE(Replay(Example(), in, "events.jsonl", {},
                     [&](std::string_view json) { decisions.push_back(nlohmann::json::parse(json)); },
                     &stats)
                  .ok());
  EXPECT_EQ(stats.rejected, 2u);  // the file shows two bad events on purpose
  ASSERT_FALSE(decisions.empty());
  const nlohmann::json& first = decisions[0];
  EXPECT_EQ(first["action"], "deliver");
  EXPECT_EQ(first["intervention"], "checkout_help");
  EXPECT_EQ(first["message"], "Stuck on card_number? Here is how to fix it in one step.");
  EXPECT_EQ(first["explanation"]["why"], "We noticed 2 checkout problems in the last 1 minute.");
  EXPECT_EQ(first["policy_version"], "checkout-2026-11");
}

// The same events through a durable engine, in one run or split in two runs
// with a restart between: the same decisions.
std::vector<std::string> EngineDecisions(const std::string& events, size_t split_at) {
  testing::TempDir dir;
  std::mutex mu;
  std::vector<std::string> decisions;
  const auto open = [&]() {
    EngineOptions options;
    options.data_dir = dir.path();
    options.policy = Example();
    options.partitions = 2;
    options.arrival = ArrivalClock::kEventTime;
    options.sync = false;
    options.on_decision = [&](std::string_view json) {
      std::lock_guard lock(mu);
      decisions.emplace_back(json);
    };
    return Engine::Open(options).value();
  };
  size_t cut = 0;
  for (size_t lines = 0; lines < split_at; ++lines) cut = events.find('\n', cut) + 1;
  IngestOptions ingest;
  ingest.max_batch_bytes = 0;
  {
    auto engine = open();
    if (cut > 0) EXPECT_TRUE(engine->Ingest(events.substr(0, cut), ingest).ok());
    EXPECT_TRUE(engine->Flush().ok());
  }
  auto engine = open();
  EXPECT_TRUE(engine->Ingest(events.substr(cut), ingest).ok());
  EXPECT_TRUE(engine->AdvanceClock(*ParseTimestamp("2026-11-26T12:00:00Z")).ok());
  EXPECT_TRUE(engine->Flush().ok());
  engine.reset();
  std::sort(decisions.begin(), decisions.end());  // partitions interleave; the set is what matters
  return decisions;
}

TEST(Replay, ARestartHalfwayChangesNoDecision) {
  const std::string events = Events();
  const size_t lines = static_cast<size_t>(std::count(events.begin(), events.end(), '\n'));
  const std::vector<std::string> whole = EngineDecisions(events, 0);
  ASSERT_GT(whole.size(), 300u);
  EXPECT_EQ(EngineDecisions(events, lines / 2), whole);
  EXPECT_EQ(EngineDecisions(events, lines / 3), whole);
}

}  // namespace
}  // namespace upfront
