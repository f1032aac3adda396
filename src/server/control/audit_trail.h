// Internal to the control module (use control_store.h): the append-only,
// hash-chained audit trail. README.md in this folder describes the chain.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "src/server/control/control_db.h"
#include "src/server/control/control_store.h"

namespace upfront {

// An entry ready to be chained: customers pseudonymised, details canonical.
struct StagedAuditEntry {
  std::string actor;
  std::string action;
  std::string subject;
  std::vector<std::string> pseudonyms;
  std::string details;         // canonical JSON (nlohmann dump: sorted keys, no spaces)
  std::string details_digest;  // SHA-256 of `details`, hex
};

// The chained part of an entry, stored as JSON under a/<seq>.
struct AuditRecord {
  uint64_t seq = 0;
  Micros at = 0;
  std::string actor;
  std::string action;
  std::string subject;
  std::vector<std::string> customers;  // pseudonyms
  std::string details_digest;
  std::string prev;  // the previous entry's hash; 64 zeros for the first
  std::string hash;
  bool redacted = false;  // details erased; not covered by the hash

  // SHA-256 over the canonical encoding of every field but `hash` and `redacted`.
  std::string ComputeHash() const;
  std::string ToJson() const;
  static std::optional<AuditRecord> Parse(std::string_view json);
};

inline const std::string kZeroHash(64, '0');

class AuditTrail {
 public:
  // Loads the head (last seq and hash). REQUIRES: db outlives the trail.
  static absl::StatusOr<std::unique_ptr<AuditTrail>> Open(ControlDb* db);

  // Validates and pseudonymises an entry; InvalidArgument without actor or action.
  StagedAuditEntry Stage(const AuditEntry& entry) const;
  static absl::Status Validate(const AuditEntry& entry);
  static void SetDetails(const nlohmann::json& details, StagedAuditEntry* staged);

  // Chains `entries` and writes them, with `batch`'s own writes when given, in
  // one synced write; returns the first seq. Concurrent calls without a batch
  // share a write (group commit).
  absl::StatusOr<uint64_t> Commit(std::vector<StagedAuditEntry> entries,
                                  rocksdb::WriteBatch* batch = nullptr);

  // Redacts the entries concerning these pseudonyms and appends the
  // "customer.erase" entry, atomically; then compacts the erased details away.
  absl::StatusOr<uint64_t> Erase(const std::vector<std::string>& pseudonyms, std::string_view actor);

  absl::StatusOr<std::string> EntriesJson(std::string_view pseudonym, uint64_t from_seq,
                                   size_t limit) const;
  AuditVerifyReport Verify() const;

 private:
  struct Writer;
  explicit AuditTrail(ControlDb* db) : db_(db) {}
  absl::StatusOr<uint64_t> Write(Writer* writer);

  ControlDb* const db_;
  std::mutex mu_;
  std::deque<Writer*> writers_;  // front: the leader writing its group
  // The head, as of the last successful write. Only the leader touches it.
  uint64_t head_seq_ = 0;
  std::string head_hash_ = kZeroHash;
};

}  // namespace upfront
