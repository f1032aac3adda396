// The `upfront` command as a user runs it: exit statuses, what it prints,
// and the files it writes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "src/testing/temp_dir.h"

namespace upfront {
namespace {

using ::testing::HasSubstr;

struct CliRun {
  int status = -1;
  std::string out;  // stdout and stderr together
};

CliRun Upfront(const std::string& args) {
  const std::string command = std::string(UPFRONT_BINARY) + " " + args + " 2>&1";
  CliRun run;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return run;
  std::array<char, 4096> buffer;
  size_t n;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) run.out.append(buffer.data(), n);
  const int raw = pclose(pipe);
  run.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  return run;
}

std::string Example(const std::string& path) { return std::string(UPFRONT_SOURCE_DIR) + "/examples/" + path; }

std::string Read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(Cli, CheckNamesEveryErrorWithItsLineAndFailsWithStatusOne) {
  testing::TempDir dir;
  const std::string policy = dir.path() + "/bad.yaml";
  std::ofstream(policy) << "version: v1\nsegments:\n  older: 'traits.age > 60'\n";
  const CliRun run = Upfront("check " + policy);
  EXPECT_EQ(run.status, 1);
  EXPECT_THAT(run.out, HasSubstr("bad.yaml:3:11: segments.older: traits.age is not kept"));
  EXPECT_EQ(Upfront("check " + Example("telecom/policy.yaml")).status, 0);
}

TEST(Cli, ReplayWritesTheSameDecisionsEveryTime) {
  testing::TempDir dir;
  const std::string args = "replay --policy " + Example("saas/policy.yaml") + " --events " +
                           Example("saas/events.jsonl") + " --until 2026-11-06T18:00:00Z --out ";
  const CliRun first = Upfront(args + dir.path() + "/a.jsonl");
  ASSERT_EQ(first.status, 0) << first.out;
  EXPECT_THAT(first.out, HasSubstr("18 events (18 accepted"));
  ASSERT_EQ(Upfront(args + dir.path() + "/b.jsonl").status, 0);
  const std::string a = Read(dir.path() + "/a.jsonl");
  EXPECT_FALSE(a.empty());
  EXPECT_EQ(a, Read(dir.path() + "/b.jsonl"));
  const nlohmann::json first_decision = nlohmann::json::parse(a.substr(0, a.find('\n')));
  EXPECT_EQ(first_decision["intervention"], "integration_help");
}

TEST(Cli, AnAgentWorksTheReviewQueueAndTheAuditTrailSaysSo) {
  testing::TempDir dir;
  const std::string data = "--data " + dir.path() + "/data";
  ASSERT_EQ(Upfront("ingest " + data + " --policy " + Example("saas/policy.yaml") + " " +
                    Example("saas/events.jsonl")).status,
            0);
  const CliRun list = Upfront("review " + data + " --json");
  ASSERT_EQ(list.status, 0) << list.out;
  const nlohmann::json items = nlohmann::json::parse(list.out);
  ASSERT_EQ(items.size(), 1u);
  const std::string id = items[0]["review_id"];
  EXPECT_EQ(Upfront("review " + data + " --approve " + id).status, 1);  // no --agent
  const CliRun approve = Upfront("review " + data + " --approve " + id +
                              " --agent ana --message 'Call the lead.' --at 2026-11-06T18:00:00Z");
  ASSERT_EQ(approve.status, 0) << approve.out;
  EXPECT_THAT(approve.out, HasSubstr("approved"));
  EXPECT_THAT(approve.out, HasSubstr("Call the lead."));
  EXPECT_THAT(Upfront("review " + data + " --audit").out, HasSubstr("ana      approve " + id));
  const CliRun again = Upfront("review " + data + " --reject " + id + " --agent ben --reason no");
  EXPECT_EQ(again.status, 1);
  EXPECT_THAT(again.out, HasSubstr("is approved, not pending"));
}

TEST(Cli, PreferencesAreShownAndChangedWithClearErrors) {
  testing::TempDir dir;
  const std::string data = "--data " + dir.path() + "/data";
  ASSERT_EQ(Upfront("ingest " + data + " --policy " + Example("saas/policy.yaml") + " " +
                    Example("saas/events.jsonl")).status,
            0);
  const CliRun set = Upfront("preferences " + data + " beta-dev --set '{\"channels\": {\"email\": \"opt_out\"}}'");
  ASSERT_EQ(set.status, 0) << set.out;
  EXPECT_EQ(nlohmann::json::parse(Upfront("preferences " + data + " beta-dev").out)["channels"]["email"],
            "opt_out");
  const CliRun bad = Upfront("preferences " + data + " beta-dev --set '{\"snooze_until\": \"soon\"}'");
  EXPECT_EQ(bad.status, 1);
  EXPECT_THAT(bad.out, HasSubstr("snooze_until: must be an ISO-8601 time"));
  EXPECT_EQ(Upfront("preferences " + data + " nobody").status, 1);
}

}  // namespace
}  // namespace upfront
