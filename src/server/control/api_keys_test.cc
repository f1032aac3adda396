#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "src/server/control/control_db.h"
#include "src/server/control/control_test_util.h"
#include "src/testing/temp_dir.h"

namespace upfront {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing::OpenControlStore;
using testing::RawControlDb;
using testing::TempDir;

class ApiKeysTest : public ::testing::Test {
 protected:
  void SetUp() override { store_ = OpenControlStore(dir_.path(), &clock_); }
  void Reopen() {
    store_.reset();
    store_ = OpenControlStore(dir_.path(), &clock_);
  }

  TempDir dir_;
  ManualClock clock_{1'700'000'000 * kMicrosPerSecond};
  std::unique_ptr<ControlStore> store_;
};

TEST(RoleTest, NamesRoundTrip) {
  for (Role role : {Role::kIngest, Role::kAgent, Role::kAnalyst, Role::kAdmin}) {
    EXPECT_EQ(ParseRole(RoleName(role)), role);
  }
  EXPECT_EQ(RoleName(Role::kAnalyst), "analyst");
  EXPECT_FALSE(ParseRole("root").has_value());
  EXPECT_FALSE(ParseRole("Admin").has_value());
}

TEST_F(ApiKeysTest, CreatedKeyAuthenticatesWithItsRole) {
  absl::StatusOr<NewApiKey> created = store_->CreateKey(Role::kAgent, "support desk");
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_THAT(created->key.id, ::testing::MatchesRegex("key_[0-9a-f]{6}"));
  EXPECT_THAT(created->secret,
              ::testing::MatchesRegex("upk_" + created->key.id + "_[0-9a-f]{48}"));
  EXPECT_EQ(created->key.created, clock_.Now());

  std::optional<ApiKey> caller = store_->Authenticate(created->secret);
  ASSERT_TRUE(caller.has_value());
  EXPECT_EQ(caller->id, created->key.id);
  EXPECT_EQ(caller->name, "support desk");
  EXPECT_EQ(caller->role, Role::kAgent);
  EXPECT_FALSE(caller->revoked);
}

TEST_F(ApiKeysTest, WrongSecretsAreRejected) {
  NewApiKey a = store_->CreateKey(Role::kAdmin, "a").value();
  NewApiKey b = store_->CreateKey(Role::kIngest, "b").value();
  std::string wrong_random = a.secret;
  wrong_random.back() = wrong_random.back() == '0' ? '1' : '0';
  EXPECT_FALSE(store_->Authenticate(wrong_random).has_value());
  // b's random part under a's id.
  std::string swapped = "upk_" + a.key.id + b.secret.substr(b.secret.rfind('_'));
  EXPECT_FALSE(store_->Authenticate(swapped).has_value());
  std::string unknown_id = "upk_key_000000" + a.secret.substr(a.secret.rfind('_'));
  if (a.key.id != "key_000000") {
    EXPECT_FALSE(store_->Authenticate(unknown_id).has_value());
  }
}

TEST_F(ApiKeysTest, MalformedSecretsAreRejected) {
  NewApiKey a = store_->CreateKey(Role::kAdmin, "a").value();
  for (std::string secret : {std::string(), std::string("upk_"), std::string("upk_") + a.key.id,
                             "upk_" + a.key.id + "_", a.secret.substr(4), "Bearer " + a.secret,
                             a.secret + "x", a.secret + std::string(200, '0')}) {
    EXPECT_FALSE(store_->Authenticate(secret).has_value()) << secret;
  }
}

TEST_F(ApiKeysTest, RevokedKeyNoLongerAuthenticates) {
  NewApiKey key = store_->CreateKey(Role::kAnalyst, "reports").value();
  ASSERT_TRUE(store_->RevokeKey(key.key.id, "admin:alice").ok());
  EXPECT_FALSE(store_->Authenticate(key.secret).has_value());
  ASSERT_EQ(store_->ListKeys().size(), 1u);
  EXPECT_TRUE(store_->ListKeys()[0].revoked);
  EXPECT_TRUE(store_->RevokeKey(key.key.id, "admin:alice").ok());  // again: no change
  EXPECT_EQ(store_->RevokeKey("key_nope", "admin:alice").code(), absl::StatusCode::kNotFound);

  // Creation and revocation are audited once each.
  std::string audit = store_->AuditJson("", 1, 0).value();
  auto entries = nlohmann::json::parse(audit);
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0]["action"], "key.create");
  EXPECT_EQ(entries[0]["actor"], "system");
  EXPECT_EQ(entries[0]["subject"], key.key.id);
  EXPECT_EQ(entries[1]["action"], "key.revoke");
  EXPECT_EQ(entries[1]["actor"], "admin:alice");
}

TEST_F(ApiKeysTest, KeysSurviveReopen) {
  NewApiKey kept = store_->CreateKey(Role::kIngest, "collector", "admin:bob").value();
  clock_.Advance(kMicrosPerSecond);
  NewApiKey revoked = store_->CreateKey(Role::kAgent, "old desk").value();
  ASSERT_TRUE(store_->RevokeKey(revoked.key.id, "admin:bob").ok());
  Reopen();
  ASSERT_TRUE(store_->Authenticate(kept.secret).has_value());
  EXPECT_EQ(store_->Authenticate(kept.secret)->role, Role::kIngest);
  EXPECT_FALSE(store_->Authenticate(revoked.secret).has_value());
  std::vector<ApiKey> keys = store_->ListKeys();
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0].id, kept.key.id);  // oldest first
  EXPECT_EQ(keys[1].id, revoked.key.id);
  EXPECT_TRUE(keys[1].revoked);
  EXPECT_TRUE(store_->Verify().ok);
}

TEST_F(ApiKeysTest, OnlyTheSecretsHashIsOnDisk) {
  NewApiKey key = store_->CreateKey(Role::kAdmin, "ops").value();
  const std::string random = key.secret.substr(key.secret.rfind('_') + 1);
  store_.reset();
  EXPECT_FALSE(testing::FilesContain(dir_.path(), random));
  RawControlDb raw(dir_.path());
  const std::string all = raw.Dump();
  EXPECT_THAT(all, Not(HasSubstr(random)));
  EXPECT_THAT(all, HasSubstr(Sha256Hex(key.secret)));
}

TEST_F(ApiKeysTest, NameAndActorAreRequired) {
  EXPECT_EQ(store_->CreateKey(Role::kAdmin, "").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->CreateKey(Role::kAdmin, "x", "").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(store_->ListKeys().empty());
}

TEST_F(ApiKeysTest, ReadOnlyStoreAuthenticatesButRefusesWrites) {
  NewApiKey key = store_->CreateKey(Role::kAdmin, "ops").value();
  store_.reset();
  std::unique_ptr<ControlStore> reader = OpenControlStore(dir_.path(), &clock_, true);
  ASSERT_NE(reader, nullptr);
  EXPECT_TRUE(reader->Authenticate(key.secret).has_value());
  EXPECT_EQ(reader->CreateKey(Role::kAdmin, "x").status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(reader->RevokeKey(key.key.id, "a").code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(reader->Append({.actor = "a", .action = "b"}).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace upfront
