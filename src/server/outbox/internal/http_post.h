// One HTTP/1.1 POST with a deadline, over a fresh connection (Boost.Beast).
// Internal to src/server/outbox.
//
//   UPFRONT_ASSIGN_OR_RETURN(HttpUrl url, ParseHttpUrl("http://127.0.0.1:9000/email"));
//   absl::StatusOr<HttpAnswer> answer = PostOnce(url, headers, body, 5 * kMicrosPerSecond);
//
// Thread-safe: every call has its own I/O context and connection.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "upfront/status.h"
#include "upfront/time.h"

namespace upfront::outbox_internal {

struct HttpUrl {
  std::string host;         // without brackets for IPv6 literals
  std::string port;         // "80" when the URL has none
  std::string target;       // path and query, "/" when the URL has none
  std::string host_header;  // as the URL writes it, brackets and port included
};

// Accepts http://host[:port][/path][?query]. InvalidArgument otherwise, with a
// reason; https is refused (this build has no TLS client).
absl::StatusOr<HttpUrl> ParseHttpUrl(std::string_view url);

struct HttpAnswer {
  int status = 0;           // the response's status code
  std::string retry_after;  // the Retry-After header, "" when absent
};

// POSTs `body` with `headers` (name, value) and reads the answer; at most
// 64 KiB of the response body is read, the rest is ignored. An answer of any
// status is OK. DeadlineExceeded when `timeout` passes first (resolving,
// connecting, sending and reading together); Unavailable for network errors,
// with the stage and the system's reason.
absl::StatusOr<HttpAnswer> PostOnce(const HttpUrl& url,
                                    const std::vector<std::pair<std::string, std::string>>& headers,
                                    std::string_view body, Micros timeout);

}  // namespace upfront::outbox_internal
