// The control plane: API keys and their roles, the tamper-evident audit trail,
// and policy governance, in one RocksDB instance (`<data_dir>/control`) with
// synced writes. See README.md in this folder for the audit chain's design.
//
//   ControlOptions options;
//   options.clock = &clock;
//   options.pseudonym_key = hash_key;                 // DATA/hash.key
//   UPFRONT_ASSIGN_OR_RETURN(auto control, ControlStore::Open(dir, options));
//   UPFRONT_ASSIGN_OR_RETURN(NewApiKey key, control->CreateKey(Role::kAdmin, "ops"));
//   std::optional<ApiKey> caller = control->Authenticate(key.secret);
//   control->Append({.actor = "system", .action = "decision", .customers = {"cust-1"},
//                    .subject = "d-17", .details = {{"message", "..."}}});
//
// Thread safety: every method may be called from any thread. Authenticate takes
// only a shared lock and does one SHA-256; audit appends from concurrent callers
// share one synced write (group commit).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "upfront/status.h"
#include "upfront/time.h"

namespace upfront {

enum class Role { kIngest, kAgent, kAnalyst, kAdmin };
std::string_view RoleName(Role role);  // "ingest", "agent", "analyst", "admin"
std::optional<Role> ParseRole(std::string_view name);

struct ApiKey {
  std::string id;  // short public id, e.g. "key_3f2a9c"
  std::string name;
  Role role = Role::kIngest;
  Micros created = 0;
  bool revoked = false;
};

struct NewApiKey {
  ApiKey key;
  // Shown once: "upk_<id>_<48 hex>". Never stored; only its SHA-256 is.
  std::string secret;
};

// What a caller appends to the audit trail.
// The `{}` initializers let callers name only some fields ({.actor = ..,
// .action = ..}) without -Wmissing-field-initializers.
struct AuditEntry {
  std::string actor{};   // "system", "agent:alice", "key:key_3f2a9c", ... (required)
  std::string action{};  // "decision", "delivery", "feedback", "review.approve", ... (required)
  // Customer ids concerned, in the clear; stored ONLY as pseudonyms.
  std::vector<std::string> customers{};
  std::string subject{};  // what it is about: decision id, policy version, review id ...
  // Personal details are allowed here (message text ...): they are stored apart
  // from the chained record and removed by EraseCustomers.
  nlohmann::json details{};
  // The same already as JSON text (an object), for callers that have it:
  // used verbatim instead of `details` when not empty.
  std::string details_text{};
};

struct AuditVerifyReport {
  bool ok = true;
  // Entries that verified, in order, before the first problem (all of them when ok).
  uint64_t entries = 0;
  uint64_t first_bad_seq = 0;  // 0 when ok, or when the problem is not one entry's
  std::string problem;         // e.g. "entry 7 altered: its hash does not match its contents"
  std::string head_hash;       // the last entry's hash (64 zeros when the trail is empty)
};

struct PolicyVersion {
  int number = 0;
  std::string name;  // the policy's own `version:` field
  std::string hash;  // SHA-256 of the YAML text, hex
  std::string uploaded_by;
  Micros uploaded_at = 0;
  std::string approved_by;
  Micros approved_at = 0;
  std::string status;  // "uploaded" | "approved" | "active" | "retired"
  Micros activated_at = 0;  // the last time it became active; 0 if never
};

struct ControlOptions {
  const Clock* clock = nullptr;  // not owned; SystemClock() when null
  std::string pseudonym_key;     // HMAC key for customer pseudonyms (required)
  bool sync = true;              // fsync every write; false only in tests and benchmarks
  // Opens without taking the database lock, so the CLI can read (list keys,
  // verify and show the audit) while the server runs. Every write then fails
  // with FailedPrecondition.
  bool read_only = false;
};

class KeyRing;
class AuditTrail;
class PolicyRegistry;
struct ControlDb;

class ControlStore {
 public:
  // Opens (creating unless read_only) the store in `dir`. InvalidArgument
  // without a pseudonym key; FailedPrecondition when the database cannot be
  // opened (in use by another process, damaged, missing when read_only).
  static absl::StatusOr<std::unique_ptr<ControlStore>> Open(const std::string& dir,
                                                            ControlOptions options);
  ~ControlStore();
  ControlStore(const ControlStore&) = delete;
  ControlStore& operator=(const ControlStore&) = delete;

  // --- API keys (roles) ---
  // A new key; the secret is in the result only. InvalidArgument for an empty
  // name. Audited ("key.create") with `actor`.
  absl::StatusOr<NewApiKey> CreateKey(Role role, std::string_view name,
                                      std::string_view actor = "system");
  // The key a secret belongs to; nullopt when unknown, malformed or revoked.
  // Compares SHA-256 digests in constant time; served from memory.
  std::optional<ApiKey> Authenticate(std::string_view secret) const;
  std::vector<ApiKey> ListKeys() const;  // oldest first
  // NotFound for an unknown id; revoking a revoked key is OK and changes nothing.
  // Audited ("key.revoke").
  absl::Status RevokeKey(std::string_view id, std::string_view actor);

  // --- Audit trail: append-only, hash-chained ---
  // Returns the entry's seq. InvalidArgument without actor or action.
  absl::StatusOr<uint64_t> Append(const AuditEntry& entry);
  // Appends all in one synced write; returns the first entry's seq (the rest
  // follow densely), or 0 when `entries` is empty. All or nothing.
  absl::StatusOr<uint64_t> AppendMany(std::span<const AuditEntry> entries);
  // Entries with seq >= from_seq, oldest first, as a JSON array; at most
  // `limit` of them (0: no limit). `customer`: "" for all, else only entries
  // concerning that clear id (matched by pseudonym). Each entry has seq, at
  // (RFC 3339 UTC), actor, action, subject, customers (pseudonyms),
  // details_digest, details or "redacted": true, prev and hash.
  absl::StatusOr<std::string> AuditJson(std::string_view customer, uint64_t from_seq,
                                        size_t limit) const;
  // Walks the whole chain; detects any altered, removed, reordered or
  // truncated entry, and details removed other than by EraseCustomers.
  AuditVerifyReport Verify() const;
  // Privacy erasure: removes the details of every entry concerning these ids
  // (the chain still verifies), appends a "customer.erase" entry carrying only
  // their pseudonyms, and compacts so the details leave the files on disk.
  // Returns how many entries were redacted now. InvalidArgument without ids.
  absl::StatusOr<uint64_t> EraseCustomers(const std::vector<std::string>& ids,
                                          std::string_view actor);
  // "p_" + the first 16 hex digits of HMAC-SHA256(pseudonym_key, customer_id).
  std::string Pseudonym(std::string_view customer_id) const;

  // --- Policy governance ---
  // Validates the YAML with LoadPolicyText under the name "policy v<N>.yaml":
  // InvalidArgument carrying the loader's "file:line:column: key: message"
  // lines, nothing stored. Otherwise stores it as version N, "uploaded".
  // Audited ("policy.upload").
  absl::StatusOr<PolicyVersion> UploadPolicy(std::string_view yaml, std::string_view uploaded_by);
  std::vector<PolicyVersion> ListPolicies() const;  // by number
  absl::StatusOr<std::string> PolicyText(int number) const;  // NotFound
  // Unified diff (LCS, @@ hunks, 3 lines of context) from version a's text to
  // b's; "" when they are equal. NotFound for an unknown version.
  absl::StatusOr<std::string> DiffPolicies(int a, int b) const;
  // Approval by an admin other than the uploader: NotFound, FailedPrecondition
  // unless "uploaded", PermissionDenied for the uploader. Audited ("policy.approve").
  absl::StatusOr<PolicyVersion> ApprovePolicy(int number, std::string_view admin);
  // Makes an approved version, or a formerly active one (rollback), the active
  // one; the previous active version becomes "retired". FailedPrecondition
  // otherwise (including when already active). Audited: "policy.activate", or
  // "policy.rollback" when the number is lower than the previous active one's.
  absl::StatusOr<PolicyVersion> ActivatePolicy(int number, std::string_view admin);
  std::optional<PolicyVersion> ActivePolicy() const;

 private:
  ControlStore();

  std::unique_ptr<ControlDb> db_;
  std::unique_ptr<AuditTrail> audit_;
  std::unique_ptr<KeyRing> keys_;
  std::unique_ptr<PolicyRegistry> policies_;
};

}  // namespace upfront
