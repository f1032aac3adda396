// The human review queue through the engine: sensitive help waits for an
// agent, who approves (with an edit) or rejects; items lapse; every answer
// is in the audit trail.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <mutex>
#include <nlohmann/json.hpp>

#include "src/common/manual_clock.h"
#include "src/common/time_format.h"
#include "src/testing/temp_dir.h"
#include "upfront/engine.h"

namespace upfront {
namespace {

constexpr char kPolicy[] = R"(version: review-test
signals:
  risk: {half_life: 7d, inputs: [{event: "Usage Dropped"}]}
channels:
  agent: {queue: outreach}
  email: {}
templates:
  call: {text: "Offer a short call to review their setup."}
  mail: {text: "Here is what is new."}
interventions:
  save:
    when: 'signals.risk.score >= 0.5'
    sensitive: true
    ladder:
      - {channel: agent, template: call}
      - {channel: email, template: mail, after: 1d}
)";

class ReviewTest : public ::testing::Test {
 protected:
  void SetUp() override {
    EngineOptions options;
    options.data_dir = dir_.path();
    options.policy = std::make_shared<Policy>(LoadPolicyText(kPolicy, "p.yaml").value());
    options.partitions = 2;
    options.clock = &clock_;
    options.arrival = ArrivalClock::kEventTime;
    options.on_decision = [this](std::string_view json) {
      std::lock_guard lock(mu_);
      decisions_.push_back(nlohmann::json::parse(json));
    };
    options.await_decisions_durable = [this] {
      std::lock_guard lock(mu_);
      awaited_at_.push_back(decisions_.size());
      return absl::OkStatus();
    };
    engine_ = Engine::Open(options).value();
  }
  void Event(const std::string& customer, const std::string& name, const std::string& at) {
    const nlohmann::json e = {{"type", "track"}, {"userId", customer}, {"event", name},
                              {"timestamp", at}, {"messageId", customer + name + at}};
    ASSERT_TRUE(engine_->Ingest(e.dump()).ok());
    ASSERT_TRUE(engine_->Flush().ok());
  }
  nlohmann::json Items(const std::string& status) {
    return nlohmann::json::parse(engine_->ReviewItems(status, 100).value());
  }
  std::vector<nlohmann::json> Decisions(const std::string& customer) {
    std::lock_guard lock(mu_);
    std::vector<nlohmann::json> out;
    for (const auto& d : decisions_) {
      if (d["customer"] == customer) out.push_back(d);
    }
    return out;
  }

  testing::TempDir dir_;
  ManualClock clock_{1'800'000'000'000'000};
  std::mutex mu_;
  std::vector<nlohmann::json> decisions_;
  std::vector<size_t> awaited_at_;  // decisions told when the engine waited for durability
  std::unique_ptr<Engine> engine_;
};

TEST_F(ReviewTest, TheEngineWaitsForTheListenerBeforeACheckpointCoversItsDecisionsAndAfterAnApproval) {
  Event("u1", "Usage Dropped", "2026-11-25T10:00:00Z");  // a review decision, then a checkpoint
  {
    std::lock_guard lock(mu_);
    ASSERT_EQ(awaited_at_, std::vector<size_t>{1});
  }
  ASSERT_TRUE(engine_->Flush().ok());
  {
    std::lock_guard lock(mu_);
    EXPECT_EQ(awaited_at_.size(), 1u) << "nothing new told, no wait";
  }
  ReviewAnswer answer;
  answer.approve = true;
  answer.agent = "ana";
  answer.at = *ParseTimestamp("2026-11-25T10:30:00Z");
  const std::string id = Items("pending")[0]["review_id"];
  ASSERT_TRUE(engine_->AnswerReview(id, answer).ok());
  std::lock_guard lock(mu_);
  EXPECT_EQ(awaited_at_, (std::vector<size_t>{1, 2})) << "the approved delivery is durable before the item says so";
}

TEST_F(ReviewTest, AnApprovedEditIsWhatGetsDelivered) {
  Event("u1", "Usage Dropped", "2026-11-25T10:00:00Z");
  nlohmann::json pending = Items("pending");
  ASSERT_EQ(pending.size(), 1u);
  const std::string id = pending[0]["review_id"];
  EXPECT_EQ(pending[0]["customer"], "u1");
  EXPECT_EQ(pending[0]["message"], "Offer a short call to review their setup.");
  EXPECT_EQ(pending[0]["evidence"]["risk"]["count"], 1);
  ASSERT_EQ(Decisions("u1").size(), 1u);
  EXPECT_EQ(Decisions("u1")[0]["action"], "review");

  ReviewAnswer answer;
  answer.approve = true;
  answer.agent = "ana";
  answer.message = "Call Maria about the new dashboard.";
  answer.at = *ParseTimestamp("2026-11-25T10:30:00Z");
  nlohmann::json item = nlohmann::json::parse(engine_->AnswerReview(id, answer).value());
  EXPECT_EQ(item["status"], "approved");
  EXPECT_EQ(item["suggested_message"], "Offer a short call to review their setup.");

  const auto decisions = Decisions("u1");
  ASSERT_EQ(decisions.size(), 2u);
  EXPECT_EQ(decisions[1]["action"], "deliver");
  EXPECT_EQ(decisions[1]["message"], "Call Maria about the new dashboard.");
  EXPECT_EQ(decisions[1]["approved_by"], "ana");
  EXPECT_EQ(decisions[1]["trigger"]["review_id"], id);

  // Answered once only; the audit trail has it.
  EXPECT_EQ(engine_->AnswerReview(id, answer).status().code(), absl::StatusCode::kFailedPrecondition);
  nlohmann::json audit = nlohmann::json::parse(engine_->AuditTrail(10).value());
  ASSERT_EQ(audit.size(), 1u);
  EXPECT_EQ(audit[0]["agent"], "ana");
  EXPECT_EQ(audit[0]["action"], "approve");
  EXPECT_TRUE(audit[0]["edited"].get<bool>());

  // The ladder goes on from the approved delivery: the next step is reviewed too.
  ASSERT_TRUE(engine_->AdvanceClock(*ParseTimestamp("2026-11-26T11:00:00Z")).ok());
  ASSERT_TRUE(engine_->Flush().ok());
  EXPECT_EQ(Items("pending").size(), 1u);
  EXPECT_EQ(Items("pending")[0]["step"], 1);
}

TEST_F(ReviewTest, ARejectionNeedsAReasonAndEndsTheEpisode) {
  Event("u2", "Usage Dropped", "2026-11-25T10:00:00Z");
  const std::string id = Items("pending")[0]["review_id"];
  ReviewAnswer answer;
  answer.agent = "ben";
  EXPECT_EQ(engine_->AnswerReview(id, answer).status().code(), absl::StatusCode::kInvalidArgument);
  answer.reason = "customer is mid-migration; a call would annoy";
  nlohmann::json item = nlohmann::json::parse(engine_->AnswerReview(id, answer).value());
  EXPECT_EQ(item["status"], "rejected");
  EXPECT_EQ(item["reason"], "customer is mid-migration; a call would annoy");
  Event("u2", "Usage Dropped", "2026-11-25T12:00:00Z");
  EXPECT_EQ(Decisions("u2").back()["blocked"][0]["reason"], "rejected_in_review");
  EXPECT_TRUE(Items("pending").empty());
}

TEST_F(ReviewTest, UnansweredItemsLapse) {
  Event("u3", "Usage Dropped", "2026-11-25T10:00:00Z");
  const std::string id = Items("pending")[0]["review_id"];
  ASSERT_TRUE(engine_->AdvanceClock(*ParseTimestamp("2026-11-26T10:00:01Z")).ok());
  ASSERT_TRUE(engine_->Flush().ok());
  nlohmann::json expired = Items("expired");
  ASSERT_GE(expired.size(), 1u);
  EXPECT_EQ(expired[0]["review_id"], id);
  ReviewAnswer late;
  late.approve = true;
  late.agent = "ana";
  EXPECT_EQ(engine_->AnswerReview(id, late).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(engine_->AnswerReview("nope", late).status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace upfront
