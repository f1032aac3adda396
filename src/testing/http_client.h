// A blocking HTTP/1.1 client for tests: one request per connection, so a
// test sees exactly what a fresh client would.
//
//   upfront::testing::HttpClient client(port);
//   auto r = client.Send("POST", "/v1/track", R"({"userId":"u1","event":"x"})", key);
//   EXPECT_EQ(r.status, 200);
//   nlohmann::json body = r.Json();
#pragma once

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace upfront::testing {

struct HttpResult {
  int status = 0;  // 0: no answer (connection refused or closed)
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // names as sent
  std::string content_type;

  // The body parsed; a discarded value when it is not JSON.
  nlohmann::json Json() const { return nlohmann::json::parse(body, nullptr, false); }
  std::string Header(std::string_view name) const {
    for (const auto& [n, v] : headers) {
      if (boost::beast::iequals(n, boost::beast::string_view(name.data(), name.size()))) return v;
    }
    return "";
  }
};

class HttpClient {
 public:
  explicit HttpClient(uint16_t port) : port_(port) {}

  // `key` goes in "Authorization: Bearer"; pass a full header in `headers`
  // for other schemes.
  HttpResult Send(const std::string& method, const std::string& target, const std::string& body = "",
                  const std::string& key = "",
                  const std::vector<std::pair<std::string, std::string>>& headers = {}) const {
    namespace beast = boost::beast;
    namespace http = beast::http;
    boost::asio::io_context io;
    boost::asio::ip::tcp::socket socket(io);
    beast::error_code ec;
    socket.connect({boost::asio::ip::make_address("127.0.0.1"), port_}, ec);
    HttpResult result;
    if (ec) return result;
    http::request<http::string_body> request(http::string_to_verb(method), target, 11);
    request.set(http::field::host, "127.0.0.1");
    if (!key.empty()) request.set(http::field::authorization, "Bearer " + key);
    bool has_type = false;
    for (const auto& [name, value] : headers) {
      request.set(name, value);
      has_type |= beast::iequals(name, "content-type");
    }
    if (!body.empty() && !has_type) request.set(http::field::content_type, "application/json");
    request.body() = body;
    request.keep_alive(false);
    request.prepare_payload();
    http::write(socket, request, ec);
    if (ec) return result;
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(64u << 20);
    http::read(socket, buffer, parser, ec);
    if (!parser.is_done()) return result;  // cut off (e.g. the server was killed mid-answer)
    const auto& response = parser.get();
    result.status = static_cast<int>(response.result_int());
    result.body = response.body();
    for (const auto& field : response) {
      result.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    result.content_type = std::string(response[http::field::content_type]);
    return result;
  }

  HttpResult Get(const std::string& target, const std::string& key = "") const { return Send("GET", target, "", key); }
  HttpResult Post(const std::string& target, const std::string& body, const std::string& key = "") const {
    return Send("POST", target, body, key);
  }

 private:
  uint16_t port_;
};

}  // namespace upfront::testing
