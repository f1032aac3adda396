#include "src/common/hash.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
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

std::string HmacSha256Hex(std::string_view key, std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest, &length);
  return ToHex(digest, length);
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
