#include "src/server/control/policy_registry.h"

#include "absl/strings/str_cat.h"
#include "src/server/control/policy_diff.h"
#include "upfront/policy.h"

namespace upfront {
namespace {

using Json = nlohmann::json;

std::string FileName(int number) { return absl::StrCat("policy v", number, ".yaml"); }
std::string Subject(int number) { return absl::StrCat("policy v", number); }

std::string TextKey(int number) {
  return NumberedKey(kPolicyTextPrefix, static_cast<uint64_t>(number));
}
std::string MetaKey(int number) { return NumberedKey(kPolicyPrefix, static_cast<uint64_t>(number)); }

StagedAuditEntry PolicyAudit(std::string_view actor, std::string_view action,
                             const PolicyVersion& version, Json details) {
  StagedAuditEntry entry;
  entry.actor = std::string(actor);
  entry.action = std::string(action);
  entry.subject = Subject(version.number);
  details["number"] = version.number;
  details["name"] = version.name;
  details["hash"] = version.hash;
  AuditTrail::SetDetails(details, &entry);
  return entry;
}

}  // namespace

std::string PolicyRegistry::ToJson(const PolicyVersion& v) {
  return Json{{"number", v.number},
              {"name", v.name},
              {"hash", v.hash},
              {"uploaded_by", v.uploaded_by},
              {"uploaded_at", v.uploaded_at},
              {"approved_by", v.approved_by},
              {"approved_at", v.approved_at},
              {"status", v.status},
              {"activated_at", v.activated_at}}
      .dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::optional<PolicyVersion> PolicyRegistry::Parse(std::string_view json) {
  Json j = Json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  try {
    PolicyVersion v;
    v.number = j.at("number").get<int>();
    v.name = j.at("name").get<std::string>();
    v.hash = j.at("hash").get<std::string>();
    v.uploaded_by = j.at("uploaded_by").get<std::string>();
    v.uploaded_at = j.at("uploaded_at").get<Micros>();
    v.approved_by = j.at("approved_by").get<std::string>();
    v.approved_at = j.at("approved_at").get<Micros>();
    v.status = j.at("status").get<std::string>();
    v.activated_at = j.at("activated_at").get<Micros>();
    return v;
  } catch (const Json::exception&) {
    return std::nullopt;
  }
}

absl::StatusOr<std::unique_ptr<PolicyRegistry>> PolicyRegistry::Open(ControlDb* db,
                                                                     AuditTrail* audit) {
  std::unique_ptr<PolicyRegistry> registry(new PolicyRegistry(db, audit));
  std::unique_ptr<rocksdb::Iterator> it(db->db->NewIterator({}));
  for (it->Seek(kPolicyPrefix); it->Valid() && it->key().starts_with(kPolicyPrefix); it->Next()) {
    std::optional<PolicyVersion> version = Parse(it->value().ToStringView());
    const uint64_t number = KeyNumber(it->key().ToStringView(), kPolicyPrefix);
    if (!version || number != registry->versions_.size() + 1 ||
        static_cast<uint64_t>(version->number) != number) {
      return absl::DataLossError(absl::StrCat("policy version record ", number, " is damaged"));
    }
    registry->versions_.push_back(std::move(*version));
  }
  UPFRONT_RETURN_IF_ERROR(RocksStatus(it->status(), "reading policy versions"));
  return registry;
}

absl::StatusOr<PolicyVersion*> PolicyRegistry::Find(int number) {
  if (number < 1 || static_cast<size_t>(number) > versions_.size()) {
    return absl::NotFoundError(absl::StrCat("no policy version ", number));
  }
  return &versions_[number - 1];
}

absl::StatusOr<PolicyVersion> PolicyRegistry::Upload(std::string_view yaml,
                                                     std::string_view uploaded_by) {
  if (uploaded_by.empty()) return absl::InvalidArgumentError("an upload needs an uploader");
  UPFRONT_RETURN_IF_ERROR(db_->CheckWritable());
  std::lock_guard lock(mu_);
  PolicyVersion version;
  version.number = static_cast<int>(versions_.size()) + 1;
  absl::StatusOr<Policy> policy = LoadPolicyText(std::string(yaml), FileName(version.number));
  if (!policy.ok()) return absl::InvalidArgumentError(policy.status().message());
  version.name = policy->version;
  version.hash = Sha256Hex(yaml);
  version.uploaded_by = std::string(uploaded_by);
  version.uploaded_at = db_->clock->Now();
  version.status = "uploaded";

  rocksdb::WriteBatch batch;
  batch.Put(MetaKey(version.number), ToJson(version));
  batch.Put(TextKey(version.number), rocksdb::Slice(yaml.data(), yaml.size()));
  std::vector<StagedAuditEntry> audit;
  audit.push_back(PolicyAudit(uploaded_by, "policy.upload", version, Json::object()));
  UPFRONT_RETURN_IF_ERROR(audit_->Commit(std::move(audit), &batch).status());
  versions_.push_back(version);
  return version;
}

std::vector<PolicyVersion> PolicyRegistry::List() const {
  std::lock_guard lock(mu_);
  return versions_;
}

absl::StatusOr<std::string> PolicyRegistry::Text(int number) const {
  {
    std::lock_guard lock(mu_);
    if (number < 1 || static_cast<size_t>(number) > versions_.size()) {
      return absl::NotFoundError(absl::StrCat("no policy version ", number));
    }
  }
  std::string text;
  UPFRONT_RETURN_IF_ERROR(
      RocksStatus(db_->db->Get({}, TextKey(number), &text), "reading a policy's text"));
  return text;
}

absl::StatusOr<std::string> PolicyRegistry::Diff(int a, int b) const {
  UPFRONT_ASSIGN_OR_RETURN(std::string a_text, Text(a));
  UPFRONT_ASSIGN_OR_RETURN(std::string b_text, Text(b));
  return UnifiedDiff(a_text, b_text, FileName(a), FileName(b));
}

absl::StatusOr<PolicyVersion> PolicyRegistry::Approve(int number, std::string_view admin) {
  if (admin.empty()) return absl::InvalidArgumentError("an approval needs an admin");
  UPFRONT_RETURN_IF_ERROR(db_->CheckWritable());
  std::lock_guard lock(mu_);
  UPFRONT_ASSIGN_OR_RETURN(PolicyVersion * found, Find(number));
  if (found->status != "uploaded") {
    return absl::FailedPreconditionError(
        absl::StrCat("policy v", number, " is ", found->status, ", not waiting for approval"));
  }
  if (found->uploaded_by == admin) {
    return absl::PermissionDeniedError(
        absl::StrCat("policy v", number, " was uploaded by ", std::string(admin),
                     "; another admin must approve it"));
  }
  PolicyVersion version = *found;
  version.status = "approved";
  version.approved_by = std::string(admin);
  version.approved_at = db_->clock->Now();

  rocksdb::WriteBatch batch;
  batch.Put(MetaKey(number), ToJson(version));
  std::vector<StagedAuditEntry> audit;
  audit.push_back(PolicyAudit(admin, "policy.approve", version,
                              Json{{"uploaded_by", version.uploaded_by}}));
  UPFRONT_RETURN_IF_ERROR(audit_->Commit(std::move(audit), &batch).status());
  *found = version;
  return version;
}

absl::StatusOr<PolicyVersion> PolicyRegistry::Activate(int number, std::string_view admin) {
  if (admin.empty()) return absl::InvalidArgumentError("an activation needs an admin");
  UPFRONT_RETURN_IF_ERROR(db_->CheckWritable());
  std::lock_guard lock(mu_);
  UPFRONT_ASSIGN_OR_RETURN(PolicyVersion * found, Find(number));
  if (found->status == "active") {
    return absl::FailedPreconditionError(absl::StrCat("policy v", number, " is already active"));
  }
  // "retired" versions were active once (only the active one is retired), so
  // going back to one is a rollback to an approved text.
  if (found->status != "approved" && found->status != "retired") {
    return absl::FailedPreconditionError(
        absl::StrCat("policy v", number, " is ", found->status, ": it must be approved first"));
  }
  PolicyVersion* previous = nullptr;
  for (PolicyVersion& v : versions_) {
    if (v.status == "active") previous = &v;
  }
  const bool rollback = previous != nullptr && previous->number > number;

  PolicyVersion version = *found;
  version.status = "active";
  version.activated_at = db_->clock->Now();
  rocksdb::WriteBatch batch;
  batch.Put(MetaKey(number), ToJson(version));
  PolicyVersion retired;
  if (previous != nullptr) {
    retired = *previous;
    retired.status = "retired";
    batch.Put(MetaKey(retired.number), ToJson(retired));
  }
  std::vector<StagedAuditEntry> audit;
  audit.push_back(PolicyAudit(
      admin, rollback ? "policy.rollback" : "policy.activate", version,
      Json{{"previous", previous != nullptr ? Json(previous->number) : Json(nullptr)}}));
  UPFRONT_RETURN_IF_ERROR(audit_->Commit(std::move(audit), &batch).status());
  *found = version;
  if (previous != nullptr) *previous = retired;
  return version;
}

std::optional<PolicyVersion> PolicyRegistry::Active() const {
  std::lock_guard lock(mu_);
  for (const PolicyVersion& v : versions_) {
    if (v.status == "active") return v;
  }
  return std::nullopt;
}

}  // namespace upfront
