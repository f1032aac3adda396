#include "src/measure/scorecard.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>

#include "absl/strings/str_cat.h"

#include "src/measure/report_html.h"
#include "src/measure/scorecard_test_util.h"

namespace upfront {
namespace {

using scorecard_testing::Headline;
using scorecard_testing::LoadTestPolicy;
using scorecard_testing::Overall;
using scorecard_testing::RecordBuilder;
using scorecard_testing::T0;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr Micros kDay = kMicrosPerDay;
constexpr Micros kSecond = kMicrosPerSecond;

ScorecardOptions Range(Micros from, Micros to) {
  ScorecardOptions o;
  o.from = from;
  o.to = to;
  return o;
}

nlohmann::json Compute(const ScorecardInput& input, const Policy& policy,
                       const ScorecardOptions& options) {
  absl::StatusOr<nlohmann::json> card = ComputeScorecard(input, policy, options);
  EXPECT_TRUE(card.ok()) << card.status();
  return card.ok() ? *card : nlohmann::json::object();
}

// ---- the per-contact rules, at their edges ----

TEST(ScorecardMetrics, FcrCountsARecontactExactlySevenDaysAfterTheResolution) {
  const Micros open = T0(), resolved = T0() + kMicrosPerHour;
  std::vector<ContactFate> fates;
  auto fcr_with_next_at = [&](Micros next) {
    const Micros opens[] = {open, next};
    const Micros resolves[] = {resolved};
    EvaluateContacts(opens, resolves, next + 30 * kDay, &fates);
    return fates.at(0).fcr;
  };
  EXPECT_EQ(fcr_with_next_at(resolved + 7 * kDay - kSecond), Fate::kNo) << "one second inside";
  EXPECT_EQ(fcr_with_next_at(resolved + 7 * kDay), Fate::kNo)
      << "exactly at 7 x 24 h is within 7 days";
  EXPECT_EQ(fcr_with_next_at(resolved + 7 * kDay + kSecond), Fate::kYes) << "one second outside";
}

TEST(ScorecardMetrics, FcrIsPendingUntilSevenDaysHavePassed) {
  const Micros opens[] = {T0()};
  const Micros resolves[] = {T0() + kMicrosPerHour};
  std::vector<ContactFate> fates;
  EvaluateContacts(opens, resolves, resolves[0] + 7 * kDay - kSecond, &fates);
  EXPECT_EQ(fates[0].fcr, Fate::kPending);
  EvaluateContacts(opens, resolves, resolves[0] + 7 * kDay, &fates);
  EXPECT_EQ(fates[0].fcr, Fate::kYes);
  EXPECT_EQ(fates[0].resolved_at, resolves[0]);

  const Micros unresolved[] = {T0()};
  EvaluateContacts(unresolved, {}, T0() + 60 * kDay, &fates);
  EXPECT_EQ(fates[0].fcr, Fate::kPending) << "an open case is not resolved yet";
  EXPECT_EQ(fates[0].resolved_at, kNever);
}

TEST(ScorecardMetrics, ANewContactBeforeTheResolutionIsNotFirstContactResolution) {
  const Micros opens[] = {T0(), T0() + kDay};
  const Micros resolves[] = {T0() + 2 * kDay};
  std::vector<ContactFate> fates;
  EvaluateContacts(opens, resolves, T0() + 60 * kDay, &fates);
  ASSERT_EQ(fates.size(), 2u);
  EXPECT_EQ(fates[0].fcr, Fate::kNo);
  EXPECT_EQ(fates[0].resolved_at, kNever) << "the resolution belongs to the newer contact";
  EXPECT_EQ(fates[1].fcr, Fate::kYes);
  EXPECT_EQ(fates[1].resolved_at, resolves[0]);
}

TEST(ScorecardMetrics, RecontactWindowsIncludeTheirEdges) {
  std::vector<ContactFate> fates;
  auto with_next_at = [&](Micros delta) {
    const Micros opens[] = {T0(), T0() + delta};
    EvaluateContacts(opens, {}, T0() + 60 * kDay, &fates);
    return fates.at(0);
  };
  EXPECT_EQ(with_next_at(7 * kDay - kSecond).recontact_7d, Fate::kYes);
  EXPECT_EQ(with_next_at(7 * kDay).recontact_7d, Fate::kYes);
  EXPECT_EQ(with_next_at(7 * kDay + kSecond).recontact_7d, Fate::kNo);
  EXPECT_EQ(with_next_at(7 * kDay + kSecond).recontact_14d, Fate::kYes);
  EXPECT_EQ(with_next_at(14 * kDay - kSecond).recontact_14d, Fate::kYes);
  EXPECT_EQ(with_next_at(14 * kDay).recontact_14d, Fate::kYes);
  EXPECT_EQ(with_next_at(14 * kDay + kSecond).recontact_14d, Fate::kNo);

  const Micros alone[] = {T0()};
  EvaluateContacts(alone, {}, T0() + 7 * kDay - kSecond, &fates);
  EXPECT_EQ(fates[0].recontact_7d, Fate::kPending);
  EvaluateContacts(alone, {}, T0() + 7 * kDay, &fates);
  EXPECT_EQ(fates[0].recontact_7d, Fate::kNo);
  EXPECT_EQ(fates[0].recontact_14d, Fate::kPending);
}

TEST(ScorecardMetrics, JourneysAreAbandonedWhenTheDeadlinePassesWithoutTheGoal) {
  const Micros w = 30 * kMicrosPerMinute;
  std::vector<JourneyFate> fates;
  std::vector<JourneyStep> steps = {{T0(), true}, {T0() + w, false}};
  EvaluateJourneys(steps, w, T0() + kDay, &fates);
  ASSERT_EQ(fates.size(), 1u);
  EXPECT_EQ(fates[0].abandoned, Fate::kNo)
      << "the goal exactly at the deadline completes the journey";

  steps = {{T0(), true}, {T0() + w + kSecond, false}};
  EvaluateJourneys(steps, w, T0() + kDay, &fates);
  ASSERT_EQ(fates.size(), 1u);
  EXPECT_EQ(fates[0].abandoned, Fate::kYes);

  steps = {
      {T0(), true}, {T0() + 20 * kMicrosPerMinute, true}, {T0() + 45 * kMicrosPerMinute, false}};
  EvaluateJourneys(steps, w, T0() + kDay, &fates);
  ASSERT_EQ(fates.size(), 1u) << "a second start within the deadline restarts the clock";
  EXPECT_EQ(fates[0].abandoned, Fate::kNo);
  EXPECT_EQ(fates[0].started_at, T0());

  steps = {{T0(), true}};
  EvaluateJourneys(steps, w, T0() + w - kSecond, &fates);
  EXPECT_EQ(fates[0].abandoned, Fate::kPending);
}

TEST(ScorecardMetrics, CatalogIsInEnumOrderAndNamesMatchTargets) {
  const auto infos = AllMetricInfos();
  ASSERT_EQ(infos.size(), static_cast<size_t>(kScorecardMetricCount));
  for (size_t i = 0; i < infos.size(); ++i) {
    EXPECT_EQ(static_cast<size_t>(infos[i].metric), i);
    EXPECT_EQ(MetricByName(infos[i].name), infos[i].metric);
  }
  // Every name is one the policy accepts as a target.
  std::string yaml = "targets:\n";
  for (const MetricInfo& m : infos) yaml += "  " + std::string(m.name) + ": 1\n";
  const Policy policy = LoadTestPolicy(0.1, yaml);
  EXPECT_EQ(policy.targets.size(), infos.size());
}

// ---- the scorecard over planted data ----

// The edges through the whole scorecard: every customer opens one contact
// in the window (a one-day window) and comes back at an edge. The policy's
// targets read the treated values back (the policy has no holdout).
TEST(Scorecard, FcrAndRecontactEdgesInTheScorecard) {
  const Policy policy =
      LoadTestPolicy(0, "targets:\n  fcr: 0.5\n  recontact_7d: 0.1\n  recontact_14d: 0.5\n");
  const Micros open = T0() + kMicrosPerHour, resolved = open + 2 * kMicrosPerHour;
  ScorecardOptions options = Range(T0(), T0() + kDay);
  options.as_of = T0() + 40 * kDay;
  auto actual = [](const nlohmann::json& card, const std::string& metric) {
    for (const nlohmann::json& t : card["targets"]) {
      if (t["metric"] == metric) return t["actual"].get<double>();
    }
    ADD_FAILURE() << metric;
    return -1.0;
  };

  RecordBuilder fcr(
      policy);  // resolved, then a new contact 1 s inside, exactly at, 1 s outside 7 days
  for (Micros next :
       {resolved + 7 * kDay - kSecond, resolved + 7 * kDay, resolved + 7 * kDay + kSecond}) {
    const uint32_t c = fcr.Customer(false);
    fcr.Event(c, open, OutcomeRole::kContactOpened, NAN, "chat", "billing");
    fcr.Event(c, resolved, OutcomeRole::kContactResolved);
    fcr.Event(c, next, OutcomeRole::kContactOpened);
  }
  nlohmann::json card = Compute(fcr.input, policy, options);
  EXPECT_DOUBLE_EQ(actual(card, "fcr"), 1.0 / 3)
      << "only the recontact one second outside 7 days passes";
  EXPECT_DOUBLE_EQ(actual(card, "recontact_7d"), 0.0) << "7 days + 2 h after the opening";
  EXPECT_DOUBLE_EQ(actual(card, "recontact_14d"), 1.0);
  EXPECT_EQ(Headline(card, "fcr")["n_treatment"], 3) << "customers, the unit of the variance";

  RecordBuilder recontact(
      policy);  // unresolved; a new contact 1 s inside, exactly at, 1 s outside 14 days
  for (Micros next : {open + 14 * kDay - kSecond, open + 14 * kDay, open + 14 * kDay + kSecond}) {
    const uint32_t c = recontact.Customer(false);
    recontact.Event(c, open, OutcomeRole::kContactOpened, NAN, "email", "billing");
    recontact.Event(c, next, OutcomeRole::kContactOpened);
  }
  card = Compute(recontact.input, policy, options);
  EXPECT_DOUBLE_EQ(actual(card, "recontact_14d"), 2.0 / 3);
  EXPECT_DOUBLE_EQ(actual(card, "recontact_7d"), 0.0);
  EXPECT_DOUBLE_EQ(actual(card, "fcr"), 0.0) << "a new contact before any resolution";

  // As of one second before the first follow-up window closes, FCR is not known yet.
  options.as_of = resolved + 7 * kDay - kSecond;
  RecordBuilder pending(policy);
  const uint32_t c = pending.Customer(false);
  pending.Event(c, open, OutcomeRole::kContactOpened);
  pending.Event(c, resolved, OutcomeRole::kContactResolved);
  card = Compute(pending.input, policy, options);
  EXPECT_EQ(Headline(card, "fcr")["n_treatment"], 0);
}

TEST(Scorecard, PlantedCsatLiftIsFoundWithAnIntervalThatCoversIt) {
  const Policy policy = LoadTestPolicy(0.5);
  RecordBuilder b(policy);
  std::mt19937_64 rng(20261125);
  const std::vector<double> holdout_p = {0.05, 0.10, 0.25, 0.35, 0.25};    // mean 3.65
  const std::vector<double> treated_p = {0.03, 0.065, 0.18, 0.375, 0.35};  // mean 3.95
  std::discrete_distribution<int> holdout_rating(holdout_p.begin(), holdout_p.end());
  std::discrete_distribution<int> treated_rating(treated_p.begin(), treated_p.end());
  std::uniform_int_distribution<int> nps(0, 10);
  for (int i = 0; i < 20000; ++i) {
    const bool holdout = i % 2 == 0;
    const uint32_t c = b.Customer(holdout);
    const Micros at = T0() + (i % 13) * kDay + (i % 24) * kMicrosPerHour;
    const int rating = 1 + (holdout ? holdout_rating(rng) : treated_rating(rng));
    b.Event(c, at, OutcomeRole::kCsat, rating);
    b.Event(c, at + kMicrosPerMinute, OutcomeRole::kNps, nps(rng));  // no effect planted
  }
  const nlohmann::json card = Compute(b.input, policy, Range(T0(), T0() + 14 * kDay));

  const nlohmann::json& mean = Overall(card, "cohort", "csat_mean");
  ASSERT_TRUE(mean.is_object());
  EXPECT_LE(mean["ci_low"].get<double>(), 0.3);
  EXPECT_GE(mean["ci_high"].get<double>(), 0.3);
  EXPECT_GT(mean["ci_low"].get<double>(), 0.2) << "and is narrow enough to matter";
  EXPECT_NEAR(mean["difference"].get<double>(), 0.3, 0.05);
  EXPECT_EQ(mean["verdict"], "better");
  EXPECT_EQ(mean["n_control"], 10000);

  const nlohmann::json& share = Overall(card, "cohort", "csat");
  EXPECT_NEAR(share["control"].get<double>(), 0.60, 0.02);
  EXPECT_NEAR(share["treatment"].get<double>(), 0.725, 0.02);
  EXPECT_TRUE(share["called"].get<bool>());

  const nlohmann::json& headline = Headline(card, "csat");
  EXPECT_EQ(headline["verdict"], "better");
  const nlohmann::json& npsr = Overall(card, "cohort", "nps");
  EXPECT_LE(npsr["ci_low"].get<double>(), 0);
  EXPECT_GE(npsr["ci_high"].get<double>(), 0);
  EXPECT_NE(npsr["verdict"], "better");
  EXPECT_THAT(card["summary"].get<std::string>(), HasSubstr("CSAT"));
}

// Clustered ratings (several per customer, with a customer effect) under no
// treatment effect: the delta-method interval must cover 0 about 95% of the
// time and the p-values must be roughly uniform. An interval that treated
// ratings as independent would cover far less often.
TEST(Scorecard, NullEffectOnClusteredRatingsCoversZeroAboutNinetyFivePercent) {
  const Policy policy = LoadTestPolicy(0.5);
  constexpr int kRuns = 200;
  int covered = 0, below_05 = 0, below_50 = 0;
  RecordBuilder ids(policy);
  std::vector<uint32_t> holdout, treated;
  for (int i = 0; i < 600; ++i) (i % 2 ? treated : holdout).push_back(ids.Customer(i % 2 == 0));
  for (int run = 0; run < kRuns; ++run) {
    std::mt19937_64 rng(1000 + run);
    std::normal_distribution<double> customer_effect(0, 0.35);
    std::uniform_int_distribution<int> count(1, 8);
    std::uniform_real_distribution<double> u(0, 1);
    ScorecardInput input;
    input.customer_ids = ids.input.customer_ids;
    for (uint32_t c = 0; c < input.customer_ids.size(); ++c) {
      const double p = std::clamp(0.6 + customer_effect(rng), 0.02, 0.98);
      const int n = count(rng);
      for (int k = 0; k < n; ++k) {
        ScorecardEvent e;
        e.customer = c;
        e.at = T0() + k * kMicrosPerHour;
        e.kind = static_cast<uint8_t>(OutcomeRole::kCsat);
        e.value = u(rng) < p ? 5 : 2;
        input.events.push_back(e);
      }
    }
    ScorecardOptions options = Range(T0(), T0() + kDay);
    const nlohmann::json card = Compute(input, policy, options);
    const nlohmann::json& r = Overall(card, "cohort", "csat");
    ASSERT_TRUE(r.is_object());
    covered += r["ci_low"].get<double>() <= 0 && r["ci_high"].get<double>() >= 0;
    const double p = r["p_value"].get<double>();
    below_05 += p < 0.05;
    below_50 += p < 0.5;
  }
  const double coverage = static_cast<double>(covered) / kRuns;
  EXPECT_GE(coverage, 0.91);
  EXPECT_LE(coverage, 0.99);
  EXPECT_LE(below_05, 0.09 * kRuns);
  EXPECT_NEAR(static_cast<double>(below_50) / kRuns, 0.5, 0.1);
}

TEST(Scorecard, SampleRatioMismatchIsDetectedWhenTheHoldoutShareIsOff) {
  const Policy policy = LoadTestPolicy(0.2);
  auto build = [&](double keep_treated) {
    RecordBuilder b(policy);
    std::mt19937_64 rng(7);
    std::uniform_real_distribution<double> u(0, 1);
    for (int i = 0; i < 10000; ++i) {
      const std::string id = absl::StrCat("c", i);
      const uint32_t c = b.Add(id);
      // Lose some treated customers' events, as a logging bug would.
      if (!b.holdout(c) && u(rng) > keep_treated) continue;
      b.Event(c, T0() + kDay, OutcomeRole::kPurchase, 20);
    }
    return Compute(b.input, policy, Range(T0(), T0() + 14 * kDay));
  };
  const nlohmann::json fine = build(1.0);
  ASSERT_FALSE(fine["srm"].empty());
  EXPECT_FALSE(fine["srm"][0]["mismatch"].get<bool>());
  for (const nlohmann::json& w : fine["warnings"]) EXPECT_NE(w["kind"], "sample_ratio_mismatch");

  const nlohmann::json off = build(0.85);
  EXPECT_TRUE(off["srm"][0]["mismatch"].get<bool>());
  EXPECT_LT(off["srm"][0]["p_value"].get<double>(), 1e-6);
  ASSERT_FALSE(off["warnings"].empty());
  EXPECT_EQ(off["warnings"][0]["kind"], "sample_ratio_mismatch");
  EXPECT_THAT(off["warnings"][0]["message"].get<std::string>(), HasSubstr("Treatment vs holdout"));
  EXPECT_THAT(RenderScorecardHtml(off),
              HasSubstr("class=\"warning\">&#9888; Sample ratio mismatch"));
}

TEST(Scorecard, NpsOfAHandMadeSet) {
  const Policy policy = LoadTestPolicy(0);
  RecordBuilder b(policy);
  // Promoters 10, 9, 9, 10 (one customer first answered 0, then 10: the
  // latest counts); passives 8, 7; detractors 6, 5, 0, 3.
  const int answers[] = {10, 9, 9, 8, 7, 6, 5, 0, 3};
  for (int a : answers) b.Event(b.Customer(false), T0() + kDay, OutcomeRole::kNps, a);
  const uint32_t changed = b.Customer(false);
  b.Event(changed, T0() + kDay, OutcomeRole::kNps, 0);
  b.Event(changed, T0() + 2 * kDay, OutcomeRole::kNps, 10);
  b.Event(b.Customer(false), T0() + kDay, OutcomeRole::kNps, 11);   // outside the scale: ignored
  b.Event(b.Customer(false), T0() + kDay, OutcomeRole::kNps, 8.5);  // not a whole answer: ignored
  const nlohmann::json card = Compute(b.input, policy, Range(T0(), T0() + 14 * kDay));
  const nlohmann::json& nps = Headline(card, "nps");
  EXPECT_EQ(nps["n_treatment"], 10);
  EXPECT_DOUBLE_EQ(nps["treatment"].get<double>(), 0.0) << "4 promoters - 4 detractors of 10";

  // 3 promoters, 1 detractor of 4: +50.
  RecordBuilder b2(policy);
  for (int a : {9, 10, 10, 2}) b2.Event(b2.Customer(false), T0() + kDay, OutcomeRole::kNps, a);
  const nlohmann::json card2 = Compute(b2.input, policy, Range(T0(), T0() + 14 * kDay));
  EXPECT_DOUBLE_EQ(Headline(card2, "nps")["treatment"].get<double>(), 50.0);
}

TEST(Scorecard, TargetsAreComparedPerMetricSegmentAndChannel) {
  const Policy policy = LoadTestPolicy(0, R"(targets:
  csat: {default: 0.7, vip: 0.9}
  fcr: {channels: {chat: 0.6, email: 0.9}}
  ltv: 100
)");
  ASSERT_EQ(policy.targets.size(), 5u);
  RecordBuilder b(policy);
  const Micros at = T0() + kDay;
  // CSAT: 3 of 4 ratings are 4-5 overall (75%); the vip customer rated 5.
  const uint32_t vip = b.Customer(false, "vip");
  b.Event(vip, at, OutcomeRole::kCsat, 5);
  for (double s : {4.0, 5.0, 2.0}) b.Event(b.Customer(false), at, OutcomeRole::kCsat, s);
  // FCR by channel: chat 1 of 2, email 1 of 1.
  for (auto [channel, resolved_first] :
       {std::pair{"chat", true}, {"chat", false}, {"email", true}}) {
    const uint32_t c = b.Customer(false);
    b.Event(c, at, OutcomeRole::kContactOpened, NAN, channel);
    b.Event(c, at + kMicrosPerHour, OutcomeRole::kContactResolved);
    if (!resolved_first) b.Event(c, at + 2 * kDay, OutcomeRole::kContactOpened, NAN, channel);
  }
  ScorecardOptions options = Range(T0(), T0() + 14 * kDay);
  options.as_of = T0() + 30 * kDay;
  const nlohmann::json card = Compute(b.input, policy, options);
  const nlohmann::json& targets = card["targets"];
  ASSERT_EQ(targets.size(), 5u);
  auto find = [&](const std::string& metric, const std::string& segment,
                  const std::string& channel) {
    for (const nlohmann::json& t : targets) {
      if (t["metric"] == metric && t["segment"] == segment && t["channel"] == channel) return t;
    }
    ADD_FAILURE() << metric << "/" << segment << "/" << channel;
    return nlohmann::json();
  };
  EXPECT_DOUBLE_EQ(find("csat", "", "")["actual"].get<double>(), 0.75);
  EXPECT_EQ(find("csat", "", "")["status"], "met");
  EXPECT_DOUBLE_EQ(find("csat", "vip", "")["actual"].get<double>(), 1.0);
  EXPECT_EQ(find("csat", "vip", "")["status"], "met");
  EXPECT_DOUBLE_EQ(find("fcr", "", "chat")["actual"].get<double>(), 0.5);
  EXPECT_EQ(find("fcr", "", "chat")["status"], "missed");
  // The chat customer who came back had a second chat contact, in the window too.
  EXPECT_EQ(find("fcr", "", "chat")["n"], 2);
  EXPECT_EQ(find("fcr", "", "email")["status"], "met");
  EXPECT_EQ(find("ltv", "", "")["status"], "missed");
  EXPECT_DOUBLE_EQ(find("ltv", "", "")["actual"].get<double>(), 0.0);
  EXPECT_DOUBLE_EQ(Headline(card, "csat")["target"].get<double>(), 0.7);
}

TEST(Scorecard, PrecisionOfHoldoutExposuresAndDismissalsPerIntervention) {
  const Policy policy = LoadTestPolicy(0.5);
  RecordBuilder b(policy);
  const Micros at = T0() + kDay;
  // 10 holdout exposures: 3 followed by a contact within 7 days (one exactly
  // at 7 days), 1 by a complaint, 1 by a contact a second too late.
  for (int i = 0; i < 10; ++i) {
    const uint32_t c = b.Customer(true);
    b.Exposure(c, at);
    if (i < 2) b.Event(c, at + 3 * kDay, OutcomeRole::kContactOpened);
    if (i == 2) b.Event(c, at + 7 * kDay, OutcomeRole::kContactOpened);
    if (i == 3) b.Event(c, at + kDay, OutcomeRole::kComplaint);
    if (i == 4) b.Event(c, at + 7 * kDay + kSecond, OutcomeRole::kContactOpened);
  }
  // 8 treated exposures, each acted on; 2 dismissed, 1 accepted, and one
  // dismissal 8 days later that belongs to no action.
  for (int i = 0; i < 8; ++i) {
    const uint32_t c = b.Customer(false);
    b.Exposure(c, at);
    b.Action(c, at + kSecond);
    if (i < 2) b.Event(c, at + kMicrosPerHour, OutcomeRole::kDismissed);
    if (i == 2) b.Event(c, at + kMicrosPerHour, OutcomeRole::kAccepted);
    if (i == 3) b.Event(c, at + 8 * kDay, OutcomeRole::kDismissed);
  }
  ScorecardOptions options = Range(T0(), T0() + 14 * kDay);
  options.as_of = T0() + 30 * kDay;
  options.min_per_arm = 5;
  const nlohmann::json card = Compute(b.input, policy, options);
  const nlohmann::json& help = card["signal_quality"]["interventions"][0];
  EXPECT_EQ(help["intervention"], "help");
  EXPECT_EQ(help["signals"], nlohmann::json::array({"friction"}));
  EXPECT_EQ(help["holdout_exposures"], 10);
  EXPECT_EQ(help["holdout_known"], 10);
  EXPECT_EQ(help["holdout_bad_outcomes"], 4);
  EXPECT_DOUBLE_EQ(help["precision"].get<double>(), 0.4);
  EXPECT_EQ(help["actions"], 8);
  EXPECT_DOUBLE_EQ(help["dismissal_rate"].get<double>(), 0.25);
  EXPECT_DOUBLE_EQ(help["acceptance_rate"].get<double>(), 0.125);
  EXPECT_FALSE(help["noisy"].get<bool>());
  const nlohmann::json& signal = card["signal_quality"]["signals"][0];
  EXPECT_EQ(signal["signal"], "friction");
  EXPECT_DOUBLE_EQ(signal["precision"].get<double>(), 0.4);

  // The triggered comparison exists, and dismissals are not compared with a
  // holdout that never gets contacted.
  bool triggered = false;
  for (const nlohmann::json& c : card["comparisons"]) {
    if (c["id"] == "triggered:help") {
      triggered = true;
      EXPECT_EQ(c["customers"]["control"], 10);
      EXPECT_EQ(c["customers"]["treatment"], 8);
      EXPECT_FALSE(c["metrics"].contains("dismissal_rate"));
    }
  }
  EXPECT_TRUE(triggered);
  EXPECT_DOUBLE_EQ(Headline(card, "dismissal_rate")["treatment"].get<double>(), 0.25);
}

TEST(Scorecard, BiasAuditFlagsASegmentOutsideTheFourFifthsBand) {
  const Policy policy = LoadTestPolicy(0.1);
  RecordBuilder b(policy);
  const Micros at = T0() + kDay;
  // vip: 40 of 100 acted on; default: 10 of 100. Overall 25%: vip 1.6x,
  // default 0.4x. Complaints are even (5 in each): no flag.
  for (const char* segment : {"vip", ""}) {
    const int acted = std::string(segment) == "vip" ? 40 : 10;
    for (int i = 0; i < 100; ++i) {
      const uint32_t c = b.Customer(i % 10 == 0, segment);
      b.Active(c, at);
      if (i < acted) b.Action(c, at + kSecond);
      if (i % 20 == 1) b.Event(c, at, OutcomeRole::kComplaint);
    }
  }
  ScorecardOptions options = Range(T0(), T0() + 14 * kDay);
  options.min_per_arm = 50;
  const nlohmann::json card = Compute(b.input, policy, options);
  const nlohmann::json& audit = card["bias_audit"];
  EXPECT_DOUBLE_EQ(audit["overall"]["intervention_rate"].get<double>(), 0.25);
  bool saw_vip = false, saw_default = false;
  for (const nlohmann::json& s : audit["segments"]) {
    if (s["segment"] == "vip") {
      saw_vip = true;
      EXPECT_DOUBLE_EQ(s["intervention_rate"]["value"].get<double>(), 0.4);
      EXPECT_DOUBLE_EQ(s["intervention_rate"]["ratio_to_overall"].get<double>(), 1.6);
      EXPECT_TRUE(s["intervention_rate"]["flag"].get<bool>());
      EXPECT_FALSE(s["complaint_rate"]["flag"].get<bool>());
    }
    if (s["segment"] == "default") {
      saw_default = true;
      EXPECT_TRUE(s["intervention_rate"]["flag"].get<bool>());
      EXPECT_LT(s["intervention_rate"]["p_value_vs_rest"].get<double>(), 0.001);
    }
  }
  EXPECT_TRUE(saw_vip && saw_default);
  EXPECT_EQ(audit["flags"].size(), 2u);
  bool warned = false;
  for (const nlohmann::json& w : card["warnings"]) warned = warned || w["kind"] == "bias_disparity";
  EXPECT_TRUE(warned);

  // Below the minimum sample nothing is flagged.
  options.min_per_arm = 500;
  EXPECT_TRUE(Compute(b.input, policy, options)["bias_audit"]["flags"].empty());
}

TEST(Scorecard, CupedUsesThePrePeriodRevenueToNarrowTheInterval) {
  const Policy policy = LoadTestPolicy(0.5);
  RecordBuilder b(policy);
  std::mt19937_64 rng(3);
  std::lognormal_distribution<double> spend(3.5, 0.6);
  std::normal_distribution<double> noise(0, 5);
  const Micros from = T0() + 14 * kDay;
  for (int i = 0; i < 4000; ++i) {
    const bool holdout = i % 2 == 0;
    const uint32_t c = b.Customer(holdout);
    const double habit = spend(rng);
    b.Event(c, T0() + kDay, OutcomeRole::kPurchase, habit + noise(rng));  // pre-period
    b.Event(c, from + kDay, OutcomeRole::kPurchase,
            habit + noise(rng) + (holdout ? 0 : 2));  // window, +2 planted
  }
  const nlohmann::json card = Compute(b.input, policy, Range(from, from + 14 * kDay));
  const nlohmann::json& ltv = Overall(card, "cohort", "ltv");
  ASSERT_TRUE(ltv.contains("cuped"));
  EXPECT_GT(ltv["cuped"]["variance_reduction"].get<double>(), 0.5);
  const double adjusted = ltv["ci_high"].get<double>() - ltv["ci_low"].get<double>();
  const double raw = ltv["cuped"]["unadjusted"]["ci_high"].get<double>() -
                     ltv["cuped"]["unadjusted"]["ci_low"].get<double>();
  EXPECT_LT(adjusted, 0.7 * raw);
  EXPECT_LE(ltv["ci_low"].get<double>(), 2.0);
  EXPECT_GE(ltv["ci_high"].get<double>(), 2.0);
  EXPECT_EQ(ltv["verdict"], "better");
  EXPECT_DOUBLE_EQ(ltv["treatment"].get<double>() - ltv["control"].get<double>(),
                   ltv["cuped"]["unadjusted"]["difference"].get<double>())
      << "the arm values are the observed means";
  const nlohmann::json& headline = Headline(card, "ltv");
  EXPECT_NEAR(headline["projected_annual"]["treatment"].get<double>(),
              headline["treatment"].get<double>() * 365 / 14, 1e-9);
  // The baseline shows the pre-period, where nothing was planted.
  const nlohmann::json& pre = card["baseline"]["metrics"]["ltv"];
  EXPECT_LE(pre["ci_low"].get<double>(), 0);
  EXPECT_GE(pre["ci_high"].get<double>(), 0);
}

TEST(Scorecard, ExperimentVariantsAreComparedWithTheirControlAndCheckedForSrm) {
  const Policy policy = LoadTestPolicy(0.1, R"(  help_test:
    intervention: help
    variants:
      control: {share: 0.5}
      lower:   {share: 0.5, threshold: {default: 0.4}}
)");
  ASSERT_EQ(policy.experiments.size(), 1u);
  RecordBuilder b(policy);
  for (int i = 0; i < 3000; ++i) {
    const uint32_t c = b.Add(absl::StrCat("e", i));
    b.Event(c, T0() + kDay, OutcomeRole::kPurchase, 10);
    if (!b.holdout(c)) b.Action(c, T0() + kDay);
  }
  const nlohmann::json card = Compute(b.input, policy, Range(T0(), T0() + 14 * kDay));
  bool found = false;
  for (const nlohmann::json& c : card["comparisons"]) {
    if (c["id"] != "experiment:help_test:lower") continue;
    found = true;
    EXPECT_EQ(c["control"], "control");
    EXPECT_TRUE(c["metrics"].contains("actions_per_customer_day"))
        << "fatigue is compared between variants";
    EXPECT_THAT(c["adjustment"]["primary"].get<std::string>(), HasSubstr("Holm"));
  }
  EXPECT_TRUE(found);
  bool srm = false;
  for (const nlohmann::json& s : card["srm"]) {
    if (s["comparison"] == "experiment:help_test") {
      srm = true;
      EXPECT_FALSE(s["mismatch"].get<bool>());
    }
  }
  EXPECT_TRUE(srm);
  for (const nlohmann::json& c : card["comparisons"]) {
    EXPECT_NE(c["kind"], "triggered_experiment")
        << "variants that move the threshold expose different customers";
  }
}

TEST(Scorecard, AdjustmentAndSequentialOptionsAreStated) {
  const Policy policy = LoadTestPolicy(0.5);
  RecordBuilder b(policy);
  std::mt19937_64 rng(5);
  std::uniform_int_distribution<int> rating(1, 5);
  for (int i = 0; i < 2000; ++i)
    b.Event(b.Customer(i % 2 == 0), T0() + kDay, OutcomeRole::kCsat, rating(rng));
  ScorecardOptions options = Range(T0(), T0() + 14 * kDay);
  const nlohmann::json fixed = Compute(b.input, policy, options);
  options.sequential = true;
  options.adjustment = PValueAdjustment::kBenjaminiHochberg;
  const nlohmann::json always = Compute(b.input, policy, options);
  EXPECT_EQ(always["options"]["adjustment"], "benjamini_hochberg");
  EXPECT_TRUE(always["options"]["sequential"].get<bool>());
  const nlohmann::json& a = Overall(always, "cohort", "csat_mean");
  const nlohmann::json& f = Overall(fixed, "cohort", "csat_mean");
  EXPECT_GT(a["ci_high"].get<double>() - a["ci_low"].get<double>(),
            1.4 * (f["ci_high"].get<double>() - f["ci_low"].get<double>()));
  EXPECT_THAT(a["method"].get<std::string>(), HasSubstr("always-valid"));
  for (const nlohmann::json& c : always["comparisons"]) {
    if (c["id"] == "cohort") {
      EXPECT_THAT(c["adjustment"]["primary"].get<std::string>(), HasSubstr("Benjamini"));
    }
  }
  EXPECT_GE(f["p_adjusted"].get<double>(), f["p_value"].get<double>());
}

TEST(Scorecard, WindowsResolveToTwoWeeksMonthAndAll) {
  const Policy policy = LoadTestPolicy(0.1);
  RecordBuilder b(policy);
  const uint32_t c = b.Customer(false);
  b.Event(c, *ParseTimestamp("2026-10-03T08:00:00Z"), OutcomeRole::kPurchase, 5);
  b.Event(c, *ParseTimestamp("2026-11-20T10:30:00Z"), OutcomeRole::kPurchase, 5);
  ScorecardOptions o;
  nlohmann::json card = Compute(b.input, policy, o);
  EXPECT_EQ(card["window"]["to"], "2026-11-21T00:00:00.000Z");
  EXPECT_EQ(card["window"]["from"], "2026-11-07T00:00:00.000Z");
  EXPECT_EQ(card["window"]["pre_from"], "2026-10-24T00:00:00.000Z");
  EXPECT_EQ(card["window"]["name"], "two_weeks");
  o.window = ScorecardWindow::kMonth;
  card = Compute(b.input, policy, o);
  EXPECT_EQ(card["window"]["from"], "2026-11-01T00:00:00.000Z");
  o.window = ScorecardWindow::kAll;
  card = Compute(b.input, policy, o);
  EXPECT_EQ(card["window"]["from"], "2026-10-03T00:00:00.000Z");
  EXPECT_EQ(card["population"]["active_customers"], 1);
  EXPECT_EQ(card["series"]["weeks"].size(), 7u);

  EXPECT_TRUE(ParseScorecardWindow("two-weeks").ok());
  EXPECT_FALSE(ParseScorecardWindow("fortnight").ok());
  EXPECT_EQ(*ParsePValueAdjustment("bh"), PValueAdjustment::kBenjaminiHochberg);
}

TEST(Scorecard, RejectsRecordsThatPointOutsideTheInput) {
  const Policy policy = LoadTestPolicy(0.1);
  ScorecardInput input;
  input.customer_ids = {"a"};
  ScorecardEvent e;
  e.customer = 3;
  input.events.push_back(e);
  EXPECT_EQ(ComputeScorecard(input, policy, {}).status().code(),
            absl::StatusCode::kInvalidArgument);
  input.events[0].customer = 0;
  input.events[0].channel = 2;
  EXPECT_EQ(ComputeScorecard(input, policy, {}).status().code(),
            absl::StatusCode::kInvalidArgument);
  input.events[0].channel = kNoLabel;
  ScorecardOptions bad;
  bad.confidence = 1.5;
  EXPECT_EQ(ComputeScorecard(input, policy, bad).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ComputeScorecard(input, policy, Range(T0(), T0())).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(ComputeScorecard(input, policy, {}).ok());
  EXPECT_TRUE(ComputeScorecard(ScorecardInput{}, policy, {}).ok())
      << "no data is a scorecard with a warning";
}

// ---- the page ----

TEST(ScorecardHtml, ShowsTheHeadlineMetricsGuardrailsAndPlots) {
  const Policy policy = LoadTestPolicy(0.5, "targets:\n  csat: 0.7\n");
  RecordBuilder b(policy);
  std::mt19937_64 rng(11);
  std::uniform_int_distribution<int> rating(1, 5), nps(0, 10);
  std::uniform_real_distribution<double> revenue(5, 50);
  for (int i = 0; i < 1000; ++i) {
    const uint32_t c = b.Customer(i % 2 == 0, i % 5 == 0 ? "vip" : "");
    const Micros at = T0() + (i % 28) * kDay;
    b.Event(c, at, OutcomeRole::kCsat, rating(rng), i % 3 ? "chat" : "email");
    b.Event(c, at, OutcomeRole::kNps, nps(rng));
    b.Event(c, at, OutcomeRole::kPurchase, revenue(rng));
    b.Event(c, at, OutcomeRole::kContactOpened, NAN, "chat", "billing").local_hour =
        static_cast<uint8_t>(i % 24);
    b.Event(c, at + kMicrosPerHour, OutcomeRole::kContactResolved);
  }
  ScorecardOptions options = Range(T0() + 14 * kDay, T0() + 28 * kDay);
  options.min_per_arm = 50;
  const nlohmann::json card = Compute(b.input, policy, options);
  const std::string html = RenderScorecardHtml(card);
  for (const char* text :
       {"CSAT", "NPS", "First-contact resolution", "Revenue per customer (LTV)", "Opt-outs",
        "Complaints", "Contact fatigue", "<svg", "class=\"zero\"", "<path", "By segment",
        "By channel", "By local hour of day", "Targets", "Sample ratio checks", "Holm"}) {
    EXPECT_THAT(html, HasSubstr(text));
  }
  EXPECT_THAT(html, Not(HasSubstr("<script")));
  EXPECT_THAT(html, Not(HasSubstr("src=\"http")));  // nothing fetched
  EXPECT_THAT(html, Not(HasSubstr("<link")));
  EXPECT_THAT(html, HasSubstr("</html>"));
  EXPECT_EQ(card["series"]["metrics"]["csat"]["treatment"].size(), card["series"]["weeks"].size());

  // Text from the data is escaped.
  nlohmann::json hostile = card;
  hostile["warnings"] =
      nlohmann::json::array({{{"kind", "x"}, {"message", "<img src=x onerror=alert(1)>"}}});
  EXPECT_THAT(RenderScorecardHtml(hostile), Not(HasSubstr("<img")));
  EXPECT_THAT(RenderScorecardHtml(nlohmann::json::object()), HasSubstr("</html>"))
      << "a partial card still renders";
}

TEST(ScorecardHtml, ForestPlotDrawsEachIntervalAroundAZeroLine) {
  const std::string svg =
      RenderForestPlotSvg("Lifts", {{"CSAT", 5, 2, 8, "better"}, {"NPS", -1, -4, 2, ""}});
  EXPECT_THAT(svg, HasSubstr("class=\"zero\""));
  EXPECT_THAT(svg, HasSubstr("#12833a")) << "a called improvement is green";
  EXPECT_EQ(std::count(svg.begin(), svg.end(), '\n') > 4, true);
  const std::string chart =
      RenderLineChartSvg("CSAT", {"11-02", "11-09", "11-16"},
                         {{"treatment", {0.8, NAN, 0.82}, "#00f", false}}, "share");
  EXPECT_EQ(std::count(chart.begin(), chart.end(), 'M'), 2) << "a gap splits the line";
  EXPECT_THAT(chart, HasSubstr("82.0%"));
}

}  // namespace
}  // namespace upfront
