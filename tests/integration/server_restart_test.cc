// `upfront serve` killed with SIGKILL while a client streams events and the
// webhook receiver is failing. After a restart every acknowledged event is
// there and every outbox item is delivered exactly once per webhook-id.
// Also: SIGTERM stops the server gracefully.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "src/common/time_format.h"
#include "src/testing/http_client.h"
#include "src/testing/temp_dir.h"
#include "src/testing/webhook_receiver.h"

namespace upfront {
namespace {

using Json = nlohmann::json;
using testing::Answer;
using testing::HttpClient;
using testing::HttpResult;

std::string Read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Waits for `ready` to hold, checking every 20 ms, for at most `seconds`.
template <typename Ready>
bool WaitUntil(Ready ready, int seconds = 60) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (!ready()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

// The real binary in a child process; its output goes to a log file.
class Server {
 public:
  Server(const std::string& data, const std::string& policy, const std::string& log) : log_(log) {
    pid_ = fork();
    if (pid_ == 0) {
      const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      dup2(fd, 1);
      dup2(fd, 2);
      execl(UPFRONT_BINARY, "upfront", "serve", "--data", data.c_str(), "--policy", policy.c_str(), "--listen",
            "127.0.0.1:0", "--partitions", "2", static_cast<char*>(nullptr));
      _exit(127);
    }
    const std::regex serving("on http://127\\.0\\.0\\.1:([0-9]+)");
    WaitUntil([&] {
      std::smatch m;
      const std::string text = Read(log_);
      if (!std::regex_search(text, m, serving)) return false;
      port_ = static_cast<uint16_t>(std::stoi(m[1]));
      return true;
    });
    std::smatch key;
    const std::string text = Read(log_);
    if (std::regex_search(text, key, std::regex("shown only now:\\n  ([A-Za-z0-9_]+)"))) admin_key_ = key[1];
  }
  ~Server() {
    if (pid_ > 0) Stop(SIGKILL);
  }
  // Sends `signal` and returns the exit status (-1 when killed by a signal).
  int Stop(int signal) {
    kill(pid_, signal);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }
  const std::string& admin_key() const { return admin_key_; }
  std::string log() const { return Read(log_); }

 private:
  std::string log_;
  pid_t pid_ = -1;
  uint16_t port_ = 0;
  std::string admin_key_;
};

// Runs the CLI; stdout and stderr together.
std::string Upfront(const std::string& args, int* status) {
  FILE* pipe = popen((std::string(UPFRONT_BINARY) + " " + args + " 2>&1").c_str(), "r");
  std::string out;
  char buffer[4096];
  for (size_t n; (n = fread(buffer, 1, sizeof buffer, pipe)) > 0;) out.append(buffer, n);
  const int raw = pclose(pipe);
  *status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  return out;
}

class ServerRestartTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string policy = Read(std::string(UPFRONT_SOURCE_DIR) + "/src/server/http/testdata/service_policy.yaml");
    policy.replace(policy.find("WEBHOOK_URL"), 11, receiver_.Url("/hooks/email"));
    // Email straight away: every late shipment is one webhook.
    const std::string ladder = "      - {channel: in_app, template: delay_notice}\n"
                               "      - {channel: email, template: delay_email, after: 2h}\n";
    policy.replace(policy.find(ladder), ladder.size(), "      - {channel: email, template: delay_email}\n");
    // The server runs on the wall clock: without this, from 21:00 to 08:00
    // UTC every email would wait for the policy's quiet hours to end.
    const std::string quiet = "  quiet_hours: {start: \"21:00\", end: \"08:00\"}\n";
    policy.erase(policy.find(quiet), quiet.size());
    std::ofstream(dir_.file("policy.yaml")) << policy;
  }

  static std::string EventsFor(int customer) {
    const std::string id = "c-" + std::to_string(customer);
    const std::string now = FormatTimestamp(SystemClock().Now());
    return Json{{"type", "identify"}, {"userId", id}, {"messageId", id + "-i"}, {"timestamp", now},
                {"traits", {{"email_opt_in", true}}}}
               .dump() +
           "," +
           Json{{"type", "track"}, {"userId", id}, {"event", "Shipment Delayed"}, {"messageId", id + "-d"},
                {"timestamp", now}, {"properties", {{"delay_days", 3}}}}
               .dump();
  }

  testing::TempDir dir_;
  testing::Receiver receiver_;
};

TEST_F(ServerRestartTest, AfterSigkillEveryAcknowledgedEventIsThereAndEveryWebhookIsDeliveredOncePerId) {
  receiver_.Script({}, Answer(503));
  auto server = std::make_unique<Server>(dir_.file("data"), dir_.file("policy.yaml"), dir_.file("serve1.log"));
  ASSERT_NE(server->port(), 0) << server->log();
  const std::string admin = server->admin_key();
  ASSERT_FALSE(admin.empty()) << server->log();

  // A client streams batches of 5 customers until the server dies.
  std::atomic<int> acked_batches{0};
  std::vector<int> acked;  // customers whose events were acknowledged
  std::thread client([&, port = server->port()] {
    HttpClient http(port);
    for (int batch = 0;; ++batch) {
      std::string body = "{\"batch\":[";
      for (int i = 0; i < 5; ++i) body += (i ? "," : "") + EventsFor(batch * 5 + i);
      body += "]}";
      HttpResult r = http.Post("/v1/batch", body, admin);
      if (r.status != 200) return;  // the server is gone
      const Json report = r.Json();
      if (!report.is_object() || report["accepted"] != 10) {
        ADD_FAILURE() << "batch " << batch << ": " << r.body;
        return;
      }
      for (int i = 0; i < 5; ++i) acked.push_back(batch * 5 + i);
      ++acked_batches;
    }
  });
  ASSERT_TRUE(WaitUntil([&] { return acked_batches >= 40 && receiver_.requests().size() >= 3; }))
      << server->log();
  EXPECT_EQ(server->Stop(SIGKILL), -1);
  client.join();
  const size_t failed_requests = receiver_.requests().size();
  ASSERT_GE(acked.size(), 200u);

  // Back up, with a receiver that now answers 200.
  receiver_.Script({}, Answer(200));
  server = std::make_unique<Server>(dir_.file("data"), dir_.file("policy.yaml"), dir_.file("serve2.log"));
  ASSERT_NE(server->port(), 0) << server->log();
  EXPECT_EQ(server->admin_key(), "") << "the key from before still holds";
  HttpClient http(server->port());

  std::set<std::string> expected_ids;
  for (int customer : acked) {
    const std::string id = "c-" + std::to_string(customer);
    HttpResult profile = http.Get("/v1/customers/" + id, admin);
    ASSERT_EQ(profile.status, 200) << id << " was acknowledged";
    EXPECT_EQ(profile.Json()["eventCounts"]["Shipment Delayed"], 1) << id;
    EXPECT_EQ(profile.Json()["events"], 2) << id;
  }
  ASSERT_TRUE(WaitUntil([&] {
    HttpResult pending = http.Get("/v1/webhooks?status=pending&limit=100000", admin);
    return pending.status == 200 && pending.Json().empty();
  })) << "webhooks still pending: " << http.Get("/v1/webhooks?status=pending", admin).body;
  for (int customer : acked) {
    const std::string id = "c-" + std::to_string(customer);
    Json decisions = http.Get("/v1/customers/" + id + "/decisions", admin).Json();
    ASSERT_EQ(decisions.size(), 1u) << id << ": " << decisions.dump();
    EXPECT_EQ(decisions[0]["channel"], "email");
    expected_ids.insert("msg_" + decisions[0]["decision_id"].get<std::string>());
  }

  std::map<std::string, int> delivered;  // webhook-id -> 200 answers
  const std::vector<testing::Received> requests = receiver_.requests();
  for (size_t i = failed_requests; i < requests.size(); ++i) ++delivered[requests[i].header("webhook-id")];
  for (const std::string& id : expected_ids) EXPECT_EQ(delivered[id], 1) << id;
  for (const auto& [id, n] : delivered) EXPECT_EQ(n, 1) << id << " delivered more than once";
  EXPECT_EQ(http.Get("/v1/webhooks?status=dead", admin).Json().size(), 0u);
  EXPECT_EQ(http.Get("/v1/audit/verify", admin).Json()["ok"], true);
  EXPECT_EQ(server->Stop(SIGTERM), 0) << server->log();
}

TEST_F(ServerRestartTest, SigtermAnswersTheRequestInFlightFlushesAndExitsCleanly) {
  receiver_.Script({}, Answer(200));
  auto server = std::make_unique<Server>(dir_.file("data"), dir_.file("policy.yaml"), dir_.file("serve.log"));
  ASSERT_NE(server->port(), 0) << server->log();
  const std::string admin = server->admin_key();
  HttpClient http(server->port());
  ASSERT_EQ(http.Post("/v1/batch", "{\"batch\":[" + EventsFor(1) + "]}", admin).status, 200);
  EXPECT_EQ(server->Stop(SIGTERM), 0);
  const std::string log = server->log();
  EXPECT_THAT(log, ::testing::HasSubstr("SIGTERM: finishing requests in flight and flushing"));
  EXPECT_THAT(log, ::testing::HasSubstr("upfront: stopped"));

  server = std::make_unique<Server>(dir_.file("data"), dir_.file("policy.yaml"), dir_.file("serve2.log"));
  HttpClient again(server->port());
  EXPECT_EQ(again.Get("/v1/customers/c-1", admin).Json()["events"], 2);
}

// The environment of the program that runs now (after a re-exec, the new
// one), a line per variable, each line ending in a newline and starting after one.
std::string EnvironmentOf(pid_t pid) {
  std::string environ = "\n" + Read("/proc/" + std::to_string(pid) + "/environ");
  std::replace(environ.begin(), environ.end(), '\0', '\n');
  return environ;
}

TEST_F(ServerRestartTest, ServeAsksForAHugePageHeapUnlessTheEnvironmentSaysOtherwise) {
  if (std::getenv("GLIBC_TUNABLES") != nullptr || std::getenv("UPFRONT_HUGE_PAGES") != nullptr) {
    GTEST_SKIP() << "the test's own environment already decides";
  }
  auto server = std::make_unique<Server>(dir_.file("data"), dir_.file("policy.yaml"), dir_.file("serve.log"));
  ASSERT_NE(server->port(), 0) << server->log();
  EXPECT_THAT(EnvironmentOf(server->pid()), ::testing::HasSubstr("\nGLIBC_TUNABLES=glibc.malloc.hugetlb=1\n"));
  EXPECT_EQ(server->Stop(SIGTERM), 0);

  setenv("UPFRONT_HUGE_PAGES", "0", 1);  // read by the child only
  server = std::make_unique<Server>(dir_.file("data"), dir_.file("policy.yaml"), dir_.file("serve2.log"));
  unsetenv("UPFRONT_HUGE_PAGES");
  ASSERT_NE(server->port(), 0) << server->log();
  EXPECT_THAT(EnvironmentOf(server->pid()), ::testing::Not(::testing::HasSubstr("GLIBC_TUNABLES")));
}

TEST_F(ServerRestartTest, DeadLettersAreListedAndReplayedFromTheCommandLine) {
  receiver_.Script({}, Answer(410));
  auto server = std::make_unique<Server>(dir_.file("data"), dir_.file("policy.yaml"), dir_.file("serve.log"));
  const std::string admin = server->admin_key();
  HttpClient http(server->port());
  ASSERT_EQ(http.Post("/v1/batch", "{\"batch\":[" + EventsFor(1) + "]}", admin).status, 200);
  ASSERT_TRUE(WaitUntil([&] { return http.Get("/v1/webhooks?status=dead", admin).Json().size() == 1; }));
  int status = 0;
  EXPECT_THAT(Upfront("webhooks list --data " + dir_.file("data"), &status),
              ::testing::HasSubstr("in use by a running server"));
  EXPECT_EQ(status, 1);
  ASSERT_EQ(server->Stop(SIGTERM), 0);

  std::string out = Upfront("webhooks list --data " + dir_.file("data") + " --status dead", &status);
  EXPECT_EQ(status, 0) << out;
  EXPECT_THAT(out, ::testing::HasSubstr("HTTP 410 Gone"));
  EXPECT_THAT(out, ::testing::HasSubstr("1 shown; 0 pending, 1 dead-lettered"));
  out = Upfront("webhooks replay --data " + dir_.file("data") + " --id msg_nope", &status);
  EXPECT_EQ(status, 1) << out;
  out = Upfront("webhooks replay --data " + dir_.file("data"), &status);
  EXPECT_EQ(status, 0) << out;
  EXPECT_THAT(out, ::testing::HasSubstr("replayed 1 dead letter;"));

  receiver_.Script({}, Answer(200));
  const size_t before = receiver_.requests().size();
  server = std::make_unique<Server>(dir_.file("data"), dir_.file("policy.yaml"), dir_.file("serve2.log"));
  HttpClient again(server->port());
  ASSERT_TRUE(WaitUntil([&] { return again.Get("/v1/webhooks?status=delivered", admin).Json().size() == 1; }))
      << server->log();
  EXPECT_EQ(receiver_.requests().size(), before + 1);
}

TEST_F(ServerRestartTest, SendStreamsAnEventsFileLiveAndSaysWhatLanded) {
  receiver_.Script({}, Answer(200));
  auto server = std::make_unique<Server>(dir_.file("data"), dir_.file("policy.yaml"), dir_.file("serve.log"));
  HttpClient http(server->port());
  const std::string key = http.Post("/v1/keys", R"({"role":"ingest","name":"loader"})", server->admin_key()).Json()["secret"];
  std::ofstream events(dir_.file("events.jsonl"));
  for (int c = 0; c < 50; ++c) {
    events << Json{{"type", "track"}, {"userId", "s-" + std::to_string(c)}, {"event", "Shipment Delayed"},
                   {"messageId", "s-" + std::to_string(c)}, {"timestamp", "2026-01-01T00:00:00Z"},
                   {"properties", {{"delay_days", 3}}}}.dump()
           << "\n";
  }
  events << "{not json\n";
  events << Json{{"type", "track"}, {"event", "No One"}, {"messageId", "x"}}.dump() << "\n";
  events.close();
  int status = 0;
  const std::string url = "http://127.0.0.1:" + std::to_string(server->port());
  std::string out = Upfront("send " + dir_.file("events.jsonl") + " --url " + url + " --key " + key +
                                " --live --batch 20",
                            &status);
  EXPECT_EQ(status, 0) << out;
  EXPECT_THAT(out, ::testing::HasSubstr("events.jsonl:51: not sent: not valid JSON"));
  EXPECT_THAT(out, ::testing::HasSubstr("sent 51 events"));
  EXPECT_THAT(out, ::testing::HasSubstr("50 accepted, 1 rejected, 0 failed requests; 1 unreadable lines not sent"));
  EXPECT_THAT(out, ::testing::HasSubstr("first problem: " + dir_.file("events.jsonl") + ":52: field userId: needs"));
  // Re-stamped as live traffic: not late, so each is a decision point.
  EXPECT_TRUE(WaitUntil([&] { return http.Get("/v1/customers/s-7/decisions", server->admin_key()).Json().size() == 1; }));
  out = Upfront("send " + dir_.file("events.jsonl") + " --url " + url + " --key wrong", &status);
  EXPECT_EQ(status, 1);
  EXPECT_THAT(out, ::testing::HasSubstr("HTTP 401"));
}

}  // namespace
}  // namespace upfront
