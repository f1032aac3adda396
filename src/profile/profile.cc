#include "src/profile/profile.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/ascii.h"
#include "src/common/binary_codec.h"
#include "src/common/time_format.h"

namespace upfront {
namespace {

constexpr uint64_t kEncodingVersion = 1;

void AddUnique(std::vector<std::string>* ids, std::string_view id) {
  if (id.empty()) return;
  if (std::find(ids->begin(), ids->end(), id) == ids->end()) ids->emplace_back(id);
}

ChannelConsent::State ConsentFromValue(const FieldValue& value) {
  using State = ChannelConsent::State;
  switch (value.kind) {
    case FieldValue::Kind::kBool:
      return value.boolean ? State::kGranted : State::kDenied;
    case FieldValue::Kind::kNumber:
      return value.number != 0 ? State::kGranted : State::kDenied;
    case FieldValue::Kind::kString: {
      std::string v = absl::AsciiStrToLower(value.text);
      if (v == "true" || v == "yes" || v == "granted" || v == "opted_in" || v == "1") return State::kGranted;
      if (v == "false" || v == "no" || v == "denied" || v == "revoked" || v == "opted_out" || v == "0")
        return State::kDenied;
      return State::kUnknown;
    }
    default:
      return State::kUnknown;
  }
}

ChannelConsent& ConsentFor(Profile* profile, std::string_view channel) {
  for (ChannelConsent& c : profile->consent) {
    if (c.channel == channel) return c;
  }
  profile->consent.push_back({std::string(channel), ChannelConsent::State::kUnknown, 0});
  return profile->consent.back();
}

void EnsureTraitSlots(const ProfileRules& rules, Profile* profile) {
  size_t n = rules.catalog().trait_count();
  if (profile->traits.size() < n) {
    profile->traits.resize(n);
    profile->has_trait.resize(n, false);
  }
}

std::string_view ConsentStateName(ChannelConsent::State s) {
  switch (s) {
    case ChannelConsent::State::kGranted: return "granted";
    case ChannelConsent::State::kDenied: return "denied";
    default: return "unknown";
  }
}

nlohmann::json FieldToJson(const FieldValue& v) {
  switch (v.kind) {
    case FieldValue::Kind::kBool: return v.boolean;
    case FieldValue::Kind::kNumber:
      if (std::abs(v.number) < 9e15 && v.number == std::floor(v.number)) return static_cast<int64_t>(v.number);
      return v.number;
    case FieldValue::Kind::kString: return v.text;
    case FieldValue::Kind::kJson: return nlohmann::json::parse(v.text, nullptr, false);
    default: return nullptr;
  }
}

}  // namespace

ProfileRules::ProfileRules(const Policy& policy, const FieldCatalog& catalog) : catalog_(&catalog) {
  consent_channel_.resize(catalog.trait_count());
  for (const auto& [trait, channel] : policy.consent_traits) {
    int id = catalog.TraitId(trait);
    if (id >= 0) consent_channel_[id] = channel;
  }
  for (const OutcomeRule& rule : policy.outcomes) roles_by_event_[rule.event].push_back(rule.role);
}

const std::vector<OutcomeRole>* ProfileRules::RolesFor(std::string_view event_name) const {
  auto it = roles_by_event_.find(event_name);
  return it == roles_by_event_.end() ? nullptr : &it->second;
}

void ApplyEvent(const ProfileRules& rules, const Event& event, Profile* profile) {
  if (!event.user_id.empty() && profile->user_id.empty()) profile->user_id = event.user_id;
  if (!event.anonymous_id.empty() &&
      std::find(profile->anonymous_ids.begin(), profile->anonymous_ids.end(), event.anonymous_id) ==
          profile->anonymous_ids.end()) {
    profile->anonymous_ids.push_back(event.anonymous_id);
  }
  EnsureTraitSlots(rules, profile);
  for (const FieldValue& trait : event.traits) {
    FieldValue& slot = profile->traits[trait.key];
    slot.key = trait.key;
    slot.kind = trait.kind;
    slot.boolean = trait.boolean;
    slot.number = trait.number;
    slot.text.assign(trait.text);
    profile->has_trait[trait.key] = true;
    const std::string& channel = rules.ConsentChannel(trait.key);
    if (!channel.empty()) {
      ChannelConsent::State state = ConsentFromValue(trait);
      ChannelConsent& consent = ConsentFor(profile, channel);
      // A statement older than the one we hold does not override it.
      if (state != ChannelConsent::State::kUnknown && event.timestamp >= consent.since) {
        consent.state = state;
        consent.since = event.timestamp;
      }
    }
  }
  if (profile->events == 0 || event.timestamp < profile->first_seen) profile->first_seen = event.timestamp;
  profile->last_seen = std::max(profile->last_seen, event.timestamp);
  ++profile->events;
  if (event.late) ++profile->late_events;
  if (const auto* roles = rules.RolesFor(event.name)) {
    for (OutcomeRole role : *roles) ++profile->outcome_counts[static_cast<int>(role)];
  }
  profile->event_counts.Add(event.name, 1);
}

void MergeProfiles(const ProfileRules& rules, Profile&& from, Profile* into) {
  if (into->user_id.empty()) into->user_id = from.user_id;
  for (const std::string& id : from.anonymous_ids) AddUnique(&into->anonymous_ids, id);
  if (from.id != into->id) AddUnique(&into->merged_ids, from.id);
  for (const std::string& id : from.merged_ids) AddUnique(&into->merged_ids, id);
  if (!from.user_id.empty() && from.user_id != into->user_id) AddUnique(&into->merged_ids, from.user_id);

  EnsureTraitSlots(rules, into);
  EnsureTraitSlots(rules, &from);
  for (size_t i = 0; i < from.traits.size(); ++i) {
    if (from.has_trait[i] && !into->has_trait[i]) {
      into->traits[i] = std::move(from.traits[i]);
      into->has_trait[i] = true;
    }
  }
  for (const ChannelConsent& theirs : from.consent) {
    ChannelConsent& ours = ConsentFor(into, theirs.channel);
    bool stricter = theirs.state == ChannelConsent::State::kDenied ||
                    ours.state == ChannelConsent::State::kUnknown;
    if (stricter && ours.state != ChannelConsent::State::kDenied) {
      ours.state = theirs.state;
      ours.since = theirs.since;
    }
  }
  if (from.events > 0) {
    into->first_seen = into->events == 0 ? from.first_seen : std::min(into->first_seen, from.first_seen);
    into->last_seen = std::max(into->last_seen, from.last_seen);
  }
  into->events += from.events;
  into->late_events += from.late_events;
  for (int i = 0; i < kOutcomeRoleCount; ++i) into->outcome_counts[i] += from.outcome_counts[i];
  from.event_counts.ForEach([&](std::string_view name, uint64_t count) { into->event_counts.Add(name, count); });
}

void EncodeProfile(const ProfileRules& rules, const Profile& p, std::string* out) {
  Encoder e(out);
  e.PutVarint(kEncodingVersion);
  e.PutString(p.id);
  e.PutString(p.user_id);
  e.PutVarint(p.anonymous_ids.size());
  for (const auto& id : p.anonymous_ids) e.PutString(id);
  e.PutVarint(p.merged_ids.size());
  for (const auto& id : p.merged_ids) e.PutString(id);
  size_t trait_count = 0;
  for (bool has : p.has_trait) trait_count += has;
  e.PutVarint(trait_count);
  for (size_t i = 0; i < p.traits.size(); ++i) {
    if (!p.has_trait[i]) continue;
    const FieldValue& v = p.traits[i];
    e.PutString(rules.catalog().TraitName(static_cast<uint16_t>(i)));
    e.PutVarint(static_cast<uint64_t>(v.kind));
    e.PutBool(v.boolean);
    e.PutDouble(v.number);
    e.PutString(v.text);
  }
  e.PutVarint(p.consent.size());
  for (const auto& c : p.consent) {
    e.PutString(c.channel);
    e.PutVarint(static_cast<uint64_t>(c.state));
    e.PutSigned(c.since);
  }
  e.PutSigned(p.first_seen);
  e.PutSigned(p.last_seen);
  e.PutVarint(p.events);
  e.PutVarint(p.late_events);
  for (uint64_t count : p.outcome_counts) e.PutVarint(count);
  e.PutVarint(p.event_counts.size());
  p.event_counts.ForEach([&](std::string_view name, uint64_t count) {
    e.PutString(name);
    e.PutVarint(count);
  });
}

absl::Status DecodeProfile(const ProfileRules& rules, std::string_view data, Profile* p) {
  Decoder d(data);
  if (d.GetVarint() != kEncodingVersion) {
    return absl::DataLossError("stored profile has an unknown encoding version");
  }
  *p = Profile();
  p->id = d.GetString();
  p->user_id = d.GetString();
  for (uint64_t n = d.GetVarint(); d.ok() && n > 0; --n) p->anonymous_ids.emplace_back(d.GetString());
  for (uint64_t n = d.GetVarint(); d.ok() && n > 0; --n) p->merged_ids.emplace_back(d.GetString());
  EnsureTraitSlots(rules, p);
  for (uint64_t n = d.GetVarint(); d.ok() && n > 0; --n) {
    std::string_view name = d.GetString();
    FieldValue v;
    v.kind = static_cast<FieldValue::Kind>(d.GetVarint());
    v.boolean = d.GetBool();
    v.number = d.GetDouble();
    v.text = d.GetString();
    int id = rules.catalog().TraitId(name);
    if (id < 0) continue;  // the policy no longer keeps this trait
    v.key = static_cast<uint16_t>(id);
    p->traits[id] = std::move(v);
    p->has_trait[id] = true;
  }
  for (uint64_t n = d.GetVarint(); d.ok() && n > 0; --n) {
    ChannelConsent c;
    c.channel = d.GetString();
    c.state = static_cast<ChannelConsent::State>(d.GetVarint());
    c.since = d.GetSigned();
    p->consent.push_back(std::move(c));
  }
  p->first_seen = d.GetSigned();
  p->last_seen = d.GetSigned();
  p->events = d.GetVarint();
  p->late_events = d.GetVarint();
  for (uint64_t& count : p->outcome_counts) count = d.GetVarint();
  for (uint64_t n = d.GetVarint(); d.ok() && n > 0; --n) {
    const std::string_view name = d.GetString();
    p->event_counts.Add(name, d.GetVarint());
  }
  if (!d.ok()) return absl::DataLossError("stored profile is truncated or corrupt");
  return absl::OkStatus();
}

nlohmann::json ProfileToJson(const ProfileRules& rules, const Profile& p) {
  nlohmann::json j;
  j["id"] = p.id;
  j["userId"] = p.user_id.empty() ? nlohmann::json(nullptr) : nlohmann::json(p.user_id);
  j["anonymousIds"] = p.anonymous_ids;
  j["mergedIds"] = p.merged_ids;
  nlohmann::json traits = nlohmann::json::object();
  for (size_t i = 0; i < p.traits.size(); ++i) {
    if (i < p.has_trait.size() && p.has_trait[i]) {
      traits[rules.catalog().TraitName(static_cast<uint16_t>(i))] = FieldToJson(p.traits[i]);
    }
  }
  j["traits"] = traits;
  nlohmann::json consent = nlohmann::json::object();
  for (const auto& c : p.consent) {
    consent[c.channel] = {{"state", ConsentStateName(c.state)}, {"since", FormatTimestamp(c.since)}};
  }
  j["consent"] = consent;
  j["firstSeen"] = p.events ? nlohmann::json(FormatTimestamp(p.first_seen)) : nlohmann::json(nullptr);
  j["lastSeen"] = p.events ? nlohmann::json(FormatTimestamp(p.last_seen)) : nlohmann::json(nullptr);
  j["events"] = p.events;
  j["lateEvents"] = p.late_events;
  nlohmann::json outcomes = nlohmann::json::object();
  for (int i = 0; i < kOutcomeRoleCount; ++i) {
    if (p.outcome_counts[i]) outcomes[std::string(OutcomeRoleName(static_cast<OutcomeRole>(i)))] = p.outcome_counts[i];
  }
  j["outcomes"] = outcomes;
  nlohmann::json by_name = nlohmann::json::object();
  p.event_counts.ForEach([&](std::string_view name, uint64_t count) { by_name[std::string(name)] = count; });
  j["eventCounts"] = by_name;
  return j;
}

}  // namespace upfront
