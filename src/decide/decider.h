// The decide step (DESIGN.md §5): for a customer, on each event or timer,
// which interventions' conditions hold, which guardrails block them, which
// one wins, what it says and why, and what the customer's ladders do next.
//
//   Decider decider(reader, rules);                       // per partition
//   decider.Observe(event, profile, &state);              // every event: feedback, presence, goals
//   Decision d;
//   if (decider.Decide({&profile, &signals, &reading, &event, now}, &state, &d)) emit(d);
//   Micros wake = decider.NextDue(state);                 // ladder steps, deferred steps
//
// Decisions are a pure function of the policy, the customer's state and the
// event time: no clock, no randomness. Not thread-safe (one per partition).
#pragma once

#include <array>
#include <string>
#include <vector>

#include "src/decide/decision.h"
#include "src/decide/decision_state.h"
#include "src/decide/local_time.h"
#include "src/profile/profile.h"
#include "src/reading/reader.h"
#include "src/signals/customer_signals.h"
#include "upfront/event.h"
#include "upfront/policy.h"

namespace upfront {

// A property or trait value as a message shows it ("3", "2.50", "card").
std::string RenderField(const FieldValue& value);
// The same, written over `out` (reusing its buffer: no allocation per event
// once it is large enough).
void RenderFieldTo(const FieldValue& value, std::string* out);

struct DecisionInput {
  const Profile* profile = nullptr;
  const CustomerSignals* signals = nullptr;
  Reading* reading = nullptr;     // read at `now`; the threshold slot is set here
  const Event* event = nullptr;   // the trigger; nullptr for a timer
  Micros now = 0;
};

class Decider {
 public:
  Decider(const PolicyReader& reader, const ProfileRules& rules);

  // Folds what an event says into the decision state: timezone and locale,
  // presence, incidents, feedback on the last contact (accepted, dismissed,
  // snoozed, opt-out) and goals met. Call for every event, before Decide.
  void Observe(const Event& event, DecisionState* state) const;

  // Decides at `in.now`. Returns false when no intervention's condition
  // holds (`out` is then scratch); otherwise fills `out` and updates the
  // state as the decision says (a step taken, a step deferred). `out` may be
  // reused across calls: its buffers are kept.
  bool Decide(const DecisionInput& in, DecisionState* state, Decision* out);

  // When the customer's decisions next need a look without an event: a
  // ladder's next step, or a step deferred past quiet hours. kNever if never.
  // `customer`: the canonical id (a variant may change the ladder's delays).
  Micros NextDue(const DecisionState& state, std::string_view customer);

  // Interventions the last Decide exposed the customer to for the first
  // time (in their current variant): their condition held.
  const std::vector<int>& new_exposures() const { return new_exposures_; }

  // Review items whose time ran out during the last Decide (their steps may
  // be proposed again); the caller marks them expired.
  const std::vector<std::string>& expired_reviews() const { return expired_reviews_; }

  // An agent's answer to review item `review_id` of intervention `i`, at
  // `now`. Approve: the step counts as delivered then. Reject: the episode
  // takes no more steps. False when the customer's state no longer waits for
  // that item (already answered, lapsed at `now`, or superseded).
  bool ResolveReview(const Profile& profile, DecisionState* state, int i,
                     std::string_view review_id, bool approve, Micros now);

 private:
  struct Compiled {
    std::vector<int> score_slots;       // signal/model scores `when` reads: the propensity
    std::vector<int> signals;  // signals and models `when` reads: the least sure of them
    std::vector<int> models;   // is the decision's confidence
  };
  struct Candidate {
    int intervention = -1;
    int step = 0;
    double confidence = 1;
    double priority = 0;
    const char* action = "none";
  };

  // The reasons that hold a step, most fundamental first (no allocation).
  struct Reasons {
    std::array<const char*, 16> names{};
    int count = 0;
    void Add(const char* name) { names[count++] = name; }
    bool empty() const { return count == 0; }
  };
  // Every reason guardrails give to hold step `step` of intervention `i` now;
  // the time a quiet-hours hold lifts in `*retry_at`.
  Reasons Guardrails(const DecisionInput& in, const DecisionState& state, int i, int step,
                     double confidence, Micros* retry_at);
  bool HasConsent(const Profile& profile, const DecisionState& state, const ChannelSpec& channel,
                  Micros now) const;
  bool OptedOut(const Profile& profile, const DecisionState& state,
                const ChannelSpec& channel) const;
  // The customer's time zone: a `timezone` trait when the policy keeps one
  // and the customer has it, else their events' latest context.timezone.
  std::string_view ZoneOf(const Profile& profile, const DecisionState& state) const;
  double Propensity(const Reading& reading, int i) const;
  double Confidence(const DecisionInput& in, int i) const;
  void Render(const DecisionInput& in, const DecisionState& state, int i, int step,
              bool confirm, Decision* out) const;

  // The customer's cohort and variants (hash of salt and canonical id), set
  // by Assign and read by the accessors below for intervention `i`.
  void Assign(std::string_view customer);
  const VariantSpec* VariantFor(int i) const;
  const std::vector<LadderStep>& LadderOf(int i) const;
  const ModerationSpec& ModerationOf(int i) const;
  const std::string& TemplateOf(int i, int step) const;

  const PolicyReader* reader_;
  const Policy* policy_;
  const ProfileRules* rules_;
  const int timezone_trait_;  // -1 when the policy keeps no `timezone` trait
  // By catalog property id: some template says {{last.properties.<it>}}, so
  // Observe remembers its latest value. Nothing else is kept (less to hold
  // about a customer, less to touch per event).
  std::vector<bool> rendered_property_;
  std::vector<Compiled> compiled_;
  std::vector<const ExperimentSpec*> experiment_of_;  // by intervention; nullptr: none
  std::vector<uint64_t> experiment_seed_;              // SaltSeed of its salt, by intervention
  uint64_t holdout_seed_ = 0;
  bool holdout_ = false;
  std::vector<int> variant_of_;  // by intervention; -1: in no experiment
  std::vector<int> new_exposures_;
  static void AddBlocked(Decision* out, const std::string& intervention, const char* reason,
                         Micros retry_at);

  LocalClock clock_;
  std::vector<std::string> expired_reviews_;
  // Scratch reused across decisions.
  std::vector<Candidate> candidates_;
  std::vector<int> missing_;
  std::string id_input_;
};

// Template variables that name a property's latest value.
inline constexpr std::string_view kLastProperties = "last.properties.";

// How long a review item waits for an agent before it lapses.
inline constexpr Micros kReviewTtl = 24 * kMicrosPerHour;

}  // namespace upfront
