// `upfront inspect`: the customer's segment, signals with their evidence, and
// model scores with the features that pushed them, in a few readable lines.

#include <fmt/format.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "apps/upfront/commands.h"
#include "src/common/time_format.h"

namespace upfront {
namespace {

std::string Number(const nlohmann::json& v, int decimals = 2) {
  return v.is_null() ? std::string("missing") : fmt::format("{:.{}f}", v.get<double>(), decimals);
}

void PrintReading(const nlohmann::json& r) {
  std::cout << fmt::format("Customer {}  at {}  (policy {})\n", r["id"].get<std::string>(),
                           r["at"].get<std::string>(), r["policy"].get<std::string>());
  std::cout << fmt::format("Segment   {}\n\n", r["segment"].get<std::string>());

  std::cout << fmt::format("{:<24} {:>6} {:>6}  {}\n", "Signal", "score", "conf", "evidence");
  for (const auto& s : r["signals"]) {
    const auto& e = s["evidence"];
    std::string evidence = "none";
    if (e["count"].get<int>() > 0) {
      std::string hits;
      for (const auto& input : e["inputs"]) {
        if (input["hits"].get<int>() == 0) continue;
        if (!hits.empty()) hits += ", ";
        hits += fmt::format("{} {} x{}", input["kind"].get<std::string>(),
                            input["event"].get<std::string>(), input["hits"].get<int>());
      }
      evidence = fmt::format("{} in the last {} ({}); last: {}", e["count"].get<int>(),
                             e["window"].get<std::string>(), hits,
                             e["last_event"].get<std::string>());
      if (!e["last_message_id"].get<std::string>().empty()) {
        evidence += fmt::format(" [{}]", e["last_message_id"].get<std::string>());
      }
      if (e.contains("drop_pct")) evidence += fmt::format(", down {}%", e["drop_pct"].get<double>());
    }
    std::cout << fmt::format("{:<24} {:>6} {:>6}  {}\n", s["name"].get<std::string>(),
                             Number(s["score"]), Number(s["confidence"]), evidence);
  }

  if (!r["counts"].empty()) {
    std::cout << "\nCounts\n";
    for (const auto& [path, n] : r["counts"].items()) {
      std::cout << fmt::format("  {:<32} {}\n", path, n.get<int64_t>());
    }
  }
  if (!r["models"].empty()) std::cout << "\nModels\n";
  for (const auto& m : r["models"]) {
    std::string flag = !m["available"].get<bool>() ? "  NO SCORE: inputs missing"
                       : m["low_confidence"].get<bool>()
                           ? fmt::format("  LOW CONFIDENCE (below {})", Number(m["min_coverage"]))
                           : "";
    std::cout << fmt::format("  {:<22} {:>6}  confidence {}  {} {}{}\n",
                             m["name"].get<std::string>(), Number(m["score"]),
                             Number(m["confidence"]), m["kind"].get<std::string>(),
                             m["version"].get<std::string>(), flag);
    for (const auto& f : m["top_features"]) {
      std::string push = f.contains("contribution")
                             ? fmt::format("{:+.3f}", f["contribution"].get<double>())
                             : std::string();
      std::cout << fmt::format("      {:<36} = {:<10} {}\n", f["feature"].get<std::string>(),
                               Number(f["value"], 3), push);
    }
  }
  if (!r["pending_timers"].empty()) {
    std::cout << "\nPending timers\n";
    for (const auto& t : r["pending_timers"]) {
      std::cout << fmt::format("  {:<22} due {}\n", t["signal"].get<std::string>(),
                               t["due"].get<std::string>());
    }
  }
}

}  // namespace

int RunInspect(const std::string& data_dir, const Policy& policy, const std::string& id,
               const std::string& at, bool json) {
  std::optional<Micros> moment;
  if (!at.empty()) {
    std::optional<Micros> parsed = ParseTimestamp(at);
    if (!parsed) {
      std::cerr << "upfront: --at: '" << at << "' is not an ISO-8601 time like 2026-11-25T10:00:00Z\n";
      return 2;
    }
    moment = *parsed;
  }
  EngineOptions options;
  options.data_dir = data_dir;
  options.policy = std::make_shared<Policy>(policy);
  auto engine = Engine::Open(options);
  if (!engine.ok()) {
    std::cerr << "upfront: " << engine.status().message() << "\n";
    return 2;
  }
  auto reading = (*engine)->InspectJson(id, moment);
  if (!reading.ok()) {
    std::cerr << "upfront: " << reading.status().message() << "\n";
    return reading.status().code() == absl::StatusCode::kNotFound ? 1 : 2;
  }
  if (json) {
    std::cout << *reading << "\n";
  } else {
    PrintReading(nlohmann::json::parse(*reading));
  }
  return 0;
}

}  // namespace upfront
