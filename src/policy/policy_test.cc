#include "upfront/policy.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace upfront {
namespace {

TEST(PolicyErrorToString, NamesFileLineColumnKeyAndReason) {
  PolicyError error{"policy.yaml", 12, 18, "events.dedup_window", "'10 minutes' is wrong"};
  EXPECT_EQ(error.ToString(), "policy.yaml:12:18: events.dedup_window: '10 minutes' is wrong");
}

TEST(PolicyErrorToString, LeavesOutWhatIsUnknown) {
  EXPECT_EQ((PolicyError{"p.yaml", 0, 0, "", "cannot read"}).ToString(), "p.yaml: cannot read");
  EXPECT_EQ((PolicyError{"p.yaml", 3, 0, "version", "bad"}).ToString(), "p.yaml:3: version: bad");
  EXPECT_EQ((PolicyError{"p.yaml", 3, 7, "", "invalid YAML"}).ToString(),
            "p.yaml:3:7: invalid YAML");
  EXPECT_EQ((PolicyError{"", 0, 0, "events", "bad"}).ToString(), "events: bad");
}

TEST(OutcomeRoleName, GivesThePolicyNameOfEveryRole) {
  EXPECT_EQ(OutcomeRoleName(OutcomeRole::kContactOpened), "contact_opened");
  EXPECT_EQ(OutcomeRoleName(OutcomeRole::kContactResolved), "contact_resolved");
  EXPECT_EQ(OutcomeRoleName(OutcomeRole::kCsat), "csat");
  EXPECT_EQ(OutcomeRoleName(OutcomeRole::kNps), "nps");
  EXPECT_EQ(OutcomeRoleName(OutcomeRole::kCes), "ces");
  EXPECT_EQ(OutcomeRoleName(OutcomeRole::kPurchase), "purchase");
  EXPECT_EQ(OutcomeRoleName(OutcomeRole::kIncidentOpened), "incident_opened");
  EXPECT_EQ(OutcomeRoleName(OutcomeRole::kIncidentResolved), "incident_resolved");
  EXPECT_EQ(OutcomeRoleName(OutcomeRole::kAccepted), "accepted");
  EXPECT_EQ(OutcomeRoleName(OutcomeRole::kDismissed), "dismissed");
  EXPECT_EQ(OutcomeRoleName(OutcomeRole::kSnoozed), "snoozed");
  EXPECT_EQ(OutcomeRoleName(OutcomeRole::kOptOut), "opt_out");
  EXPECT_EQ(OutcomeRoleName(OutcomeRole::kComplaint), "complaint");
}

TEST(OutcomeRoleName, NamesAreDistinct) {
  std::set<std::string_view> names;
  for (int i = 0; i < kOutcomeRoleCount; ++i) {
    names.insert(OutcomeRoleName(static_cast<OutcomeRole>(i)));
  }
  EXPECT_EQ(names.size(), static_cast<size_t>(kOutcomeRoleCount));
}

TEST(PolicyFindOutcome, FindsTheRuleForARoleOrNull) {
  Policy policy;
  policy.outcomes.push_back(OutcomeRule{OutcomeRole::kCsat, "CSAT Submitted", {}});
  policy.outcomes.push_back(OutcomeRule{OutcomeRole::kNps, "NPS Submitted", {}});
  ASSERT_NE(policy.FindOutcome(OutcomeRole::kNps), nullptr);
  EXPECT_EQ(policy.FindOutcome(OutcomeRole::kNps)->event, "NPS Submitted");
  EXPECT_EQ(policy.FindOutcome(OutcomeRole::kPurchase), nullptr);
}

}  // namespace
}  // namespace upfront
