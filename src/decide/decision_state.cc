#include "src/decide/decision_state.h"

#include "src/common/binary_codec.h"

namespace upfront {
namespace {

constexpr uint64_t kVersion = 1;

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
    e.PutBool(s.in_review);
    e.PutSigned(s.retry_at);
    e.PutVarint(s.dismissals);
    e.PutSigned(s.last_dismissed);
    e.PutSigned(s.suppressed_until);
    e.PutSigned(s.snoozed_until);
    e.PutBool(s.declined);
  }
  e.PutVarint(contacts.size());
  for (const Contact& c : contacts) {
    e.PutSigned(c.at);
    e.PutVarint(c.intervention);
    e.PutString(c.channel);
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
  e.PutBool(incident_open);
  e.PutVarint(decisions);
  e.PutSigned(last_decided);
}

absl::Status DecisionState::Decode(std::string_view in) {
  *this = DecisionState();
  if (in.empty()) return absl::OkStatus();
  Decoder d(in);
  if (d.GetVarint() != kVersion) return absl::DataLossError("decision state: unknown version");
  const uint64_t n = d.GetVarint();
  if (!d.ok() || n > 4096) return absl::DataLossError("decision state is corrupt");
  interventions.resize(n);
  for (InterventionState& s : interventions) {
    s.step = static_cast<int>(d.GetSigned());
    s.step_at = d.GetSigned();
    s.last_contact = d.GetSigned();
    s.stopped = d.GetBool();
    s.in_review = d.GetBool();
    s.retry_at = d.GetSigned();
    s.dismissals = static_cast<uint32_t>(d.GetVarint());
    s.last_dismissed = d.GetSigned();
    s.suppressed_until = d.GetSigned();
    s.snoozed_until = d.GetSigned();
    s.declined = d.GetBool();
  }
  const uint64_t contact_count = d.GetVarint();
  if (!d.ok() || contact_count > 4096) return absl::DataLossError("decision state is corrupt");
  contacts.resize(contact_count);
  for (Contact& c : contacts) {
    c.at = d.GetSigned();
    c.intervention = static_cast<uint16_t>(d.GetVarint());
    c.channel = std::string(d.GetString());
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
  incident_open = d.GetBool();
  decisions = d.GetVarint();
  last_decided = d.GetSigned();
  if (!d.ok()) return absl::DataLossError("decision state is truncated");
  return absl::OkStatus();
}

}  // namespace upfront
