// `upfront webhooks list|replay`: the webhook outbox of a stopped server's
// data directory — what is pending, delivered or dead-lettered, and replay of
// dead letters (delivered when the server next runs). While a server runs,
// use GET /v1/webhooks and POST /v1/webhooks/replay instead.

#include <fmt/format.h>

#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "apps/upfront/commands.h"
#include "src/server/outbox/outbox.h"

namespace upfront {
namespace {

absl::StatusOr<std::unique_ptr<Outbox>> OpenOutbox(const std::string& data_dir) {
  const std::filesystem::path dir = std::filesystem::path(data_dir) / "outbox";
  if (!std::filesystem::exists(dir / "CURRENT")) {
    return absl::NotFoundError(fmt::format("{} has no webhook outbox (no server has run on it)", data_dir));
  }
  // No endpoints: listing and replaying need none, and nothing is sent here.
  absl::StatusOr<std::unique_ptr<Outbox>> outbox = Outbox::Open(dir.string(), OutboxOptions{});
  if (!outbox.ok() && absl::StrContains(outbox.status().message(), "lock")) {
    return absl::FailedPreconditionError(
        fmt::format("{} is in use by a running server; use GET /v1/webhooks and POST /v1/webhooks/replay",
                    data_dir));
  }
  return outbox;
}

int Fail(const absl::Status& status) {
  std::cerr << "upfront: " << status.message() << "\n";
  return status.code() == absl::StatusCode::kInternal ? 2 : 1;
}

}  // namespace

int RunWebhooksList(const std::string& data_dir, const std::string& status, bool json) {
  auto outbox = OpenOutbox(data_dir);
  if (!outbox.ok()) return Fail(outbox.status());
  auto items = (*outbox)->ItemsJson(status, SIZE_MAX);
  if (!items.ok()) return Fail(items.status());
  if (json) {
    std::cout << *items << "\n";
    return 0;
  }
  const nlohmann::json list = nlohmann::json::parse(*items);
  for (const nlohmann::json& item : list) {
    std::cout << fmt::format("{}  {:<9} {:<8} attempts {:<3} created {}", item["id"].get<std::string>(),
                             item["status"].get<std::string>(), item["endpoint"].get<std::string>(),
                             item["attempts"].get<int>(), item["created"].get<std::string>().substr(0, 19));
    if (item["last_error"].is_string() && !item["last_error"].get<std::string>().empty()) {
      std::cout << "\n    last error: " << item["last_error"].get<std::string>();
    }
    std::cout << "\n";
  }
  const OutboxStats stats = (*outbox)->Stats();
  std::cout << fmt::format("{} shown; {} pending, {} dead-lettered\n", list.size(), stats.pending, stats.dead);
  return 0;
}

int RunWebhooksReplay(const std::string& data_dir, const std::string& id) {
  auto outbox = OpenOutbox(data_dir);
  if (!outbox.ok()) return Fail(outbox.status());
  auto replayed = (*outbox)->Replay(id);
  if (!replayed.ok()) return Fail(replayed.status());
  std::cout << fmt::format("replayed {} dead letter{}; the server delivers them when it next runs\n", *replayed,
                           *replayed == 1 ? "" : "s");
  return 0;
}

}  // namespace upfront
