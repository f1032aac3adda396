// `upfront report` (apps/upfront/report_command.cc) on the shipped
// e-commerce example: ingest, then the page, the JSON and the summary.

#include "apps/upfront/report_command.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "src/testing/temp_dir.h"
#include "upfront/engine.h"

namespace upfront {
namespace {

using ::testing::HasSubstr;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class ReportCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string root = UPFRONT_SOURCE_DIR;
    absl::StatusOr<Policy> policy = LoadPolicyFile(root + "/examples/ecommerce/policy.yaml");
    ASSERT_TRUE(policy.ok()) << policy.status();
    policy_ = *std::move(policy);
    EngineOptions options;
    options.data_dir = dir_.file("data");
    options.policy = std::make_shared<Policy>(policy_);
    options.arrival = ArrivalClock::kEventTime;
    options.sync = false;
    auto engine = Engine::Open(options);
    ASSERT_TRUE(engine.ok()) << engine.status();
    auto report = (*engine)->Ingest(ReadAll(root + "/examples/ecommerce/events.jsonl"));
    ASSERT_TRUE(report.ok()) << report.status();
    ASSERT_GT(report->accepted, 10u);
    ASSERT_TRUE((*engine)->Flush().ok());
  }

  testing::TempDir dir_;
  Policy policy_;
};

TEST_F(ReportCommandTest, WritesThePageAndPrintsTheSummary) {
  ReportCommand command;
  command.data_dir = dir_.file("data");
  command.out = dir_.file("report.html");
  command.window = "all";
  ::testing::internal::CaptureStdout();
  ::testing::internal::CaptureStderr();
  const int status = RunReport(command, policy_);
  const std::string out = ::testing::internal::GetCapturedStdout();
  const std::string err = ::testing::internal::GetCapturedStderr();
  ASSERT_EQ(status, 0) << err;
  EXPECT_THAT(out, HasSubstr("customers were active"));
  EXPECT_EQ(err, "") << "no progress when stderr is not a terminal";
  const std::string html = ReadAll(command.out);
  EXPECT_THAT(html, HasSubstr("<svg"));
  EXPECT_THAT(html, HasSubstr("CSAT"));
  EXPECT_THAT(html, HasSubstr("checkout_help"));
}

TEST_F(ReportCommandTest, JsonGoesToStdoutWithTheSummaryOnStderr) {
  ReportCommand command;
  command.data_dir = dir_.file("data");
  command.json = true;
  command.window = "all";
  command.adjust = "bh";
  command.sequential = true;
  ::testing::internal::CaptureStdout();
  ::testing::internal::CaptureStderr();
  ASSERT_EQ(RunReport(command, policy_), 0);
  const std::string out = ::testing::internal::GetCapturedStdout();
  const std::string err = ::testing::internal::GetCapturedStderr();
  const nlohmann::json card = nlohmann::json::parse(out, nullptr, false);
  ASSERT_FALSE(card.is_discarded()) << out.substr(0, 200);
  EXPECT_EQ(card["schema"], "upfront.scorecard/1");
  EXPECT_EQ(card["options"]["adjustment"], "benjamini_hochberg");
  EXPECT_TRUE(card["options"]["sequential"].get<bool>());
  EXPECT_GT(card["input"]["events"].get<int>(), 0);
  EXPECT_THAT(err, HasSubstr("customers were active"));
}

TEST_F(ReportCommandTest, BadOptionsAreNamed) {
  ReportCommand command;
  command.data_dir = dir_.file("data");
  command.from = "yesterday";
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(RunReport(command, policy_), 2);
  EXPECT_THAT(::testing::internal::GetCapturedStderr(), HasSubstr("--from: 'yesterday'"));
  command.from.clear();
  command.window = "fortnight";
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(RunReport(command, policy_), 2);
  EXPECT_THAT(::testing::internal::GetCapturedStderr(), HasSubstr("two-weeks, month or all"));
  command.window = "month";
  command.out = dir_.file("no/such/dir/report.html");
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(RunReport(command, policy_), 2);
  EXPECT_THAT(::testing::internal::GetCapturedStderr(), HasSubstr("cannot write"));
}

}  // namespace
}  // namespace upfront
