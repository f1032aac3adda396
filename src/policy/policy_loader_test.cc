#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "upfront/policy.h"

namespace upfront {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

// Every error of `yaml` as "line:column: key: message" lines, which is what a
// user sees (the file name is the same for all of them).
std::vector<std::string> Errors(const std::string& yaml) {
  std::vector<std::string> lines;
  for (const PolicyError& error : CheckPolicyText(yaml, "policy.yaml")) {
    EXPECT_EQ(error.file, "policy.yaml");
    lines.push_back(error.ToString().substr(std::string("policy.yaml:").size()));
  }
  return lines;
}

// The shipped copy of shared/policy-example.yaml.
std::string ExamplePolicyPath() { return std::string(UPFRONT_SOURCE_DIR) + "/examples/ecommerce/policy.yaml"; }

TEST(LoadPolicyFile, LoadsTheShippedExample) {
  const std::string path = ExamplePolicyPath();
  ASSERT_TRUE(std::filesystem::exists(path)) << path;
  absl::StatusOr<Policy> policy = LoadPolicyFile(path);
  ASSERT_TRUE(policy.ok()) << policy.status().message();

  EXPECT_EQ(policy->version, "checkout-2026-11");
  EXPECT_EQ(policy->default_timezone, "UTC");
  EXPECT_EQ(policy->source_file, path);
  EXPECT_EQ(policy->content_hash.size(), 16u);
  EXPECT_EQ(policy->content_hash.find_first_not_of("0123456789abcdef"), std::string::npos);

  EXPECT_EQ(policy->events.dedup_window, 24 * kMicrosPerHour);
  EXPECT_EQ(policy->events.allowed_lateness, 10 * kMicrosPerMinute);
  EXPECT_EQ(policy->events.retention, 365 * kMicrosPerDay);  // the default
  EXPECT_THAT(policy->events.keep_properties,
              ElementsAre("step", "field", "path", "order_id", "revenue", "score", "case_type",
                          "delay_days", "channel"));
  EXPECT_THAT(policy->events.keep_traits,
              ElementsAre("plan", "country", "tenure_days", "email", "email_opt_in", "locale"));
  EXPECT_THAT(policy->events.hash, ElementsAre("email"));

  EXPECT_EQ(policy->outcomes.size(), 11u);
  const OutcomeRule* csat = policy->FindOutcome(OutcomeRole::kCsat);
  ASSERT_NE(csat, nullptr);
  EXPECT_EQ(csat->event, "CSAT Submitted");
  EXPECT_EQ(csat->fields, (std::map<std::string, std::string>{{"score", "properties.score"}}));
  const OutcomeRule* contact = policy->FindOutcome(OutcomeRole::kContactOpened);
  ASSERT_NE(contact, nullptr);
  EXPECT_EQ(contact->event, "Support Ticket Opened");
  EXPECT_EQ(contact->fields,
            (std::map<std::string, std::string>{{"case_type", "properties.case_type"},
                                                {"channel", "properties.channel"}}));
  EXPECT_EQ(policy->FindOutcome(OutcomeRole::kPurchase)->fields.at("revenue"),
            "properties.revenue");
  EXPECT_EQ(policy->FindOutcome(OutcomeRole::kCes), nullptr);
  EXPECT_EQ(policy->FindOutcome(OutcomeRole::kSnoozed), nullptr);

  EXPECT_EQ(policy->consent_traits,
            (std::map<std::string, std::string>{{"email_opt_in", "email"}}));
  EXPECT_THAT(CheckPolicyFile(path), IsEmpty());
}

constexpr char kMinimalPolicy[] = "version: \"v1\"\n";

TEST(LoadPolicyText, AMinimalPolicyGetsTheDefaults) {
  absl::StatusOr<Policy> policy = LoadPolicyText(kMinimalPolicy, "min.yaml");
  ASSERT_TRUE(policy.ok()) << policy.status().message();
  EXPECT_EQ(policy->version, "v1");
  EXPECT_EQ(policy->default_timezone, "UTC");
  EXPECT_EQ(policy->events.dedup_window, 24 * kMicrosPerHour);
  EXPECT_EQ(policy->events.allowed_lateness, 10 * kMicrosPerMinute);
  EXPECT_THAT(policy->events.keep_properties, IsEmpty());
  EXPECT_THAT(policy->outcomes, IsEmpty());
  EXPECT_THAT(policy->consent_traits, IsEmpty());
}

TEST(LoadPolicyText, ContentHashIsTheStartOfTheSha256OfTheBytes) {
  // sha256("version: \"v1\"\n"), first 16 hex digits (checked with sha256sum).
  absl::StatusOr<Policy> policy = LoadPolicyText(kMinimalPolicy, "min.yaml");
  ASSERT_TRUE(policy.ok());
  EXPECT_EQ(policy->content_hash, "dcb2fd4cef880ed2");
  // A comment changes the bytes, hence the hash, though not the meaning.
  absl::StatusOr<Policy> commented = LoadPolicyText("# note\nversion: \"v1\"\n", "min.yaml");
  ASSERT_TRUE(commented.ok());
  EXPECT_NE(commented->content_hash, policy->content_hash);
}

TEST(LoadPolicyText, AcceptsAnIanaTimezoneAndLongerRetention) {
  absl::StatusOr<Policy> policy = LoadPolicyText(
      "version: v2\ndefault_timezone: Europe/Berlin\nevents: {retention: 90d}\n", "p.yaml");
  ASSERT_TRUE(policy.ok()) << policy.status().message();
  EXPECT_EQ(policy->default_timezone, "Europe/Berlin");
  EXPECT_EQ(policy->events.retention, 90 * kMicrosPerDay);
}

TEST(LoadPolicyText, SectionsNotYetValidatedAreAcceptedWhenTheyHaveTheRightShape) {
  absl::StatusOr<Policy> policy = LoadPolicyText(R"(version: v1
sensitive_traits: [email]
signals: {}
models: {}
segments:
retention: {events: 30d}
targets: {csat: 0.9}
)",
                                                 "p.yaml");
  EXPECT_TRUE(policy.ok()) << policy.status().message();
}

TEST(CheckPolicyText, UnknownTopLevelKeySuggestsTheClosest) {
  EXPECT_THAT(Errors("version: v1\nevnets: {}\n"),
              ElementsAre("2:1: evnets: unknown key 'evnets'; did you mean 'events'? known keys "
                          "are version, default_timezone, sensitive_traits, events, outcomes, "
                          "signals, models, segments, channels, webhooks, moderation, "
                          "interventions, templates, experiments, targets, retention"));
}

TEST(CheckPolicyText, UnknownTopLevelKeyFarFromAnyKnownOneGetsNoSuggestion) {
  std::vector<std::string> errors = Errors("version: v1\nthresholds: {}\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_THAT(errors[0], HasSubstr("2:1: thresholds: unknown key 'thresholds'; known keys are "));
  EXPECT_THAT(errors[0], Not(HasSubstr("did you mean")));
}

TEST(CheckPolicyText, VersionIsRequiredAndMustBeText) {
  EXPECT_THAT(Errors("events: {}\n"),
              ElementsAre("1:1: version: is required: a label for this policy, e.g. "
                          "version: \"checkout-2026-11\""));
  EXPECT_THAT(Errors("version: [1, 2]\n"),
              ElementsAre("1:10: version: must be a text value, found a list"));
  EXPECT_THAT(Errors("version:\n"),
              ElementsAre("1:1: version: must be a text value, found nothing"));
}

TEST(CheckPolicyText, EmptyOrNonMapDocumentsAreRejected) {
  EXPECT_THAT(Errors(""), ElementsAre(" the policy is empty; it needs at least a version, e.g. "
                                      "version: \"v1\""));
  EXPECT_THAT(Errors("- a\n- b\n"),
              ElementsAre("1:1: a policy is a map of sections (version, events, outcomes, ...), "
                          "found a list"));
}

TEST(CheckPolicyText, BadYamlSyntaxReportsWhereTheParserStopped) {
  std::vector<PolicyError> errors = CheckPolicyText(R"(version: v1
events:
  keep_properties: [step, field
  dedup_window: 24h
)",
                                                    "policy.yaml");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].line, 4);
  EXPECT_GT(errors[0].column, 0);
  EXPECT_THAT(errors[0].message, HasSubstr("invalid YAML: "));
  EXPECT_THAT(errors[0].message, HasSubstr("end of sequence flow not found"));
}

TEST(CheckPolicyText, OnlyOneYamlDocumentPerFile) {
  EXPECT_THAT(Errors("---\nversion: v1\n---\nversion: v2\n"),
              ElementsAre("4:1: a policy file holds one YAML document; this is another (after a "
                          "'---' line)"));
  EXPECT_THAT(Errors("---\nversion: v1\n"), IsEmpty());
}

TEST(CheckPolicyText, BadTimezone) {
  EXPECT_THAT(Errors("version: v1\ndefault_timezone: Mars/Olympus\n"),
              ElementsAre("2:19: default_timezone: 'Mars/Olympus' is not a known IANA time zone; "
                          "write one like UTC, Europe/Berlin or America/New_York"));
}

TEST(CheckPolicyText, TimezonesThatDependOnTheHostAreRejected) {
  EXPECT_THAT(Errors("version: v1\ndefault_timezone: localtime\n"),
              ElementsAre(HasSubstr("2:19: default_timezone: 'localtime' is not a known IANA")));
  EXPECT_THAT(Errors("version: v1\ndefault_timezone: /etc/localtime\n"),
              ElementsAre(HasSubstr("2:19: default_timezone: '/etc/localtime' is not a known")));
}

TEST(CheckPolicyText, BadDurations) {
  EXPECT_THAT(Errors(R"(version: v1
events:
  dedup_window: 10 minutes
  allowed_lateness: 0s
  retention: soon
)"),
              ElementsAre("3:17: events.dedup_window: '10 minutes' is not a duration; write a number "
                          "and a unit, like 30s, 10m, 2h, 7d",
                          "4:21: events.allowed_lateness: '0s' must be longer than zero",
                          "5:14: events.retention: 'soon' is not a duration; write a number and "
                          "a unit, like 30s, 10m, 2h, 7d"));
}

TEST(CheckPolicyText, UnknownKeyInEvents) {
  EXPECT_THAT(Errors("version: v1\nevents:\n  keep_propertes: [step]\n"),
              ElementsAre("3:3: events.keep_propertes: unknown key 'keep_propertes'; did you mean "
                          "'keep_properties'? known keys are keep_properties, keep_traits, hash, "
                          "dedup_window, allowed_lateness, retention"));
  // Three edits away: no guess, but the list of known keys still helps.
  EXPECT_THAT(Errors("version: v1\nevents:\n  keep_property: [step]\n"),
              ElementsAre("3:3: events.keep_property: unknown key 'keep_property'; known keys are "
                          "keep_properties, keep_traits, hash, dedup_window, allowed_lateness, "
                          "retention"));
}

TEST(CheckPolicyText, KeepListsMustBeListsOfNames) {
  EXPECT_THAT(Errors(R"(version: v1
events:
  keep_properties: step
  keep_traits: [plan, {a: b}, '']
)"),
              ElementsAre("3:20: events.keep_properties: must be a list, like [a, b], found 'step'",
                          "4:23: events.keep_traits: must be a text value, found a map",
                          "4:31: events.keep_traits: must not be empty"));
}

TEST(CheckPolicyText, HashedFieldMustBeKept) {
  EXPECT_THAT(Errors(R"(version: v1
events:
  hash: [email, phone]
  keep_properties: [step]
  keep_traits: [email]
)"),
              ElementsAre("3:17: events.hash: 'phone' is not in keep_properties or keep_traits"));
}

TEST(CheckPolicyText, HashMayNameAKeptProperty) {
  absl::StatusOr<Policy> policy = LoadPolicyText(
      "version: v1\nevents: {keep_properties: [order_id], hash: [order_id]}\n", "p.yaml");
  ASSERT_TRUE(policy.ok()) << policy.status().message();
  EXPECT_THAT(policy->events.hash, ElementsAre("order_id"));
}

TEST(CheckPolicyText, OutcomePathMustBeKept) {
  EXPECT_THAT(Errors(R"(version: v1
events:
  keep_properties: [step]
  keep_traits: [plan]
outcomes:
  csat: {event: "CSAT Submitted", score: properties.score}
  purchase:
    event: "Order Completed"
    plan: traits.plan
    revenue: traits.revenue
)"),
              ElementsAre("6:42: outcomes.csat.score: properties.score is not kept; add 'score' "
                          "to events.keep_properties",
                          "10:14: outcomes.purchase.revenue: traits.revenue is not kept; add "
                          "'revenue' to events.keep_traits"));
}

TEST(CheckPolicyText, OutcomeFieldsMustBePaths) {
  EXPECT_THAT(Errors(R"(version: v1
events: {keep_properties: [score]}
outcomes:
  nps: {event: "NPS Submitted", score: score}
  ces: {event: "CES Submitted", score: properties.}
)"),
              ElementsAre("4:40: outcomes.nps.score: 'score' is not a field path; write "
                          "properties.<name> or traits.<name>",
                          "5:40: outcomes.ces.score: 'properties.' is not a field path; write "
                          "properties.<name> or traits.<name>"));
}

TEST(CheckPolicyText, OutcomeNeedsAnEvent) {
  EXPECT_THAT(Errors(R"(version: v1
outcomes:
  contact_resolved: {}
  complaint: {event: ""}
  opt_out: "Proactive Opted Out"
)"),
              ElementsAre("3:21: outcomes.contact_resolved: needs 'event': the name of your event "
                          "that means contact_resolved",
                          "4:22: outcomes.complaint.event: must not be empty",
                          "5:12: outcomes.opt_out: must be a map like {event: \"Your Event "
                          "Name\"}, found 'Proactive Opted Out'"));
}

TEST(CheckPolicyText, UnknownOutcomeRole) {
  EXPECT_THAT(Errors("version: v1\noutcomes:\n  cast: {event: \"CSAT Submitted\"}\n"),
              ElementsAre("3:3: outcomes.cast: unknown key 'cast'; did you mean 'csat'? known "
                          "keys are contact_opened, contact_resolved, csat, nps, ces, purchase, "
                          "incident_opened, incident_resolved, accepted, dismissed, snoozed, "
                          "opt_out, complaint"));
}

TEST(CheckPolicyText, DuplicateOutcomeRole) {
  EXPECT_THAT(Errors(R"(version: v1
outcomes:
  accepted: {event: "Nudge Accepted"}
  accepted: {event: "Tip Accepted"}
)"),
              ElementsAre("4:3: outcomes.accepted: key 'accepted' is written twice in this map; "
                          "keep one"));
}

TEST(CheckPolicyText, ChannelConsentMustBeAKeptTrait) {
  EXPECT_THAT(Errors(R"(version: v1
events: {keep_traits: [email_opt_in]}
channels:
  email: {consent: traits.email_opt_in}
  sms: {consent: traits.sms_opt_in}
  push: {consent: properties.push_ok}
  letter: {consent: traits.email_opt_in}
)"),
              ElementsAre("5:18: channels.sms.consent: traits.sms_opt_in is not kept; add "
                          "'sms_opt_in' to events.keep_traits",
                          "6:19: channels.push.consent: 'properties.push_ok' is not a trait; "
                          "consent is a customer trait, written traits.<name>",
                          "7:21: channels.letter.consent: traits.email_opt_in is already the "
                          "consent of channel 'email'; give each channel its own consent trait"));
}

TEST(CheckPolicyText, SectionsOfTheWrongShape) {
  EXPECT_THAT(Errors(R"(version: v1
events: [keep_properties]
outcomes: csat
channels: [email]
sensitive_traits: {email: true}
signals: many
)"),
              ElementsAre("2:9: events: must be a map, found a list",
                          "3:11: outcomes: must be a map, found 'csat'",
                          "4:11: channels: must be a map, found a list",
                          "5:19: sensitive_traits: must be a list, like [a, b], found a map",
                          "6:10: signals: must be a map, found 'many'"));
}

TEST(CheckPolicyText, ReportsEveryErrorInFileOrder) {
  const std::string yaml = R"(version: v1
default_timezone: Nowhere/City
outcomes:
  csat: {event: "CSAT Submitted", score: properties.score}
  refund: {event: "Refund Issued"}
events:
  keep_properties: [step]
  dedup_window: 1 day
  hash: [email]
moderaton: {max_per_day: 2}
)";
  std::vector<std::string> errors = Errors(yaml);
  EXPECT_THAT(errors,
              ElementsAre(HasSubstr("2:19: default_timezone: 'Nowhere/City'"),
                          "4:42: outcomes.csat.score: properties.score is not kept; add 'score' "
                          "to events.keep_properties",
                          HasSubstr("5:3: outcomes.refund: unknown key 'refund'"),
                          HasSubstr("8:17: events.dedup_window: '1 day'"),
                          "9:10: events.hash: 'email' is not in keep_properties or keep_traits",
                          HasSubstr("10:1: moderaton: unknown key 'moderaton'; did you mean "
                                    "'moderation'?")));

  absl::StatusOr<Policy> policy = LoadPolicyText(yaml, "policy.yaml");
  ASSERT_FALSE(policy.ok());
  EXPECT_EQ(policy.status().code(), absl::StatusCode::kInvalidArgument);
  std::vector<PolicyError> all = CheckPolicyText(yaml, "policy.yaml");
  std::string expected;
  for (const PolicyError& error : all) {
    if (!expected.empty()) expected += "\n";
    expected += error.ToString();
  }
  EXPECT_EQ(policy.status().message(), expected);
}

TEST(CheckPolicyText, ABrokenKeepListDoesNotCascadeIntoNotKeptErrors) {
  EXPECT_THAT(Errors(R"(version: v1
events:
  keep_properties: [score, [nested]]
  hash: [score]
outcomes:
  csat: {event: "CSAT Submitted", score: properties.score}
)"),
              ElementsAre("3:28: events.keep_properties: must be a text value, found a list"));
}

TEST(LoadPolicyFile, AMissingFileIsNotFound) {
  absl::StatusOr<Policy> policy = LoadPolicyFile("/nonexistent/policy.yaml");
  ASSERT_FALSE(policy.ok());
  EXPECT_EQ(policy.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(policy.status().message(),
            "/nonexistent/policy.yaml: cannot read the policy file: No such file or directory");
  std::vector<PolicyError> errors = CheckPolicyFile("/nonexistent/policy.yaml");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].line, 0);
}

TEST(LoadPolicyFile, ReadsAFileAndNamesItInErrors) {
  const std::filesystem::path path =
      std::filesystem::path(testing::TempDir()) / "policy_loader_test_bad.yaml";
  {
    std::ofstream out(path);
    out << "version: v1\nevents:\n  dedup_window: forever\n";
  }
  std::vector<PolicyError> errors = CheckPolicyFile(path.string());
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].ToString(),
            path.string() +
                ":3:17: events.dedup_window: 'forever' is not a duration; write a "
                "number and a unit, like 30s, 10m, 2h, 7d");
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace upfront
