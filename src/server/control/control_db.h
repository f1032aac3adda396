// Internal to the control module (use control_store.h): the RocksDB instance
// the key ring, the audit trail and the policy registry share, its key layout,
// and the SHA-256 helpers they use.
//
// Key layout (one column family, values uncompressed):
//   k/<id>                    API key record (JSON; the secret's SHA-256 only)
//   a/<seq, 8 bytes BE>       audit entry record (JSON, the hash-chained part)
//   d/<seq, 8 bytes BE>       audit entry details (canonical JSON); deleted by erasure
//   c/<pseudonym>/<seq BE>    index: entries concerning a customer (empty value)
//   meta/audit_head           {"seq": N, "hash": "..."} of the last entry
//   p/<number, 8 bytes BE>    policy version metadata (JSON)
//   t/<number, 8 bytes BE>    policy version YAML text
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>
#include <string_view>

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include "upfront/status.h"
#include "upfront/time.h"

namespace upfront {

// The audit trail's customer index (pseudonym + seq -> "") is a column
// family of its own: written for every entry that names a customer, its keys
// land anywhere, and among the default family's records each insert cost a
// cache miss per skiplist level. It appends to a vector memtable, sorted at
// flush, and is read only for one customer's entries and for erasure.
inline constexpr char kAuditIndexFamily[] = "audit_index";

struct ControlDb {
  std::unique_ptr<rocksdb::DB> db;
  // The kAuditIndexFamily family; in a store from before it, opened
  // read-only, the default family, where its index keys still are.
  rocksdb::ColumnFamilyHandle* audit_index = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;  // to destroy before closing
  rocksdb::WriteOptions write_options;  // sync unless ControlOptions::sync is false
  const Clock* clock = nullptr;
  std::string pseudonym_key;
  bool read_only = false;

  // FailedPrecondition when opened read-only.
  absl::Status CheckWritable() const;
  absl::Status Write(rocksdb::WriteBatch* batch, std::string_view what);
};

absl::Status RocksStatus(const rocksdb::Status& s, std::string_view what);

inline constexpr std::string_view kKeyPrefix = "k/";
inline constexpr std::string_view kAuditPrefix = "a/";
inline constexpr std::string_view kDetailsPrefix = "d/";
inline constexpr std::string_view kCustomerIndexPrefix = "c/";
inline constexpr std::string_view kAuditHeadKey = "meta/audit_head";
inline constexpr std::string_view kPolicyPrefix = "p/";
inline constexpr std::string_view kPolicyTextPrefix = "t/";

// prefix + n as 8 big-endian bytes, so keys sort by number.
std::string NumberedKey(std::string_view prefix, uint64_t n);
// The number after `prefix` in a NumberedKey; 0 when the key is not one.
uint64_t KeyNumber(std::string_view key, std::string_view prefix);
std::string CustomerIndexKey(std::string_view pseudonym, uint64_t seq);
std::string CustomerIndexPrefix(std::string_view pseudonym);

using Sha256Digest = std::array<unsigned char, 32>;
Sha256Digest Sha256(std::string_view data);
std::string Sha256Hex(std::string_view data);
std::string ToHex(const Sha256Digest& digest);

// "p_" + the first 16 hex digits of HMAC-SHA256(key, customer_id).
std::string PseudonymFor(std::string_view key, std::string_view customer_id);

}  // namespace upfront
