// Internal to the control module (use control_store.h): policy versions and
// their lifecycle, uploaded → approved → active → retired. Metadata under
// p/<number> (all kept in memory), texts under t/<number>; every change is
// written in the same batch as its audit entry.
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "src/server/control/audit_trail.h"
#include "src/server/control/control_db.h"
#include "src/server/control/control_store.h"

namespace upfront {

class PolicyRegistry {
 public:
  // REQUIRES: db and audit outlive the registry.
  static absl::StatusOr<std::unique_ptr<PolicyRegistry>> Open(ControlDb* db, AuditTrail* audit);

  absl::StatusOr<PolicyVersion> Upload(std::string_view yaml, std::string_view uploaded_by);
  std::vector<PolicyVersion> List() const;
  absl::StatusOr<std::string> Text(int number) const;
  absl::StatusOr<std::string> Diff(int a, int b) const;
  absl::StatusOr<PolicyVersion> Approve(int number, std::string_view admin);
  absl::StatusOr<PolicyVersion> Activate(int number, std::string_view admin);
  std::optional<PolicyVersion> Active() const;

 private:
  PolicyRegistry(ControlDb* db, AuditTrail* audit) : db_(db), audit_(audit) {}
  static std::string ToJson(const PolicyVersion& version);
  static std::optional<PolicyVersion> Parse(std::string_view json);
  // REQUIRES: mu_ held.
  absl::StatusOr<PolicyVersion*> Find(int number);

  ControlDb* const db_;
  AuditTrail* const audit_;
  mutable std::mutex mu_;
  std::vector<PolicyVersion> versions_;  // versions_[i].number == i + 1
};

}  // namespace upfront
