#include "src/server/outbox/internal/http_post.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>

#include "src/common/time_format.h"

namespace upfront::outbox_internal {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// The answer's body is not used; reading a little of it lets a receiver that
// writes a short body finish cleanly, and the cap keeps a misbehaving one from
// costing memory.
constexpr uint64_t kMaxAnswerBody = 64 * 1024;

bool IsHostChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_';
}

}  // namespace

absl::StatusOr<HttpUrl> ParseHttpUrl(std::string_view url) {
  const auto invalid = [&](std::string_view why) {
    return absl::InvalidArgumentError(fmt::format("'{}' {}", url, why));
  };
  if (url.starts_with("https://")) {
    return invalid(
        "is https, which this build cannot send; use http:// (e.g. to a local "
        "TLS-terminating proxy)");
  }
  if (!url.starts_with("http://")) return invalid("must start with http://");
  if (std::any_of(url.begin(), url.end(),
                  [](char c) { return static_cast<unsigned char>(c) <= ' ' || c == 0x7f; })) {
    return invalid("has a space or control character");
  }
  if (url.find('#') != std::string_view::npos) return invalid("has a #fragment");
  const std::string_view rest = url.substr(7);
  const size_t authority_end = rest.find_first_of("/?");
  const std::string_view authority = rest.substr(0, authority_end);
  HttpUrl parsed;
  parsed.host_header = std::string(authority);
  std::string_view host = authority;
  std::string_view port;
  bool has_port = false;
  if (authority.starts_with('[')) {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return invalid("has an IPv6 address without ']'");
    host = authority.substr(1, close - 1);
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty() && !after.starts_with(':'))
      return invalid("has text after the IPv6 address");
    has_port = !after.empty();
    if (has_port) port = after.substr(1);
    if (host.empty() ||
        host.find_first_not_of("0123456789abcdefABCDEF:.") != std::string_view::npos) {
      return invalid("has an invalid IPv6 address");
    }
  } else {
    if (const size_t colon = authority.find(':'); colon != std::string_view::npos) {
      host = authority.substr(0, colon);
      port = authority.substr(colon + 1);
      has_port = true;
    }
    if (host.empty() || !std::all_of(host.begin(), host.end(), IsHostChar)) {
      return invalid("has no valid host");
    }
  }
  if (has_port) {
    int value = 0;
    bool valid = !port.empty() && port.size() <= 5;
    for (char c : port) {
      valid = valid && c >= '0' && c <= '9';
      if (valid) value = value * 10 + (c - '0');
    }
    if (!valid || value < 1 || value > 65535) return invalid("has an invalid port");
  }
  parsed.host = std::string(host);
  parsed.port = has_port ? std::string(port) : "80";
  parsed.target =
      authority_end == std::string_view::npos ? "/" : std::string(rest.substr(authority_end));
  if (parsed.target.starts_with('?')) parsed.target.insert(0, "/");
  return parsed;
}

absl::StatusOr<HttpAnswer> PostOnce(const HttpUrl& url,
                                    const std::vector<std::pair<std::string, std::string>>& headers,
                                    std::string_view body, Micros timeout) {
  asio::io_context io;
  tcp::resolver resolver(io);
  beast::tcp_stream stream(io);

  http::request<http::string_body> request(http::verb::post, url.target, 11);
  request.set(http::field::host, url.host_header);
  for (const auto& [name, value] : headers) request.set(name, value);
  request.body() = std::string(body);
  request.keep_alive(false);
  request.prepare_payload();

  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(kMaxAnswerBody);

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::microseconds(timeout);
  const std::string timed_out = fmt::format("no answer within {}", FormatDuration(timeout));
  bool finished = false;
  absl::Status failure;
  const auto fail = [&](std::string_view stage, const beast::error_code& ec) {
    if (finished) return;
    finished = true;
    failure = ec == beast::error::timeout
                  ? absl::DeadlineExceededError(timed_out)
                  : absl::UnavailableError(fmt::format("{}: {}", stage, ec.message()));
  };

  // The chain runs on this thread inside io.run_until below; the lambdas'
  // references stay valid because nothing here returns before it drains.
  resolver.async_resolve(
      url.host, url.port,
      [&](const beast::error_code& ec, const tcp::resolver::results_type& found) {
        if (ec) return fail(fmt::format("resolving {}", url.host), ec);
        stream.expires_at(deadline);
        stream.async_connect(found, [&](const beast::error_code& ec, const tcp::endpoint&) {
          if (ec) return fail(fmt::format("connecting to {}", url.host_header), ec);
          http::async_write(stream, request, [&](const beast::error_code& ec, size_t) {
            if (ec) return fail("sending the request", ec);
            http::async_read(stream, buffer, parser, [&](const beast::error_code& ec, size_t) {
              // A body over the cap, or cut short, does not change the status.
              if (ec && !parser.is_header_done()) return fail("reading the answer", ec);
              finished = true;
            });
          });
        });
      });
  io.run_until(deadline);
  if (!finished) {
    // Resolving has no deadline of its own; cancel whatever is still going and
    // let the handlers see operation_aborted.
    finished = true;
    failure = absl::DeadlineExceededError(timed_out);
    resolver.cancel();
    beast::error_code ignored;
    stream.socket().close(ignored);
    io.restart();
    io.run();
  }
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  if (!failure.ok()) return failure;
  HttpAnswer answer;
  answer.status = static_cast<int>(parser.get().result_int());
  if (auto it = parser.get().find(http::field::retry_after); it != parser.get().end()) {
    answer.retry_after = std::string(it->value());
  }
  return answer;
}

}  // namespace upfront::outbox_internal
