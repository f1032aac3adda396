#include "src/server/control/policy_registry.h"

#include <gmock/gmock.h>
#include <algorithm>
#include <gtest/gtest.h>

#include "absl/strings/str_replace.h"
#include "src/server/control/control_test_util.h"
#include "src/testing/temp_dir.h"

namespace upfront {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using Json = nlohmann::json;
using testing::OpenControlStore;
using testing::TempDir;

// The example policy with a new label and a higher daily cap.
std::string SecondPolicyText(const std::string& first) {
  return absl::StrReplaceAll(first, {{"version: \"saas-onboarding-2026-11\"",
                                      "version: \"saas-onboarding-2026-12\""},
                                     {"max_per_day: 2", "max_per_day: 3"}});
}

int LineOf(const std::string& text, std::string_view needle) {
  size_t at = text.find(needle);
  EXPECT_NE(at, std::string::npos) << needle;
  return 1 + static_cast<int>(std::count(text.begin(), text.begin() + at, '\n'));
}

class PolicyRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override { store_ = OpenControlStore(dir_.path(), &clock_); }
  std::vector<std::string> AuditActions() {
    std::vector<std::string> actions;
    for (const Json& e : Json::parse(store_->AuditJson("", 1, 0).value())) {
      actions.push_back(e["action"].get<std::string>() + " " + e["actor"].get<std::string>() +
                        " " + e["subject"].get<std::string>());
    }
    return actions;
  }

  TempDir dir_;
  ManualClock clock_{1'700'000'000 * kMicrosPerSecond};
  std::unique_ptr<ControlStore> store_;
  const std::string v1_ = testing::ExamplePolicyText();
  const std::string v2_ = SecondPolicyText(v1_);
};

TEST_F(PolicyRegistryTest, InvalidPolicyIsRejectedWithItsLineAndNothingIsStored) {
  std::string broken = absl::StrReplaceAll(v1_, {{"max_per_day: 2", "max_per_day: lots"}});
  absl::StatusOr<PolicyVersion> rejected = store_->UploadPolicy(broken, "admin:alice");
  ASSERT_EQ(rejected.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(rejected.status().message(),
              HasSubstr("policy v1.yaml:" + std::to_string(LineOf(broken, "max_per_day")) + ":"));
  EXPECT_THAT(rejected.status().message(), HasSubstr("max_per_day"));
  EXPECT_TRUE(store_->ListPolicies().empty());
  EXPECT_TRUE(AuditActions().empty());
  EXPECT_EQ(store_->PolicyText(1).status().code(), absl::StatusCode::kNotFound);
  // The failed attempt does not use up a number.
  EXPECT_EQ(store_->UploadPolicy(v1_, "admin:alice")->number, 1);
}

TEST_F(PolicyRegistryTest, UploadStoresTheTextAsTheNextVersion) {
  PolicyVersion v1 = store_->UploadPolicy(v1_, "admin:alice").value();
  EXPECT_EQ(v1.number, 1);
  EXPECT_EQ(v1.name, "saas-onboarding-2026-11");
  EXPECT_EQ(v1.hash, Sha256Hex(v1_));
  EXPECT_EQ(v1.uploaded_by, "admin:alice");
  EXPECT_EQ(v1.uploaded_at, clock_.Now());
  EXPECT_EQ(v1.status, "uploaded");
  EXPECT_TRUE(v1.approved_by.empty());
  EXPECT_EQ(store_->PolicyText(1).value(), v1_);
  EXPECT_EQ(store_->UploadPolicy(v2_, "admin:alice")->number, 2);
  EXPECT_FALSE(store_->ActivePolicy().has_value());
}

TEST_F(PolicyRegistryTest, TheUploaderCannotApprove) {
  ASSERT_TRUE(store_->UploadPolicy(v1_, "admin:alice").ok());
  absl::StatusOr<PolicyVersion> approved = store_->ApprovePolicy(1, "admin:alice");
  EXPECT_EQ(approved.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(store_->ListPolicies()[0].status, "uploaded");
  EXPECT_EQ(store_->ApprovePolicy(7, "admin:bob").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(PolicyRegistryTest, OnlyApprovedVersionsCanBeActivated) {
  ASSERT_TRUE(store_->UploadPolicy(v1_, "admin:alice").ok());
  EXPECT_EQ(store_->ActivatePolicy(1, "admin:bob").status().code(),
            absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(store_->ApprovePolicy(1, "admin:bob").ok());
  EXPECT_EQ(store_->ApprovePolicy(1, "admin:carol").status().code(),
            absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(store_->ActivatePolicy(1, "admin:bob").ok());
  EXPECT_EQ(store_->ActivatePolicy(1, "admin:bob").status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(store_->ActivatePolicy(2, "admin:bob").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(PolicyRegistryTest, ActivateUpgradeAndRollBackEveryStepAudited) {
  ASSERT_TRUE(store_->UploadPolicy(v1_, "admin:alice").ok());
  clock_.Advance(kMicrosPerMinute);
  PolicyVersion approved = store_->ApprovePolicy(1, "admin:bob").value();
  EXPECT_EQ(approved.status, "approved");
  EXPECT_EQ(approved.approved_by, "admin:bob");
  EXPECT_EQ(approved.approved_at, clock_.Now());
  clock_.Advance(kMicrosPerMinute);
  PolicyVersion active = store_->ActivatePolicy(1, "admin:bob").value();
  EXPECT_EQ(active.status, "active");
  EXPECT_EQ(active.activated_at, clock_.Now());
  EXPECT_EQ(store_->ActivePolicy()->number, 1);

  clock_.Advance(kMicrosPerHour);
  ASSERT_TRUE(store_->UploadPolicy(v2_, "admin:bob").ok());
  ASSERT_TRUE(store_->ApprovePolicy(2, "admin:alice").ok());
  EXPECT_EQ(store_->ActivePolicy()->number, 1);  // approval alone changes nothing
  ASSERT_TRUE(store_->ActivatePolicy(2, "admin:alice").ok());
  EXPECT_EQ(store_->ActivePolicy()->number, 2);
  EXPECT_EQ(store_->ActivePolicy()->name, "saas-onboarding-2026-12");
  EXPECT_EQ(store_->ListPolicies()[0].status, "retired");

  clock_.Advance(kMicrosPerHour);
  PolicyVersion back = store_->ActivatePolicy(1, "admin:carol").value();
  EXPECT_EQ(back.number, 1);
  EXPECT_EQ(back.activated_at, clock_.Now());
  std::vector<PolicyVersion> versions = store_->ListPolicies();
  ASSERT_EQ(versions.size(), 2u);
  EXPECT_EQ(versions[0].status, "active");
  EXPECT_EQ(versions[1].status, "retired");
  // And forward again to the retired v2.
  ASSERT_TRUE(store_->ActivatePolicy(2, "admin:carol").ok());

  EXPECT_EQ(AuditActions(), (std::vector<std::string>{
                                "policy.upload admin:alice policy v1",
                                "policy.approve admin:bob policy v1",
                                "policy.activate admin:bob policy v1",
                                "policy.upload admin:bob policy v2",
                                "policy.approve admin:alice policy v2",
                                "policy.activate admin:alice policy v2",
                                "policy.rollback admin:carol policy v1",
                                "policy.activate admin:carol policy v2",
                            }));
  Json entries = Json::parse(store_->AuditJson("", 7, 1).value());
  EXPECT_EQ(entries[0]["details"]["previous"], 2);
  EXPECT_EQ(entries[0]["details"]["hash"], Sha256Hex(v1_));
  EXPECT_TRUE(store_->Verify().ok);

  // All of it survives a restart.
  store_.reset();
  store_ = OpenControlStore(dir_.path(), &clock_);
  EXPECT_EQ(store_->ActivePolicy()->number, 2);
  EXPECT_EQ(store_->ListPolicies()[0].status, "retired");
  EXPECT_EQ(store_->ListPolicies()[0].approved_by, "admin:bob");
  EXPECT_EQ(store_->PolicyText(2).value(), v2_);
  EXPECT_EQ(store_->UploadPolicy(v1_, "admin:alice")->number, 3);
}

TEST_F(PolicyRegistryTest, DiffShowsTheChangedLinesWithContext) {
  ASSERT_TRUE(store_->UploadPolicy(v1_, "admin:alice").ok());
  ASSERT_TRUE(store_->UploadPolicy(v2_, "admin:alice").ok());
  std::string diff = store_->DiffPolicies(1, 2).value();
  const int version_line = LineOf(v1_, "version: \"saas");
  const int cap_line = LineOf(v1_, "max_per_day");
  EXPECT_THAT(diff, StartsWith("--- policy v1.yaml\n+++ policy v2.yaml\n@@ -" +
                               std::to_string(version_line - 3) + ",7 +" +
                               std::to_string(version_line - 3) + ",7 @@\n"));
  EXPECT_THAT(diff, HasSubstr("\n-version: \"saas-onboarding-2026-11\"\n"
                              "+version: \"saas-onboarding-2026-12\"\n"));
  EXPECT_THAT(diff, HasSubstr("@@ -" + std::to_string(cap_line - 3) + ",7 +" +
                              std::to_string(cap_line - 3) + ",7 @@\n"));
  EXPECT_THAT(diff, HasSubstr("\n   quiet_hours: {start: \"20:00\", end: \"08:00\"}\n"
                              "-  max_per_day: 2\n"
                              "+  max_per_day: 3\n"
                              "   max_per_week: 4\n"));
  EXPECT_EQ(store_->DiffPolicies(1, 1).value(), "");
  EXPECT_EQ(store_->DiffPolicies(1, 9).status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace upfront
