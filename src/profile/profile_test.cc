#include "src/profile/profile.h"

#include <gtest/gtest.h>

namespace upfront {
namespace {

class ProfileTest : public ::testing::Test {
 protected:
  ProfileTest() : catalog_({"step"}, {"plan", "email_opt_in", "tenure_days"}, {}, "key"), rules_(Policy_(), catalog_) {}
  static Policy Policy_() {
    Policy p;
    p.consent_traits["email_opt_in"] = "email";
    p.outcomes.push_back({OutcomeRole::kCsat, "CSAT Submitted", {}});
    return p;
  }
  Event MakeEvent(std::string name, Micros t) {
    Event e;
    e.name = std::move(name);
    e.timestamp = t;
    e.user_id = "u";
    return e;
  }
  void SetTrait(Event* e, const char* name, bool value) {
    FieldValue& f = e->traits.Add(static_cast<uint16_t>(catalog_.TraitId(name)));
    f.kind = FieldValue::Kind::kBool;
    f.boolean = value;
  }
  void SetTrait(Event* e, const char* name, const char* value) {
    FieldValue& f = e->traits.Add(static_cast<uint16_t>(catalog_.TraitId(name)));
    f.kind = FieldValue::Kind::kString;
    f.text = value;
  }
  FieldCatalog catalog_;
  ProfileRules rules_;
};

TEST_F(ProfileTest, CountsEventsOutcomesAndLateness) {
  Profile p;
  ApplyEvent(rules_, MakeEvent("CSAT Submitted", 200), &p);
  Event late = MakeEvent("Page Viewed", 100);
  late.late = true;
  ApplyEvent(rules_, late, &p);
  EXPECT_EQ(p.events, 2u);
  EXPECT_EQ(p.late_events, 1u);
  EXPECT_EQ(p.first_seen, 100);
  EXPECT_EQ(p.last_seen, 200);
  EXPECT_EQ(p.outcome_counts[static_cast<int>(OutcomeRole::kCsat)], 1u);
  EXPECT_EQ(p.event_counts.Count("Page Viewed"), 1u);
}

TEST_F(ProfileTest, ConsentTraitsSetChannelConsentAndOlderStatementsDoNotOverride) {
  Profile p;
  Event yes = MakeEvent("Identify", 200);
  SetTrait(&yes, "email_opt_in", true);
  ApplyEvent(rules_, yes, &p);
  Event older_no = MakeEvent("Identify", 100);
  SetTrait(&older_no, "email_opt_in", false);
  ApplyEvent(rules_, older_no, &p);
  ASSERT_EQ(p.consent.size(), 1u);
  EXPECT_EQ(p.consent[0].state, ChannelConsent::State::kGranted);
  EXPECT_EQ(p.consent[0].since, 200);
}

TEST_F(ProfileTest, MergeKeepsKnownTraitsAddsCountersAndDenialWins) {
  Profile known, anon;
  known.id = "u";
  anon.id = "a";
  Event k = MakeEvent("Identify", 300);
  SetTrait(&k, "plan", "pro");
  SetTrait(&k, "email_opt_in", true);
  ApplyEvent(rules_, k, &known);
  Event a = MakeEvent("Form Error", 100);
  a.user_id.clear();
  a.anonymous_id = "a";
  SetTrait(&a, "plan", "free");
  SetTrait(&a, "tenure_days", "3");
  SetTrait(&a, "email_opt_in", false);
  ApplyEvent(rules_, a, &anon);
  MergeProfiles(rules_, std::move(anon), &known);
  EXPECT_EQ(known.events, 2u);
  EXPECT_EQ(known.first_seen, 100);
  EXPECT_EQ(known.traits[catalog_.TraitId("plan")].text, "pro");
  EXPECT_TRUE(known.has_trait[catalog_.TraitId("tenure_days")]);
  EXPECT_EQ(known.consent[0].state, ChannelConsent::State::kDenied);
  EXPECT_EQ(known.anonymous_ids, std::vector<std::string>{"a"});
  EXPECT_EQ(known.merged_ids, std::vector<std::string>{"a"});
}

TEST_F(ProfileTest, EncodingRoundTrips) {
  Profile p;
  p.id = "u";
  Event e = MakeEvent("CSAT Submitted", 123);
  SetTrait(&e, "plan", "pro");
  SetTrait(&e, "email_opt_in", false);
  e.anonymous_id = "a1";
  ApplyEvent(rules_, e, &p);
  std::string bytes;
  EncodeProfile(rules_, p, &bytes);
  Profile back;
  ASSERT_TRUE(DecodeProfile(rules_, bytes, &back).ok());
  EXPECT_EQ(ProfileToJson(rules_, back), ProfileToJson(rules_, p));
  EXPECT_FALSE(DecodeProfile(rules_, std::string_view(bytes).substr(0, bytes.size() / 2), &back).ok());
}

TEST_F(ProfileTest, EventNamesAreBounded) {
  Profile p;
  for (int i = 0; i < 100; ++i) ApplyEvent(rules_, MakeEvent("event-" + std::to_string(i), i), &p);
  EXPECT_EQ(p.event_counts.size(), Profile::kMaxEventNames + 1);
  EXPECT_EQ(p.event_counts.Count("(other)"), 100 - Profile::kMaxEventNames);
  EXPECT_EQ(p.event_counts.Count("event-0"), 1u);
  EXPECT_EQ(p.event_counts.Count("event-99"), 0u);  // counted under (other)
}

TEST(EventCounts, CountsByNameInFirstSeenOrderAndMergesByAdding) {
  EventCounts counts;
  counts.Add("Page Viewed", 1);
  counts.Add("Order Completed", 2);
  counts.Add("Page Viewed", 3);
  EXPECT_EQ(counts.Count("Page Viewed"), 4u);
  EXPECT_EQ(counts.Count("Order Completed"), 2u);
  EXPECT_EQ(counts.Count("page viewed"), 0u);
  std::vector<std::pair<std::string, uint64_t>> listed;
  counts.ForEach([&](std::string_view name, uint64_t n) { listed.emplace_back(name, n); });
  EXPECT_EQ(listed, (std::vector<std::pair<std::string, uint64_t>>{{"Page Viewed", 4}, {"Order Completed", 2}}));
  EventCounts same;
  same.Add("Page Viewed", 4);
  same.Add("Order Completed", 2);
  EXPECT_EQ(same, counts);
  same.Add("Order Completed", 1);
  EXPECT_FALSE(same == counts);
}

}  // namespace
}  // namespace upfront
