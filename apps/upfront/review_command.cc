// `upfront review` and `upfront preferences`: the human side of the engine
// from a terminal — the review queue an agent works through, the audit
// trail, and a customer's preferences and consent.

#include <fmt/format.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "apps/upfront/commands.h"
#include "src/common/time_format.h"

namespace upfront {
namespace {

absl::StatusOr<std::unique_ptr<Engine>> OpenFor(const std::string& data_dir, const Policy& policy) {
  EngineOptions options;
  options.data_dir = data_dir;
  options.policy = std::make_shared<Policy>(policy);
  return Engine::Open(options);
}

int Report(const absl::Status& status) {
  std::cerr << "upfront: " << status.message() << "\n";
  switch (status.code()) {
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kInvalidArgument: return 1;
    default: return 2;
  }
}

void PrintItems(const nlohmann::json& items) {
  if (items.empty()) {
    std::cout << "no items\n";
    return;
  }
  for (const auto& item : items) {
    std::cout << fmt::format("{}  {:<9} {}  {}  {}/{} via {}  (confidence {:.2f}, expires {})\n",
                             item["review_id"].get<std::string>(), item["status"].get<std::string>(),
                             item["created_at"].get<std::string>().substr(0, 16),
                             item["customer"].get<std::string>(),
                             item["intervention"].get<std::string>(), item["step"].get<int>(),
                             item["channel"].get<std::string>(), item["confidence"].get<double>(),
                             item["expires_at"].get<std::string>().substr(0, 16));
    std::cout << "    message: " << item["message"].get<std::string>() << "\n";
    if (item.contains("explanation") && item["explanation"].is_object()) {
      std::cout << "    why:     " << item["explanation"]["why"].get<std::string>() << "\n";
    }
    for (const auto& [signal, e] : item["evidence"].items()) {
      std::cout << fmt::format("    clue:    {}: {} in the last {}, last {}\n", signal,
                               e["count"].get<int>(), e["window"].get<std::string>(),
                               e["last_event"].get<std::string>());
    }
  }
}

}  // namespace

int RunReview(const ReviewCommand& command, const Policy& policy) {
  auto engine = OpenFor(command.data_dir, policy);
  if (!engine.ok()) return Report(engine.status());
  if (command.audit) {
    auto trail = (*engine)->AuditTrail(command.limit);
    if (!trail.ok()) return Report(trail.status());
    for (const auto& entry : nlohmann::json::parse(*trail)) {
      std::cout << fmt::format("{}  {:<8} {:<7} {}  {}  {}{}\n", entry["at"].get<std::string>().substr(0, 19),
                               entry["agent"].get<std::string>(), entry["action"].get<std::string>(),
                               entry["review_id"].get<std::string>(), entry["customer"].get<std::string>(),
                               entry["intervention"].get<std::string>(),
                               entry["reason"].get<std::string>().empty()
                                   ? std::string()
                                   : "  reason: " + entry["reason"].get<std::string>());
    }
    return 0;
  }
  if (!command.approve.empty() || !command.reject.empty()) {
    ReviewAnswer answer;
    answer.approve = !command.approve.empty();
    answer.agent = command.agent;
    answer.message = command.message;
    answer.reason = command.reason;
    if (!command.at.empty()) {
      answer.at = ParseTimestamp(command.at);
      if (!answer.at) {
        std::cerr << "upfront: --at: '" << command.at << "' is not an ISO-8601 time\n";
        return 2;
      }
    }
    auto item = (*engine)->AnswerReview(answer.approve ? command.approve : command.reject, answer);
    if (!item.ok()) return Report(item.status());
    PrintItems(nlohmann::json::array({nlohmann::json::parse(*item)}));
    return 0;
  }
  auto items = (*engine)->ReviewItems(command.status == "all" ? "" : command.status, command.limit);
  if (!items.ok()) return Report(items.status());
  if (command.json) {
    std::cout << *items << "\n";
  } else {
    PrintItems(nlohmann::json::parse(*items));
  }
  return 0;
}

int RunPreferences(const std::string& data_dir, const Policy& policy, const std::string& id,
                   const std::string& patch) {
  auto engine = OpenFor(data_dir, policy);
  if (!engine.ok()) return Report(engine.status());
  auto prefs = patch.empty() ? (*engine)->Preferences(id) : (*engine)->UpdatePreferences(id, patch);
  if (!prefs.ok()) return Report(prefs.status());
  std::cout << nlohmann::json::parse(*prefs).dump(2) << "\n";
  return 0;
}

}  // namespace upfront
