// What the decide step remembers about one customer: each intervention's
// ladder, the contacts made (for caps and cooldowns), feedback (dismissals,
// snoozes, declines), preferences and consent, the open incident, and when
// they were last present. Persisted with the customer's state.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "src/common/prefetch.h"
#include "upfront/status.h"
#include "upfront/time.h"

namespace upfront {


// Fields ordered by size so that the three or so a policy has fit in as few
// cache lines as they can (every decision reads them all).
struct InterventionState {
  Micros step_at = kNever;    // when the last step was taken
  Micros last_contact = kNever;  // the last delivery of any step (intervention cooldown)
  Micros review_expires = kNever;
  Micros retry_at = kNever;   // a held step is looked at again then (quiet hours end, cooldown end)
  Micros last_dismissed = kNever;
  Micros suppressed_until = kNever;
  Micros snoozed_until = kNever;
  std::string review_id;       // the item the last step waits in, when in_review
  int step = -1;               // the last step taken in the current episode; -1: none
  uint32_t dismissals = 0;
  int exposed_variant = -1;    // the variant (0 outside experiments) last logged as exposed; -1: never
  bool stopped = false;        // goal met, accepted or rejected by an agent: no more steps this episode
  bool rejected = false;       // ... stopped by an agent's rejection
  bool in_review = false;      // the last step waits for an agent
  bool declined = false;       // the customer turned this help off
  bool operator==(const InterventionState&) const = default;
};

struct Contact {
  Micros at = 0;
  uint16_t intervention = 0;
  std::string channel;
  // The customer's local calendar day and week at the time, for caps.
  int64_t local_day = 0;
  int64_t local_week = 0;
  bool operator==(const Contact&) const = default;
};

// Consent for a purpose ("proactive_support"), as the customer gave it.
struct PurposeConsent {
  enum class State : uint8_t { kGranted, kDenied, kRevoked };
  std::string purpose;
  State state = State::kGranted;
  Micros since = kNever;
  Micros expires = kNever;  // kNever: does not lapse
  bool operator==(const PurposeConsent&) const = default;
};

struct Preferences {
  std::vector<std::string> channel_opt_outs;
  std::vector<std::string> channel_opt_ins;  // explicit, beyond consent traits
  std::string preferred_channel;
  Micros snoozed_until = kNever;  // all proactive help
  bool opted_out = false;          // no proactive help at all
  bool has_quiet_hours = false;    // the customer's own quiet hours, replacing the policy's
  int quiet_start_minute = 0;
  int quiet_end_minute = 0;
  std::vector<PurposeConsent> purposes;
  bool operator==(const Preferences&) const = default;
};

struct DecisionState {
  std::vector<InterventionState> interventions;  // by policy index (grown on demand)
  std::vector<Contact> contacts;                 // the last 8 days, oldest first
  Preferences preferences;
  std::string timezone;  // the latest context.timezone the customer's events carried
  std::string locale;
  Micros last_presence = kNever;  // the latest page/screen view or browser/app event
  // The latest value each property a template renders ({{last.properties.X}})
  // had in the customer's events (by catalog id, ascending; hashed ones
  // never); other properties are not remembered.
  std::vector<std::pair<uint16_t, std::string>> last_properties;
  bool incident_open = false;
  uint64_t decisions = 0;  // decision points so far (part of decision ids)
  Micros last_decided = kNever;  // timers due at or before this have been looked at

  InterventionState& intervention(size_t i) {
    if (interventions.size() <= i) interventions.resize(i + 1);
    return interventions[i];
  }
  bool operator==(const DecisionState&) const = default;

  // Starts loading what deciding reads on every event (see
  // src/common/prefetch.h): every intervention's ladder state, and the first
  // line of the remembered properties.
  void Prefetch() const {
    PrefetchVector(interventions);
    __builtin_prefetch(last_properties.data());
  }

  void Encode(std::string* out) const;
  absl::Status Decode(std::string_view in);

  // Folds in the state of another profile of the same person (an identity
  // merge): contacts and feedback add up, the stricter preference wins, and a
  // ladder already under way on either side carries on (so the same help is
  // not given twice).
  void Absorb(const DecisionState& other);
};

inline constexpr Micros kContactMemory = 8 * kMicrosPerDay;

}  // namespace upfront
