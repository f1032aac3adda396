// The simulated customers: their lives (sessions, journeys, latent needs and
// the events those produce), their reactions to the help they actually see,
// support contacts and surveys, and the ground truth of it all. Internal to
// src/sim: Simulate (simulator.h) drives a World against the real engine;
// the counterfactual run drives one with no engine at all.
//
//   World world(config);                 // creates every customer
//   std::string batch;
//   world.RunUntil(window_end, &batch);  // events due before window_end, as JSON lines
//   world.Deliver(delivery, window_end); // a decision the customer may see
//
// Determinism: each customer draws from its own std::mt19937_64, seeded from
// the run's seed and the customer's index; each delivery's reactions, and
// each review answer, from a std::mt19937_64 seeded from the seed and the
// decision id. Work is done in (time, customer, order scheduled) order, so a
// customer's life does not depend on which other customers are simulated:
// a World of a subset of the customers gives those customers the same lives.
// Numbers are drawn with our own conversions (not <random>'s distributions,
// which differ between standard libraries), so runs match across machines.
//
// Not thread-safe: one thread drives a World.
#pragma once

#include <cstdint>
#include <queue>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "src/sim/population.h"
#include "upfront/policy.h"
#include "upfront/time.h"

namespace upfront::sim {

inline constexpr int kMaxInterventions = 64;  // ground truth keeps them as bit masks
inline constexpr int kMaxSignals = 64;

// How a real need ended (or not, by the end of the run).
enum class NeedOutcome : uint8_t { kOpen, kHelped, kSelf, kContact, kGaveUp, kEnded };
std::string_view NeedOutcomeName(NeedOutcome outcome);

// The ground truth of one latent need.
struct NeedRecord {
  uint32_t customer = 0;
  uint16_t journey = 0;
  uint16_t need = 0;
  Micros onset = 0;
  Micros resolved_at = kNever;  // end of the active period; kNever while open
  NeedOutcome outcome = NeedOutcome::kOpen;
  uint64_t helped_by = 0;   // interventions that address it (bits of policy indexes)
  uint64_t fired = 0;       // interventions that acted while it was active
  uint64_t alerted = 0;     // signals that alerted while it was active
  bool Active(Micros at) const { return onset <= at && (resolved_at == kNever || at < resolved_at); }
};

// What one customer's events add up to, as the scorecard counts them.
struct CustomerOutcomes {
  std::vector<Micros> contacts_opened;
  std::vector<Micros> contacts_resolved;
  uint32_t csat_ratings = 0;
  uint32_t csat_good = 0;  // 4 or 5
  int nps = -1;            // the latest answer
  double revenue = 0;
  bool active = false;     // sent any event
  bool opted_out = false;
  uint32_t complaints = 0;
};

// A decision the engine delivered to a treatment customer.
struct Delivery {
  std::string decision_id;
  uint32_t customer = 0;
  Micros at = 0;
  int intervention = -1;  // policy index
  int channel = -1;       // policy index
  bool ask_confirm = false;
};

// What customers did with what they saw, per intervention.
struct ReactionCounts {
  uint64_t delivered = 0;
  uint64_t seen = 0;
  uint64_t relevant = 0;  // seen while a need it addresses was active
  uint64_t accepted = 0;
  uint64_t dismissed = 0;
  uint64_t ignored = 0;
  uint64_t resolved = 0;  // accepted and the need went away
  uint64_t opt_outs = 0;
  uint64_t complaints = 0;
};

// An answer the simulated agents give to a review item.
struct ReviewAnswerTask {
  Micros due = 0;
  std::string review_id;
  bool approve = false;
};

class World {
 public:
  struct Config {
    const PopulationModel* model = nullptr;
    const Policy* policy = nullptr;
    uint64_t seed = 1;
    uint32_t customers = 0;
    Micros start = 0;
    Micros end = 0;
    bool render = true;  // write events as JSON; false: only count outcomes
    // Simulate only these customer indexes (ascending); empty: all.
    std::vector<uint32_t> only;
  };
  explicit World(const Config& config);
  ~World();
  World(const World&) = delete;
  World& operator=(const World&) = delete;

  // The time of the next thing a customer will do (kNever when nothing is left).
  Micros NextDue() const;
  // Does everything due before `until`, appending each event as one JSON
  // line to `out` (when rendering). Returns the number of events.
  size_t RunUntil(Micros until, std::string* out);

  // A treatment decision that acted. The customer may notice it (by the
  // channel's habit), no earlier than `not_before`, and react.
  void Deliver(const Delivery& delivery, Micros not_before);
  // A decision sent to human review: the agents answer it later. They look
  // at the account, so they approve more often when the customer really has
  // a need the intervention addresses (support.approve) than when not
  // (support.approve_unfounded).
  void ScheduleReview(const std::string& review_id, uint32_t customer, int intervention, Micros at);
  // When the next review answer is due (kNever: none waiting).
  Micros NextReviewDue() const;
  // Answers due before `until`, in (due, id) order; removed from the queue.
  std::vector<ReviewAnswerTask> TakeDueReviews(Micros until);

  // Ground truth for a decision point at `at`: `acting` is the intervention
  // that acted (-1: none), `held` the interventions whose condition held
  // (acting or blocked), as bits of policy indexes. Marks the customer's
  // active needs as fired on / alerted for, and returns the interventions
  // those needs are helped by (0: no real need then).
  uint64_t ObserveDecision(uint32_t customer, Micros at, int acting, uint64_t held);

  // Customer `index`'s id ("sim-000042"); the index of an id (-1 if not ours).
  const std::string& CustomerId(uint32_t index) const { return ids_[index]; }
  int64_t CustomerIndex(std::string_view id) const;
  uint32_t customers() const { return static_cast<uint32_t>(ids_.size()); }
  bool simulated(uint32_t index) const;
  bool churned(uint32_t index) const;
  uint32_t segment(uint32_t index) const;

  const std::vector<NeedRecord>& needs() const { return needs_; }
  const CustomerOutcomes& outcomes(uint32_t index) const;
  const std::vector<ReactionCounts>& reactions() const { return reactions_; }  // by intervention
  // Which policy interventions read each policy signal (bit masks), through
  // their conditions and the models those read.
  const std::vector<uint64_t>& signal_readers() const { return signal_readers_; }
  uint64_t deliveries_seen(uint32_t index) const;
  uint64_t events() const { return events_; }

 private:
  struct Customer;
  struct Run;
  struct Item {
    Micros at;
    uint32_t customer;
    uint32_t seq;
    uint8_t kind;
    uint32_t arg;   // a run, a delivery or an event index, by kind
    int32_t value;  // a survey score, a step index
    bool operator>(const Item& o) const {
      if (at != o.at) return at > o.at;
      if (customer != o.customer) return customer > o.customer;
      return seq > o.seq;
    }
  };
  struct Zone {
    std::string name;
    std::string locale;
    std::vector<Micros> midnights;  // local midnights, day -1 .. days + 2
  };
  struct Habit {
    ChannelHabit::How how = ChannelHabit::How::kLater;
    double rate = 1;
    DurationRange delay;
    Micros within = 0;
  };
  struct OutcomeEvent {
    std::string event;     // "" when the policy maps no such role
    std::string property;  // the property the role's value is read from
  };

  void CreateCustomer(uint32_t index);
  void Schedule(uint32_t c, Micros at, uint8_t kind, uint32_t arg = 0, int32_t value = 0);
  void Handle(const Item& item);

  // Lives
  void PlanDay(Customer& c, uint32_t ci, Micros at, int day);
  void StartSession(Customer& c, uint32_t ci, Micros at);
  bool InSession(const Customer& c, Micros at) const;
  void KeepSession(Customer& c, Micros until);
  void StartJourney(Customer& c, uint32_t ci, int journey, Micros at);
  void BuildPlan(Customer& c, Run& run);
  void FlowStep(Customer& c, uint32_t ci, uint32_t r, int32_t step, Micros at);
  void FlowEnd(Customer& c, uint32_t ci, uint32_t r, Micros at);
  void NeedEnd(Customer& c, uint32_t ci, uint32_t r, Micros at);
  void ResolveNeed(Customer& c, uint32_t ci, uint32_t r, NeedOutcome how, Micros at);
  void ScheduleGoal(Customer& c, uint32_t ci, uint32_t r, Micros at);
  void EmitGoal(Customer& c, uint32_t ci, uint32_t r, Micros at);
  void ScheduleContact(Customer& c, uint32_t ci, uint32_t r, Micros at);
  void OpenContact(Customer& c, uint32_t ci, uint32_t r, Micros at);
  void ResolveContact(Customer& c, uint32_t ci, uint32_t r, Micros at);
  void AnswerNps(Customer& c, uint32_t ci, Micros at);
  void Churn(Customer& c, uint32_t ci, Micros at);
  double Activity(const Customer& c) const;
  int ActiveNeeds(const Customer& c) const;

  // Reactions
  void See(Customer& c, uint32_t ci, uint32_t delivery, Micros at);
  double Annoyance(Customer& c, Micros at);

  // Events
  void Emit(Customer& c, uint32_t ci, Micros at, const EventSpec& spec, const Run* run);
  void EmitOutcome(Customer& c, uint32_t ci, Micros at, OutcomeRole role, std::string_view properties_json,
                   double value);
  void BeginEvent(Customer& c, uint32_t ci, Micros at, std::string_view type, bool system);
  void EndEvent(Customer& c, bool system);
  void Identify(Customer& c, uint32_t ci, Micros at);
  void Count(Customer& c, OutcomeRole role, Micros at, double value);
  void RenderValue(Customer& c, const ValueSpec& value, const Run* run, std::string* out, double* number);

  // Time
  int LocalHour(const Customer& c, Micros t) const;
  Micros WakingTime(const Customer& c, Micros t) const;
  Micros RandomTimeOfDay(Customer& c, int day);  // by the presence hours

  const PopulationModel& model_;
  const Policy& policy_;
  Config config_;
  std::vector<std::string> ids_;
  std::vector<Customer*> customers_;  // null when not simulated
  std::vector<Zone> zones_;
  std::vector<Habit> habits_;  // by policy channel
  std::vector<int> preferred_channels_;  // population preferred -> policy channel index
  std::vector<std::vector<uint64_t>> helped_masks_;  // [journey][need]
  std::vector<uint64_t> signal_readers_;
  OutcomeEvent outcome_events_[kOutcomeRoleCount];
  // Event name -> roles the policy maps it to, for the outcome tallies.
  std::vector<std::pair<std::string, std::vector<OutcomeRole>>> roles_by_event_;
  std::vector<double> hour_cdf_;
  double max_hour_weight_ = 0;

  std::priority_queue<Item, std::vector<Item>, std::greater<Item>> agenda_;
  uint32_t seq_ = 0;
  std::vector<ReviewAnswerTask> reviews_;
  int64_t answer_day_ = -1;
  double answers_today_ = 0;
  std::vector<NeedRecord> needs_;
  std::vector<ReactionCounts> reactions_;
  std::string* out_ = nullptr;  // the batch being written
  std::string current_id_;      // the customer whose event is being written, for {customer}
  uint64_t events_ = 0;
  CustomerOutcomes no_outcomes_;
};

}  // namespace upfront::sim
