// Internal to the control module (use control_store.h): API keys and their
// roles. Records live under k/<id> with the SHA-256 of the secret, never the
// secret; all of them are kept in memory, so Authenticate reads no disk.
#pragma once

#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "src/server/control/audit_trail.h"
#include "src/server/control/control_db.h"
#include "src/server/control/control_store.h"

namespace upfront {

class KeyRing {
 public:
  // Loads every key. REQUIRES: db and audit outlive the ring.
  static absl::StatusOr<std::unique_ptr<KeyRing>> Open(ControlDb* db, AuditTrail* audit);

  absl::StatusOr<NewApiKey> Create(Role role, std::string_view name, std::string_view actor);
  std::optional<ApiKey> Authenticate(std::string_view secret) const;
  std::vector<ApiKey> List() const;
  absl::Status Revoke(std::string_view id, std::string_view actor);

 private:
  struct Stored {
    ApiKey key;
    Sha256Digest secret_digest{};
    std::string revoked_by;
    Micros revoked_at = 0;
  };
  static std::string ToJson(const Stored& stored);
  static std::optional<Stored> Parse(std::string_view json);

  KeyRing(ControlDb* db, AuditTrail* audit) : db_(db), audit_(audit) {}

  ControlDb* const db_;
  AuditTrail* const audit_;
  std::mutex write_mu_;              // serializes Create and Revoke
  mutable std::shared_mutex keys_mu_;  // guards keys_; held only briefly
  absl::flat_hash_map<std::string, Stored> keys_;
};

}  // namespace upfront
