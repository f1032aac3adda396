#include "src/sim/simulator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "src/decide/cohort.h"

namespace upfront::sim {
namespace {

std::string Source(const std::string& relative) { return std::string(UPFRONT_SOURCE_DIR) + "/" + relative; }

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::shared_ptr<const Policy> PolicyFromText(const std::string& yaml, const std::string& name) {
  absl::StatusOr<Policy> policy = LoadPolicyText(yaml, name);
  EXPECT_TRUE(policy.ok()) << policy.status();
  if (!policy.ok()) return nullptr;
  return std::make_shared<Policy>(*std::move(policy));
}

std::shared_ptr<const Policy> ExamplePolicy(const std::string& domain) {
  return PolicyFromText(ReadText(Source("examples/" + domain + "/policy.yaml")), domain + "/policy.yaml");
}

PopulationModel ExamplePopulation(const std::string& domain) {
  absl::StatusOr<PopulationModel> model = LoadPopulationFile(Source("examples/" + domain + "/population.yaml"));
  EXPECT_TRUE(model.ok()) << model.status();
  return model.ok() ? *std::move(model) : PopulationModel();
}

struct SimRun {
  SimulationResult result;
  std::string events;
};

SimRun Simulate(std::shared_ptr<const Policy> policy, const PopulationModel& population, uint32_t customers, int days,
             uint64_t seed, SimulationOptions::TickBarrier barrier = SimulationOptions().barrier) {
  SimRun run;
  SimulationOptions options;
  options.barrier = barrier;
  options.customers = customers;
  options.days = days;
  options.seed = seed;
  options.events_out = [&run](std::string_view jsonl) { run.events.append(jsonl); };
  absl::StatusOr<SimulationResult> result = Simulate(policy, population, options);
  EXPECT_TRUE(result.ok()) << result.status();
  if (result.ok()) run.result = *std::move(result);
  return run;
}

uint64_t U(const nlohmann::json& j, std::initializer_list<const char*> path) {
  const nlohmann::json* at = &j;
  for (const char* key : path) at = &at->at(key);
  return at->get<uint64_t>();
}

const nlohmann::json& Headline(const nlohmann::json& summary, std::string_view metric) {
  for (const nlohmann::json& h : summary.at("headline")) {
    if (h.at("metric") == metric) return h;
  }
  static const nlohmann::json kNone;
  ADD_FAILURE() << "no headline metric " << metric;
  return kNone;
}

TEST(SimulatorTest, SameSeedGivesByteIdenticalEventsSummaryAndTruth) {
  std::shared_ptr<const Policy> policy = ExamplePolicy("ecommerce");
  ASSERT_NE(policy, nullptr);
  const PopulationModel population = ExamplePopulation("ecommerce");
  std::string events;
  for (const auto barrier : {SimulationOptions::TickBarrier::kClock, SimulationOptions::TickBarrier::kCheckpoint}) {
    SCOPED_TRACE(barrier == SimulationOptions::TickBarrier::kClock ? "barrier clock" : "barrier checkpoint");
    SimRun first = Simulate(policy, population, 400, 7, 5, barrier);
    SimRun second = Simulate(policy, population, 400, 7, 5, barrier);
    ASSERT_GT(first.events.size(), 0u);
    EXPECT_TRUE(first.events == second.events) << "the generated events differ";
    EXPECT_EQ(first.result.summary.dump(), second.result.summary.dump());
    EXPECT_EQ(first.result.truth.dump(), second.result.truth.dump());
    EXPECT_EQ(first.result.scorecard.dump(), second.result.scorecard.dump());
    EXPECT_GT(U(first.result.summary, {"decisions", "points"}), 0u);
    EXPECT_EQ(U(first.result.summary, {"events", "rejected"}), 0u);
    EXPECT_EQ(U(first.result.summary, {"events", "late"}), 0u);
    events = std::move(first.events);
  }

  SimRun other = Simulate(policy, population, 400, 7, 6);
  EXPECT_NE(events, other.events) << "another seed, another population";
}

// A customer's life depends on their own stream only: simulating more
// customers leaves the first ones' events as they were (before any help
// changes them, which depends on the engine's view of the same customer).
TEST(SimulatorTest, AddingCustomersDoesNotReshuffleOthers) {
  std::shared_ptr<const Policy> policy = ExamplePolicy("ecommerce");
  const PopulationModel population = ExamplePopulation("ecommerce");
  SimRun small = Simulate(policy, population, 50, 2, 9);
  SimRun large = Simulate(policy, population, 120, 2, 9);
  auto lines_of = [](const std::string& events, const std::string& id) {
    std::string out;
    std::istringstream in(events);
    for (std::string line; std::getline(in, line);) {
      if (line.find("\"userId\":\"" + id + "\"") != std::string::npos) out += line + "\n";
    }
    return out;
  };
  for (const std::string id : {"sim-000000", "sim-000017", "sim-000049"}) {
    EXPECT_EQ(lines_of(small.events, id), lines_of(large.events, id)) << id;
  }
}

// The holdout never sees a decision, so it never reacts to one.
TEST(SimulatorTest, HoldoutCustomersNeverReact) {
  std::shared_ptr<const Policy> policy = ExamplePolicy("ecommerce");
  SimRun run = Simulate(policy, ExamplePopulation("ecommerce"), 600, 7, 3);
  std::istringstream in(run.events);
  size_t feedback = 0;
  for (std::string line; std::getline(in, line);) {
    const bool reaction = line.find("\"Nudge Accepted\"") != std::string::npos ||
                          line.find("\"Nudge Dismissed\"") != std::string::npos ||
                          line.find("\"Proactive Opted Out\"") != std::string::npos;
    if (!reaction) continue;
    ++feedback;
    const nlohmann::json event = nlohmann::json::parse(line);
    EXPECT_FALSE(InHoldout(*policy, event["userId"].get<std::string>())) << line;
  }
  EXPECT_GT(feedback, 0u);
  EXPECT_GT(U(run.result.summary, {"actions", "holdout_would_have"}), 0u) << "the holdout is still decided for";
}

// Thresholds at zero, no caps, no cooldowns, no quiet hours: help on
// everything, most of it irrelevant.
constexpr std::string_view kFireOnEverything = R"yaml(
version: "fire-on-everything"
events:
  keep_properties: [step, field, path, order_id, revenue, score, case_type, delay_days, channel]
  keep_traits: [plan, country, tenure_days, email_opt_in, locale]
outcomes:
  contact_opened:   {event: "Support Ticket Opened", case_type: properties.case_type, channel: properties.channel}
  contact_resolved: {event: "Support Ticket Resolved"}
  csat:             {event: "CSAT Submitted", score: properties.score}
  nps:              {event: "NPS Submitted", score: properties.score}
  purchase:         {event: "Order Completed", revenue: properties.revenue}
  accepted:         {event: "Nudge Accepted"}
  dismissed:        {event: "Nudge Dismissed"}
  opt_out:          {event: "Proactive Opted Out"}
  complaint:        {event: "Complaint Filed"}
signals:
  activity:
    half_life: 1h
    inputs:
      - {event: "Session Started", weight: 1.0, confidence: 1.0}
      - {event: "Page Viewed", weight: 1.0, confidence: 1.0}
channels:
  in_flow: {needs_presence: true, quiet_hours_exempt: true}
  in_app:  {}
  email:   {consent: traits.email_opt_in}
moderation:
  max_per_day: 0
  max_per_week: 0
interventions:
  tip_everyone:
    when: 'signals.activity.score >= 0.01'
    ladder:
      - {channel: in_flow, template: tip}
      - {channel: in_app, template: tip, after: 10m}
      - {channel: email, template: tip, after: 20m}
  promo_everyone:
    when: 'signals.activity.score >= 0.01'
    ladder:
      - {channel: in_app, template: tip}
      - {channel: email, template: tip, after: 15m}
templates:
  tip:
    text: "Have you seen what is new?"
experiments:
  holdout: {share: 0.05, salt: "holdout-2026"}
)yaml";

TEST(SimulatorTest, FiringOnEverythingAnnoysMoreThanTheExamplePolicy) {
  const PopulationModel population = ExamplePopulation("ecommerce");
  std::shared_ptr<const Policy> example = ExamplePolicy("ecommerce");
  std::shared_ptr<const Policy> noisy = PolicyFromText(std::string(kFireOnEverything), "noisy.yaml");
  ASSERT_NE(noisy, nullptr);
  SimRun calm = Simulate(example, population, 800, 10, 11);
  SimRun loud = Simulate(noisy, population, 800, 10, 11);
  const nlohmann::json& a = calm.result.summary;
  const nlohmann::json& b = loud.result.summary;
  EXPECT_GT(U(b, {"actions", "treatment"}), 5 * U(a, {"actions", "treatment"}));
  EXPECT_GT(U(b, {"treatment", "opted_out"}), U(a, {"treatment", "opted_out"}));
  EXPECT_GT(U(b, {"treatment", "complaints"}), U(a, {"treatment", "complaints"}));
  EXPECT_GT(U(b, {"treatment", "opted_out"}), 10u);
  // Ground truth: the noisy policy's help is mostly for needs nobody had.
  const nlohmann::json& tip = b["true_precision_recall"]["interventions"]["tip_everyone"];
  EXPECT_LT(tip["precision"].get<double>(), 0.2);
  const nlohmann::json& checkout = a["true_precision_recall"]["interventions"]["checkout_help"];
  EXPECT_GT(checkout["precision"].get<double>(), tip["precision"].get<double>());
  const std::string text = FormatComparison(a, b);
  EXPECT_THAT(text, ::testing::HasSubstr("Opt-outs"));
  EXPECT_THAT(text, ::testing::HasSubstr("tip_everyone"));
}

// A population in which the example policy's help truly works: payment
// problems are common, the tip fixes them, and customers who are not helped
// call support, which fixes these problems less often than other questions.
constexpr std::string_view kHelpfulWorld = R"yaml(
name: "help-works"
segments:
  shoppers: {share: 1, traits: {plan: pro, tenure_days: {min: 40, max: 400}}, loyalty: 7.5}
timezones: {Europe/Madrid: {share: 1, locale: es-ES}}
channels:
  consent: {email_opt_in: 0.5}
  seen:
    in_flow: {how: in_session}
    in_app: {how: next_session, within: 3d}
    email: {how: later, rate: 0.4, delay: {min: 10m, max: 2h}}
presence:
  sessions_per_day: 0.8
  session_length: {min: 8m, max: 20m}
  session_start: {event: "Session Started"}
  pages: {min: 1, max: 1}
  paths: ["/", "/products"]
support:
  resolve_after: {min: 20m, max: 6h}
  first_contact_fix: 0.9
  informed_fix_bonus: 0.3
  recontact: 0.9
  recontact_after: {min: 1d, max: 4d}
  background_per_month: 0.6
surveys:
  csat_after_contact: 0.6
  csat_after_goal: 0.15
  csat_base: 4.0
  csat_noise: 0.6
reactions:
  accept: 0.85
  dismiss_irrelevant: 0.2
journeys:
  checkout:
    rate: 0.5
    vars: {order_id: "o-{customer}-{n}"}
    steps:
      - {event: "Checkout Started", properties: {order_id: "{order_id}"}}
      - {event: "Checkout Step Viewed", properties: {step: payment, path: /checkout/payment}}
    goal: {event: "Order Completed", properties: {order_id: "{order_id}", revenue: {min: 20, max: 120}}}
    needs:
      payment_problem:
        probability: 0.4
        helped_by: [checkout_help]
        symptoms:
          - {event: "Form Error", properties: {field: card_number, path: /checkout/payment}, count: 3,
             spacing: {min: 20s, max: 40s}}
          - {event: "Checkout Step Viewed", properties: {step: payment, path: /checkout/payment}, count: 2,
             spacing: {min: 20s, max: 40s}}
        self_resolve: 0.1
        lasts: 3d
        accept: 0.9
        resolves: 0.95
        timely: 30m
        contact: {probability: 0.8, after: {min: 30m, max: 6h}, case_type: payment, first_contact_fix: 0.35}
        on_end: give_up
)yaml";

TEST(SimulatorTest, HelpThatWorksShowsCsatAndFcrLiftsCoveringTheTrueEffect) {
  std::string policy_text = ReadText(Source("examples/ecommerce/policy.yaml"));
  const std::string holdout = "holdout: {share: 0.05, salt: \"holdout-2026\"}";
  const size_t at = policy_text.find(holdout);
  ASSERT_NE(at, std::string::npos);
  policy_text.replace(at, holdout.size(), "holdout: {share: 0.5, salt: \"holdout-2026\"}");
  std::shared_ptr<const Policy> policy = PolicyFromText(policy_text, "policy-half-holdout.yaml");
  ASSERT_NE(policy, nullptr);
  absl::StatusOr<PopulationModel> population = LoadPopulationText(kHelpfulWorld, "help-works.yaml");
  ASSERT_TRUE(population.ok()) << population.status();
  SimRun run = Simulate(policy, *population, 3000, 14, 21);
  const nlohmann::json& summary = run.result.summary;
  ASSERT_TRUE(run.result.scorecard.is_object()) << run.result.scorecard_error;
  for (const char* metric : {"csat", "fcr"}) {
    SCOPED_TRACE(metric);
    const nlohmann::json& h = Headline(summary, metric);
    ASSERT_TRUE(h.contains("difference")) << h.dump();
    const double truth = h["truth"]["true_effect"].get<double>();
    EXPECT_GT(truth, 0) << "the model's help improves " << metric;
    EXPECT_GT(h["difference"].get<double>(), 0) << h.dump();
    EXPECT_GT(h["ci_low"].get<double>(), 0) << "a lift the scorecard can call: " << h.dump();
    EXPECT_LE(h["ci_low"].get<double>(), truth) << h.dump();
    EXPECT_GE(h["ci_high"].get<double>(), truth) << h.dump();
    // The ground truth counts the treatment's and the holdout's metric as
    // the scorecard does.
    EXPECT_NEAR(h["truth"]["treatment"].get<double>(), h["treatment"].get<double>(), 1e-9);
    EXPECT_NEAR(h["truth"]["holdout"].get<double>(), h["holdout"].get<double>(), 1e-9);
  }
  // The treated customers without help would have looked like the holdout.
  const nlohmann::json& truth = run.result.truth;
  EXPECT_NEAR(truth["treatment_without_help"]["csat"].get<double>(), truth["holdout"]["csat"].get<double>(), 0.05);
  EXPECT_GT(U(truth, {"relived_customers"}), 0u);
}

}  // namespace
}  // namespace upfront::sim
