// The synthetic population the simulator runs through a policy: who the
// customers are, when they are online, which journeys they go on, which
// latent needs those journeys hide and how the needs show, how customers read
// each channel, how support and surveys behave, and how customers react to
// proactive help. Everything is explicit and written in a YAML file
// (docs/simulation.md describes every key; examples/<domain>/population.yaml
// are complete examples).
//
//   absl::StatusOr<PopulationModel> model = LoadPopulationFile("examples/saas/population.yaml");
//   PopulationModel fallback = DefaultPopulation();  // the e-commerce shoppers
//   std::vector<std::string> notes = CheckPopulationAgainstPolicy(*model, policy);
//
// A PopulationModel is a plain value, immutable once loaded, and safe to
// share between threads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "upfront/policy.h"
#include "upfront/status.h"
#include "upfront/time.h"

namespace upfront::sim {

// A number drawn uniformly from [min, max] (min == max: a constant).
struct NumberRange {
  double min = 0;
  double max = 0;
};

// A duration drawn uniformly from [min, max].
struct DurationRange {
  Micros min = 0;
  Micros max = 0;
};

// A value for an event property, a trait or a journey variable, written as:
//   a scalar                  -> that value ("shipping", 3, true)
//   a list [a, b, c]          -> one of them, equally likely
//   {choice: {a: 0.7, b: 0.3}}-> one of them, by weight
//   {min: 20, max: 250}       -> a uniform number (an integer when both ends
//                                are integers and `round` is not false)
//   "text with {var}"         -> a string with {customer}, {n} (the journey's
//                                instance number) and journey variables filled
//                                in; exactly "{var}" keeps the variable's type
struct ValueSpec {
  enum class Kind : uint8_t { kConstant, kChoice, kUniform, kTemplate };
  Kind kind = Kind::kConstant;
  // kConstant: the JSON text of the value; kChoice: the JSON texts of the
  // options; kTemplate: the unescaped template text in `texts[0]`.
  std::vector<std::string> texts;
  std::vector<double> weights;  // kChoice, cumulative, last == 1
  NumberRange range;            // kUniform
  bool integer = false;         // kUniform
  int decimals = 2;             // kUniform, not integer
};

using Properties = std::vector<std::pair<std::string, ValueSpec>>;

// One observable event a journey or a need produces.
struct EventSpec {
  enum class Type : uint8_t { kTrack, kPage, kScreen };
  // When it happens:
  //   kInFlow  in the journey's own session, in order, `spacing` apart
  //            (the default for in-session journeys)
  //   kStart   at the journey's start or the need's onset, in order (the
  //            default for journeys that start any time)
  //   kSession in each of the customer's sessions while the need lasts, with
  //            `probability` per session
  //   kDaily   once a day while the need lasts (a burst of `count`), at a
  //            random waking hour
  enum class When : uint8_t { kInFlow, kStart, kSession, kDaily };
  Type type = Type::kTrack;
  std::string name;  // track: the event; page: the path; screen: the screen name
  Properties properties;
  NumberRange count{1, 1};  // how many, one `spacing` apart
  DurationRange spacing{30 * kMicrosPerSecond, 90 * kMicrosPerSecond};
  double probability = 1;
  std::optional<When> when;  // unset: the journey's default
  // From a back-end system (a carrier, billing, the network), not the
  // customer's device: no browser context, does not need the customer online
  // and does not count as presence.
  bool system = false;
};

// How a need ends when nobody resolves it first.
enum class NeedEnd : uint8_t {
  kNothing,  // it fades: no goal, no penalty beyond what it already caused
  kGoal,     // the journey's goal happens anyway at the end (a late parcel arrives)
  kGiveUp,   // the customer gives up: no goal, a loyalty penalty, maybe churn
};

// A support contact a need leads to.
struct ContactSpec {
  double probability = 0;  // of contacting support while the need is unresolved
  DurationRange after{30 * kMicrosPerMinute, 24 * kMicrosPerHour};  // after the onset
  std::string case_type;   // properties.case_type of the contact
  // Chance the first contact fixes it (default: support.first_contact_fix).
  std::optional<double> first_contact_fix;
};

// A latent need: the real problem behind a journey, which the simulator
// knows and the engine has to infer from its symptoms.
struct NeedSpec {
  std::string name;
  double probability = 0;  // per journey instance; a journey's needs exclude each other
  // The interventions that address this need (policy names). A decision of
  // one of them while the need is active is a true positive.
  std::vector<std::string> helped_by;
  std::vector<EventSpec> symptoms;
  bool replaces_steps = false;  // the symptoms happen instead of the journey's steps
  double activity = 1;          // multiplier on the customer's sessions while it lasts
  DurationRange lasts{2 * kMicrosPerDay, 2 * kMicrosPerDay};
  double self_resolve = 0;  // the customer fixes it alone (in the journey's session, or at the next one)
  double retry = 0;         // in-session journeys: tries the journey again at the next session
  // Reactions to help that addresses it (defaults from `reactions`).
  std::optional<double> accept;  // when timely
  double resolves = 0.8;         // an accepted help resolves the need
  Micros timely = 30 * kMicrosPerMinute;  // seen within this after the latest symptom
  ContactSpec contact;
  NeedEnd on_end = NeedEnd::kGiveUp;
  double churn = 0;                  // on giving up
  std::vector<EventSpec> end_events; // at the end, however it ended (an outage is fixed)
};

// A journey: something customers set out to do.
struct JourneySpec {
  // kInSession: starts inside a session with `rate` per session.
  // kAnytime: starts with `rate` per day at any hour (a parcel ships, a bill is issued).
  // kFirstSession: once, in the customer's first session (onboarding).
  enum class Start : uint8_t { kInSession, kAnytime, kFirstSession };
  std::string name;
  Start start = Start::kInSession;
  double rate = 0;
  std::vector<int> segments;  // indexes into PopulationModel::segments; empty: everyone
  Properties vars;            // drawn once per instance, used as {name} in properties
  std::vector<EventSpec> steps;
  std::vector<EventSpec> noise;  // harmless events that look like trouble (with their probability)
  std::optional<EventSpec> goal;  // success (a purchase, setup done)
  double goal_probability = 1;    // chance of the goal when no need stands in the way
  DurationRange goal_after{60 * kMicrosPerSecond, 3 * kMicrosPerMinute};  // after the last step
  std::vector<NeedSpec> needs;
};

struct SegmentModel {
  std::string name;
  double share = 0;
  Properties traits;    // sent in the customer's identify
  double activity = 1;  // multiplier on sessions per day
  double loyalty = 7.5; // mean latent NPS (0..10) before anything happens
};

struct TimezoneModel {
  std::string zone;  // IANA name
  double share = 0;
  std::string locale;  // context.locale ("" = none)
};

// How the customer notices a message on a channel.
struct ChannelHabit {
  std::string channel;  // the policy's channel name
  enum class How : uint8_t {
    kInSession,    // only while online, at once (an in-page tip)
    kNextSession,  // at once when online, else at the next session within `within` (in-app inbox)
    kLater,        // with probability `rate`, `delay` later, in waking hours (email, SMS, a call)
  };
  How how = How::kLater;
  double rate = 1;
  DurationRange delay{10 * kMicrosPerMinute, 6 * kMicrosPerHour};
  Micros within = 3 * kMicrosPerDay;
};

struct ChannelModel {
  std::vector<std::pair<std::string, double>> consent;    // trait -> share true (email_opt_in: 0.6)
  std::vector<std::pair<std::string, double>> preferred;  // channel -> share
  double preferred_boost = 1.3;  // acceptance multiplier on the preferred channel
  std::vector<ChannelHabit> seen;  // channels not listed: by the channel's kind (docs/simulation.md)
};

struct PresenceModel {
  double sessions_per_day = 0.4;
  std::vector<double> hours;  // 24 weights, local hour 0..23
  std::vector<double> weekdays;  // 7 multipliers on sessions, Monday..Sunday (empty: all 1)
  DurationRange session_length{3 * kMicrosPerMinute, 15 * kMicrosPerMinute};
  std::optional<EventSpec> session_start;  // e.g. "Session Started", first in every session
  NumberRange pages{1, 2};                 // page views per session besides journeys
  std::vector<std::string> paths;          // pages they browse
  std::vector<std::pair<std::string, double>> devices;  // context.channel -> share ("web", "mobile")
};

struct SupportModel {
  std::vector<std::pair<std::string, double>> channels;  // properties.channel of contacts
  DurationRange resolve_after{20 * kMicrosPerMinute, 24 * kMicrosPerHour};
  double first_contact_fix = 0.7;
  double informed_fix_bonus = 0.15;  // when a proactive message already explained it
  double recontact = 0.8;            // unfixed: contacts again
  DurationRange recontact_after{1 * kMicrosPerDay, 6 * kMicrosPerDay};
  double background_per_month = 0.03;  // contacts about anything else
  std::string background_case_type = "other";
  // Simulated agents answering the review queue.
  // They look at the account: approve when the customer really has a need
  // the intervention addresses, approve_unfounded when not.
  double approve = 0.8;
  double approve_unfounded = 0.2;
  DurationRange answer_after{30 * kMicrosPerMinute, 6 * kMicrosPerHour};
  // Answers the agents give per simulated day per 1,000 customers; items
  // beyond wait and may lapse (the engine expires them after 24 hours).
  double review_capacity = 5;
};

struct SurveyModel {
  double csat_after_contact = 0.25;  // answer rate of the CSAT survey after a resolved contact
  double csat_after_goal = 0.05;     // ... after a completed journey
  DurationRange csat_delay{5 * kMicrosPerMinute, 12 * kMicrosPerHour};
  double csat_base = 4.1;  // latent score before effects (1..5)
  double csat_noise = 0.8;
  double nps_invited = 0.3;  // share of customers asked once during the run
  double nps_response = 0.3;
  double nps_noise = 1.5;
};

// Points added to the latent scores (docs/simulation.md, "Surveys").
struct EffectModel {
  double csat_informed = 0.6;      // a proactive message had explained it
  double csat_fixed = 0.4;         // the contact fixed it
  double csat_not_fixed = -1.2;
  double csat_recontact = -0.7;    // per earlier contact about the same need
  double csat_wait_per_day = -0.5; // per day from opening to resolution
  double csat_annoyance = -0.3;    // per unit of annoyance
  double csat_smooth = 0.3;        // a journey that went without trouble
  double csat_friction = -0.8;     // a journey that had a need (goal surveys)
  double csat_helped = 0.7;        // ... that proactive help resolved
  double nps_helped = 0.8;         // per need resolved by proactive help (recent 30 days)
  double nps_unresolved = -1.0;    // per need active now
  double nps_gave_up = -1.5;       // per need given up on
  double nps_contact = -0.3;       // per contact
  double nps_annoyance = -0.6;     // per unit of annoyance
};

struct ReactionModel {
  double accept = 0.55;          // relevant and timely
  double late_factor = 0.5;      // relevant but not timely
  double dismiss_relevant = 0.05;
  double dismiss_irrelevant = 0.35;
  double dismiss_per_annoyance = 0.1;
  Micros annoyance_half_life = 7 * kMicrosPerDay;
  double annoyance_irrelevant = 1.0;   // an irrelevant message
  double annoyance_unwanted = 0.3;     // a relevant one not taken
  double annoyance_confirm = 0.5;      // ask_confirm: a question annoys less than a message
  int tolerance_per_day = 1;           // messages a day before frequency annoys
  double annoyance_frequency = 0.5;    // per message beyond the tolerance
  double opt_out_per_annoyance = 0.01; // after a dismissal or irrelevant message, x annoyance
  double complaint_per_annoyance = 0.004;
  double max_rate = 0.5;               // caps on the three rates above
  double complaint_on_give_up = 0.03;  // a customer who gives up on a need complains
};

struct PopulationModel {
  std::string name;
  std::string source_file;  // "" for the built-in default
  Micros start = 0;         // the first simulated instant (UTC)
  std::string id_prefix = "sim-";
  std::vector<SegmentModel> segments;
  std::vector<TimezoneModel> timezones;
  ChannelModel channels;
  PresenceModel presence;
  SupportModel support;
  SurveyModel surveys;
  ReactionModel reactions;
  EffectModel effects;
  std::optional<EventSpec> churn_event;  // sent when a customer churns (e.g. "Subscription Cancelled")
  std::vector<JourneySpec> journeys;
};

// Loads and validates a population file. On failure the message lists every
// problem, one per line, as "file:line:column: key: message" (the policy
// loader's form); InvalidArgument for a bad model, NotFound when the file
// cannot be read.
absl::StatusOr<PopulationModel> LoadPopulationFile(const std::string& path);
absl::StatusOr<PopulationModel> LoadPopulationText(std::string_view yaml, const std::string& file_name);

// The built-in population: examples/ecommerce/population.yaml, compiled in.
PopulationModel DefaultPopulation();
std::string_view DefaultPopulationYaml();

// What does not fit between a population and a policy, as notes for people
// (not errors: the same population is run under policies that differ):
// helped_by names no intervention of the policy; no journey's event is read
// by one of the policy's signals; an outcome role the policy maps that the
// population never produces; a channel the policy delivers on that the
// population has no habit for (the default by kind is used).
std::vector<std::string> CheckPopulationAgainstPolicy(const PopulationModel& model, const Policy& policy);

}  // namespace upfront::sim
