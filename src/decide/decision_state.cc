#include "src/decide/decision_state.h"

#include <algorithm>

#include "src/common/binary_codec.h"

namespace upfront {
namespace {

// 2 added InterventionState::exposed_variant; version 1 is still read.
constexpr uint64_t kVersion = 2;

void PutStrings(Encoder* e, const std::vector<std::string>& items) {
  e->PutVarint(items.size());
  for (const std::string& s : items) e->PutString(s);
}

bool GetStrings(Decoder* d, std::vector<std::string>* items) {
  const uint64_t n = d->GetVarint();
  if (!d->ok() || n > 1024) return false;
  items->clear();
  for (uint64_t i = 0; i < n; ++i) items->emplace_back(d->GetString());
  return d->ok();
}

}  // namespace

void DecisionState::Encode(std::string* out) const {
  Encoder e(out);
  e.PutVarint(kVersion);
  e.PutVarint(interventions.size());
  for (const InterventionState& s : interventions) {
    e.PutSigned(s.step);
    e.PutSigned(s.step_at);
    e.PutSigned(s.last_contact);
    e.PutBool(s.stopped);
    e.PutBool(s.rejected);
    e.PutBool(s.in_review);
    e.PutString(s.review_id);
    e.PutSigned(s.review_expires);
    e.PutSigned(s.retry_at);
    e.PutVarint(s.dismissals);
    e.PutSigned(s.last_dismissed);
    e.PutSigned(s.suppressed_until);
    e.PutSigned(s.snoozed_until);
    e.PutBool(s.declined);
    e.PutSigned(s.exposed_variant);
  }
  e.PutVarint(contacts.size());
  for (const Contact& c : contacts) {
    e.PutSigned(c.at);
    e.PutVarint(c.intervention);
    e.PutString(c.channel);
    e.PutSigned(c.local_day);
    e.PutSigned(c.local_week);
  }
  const Preferences& p = preferences;
  PutStrings(&e, p.channel_opt_outs);
  PutStrings(&e, p.channel_opt_ins);
  e.PutString(p.preferred_channel);
  e.PutSigned(p.snoozed_until);
  e.PutBool(p.opted_out);
  e.PutBool(p.has_quiet_hours);
  e.PutVarint(static_cast<uint64_t>(p.quiet_start_minute));
  e.PutVarint(static_cast<uint64_t>(p.quiet_end_minute));
  e.PutVarint(p.purposes.size());
  for (const PurposeConsent& c : p.purposes) {
    e.PutString(c.purpose);
    e.PutVarint(static_cast<uint64_t>(c.state));
    e.PutSigned(c.since);
    e.PutSigned(c.expires);
  }
  e.PutString(timezone);
  e.PutString(locale);
  e.PutSigned(last_presence);
  e.PutVarint(last_properties.size());
  for (const auto& [id, value] : last_properties) {
    e.PutVarint(id);
    e.PutString(value);
  }
  e.PutBool(incident_open);
  e.PutVarint(decisions);
  e.PutSigned(last_decided);
}

absl::Status DecisionState::Decode(std::string_view in) {
  *this = DecisionState();
  if (in.empty()) return absl::OkStatus();
  Decoder d(in);
  const uint64_t version = d.GetVarint();
  if (version != 1 && version != kVersion) return absl::DataLossError("decision state: unknown version");
  const uint64_t n = d.GetVarint();
  if (!d.ok() || n > 4096) return absl::DataLossError("decision state is corrupt");
  interventions.resize(n);
  for (InterventionState& s : interventions) {
    s.step = static_cast<int>(d.GetSigned());
    s.step_at = d.GetSigned();
    s.last_contact = d.GetSigned();
    s.stopped = d.GetBool();
    s.rejected = d.GetBool();
    s.in_review = d.GetBool();
    s.review_id = std::string(d.GetString());
    s.review_expires = d.GetSigned();
    s.retry_at = d.GetSigned();
    s.dismissals = static_cast<uint32_t>(d.GetVarint());
    s.last_dismissed = d.GetSigned();
    s.suppressed_until = d.GetSigned();
    s.snoozed_until = d.GetSigned();
    s.declined = d.GetBool();
    if (version >= 2) s.exposed_variant = static_cast<int>(d.GetSigned());
  }
  const uint64_t contact_count = d.GetVarint();
  if (!d.ok() || contact_count > 4096) return absl::DataLossError("decision state is corrupt");
  contacts.resize(contact_count);
  for (Contact& c : contacts) {
    c.at = d.GetSigned();
    c.intervention = static_cast<uint16_t>(d.GetVarint());
    c.channel = std::string(d.GetString());
    c.local_day = d.GetSigned();
    c.local_week = d.GetSigned();
  }
  Preferences& p = preferences;
  if (!GetStrings(&d, &p.channel_opt_outs) || !GetStrings(&d, &p.channel_opt_ins)) {
    return absl::DataLossError("decision state is corrupt");
  }
  p.preferred_channel = std::string(d.GetString());
  p.snoozed_until = d.GetSigned();
  p.opted_out = d.GetBool();
  p.has_quiet_hours = d.GetBool();
  p.quiet_start_minute = static_cast<int>(d.GetVarint());
  p.quiet_end_minute = static_cast<int>(d.GetVarint());
  const uint64_t purposes = d.GetVarint();
  if (!d.ok() || purposes > 256) return absl::DataLossError("decision state is corrupt");
  p.purposes.resize(purposes);
  for (PurposeConsent& c : p.purposes) {
    c.purpose = std::string(d.GetString());
    c.state = static_cast<PurposeConsent::State>(d.GetVarint());
    c.since = d.GetSigned();
    c.expires = d.GetSigned();
  }
  timezone = std::string(d.GetString());
  locale = std::string(d.GetString());
  last_presence = d.GetSigned();
  const uint64_t properties = d.GetVarint();
  if (!d.ok() || properties > 4096) return absl::DataLossError("decision state is corrupt");
  last_properties.resize(properties);
  for (auto& [id, value] : last_properties) {
    id = static_cast<uint16_t>(d.GetVarint());
    value = std::string(d.GetString());
  }
  incident_open = d.GetBool();
  decisions = d.GetVarint();
  last_decided = d.GetSigned();
  if (!d.ok()) return absl::DataLossError("decision state is truncated");
  return absl::OkStatus();
}

void DecisionState::Absorb(const DecisionState& other) {
  const auto latest = [](Micros a, Micros b) { return std::max(a, b); };
  for (size_t i = 0; i < other.interventions.size(); ++i) {
    const InterventionState& theirs = other.interventions[i];
    InterventionState& ours = intervention(i);
    if (ours.step < 0 && theirs.step >= 0) {
      ours.step = theirs.step;
      ours.step_at = theirs.step_at;
      ours.stopped = theirs.stopped;
      ours.in_review = theirs.in_review;
      ours.review_id = theirs.review_id;
      ours.review_expires = theirs.review_expires;
      ours.retry_at = theirs.retry_at;
    }
    ours.last_contact = latest(ours.last_contact, theirs.last_contact);
    ours.dismissals += theirs.dismissals;
    ours.last_dismissed = latest(ours.last_dismissed, theirs.last_dismissed);
    ours.suppressed_until = latest(ours.suppressed_until, theirs.suppressed_until);
    ours.snoozed_until = latest(ours.snoozed_until, theirs.snoozed_until);
    ours.declined = ours.declined || theirs.declined;
  }
  contacts.insert(contacts.end(), other.contacts.begin(), other.contacts.end());
  std::stable_sort(contacts.begin(), contacts.end(),
                   [](const Contact& a, const Contact& b) { return a.at < b.at; });
  Preferences& p = preferences;
  const Preferences& q = other.preferences;
  for (const std::string& c : q.channel_opt_outs) {
    if (std::find(p.channel_opt_outs.begin(), p.channel_opt_outs.end(), c) == p.channel_opt_outs.end()) {
      p.channel_opt_outs.push_back(c);
    }
  }
  p.opted_out = p.opted_out || q.opted_out;
  p.snoozed_until = latest(p.snoozed_until, q.snoozed_until);
  if (p.preferred_channel.empty()) p.preferred_channel = q.preferred_channel;
  if (!p.has_quiet_hours && q.has_quiet_hours) {
    p.has_quiet_hours = true;
    p.quiet_start_minute = q.quiet_start_minute;
    p.quiet_end_minute = q.quiet_end_minute;
  }
  for (const PurposeConsent& theirs : q.purposes) {
    auto it = std::find_if(p.purposes.begin(), p.purposes.end(),
                           [&](const PurposeConsent& c) { return c.purpose == theirs.purpose; });
    if (it == p.purposes.end()) {
      p.purposes.push_back(theirs);
    } else if (theirs.state != PurposeConsent::State::kGranted) {
      *it = theirs;  // a refusal on either side stands
    }
  }
  if (timezone.empty()) timezone = other.timezone;
  if (locale.empty()) locale = other.locale;
  last_presence = latest(last_presence, other.last_presence);
  for (const auto& [id, value] : other.last_properties) {
    auto it = std::lower_bound(last_properties.begin(), last_properties.end(), id,
                               [](const auto& p, uint16_t key) { return p.first < key; });
    if (it == last_properties.end() || it->first != id) last_properties.insert(it, {id, value});
  }
  incident_open = incident_open || other.incident_open;
  decisions += other.decisions;
  last_decided = latest(last_decided, other.last_decided);
}

}  // namespace upfront
