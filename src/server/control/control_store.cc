#include "src/server/control/control_store.h"
#include "src/store/background_writes.h"
#include "src/store/move_prefix.h"

#include <rocksdb/memtablerep.h>

#include <algorithm>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "src/server/control/api_keys.h"
#include "src/server/control/audit_trail.h"
#include "src/server/control/control_db.h"
#include "src/server/control/policy_registry.h"

namespace upfront {

namespace {

constexpr size_t kAuditIndexMemtableBytes = 4 << 20;  // a read sorts a copy of the live one

}  // namespace

ControlStore::ControlStore() = default;

ControlStore::~ControlStore() {
  policies_.reset();
  keys_.reset();
  audit_.reset();
  if (db_ && db_->db) {
    for (rocksdb::ColumnFamilyHandle* handle : db_->handles) db_->db->DestroyColumnFamilyHandle(handle);
    db_->db->Close();
  }
}

absl::StatusOr<std::unique_ptr<ControlStore>> ControlStore::Open(const std::string& dir,
                                                                 ControlOptions options) {
  if (options.pseudonym_key.empty()) {
    return absl::InvalidArgumentError("the control store needs a pseudonym key");
  }
  auto db = std::make_unique<ControlDb>();
  db->clock = options.clock != nullptr ? options.clock : &SystemClock();
  db->pseudonym_key = std::move(options.pseudonym_key);
  db->read_only = options.read_only;
  db->write_options.sync = options.sync;

  rocksdb::Options rocks;
  rocks.create_if_missing = !options.read_only;
  // Uncompressed: records are small and mostly hashes, and it keeps erasure
  // checkable by scanning the files for a customer's details.
  rocks.compression = rocksdb::kNoCompression;
  rocks.keep_log_file_num = 3;
  SmoothBackgroundWrites(&rocks);
  if (!options.read_only) WriteTablesDirectWherePossible(&rocks, dir);
  ShareBackgroundThreads(&rocks);
  rocks.max_log_file_size = 1 << 20;
  rocks.create_missing_column_families = true;
  rocks.allow_concurrent_memtable_write = false;  // needed by the index's vector memtable
  rocksdb::ColumnFamilyOptions index(rocks);
  index.memtable_factory = std::make_shared<rocksdb::VectorRepFactory>();
  index.write_buffer_size = kAuditIndexMemtableBytes;
  std::vector<rocksdb::ColumnFamilyDescriptor> families = {
      {rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions(rocks)}, {kAuditIndexFamily, index}};
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s;
  if (options.read_only) {
    std::vector<std::string> existing;
    if (rocksdb::DB::ListColumnFamilies(rocks, dir, &existing).ok() &&
        std::find(existing.begin(), existing.end(), kAuditIndexFamily) == existing.end()) {
      families.pop_back();  // written before the index had a family of its own
    }
    s = rocksdb::DB::OpenForReadOnly(rocksdb::DBOptions(rocks), dir, families, &db->handles, &raw);
  } else {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) {
      return absl::FailedPreconditionError(
          absl::StrCat("cannot create the control store directory '", dir, "': ", ec.message()));
    }
    s = rocksdb::DB::Open(rocksdb::DBOptions(rocks), dir, families, &db->handles, &raw);
  }
  if (!s.ok()) {
    std::string hint = s.IsIOError() && s.ToString().find("lock") != std::string::npos
                           ? " (is the server running? read-only commands work alongside it)"
                           : "";
    return absl::FailedPreconditionError(
        absl::StrCat("cannot open the control store '", dir, "': ", s.ToString(), hint));
  }
  db->db.reset(raw);
  db->audit_index = db->handles.back();
  if (!options.read_only) {
    // Stores written before the audit index had a family of its own kept its
    // keys in the default one; they move over once.
    UPFRONT_RETURN_IF_ERROR(MovePrefix(db->db.get(), kCustomerIndexPrefix, db->db->DefaultColumnFamily(),
                                       db->audit_index, "the audit index"));
  }

  std::unique_ptr<ControlStore> store(new ControlStore());
  store->db_ = std::move(db);
  UPFRONT_ASSIGN_OR_RETURN(store->audit_, AuditTrail::Open(store->db_.get()));
  UPFRONT_ASSIGN_OR_RETURN(store->keys_, KeyRing::Open(store->db_.get(), store->audit_.get()));
  UPFRONT_ASSIGN_OR_RETURN(store->policies_,
                           PolicyRegistry::Open(store->db_.get(), store->audit_.get()));
  return store;
}

absl::StatusOr<NewApiKey> ControlStore::CreateKey(Role role, std::string_view name,
                                                  std::string_view actor) {
  if (actor.empty()) return absl::InvalidArgumentError("creating a key needs an actor");
  return keys_->Create(role, name, actor);
}

std::optional<ApiKey> ControlStore::Authenticate(std::string_view secret) const {
  return keys_->Authenticate(secret);
}

std::vector<ApiKey> ControlStore::ListKeys() const { return keys_->List(); }

absl::Status ControlStore::RevokeKey(std::string_view id, std::string_view actor) {
  if (actor.empty()) return absl::InvalidArgumentError("revoking a key needs an actor");
  return keys_->Revoke(id, actor);
}

absl::StatusOr<uint64_t> ControlStore::Append(const AuditEntry& entry) {
  return AppendMany(std::span<const AuditEntry>(&entry, 1));
}

absl::StatusOr<uint64_t> ControlStore::AppendMany(std::span<const AuditEntry> entries) {
  std::vector<StagedAuditEntry> staged;
  staged.reserve(entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    if (absl::Status status = AuditTrail::Validate(entries[i]); !status.ok()) {
      if (entries.size() == 1) return status;
      return absl::InvalidArgumentError(absl::StrCat("entry ", i, ": ", status.message()));
    }
    staged.push_back(audit_->Stage(entries[i]));
  }
  return audit_->Commit(std::move(staged));
}

absl::StatusOr<std::string> ControlStore::AuditJson(std::string_view customer, uint64_t from_seq,
                                                    size_t limit) const {
  return audit_->EntriesJson(customer.empty() ? std::string() : Pseudonym(customer), from_seq, limit);
}

AuditVerifyReport ControlStore::Verify() const { return audit_->Verify(); }

absl::StatusOr<uint64_t> ControlStore::EraseCustomers(const std::vector<std::string>& ids,
                                                      std::string_view actor) {
  if (actor.empty()) return absl::InvalidArgumentError("an erasure needs an actor");
  std::vector<std::string> pseudonyms;
  for (const std::string& id : ids) {
    if (id.empty()) continue;
    std::string pseudonym = Pseudonym(id);
    if (std::find(pseudonyms.begin(), pseudonyms.end(), pseudonym) == pseudonyms.end()) {
      pseudonyms.push_back(std::move(pseudonym));
    }
  }
  if (pseudonyms.empty()) return absl::InvalidArgumentError("an erasure needs customer ids");
  UPFRONT_RETURN_IF_ERROR(db_->CheckWritable());
  return audit_->Erase(pseudonyms, actor);
}

std::string ControlStore::Pseudonym(std::string_view customer_id) const {
  return PseudonymFor(db_->pseudonym_key, customer_id);
}

absl::StatusOr<PolicyVersion> ControlStore::UploadPolicy(std::string_view yaml,
                                                         std::string_view uploaded_by) {
  return policies_->Upload(yaml, uploaded_by);
}

std::vector<PolicyVersion> ControlStore::ListPolicies() const { return policies_->List(); }

absl::StatusOr<std::string> ControlStore::PolicyText(int number) const {
  return policies_->Text(number);
}

absl::StatusOr<std::string> ControlStore::DiffPolicies(int a, int b) const {
  return policies_->Diff(a, b);
}

absl::StatusOr<PolicyVersion> ControlStore::ApprovePolicy(int number, std::string_view admin) {
  return policies_->Approve(number, admin);
}

absl::StatusOr<PolicyVersion> ControlStore::ActivatePolicy(int number, std::string_view admin) {
  return policies_->Activate(number, admin);
}

std::optional<PolicyVersion> ControlStore::ActivePolicy() const { return policies_->Active(); }

}  // namespace upfront
