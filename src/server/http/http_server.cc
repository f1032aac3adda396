// Thread per connection, synchronous Beast. Why not async: handlers block on
// durable commits, and a blocked handler must not stall other connections;
// a thread each is the simplest way to get that, and connection counts for
// this server (collectors, SDK proxies, a console) are modest.
//
// Idle keep-alive connections and shutdown both work the same way: another
// thread shuts the socket down, which ends the blocking read.

#include "src/server/http/http_server.h"

#include <pthread.h>
#include <sys/socket.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <condition_variable>
#include <list>

#include <spdlog/spdlog.h>

namespace upfront {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

std::string PercentDecode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%' && i + 2 < in.size() && std::isxdigit(static_cast<unsigned char>(in[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(in[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(std::string(in.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else if (in[i] == '+') {
      out.push_back(' ');
    } else {
      out.push_back(in[i]);
    }
  }
  return out;
}

void ParseTarget(std::string_view target, HttpRequest* request) {
  const size_t q = target.find('?');
  std::string_view path = target.substr(0, q);
  // '+' is a space only in the query.
  request->path.clear();
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '%' && i + 2 < path.size() && std::isxdigit(static_cast<unsigned char>(path[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(path[i + 2]))) {
      request->path += PercentDecode(path.substr(i, 3));
      i += 2;
    } else {
      request->path.push_back(path[i]);
    }
  }
  if (q == std::string_view::npos) return;
  std::string_view query = target.substr(q + 1);
  while (!query.empty()) {
    const size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    const size_t eq = pair.find('=');
    if (!pair.empty()) {
      request->query[PercentDecode(pair.substr(0, eq))] =
          eq == std::string_view::npos ? "" : PercentDecode(pair.substr(eq + 1));
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
}

}  // namespace

std::string_view HttpRequest::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key == name) return value;
  }
  return {};
}

std::string HttpRequest::Query(const std::string& name, const std::string& fallback) const {
  auto it = query.find(name);
  return it == query.end() ? fallback : it->second;
}

std::string_view ReasonPhrase(int status) {
  // Beast answers "<unknown-status>" for codes it does not know.
  if (http::int_to_status(static_cast<unsigned>(status)) == http::status::unknown) return "Unknown";
  const auto reason = http::obsolete_reason(static_cast<http::status>(status));
  return std::string_view(reason.data(), reason.size());
}

HttpResponse HttpResponse::Json(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

HttpResponse HttpResponse::Error(int status, std::string_view message) {
  std::string code(ReasonPhrase(status));
  for (char& c : code) c = c == ' ' ? '_' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string escaped;
  for (char c : message) {
    if (c == '"' || c == '\\') {
      escaped.push_back('\\');
      escaped.push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      escaped += ' ';
    } else {
      escaped.push_back(c);
    }
  }
  return Json(status, "{\"error\":{\"code\":\"" + code + "\",\"message\":\"" + escaped + "\"}}");
}

struct HttpServer::Impl {
  struct Connection {
    tcp::socket socket;
    std::thread thread;
    bool busy = false;       // handling a request (guarded by Impl::mu)
    bool streaming = false;  // writing a streaming response (guarded by Impl::mu)
    bool done = false;
    std::chrono::steady_clock::time_point idle_since = std::chrono::steady_clock::now();
    explicit Connection(tcp::socket s) : socket(std::move(s)) {}
  };

  asio::io_context ioc;
  tcp::acceptor acceptor{ioc};
  std::thread accept_thread;
  std::thread reaper_thread;
  mutable std::mutex mu;
  std::condition_variable reaper_cv;
  std::list<std::unique_ptr<Connection>> connections;

  static void ShutdownSocket(tcp::socket& socket) {
    beast::error_code ec;
    socket.shutdown(tcp::socket::shutdown_both, ec);
  }
};

HttpServer::HttpServer(HttpServerOptions options, HttpHandler handler)
    : options_(std::move(options)), handler_(std::move(handler)), impl_(std::make_unique<Impl>()) {}

HttpServer::~HttpServer() { Stop(); }

size_t HttpServer::open_connections() const {
  std::lock_guard lock(impl_->mu);
  size_t n = 0;
  for (const auto& c : impl_->connections) n += c->done ? 0 : 1;
  return n;
}

namespace {

class SocketStreamWriter final : public StreamWriter {
 public:
  SocketStreamWriter(tcp::socket& socket, const std::atomic<bool>& stopping)
      : socket_(socket), stopping_(stopping) {}
  bool Write(std::string_view chunk) override {
    if (broken_) return false;
    beast::error_code ec;
    asio::write(socket_, asio::buffer(chunk.data(), chunk.size()), ec);
    broken_ = static_cast<bool>(ec);
    return !broken_;
  }
  bool stopping() const override { return stopping_.load(); }

 private:
  tcp::socket& socket_;
  const std::atomic<bool>& stopping_;
  bool broken_ = false;
};

}  // namespace

absl::Status HttpServer::Start() {
  beast::error_code ec;
  const auto address = asio::ip::make_address(options_.address, ec);
  if (ec) return absl::InvalidArgumentError("'" + options_.address + "' is not an IP address");
  const tcp::endpoint endpoint(address, options_.port);
  Impl& impl = *impl_;
  impl.acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl.acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl.acceptor.bind(endpoint, ec);
  if (!ec) impl.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError("cannot listen on " + options_.address + ":" +
                                  std::to_string(options_.port) + ": " + ec.message());
  }
  port_ = impl.acceptor.local_endpoint().port();

  const auto serve = [this](Impl::Connection* conn) {
    pthread_setname_np(pthread_self(), "upfront-http");
    beast::flat_buffer buffer;
    beast::error_code ec;
    tcp::socket& socket = conn->socket;
    const std::string remote = socket.remote_endpoint(ec).address().to_string();
    for (;;) {
      {
        std::lock_guard lock(impl_->mu);
        conn->busy = false;
        conn->idle_since = std::chrono::steady_clock::now();
        if (stopping_) break;
      }
      http::request_parser<http::string_body> parser;
      parser.body_limit(options_.max_body_bytes);
      parser.header_limit(32 * 1024);
      http::read(socket, buffer, parser, ec);
      {
        std::lock_guard lock(impl_->mu);
        conn->busy = true;
      }
      if (ec == http::error::body_limit || ec == http::error::header_limit) {
        HttpResponse too_big = HttpResponse::Error(
            413, ec == http::error::body_limit
                     ? "the request body is over " + std::to_string(options_.max_body_bytes) + " bytes"
                     : "the request headers are too large");
        http::response<http::string_body> res{http::status::payload_too_large, 11};
        res.set(http::field::content_type, too_big.content_type);
        res.set(http::field::connection, "close");
        res.body() = too_big.body;
        res.prepare_payload();
        http::write(socket, res, ec);
        break;
      }
      if (ec) break;  // closed, shut down, or not HTTP
      const auto& req = parser.get();
      HttpRequest request;
      request.method = std::string(req.method_string().data(), req.method_string().size());
      ParseTarget(std::string_view(req.target().data(), req.target().size()), &request);
      for (const auto& field : req) {
        std::string name(field.name_string().data(), field.name_string().size());
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        request.headers.emplace_back(std::move(name), std::string(field.value().data(), field.value().size()));
      }
      const bool keep_alive = req.keep_alive();
      request.body = std::move(parser.get().body());  // a batch is up to 500 KB: not copied
      request.remote = remote;

      HttpResponse response;
      try {
        response = handler_(request);
      } catch (const std::exception& e) {
        spdlog::error("{} {}: {}", request.method, request.path, e.what());
        response = HttpResponse::Error(500, "internal error");
      }
      if (response.stream) {
        std::string head = "HTTP/1.1 " + std::to_string(response.status) + " " +
                           std::string(ReasonPhrase(response.status)) + "\r\nContent-Type: " +
                           response.content_type + "\r\nCache-Control: no-cache\r\nConnection: close\r\n";
        for (const auto& [name, value] : response.headers) head += name + ": " + value + "\r\n";
        head += "\r\n";
        {
          std::lock_guard lock(impl_->mu);
          conn->streaming = true;
        }
        SocketStreamWriter writer(socket, stopping_);
        if (writer.Write(head)) response.stream(writer);
        break;
      }
      http::response<http::string_body> res{static_cast<http::status>(response.status), req.version()};
      res.set(http::field::server, "Upfront");
      res.set(http::field::content_type, response.content_type);
      for (const auto& [name, value] : response.headers) res.set(name, value);
      res.keep_alive(keep_alive && !stopping_);
      res.body() = std::move(response.body);
      res.prepare_payload();
      http::write(socket, res, ec);
      if (ec || !res.keep_alive()) break;
    }
    // Under the lock: Stop and the reaper shut sockets down from their threads,
    // and must not race the close (nor hit a reused descriptor).
    std::lock_guard lock(impl_->mu);
    Impl::ShutdownSocket(socket);
    socket.close(ec);
    conn->done = true;
  };

  impl.accept_thread = std::thread([this, serve] {
    pthread_setname_np(pthread_self(), "upfront-accept");
    for (;;) {
      beast::error_code ec;
      tcp::socket socket(impl_->ioc);
      impl_->acceptor.accept(socket, ec);
      if (stopping_) break;
      if (ec) continue;
      socket.set_option(tcp::no_delay(true), ec);
      std::lock_guard lock(impl_->mu);
      auto conn = std::make_unique<Impl::Connection>(std::move(socket));
      Impl::Connection* raw = conn.get();
      impl_->connections.push_back(std::move(conn));
      raw->thread = std::thread(serve, raw);
    }
  });

  // Closes connections idle for too long and reaps finished ones.
  impl.reaper_thread = std::thread([this] {
    pthread_setname_np(pthread_self(), "upfront-reaper");
    std::unique_lock lock(impl_->mu);
    while (!stopping_) {
      impl_->reaper_cv.wait_for(lock, std::chrono::seconds(1));
      const auto now = std::chrono::steady_clock::now();
      for (auto it = impl_->connections.begin(); it != impl_->connections.end();) {
        Impl::Connection& c = **it;
        if (c.done) {
          std::thread finished = std::move(c.thread);
          it = impl_->connections.erase(it);
          lock.unlock();
          finished.join();
          lock.lock();
          it = impl_->connections.begin();  // the list may have changed meanwhile
          continue;
        }
        if (!c.busy && now - c.idle_since > std::chrono::seconds(options_.idle_timeout_seconds)) {
          Impl::ShutdownSocket(c.socket);
        }
        ++it;
      }
    }
  });
  return absl::OkStatus();
}

void HttpServer::Stop() {
  if (!impl_->accept_thread.joinable()) return;
  {
    std::lock_guard lock(impl_->mu);
    stopping_ = true;
  }
  ::shutdown(impl_->acceptor.native_handle(), SHUT_RDWR);
  impl_->accept_thread.join();
  impl_->reaper_cv.notify_all();
  impl_->reaper_thread.join();
  std::list<std::unique_ptr<Impl::Connection>> connections;
  {
    std::lock_guard lock(impl_->mu);
    // Idle ones wake from their read; busy ones finish their request and see
    // `stopping_` before reading again. Streams are shut down too: a stream
    // blocked writing to a client that stopped reading would otherwise hold
    // Stop forever; the others see Write fail (or `stopping()`) and return.
    for (auto& c : impl_->connections) {
      if (!c->busy || c->streaming) Impl::ShutdownSocket(c->socket);
    }
    connections.swap(impl_->connections);
  }
  for (auto& c : connections) {
    if (c->thread.joinable()) c->thread.join();
  }
  beast::error_code ec;
  impl_->acceptor.close(ec);
}

}  // namespace upfront
