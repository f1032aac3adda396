// Load on the HTTP ingest path over loopback: `POST /v1/batch` to the
// embedded server (Service::Start, as `upfront serve` runs it) with the
// example e-commerce policy, fsync before every acknowledgement.
//
// A small loader in the same process drives it: N keep-alive connections,
// each on its own thread, each sending its next request as soon as the last
// one is answered (closed loop). Requests are pre-built; per request only the
// messageIds, userIds and timestamps are patched in place, so the loader
// costs little next to the server. Events are ~300-byte Segment track calls
// named in the policy, from 100,000 customers, timestamped with the wall
// clock (the server uses wall-clock arrival, so they are not late).
//
// Each benchmark is one iteration: a fresh data directory, 1 s of warm-up,
// then HTTP_LOAD_SECONDS (default 5) measured. Counters: events/s,
// requests/s, p50/p99/p99.9/max acknowledgement latency (ms, as the client
// sees it), connections; CPU (cores) used by the whole process and by the
// loader threads alone; decision points per event, those still waiting for
// the decision worker when the load stopped and the seconds it took to catch
// up (Drain); and, since this machine is shared, the cores other processes
// took meanwhile and the load average before the start.
// Every response must be 200 with accepted equal to the batch size, else the
// benchmark is skipped with the error.
//
// HTTP_LOAD_TRACE=FILE writes every measured request as a line
// "connection sent_s latency_ms" (sent_s on the steady clock), to see
// whether the tail comes in bursts: bench/http_load_trace.py sums it up per
// second.
//
// HTTP_LOAD_MESSAGE_IDS=random sends random messageIds (counter "random_ids"
// is 1), as real clients do; by default they count up per connection.
// HTTP_LOAD_CONNECTIONS=4,8,16,32 sweeps connection counts (default: 32 for
// batch=1, 3 and 16 for batch=100).
//
// Closed loops measure throughput, but their latency is whatever the loader's
// own queue makes it. The fixed-rate runs (rate:N, counter offered/s) send
// N events/s in batches of 100 however fast the answers come, and time each
// request from when it was due; HTTP_LOAD_RATES=120000,150000 and
// HTTP_LOAD_RATE_CONNECTIONS=16,32 sweep them.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "src/server/http/service.h"

namespace upfront {
namespace {

constexpr int kCustomers = 100'000;
constexpr int kTemplatesPerConnection = 16;
constexpr double kWarmupSeconds = 1.0;
// The example policy's email webhook signs with this (Standard Webhooks'
// documented example secret); delivery itself is off in the bench.
constexpr const char* kWebhookSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

// The dedup index is keyed by message id: real clients' random UUIDs insert
// anywhere in it, a counter always next to the last one.
bool RandomMessageIds() {
  static const bool random = [] {
    const char* s = std::getenv("HTTP_LOAD_MESSAGE_IDS");
    return s != nullptr && std::string_view(s) == "random";
  }();
  return random;
}

double MeasuredSeconds() {
  const char* s = std::getenv("HTTP_LOAD_SECONDS");
  const double v = s ? std::atof(s) : 0;
  return v > 0 ? v : 5.0;
}

// --- a minimal blocking HTTP/1.1 client, enough for our own server ---

class Client {
 public:
  ~Client() {
    if (fd_ >= 0) ::close(fd_);
  }

  std::string Connect(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0) return std::string("socket: ") + std::strerror(errno);
    const int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      return std::string("connect: ") + std::strerror(errno);
    }
    return "";
  }

  // Sends `request` and reads one response; "" on success, else what failed.
  std::string RoundTrip(std::string_view request, int* status, std::string_view* body) {
    for (size_t sent = 0; sent < request.size();) {
      const ssize_t n = ::send(fd_, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR) continue;
        return std::string("send: ") + std::strerror(errno);
      }
      sent += static_cast<size_t>(n);
    }
    // Drop the previous response.
    buffer_.erase(0, consumed_);
    consumed_ = 0;
    size_t header_end = std::string::npos;
    size_t total = 0;
    for (;;) {
      if (header_end == std::string::npos) {
        header_end = buffer_.find("\r\n\r\n");
        if (header_end != std::string::npos) {
          header_end += 4;
          const std::string_view head(buffer_.data(), header_end);
          if (!head.starts_with("HTTP/1.1 ") || head.size() < 12) return "not an HTTP response";
          *status = std::atoi(head.data() + 9);
          const size_t length = FindContentLength(head);
          if (length == std::string::npos) return "response without Content-Length";
          total = header_end + length;
        }
      }
      if (header_end != std::string::npos && buffer_.size() >= total) break;
      char chunk[16384];
      const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n == 0) return "the server closed the connection";
      if (n < 0) {
        if (errno == EINTR) continue;
        return std::string("recv: ") + std::strerror(errno);
      }
      buffer_.append(chunk, static_cast<size_t>(n));
    }
    *body = std::string_view(buffer_.data() + header_end, total - header_end);
    consumed_ = total;
    return "";
  }

 private:
  static size_t FindContentLength(std::string_view head) {
    static constexpr std::string_view kName = "\r\ncontent-length:";
    for (size_t i = 0; i + kName.size() <= head.size(); ++i) {
      size_t j = 0;
      while (j < kName.size() && std::tolower(static_cast<unsigned char>(head[i + j])) == kName[j]) ++j;
      if (j == kName.size()) return std::strtoul(head.data() + i + j, nullptr, 10);
    }
    return std::string::npos;
  }

  int fd_ = -1;
  std::string buffer_;
  size_t consumed_ = 0;
};

std::string Request(std::string_view method, std::string_view path, std::string_view key, std::string_view body) {
  std::string out;
  out.reserve(body.size() + 200);
  out.append(method).append(" ").append(path).append(" HTTP/1.1\r\nHost: 127.0.0.1\r\n");
  out.append("Authorization: Bearer ").append(key).append("\r\n");
  out.append("Content-Type: application/json\r\nContent-Length: ").append(std::to_string(body.size()));
  out.append("\r\n\r\n").append(body);
  return out;
}

// The unsigned number after `"name":` in a JSON body, -1 when absent.
long long JsonNumber(std::string_view body, std::string_view name) {
  const std::string needle = "\"" + std::string(name) + "\":";
  const size_t at = body.find(needle);
  if (at == std::string_view::npos) return -1;
  return std::strtoll(body.data() + at + needle.size(), nullptr, 10);
}

// --- pre-built batches, patched in place per request ---

constexpr int kMessageIdDigits = 16;
constexpr int kUserIdDigits = 6;
constexpr size_t kTimestampChars = 24;  // 2026-11-20T10:00:00.000Z

// One ready-to-send POST /v1/batch with the offsets of its variable fields.
struct BatchTemplate {
  std::string request;
  std::vector<size_t> message_ids, user_ids, timestamps;
};

// A bijection on [0, 10^16) (the multiplier is prime to 10): counters come
// out scattered, and still never repeat, so no event is a duplicate.
uint64_t Scatter(uint64_t counter) {
  constexpr uint64_t kIds = 10'000'000'000'000'000ull;  // 10^kMessageIdDigits
  return static_cast<uint64_t>(static_cast<unsigned __int128>(counter % kIds) * 2862933555777941757ull % kIds);
}

void PutDigits(char* at, uint64_t value, int width) {
  for (int i = width - 1; i >= 0; --i) {
    at[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
}

struct EventKind {
  const char* name;
  int weight;  // in a hundred
  const char* properties;
};

// The example policy's events, roughly as often as a shop sees them.
constexpr EventKind kKinds[] = {
    {"Page Viewed", 30, R"({"path":"/help/payment-methods","referrer":"https://www.example.com/"})"},
    {"Session Started", 15, R"({"path":"/","referrer":"https://search.example.org/?q=shoes"})"},
    {"Checkout Step Viewed", 20, R"({"step":"payment","path":"/checkout/payment","cart_items":3})"},
    {"Form Error", 10, R"({"field":"card_number","path":"/checkout/payment","message":"card declined"})"},
    {"Checkout Started", 9, R"({"order_id":"o-2026-118734","revenue":59.90,"path":"/checkout/cart"})"},
    {"Order Completed", 7, R"({"order_id":"o-2026-118734","revenue":59.90,"currency":"EUR"})"},
    {"Shipment Delayed", 3, R"({"order_id":"o-2026-117502","delay_days":3,"carrier":"acme-post"})"},
    {"Support Ticket Opened", 4, R"({"case_type":"billing","channel":"chat","priority":"normal"})"},
    {"CSAT Submitted", 2, R"({"score":4,"case_type":"billing","channel":"chat"})"},
};

const EventKind& PickKind(uint64_t r) {
  int roll = static_cast<int>(r % 100);
  for (const EventKind& k : kKinds) {
    if (roll < k.weight) return k;
    roll -= k.weight;
  }
  return kKinds[0];
}

uint64_t NextRandom(uint64_t& state) {  // xorshift64*
  state ^= state >> 12;
  state ^= state << 25;
  state ^= state >> 27;
  return state * 2685821657736338717ull;
}

BatchTemplate MakeTemplate(int batch, std::string_view key, uint64_t& random, size_t* event_bytes) {
  BatchTemplate t;
  std::string body = "{\"batch\":[";
  std::vector<size_t> message_ids, user_ids, timestamps;
  for (int i = 0; i < batch; ++i) {
    const EventKind& kind = PickKind(NextRandom(random));
    if (i > 0) body += ',';
    const size_t start = body.size();
    body += R"({"type":"track","messageId":"bench-)";
    message_ids.push_back(body.size());
    body.append(kMessageIdDigits, '0');
    body += R"(","userId":"customer-)";
    user_ids.push_back(body.size());
    body.append(kUserIdDigits, '0');
    body += R"(","event":")";
    body += kind.name;
    body += R"(","properties":)";
    body += kind.properties;
    body += R"(,"timestamp":")";
    timestamps.push_back(body.size());
    body.append(kTimestampChars, '0');
    body += R"(","context":{"timezone":"Europe/Madrid","locale":"es-ES","page":{"path":"/checkout/payment"}}})";
    *event_bytes += body.size() - start;
  }
  body += "]}";
  t.request = Request("POST", "/v1/batch", key, body);
  const size_t head = t.request.size() - body.size();
  for (size_t at : message_ids) t.message_ids.push_back(head + at);
  for (size_t at : user_ids) t.user_ids.push_back(head + at);
  for (size_t at : timestamps) t.timestamps.push_back(head + at);
  return t;
}

// Now, as an ISO-8601 UTC timestamp of exactly kTimestampChars characters.
void NowTimestamp(char out[kTimestampChars + 1]) {
  const auto now = std::chrono::system_clock::now();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  std::snprintf(out, kTimestampChars + 1, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
}

// --- the load ---

enum Phase : int { kWarmup, kMeasure, kStop };

struct Shared {
  std::atomic<int> phase{kWarmup};
  std::mutex mu;
  std::string error;  // the first failure; stops everyone
  void Fail(std::string e) {
    std::lock_guard lock(mu);
    if (error.empty()) error = std::move(e);
    phase = kStop;
  }
};

struct ConnectionResult {
  std::vector<float> latencies_ms;  // measured phase only
  std::vector<double> sent_s;       // when each was due or sent (steady clock, s)
  uint64_t requests = 0;
  uint64_t events = 0;
  uint64_t late = 0;
  uint64_t all_events = 0;  // warm-up included
  double cpu_seconds = 0;  // this thread's CPU during the measured phase
};

double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// CPU seconds the whole machine has spent busy (all processes), from /proc/stat.
double MachineBusySeconds() {
  unsigned long long user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
  if (FILE* f = std::fopen("/proc/stat", "r")) {
    if (std::fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &user, &nice, &system, &idle, &iowait, &irq,
                    &softirq, &steal) != 8) {
      user = nice = system = irq = softirq = steal = 0;
    }
    std::fclose(f);
  }
  return static_cast<double>(user + nice + system + irq + softirq + steal) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double ProcessCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& tv) { return static_cast<double>(tv.tv_sec) + tv.tv_usec * 1e-6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// With `interval` zero the connection sends its next request as soon as the
// last is answered (closed loop). Otherwise it sends one every `interval`,
// from `first` on, and a request's latency counts from when it was due, not
// from when it went out: a request held up behind a slow one waited too
// (wrk2's correction for coordinated omission).
void RunConnection(int index, int batch, uint16_t port, const std::string& key,
                   std::chrono::steady_clock::duration interval, std::chrono::steady_clock::time_point first,
                   Shared* shared, ConnectionResult* result, size_t* event_bytes) {
  uint64_t random = 0x9E3779B97F4A7C15ull * static_cast<uint64_t>(index + 1);
  std::vector<BatchTemplate> templates;
  for (int i = 0; i < kTemplatesPerConnection; ++i) templates.push_back(MakeTemplate(batch, key, random, event_bytes));
  Client client;
  if (std::string e = client.Connect(port); !e.empty()) return shared->Fail(e);
  // Unique across connections and requests: connection in the top digits.
  uint64_t next_message = static_cast<uint64_t>(index) * 1'000'000'000'000ull;
  char timestamp[kTimestampChars + 1];
  bool measuring = false;
  double cpu_start = 0;
  result->latencies_ms.reserve(batch == 1 ? 1 << 18 : 1 << 14);
  result->sent_s.reserve(result->latencies_ms.capacity());
  for (uint64_t n = 0;; ++n) {
    const int phase = shared->phase.load(std::memory_order_relaxed);
    if (phase == kStop) break;
    if (phase == kMeasure && !measuring) {
      measuring = true;
      cpu_start = ThreadCpuSeconds();
    }
    const auto due = first + static_cast<int64_t>(n) * interval;
    if (interval.count() > 0 && due > std::chrono::steady_clock::now()) std::this_thread::sleep_until(due);
    BatchTemplate& t = templates[n % templates.size()];
    NowTimestamp(timestamp);
    char* bytes = t.request.data();
    for (int i = 0; i < batch; ++i) {
      const uint64_t message = next_message++;
      PutDigits(bytes + t.message_ids[i], RandomMessageIds() ? Scatter(message) : message, kMessageIdDigits);
      PutDigits(bytes + t.user_ids[i], NextRandom(random) % kCustomers, kUserIdDigits);
      std::memcpy(bytes + t.timestamps[i], timestamp, kTimestampChars);
    }
    int status = 0;
    std::string_view body;
    const auto started = interval.count() > 0 ? due : std::chrono::steady_clock::now();
    std::string e = client.RoundTrip(t.request, &status, &body);
    const auto answered = std::chrono::steady_clock::now();
    if (!e.empty()) return shared->Fail(e);
    if (status != 200 || JsonNumber(body, "accepted") != batch) {
      return shared->Fail("POST /v1/batch answered " + std::to_string(status) + " " +
                          std::string(body.substr(0, 300)));
    }
    result->all_events += static_cast<uint64_t>(batch);
    if (measuring && shared->phase.load(std::memory_order_relaxed) == kMeasure) {
      result->latencies_ms.push_back(std::chrono::duration<float, std::milli>(answered - started).count());
      result->sent_s.push_back(std::chrono::duration<double>(started.time_since_epoch()).count());
      ++result->requests;
      result->events += static_cast<uint64_t>(batch);
      result->late += static_cast<uint64_t>(std::max(0ll, JsonNumber(body, "late")));
    }
  }
  if (measuring) result->cpu_seconds = ThreadCpuSeconds() - cpu_start;
}

class ScratchDir {
 public:
  explicit ScratchDir(const std::string& name)
      : path_(std::filesystem::temp_directory_path() /
              ("upfront-" + std::to_string(::getpid()) + "-" + name)) {
    std::filesystem::remove_all(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

// An ingest key, created over HTTP with the first admin key.
std::string CreateIngestKey(uint16_t port, const std::string& admin_key, std::string* error) {
  Client client;
  if (std::string e = client.Connect(port); !e.empty()) {
    *error = e;
    return "";
  }
  int status = 0;
  std::string_view body;
  std::string e = client.RoundTrip(Request("POST", "/v1/keys", admin_key, R"({"role":"ingest","name":"bench"})"),
                                   &status, &body);
  if (!e.empty() || status != 201) {
    *error = "POST /v1/keys: " + (e.empty() ? std::to_string(status) + " " + std::string(body) : e);
    return "";
  }
  return nlohmann::json::parse(body).value("secret", "");
}

// What the server's /metrics says about decisions: how many decision points
// the decision worker has processed, and how many wait for it. (Under load
// the scrape itself can take a second: it waits for the partitions.)
struct DecisionMetrics {
  double processed = 0;
  double waiting = 0;
  double ingest_waits = 0;  // requests that waited for the partitions (backpressure)
};

DecisionMetrics ScrapeDecisions(uint16_t port, const std::string& admin_key) {
  DecisionMetrics m;
  Client client;
  if (!client.Connect(port).empty()) return m;
  int status = 0;
  std::string_view body;
  if (!client.RoundTrip(Request("GET", "/metrics", admin_key, ""), &status, &body).empty() || status != 200) {
    return m;
  }
  while (!body.empty()) {
    const size_t end = body.find('\n');
    const std::string_view line = body.substr(0, end);
    const size_t space = line.rfind(' ');
    if (space != std::string_view::npos) {
      const double value = std::strtod(std::string(line.substr(space + 1)).c_str(), nullptr);
      if (line.starts_with("upfront_decision_points_total{")) m.processed += value;
      if (line.starts_with("upfront_queue_depth{queue=\"decisions\"}")) m.waiting = value;
      if (line.starts_with("upfront_ingest_backpressure_total ")) m.ingest_waits = value;
    }
    if (end == std::string_view::npos) break;
    body.remove_prefix(end + 1);
  }
  return m;
}

// The 1-minute load average: this machine is shared, and other work on its
// two cores shows in every figure here.
double LoadAverage() {
  double load = -1;
  if (FILE* f = std::fopen("/proc/loadavg", "r")) {
    if (std::fscanf(f, "%lf", &load) != 1) load = -1;
    std::fclose(f);
  }
  return load;
}

double Percentile(const std::vector<float>& sorted, double p) {
  if (sorted.empty()) return 0;
  const size_t i = std::min(sorted.size() - 1, static_cast<size_t>(p * static_cast<double>(sorted.size())));
  return sorted[i];
}

void BM_HttpIngest(benchmark::State& state) {
  const int batch = static_cast<int>(state.range(0));
  const int connections = static_cast<int>(state.range(1));
  const int64_t rate = state.range(2);  // events/s offered; 0: closed loop
  spdlog::set_level(spdlog::level::warn);
  ::setenv("UPFRONT_EMAIL_SECRET", kWebhookSecret, /*overwrite=*/0);

  const double load_before = LoadAverage();
  ScratchDir dir("http-load-" + std::to_string(batch) + "x" + std::to_string(connections));
  ServiceOptions options;
  options.data_dir = dir.path();
  options.policy_file = UPFRONT_SOURCE_DIR "/examples/ecommerce/policy.yaml";
  options.http.port = 0;
  options.sync = true;  // durable acknowledgements: what is being measured
  options.tick = true;
  options.deliver_webhooks = false;  // nobody listens on the policy's webhook URL
  auto started = Service::Start(options);
  if (!started.ok()) {
    state.SkipWithError(("cannot start the service: " + started.status().ToString()).c_str());
    return;
  }
  std::unique_ptr<Service> service = std::move(*started);
  std::string error;
  const std::string key = CreateIngestKey(service->port(), service->first_admin_key(), &error);
  if (key.empty()) {
    state.SkipWithError(("cannot create an ingest key: " + error).c_str());
    service->Stop();
    return;
  }

  Shared shared;
  std::vector<ConnectionResult> results(static_cast<size_t>(connections));
  std::vector<size_t> event_bytes(static_cast<size_t>(connections));
  double measured = 0, process_cpu = 0, machine_busy = 0, drain_seconds = 0;
  DecisionMetrics decisions_left, decisions_total;
  for (auto _ : state) {
    using Clock = std::chrono::steady_clock;
    const Clock::duration interval =
        rate > 0 ? std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(
                       static_cast<double>(batch) * connections / static_cast<double>(rate)))
                 : Clock::duration::zero();
    // Fixed rate: the connections take turns, evenly spread over an interval.
    const Clock::time_point first = Clock::now() + std::chrono::milliseconds(50);
    std::vector<std::thread> threads;
    for (int c = 0; c < connections; ++c) {
      threads.emplace_back(RunConnection, c, batch, service->port(), std::cref(key), interval,
                           first + interval * c / connections, &shared, &results[static_cast<size_t>(c)],
                           &event_bytes[static_cast<size_t>(c)]);
    }
    std::this_thread::sleep_for(std::chrono::duration<double>(kWarmupSeconds));
    const double cpu_start = ProcessCpuSeconds();
    const double machine_start = MachineBusySeconds();
    const auto measure_start = std::chrono::steady_clock::now();
    int expected = kWarmup;
    shared.phase.compare_exchange_strong(expected, kMeasure);
    std::this_thread::sleep_for(std::chrono::duration<double>(MeasuredSeconds()));
    expected = kMeasure;
    shared.phase.compare_exchange_strong(expected, kStop);
    measured = std::chrono::duration<double>(std::chrono::steady_clock::now() - measure_start).count();
    process_cpu = ProcessCpuSeconds() - cpu_start;
    machine_busy = MachineBusySeconds() - machine_start;
    for (auto& t : threads) t.join();
    // The decision worker runs behind the acknowledgements: what it still
    // had to do when the load stopped, and how long it took to catch up.
    decisions_left = ScrapeDecisions(service->port(), service->first_admin_key());
    const auto drain_start = std::chrono::steady_clock::now();
    if (absl::Status drained = service->Drain(); !drained.ok()) shared.Fail("drain: " + drained.ToString());
    drain_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - drain_start).count();
    decisions_total = ScrapeDecisions(service->port(), service->first_admin_key());
    state.SetIterationTime(measured);
  }
  service->Stop();
  if (!shared.error.empty()) {
    state.SkipWithError(shared.error.c_str());
    return;
  }

  std::vector<float> latencies;
  uint64_t requests = 0, events = 0, late = 0, all_events = 0;
  double loader_cpu = 0;
  size_t bytes = 0;
  for (size_t c = 0; c < results.size(); ++c) {
    latencies.insert(latencies.end(), results[c].latencies_ms.begin(), results[c].latencies_ms.end());
    requests += results[c].requests;
    events += results[c].events;
    late += results[c].late;
    all_events += results[c].all_events;
    loader_cpu += results[c].cpu_seconds;
    bytes += event_bytes[c];
  }
  if (requests == 0) {
    state.SkipWithError("no request was answered in the measured time");
    return;
  }
  if (const char* trace = std::getenv("HTTP_LOAD_TRACE")) {
    if (FILE* f = std::fopen(trace, "w"); f == nullptr) {
      spdlog::error("HTTP_LOAD_TRACE: cannot write {}", trace);
    } else {
      for (size_t c = 0; c < results.size(); ++c) {
        for (size_t i = 0; i < results[c].sent_s.size(); ++i) {
          std::fprintf(f, "%zu %.6f %.3f\n", c, results[c].sent_s[i], results[c].latencies_ms[i]);
        }
      }
      std::fclose(f);
    }
  }
  std::sort(latencies.begin(), latencies.end());
  state.counters["batch"] = batch;
  state.counters["conns"] = connections;
  state.counters["random_ids"] = RandomMessageIds() ? 1 : 0;
  state.counters["offered/s"] = static_cast<double>(rate);
  state.counters["events/s"] = static_cast<double>(events) / measured;
  state.counters["req/s"] = static_cast<double>(requests) / measured;
  state.counters["p50_ms"] = Percentile(latencies, 0.50);
  state.counters["p99_ms"] = Percentile(latencies, 0.99);
  state.counters["p999_ms"] = Percentile(latencies, 0.999);
  state.counters["max_ms"] = latencies.back();
  state.counters["late"] = static_cast<double>(late);
  state.counters["event_bytes"] =
      static_cast<double>(bytes) / static_cast<double>(kTemplatesPerConnection * batch * connections);
  state.counters["cpu_cores"] = process_cpu / measured;      // the whole process
  state.counters["loader_cores"] = loader_cpu / measured;    // of which the loader threads
  state.counters["load_before"] = load_before;
  // Cores other processes took meanwhile: figures with this well above 0
  // were measured on a busy machine.
  state.counters["other_cores"] = std::max(0.0, machine_busy - process_cpu) / measured;
  state.counters["decisions_waiting"] = decisions_left.waiting;
  state.counters["ingest_waits"] = decisions_left.ingest_waits;
  state.counters["drain_s"] = drain_seconds;
  state.counters["decisions/event"] = decisions_total.processed / static_cast<double>(all_events);
}

// A list of positive numbers from the environment variable `name`, or
// `fallback` when it is unset or holds none.
std::vector<int64_t> NumbersFromEnv(const char* name, std::vector<int64_t> fallback) {
  std::vector<int64_t> out;
  if (const char* list = std::getenv(name)) {
    for (const char* p = list; *p;) {
      char* end = nullptr;
      const long long n = std::strtoll(p, &end, 10);
      if (end == p) break;
      if (n > 0) out.push_back(n);
      p = *end == ',' ? end + 1 : end;
    }
  }
  return out.empty() ? fallback : out;
}

// Closed loops at HTTP_LOAD_CONNECTIONS, or what shows this machine (2 cores)
// best: 32 for single events; for batches of 100, 3 and 16 (throughput; in a
// closed loop the mean latency is at least connections / requests per
// second, ~10 ms here; 64 gave ~10% more events/s but p50 ~40 ms and p99
// 120-230 ms). Then, for batches of 100, fixed rates (HTTP_LOAD_RATES events/s,
// default the target's 150,000) over HTTP_LOAD_RATE_CONNECTIONS (default 16):
// the latency clients see at a given load, which is what the target asks.
[[maybe_unused]] const bool kRegistered = [] {
  auto* b = benchmark::RegisterBenchmark("BM_HttpIngest", BM_HttpIngest);
  b->ArgNames({"batch", "conns", "rate"});
  for (int64_t connections : NumbersFromEnv("HTTP_LOAD_CONNECTIONS", {32})) b->Args({1, connections, 0});
  for (int64_t connections : NumbersFromEnv("HTTP_LOAD_CONNECTIONS", {3, 16})) b->Args({100, connections, 0});
  for (int64_t rate : NumbersFromEnv("HTTP_LOAD_RATES", {150'000})) {
    for (int64_t connections : NumbersFromEnv("HTTP_LOAD_RATE_CONNECTIONS", {16})) {
      b->Args({100, connections, rate});
    }
  }
  b->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);
  return true;
}();

}  // namespace
}  // namespace upfront
