// A small HTTP/1.1 server on Boost.Beast: one thread per connection, so a
// handler may block (an ingest waits for its fsync) without holding up
// anyone else, and the engine's partition threads never run request code.
//
//   HttpServer server(options, [](const HttpRequest& r) { return HttpResponse::Json(200, "{}"); });
//   UPFRONT_RETURN_IF_ERROR(server.Start());   // binds; port() is the bound port
//   ...
//   server.Stop();  // stops accepting, lets in-flight requests finish, closes idle connections
//
// Streaming responses (Server-Sent Events) set HttpResponse::stream; the
// server writes the headers and calls it on the connection's thread until it
// returns, the client goes away, or the server stops.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "upfront/status.h"

namespace upfront {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string path;    // without the query, percent-decoded
  std::map<std::string, std::string> query;
  std::vector<std::pair<std::string, std::string>> headers;  // names lowercased
  std::string body;
  std::string remote;  // peer address

  // The first header with this (lowercase) name, "" when absent.
  std::string_view Header(std::string_view name) const;
  // The query parameter, or `fallback`.
  std::string Query(const std::string& name, const std::string& fallback = "") const;
};

// Writes chunks of a streaming response.
class StreamWriter {
 public:
  virtual ~StreamWriter() = default;
  // False once the client has gone away; stop writing then.
  virtual bool Write(std::string_view chunk) = 0;
  // True when the server is shutting down: finish soon.
  virtual bool stopping() const = 0;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::function<void(StreamWriter&)> stream;

  static HttpResponse Json(int status, std::string body);
  // {"error": {"code": ..., "message": ...}} with the status's reason phrase as code.
  static HttpResponse Error(int status, std::string_view message);
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

struct HttpServerOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 0;                   // 0: an ephemeral port
  size_t max_body_bytes = 1 << 20;     // larger bodies get 413
  int idle_timeout_seconds = 60;       // idle keep-alive connections are closed after this
};

class HttpServer {
 public:
  HttpServer(HttpServerOptions options, HttpHandler handler);
  ~HttpServer();  // Stop()s

  absl::Status Start();
  uint16_t port() const { return port_; }
  // Graceful: no new connections; requests being handled finish and are
  // answered; idle connections and streams are closed. Blocks until done.
  void Stop();
  bool stopping() const { return stopping_.load(); }
  size_t open_connections() const;

 private:
  struct Impl;
  HttpServerOptions options_;
  HttpHandler handler_;
  std::unique_ptr<Impl> impl_;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
};

// "Bad Request", "Not Found", ... for a status code.
std::string_view ReasonPhrase(int status);

}  // namespace upfront
