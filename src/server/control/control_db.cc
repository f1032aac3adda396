#include "src/server/control/control_db.h"

#include <openssl/evp.h>

#include "absl/strings/str_cat.h"
#include "src/common/hash.h"

namespace upfront {

absl::Status ControlDb::CheckWritable() const {
  if (read_only) {
    return absl::FailedPreconditionError("the control store is open read-only");
  }
  return absl::OkStatus();
}

absl::Status ControlDb::Write(rocksdb::WriteBatch* batch, std::string_view what) {
  UPFRONT_RETURN_IF_ERROR(CheckWritable());
  return RocksStatus(db->Write(write_options, batch), what);
}

absl::Status RocksStatus(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return absl::OkStatus();
  return absl::InternalError(absl::StrCat(std::string(what), ": ", s.ToString()));
}

std::string NumberedKey(std::string_view prefix, uint64_t n) {
  std::string key(prefix);
  for (int shift = 56; shift >= 0; shift -= 8) key.push_back(static_cast<char>(n >> shift));
  return key;
}

uint64_t KeyNumber(std::string_view key, std::string_view prefix) {
  if (key.size() != prefix.size() + 8 || !key.starts_with(prefix)) return 0;
  uint64_t n = 0;
  for (size_t i = prefix.size(); i < key.size(); ++i) n = (n << 8) | static_cast<uint8_t>(key[i]);
  return n;
}

std::string CustomerIndexPrefix(std::string_view pseudonym) {
  return std::string(kCustomerIndexPrefix).append(pseudonym).append("/");
}

std::string CustomerIndexKey(std::string_view pseudonym, uint64_t seq) {
  return NumberedKey(CustomerIndexPrefix(pseudonym), seq);
}

Sha256Digest Sha256(std::string_view data) {
  // Fetched once: OpenSSL 3 looks EVP_sha256() up again on every call, which
  // doubles the cost of hashing a short input (Authenticate, every audit entry).
  static EVP_MD* const kSha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  Sha256Digest digest{};
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest.data(), &length, kSha256, nullptr);
  return digest;
}

std::string ToHex(const Sha256Digest& digest) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(digest.size() * 2, '0');
  for (size_t i = 0; i < digest.size(); ++i) {
    out[2 * i] = kDigits[digest[i] >> 4];
    out[2 * i + 1] = kDigits[digest[i] & 15];
  }
  return out;
}

std::string Sha256Hex(std::string_view data) { return ToHex(Sha256(data)); }

std::string PseudonymFor(std::string_view key, std::string_view customer_id) {
  return "p_" + HmacSha256Hex(key, customer_id).substr(0, 16);
}

}  // namespace upfront
