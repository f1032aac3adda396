// `upfront send`: streams a Segment events file (one message a line, as
// `upfront simulate --events-out` writes) to a running server's
// /v1/batch at a steady rate, as live traffic would arrive. With --live the
// events are re-stamped with the wall clock as they go out (and --loop gives
// each pass new message ids), so a recorded day becomes traffic happening
// now. Shows a one-line summary each second; ends with totals.

#include <signal.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include <fmt/format.h>

#include "apps/upfront/commands.h"
#include "src/common/time_format.h"

namespace upfront {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

volatile sig_atomic_t interrupted = 0;

struct Target {
  std::string host;
  std::string port;
};

std::optional<Target> ParseUrl(const std::string& url) {
  std::string_view rest = url;
  if (!rest.starts_with("http://")) return std::nullopt;
  rest.remove_prefix(7);
  rest = rest.substr(0, rest.find('/'));
  const size_t colon = rest.rfind(':');
  if (colon == std::string_view::npos) return Target{std::string(rest), "80"};
  return Target{std::string(rest.substr(0, colon)), std::string(rest.substr(colon + 1))};
}

// One keep-alive connection, reopened when the server closes it.
class Connection {
 public:
  explicit Connection(Target target) : target_(std::move(target)), socket_(io_) {}

  // The HTTP status and body, or status 0 with the error.
  std::pair<int, std::string> Post(const std::string& path, const std::string& body, const std::string& key) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      beast::error_code ec;
      if (!socket_.is_open()) {
        tcp::resolver resolver(io_);
        auto endpoints = resolver.resolve(target_.host, target_.port, ec);
        if (!ec) boost::asio::connect(socket_, endpoints, ec);
        if (ec) return {0, ec.message()};
      }
      http::request<http::string_body> request(http::verb::post, path, 11);
      request.set(http::field::host, target_.host);
      request.set(http::field::authorization, "Bearer " + key);
      request.set(http::field::content_type, "application/json");
      request.keep_alive(true);
      request.body() = body;
      request.prepare_payload();
      http::write(socket_, request, ec);
      beast::flat_buffer buffer;
      http::response<http::string_body> response;
      if (!ec) http::read(socket_, buffer, response, ec);
      if (!ec) {
        if (!response.keep_alive()) socket_.close(ec);
        return {static_cast<int>(response.result_int()), response.body()};
      }
      socket_.close(ec);  // stale keep-alive: once more on a fresh connection
    }
    return {0, "the connection failed"};
  }

 private:
  Target target_;
  boost::asio::io_context io_;
  tcp::socket socket_;
};

}  // namespace

int RunSend(const SendCommand& command) {
  const std::optional<Target> target = ParseUrl(command.url);
  if (!target) {
    std::cerr << "upfront: --url must be http://HOST[:PORT], like http://127.0.0.1:8080\n";
    return 2;
  }
  std::ifstream in(command.events);
  if (!in) {
    std::cerr << "upfront: cannot read " << command.events << "\n";
    return 2;
  }
  // Lines that are not JSON objects are reported here, with their place,
  // and not sent: the server would refuse the whole request for them.
  std::vector<std::string> lines;
  std::vector<size_t> line_of;  // the file line of each kept event
  uint64_t skipped = 0;
  size_t line_number = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const nlohmann::json parsed = nlohmann::json::parse(line, nullptr, false);
    if (!parsed.is_object()) {
      if (skipped++ < 10) {
        std::cerr << fmt::format("{}:{}: not sent: {}\n", command.events, line_number,
                                 parsed.is_discarded() ? "not valid JSON" : "not a JSON object");
      }
      continue;
    }
    lines.push_back(std::move(line));
    line_of.push_back(line_number);
  }
  if (lines.empty()) {
    std::cerr << "upfront: " << command.events << " has no events\n";
    return 2;
  }
  signal(SIGINT, [](int) { interrupted = 1; });
  signal(SIGTERM, [](int) { interrupted = 1; });

  Connection connection(*target);
  const bool terminal = isatty(STDERR_FILENO);
  const auto started = std::chrono::steady_clock::now();
  const auto deadline = command.seconds > 0 ? started + std::chrono::seconds(command.seconds)
                                            : std::chrono::steady_clock::time_point::max();
  uint64_t sent = 0, accepted = 0, rejected = 0, failed_requests = 0, pass = 0;
  size_t next = 0;
  auto last_report = started;
  uint64_t sent_at_last_report = 0;
  std::string first_error;
  while (!interrupted && std::chrono::steady_clock::now() < deadline) {
    if (next == lines.size()) {
      if (!command.loop) break;
      next = 0;
      ++pass;
    }
    // Pace: the batch goes out when the rate says it is due.
    if (command.rate > 0) {
      const auto due = started + std::chrono::microseconds(static_cast<int64_t>(1e6 * sent / command.rate));
      if (due > std::chrono::steady_clock::now()) std::this_thread::sleep_until(due);
    }
    std::string body = "{\"batch\":[";
    const size_t end = std::min(lines.size(), next + command.batch);
    const std::string now = FormatTimestamp(SystemClock().Now());
    for (size_t i = next; i < end; ++i) {
      if (i > next) body += ',';
      if (!command.live && pass == 0) {
        body += lines[i];
        continue;
      }
      nlohmann::json event = nlohmann::json::parse(lines[i]);
      if (command.live) event["timestamp"] = now;
      if (pass > 0 && event.contains("messageId") && event["messageId"].is_string()) {
        event["messageId"] = event["messageId"].get<std::string>() + "~" + std::to_string(pass);
      }
      body += event.dump();
    }
    body += "]}";
    const size_t count = end - next;
    const size_t batch_start = next;
    next = end;
    sent += count;
    const auto [status, answer] = connection.Post("/v1/batch", body, command.key);
    const nlohmann::json report = nlohmann::json::parse(answer, nullptr, false);
    if (status == 200 || status == 400) {
      accepted += report.value("accepted", 0);
      rejected += report.value("rejected", 0);
      if (first_error.empty() && report.contains("errors") && !report["errors"].empty()) {
        const nlohmann::json& e = report["errors"][0];
        const size_t index = batch_start + e.value("index", size_t{0});
        first_error = fmt::format("{}:{}: field {}: {}", command.events,
                                  index < line_of.size() ? line_of[index] : 0, e.value("field", ""),
                                  e.value("reason", ""));
      }
    } else {
      ++failed_requests;
      if (first_error.empty()) first_error = fmt::format("HTTP {}: {}", status, answer.substr(0, 200));
      if (status == 0 || status == 401 || status == 403) break;
    }
    const auto now_steady = std::chrono::steady_clock::now();
    if (now_steady - last_report >= std::chrono::seconds(1)) {
      const double seconds = std::chrono::duration<double>(now_steady - last_report).count();
      const std::string line =
          fmt::format("sent {} events ({:.0f}/s), accepted {}, rejected {}", sent,
                      static_cast<double>(sent - sent_at_last_report) / seconds, accepted, rejected);
      if (terminal) std::cerr << "\r\033[K" << line << std::flush;
      last_report = now_steady;
      sent_at_last_report = sent;
    }
  }
  if (terminal) std::cerr << "\r\033[K";
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::cout << fmt::format("sent {} events in {:.1f} s ({:.0f}/s): {} accepted, {} rejected, {} failed requests{}\n",
                           sent, elapsed, static_cast<double>(sent) / std::max(elapsed, 1e-9), accepted,
                           rejected, failed_requests,
                           skipped > 0 ? fmt::format("; {} unreadable lines not sent", skipped) : "");
  if (!first_error.empty()) std::cout << "first problem: " << first_error << "\n";
  return failed_requests > 0 ? 1 : 0;
}

}  // namespace upfront
