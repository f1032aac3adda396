#include "src/decide/decider.h"
#include "src/decide/cohort.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>

#include "src/common/hash.h"

namespace upfront {
namespace {

constexpr std::string_view kProactivePurpose = "proactive_support";
// A snooze from a feedback event that does not say until when.
constexpr Micros kSnooze = kMicrosPerDay;
// How long after its last step a finished episode is over by itself.
constexpr Micros kEpisodeEnd = kMicrosPerDay;

bool IsPresenceEvent(const Event& event) {
  if (event.type == EventType::kPage || event.type == EventType::kScreen) return true;
  const std::string_view c = event.channel;
  return c == "browser" || c == "web" || c == "mobile" || c == "app";
}

bool Contains(const std::vector<std::string>& items, std::string_view item) {
  return std::find(items.begin(), items.end(), item) != items.end();
}

// The intervention the customer's last contact came from, for feedback
// events that do not say which one they are about.
int LastContacted(const DecisionState& state) {
  return state.contacts.empty() ? -1 : state.contacts.back().intervention;
}

}  // namespace

void RenderFieldTo(const FieldValue& v, std::string* out) {
  switch (v.kind) {
    case FieldValue::Kind::kString:
    case FieldValue::Kind::kJson:
      // Compared first: an event's values are mostly those of the one before.
      if (*out != v.text) out->assign(v.text);
      return;
    case FieldValue::Kind::kBool: out->assign(v.boolean ? "true" : "false"); return;
    case FieldValue::Kind::kNumber: {
      char buffer[64];
      const auto end = v.number == std::floor(v.number) && std::abs(v.number) < 1e15
                           ? std::to_chars(buffer, buffer + sizeof buffer, static_cast<int64_t>(v.number)).ptr
                           : fmt::format_to_n(buffer, sizeof buffer, "{:.2f}", v.number).out;
      out->assign(buffer, static_cast<size_t>(std::min<std::ptrdiff_t>(end - buffer, sizeof buffer)));
      return;
    }
    case FieldValue::Kind::kNull: out->clear(); return;
  }
  out->clear();
}

std::string RenderField(const FieldValue& v) {
  std::string out;
  RenderFieldTo(v, &out);
  return out;
}

Decider::Decider(const PolicyReader& reader, const ProfileRules& rules)
    : reader_(&reader),
      policy_(&reader.policy()),
      rules_(&rules),
      timezone_trait_(reader.catalog().TraitId("timezone")),
      clock_(reader.policy().default_timezone) {
  holdout_seed_ = SaltSeed(policy_->holdout.salt);
  for (size_t i = 0; i < policy_->interventions.size(); ++i) {
    experiment_of_.push_back(ExperimentOf(*policy_, static_cast<int>(i)));
    experiment_seed_.push_back(experiment_of_.back() != nullptr ? SaltSeed(experiment_of_.back()->salt) : 0);
  }
  variant_of_.assign(policy_->interventions.size(), -1);
  for (const InterventionSpec& spec : policy_->interventions) {
    Compiled c;
    for (int slot : spec.when.slots()) {
      const ValuePath& path = policy_->paths[slot];
      if (path.kind == ValuePath::Kind::kSignalScore || path.kind == ValuePath::Kind::kModelScore) {
        c.score_slots.push_back(slot);
      }
      // A condition on a signal or model is only as sure as its evidence.
      if (path.kind == ValuePath::Kind::kSignalScore ||
          path.kind == ValuePath::Kind::kSignalConfidence) {
        const int signal = reader.signals().SignalIndex(path.name);
        if (std::find(c.signals.begin(), c.signals.end(), signal) == c.signals.end()) {
          c.signals.push_back(signal);
        }
      }
      if (path.kind == ValuePath::Kind::kModelScore ||
          path.kind == ValuePath::Kind::kModelConfidence) {
        for (size_t m = 0; m < policy_->models.size(); ++m) {
          if (policy_->models[m].name == path.name &&
              std::find(c.models.begin(), c.models.end(), m) == c.models.end()) {
            c.models.push_back(static_cast<int>(m));
          }
        }
      }
    }
    compiled_.push_back(std::move(c));
  }
  const FieldCatalog& catalog = reader.catalog();
  rendered_property_.assign(catalog.property_count(), false);
  const auto note_variables = [&](const TemplateSpec::Texts& texts) {
    for (const auto* text : {&texts.text, &texts.subject, &texts.why, &texts.confirm}) {
      if (!text->has_value()) continue;
      for (const TemplateText::Part& part : (*text)->parts) {
        if (!part.variable || !part.text.starts_with(kLastProperties)) continue;
        const int id = catalog.PropertyId(std::string_view(part.text).substr(kLastProperties.size()));
        if (id >= 0 && !catalog.PropertyHashed(id)) rendered_property_[id] = true;
      }
    }
  };
  for (const TemplateSpec& spec : policy_->templates) {
    note_variables(spec.base);
    for (const auto& [locale, texts] : spec.locales) note_variables(texts);
    for (const auto& [tone, texts] : spec.tones) note_variables(texts);
  }
}

void Decider::Observe(const Event& event, DecisionState* state) const {
  // Compared first: nearly always the same as last time, and a compare is a
  // third of what an assignment costs.
  if (!event.timezone.empty() && state->timezone != event.timezone) state->timezone = event.timezone;
  if (!event.locale.empty() && state->locale != event.locale) state->locale = event.locale;
  if (IsPresenceEvent(event) && event.timestamp > state->last_presence) {
    state->last_presence = event.timestamp;
  }
  const Micros t = event.timestamp;
  for (const FieldValue& field : event.properties) {
    if (field.key >= rendered_property_.size() || !rendered_property_[field.key] || event.late) continue;
    auto it = std::lower_bound(state->last_properties.begin(), state->last_properties.end(),
                               field.key, [](const auto& p, uint16_t key) { return p.first < key; });
    if (it == state->last_properties.end() || it->first != field.key) {
      it = state->last_properties.insert(it, {field.key, std::string()});
    }
    RenderFieldTo(field, &it->second);
  }
  if (const std::vector<OutcomeRole>* roles = rules_->RolesFor(event.name)) {
    const ModerationSpec& m = policy_->moderation;
    for (OutcomeRole role : *roles) {
      const int last = LastContacted(*state);
      switch (role) {
        case OutcomeRole::kIncidentOpened: state->incident_open = true; break;
        case OutcomeRole::kIncidentResolved: state->incident_open = false; break;
        case OutcomeRole::kAccepted:
          if (last >= 0) state->intervention(last).stopped = true;
          break;
        case OutcomeRole::kDismissed:
          // Not now: the ladder ends here (no email after a dismissed tip), and
          // the help may be offered afresh once the back-off has passed.
          if (last >= 0) {
            InterventionState& s = state->intervention(last);
            ++s.dismissals;
            s.last_dismissed = t;
            s.step = -1;
            s.retry_at = kNever;
            if (m.suppress_after > 0 && s.dismissals >= static_cast<uint32_t>(m.suppress_after)) {
              s.suppressed_until = t + m.suppress_for;
            }
          }
          break;
        case OutcomeRole::kSnoozed:
          // Later, please: offered again from the first step once the snooze ends.
          if (last >= 0) {
            InterventionState& s = state->intervention(last);
            s.snoozed_until = t + kSnooze;
            s.step = -1;
            s.retry_at = kNever;
          }
          break;
        case OutcomeRole::kOptOut: state->preferences.opted_out = true; break;
        default: break;
      }
    }
  }
  for (size_t i = 0; i < policy_->interventions.size(); ++i) {
    if (policy_->interventions[i].goal != event.name) continue;
    InterventionState& s = state->intervention(i);
    if (s.step >= 0) s.stopped = true;
  }
}

bool Decider::HasConsent(const Profile& profile, const DecisionState& state,
                         const ChannelSpec& channel, Micros now) const {
  for (const PurposeConsent& purpose : state.preferences.purposes) {
    if (purpose.purpose != kProactivePurpose) continue;
    if (purpose.state != PurposeConsent::State::kGranted) return false;
    if (purpose.expires != kNever && purpose.expires <= now) return false;  // lapsed
  }
  if (channel.consent_trait.empty()) return true;
  if (Contains(state.preferences.channel_opt_ins, channel.name)) return true;
  for (const ChannelConsent& consent : profile.consent) {
    if (consent.channel == channel.name) return consent.state == ChannelConsent::State::kGranted;
  }
  return false;  // a channel that needs consent has none until the customer gives it
}

bool Decider::OptedOut(const Profile& profile, const DecisionState& state,
                       const ChannelSpec& channel) const {
  if (state.preferences.opted_out || Contains(state.preferences.channel_opt_outs, channel.name)) {
    return true;
  }
  for (const ChannelConsent& consent : profile.consent) {
    if (consent.channel == channel.name) return consent.state == ChannelConsent::State::kDenied;
  }
  return false;
}

Decider::Reasons Decider::Guardrails(const DecisionInput& in, const DecisionState& state, int i,
                                     int step, double confidence, Micros* retry_at) {
  const InterventionSpec& spec = policy_->interventions[i];
  const ModerationSpec& m = ModerationOf(i);
  const ChannelSpec& channel = *policy_->FindChannel(LadderOf(i)[step].channel);
  static const InterventionState kFresh;
  const InterventionState& s =
      static_cast<size_t>(i) < state.interventions.size() ? state.interventions[i] : kFresh;
  const Micros now = in.now;
  Reasons reasons;
  if (in.event != nullptr && in.event->late) reasons.Add("late_event");
  if (s.declined) reasons.Add("declined");
  if (OptedOut(*in.profile, state, channel)) {
    reasons.Add("channel_opt_out");
  } else if (!HasConsent(*in.profile, state, channel, now)) {
    reasons.Add("no_consent");
  }
  if (s.snoozed_until > now || state.preferences.snoozed_until > now) reasons.Add("snoozed");
  if (m.pause_on_incident && state.incident_open) reasons.Add("incident_pause");
  if (s.suppressed_until > now ||
      (m.dismiss_cooldown > 0 && s.last_dismissed != kNever && s.last_dismissed + m.dismiss_cooldown > now)) {
    reasons.Add("dismiss_backoff");
  }
  if (step == 0 && spec.cooldown > 0 && s.last_contact != kNever && s.last_contact + spec.cooldown > now) {
    reasons.Add("intervention_cooldown");
  }
  // The global cooldown spaces out different help; a ladder's own next step
  // is paced by its `after` instead.
  if (m.cooldown > 0) {
    for (auto it = state.contacts.rbegin(); it != state.contacts.rend(); ++it) {
      if (it->at + m.cooldown <= now) break;
      if (step > 0 && it->intervention == i) continue;
      reasons.Add("cooldown");
      break;
    }
  }
  const std::string_view zone = ZoneOf(*in.profile, state);
  const LocalClock::Local local = clock_.At(zone, now);
  const bool own_quiet = state.preferences.has_quiet_hours;
  const bool has_quiet = own_quiet || m.has_quiet_hours;
  const int quiet_start = own_quiet ? state.preferences.quiet_start_minute : m.quiet_start_minute;
  const int quiet_end = own_quiet ? state.preferences.quiet_end_minute : m.quiet_end_minute;
  if (has_quiet && !channel.quiet_hours_exempt &&
      InQuietHours(local.minute_of_day, quiet_start, quiet_end)) {
    reasons.Add("quiet_hours");
    *retry_at = clock_.NextMinuteOfDay(zone, now, quiet_end);
  }
  if (m.max_per_day > 0 || m.max_per_week > 0) {
    int today = 0, this_week = 0;
    for (const Contact& c : state.contacts) {
      if (m.rolling_windows) {
        today += c.at > now - kMicrosPerDay;
        this_week += c.at > now - 7 * kMicrosPerDay;
      } else {
        today += c.local_day == local.day;
        this_week += c.local_week == local.week;
      }
    }
    if (m.max_per_day > 0 && today >= m.max_per_day) reasons.Add("daily_cap");
    if (m.max_per_week > 0 && this_week >= m.max_per_week) reasons.Add("weekly_cap");
  }
  if (channel.needs_presence &&
      (state.last_presence == kNever || now - state.last_presence > m.presence_window)) {
    reasons.Add("no_presence");
  }
  if (confidence < spec.min_confidence && spec.low_confidence == LowConfidence::kSkip) {
    reasons.Add("low_confidence");
  }
  return reasons;
}

double Decider::Propensity(const Reading& reading, int i) const {
  double best = 0;
  for (int slot : compiled_[i].score_slots) {
    const ExprValue v = reading.Get(slot);
    if (v.kind == ExprValue::Kind::kNumber) best = std::max(best, v.number);
  }
  return compiled_[i].score_slots.empty() ? 1.0 : best;
}

double Decider::Confidence(const DecisionInput& in, int i) const {
  double lowest = 1;
  for (int signal : compiled_[i].signals) {
    lowest = std::min(lowest, in.reading->signal_confidence(signal));
  }
  for (int model : compiled_[i].models) {
    const ModelReading& m = in.reading->model(model);
    lowest = std::min(lowest, m.available ? m.confidence : 0.0);
  }
  return lowest;
}

bool Decider::Decide(const DecisionInput& in, DecisionState* state, Decision* out) {
  const Reading& reading = *in.reading;
  state->last_decided = std::max(state->last_decided, in.now);
  expired_reviews_.clear();
  new_exposures_.clear();
  Assign(in.profile->id);
  for (InterventionState& s : state->interventions) {
    if (!s.in_review || in.now < s.review_expires) continue;
    // Nobody answered in time: the step was never taken.
    expired_reviews_.push_back(s.review_id);
    s.in_review = false;
    s.review_id.clear();
    --s.step;
  }
  const std::string_view segment = reading.segment_name();
  std::vector<Candidate>& candidates = candidates_;
  std::vector<Decision::Blocked>& blocked = out->blocked;
  std::vector<int>& missing = missing_;
  candidates.clear();
  blocked.clear();
  missing.clear();
  bool any_holds = false;
  for (size_t idx = 0; idx < policy_->interventions.size(); ++idx) {
    const int i = static_cast<int>(idx);
    const InterventionSpec& spec = policy_->interventions[idx];
    const VariantSpec* variant = VariantFor(i);
    const auto& threshold = variant != nullptr && !variant->threshold.empty() ? variant->threshold : spec.threshold;
    if (!threshold.empty()) {
      auto it = threshold.find(segment);
      if (it == threshold.end()) it = threshold.find(kDefaultSegment);
      in.reading->SetThreshold(it->second);
    }
    const std::vector<LadderStep>& ladder = LadderOf(i);
    // A condition left unknown by a missing input does not hold; the inputs
    // are recorded so the decision says what it could not see.
    const bool holds = spec.when.Evaluate(reading, &missing);
    InterventionState& s = state->intervention(idx);
    if (!holds) {
      // The episode is over: the next time the condition holds starts a new
      // one at the first step.
      if (!s.in_review) {  // an item an agent may still approve keeps its step
        s.step = -1;
        s.stopped = false;
        s.rejected = false;
        s.retry_at = kNever;
      }
      continue;
    }
    any_holds = true;
    const int exposed_as = std::max(variant_of_[idx], 0);
    if (s.exposed_variant != exposed_as) {
      s.exposed_variant = exposed_as;
      new_exposures_.push_back(i);
    }
    // An episode whose ladder has run its course ends a while after its last
    // step even if nobody saw the condition lapse in between: help for
    // Tuesday's late order is not "already given" for Friday's.
    const bool ladder_done = s.stopped || static_cast<size_t>(s.step + 1) >= ladder.size();
    if (s.step >= 0 && !s.in_review && ladder_done &&
        in.now - s.step_at > std::max(spec.cooldown, kEpisodeEnd)) {
      s.step = -1;
      s.stopped = false;
      s.rejected = false;
    }
    int step = -1;
    const char* waiting = nullptr;
    if (s.stopped) {
      waiting = s.rejected ? "rejected_in_review" : "goal_met";
    } else if (s.in_review) {
      waiting = "duplicate";  // the step waits for an agent
    } else if (s.step < 0) {
      step = 0;
    } else if (static_cast<size_t>(s.step + 1) < ladder.size() &&
               in.now >= s.step_at + ladder[s.step + 1].after) {
      step = s.step + 1;
    } else {
      waiting = "duplicate";  // this step is out; the next is not due (or there is none)
    }
    if (step < 0) {
      AddBlocked(out, spec.name, waiting, 0);
      continue;
    }
    const double confidence = Confidence(in, i);
    Micros retry_at = 0;
    const Reasons reasons = Guardrails(in, *state, i, step, confidence, &retry_at);
    if (!reasons.empty()) {
      // Held only by quiet hours: look again when they end, and go then if
      // it is still warranted.
      const bool deferred = reasons.count == 1 && std::string_view(reasons.names[0]) == "quiet_hours";
      s.retry_at = deferred ? retry_at : kNever;
      AddBlocked(out, spec.name, reasons.names[0], deferred ? retry_at : 0);
      continue;
    }
    s.retry_at = kNever;
    Candidate c;
    c.intervention = i;
    c.step = step;
    c.confidence = confidence;
    const ChannelSpec& channel = *policy_->FindChannel(ladder[step].channel);
    // Context: help in the page the customer is on is worth more than the
    // same help later; the channel the customer prefers, a little more.
    double context = 1.0;
    if (channel.needs_presence) context *= 1.25;
    if (state->preferences.preferred_channel == channel.name) context *= 1.1;
    c.priority = Propensity(reading, i) * spec.value * context * spec.priority;
    if (spec.sensitive) {
      c.action = "review";
    } else if (confidence < spec.min_confidence) {
      c.action = spec.low_confidence == LowConfidence::kReview ? "review" : "ask_confirm";
    } else {
      c.action = "deliver";
    }
    candidates.push_back(c);
  }
  if (!any_holds) {
    blocked.clear();
    return false;
  }

  // Arbitration: the highest priority wins; ties go to the intervention
  // listed first in the policy, so the outcome never depends on order of
  // evaluation or on floating-point noise between runs.
  const Candidate* winner = nullptr;
  for (const Candidate& c : candidates) {
    if (winner == nullptr || c.priority > winner->priority) winner = &c;
  }
  for (const Candidate& c : candidates) {
    if (&c != winner) AddBlocked(out, policy_->interventions[c.intervention].name, "lost_arbitration", 0);
  }

  // Fields are assigned, not rebuilt, so a reused Decision keeps its buffers.
  out->customer.assign(in.profile->id);
  out->at = in.now;
  out->trigger_message_id.assign(in.event != nullptr ? std::string_view(in.event->message_id) : "");
  out->trigger_timer.assign(in.event != nullptr ? "" : "scheduled");
  out->segment.assign(segment);
  out->cohort.assign(holdout_ ? "holdout" : "treatment");
  out->experiment.clear();
  out->variant.clear();
  out->action.assign("none");
  out->policy_version.assign(policy_->version);
  out->policy_hash.assign(policy_->content_hash);
  out->missing.resize(missing.size());
  for (size_t k = 0; k < missing.size(); ++k) out->missing[k].assign(policy_->paths[missing[k]].text);
  const size_t signal_count = reader_->signals().signal_count();
  out->signals.resize(signal_count);
  for (size_t k = 0; k < signal_count; ++k) {
    const int signal = static_cast<int>(k);
    Decision::SignalValue& v = out->signals[k];
    v.name.assign(reader_->signals().signal(signal).name);
    v.score = reading.signal_score(signal);
    v.confidence = reading.signal_confidence(signal);
  }
  out->models.resize(policy_->models.size());
  for (size_t m = 0; m < policy_->models.size(); ++m) {
    const ModelReading& model = reading.model(static_cast<int>(m));
    Decision::ModelValue& v = out->models[m];
    v.name.assign(policy_->models[m].name);
    v.version.assign(model.version);
    v.score = model.score;
    v.confidence = model.confidence;
    v.available = model.available;
  }
  // Stable across runs and restarts: who, when, what triggered, and how many
  // decision points this customer had before.
  // Formatted by hand: fmt's back_inserter writes a character at a time.
  char number[24];
  id_input_.assign(out->customer);
  id_input_.push_back('|');
  id_input_.append(number, std::to_chars(number, number + sizeof number, in.now).ptr);
  id_input_.push_back('|');
  id_input_.append(out->trigger_message_id);
  id_input_.push_back('|');
  id_input_.append(number, std::to_chars(number, number + sizeof number, state->decisions).ptr);
  // The decision's time in milliseconds leads (12 hex digits, so ids sort
  // by time), then 16 hex digits of the hash. The server's ledger is keyed
  // by id: time-ordered keys land next to each other in RocksDB's memtable,
  // where random ones cost a cache miss per skiplist level.
  static constexpr char kHex[] = "0123456789abcdef";
  const auto millis = static_cast<uint64_t>(std::max<Micros>(in.now, 0) / 1000);
  const uint64_t hash = Hash64(id_input_);
  out->id.resize(28);
  for (int i = 0; i < 12; ++i) out->id[static_cast<size_t>(i)] = kHex[(millis >> (44 - 4 * i)) & 15];
  for (int i = 0; i < 16; ++i) out->id[static_cast<size_t>(12 + i)] = kHex[(hash >> (60 - 4 * i)) & 15];
  ++state->decisions;
  out->intervention.clear();
  out->step = -1;
  out->channel.clear();
  out->template_name.clear();
  out->subject.clear();
  out->message.clear();
  out->why.clear();
  out->benefit.clear();
  out->options.clear();
  out->confidence = 0;
  out->priority = 0;
  if (winner == nullptr) return true;

  const InterventionSpec& spec = policy_->interventions[winner->intervention];
  InterventionState& s = state->intervention(static_cast<size_t>(winner->intervention));
  out->action.assign(winner->action);
  out->intervention = spec.name;
  out->step = winner->step;
  out->channel = LadderOf(winner->intervention)[winner->step].channel;
  out->template_name = TemplateOf(winner->intervention, winner->step);
  if (const VariantSpec* variant = VariantFor(winner->intervention)) {
    out->experiment = experiment_of_[winner->intervention]->name;
    out->variant = variant->name;
  }
  out->confidence = winner->confidence;
  out->priority = winner->priority;
  Render(in, *state, winner->intervention, winner->step, std::string_view(winner->action) == "ask_confirm", out);
  s.step = winner->step;
  s.step_at = in.now;
  if (std::string_view(winner->action) == "review") {
    s.in_review = true;  // an agent's approval delivers it (and counts as the contact)
    s.review_id = out->id;
    s.review_expires = in.now + kReviewTtl;
  } else {
    s.last_contact = in.now;
    const LocalClock::Local local = clock_.At(ZoneOf(*in.profile, *state), in.now);
    state->contacts.push_back({in.now, static_cast<uint16_t>(winner->intervention), out->channel,
                               local.day, local.week});
  }
  // Caps look back a calendar week at most.
  while (!state->contacts.empty() && state->contacts.front().at < in.now - kContactMemory) {
    state->contacts.erase(state->contacts.begin());
  }
  return true;
}

std::string_view Decider::ZoneOf(const Profile& profile, const DecisionState& state) const {
  if (timezone_trait_ >= 0 && static_cast<size_t>(timezone_trait_) < profile.has_trait.size() &&
      profile.has_trait[timezone_trait_] &&
      profile.traits[timezone_trait_].kind == FieldValue::Kind::kString) {
    return profile.traits[timezone_trait_].text;
  }
  return state.timezone;  // the latest context.timezone; "" is the policy's default
}

bool Decider::ResolveReview(const Profile& profile, DecisionState* state, int i,
                            std::string_view review_id, bool approve, Micros now) {
  if (i < 0 || static_cast<size_t>(i) >= state->interventions.size()) return false;
  InterventionState& s = state->interventions[i];
  if (!s.in_review || s.review_id != review_id) return false;
  if (now >= s.review_expires) return false;  // lapsed: its timer will say so
  s.in_review = false;
  s.review_id.clear();
  if (approve) {
    s.step_at = now;  // the ladder's next delay counts from the delivery
    s.last_contact = now;
    const LocalClock::Local local = clock_.At(ZoneOf(profile, *state), now);
    Assign(profile.id);
    state->contacts.push_back({now, static_cast<uint16_t>(i), LadderOf(i)[s.step].channel, local.day,
                               local.week});
  } else {
    s.stopped = true;  // a person said no: no further steps this episode
    s.rejected = true;
  }
  return true;
}

void Decider::AddBlocked(Decision* out, const std::string& intervention, const char* reason,
                         Micros retry_at) {
  std::vector<Decision::Blocked>& blocked = out->blocked;
  blocked.emplace_back();
  Decision::Blocked& b = blocked.back();
  b.intervention.assign(intervention);
  b.reason.assign(reason);
  b.retry_at = retry_at;
}

Micros Decider::NextDue(const DecisionState& state, std::string_view customer) {
  Assign(customer);
  Micros due = kNever;
  // A step that came due and was held stays held until an event or a
  // deferral says otherwise; it is not looked at again and again.
  const auto consider = [&](Micros t) {
    if (t != kNever && t > state.last_decided && (due == kNever || t < due)) due = t;
  };
  for (size_t i = 0; i < state.interventions.size() && i < policy_->interventions.size(); ++i) {
    const InterventionState& s = state.interventions[i];
    const std::vector<LadderStep>& ladder = LadderOf(static_cast<int>(i));
    consider(s.retry_at);
    if (s.in_review) consider(s.review_expires);
    if (s.step >= 0 && !s.stopped && !s.in_review && static_cast<size_t>(s.step + 1) < ladder.size()) {
      consider(s.step_at + ladder[s.step + 1].after);
    }
  }
  return due;
}

void Decider::Assign(std::string_view customer) {
  // InHoldout and VariantOf, with the salts hashed once.
  holdout_ = InHoldoutAt(*policy_, AssignmentPoint(holdout_seed_, customer));
  for (size_t i = 0; i < experiment_of_.size(); ++i) {
    variant_of_[i] = experiment_of_[i] != nullptr
                         ? VariantAt(*experiment_of_[i], AssignmentPoint(experiment_seed_[i], customer))
                         : -1;
  }
}

const VariantSpec* Decider::VariantFor(int i) const {
  return variant_of_[i] >= 0 ? &experiment_of_[i]->variants[variant_of_[i]] : nullptr;
}

const std::vector<LadderStep>& Decider::LadderOf(int i) const {
  const VariantSpec* v = VariantFor(i);
  return v != nullptr && !v->ladder.empty() ? v->ladder : policy_->interventions[i].ladder;
}

const ModerationSpec& Decider::ModerationOf(int i) const {
  const VariantSpec* v = VariantFor(i);
  return v != nullptr && v->overrides_moderation ? v->moderation : policy_->moderation;
}

const std::string& Decider::TemplateOf(int i, int step) const {
  const std::string& name = LadderOf(i)[step].template_name;
  if (const VariantSpec* v = VariantFor(i)) {
    if (auto it = v->templates.find(name); it != v->templates.end()) return it->second;
  }
  return name;
}

}  // namespace upfront
