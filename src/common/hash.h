// Hashing: fast non-cryptographic hashes for partitioning and cohorts (xxHash),
// keyed hashes for pseudonymising personal data (HMAC-SHA256, OpenSSL).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace upfront {

// XXH3 64-bit; stable across runs and machines, so safe to persist.
uint64_t Hash64(std::string_view data, uint64_t seed = 0);

// HMAC-SHA256 of `data` under `key`, as 64 lowercase hex characters.
std::string HmacSha256Hex(std::string_view key, std::string_view data);

// `count` bytes from the operating system's CSPRNG, as lowercase hex.
// For secrets only (keys), never for decisions.
std::string RandomHex(size_t count);

}  // namespace upfront
