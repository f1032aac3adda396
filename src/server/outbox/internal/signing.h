// Standard Webhooks signing secrets and signatures. Internal to
// src/server/outbox; the public entry point is SignWebhook (outbox.h).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "upfront/status.h"

namespace upfront::outbox_internal {

// The key bytes of a "whsec_<base64>" secret. InvalidArgument, without the
// secret in the message, when it is not one.
absl::StatusOr<std::string> DecodeWebhookSecret(std::string_view secret);

// "v1," + base64(HMAC-SHA256(key, id "." timestamp "." payload)).
std::string SignWithKey(std::string_view key, std::string_view id, int64_t timestamp_seconds,
                        std::string_view payload);

// Standard base64 with padding (RFC 4648 section 4).
std::string Base64Encode(std::string_view bytes);

}  // namespace upfront::outbox_internal
