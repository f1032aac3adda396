// Ingest waits when the partitions fall behind: acknowledged events are held
// in memory until their partition applies them, and that backlog is bounded.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "src/common/manual_clock.h"
#include "src/testing/temp_dir.h"
#include "upfront/engine.h"

namespace upfront {
namespace {

constexpr char kPolicy[] = R"(version: backpressure-test
signals:
  risk: {half_life: 7d, inputs: [{event: "Usage Dropped"}]}
channels:
  email: {}
templates:
  mail: {text: "Here is what is new."}
interventions:
  save:
    when: 'signals.risk.score >= 0.5'
    ladder:
      - {channel: email, template: mail}
)";

std::string Batch(const std::string& customer, int first, int count) {
  nlohmann::json batch = nlohmann::json::array();
  for (int i = first; i < first + count; ++i) {
    batch.push_back({{"type", "track"}, {"userId", customer}, {"event", "Usage Dropped"},
                     {"timestamp", "2026-11-25T10:00:00Z"}, {"messageId", "m" + std::to_string(i)}});
  }
  return nlohmann::json{{"batch", batch}}.dump();
}

class BackpressureTest : public ::testing::Test {
 protected:
  void Open(uint64_t max_events_applying) {
    EngineOptions options;
    options.data_dir = dir_.path();
    options.policy = std::make_shared<Policy>(LoadPolicyText(kPolicy, "test.yaml").value());
    options.partitions = 1;
    options.clock = &clock_;
    options.arrival = ArrivalClock::kEventTime;
    options.max_events_applying = max_events_applying;
    // The partition stops at its first decision until the test lets it go.
    options.on_decision = [this](std::string_view) {
      std::unique_lock lock(mu_);
      deciding_ = true;
      cv_.notify_all();
      cv_.wait(lock, [&] { return !hold_; });
    };
    engine_ = Engine::Open(options).value();
  }
  void AwaitPartitionStuck() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return deciding_; });
  }
  void Release() {
    std::lock_guard lock(mu_);
    hold_ = false;
    cv_.notify_all();
  }
  // Spins (no sleeping) until `done` holds; false after 30 s.
  template <typename F>
  static bool Eventually(F done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::yield();
    }
    return true;
  }

  testing::TempDir dir_;
  ManualClock clock_{1'800'000'000'000'000};
  std::mutex mu_;
  std::condition_variable cv_;
  bool hold_ = true;
  bool deciding_ = false;
  std::unique_ptr<Engine> engine_;
};

TEST_F(BackpressureTest, IngestWaitsWhileThePartitionsAreBehindThenTakesTheBatch) {
  Open(/*max_events_applying=*/4);
  auto first = engine_->Ingest(Batch("u1", 0, 4));
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->accepted, 4u) << "acknowledged while the partition is still behind";
  AwaitPartitionStuck();
  EXPECT_EQ(engine_->Stats().events_applying, 4u);

  std::atomic<bool> second_done{false};
  absl::StatusOr<IngestReport> second = absl::UnknownError("not run");
  std::thread client([&] {
    second = engine_->Ingest(Batch("u2", 4, 2));
    second_done = true;
  });
  ASSERT_TRUE(Eventually([&] { return engine_->Stats().ingest_waits == 1; }));
  EXPECT_FALSE(second_done) << "the batch waits for room";
  EXPECT_EQ(engine_->Stats().last_seq, 4u) << "and is not accepted meanwhile";

  Release();
  client.join();
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->accepted, 2u);
  ASSERT_TRUE(engine_->Flush().ok());
  const EngineStats stats = engine_->Stats();
  EXPECT_EQ(stats.events_applying, 0u);
  EXPECT_EQ(stats.accepted, 6u);
  EXPECT_EQ(stats.ingest_waits, 1u);
  EXPECT_TRUE(engine_->ProfileJson("u2").ok()) << "the waiting batch was applied";
}

TEST_F(BackpressureTest, WithoutALimitNothingWaits) {
  Open(/*max_events_applying=*/0);
  ASSERT_TRUE(engine_->Ingest(Batch("u1", 0, 4)).ok());
  AwaitPartitionStuck();
  auto second = engine_->Ingest(Batch("u2", 4, 50));
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->accepted, 50u);
  EXPECT_EQ(engine_->Stats().events_applying, 54u);
  EXPECT_EQ(engine_->Stats().ingest_waits, 0u);
  Release();
  ASSERT_TRUE(engine_->Flush().ok());
  EXPECT_EQ(engine_->Stats().events_applying, 0u);
}

}  // namespace
}  // namespace upfront
