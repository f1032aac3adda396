#include "src/sim/simulator.h"

#include <fmt/format.h>
#include <simdjson.h>
#include <stdlib.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <mutex>

#include "src/common/scratch_dir.h"
#include "src/common/manual_clock.h"
#include "src/common/time_format.h"
#include "src/decide/cohort.h"
#include "src/measure/scorecard.h"
#include "src/measure/scorecard_metrics.h"
#include "src/sim/world.h"
#include "upfront/engine.h"

namespace upfront::sim {
namespace {


// The parts of a decision the simulator acts on.
struct DecisionView {
  std::string decision_id;
  std::string customer;
  Micros at = 0;
  bool holdout = false;
  std::string action;
  int intervention = -1;
  int channel = -1;
  bool approval = false;  // the delivery of an approved review item
  uint64_t held = 0;      // interventions whose condition held (acting or blocked)
  std::vector<std::string> blocked_reasons;
};

int IndexOf(const std::vector<InterventionSpec>& list, std::string_view name) {
  for (size_t i = 0; i < list.size(); ++i) {
    if (list[i].name == name) return static_cast<int>(i);
  }
  return -1;
}
int ChannelIndex(const Policy& policy, std::string_view name) {
  for (size_t i = 0; i < policy.channels.size(); ++i) {
    if (policy.channels[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

std::string_view Str(simdjson::dom::element e, std::string_view key) {
  std::string_view out;
  if (e[key].get(out) != simdjson::SUCCESS) return {};
  return out;
}

// Replaces bytes that do not form valid UTF-8 with '?'.
std::string ValidUtf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    const size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    bool ok = n > 0 && i + n <= text.size();
    for (size_t k = 1; ok && k < n; ++k) ok = (static_cast<unsigned char>(text[i + k]) >> 6) == 0x2;
    if (ok && n > 1 && simdjson::validate_utf8(text.data() + i, n)) {
      out.append(text.substr(i, n));
      i += n;
    } else if (ok && n == 1) {
      out.push_back(text[i]);
      ++i;
    } else {
      out.push_back('?');
      ++i;
    }
  }
  return out;
}

absl::StatusOr<DecisionView> ReadDecision(simdjson::dom::parser& parser, const std::string& told, const Policy& policy) {
  simdjson::dom::element d;
  std::string repaired;
  const std::string* text = &told;
  // A decision that is not valid UTF-8 (an engine fault: ab60b41 fixed the
  // one the simulator found) would stop the run; keep the decision and
  // lose the bad bytes.
  if (!simdjson::validate_utf8(told.data(), told.size())) {
    repaired = ValidUtf8(told);
    text = &repaired;
  }
  const std::string& json = *text;
  if (auto error = parser.parse(json).get(d); error != simdjson::SUCCESS) {
    return absl::InternalError(fmt::format("the engine told a decision that is not JSON ({}): {}",
                                           simdjson::error_message(error), json.substr(0, 2000)));
  }
  DecisionView v;
  v.decision_id = std::string(Str(d, "decision_id"));
  v.customer = std::string(Str(d, "customer"));
  const std::optional<Micros> at = ParseTimestamp(Str(d, "at"));
  v.at = at.value_or(0);
  v.holdout = Str(d, "cohort") == "holdout";
  v.action = std::string(Str(d, "action"));
  if (v.action != "none") {
    v.intervention = IndexOf(policy.interventions, Str(d, "intervention"));
    v.channel = ChannelIndex(policy, Str(d, "channel"));
    if (v.intervention >= 0 && v.intervention < kMaxInterventions) v.held |= uint64_t{1} << v.intervention;
  }
  simdjson::dom::element trigger;
  if (d["trigger"].get(trigger) == simdjson::SUCCESS) {
    v.approval = trigger["review_id"].error() == simdjson::SUCCESS;
  }
  simdjson::dom::array blocked;
  if (d["blocked"].get(blocked) == simdjson::SUCCESS) {
    for (simdjson::dom::element b : blocked) {
      const int i = IndexOf(policy.interventions, Str(b, "intervention"));
      if (i >= 0 && i < kMaxInterventions) v.held |= uint64_t{1} << i;
      v.blocked_reasons.emplace_back(Str(b, "reason"));
    }
  }
  return v;
}

// The four headline metrics over a set of customers' outcomes, by the
// scorecard's definitions (docs/metrics.md) over the whole run.
struct Headline {
  uint64_t csat_ratings = 0, csat_good = 0;
  NpsSummary nps;
  uint64_t fcr_known = 0, fcr_yes = 0;
  uint64_t active = 0;
  double revenue = 0;
  uint64_t contacts = 0;
  std::vector<ContactFate> fates;

  void Add(const CustomerOutcomes& o, Micros as_of) {
    if (!o.active) return;
    ++active;
    csat_ratings += o.csat_ratings;
    csat_good += o.csat_good;
    if (o.nps >= 0) nps.AddRating(o.nps).IgnoreError();
    revenue += o.revenue;
    contacts += o.contacts_opened.size();
    EvaluateContacts(o.contacts_opened, o.contacts_resolved, as_of, &fates);
    for (const ContactFate& f : fates) {
      if (f.fcr == Fate::kPending) continue;
      ++fcr_known;
      fcr_yes += f.fcr == Fate::kYes;
    }
  }
  double Csat() const { return csat_ratings ? static_cast<double>(csat_good) / csat_ratings : NAN; }
  double Nps() const { return nps.score(); }
  double Fcr() const { return fcr_known ? static_cast<double>(fcr_yes) / fcr_known : NAN; }
  double Ltv() const { return active ? revenue / active : NAN; }
  double ContactsPerCustomer() const { return active ? static_cast<double>(contacts) / active : NAN; }
};

nlohmann::json Num(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }
double Ratio(uint64_t a, uint64_t b) { return b ? static_cast<double>(a) / static_cast<double>(b) : NAN; }

// The one place the simulator asks for the scorecard: treatment against the
// holdout over the whole run.
absl::StatusOr<nlohmann::json> MeasureRun(Engine& engine, const Policy& policy, Micros from, Micros to) {
  ScorecardOptions options;
  options.from = from;
  options.to = to;
  options.as_of = to;
  options.resolve_merges = false;  // simulated customers never merge identities
  return BuildScorecard(engine, policy, options);
}

struct Counters {
  uint64_t events = 0, accepted = 0, rejected = 0, late = 0, duplicates = 0;
  uint64_t decision_points = 0;
  std::map<std::string, uint64_t> by_action;
  std::map<std::string, uint64_t> blocked;
  // Acting decisions (approvals excluded: their review was the fire).
  std::vector<uint64_t> fires, fires_tp, fires_treatment, fires_holdout;
  std::vector<uint64_t> alerts, alerts_tp;
  uint64_t treatment_actions = 0;  // delivered or asked, approvals included
  uint64_t holdout_actions = 0;    // would have been
  std::map<std::string, uint64_t> actions_by_intervention, actions_by_channel;
  uint64_t reviews = 0, approved = 0, rejected_reviews = 0, review_errors = 0;
};

}  // namespace

absl::StatusOr<SimulationResult> Simulate(std::shared_ptr<const Policy> policy, const PopulationModel& population,
                                          const SimulationOptions& options) {
  if (options.customers == 0) return absl::InvalidArgumentError("simulate: --customers must be at least 1");
  if (options.days < 1) return absl::InvalidArgumentError("simulate: --days must be at least 1");
  if (options.tick <= 0 || options.tick * 2 > policy->events.allowed_lateness) {
    return absl::InvalidArgumentError(fmt::format(
        "simulate: the tick ({}) must be at most half the policy's allowed_lateness ({}), or events would arrive late",
        FormatDuration(options.tick), FormatDuration(policy->events.allowed_lateness)));
  }
  if (policy->interventions.size() > static_cast<size_t>(kMaxInterventions) ||
      policy->signals.size() > static_cast<size_t>(kMaxSignals)) {
    return absl::InvalidArgumentError("simulate: the ground truth handles at most 64 interventions and 64 signals");
  }
  if (options.freeze_models) {
    auto frozen = std::make_shared<Policy>(*policy);
    for (ModelSpec& model : frozen->models) model.learn = false;
    policy = std::move(frozen);
  }
  const Policy& p = *policy;
  const Micros start = options.start.value_or(population.start);
  const Micros end = start + options.days * kMicrosPerDay;
  SimulationResult result;
  result.notes = CheckPopulationAgainstPolicy(population, p);

  World::Config config;
  config.model = &population;
  config.policy = &p;
  config.seed = options.seed;
  config.customers = options.customers;
  config.start = start;
  config.end = end;
  config.render = true;
  World world(config);

  ScratchDir scratch("upfront-sim");
  const std::string data_dir = options.data_dir.empty() ? scratch.path() : options.data_dir;
  if (data_dir.empty()) return absl::InternalError("simulate: cannot create a scratch directory");
  ManualClock clock(start);
  std::mutex mu;
  std::vector<std::string> told;
  EngineOptions engine_options;
  engine_options.data_dir = data_dir;
  engine_options.policy = policy;
  engine_options.partitions = std::max(1, options.partitions);
  engine_options.clock = &clock;
  engine_options.arrival = ArrivalClock::kWall;  // the ManualClock: arrival is simulated time
  engine_options.sync = false;
  engine_options.on_decision = [&](std::string_view json) {
    std::lock_guard lock(mu);
    told.emplace_back(json);
  };
  UPFRONT_ASSIGN_OR_RETURN(std::unique_ptr<Engine> engine, Engine::Open(engine_options));

  Counters n;
  n.fires.assign(p.interventions.size(), 0);
  n.fires_tp = n.fires_treatment = n.fires_holdout = n.fires;
  n.alerts.assign(p.signals.size(), 0);
  n.alerts_tp = n.alerts;
  std::vector<bool> holdout(options.customers);
  uint64_t treatment_customers = 0;
  for (uint32_t i = 0; i < options.customers; ++i) {
    holdout[i] = InHoldout(p, world.CustomerId(i));
    treatment_customers += !holdout[i];
  }

  simdjson::dom::parser parser;
  std::vector<std::string> ready;
  std::vector<DecisionView> decisions;
  // Takes what the engine told since the last call, in a deterministic order,
  // and lets customers react from `now` on.
  auto take_decisions = [&](Micros now) -> absl::Status {
    ready.clear();
    {
      std::lock_guard lock(mu);
      ready.swap(told);
    }
    decisions.clear();
    for (const std::string& json : ready) {
      UPFRONT_ASSIGN_OR_RETURN(DecisionView v, ReadDecision(parser, json, p));
      decisions.push_back(std::move(v));
    }
    std::sort(decisions.begin(), decisions.end(), [](const DecisionView& a, const DecisionView& b) {
      if (a.at != b.at) return a.at < b.at;
      if (a.customer != b.customer) return a.customer < b.customer;
      return a.decision_id < b.decision_id;
    });
    for (const DecisionView& d : decisions) {
      ++n.decision_points;
      ++n.by_action[d.action];
      for (const std::string& reason : d.blocked_reasons) ++n.blocked[reason];
      const int64_t ci = world.CustomerIndex(d.customer);
      if (ci < 0) continue;
      const uint32_t c = static_cast<uint32_t>(ci);
      const bool acting = d.action != "none" && d.intervention >= 0;
      uint64_t active = 0;
      if (!d.approval) {
        active = world.ObserveDecision(c, d.at, acting ? d.intervention : -1, d.held);
        if (acting) {
          ++n.fires[d.intervention];
          ++(d.holdout ? n.fires_holdout : n.fires_treatment)[d.intervention];
          if (active >> d.intervention & 1) ++n.fires_tp[d.intervention];
        }
        for (size_t s = 0; s < world.signal_readers().size(); ++s) {
          if (!(world.signal_readers()[s] & d.held)) continue;
          ++n.alerts[s];
          if (world.signal_readers()[s] & active) ++n.alerts_tp[s];
        }
      }
      if (!acting) continue;
      if (d.holdout) {
        // Logged as "would have acted"; the customer never sees it.
        if (d.action != "review") ++n.holdout_actions;
        continue;
      }
      if (d.action == "review") {
        ++n.reviews;
        world.ScheduleReview(d.decision_id, c, d.intervention, d.at);
        continue;
      }
      ++n.treatment_actions;
      ++n.actions_by_intervention[p.interventions[d.intervention].name];
      if (d.channel >= 0) ++n.actions_by_channel[p.channels[d.channel].name];
      Delivery delivery;
      delivery.decision_id = d.decision_id;
      delivery.customer = c;
      delivery.at = d.at;
      delivery.intervention = d.intervention;
      delivery.channel = d.channel;
      delivery.ask_confirm = d.action == "ask_confirm";
      world.Deliver(delivery, now);
    }
    return absl::OkStatus();
  };

  std::string batch;
  IngestOptions ingest;
  ingest.format = IngestFormat::kJsonLines;
  ingest.max_batch_bytes = 0;
  constexpr Micros kMaxIdle = 10 * kMicrosPerMinute;  // timers still fire when nobody acts
  Micros t = start;
  Micros next_progress = start;
  while (t < end) {
    // Skip quiet stretches (small populations at night), but not past the
    // next thing a customer or an agent does, nor more than kMaxIdle at once.
    Micros due = world.NextDue();
    const Micros review = world.NextReviewDue();
    if (due == kNever || (review != kNever && review < due)) due = review;
    if (due != kNever && due > t + options.tick) {
      const Micros jump = std::min(due - (due - start) % options.tick, t + kMaxIdle);
      t = std::max(t, std::min(jump, end));
      if (t >= end) break;
    }
    const Micros window_end = std::min(t + options.tick, end);
    clock.Set(window_end);
    batch.clear();
    world.RunUntil(window_end, &batch);
    if (!batch.empty()) {
      if (options.events_out) options.events_out(batch);
      UPFRONT_ASSIGN_OR_RETURN(IngestReport report, engine->Ingest(batch, ingest));
      n.events += report.events.size();
      n.accepted += report.accepted;
      n.rejected += report.rejected;
      n.late += report.late;
      n.duplicates += report.duplicates;
      for (const EventResult& r : report.events) {
        if (r.status == EventResult::Status::kRejected && result.notes.size() < 50) {
          result.notes.push_back("engine rejected a generated event: " + IngestReport::Describe(r));
        }
      }
    }
    // The agents answer review items due in this tick, as of its end.
    for (const ReviewAnswerTask& task : world.TakeDueReviews(window_end)) {
      ReviewAnswer answer;
      answer.approve = task.approve;
      answer.agent = "sim-agent";
      answer.reason = task.approve ? "" : "not a fit for this customer right now";
      answer.at = window_end;
      absl::StatusOr<std::string> answered = engine->AnswerReview(task.review_id, answer);
      if (answered.ok()) {
        ++(task.approve ? n.approved : n.rejected_reviews);
      } else {
        ++n.review_errors;  // lapsed or superseded meanwhile
      }
    }
    if (options.barrier == SimulationOptions::TickBarrier::kClock) {
      UPFRONT_RETURN_IF_ERROR(engine->AdvanceClock(window_end));
    } else {
      UPFRONT_RETURN_IF_ERROR(engine->Flush());
    }
    UPFRONT_RETURN_IF_ERROR(take_decisions(window_end));
    t = window_end;
    if (options.progress && t >= next_progress) {
      next_progress = t + kMicrosPerHour;
      options.progress({static_cast<double>(t - start) / kMicrosPerDay, options.days, n.events, n.decision_points});
    }
  }
  UPFRONT_RETURN_IF_ERROR(engine->AdvanceClock(end));
  UPFRONT_RETURN_IF_ERROR(engine->Flush());
  UPFRONT_RETURN_IF_ERROR(take_decisions(end));

  absl::StatusOr<nlohmann::json> card = MeasureRun(*engine, p, start, end);
  if (card.ok()) {
    result.scorecard = *std::move(card);
  } else {
    result.scorecard_error = std::string(card.status().message());
  }
  engine.reset();

  // ---- Ground truth: the true effect, from each treated customer's life
  // without any help (same seed, no engine). Customers who were never
  // delivered anything lived that life already.
  Headline treated, untreated_twin, held;
  std::vector<uint32_t> touched;
  for (uint32_t i = 0; i < options.customers; ++i) {
    if (!holdout[i] && world.deliveries_seen(i) > 0) touched.push_back(i);
  }
  std::unique_ptr<World> twin;
  if (options.true_effect && !touched.empty()) {
    World::Config cf = config;
    cf.render = false;
    cf.only = touched;
    twin = std::make_unique<World>(cf);
    twin->RunUntil(end, nullptr);
  }
  uint64_t opt_outs[2] = {0, 0}, complainers[2] = {0, 0}, complaints[2] = {0, 0}, churned[2] = {0, 0};
  for (uint32_t i = 0; i < options.customers; ++i) {
    const CustomerOutcomes& o = world.outcomes(i);
    const int arm = holdout[i] ? 1 : 0;
    opt_outs[arm] += o.opted_out;
    complainers[arm] += o.complaints > 0;
    complaints[arm] += o.complaints;
    churned[arm] += world.churned(i);
    if (holdout[i]) {
      held.Add(o, end);
      continue;
    }
    treated.Add(o, end);
    const bool relived = twin && twin->simulated(i);
    untreated_twin.Add(relived ? twin->outcomes(i) : o, end);
  }

  // ---- Precision and recall against the real needs.
  std::vector<uint64_t> needs_for(p.interventions.size(), 0), detected(p.interventions.size(), 0);
  std::vector<uint64_t> signal_needs(p.signals.size(), 0), signal_detected(p.signals.size(), 0);
  std::map<std::string, std::map<std::string, uint64_t>> need_outcomes;
  for (const NeedRecord& need : world.needs()) {
    const JourneySpec& j = population.journeys[need.journey];
    auto& o = need_outcomes[j.name + "." + j.needs[need.need].name];
    ++o["count"];
    ++o[std::string(NeedOutcomeName(need.outcome))];
    if (need.fired) ++o["fired_on"];
    for (size_t i = 0; i < p.interventions.size(); ++i) {
      if (!(need.helped_by >> i & 1)) continue;
      ++needs_for[i];
      detected[i] += need.fired >> i & 1;
    }
    for (size_t s = 0; s < world.signal_readers().size(); ++s) {
      if (!(world.signal_readers()[s] & need.helped_by)) continue;
      ++signal_needs[s];
      signal_detected[s] += need.alerted >> s & 1;
    }
  }
  nlohmann::json pr_interventions = nlohmann::json::object(), pr_signals = nlohmann::json::object();
  for (size_t i = 0; i < p.interventions.size(); ++i) {
    const ReactionCounts& r = world.reactions()[i];
    pr_interventions[p.interventions[i].name] = {
        {"fires", n.fires[i]},
        {"fires_treatment", n.fires_treatment[i]},
        {"fires_holdout", n.fires_holdout[i]},
        {"true_positives", n.fires_tp[i]},
        {"precision", Num(Ratio(n.fires_tp[i], n.fires[i]))},
        {"needs", needs_for[i]},
        {"needs_detected", detected[i]},
        {"recall", Num(Ratio(detected[i], needs_for[i]))},
        {"reactions",
         {{"delivered", r.delivered}, {"seen", r.seen}, {"relevant", r.relevant}, {"accepted", r.accepted},
          {"dismissed", r.dismissed}, {"ignored", r.ignored}, {"resolved_need", r.resolved},
          {"opt_outs", r.opt_outs}, {"complaints", r.complaints}}},
    };
  }
  for (size_t s = 0; s < world.signal_readers().size(); ++s) {
    nlohmann::json readers = nlohmann::json::array();
    for (size_t i = 0; i < p.interventions.size(); ++i) {
      if (world.signal_readers()[s] >> i & 1) readers.push_back(p.interventions[i].name);
    }
    pr_signals[p.signals[s].name] = {
        {"read_by", readers},
        {"alerts", n.alerts[s]},
        {"true_positives", n.alerts_tp[s]},
        {"precision", Num(Ratio(n.alerts_tp[s], n.alerts[s]))},
        {"needs", signal_needs[s]},
        {"needs_detected", signal_detected[s]},
        {"recall", Num(Ratio(signal_detected[s], signal_needs[s]))},
    };
  }

  // ---- The summary.
  const double days = static_cast<double>(options.days);
  const uint64_t holdout_customers = options.customers - treatment_customers;
  uint64_t seen = 0;
  for (uint32_t i = 0; i < options.customers; ++i) seen += world.deliveries_seen(i);
  auto headline_of = [&](std::string_view metric, double truth_treated, double truth_twin, double truth_holdout) {
    nlohmann::json h = {{"metric", metric}};
    if (result.scorecard.is_object() && result.scorecard.contains("headline")) {
      for (const nlohmann::json& m : result.scorecard["headline"]) {
        if (m.value("metric", "") != metric) continue;
        for (const char* key : {"label", "unit", "treatment", "control", "difference", "ci_low", "ci_high", "p_value",
                                "n_treatment", "n_control", "verdict"}) {
          if (m.contains(key)) h[key == std::string_view("control") ? "holdout" : key] = m[key];
        }
      }
    }
    h["truth"] = {{"treatment", Num(truth_treated)},
                  {"treatment_without_help", Num(truth_twin)},
                  {"holdout", Num(truth_holdout)},
                  {"true_effect", Num(truth_treated - truth_twin)}};
    if (!options.true_effect) h["truth"]["true_effect"] = nullptr;
    return h;
  };
  nlohmann::json headline = nlohmann::json::array();
  headline.push_back(headline_of("csat", treated.Csat(), untreated_twin.Csat(), held.Csat()));
  headline.push_back(headline_of("nps", treated.Nps(), untreated_twin.Nps(), held.Nps()));
  headline.push_back(headline_of("fcr", treated.Fcr(), untreated_twin.Fcr(), held.Fcr()));
  headline.push_back(headline_of("ltv", treated.Ltv(), untreated_twin.Ltv(), held.Ltv()));

  nlohmann::json blocked = nlohmann::json::object();
  for (const auto& [reason, count] : n.blocked) blocked[reason] = count;
  nlohmann::json by_action = nlohmann::json::object();
  for (const auto& [action, count] : n.by_action) by_action[action] = count;
  nlohmann::json by_intervention = nlohmann::json::object(), by_channel = nlohmann::json::object();
  for (const auto& [k, v] : n.actions_by_intervention) by_intervention[k] = v;
  for (const auto& [k, v] : n.actions_by_channel) by_channel[k] = v;
  auto arm_json = [&](int arm, uint64_t customers) {
    return nlohmann::json{{"customers", customers},
                          {"opted_out", opt_outs[arm]},
                          {"opt_out_rate", Num(Ratio(opt_outs[arm], customers))},
                          {"complained", complainers[arm]},
                          {"complaints", complaints[arm]},
                          {"complaint_rate", Num(Ratio(complainers[arm], customers))},
                          {"churned", churned[arm]},
                          {"churn_rate", Num(Ratio(churned[arm], customers))}};
  };
  nlohmann::json& s = result.summary;
  s = {
      {"schema", kSummarySchema},
      {"policy", {{"version", p.version}, {"content_hash", p.content_hash}}},
      {"population", {{"name", population.name}}},
      {"seed", options.seed},
      {"customers", options.customers},
      {"days", options.days},
      {"from", FormatTimestamp(start)},
      {"to", FormatTimestamp(end)},
      {"tick", FormatDuration(options.tick)},
      {"barrier", options.barrier == SimulationOptions::TickBarrier::kClock ? "clock" : "checkpoint"},
      {"models_frozen", options.freeze_models},
      {"cohorts", {{"treatment", treatment_customers}, {"holdout", holdout_customers}}},
      {"events",
       {{"generated", world.events()},
        {"ingested", n.events},
        {"accepted", n.accepted},
        {"rejected", n.rejected},
        {"late", n.late},
        {"duplicates", n.duplicates},
        {"per_customer_per_day", Num(static_cast<double>(n.events) / options.customers / days)}}},
      {"decisions",
       {{"points", n.decision_points},
        {"by_action", by_action},
        {"blocked", blocked},
        {"reviews", {{"sent", n.reviews}, {"approved", n.approved}, {"rejected", n.rejected_reviews},
                     {"lapsed", n.review_errors}}}}},
      {"actions",
       {{"treatment", n.treatment_actions},
        {"holdout_would_have", n.holdout_actions},
        {"by_intervention", by_intervention},
        {"by_channel", by_channel}}},
      {"interruption_load",
       {{"actions_per_customer_per_day", Num(Ratio(n.treatment_actions, treatment_customers) / days)},
        {"seen_per_customer_per_day", Num(Ratio(seen, treatment_customers) / days)}}},
      {"headline", headline},
      {"treatment", arm_json(0, treatment_customers)},
      {"holdout", arm_json(1, holdout_customers)},
      {"true_precision_recall", {{"interventions", pr_interventions}, {"signals", pr_signals}}},
  };
  if (result.scorecard.is_object()) {
    s["scorecard_summary"] = result.scorecard.value("summary", "");
  } else {
    s["scorecard_error"] = result.scorecard_error;
  }

  // ---- truth.json
  nlohmann::json& truth = result.truth;
  nlohmann::json needs_summary = nlohmann::json::object();
  for (const auto& [name, counts] : need_outcomes) {
    nlohmann::json j = nlohmann::json::object();
    for (const auto& [k, v] : counts) j[k] = v;
    needs_summary[name] = j;
  }
  auto truth_arm = [](const Headline& h) {
    return nlohmann::json{{"customers", h.active},
                          {"csat", Num(h.Csat())},
                          {"csat_ratings", h.csat_ratings},
                          {"nps", Num(h.Nps())},
                          {"nps_answers", h.nps.n()},
                          {"fcr", Num(h.Fcr())},
                          {"fcr_contacts", h.fcr_known},
                          {"ltv", Num(h.Ltv())},
                          {"contacts_per_customer", Num(h.ContactsPerCustomer())}};
  };
  truth = {
      {"schema", kTruthSchema},
      {"seed", options.seed},
      {"policy", {{"version", p.version}, {"content_hash", p.content_hash}}},
      {"population", population.name},
      {"method",
       "true effect = treated customers' metrics minus the same customers' metrics in a second run of their lives "
       "with the same seed and no help at all; customers who were never delivered anything keep their one life"},
      {"treatment", truth_arm(treated)},
      {"treatment_without_help", truth_arm(untreated_twin)},
      {"holdout", truth_arm(held)},
      {"relived_customers", touched.size()},
      {"true_effect",
       {{"csat", Num(treated.Csat() - untreated_twin.Csat())},
        {"nps", Num(treated.Nps() - untreated_twin.Nps())},
        {"fcr", Num(treated.Fcr() - untreated_twin.Fcr())},
        {"ltv", Num(treated.Ltv() - untreated_twin.Ltv())},
        {"contacts_per_customer", Num(treated.ContactsPerCustomer() - untreated_twin.ContactsPerCustomer())}}},
      {"interventions", pr_interventions},
      {"signals", pr_signals},
      {"needs_summary", needs_summary},
  };
  if (!options.true_effect) truth["true_effect"] = nullptr;
  if (options.list_needs) {
    nlohmann::json list = nlohmann::json::array();
    for (const NeedRecord& need : world.needs()) {
      const JourneySpec& j = population.journeys[need.journey];
      nlohmann::json helped_by = nlohmann::json::array(), fired = nlohmann::json::array(),
                     alerted = nlohmann::json::array();
      for (size_t i = 0; i < p.interventions.size(); ++i) {
        if (need.helped_by >> i & 1) helped_by.push_back(p.interventions[i].name);
        if (need.fired >> i & 1) fired.push_back(p.interventions[i].name);
      }
      for (size_t k = 0; k < p.signals.size(); ++k) {
        if (need.alerted >> k & 1) alerted.push_back(p.signals[k].name);
      }
      list.push_back({{"customer", world.CustomerId(need.customer)},
                      {"cohort", holdout[need.customer] ? "holdout" : "treatment"},
                      {"journey", j.name},
                      {"need", j.needs[need.need].name},
                      {"onset", FormatTimestamp(need.onset)},
                      {"resolved_at", need.resolved_at == kNever ? nlohmann::json(nullptr)
                                                                 : nlohmann::json(FormatTimestamp(need.resolved_at))},
                      {"outcome", NeedOutcomeName(need.outcome)},
                      {"helped_by", helped_by},
                      {"fired", fired},
                      {"alerted", alerted}});
    }
    truth["needs"] = std::move(list);
  }
  s["true_effect"] = truth["true_effect"];
  s["needs"] = needs_summary;
  if (!result.notes.empty()) s["notes"] = result.notes;
  result.events = n.events;
  result.decisions = n.decision_points;
  return result;
}

// ---- Text for people ----

namespace {

std::string Fmt(const nlohmann::json& v, std::string_view unit, bool difference = false) {
  if (!v.is_number()) return "n/a";
  const double x = v.get<double>();
  if (unit == "share") return difference ? fmt::format("{:+.1f} pts", 100 * x) : fmt::format("{:.1f}%", 100 * x);
  if (unit == "points") return difference ? fmt::format("{:+.1f}", x) : fmt::format("{:.1f}", x);
  return difference ? fmt::format("{:+.2f}", x) : fmt::format("{:.2f}", x);
}

std::string UnitOf(const nlohmann::json& h) {
  if (h.contains("unit")) return h["unit"];
  const std::string m = h.value("metric", "");
  return m == "nps" ? "points" : m == "ltv" ? "currency" : "share";
}

std::string LabelOf(const nlohmann::json& h) {
  const std::string m = h.value("metric", "");
  if (m == "csat") return "CSAT";
  if (m == "nps") return "NPS";
  if (m == "fcr") return "FCR";
  if (m == "ltv") return "LTV";
  return m;
}

std::string Count(uint64_t v) {
  std::string digits = std::to_string(v), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

uint64_t U(const nlohmann::json& j, std::initializer_list<const char*> path) {
  const nlohmann::json* at = &j;
  for (const char* key : path) {
    if (!at->is_object() || !at->contains(key)) return 0;
    at = &(*at)[key];
  }
  return at->is_number() ? at->get<uint64_t>() : 0;
}

double D(const nlohmann::json& j, std::initializer_list<const char*> path) {
  const nlohmann::json* at = &j;
  for (const char* key : path) {
    if (!at->is_object() || !at->contains(key)) return NAN;
    at = &(*at)[key];
  }
  return at->is_number() ? at->get<double>() : NAN;
}

std::string Pct(double v) { return std::isfinite(v) ? fmt::format("{:.2f}%", 100 * v) : "n/a"; }
std::string Share(double v) { return std::isfinite(v) ? fmt::format("{:.2f}", v) : "n/a"; }

}  // namespace

std::string FormatSummary(const nlohmann::json& s) {
  std::string out;
  fmt::format_to(std::back_inserter(out),
                 "Simulated {} customers for {} days (seed {}) under policy {}, population {}\n",
                 Count(U(s, {"customers"})), U(s, {"days"}), U(s, {"seed"}), s["policy"].value("version", "?"),
                 s["population"].value("name", "?"));
  fmt::format_to(std::back_inserter(out),
                 "  {} events ({:.1f} per customer per day), {} decision points, {} actions in treatment "
                 "({} treated, {} held out)\n\n",
                 Count(U(s, {"events", "ingested"})), D(s, {"events", "per_customer_per_day"}),
                 Count(U(s, {"decisions", "points"})), Count(U(s, {"actions", "treatment"})),
                 Count(U(s, {"cohorts", "treatment"})), Count(U(s, {"cohorts", "holdout"})));
  fmt::format_to(std::back_inserter(out), "  {:<6} {:>10} {:>10} {:>12}  {:<24} {:>12}\n", "", "treatment",
                 "holdout", "difference", "95% CI", "true effect");
  for (const nlohmann::json& h : s["headline"]) {
    const std::string unit = UnitOf(h);
    const std::string ci = h.contains("ci_low") ? fmt::format("[{}, {}]", Fmt(h["ci_low"], unit, true),
                                                              Fmt(h["ci_high"], unit, true))
                                                : "";
    fmt::format_to(std::back_inserter(out), "  {:<6} {:>10} {:>10} {:>12}  {:<24} {:>12}\n", LabelOf(h),
                   Fmt(h.value("treatment", nlohmann::json()), unit), Fmt(h.value("holdout", nlohmann::json()), unit),
                   Fmt(h.value("difference", nlohmann::json()), unit, true), ci,
                   Fmt(h["truth"].value("true_effect", nlohmann::json()), unit, true));
  }
  if (U(s, {"cohorts", "holdout"}) == 0) {
    out += "  The policy has no holdout (experiments.holdout), so nothing is measured against a control;\n"
           "  the true effect column is what the help really did (from the ground truth).\n";
  }
  fmt::format_to(std::back_inserter(out), "\n  Interruption load: {:.3f} actions per treated customer per day ({:.3f} noticed)\n",
                 D(s, {"interruption_load", "actions_per_customer_per_day"}),
                 D(s, {"interruption_load", "seen_per_customer_per_day"}));
  fmt::format_to(std::back_inserter(out), "  Opt-outs: {} treated customers ({}); holdout {} ({})\n",
                 Count(U(s, {"treatment", "opted_out"})), Pct(D(s, {"treatment", "opt_out_rate"})),
                 Count(U(s, {"holdout", "opted_out"})), Pct(D(s, {"holdout", "opt_out_rate"})));
  fmt::format_to(std::back_inserter(out), "  Complaints: {} from {} treated customers ({}); holdout {} from {} ({})\n",
                 Count(U(s, {"treatment", "complaints"})), Count(U(s, {"treatment", "complained"})),
                 Pct(D(s, {"treatment", "complaint_rate"})), Count(U(s, {"holdout", "complaints"})),
                 Count(U(s, {"holdout", "complained"})), Pct(D(s, {"holdout", "complaint_rate"})));
  fmt::format_to(std::back_inserter(out), "\n  True precision and recall (ground truth: the customer had a real need it addresses)\n");
  fmt::format_to(std::back_inserter(out), "  {:<22} {:>9} {:>10} {:>9} {:>8} {:>9} {:>9}\n", "intervention", "fires",
                 "precision", "needs", "recall", "accepted", "dismissed");
  for (const auto& [name, v] : s["true_precision_recall"]["interventions"].items()) {
    fmt::format_to(std::back_inserter(out), "  {:<22} {:>9} {:>10} {:>9} {:>8} {:>9} {:>9}\n", name,
                   Count(U(v, {"fires"})), Share(D(v, {"precision"})), Count(U(v, {"needs"})),
                   Share(D(v, {"recall"})), Count(U(v, {"reactions", "accepted"})),
                   Count(U(v, {"reactions", "dismissed"})));
  }
  fmt::format_to(std::back_inserter(out), "  {:<22} {:>9} {:>10} {:>9} {:>8}\n", "signal", "alerts", "precision",
                 "needs", "recall");
  for (const auto& [name, v] : s["true_precision_recall"]["signals"].items()) {
    fmt::format_to(std::back_inserter(out), "  {:<22} {:>9} {:>10} {:>9} {:>8}\n", name, Count(U(v, {"alerts"})),
                   Share(D(v, {"precision"})), Count(U(v, {"needs"})), Share(D(v, {"recall"})));
  }
  if (s.contains("scorecard_error")) {
    fmt::format_to(std::back_inserter(out), "\n  The scorecard could not be built: {}\n", s["scorecard_error"].get<std::string>());
  }
  return out;
}

nlohmann::json ComparisonJson(const nlohmann::json& a, const nlohmann::json& b) {
  nlohmann::json diff = nlohmann::json::object();
  for (size_t k = 0; k < a["headline"].size() && k < b["headline"].size(); ++k) {
    const nlohmann::json& ha = a["headline"][k];
    const nlohmann::json& hb = b["headline"][k];
    const double ta = ha.value("treatment", nlohmann::json()).is_number() ? ha["treatment"].get<double>() : NAN;
    const double tb = hb.value("treatment", nlohmann::json()).is_number() ? hb["treatment"].get<double>() : NAN;
    diff[ha.value("metric", "")] = {{"a", Num(ta)}, {"b", Num(tb)}, {"b_minus_a", Num(tb - ta)}};
  }
  for (const char* key : {"actions_per_customer_per_day", "seen_per_customer_per_day"}) {
    const double va = D(a, {"interruption_load", key}), vb = D(b, {"interruption_load", key});
    diff[key] = {{"a", Num(va)}, {"b", Num(vb)}, {"b_minus_a", Num(vb - va)}};
  }
  for (const char* key : {"opted_out", "complaints", "churned"}) {
    const double va = D(a, {"treatment", key}), vb = D(b, {"treatment", key});
    diff[key] = {{"a", Num(va)}, {"b", Num(vb)}, {"b_minus_a", Num(vb - va)}};
  }
  return {{"schema", "upfront.simulation.compare/1"}, {"a", a}, {"b", b}, {"differences", diff}};
}

std::string FormatComparison(const nlohmann::json& a, const nlohmann::json& b) {
  std::string out;
  const std::string va = a["policy"].value("version", "a"), vb = b["policy"].value("version", "b");
  fmt::format_to(std::back_inserter(out), "Same population ({}, {} customers, {} days, seed {}) under two policies\n\n",
                 a["population"].value("name", "?"), Count(U(a, {"customers"})), U(a, {"days"}), U(a, {"seed"}));
  fmt::format_to(std::back_inserter(out), "  {:<34} {:>26} {:>26}\n", "", va.substr(0, 26), vb.substr(0, 26));
  for (size_t k = 0; k < a["headline"].size() && k < b["headline"].size(); ++k) {
    const nlohmann::json& ha = a["headline"][k];
    const nlohmann::json& hb = b["headline"][k];
    const std::string unit = UnitOf(ha);
    auto cell = [&](const nlohmann::json& h) {
      return fmt::format("{} ({} vs holdout)", Fmt(h.value("treatment", nlohmann::json()), unit),
                         Fmt(h.value("difference", nlohmann::json()), unit, true));
    };
    fmt::format_to(std::back_inserter(out), "  {:<34} {:>26} {:>26}\n", LabelOf(ha), cell(ha), cell(hb));
    auto truth = [&](const nlohmann::json& h) { return Fmt(h["truth"].value("true_effect", nlohmann::json()), unit, true); };
    fmt::format_to(std::back_inserter(out), "  {:<34} {:>26} {:>26}\n", "  true effect", truth(ha), truth(hb));
  }
  auto row = [&](std::string_view label, const std::string& x, const std::string& y) {
    fmt::format_to(std::back_inserter(out), "  {:<34} {:>26} {:>26}\n", label, x, y);
  };
  row("Actions per customer per day", fmt::format("{:.3f}", D(a, {"interruption_load", "actions_per_customer_per_day"})),
      fmt::format("{:.3f}", D(b, {"interruption_load", "actions_per_customer_per_day"})));
  row("Actions (treatment)", Count(U(a, {"actions", "treatment"})), Count(U(b, {"actions", "treatment"})));
  row("Opt-outs", fmt::format("{} ({})", Count(U(a, {"treatment", "opted_out"})), Pct(D(a, {"treatment", "opt_out_rate"}))),
      fmt::format("{} ({})", Count(U(b, {"treatment", "opted_out"})), Pct(D(b, {"treatment", "opt_out_rate"}))));
  row("Complaints", Count(U(a, {"treatment", "complaints"})), Count(U(b, {"treatment", "complaints"})));
  row("Churned (treatment)", Count(U(a, {"treatment", "churned"})), Count(U(b, {"treatment", "churned"})));
  out += "\n  True precision / recall\n";
  std::vector<std::string> names;
  for (const auto& [name, v] : a["true_precision_recall"]["interventions"].items()) names.push_back(name);
  for (const auto& [name, v] : b["true_precision_recall"]["interventions"].items()) {
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  }
  auto pr = [](const nlohmann::json& s, const std::string& name) -> std::string {
    const nlohmann::json& all = s["true_precision_recall"]["interventions"];
    if (!all.contains(name)) return "-";
    const nlohmann::json& v = all[name];
    return fmt::format("{} / {} ({} fires)", Share(D(v, {"precision"})), Share(D(v, {"recall"})), Count(U(v, {"fires"})));
  };
  for (const std::string& name : names) row("  " + name, pr(a, name), pr(b, name));
  return out;
}

}  // namespace upfront::sim
