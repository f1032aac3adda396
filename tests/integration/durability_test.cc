// Kills a process mid-ingest with SIGKILL and checks that every event it had
// acknowledged is present after restart, in the log and in customer state.

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <set>
#include <string>

#include "src/store/store.h"
#include "src/testing/temp_dir.h"
#include "upfront/engine.h"

namespace upfront {
namespace {

constexpr const char* kPolicy = R"(
version: "durability"
events:
  keep_properties: [n]
  dedup_window: 1d
)";

std::shared_ptr<const Policy> TestPolicy() {
  return std::make_shared<Policy>(LoadPolicyText(kPolicy, "durability.yaml").value());
}

std::string Batch(int batch, int size) {
  std::string out;
  for (int i = 0; i < size; ++i) {
    int n = batch * size + i;
    out += R"({"type":"track","userId":"customer-)" + std::to_string(n % 7) +
           R"(","event":"Tick","messageId":"msg-)" + std::to_string(n) +
           R"(","timestamp":"2026-11-25T10:00:00Z","properties":{"n":)" + std::to_string(n) + "}}\n";
  }
  return out;
}

// The child: ingest batches forever, reporting each acknowledged batch.
[[noreturn]] void IngestUntilKilled(const std::string& dir, int write_fd) {
  EngineOptions options;
  options.data_dir = dir;
  options.policy = TestPolicy();
  options.partitions = 2;
  options.arrival = ArrivalClock::kEventTime;
  auto engine = Engine::Open(options);
  if (!engine.ok()) _exit(3);
  for (int batch = 0;; ++batch) {
    auto report = (*engine)->Ingest(Batch(batch, 50));
    if (!report.ok() || report->accepted != 50) _exit(4);
    std::string line = std::to_string(batch) + "\n";
    if (write(write_fd, line.data(), line.size()) < 0) _exit(5);
  }
}

TEST(Durability, EveryAcknowledgedEventSurvivesSigkill) {
  testing::TempDir dir;
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(fds[0]);
    IngestUntilKilled(dir.path(), fds[1]);
  }
  close(fds[1]);
  FILE* acks = fdopen(fds[0], "r");
  int last_acked = -1;
  char line[64];
  while (last_acked < 60 && std::fgets(line, sizeof line, acks)) last_acked = std::atoi(line);
  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  fclose(acks);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child exited on its own with " << WEXITSTATUS(status);
  ASSERT_GE(last_acked, 60);
  const int acked_events = (last_acked + 1) * 50;

  // Restart: recovery replays the log into state.
  int64_t events_in_state = 0;
  {
    EngineOptions options;
    options.data_dir = dir.path();
    options.policy = TestPolicy();
    auto engine = Engine::Open(options);
    ASSERT_TRUE(engine.ok()) << engine.status();
    for (int c = 0; c < 7; ++c) {
      auto json = (*engine)->ProfileJson("customer-" + std::to_string(c));
      ASSERT_TRUE(json.ok()) << json.status();
      events_in_state += nlohmann::json::parse(*json)["events"].get<int64_t>();
    }
  }
  std::set<std::string> logged;
  {
    auto store = OpenRocksDbStore(dir.path() + "/db", {});
    ASSERT_TRUE(store.ok()) << store.status();
    ASSERT_TRUE((*store)->ScanLog(0, [&](const LogRecord& r) {
      logged.emplace(r.message_id);
      return true;
    }).ok());
  }
  for (int n = 0; n < acked_events; ++n) {
    ASSERT_TRUE(logged.count("msg-" + std::to_string(n))) << "acknowledged event msg-" << n << " was lost";
  }
  // State holds exactly what the log holds: nothing lost, nothing applied twice.
  EXPECT_EQ(events_in_state, static_cast<int64_t>(logged.size()));
}

}  // namespace
}  // namespace upfront
