// SignWebhook and the secret handling behind it.
#include "src/server/outbox/internal/signing.h"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <string>

#include "src/server/outbox/outbox.h"

namespace upfront {
namespace outbox_internal {
namespace {

constexpr std::string_view kSecretPrefix = "whsec_";

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

}  // namespace

absl::StatusOr<std::string> DecodeWebhookSecret(std::string_view secret) {
  if (!secret.starts_with(kSecretPrefix)) {
    return absl::InvalidArgumentError(
        "a webhook secret starts with whsec_, followed by base64 of random bytes");
  }
  const std::string_view encoded = secret.substr(kSecretPrefix.size());
  const auto invalid = [] {
    return absl::InvalidArgumentError("the webhook secret is not valid base64 after whsec_");
  };
  if (encoded.empty() || encoded.size() % 4 != 0) return invalid();
  std::string key;
  key.reserve(encoded.size() / 4 * 3);
  for (size_t i = 0; i < encoded.size(); i += 4) {
    const bool last = i + 4 == encoded.size();
    int values[4];
    int padding = 0;
    for (int j = 0; j < 4; ++j) {
      const char c = encoded[i + j];
      if (c == '=' && last && j >= 2) {
        ++padding;
        values[j] = 0;
        continue;
      }
      values[j] = padding > 0 ? -1 : Base64Value(c);
      if (values[j] < 0) return invalid();
    }
    const uint32_t group = (values[0] << 18) | (values[1] << 12) | (values[2] << 6) | values[3];
    key += static_cast<char>(group >> 16);
    if (padding < 2) key += static_cast<char>((group >> 8) & 0xff);
    if (padding < 1) key += static_cast<char>(group & 0xff);
  }
  return key;
}

std::string Base64Encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                      reinterpret_cast<const unsigned char*>(bytes.data()),
                                      static_cast<int>(bytes.size()));
  out.resize(written);
  return out;
}

std::string SignWithKey(std::string_view key, std::string_view id, int64_t timestamp_seconds,
                        std::string_view payload) {
  const std::string content = fmt::format("{}.{}.{}", id, timestamp_seconds, payload);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(content.data()), content.size(), digest, &length);
  return "v1," + Base64Encode(std::string_view(reinterpret_cast<char*>(digest), length));
}

}  // namespace outbox_internal

absl::StatusOr<std::string> SignWebhook(std::string_view secret, std::string_view id,
                                        int64_t timestamp_seconds, std::string_view payload) {
  UPFRONT_ASSIGN_OR_RETURN(std::string key, outbox_internal::DecodeWebhookSecret(secret));
  return outbox_internal::SignWithKey(key, id, timestamp_seconds, payload);
}

}  // namespace upfront
