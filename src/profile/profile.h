// A customer's profile: who they are (ids merged into one), what they told us
// (kept traits), what they allow (consent per channel) and how much we have
// seen of them (counters). Owned by exactly one partition thread; not
// thread-safe.
//
//   ProfileRules rules(policy, catalog);
//   Profile p;  p.id = "u1";
//   ApplyEvent(rules, event, &p);
//   MergeProfiles(rules, std::move(anonymous), &p);   // anonymous into known
//   std::string json = ProfileToJson(rules, p).dump(2);
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "src/common/prefetch.h"
#include "src/common/string_map.h"
#include "src/event/field_catalog.h"
#include "src/profile/event_counts.h"
#include "upfront/event.h"
#include "upfront/policy.h"
#include "upfront/status.h"

namespace upfront {

// Consent for one channel. Denied beats granted when profiles merge.
struct ChannelConsent {
  enum class State : uint8_t { kUnknown, kGranted, kDenied };
  std::string channel;
  State state = State::kUnknown;
  Micros since = 0;  // event time of the statement
};

struct Profile {
  std::string id;  // canonical id: the known userId, else the anonymousId
  std::string user_id;
  std::vector<std::string> anonymous_ids;
  std::vector<std::string> merged_ids;  // canonical ids of profiles merged into this one
  // Indexed by the catalog's trait id; kind kNull with `has_trait` false = absent.
  std::vector<FieldValue> traits;
  std::vector<uint8_t> has_trait;  // bytes, not bits: a block the look-ahead can prefetch
  std::vector<ChannelConsent> consent;
  Micros first_seen = 0;  // event time
  Micros last_seen = 0;
  uint64_t events = 0;
  uint64_t late_events = 0;
  std::array<uint64_t, kOutcomeRoleCount> outcome_counts{};
  EventCounts event_counts;  // by event name

  static constexpr size_t kMaxEventNames = EventCounts::kMaxNames;

  // Starts loading what applying and reading an event reads (see
  // src/common/prefetch.h).
  void Prefetch() const {
    PrefetchVector(traits);
    PrefetchVector(has_trait);
    event_counts.Prefetch();
  }
};

// What applying events needs from the policy, precomputed once.
class ProfileRules {
 public:
  ProfileRules(const Policy& policy, const FieldCatalog& catalog);
  const FieldCatalog& catalog() const { return *catalog_; }
  // Channel whose consent the trait states, or "" when it states none.
  const std::string& ConsentChannel(uint16_t trait_id) const { return consent_channel_[trait_id]; }
  // Outcome roles mapped to this event name (usually zero or one).
  const std::vector<OutcomeRole>* RolesFor(std::string_view event_name) const;

 private:
  const FieldCatalog* catalog_;
  std::vector<std::string> consent_channel_;
  StringMap<std::vector<OutcomeRole>> roles_by_event_;
};

// Folds one event into the profile: ids, traits (latest wins), consent from
// consent traits, counters. Late events are counted as such.
void ApplyEvent(const ProfileRules& rules, const Event& event, Profile* profile);

// Merges `from` into `into`: ids and counters are combined, traits of `into`
// win where both have one, and for consent the stricter statement wins.
void MergeProfiles(const ProfileRules& rules, Profile&& from, Profile* into);

// Binary encoding for the store; traits are written by name so a policy that
// keeps other traits can still read older profiles.
void EncodeProfile(const ProfileRules& rules, const Profile& profile, std::string* out);
absl::Status DecodeProfile(const ProfileRules& rules, std::string_view data, Profile* profile);

nlohmann::json ProfileToJson(const ProfileRules& rules, const Profile& profile);

}  // namespace upfront
