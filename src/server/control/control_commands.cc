#include "src/server/control/control_commands.h"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "src/common/hash.h"
#include "src/common/time_format.h"
#include "src/server/control/control_store.h"

namespace upfront {
namespace {

std::string ControlDir(const std::string& data_dir) {
  return (std::filesystem::path(data_dir) / "control").string();
}

absl::StatusOr<std::unique_ptr<ControlStore>> OpenControl(const std::string& data_dir,
                                                          bool read_only) {
  ControlOptions options;
  UPFRONT_ASSIGN_OR_RETURN(options.pseudonym_key, LoadOrCreateDataKey(data_dir));
  options.read_only = read_only;
  return ControlStore::Open(ControlDir(data_dir), std::move(options));
}

// Read-only commands on a data directory without a control store yet.
bool HasControlStore(const std::string& data_dir) {
  std::error_code ec;
  return std::filesystem::exists(std::filesystem::path(ControlDir(data_dir)) / "CURRENT", ec);
}

}  // namespace

int RunKeysCreate(const std::string& data_dir, const std::string& role_name,
                  const std::string& name, std::ostream& out, std::ostream& err) {
  std::optional<Role> role = ParseRole(role_name);
  if (!role) {
    err << "error: unknown role '" << role_name
        << "' (expected one of: ingest, agent, analyst, admin)\n";
    return 2;
  }
  if (name.empty()) {
    err << "error: a key needs a name (--name), e.g. the service or person using it\n";
    return 2;
  }
  absl::StatusOr<std::unique_ptr<ControlStore>> control = OpenControl(data_dir, false);
  if (!control.ok()) {
    err << "error: " << control.status().message() << "\n";
    return 1;
  }
  absl::StatusOr<NewApiKey> created = (*control)->CreateKey(*role, name, "cli");
  if (!created.ok()) {
    err << "error: " << created.status().message() << "\n";
    return created.status().code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
  }
  out << "created API key " << created->key.id << " (role " << RoleName(created->key.role)
      << ", name \"" << created->key.name << "\")\n"
      << "secret: " << created->secret << "\n"
      << "Store this secret now: it cannot be shown again (only its hash is kept).\n";
  return 0;
}

int RunKeysList(const std::string& data_dir, std::ostream& out, std::ostream& err) {
  if (!HasControlStore(data_dir)) {
    out << "no API keys yet\n";
    return 0;
  }
  absl::StatusOr<std::unique_ptr<ControlStore>> control = OpenControl(data_dir, true);
  if (!control.ok()) {
    err << "error: " << control.status().message() << "\n";
    return 1;
  }
  std::vector<ApiKey> keys = (*control)->ListKeys();
  if (keys.empty()) {
    out << "no API keys yet\n";
    return 0;
  }
  out << fmt::format("{:<12} {:<8} {:<8} {:<25} {}\n", "ID", "ROLE", "STATUS", "CREATED", "NAME");
  for (const ApiKey& key : keys) {
    out << fmt::format("{:<12} {:<8} {:<8} {:<25} {}\n", key.id, RoleName(key.role),
                       key.revoked ? "revoked" : "active", FormatTimestamp(key.created), key.name);
  }
  return 0;
}

int RunAuditVerify(const std::string& data_dir, std::ostream& out, std::ostream& err) {
  if (!HasControlStore(data_dir)) {
    out << "no audit trail in " << data_dir << " yet\n";
    return 0;
  }
  absl::StatusOr<std::unique_ptr<ControlStore>> control = OpenControl(data_dir, true);
  if (!control.ok()) {
    err << "error: " << control.status().message() << "\n";
    return 1;
  }
  AuditVerifyReport report = (*control)->Verify();
  if (!report.ok) {
    out << "audit trail FAILED: " << report.problem << " (" << report.entries
        << " entries verified before it)\n";
    return 1;
  }
  out << "audit trail OK: " << report.entries << " entries, head " << report.head_hash << "\n";
  return 0;
}

int RunAuditShow(const std::string& data_dir, const std::string& customer, size_t limit,
                 std::ostream& out, std::ostream& err) {
  if (!HasControlStore(data_dir)) {
    out << "[]\n";
    return 0;
  }
  absl::StatusOr<std::unique_ptr<ControlStore>> control = OpenControl(data_dir, true);
  if (!control.ok()) {
    err << "error: " << control.status().message() << "\n";
    return 1;
  }
  absl::StatusOr<std::string> json = (*control)->AuditJson(customer, 1, limit);
  if (!json.ok()) {
    err << "error: " << json.status().message() << "\n";
    return 1;
  }
  out << nlohmann::json::parse(*json).dump(2) << "\n";
  return 0;
}

int RunKeysCreate(const std::string& data_dir, const std::string& role, const std::string& name) {
  return RunKeysCreate(data_dir, role, name, std::cout, std::cerr);
}
int RunKeysList(const std::string& data_dir) { return RunKeysList(data_dir, std::cout, std::cerr); }
int RunAuditVerify(const std::string& data_dir) {
  return RunAuditVerify(data_dir, std::cout, std::cerr);
}
int RunAuditShow(const std::string& data_dir, const std::string& customer, size_t limit) {
  return RunAuditShow(data_dir, customer, limit, std::cout, std::cerr);
}

}  // namespace upfront
