#include "src/server/control/control_commands.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "src/common/hash.h"
#include "src/server/control/control_db.h"
#include "src/server/control/control_test_util.h"
#include "src/testing/temp_dir.h"

namespace upfront {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;
using Json = nlohmann::json;
using testing::TempDir;

struct Output {
  int code = -1;
  std::string out;
  std::string err;
};

template <typename Command>
Output Capture(Command command) {
  std::ostringstream out, err;
  Output result;
  result.code = command(out, err);
  result.out = out.str();
  result.err = err.str();
  return result;
}

class ControlCommandsTest : public ::testing::Test {
 protected:
  std::string data() const { return dir_.file("data"); }
  Output Create(const std::string& role, const std::string& name) {
    return Capture([&](std::ostream& o, std::ostream& e) { return RunKeysCreate(data(), role, name, o, e); });
  }
  Output List() {
    return Capture([&](std::ostream& o, std::ostream& e) { return RunKeysList(data(), o, e); });
  }
  Output Verify() {
    return Capture([&](std::ostream& o, std::ostream& e) { return RunAuditVerify(data(), o, e); });
  }
  Output Show(const std::string& customer, size_t limit) {
    return Capture([&](std::ostream& o, std::ostream& e) {
      return RunAuditShow(data(), customer, limit, o, e);
    });
  }
  std::unique_ptr<ControlStore> OpenStore() {
    ControlOptions options;
    options.pseudonym_key = LoadOrCreateDataKey(data()).value();
    return ControlStore::Open(data() + "/control", options).value();
  }

  TempDir dir_;
};

TEST_F(ControlCommandsTest, HashKeyIsCreatedAsTheEngineDoes) {
  std::string key = LoadOrCreateDataKey(data()).value();
  EXPECT_THAT(key, MatchesRegex("[0-9a-f]{64}"));
  EXPECT_EQ(testing::ReadFile(data() + "/hash.key"), key + "\n");
  auto perms = std::filesystem::status(data() + "/hash.key").permissions();
  EXPECT_EQ(perms & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  EXPECT_EQ(LoadOrCreateDataKey(data()).value(), key);
  std::ofstream(data() + "/hash.key") << "short\n";
  EXPECT_EQ(LoadOrCreateDataKey(data()).status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(ControlCommandsTest, KeysCreatePrintsTheSecretOnceAndListShowsTheKey) {
  Output created = Create("admin", "ops team");
  ASSERT_EQ(created.code, 0) << created.err;
  EXPECT_THAT(created.out, HasSubstr("cannot be shown again"));
  size_t at = created.out.find("secret: ");
  ASSERT_NE(at, std::string::npos);
  std::string secret = created.out.substr(at + 8, created.out.find('\n', at) - at - 8);
  EXPECT_THAT(secret, MatchesRegex("upk_key_[0-9a-f]{6}_[0-9a-f]{48}"));

  Output listed = List();
  ASSERT_EQ(listed.code, 0) << listed.err;
  EXPECT_THAT(listed.out, HasSubstr("admin"));
  EXPECT_THAT(listed.out, HasSubstr("ops team"));
  EXPECT_THAT(listed.out, HasSubstr("active"));
  EXPECT_THAT(listed.out, Not(HasSubstr(secret.substr(15))));

  EXPECT_TRUE(OpenStore()->Authenticate(secret).has_value());
}

TEST_F(ControlCommandsTest, BadRoleOrNameIsAUsageError) {
  Output bad = Create("root", "x");
  EXPECT_EQ(bad.code, 2);
  EXPECT_THAT(bad.err, HasSubstr("unknown role 'root'"));
  EXPECT_THAT(bad.err, HasSubstr("ingest, agent, analyst, admin"));
  EXPECT_EQ(Create("agent", "").code, 2);
  EXPECT_FALSE(std::filesystem::exists(data() + "/control"));
}

TEST_F(ControlCommandsTest, EmptyDataDirectoryHasNothingToShow) {
  EXPECT_EQ(List().out, "no API keys yet\n");
  EXPECT_EQ(Verify().code, 0);
  EXPECT_EQ(Show("", 0).out, "[]\n");
}

TEST_F(ControlCommandsTest, VerifyReportsTheHeadOrTheProblem) {
  ASSERT_EQ(Create("agent", "desk").code, 0);
  ASSERT_EQ(Create("ingest", "collector").code, 0);
  Output ok = Verify();
  EXPECT_EQ(ok.code, 0);
  EXPECT_THAT(ok.out, MatchesRegex("audit trail OK: 2 entries, head [0-9a-f]{64}\n"));

  {
    testing::RawControlDb raw(data() + "/control");
    raw.Delete(NumberedKey(kAuditPrefix, 1));
  }
  Output bad = Verify();
  EXPECT_EQ(bad.code, 1);
  EXPECT_THAT(bad.out, HasSubstr("entry 1 missing"));
}

TEST_F(ControlCommandsTest, ReadingCommandsWorkWhileTheServerHoldsTheStore) {
  std::unique_ptr<ControlStore> server = OpenStore();
  ASSERT_TRUE(server->CreateKey(Role::kAnalyst, "reports").ok());
  ASSERT_TRUE(server
                  ->Append({.actor = "system", .action = "decision", .customers = {"cust-9"},
                            .subject = "d-1", .details = {{"message", "hi"}}})
                  .ok());
  EXPECT_THAT(List().out, HasSubstr("reports"));
  EXPECT_THAT(Verify().out, HasSubstr("audit trail OK: 2 entries"));

  Output shown = Show("cust-9", 0);
  ASSERT_EQ(shown.code, 0) << shown.err;
  Json entries = Json::parse(shown.out);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0]["customers"][0], server->Pseudonym("cust-9"));
  EXPECT_EQ(Json::parse(Show("", 1).out).size(), 1u);
  EXPECT_EQ(Json::parse(Show("", 0).out).size(), 2u);

  // Writing needs the lock the server holds.
  Output refused = Create("admin", "second");
  EXPECT_EQ(refused.code, 1);
  EXPECT_THAT(refused.err, HasSubstr("is the server running?"));
}

}  // namespace
}  // namespace upfront
