#include "src/server/control/api_keys.h"

#include <openssl/crypto.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "src/common/hash.h"

namespace upfront {
namespace {

using Json = nlohmann::json;

constexpr std::string_view kSecretPrefix = "upk_";
constexpr size_t kIdRandomBytes = 3;      // "key_" + 6 hex: short enough to read aloud
constexpr size_t kSecretRandomBytes = 24; // 192 bits
constexpr size_t kMaxSecretSize = 128;
constexpr size_t kMaxNameSize = 200;

bool FromHex(std::string_view hex, Sha256Digest* out) {
  if (hex.size() != out->size() * 2) return false;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  for (size_t i = 0; i < out->size(); ++i) {
    int hi = nibble(hex[2 * i]);
    int lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    (*out)[i] = static_cast<unsigned char>(hi << 4 | lo);
  }
  return true;
}

// The id inside "upk_<id>_<random>", or "" when the secret is not shaped so.
std::string_view SecretId(std::string_view secret) {
  if (secret.size() > kMaxSecretSize || !secret.starts_with(kSecretPrefix)) return {};
  secret.remove_prefix(kSecretPrefix.size());
  size_t underscore = secret.rfind('_');
  if (underscore == std::string_view::npos || underscore + 1 == secret.size()) return {};
  return secret.substr(0, underscore);
}

}  // namespace

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kIngest: return "ingest";
    case Role::kAgent: return "agent";
    case Role::kAnalyst: return "analyst";
    case Role::kAdmin: return "admin";
  }
  return "unknown";
}

std::optional<Role> ParseRole(std::string_view name) {
  for (Role role : {Role::kIngest, Role::kAgent, Role::kAnalyst, Role::kAdmin}) {
    if (RoleName(role) == name) return role;
  }
  return std::nullopt;
}

std::string KeyRing::ToJson(const Stored& stored) {
  Json j = {{"id", stored.key.id},
            {"name", stored.key.name},
            {"role", RoleName(stored.key.role)},
            {"created", stored.key.created},
            {"revoked", stored.key.revoked},
            {"secret_sha256", ToHex(stored.secret_digest)}};
  if (stored.key.revoked) {
    j["revoked_by"] = stored.revoked_by;
    j["revoked_at"] = stored.revoked_at;
  }
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::optional<KeyRing::Stored> KeyRing::Parse(std::string_view json) {
  Json j = Json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  try {
    Stored stored;
    stored.key.id = j.at("id").get<std::string>();
    stored.key.name = j.at("name").get<std::string>();
    std::optional<Role> role = ParseRole(j.at("role").get<std::string>());
    if (!role) return std::nullopt;
    stored.key.role = *role;
    stored.key.created = j.at("created").get<Micros>();
    stored.key.revoked = j.at("revoked").get<bool>();
    if (!FromHex(j.at("secret_sha256").get<std::string>(), &stored.secret_digest)) {
      return std::nullopt;
    }
    stored.revoked_by = j.value("revoked_by", "");
    stored.revoked_at = j.value("revoked_at", Micros{0});
    return stored;
  } catch (const Json::exception&) {
    return std::nullopt;
  }
}

absl::StatusOr<std::unique_ptr<KeyRing>> KeyRing::Open(ControlDb* db, AuditTrail* audit) {
  std::unique_ptr<KeyRing> ring(new KeyRing(db, audit));
  std::unique_ptr<rocksdb::Iterator> it(db->db->NewIterator({}));
  for (it->Seek(kKeyPrefix); it->Valid() && it->key().starts_with(kKeyPrefix); it->Next()) {
    std::optional<Stored> stored = Parse(it->value().ToStringView());
    if (!stored) {
      return absl::DataLossError(
          absl::StrCat("the API key record ", it->key().ToString(), " is damaged"));
    }
    std::string id = stored->key.id;
    ring->keys_.emplace(std::move(id), std::move(*stored));
  }
  UPFRONT_RETURN_IF_ERROR(RocksStatus(it->status(), "reading API keys"));
  return ring;
}

absl::StatusOr<NewApiKey> KeyRing::Create(Role role, std::string_view name,
                                          std::string_view actor) {
  if (name.empty()) return absl::InvalidArgumentError("an API key needs a name");
  if (name.size() > kMaxNameSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("an API key's name is at most ", kMaxNameSize, " characters"));
  }
  UPFRONT_RETURN_IF_ERROR(db_->CheckWritable());
  std::lock_guard write_lock(write_mu_);

  Stored stored;
  {
    std::shared_lock read_lock(keys_mu_);
    do {
      stored.key.id = absl::StrCat("key_", RandomHex(kIdRandomBytes));
    } while (keys_.contains(stored.key.id));
  }
  stored.key.name = std::string(name);
  stored.key.role = role;
  stored.key.created = db_->clock->Now();
  NewApiKey created;
  created.secret = std::string(kSecretPrefix) + stored.key.id + "_" + RandomHex(kSecretRandomBytes);
  stored.secret_digest = Sha256(created.secret);

  rocksdb::WriteBatch batch;
  batch.Put(std::string(kKeyPrefix) + stored.key.id, ToJson(stored));
  std::vector<StagedAuditEntry> audit(1);
  audit[0].actor = std::string(actor);
  audit[0].action = "key.create";
  audit[0].subject = stored.key.id;
  AuditTrail::SetDetails(Json{{"name", stored.key.name}, {"role", RoleName(role)}}, &audit[0]);
  UPFRONT_RETURN_IF_ERROR(audit_->Commit(std::move(audit), &batch).status());

  created.key = stored.key;
  std::unique_lock lock(keys_mu_);
  keys_.emplace(stored.key.id, std::move(stored));
  return created;
}

std::optional<ApiKey> KeyRing::Authenticate(std::string_view secret) const {
  std::string_view id = SecretId(secret);
  if (id.empty()) return std::nullopt;
  const Sha256Digest digest = Sha256(secret);
  std::shared_lock lock(keys_mu_);
  auto it = keys_.find(absl::string_view(id.data(), id.size()));
  if (it == keys_.end()) return std::nullopt;
  const Stored& stored = it->second;
  if (CRYPTO_memcmp(digest.data(), stored.secret_digest.data(), digest.size()) != 0) {
    return std::nullopt;
  }
  if (stored.key.revoked) return std::nullopt;
  return stored.key;
}

std::vector<ApiKey> KeyRing::List() const {
  std::vector<ApiKey> keys;
  {
    std::shared_lock lock(keys_mu_);
    keys.reserve(keys_.size());
    for (const auto& [id, stored] : keys_) keys.push_back(stored.key);
  }
  std::sort(keys.begin(), keys.end(), [](const ApiKey& a, const ApiKey& b) {
    return std::tie(a.created, a.id) < std::tie(b.created, b.id);
  });
  return keys;
}

absl::Status KeyRing::Revoke(std::string_view id, std::string_view actor) {
  UPFRONT_RETURN_IF_ERROR(db_->CheckWritable());
  std::lock_guard write_lock(write_mu_);
  Stored stored;
  {
    std::shared_lock lock(keys_mu_);
    auto it = keys_.find(std::string(id));
    if (it == keys_.end()) return absl::NotFoundError(absl::StrCat("no API key '", std::string(id), "'"));
    if (it->second.key.revoked) return absl::OkStatus();
    stored = it->second;
  }
  stored.key.revoked = true;
  stored.revoked_by = std::string(actor);
  stored.revoked_at = db_->clock->Now();

  rocksdb::WriteBatch batch;
  batch.Put(std::string(kKeyPrefix) + stored.key.id, ToJson(stored));
  std::vector<StagedAuditEntry> audit(1);
  audit[0].actor = std::string(actor);
  audit[0].action = "key.revoke";
  audit[0].subject = stored.key.id;
  AuditTrail::SetDetails(Json{{"name", stored.key.name}, {"role", RoleName(stored.key.role)}},
                         &audit[0]);
  UPFRONT_RETURN_IF_ERROR(audit_->Commit(std::move(audit), &batch).status());

  std::unique_lock lock(keys_mu_);
  keys_[stored.key.id] = std::move(stored);
  return absl::OkStatus();
}

}  // namespace upfront
