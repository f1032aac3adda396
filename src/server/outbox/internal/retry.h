// When the outbox tries a message again. Internal to src/server/outbox.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "src/server/outbox/outbox.h"
#include "upfront/time.h"

namespace upfront::outbox_internal {

// The wait after the `attempts`-th failed attempt (1-based) of message `id`:
// first_delay * 2^(attempts-1), capped at max_delay, then moved by a jitter
// in [-jitter, +jitter] of itself drawn from a hash of (seed, id, attempts),
// and capped at max_delay again. The same inputs give the same wait.
Micros RetryDelay(const RetryPolicy& policy, uint32_t attempts, std::string_view id, uint64_t seed);

// The time a Retry-After header value names, given the time the answer came:
// delay-seconds ("120") or an HTTP date ("Wed, 21 Oct 2015 07:28:00 GMT",
// also the obsolete RFC 850 and asctime forms). nullopt when it is neither.
std::optional<Micros> ParseRetryAfter(std::string_view value, Micros now);

}  // namespace upfront::outbox_internal
