#include "src/common/hash.h"

#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace upfront {
namespace {

std::string ToHex(const unsigned char* bytes, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(n * 2, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kDigits[bytes[i] >> 4];
    out[2 * i + 1] = kDigits[bytes[i] & 15];
  }
  return out;
}

}  // namespace

uint64_t Hash64(std::string_view data, uint64_t seed) {
  return XXH3_64bits_withSeed(data.data(), data.size(), seed);
}

// One HMAC context per thread, keyed once: OpenSSL's one-shot HMAC() looks
// the algorithm up and processes the key on every call, 1.3 us against
// 0.2 us for re-initialising a keyed context (a process uses one data key,
// so the key rarely changes).
class KeyedHmac {
 public:
  KeyedHmac() {
    static EVP_MAC* const kHmac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    ctx_ = EVP_MAC_CTX_new(kHmac);
  }
  ~KeyedHmac() { EVP_MAC_CTX_free(ctx_); }
  KeyedHmac(const KeyedHmac&) = delete;
  KeyedHmac& operator=(const KeyedHmac&) = delete;

  std::string Hex(std::string_view key, std::string_view data) {
    bool ok = true;
    if (!keyed_ || key != key_) {
      char digest_name[] = "SHA256";
      const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0),
                                   OSSL_PARAM_construct_end()};
      ok = EVP_MAC_init(ctx_, reinterpret_cast<const unsigned char*>(key.data()), key.size(), params) == 1;
      key_.assign(key);
      keyed_ = ok;
    } else {
      ok = EVP_MAC_init(ctx_, nullptr, 0, nullptr) == 1;  // the same key again
    }
    unsigned char digest[EVP_MAX_MD_SIZE];
    size_t length = 0;
    ok = ok && EVP_MAC_update(ctx_, reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1 &&
         EVP_MAC_final(ctx_, digest, &length, sizeof digest) == 1;
    if (!ok) throw std::runtime_error("OpenSSL's HMAC-SHA256 failed");
    return ToHex(digest, length);
  }

 private:
  EVP_MAC_CTX* ctx_ = nullptr;
  std::string key_;
  bool keyed_ = false;
};

std::string HmacSha256Hex(std::string_view key, std::string_view data) {
  thread_local KeyedHmac hmac;
  return hmac.Hex(key, data);
}

std::string RandomHex(size_t count) {
  std::string bytes(count, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()), static_cast<int>(count)) != 1) {
    throw std::runtime_error("the operating system's random source failed");
  }
  return ToHex(reinterpret_cast<const unsigned char*>(bytes.data()), count);
}

absl::StatusOr<std::string> LoadOrCreateDataKey(const std::string& data_dir) {
  const std::filesystem::path path = std::filesystem::path(data_dir) / "hash.key";
  if (std::filesystem::exists(path)) {
    std::ifstream in(path);
    std::string key;
    std::getline(in, key);
    if (key.size() < 32) return absl::DataLossError(path.string() + " is damaged");
    return key;
  }
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec) return absl::FailedPreconditionError("cannot create the data directory '" + data_dir + "': " + ec.message());
  std::string key = RandomHex(32);
  std::ofstream out(path);
  out << key << "\n";
  out.close();
  if (!out) return absl::PermissionDeniedError("cannot write " + path.string());
  std::filesystem::permissions(path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write, ec);
  return key;
}

}  // namespace upfront
