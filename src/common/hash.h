// Hashing: fast non-cryptographic hashes for partitioning and cohorts (xxHash),
// keyed hashes for pseudonymising personal data (HMAC-SHA256, OpenSSL).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "upfront/status.h"

namespace upfront {

// XXH3 64-bit; stable across runs and machines, so safe to persist.
uint64_t Hash64(std::string_view data, uint64_t seed = 0);

// HMAC-SHA256 of `data` under `key`, as 64 lowercase hex characters.
std::string HmacSha256Hex(std::string_view key, std::string_view data);

// `count` bytes from the operating system's CSPRNG, as lowercase hex.
// For secrets only (keys), never for decisions.
std::string RandomHex(size_t count);

// The data directory's pseudonym key (DATA/hash.key, its first line), created
// with the directory when missing: 32 random bytes as 64 hex digits, mode
// 0600. The engine hashes kept PII fields and the control plane pseudonymises
// audit entries with it. DataLoss when the file is damaged.
absl::StatusOr<std::string> LoadOrCreateDataKey(const std::string& data_dir);

}  // namespace upfront
