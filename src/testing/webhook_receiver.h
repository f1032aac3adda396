// Test helpers for webhooks: a real HTTP receiver on 127.0.0.1 with scripted
// answers that records every request, and an independent check of Standard
// Webhooks signatures (written here, sharing nothing with the outbox).
//
//   upfront::testing::Receiver receiver;
//   receiver.Script({Answer(500), Answer(429, "7")});  // then 200
//   ... receiver.Url() ...
//   receiver.WaitForRequests(3);
//   EXPECT_TRUE(SignatureIsValid(secret, id, ts, body, header));
#pragma once

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace upfront::testing {

namespace receiver_internal {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
}  // namespace receiver_internal
using namespace receiver_internal;

inline std::string DecodeBase64(std::string_view text) {
  std::string out;
  uint32_t bits = 0;
  int count = 0;
  for (char c : text) {
    int v;
    if (c >= 'A' && c <= 'Z')
      v = c - 'A';
    else if (c >= 'a' && c <= 'z')
      v = c - 'a' + 26;
    else if (c >= '0' && c <= '9')
      v = c - '0' + 52;
    else if (c == '+')
      v = 62;
    else if (c == '/')
      v = 63;
    else
      break;  // '=' padding
    bits = (bits << 6) | static_cast<uint32_t>(v);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out += static_cast<char>((bits >> count) & 0xff);
    }
  }
  return out;
}

// Verifies a webhook-signature header as a receiver would.
inline bool SignatureIsValid(std::string_view secret, std::string_view id, std::string_view timestamp,
                      std::string_view body, std::string_view header) {
  if (!secret.starts_with("whsec_") || !header.starts_with("v1,")) return false;
  const std::string key = DecodeBase64(secret.substr(6));
  const std::string content =
      std::string(id) + "." + std::string(timestamp) + "." + std::string(body);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(content.data()), content.size(), digest, &length);
  return DecodeBase64(header.substr(3)) == std::string(reinterpret_cast<char*>(digest), length);
}

struct Received {
  std::string target;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

struct Answer {
  Answer(int status = 200, std::string retry_after = "")
      : status(status), retry_after(std::move(retry_after)) {}
  // Reads the request, then never answers (until released).
  static Answer Stall() {
    Answer answer;
    answer.stall = true;
    return answer;
  }
  int status;
  std::string retry_after;
  bool stall = false;
};

class Receiver {
 public:
  Receiver()
      : acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)),
        port_(acceptor_.local_endpoint().port()) {
    thread_ = std::thread([this] { Serve(); });
  }
  ~Receiver() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
      stall_released_ = true;
    }
    changed_.notify_all();
    // Unblocks accept().
    asio::io_context io;
    tcp::socket poke(io);
    beast::error_code ignored;
    poke.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_), ignored);
    thread_.join();
  }

  std::string Url(const std::string& path = "/hooks/email") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  uint16_t port() const { return port_; }

  // Answers for the next requests, in order; then `fallback`.
  void Script(std::vector<Answer> answers, Answer fallback = {}) {
    std::lock_guard lock(mu_);
    script_.assign(answers.begin(), answers.end());
    fallback_ = fallback;
  }
  void ReleaseStalls() {
    std::lock_guard lock(mu_);
    stall_released_ = true;
    changed_.notify_all();
  }
  std::vector<Received> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }
  bool WaitForRequests(size_t n) {
    std::unique_lock lock(mu_);
    return changed_.wait_for(lock, std::chrono::seconds(20), [&] { return requests_.size() >= n; });
  }

 private:
  void Serve() {
    for (;;) {
      tcp::socket socket(io_);
      beast::error_code ec;
      acceptor_.accept(socket, ec);
      {
        std::lock_guard lock(mu_);
        if (stopping_) return;
      }
      if (ec) continue;
      beast::flat_buffer buffer;
      http::request<http::string_body> request;
      http::read(socket, buffer, request, ec);
      if (ec) continue;
      Received received;
      received.target = std::string(request.target());
      for (const auto& field : request) {
        std::string name(field.name_string());
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        received.headers[name] = std::string(field.value());
      }
      received.headers["method"] = std::string(request.method_string());
      received.body = request.body();
      Answer answer;
      {
        std::lock_guard lock(mu_);
        requests_.push_back(std::move(received));
        if (!script_.empty()) {
          answer = script_.front();
          script_.pop_front();
        } else {
          answer = fallback_;
        }
      }
      changed_.notify_all();
      if (answer.stall) {
        std::unique_lock lock(mu_);
        changed_.wait_for(lock, std::chrono::seconds(20), [&] { return stall_released_; });
        continue;
      }
      http::response<http::string_body> response(static_cast<http::status>(answer.status), 11);
      if (!answer.retry_after.empty()) response.set(http::field::retry_after, answer.retry_after);
      response.body() = "{}";
      response.keep_alive(false);
      response.prepare_payload();
      http::write(socket, response, ec);
      socket.shutdown(tcp::socket::shutdown_both, ec);
    }
  }

  asio::io_context io_;
  tcp::acceptor acceptor_;  // used by the serving thread only, once it runs
  const uint16_t port_;
  std::thread thread_;
  mutable std::mutex mu_;
  std::condition_variable changed_;
  bool stopping_ = false;
  bool stall_released_ = false;
  std::deque<Answer> script_;
  Answer fallback_;
  std::vector<Received> requests_;
};

}  // namespace upfront::testing
