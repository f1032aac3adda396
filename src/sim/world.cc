#include "src/sim/world.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>

#include "src/common/hash.h"
#include "src/common/time_format.h"

namespace upfront::sim {

std::string_view NeedOutcomeName(NeedOutcome outcome) {
  switch (outcome) {
    case NeedOutcome::kOpen: return "open";
    case NeedOutcome::kHelped: return "helped";
    case NeedOutcome::kSelf: return "self_resolved";
    case NeedOutcome::kContact: return "resolved_by_support";
    case NeedOutcome::kGaveUp: return "gave_up";
    case NeedOutcome::kEnded: return "ended";
  }
  return "open";
}

namespace {

constexpr uint16_t kBackground = 0xffff;  // Run::journey of a contact about anything else
constexpr uint32_t kNoRecord = 0xffffffff;
constexpr int32_t kOneOfBurst = 1 << 30;  // a later event of a symptom burst

enum Kind : uint8_t {
  kDayPlan,
  kSessionStart,
  kPage,
  kJourneyStart,
  kFlowStep,
  kFlowEnd,
  kRetry,
  kSelfResolve,
  kSymptom,
  kDailySymptom,
  kNeedEnd,
  kGoal,
  kContactOpen,
  kContactResolve,
  kBackgroundContact,
  kCsat,
  kNpsAnswer,
  kSee,
};

// Uniform in [0, 1) from 53 random bits: the same on every standard library.
double Uniform(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

Micros Draw(std::mt19937_64& rng, const DurationRange& r) {
  if (r.max <= r.min) return r.min;
  return r.min + static_cast<Micros>(Uniform(rng) * static_cast<double>(r.max - r.min));
}

// An integer count from [min, max], each whole number equally likely.
int DrawCount(std::mt19937_64& rng, const NumberRange& r) {
  const int lo = static_cast<int>(std::ceil(r.min - 1e-9));
  const int hi = std::max(lo, static_cast<int>(std::floor(r.max + 1e-9)));
  if (hi == lo) return lo;
  return lo + std::min(hi - lo, static_cast<int>(Uniform(rng) * (hi - lo + 1)));
}

int Poisson(std::mt19937_64& rng, double mean) {
  if (mean <= 0) return 0;
  if (mean > 30) {  // normal approximation; large means do not occur in sane models
    const double u1 = std::max(Uniform(rng), 1e-300), u2 = Uniform(rng);
    const double z = std::sqrt(-2 * std::log(u1)) * std::cos(2 * M_PI * u2);
    return std::max(0, static_cast<int>(std::lround(mean + std::sqrt(mean) * z)));
  }
  const double limit = std::exp(-mean);
  int k = 0;
  double p = Uniform(rng);
  while (p > limit) {
    ++k;
    p *= Uniform(rng);
  }
  return k;
}

double Normal(std::mt19937_64& rng) {
  const double u1 = std::max(Uniform(rng), 1e-300), u2 = Uniform(rng);
  return std::sqrt(-2 * std::log(u1)) * std::cos(2 * M_PI * u2);
}

template <typename T>
size_t Pick(std::mt19937_64& rng, const std::vector<std::pair<T, double>>& shares) {
  const double u = Uniform(rng);
  double acc = 0;
  for (size_t i = 0; i < shares.size(); ++i) {
    acc += shares[i].second;
    if (u < acc) return i;
  }
  return shares.empty() ? 0 : shares.size() - 1;
}

void AppendJsonString(std::string_view text, std::string* out) {
  out->push_back('"');
  for (char c : text) {
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          fmt::format_to(std::back_inserter(*out), "\\u{:04x}", static_cast<int>(c));
        } else {
          out->push_back(c);
        }
    }
  }
  out->push_back('"');
}

// The unquoted text of a JSON scalar (for templates): strings lose their
// quotes; escapes are rare in models and kept as written.
std::string_view Unquoted(std::string_view json) {
  if (json.size() >= 2 && json.front() == '"') return json.substr(1, json.size() - 2);
  return json;
}

double NumberOf(std::string_view json) {
  double v = NAN;
  std::from_chars(json.data(), json.data() + json.size(), v);
  return v;
}

std::string PropertyOf(const std::string& path, std::string_view fallback) {
  constexpr std::string_view kPrefix = "properties.";
  if (path.size() > kPrefix.size() && path.compare(0, kPrefix.size(), kPrefix) == 0) {
    return path.substr(kPrefix.size());
  }
  return std::string(fallback);
}

}  // namespace

struct World::Run {
  uint16_t journey = 0;
  int16_t need = -1;
  uint32_t n = 0;
  uint32_t record = kNoRecord;
  bool need_active = false;
  bool had_need = false;
  bool informed = false;  // accepted help that addresses the need
  bool helped = false;    // proactive help resolved it
  bool retry = false;
  bool self_on_session = false;
  bool goal_done = false;
  bool goal_on_session = false;
  bool contact_planned = false;
  bool flow_running = false;
  bool flow_cut = false;
  uint8_t contacts = 0;
  Micros onset = 0;
  Micros last_symptom = 0;
  Micros contact_opened_at = 0;
  uint32_t symptoms_from = 0;
  std::vector<const EventSpec*> plan;
  std::vector<std::string> vars;  // JSON texts, by journey var
};

struct DeliveryState {
  Delivery delivery;
  double u[6] = {};
  bool seen = false;
};

struct World::Customer {
  std::mt19937_64 rng;
  uint16_t segment = 0;
  uint16_t zone = 0;
  int16_t preferred = -1;  // policy channel index
  uint8_t device = 0;
  bool identified = false;
  bool churned = false;
  bool opted_out = false;
  bool first_session_done = false;
  Micros session_start = kNever;
  Micros session_end = kNever;
  double annoyance = 0;
  Micros annoyance_at = 0;
  uint32_t message_seq = 0;
  uint32_t journey_seq = 0;
  uint32_t helped = 0;
  uint32_t gave_up = 0;
  uint32_t contacts = 0;
  uint64_t seen_total = 0;
  std::string traits_json;
  std::vector<Run> runs;
  std::vector<DeliveryState> deliveries;
  std::vector<uint32_t> inbox;
  std::vector<uint32_t> records;  // indexes into World::needs_
  std::vector<Micros> seen_at;    // the last day's seen messages
  CustomerOutcomes outcomes;
};

World::World(const Config& config) : model_(*config.model), policy_(*config.policy), config_(config) {
  // Policy lookups: channels, outcome events, who reads which signal.
  habits_.resize(policy_.channels.size());
  for (size_t i = 0; i < policy_.channels.size(); ++i) {
    const ChannelSpec& spec = policy_.channels[i];
    Habit& h = habits_[i];
    auto it = std::find_if(model_.channels.seen.begin(), model_.channels.seen.end(),
                           [&](const ChannelHabit& habit) { return habit.channel == spec.name; });
    if (it != model_.channels.seen.end()) {
      h = {it->how, it->rate, it->delay, it->within};
    } else if (spec.needs_presence) {
      h = {ChannelHabit::How::kInSession, 1, {}, 0};
    } else if (!spec.queue.empty()) {
      h = {ChannelHabit::How::kLater, 0.7, {kMicrosPerHour, kMicrosPerDay}, 0};
    } else if (spec.name.find("app") != std::string::npos || spec.name.find("push") != std::string::npos) {
      h = {ChannelHabit::How::kNextSession, 1, {}, 3 * kMicrosPerDay};
    } else if (spec.name.find("sms") != std::string::npos || spec.name.find("text") != std::string::npos) {
      h = {ChannelHabit::How::kLater, 0.9, {2 * kMicrosPerMinute, 30 * kMicrosPerMinute}, 0};
    } else {
      h = {ChannelHabit::How::kLater, 0.35, {10 * kMicrosPerMinute, 8 * kMicrosPerHour}, 0};
    }
  }
  for (const auto& [name, share] : model_.channels.preferred) {
    int index = -1;
    for (size_t i = 0; i < policy_.channels.size(); ++i) {
      if (policy_.channels[i].name == name) index = static_cast<int>(i);
    }
    preferred_channels_.push_back(index);
  }
  for (const OutcomeRule& rule : policy_.outcomes) {
    OutcomeEvent& e = outcome_events_[static_cast<int>(rule.role)];
    if (!e.event.empty()) continue;
    e.event = rule.event;
    std::string_view fallback = "score";
    if (rule.role == OutcomeRole::kPurchase) fallback = "revenue";
    for (const char* field : {"score", "revenue"}) {
      auto f = rule.fields.find(field);
      if (f != rule.fields.end()) e.property = PropertyOf(f->second, fallback);
    }
    if (e.property.empty()) e.property = std::string(fallback);
    auto it = std::find_if(roles_by_event_.begin(), roles_by_event_.end(),
                           [&](const auto& p) { return p.first == rule.event; });
    if (it == roles_by_event_.end()) {
      roles_by_event_.push_back({rule.event, {rule.role}});
    } else {
      it->second.push_back(rule.role);
    }
  }
  std::vector<uint64_t> model_signals(policy_.models.size(), 0);
  auto signal_index = [&](const std::string& name) -> int {
    for (size_t s = 0; s < policy_.signals.size() && s < kMaxSignals; ++s) {
      if (policy_.signals[s].name == name) return static_cast<int>(s);
    }
    return -1;
  };
  for (size_t m = 0; m < policy_.models.size(); ++m) {
    for (int slot : policy_.models[m].features) {
      const ValuePath& path = policy_.paths[slot];
      if (path.kind == ValuePath::Kind::kSignalScore || path.kind == ValuePath::Kind::kSignalConfidence) {
        if (int s = signal_index(path.name); s >= 0) model_signals[m] |= uint64_t{1} << s;
      }
    }
  }
  signal_readers_.assign(std::min<size_t>(policy_.signals.size(), kMaxSignals), 0);
  for (size_t i = 0; i < policy_.interventions.size() && i < kMaxInterventions; ++i) {
    uint64_t reads = 0;
    for (int slot : policy_.interventions[i].when.slots()) {
      const ValuePath& path = policy_.paths[slot];
      if (path.kind == ValuePath::Kind::kSignalScore || path.kind == ValuePath::Kind::kSignalConfidence) {
        if (int s = signal_index(path.name); s >= 0) reads |= uint64_t{1} << s;
      } else if (path.kind == ValuePath::Kind::kModelScore || path.kind == ValuePath::Kind::kModelConfidence) {
        for (size_t m = 0; m < policy_.models.size(); ++m) {
          if (policy_.models[m].name == path.name) reads |= model_signals[m];
        }
      }
    }
    for (size_t s = 0; s < signal_readers_.size(); ++s) {
      if (reads >> s & 1) signal_readers_[s] |= uint64_t{1} << i;
    }
  }
  helped_masks_.resize(model_.journeys.size());
  for (size_t j = 0; j < model_.journeys.size(); ++j) {
    for (const NeedSpec& need : model_.journeys[j].needs) {
      uint64_t mask = 0;
      for (const std::string& name : need.helped_by) {
        for (size_t i = 0; i < policy_.interventions.size() && i < kMaxInterventions; ++i) {
          if (policy_.interventions[i].name == name) mask |= uint64_t{1} << i;
        }
      }
      helped_masks_[j].push_back(mask);
    }
  }
  reactions_.resize(policy_.interventions.size());

  // Time: each zone's local midnights over the run.
  const int days = static_cast<int>((config_.end - config_.start + kMicrosPerDay - 1) / kMicrosPerDay);
  for (const TimezoneModel& tz : model_.timezones) {
    Zone zone;
    zone.name = tz.zone;
    zone.locale = tz.locale;
    absl::TimeZone z;
    if (!absl::LoadTimeZone(tz.zone, &z)) z = absl::UTCTimeZone();
    const absl::CivilDay first = absl::ToCivilDay(absl::FromUnixMicros(config_.start), z) - 1;
    for (int d = 0; d <= days + 3; ++d) {
      zone.midnights.push_back(absl::ToUnixMicros(z.At(absl::CivilSecond(first + d)).pre));
    }
    zones_.push_back(std::move(zone));
  }
  double total = 0;
  for (double w : model_.presence.hours) {
    total += w;
    max_hour_weight_ = std::max(max_hour_weight_, w);
  }
  double acc = 0;
  for (double w : model_.presence.hours) {
    acc += w / total;
    hour_cdf_.push_back(acc);
  }

  // Customers: ids for everyone (decisions name them), lives for the simulated.
  ids_.reserve(config_.customers);
  for (uint32_t i = 0; i < config_.customers; ++i) ids_.push_back(fmt::format("{}{:06d}", model_.id_prefix, i));
  customers_.assign(config_.customers, nullptr);
  if (config_.only.empty()) {
    for (uint32_t i = 0; i < config_.customers; ++i) CreateCustomer(i);
  } else {
    for (uint32_t i : config_.only) {
      if (i < config_.customers) CreateCustomer(i);
    }
  }
}

World::~World() {
  for (Customer* c : customers_) delete c;
}

bool World::simulated(uint32_t index) const { return index < customers_.size() && customers_[index] != nullptr; }
bool World::churned(uint32_t index) const { return simulated(index) && customers_[index]->churned; }
uint32_t World::segment(uint32_t index) const { return simulated(index) ? customers_[index]->segment : 0; }
const CustomerOutcomes& World::outcomes(uint32_t index) const {
  return simulated(index) ? customers_[index]->outcomes : no_outcomes_;
}
uint64_t World::deliveries_seen(uint32_t index) const {
  return simulated(index) ? customers_[index]->seen_total : 0;
}

int64_t World::CustomerIndex(std::string_view id) const {
  if (id.size() <= model_.id_prefix.size() || id.substr(0, model_.id_prefix.size()) != model_.id_prefix) return -1;
  std::string_view digits = id.substr(model_.id_prefix.size());
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (ec != std::errc() || p != digits.data() + digits.size() || v >= ids_.size()) return -1;
  return static_cast<int64_t>(v);
}

void World::CreateCustomer(uint32_t index) {
  auto* c = new Customer();
  std::seed_seq seq{static_cast<uint32_t>(config_.seed), static_cast<uint32_t>(config_.seed >> 32), index, 0x5eedu};
  c->rng.seed(seq);
  std::mt19937_64& rng = c->rng;
  std::vector<std::pair<int, double>> segments, zones;
  for (size_t s = 0; s < model_.segments.size(); ++s) segments.push_back({static_cast<int>(s), model_.segments[s].share});
  for (size_t z = 0; z < model_.timezones.size(); ++z) zones.push_back({static_cast<int>(z), model_.timezones[z].share});
  c->segment = static_cast<uint16_t>(Pick(rng, segments));
  c->zone = static_cast<uint16_t>(Pick(rng, zones));
  if (!model_.channels.preferred.empty()) {
    c->preferred = static_cast<int16_t>(preferred_channels_[Pick(rng, model_.channels.preferred)]);
  }
  current_id_ = ids_[index];
  std::string& traits = c->traits_json;
  traits = "{";
  for (const auto& [name, value] : model_.segments[c->segment].traits) {
    if (traits.size() > 1) traits += ',';
    AppendJsonString(name, &traits);
    traits += ':';
    RenderValue(*c, value, nullptr, &traits, nullptr);
  }
  for (const auto& [name, share] : model_.channels.consent) {
    if (traits.size() > 1) traits += ',';
    AppendJsonString(name, &traits);
    traits += Uniform(rng) < share ? ":true" : ":false";
  }
  traits += '}';
  customers_[index] = c;
  // NPS: invited once, at a random waking moment, and maybe answering.
  if (Uniform(rng) < model_.surveys.nps_invited) {
    const Micros invite = config_.start + static_cast<Micros>(Uniform(rng) * static_cast<double>(config_.end - config_.start));
    const bool answers = Uniform(rng) < model_.surveys.nps_response;
    const Micros answer = WakingTime(*c, invite + Draw(rng, {kMicrosPerHour, 2 * kMicrosPerDay}));
    if (answers) Schedule(index, answer, kNpsAnswer);
  }
  Schedule(index, config_.start, kDayPlan, 0, 1);
}

void World::Schedule(uint32_t c, Micros at, uint8_t kind, uint32_t arg, int32_t value) {
  at -= at % kMicrosPerMilli;  // events carry millisecond timestamps
  if (at >= config_.end) return;
  agenda_.push(Item{at, c, seq_++, kind, arg, value});
}

Micros World::NextDue() const { return agenda_.empty() ? kNever : agenda_.top().at; }

size_t World::RunUntil(Micros until, std::string* out) {
  out_ = out;
  const uint64_t before = events_;
  while (!agenda_.empty() && agenda_.top().at < until) {
    const Item item = agenda_.top();
    agenda_.pop();
    Handle(item);
  }
  out_ = nullptr;
  return static_cast<size_t>(events_ - before);
}

void World::Handle(const Item& item) {
  Customer& c = *customers_[item.customer];
  const uint32_t ci = item.customer;
  const Micros t = item.at;
  if (c.churned) return;
  switch (static_cast<Kind>(item.kind)) {
    case kDayPlan: PlanDay(c, ci, t, item.value); break;
    case kSessionStart: StartSession(c, ci, t); break;
    case kPage: {
      if (!InSession(c, t)) break;
      const std::vector<std::string>& paths = model_.presence.paths;
      EventSpec page;
      page.type = EventSpec::Type::kPage;
      page.name = paths[std::min(paths.size() - 1, static_cast<size_t>(Uniform(c.rng) * paths.size()))];
      Emit(c, ci, t, page, nullptr);
      break;
    }
    case kJourneyStart: StartJourney(c, ci, static_cast<int>(item.arg), t); break;
    case kFlowStep: FlowStep(c, ci, item.arg, item.value, t); break;
    case kFlowEnd: FlowEnd(c, ci, item.arg, t); break;
    case kRetry: {
      Run& run = c.runs[item.arg];
      if (!run.need_active || run.flow_running) break;
      BuildPlan(c, run);
      run.flow_running = true;
      run.flow_cut = false;
      Schedule(ci, t, run.plan.empty() ? kFlowEnd : kFlowStep, item.arg, 0);
      break;
    }
    case kSelfResolve: {
      Run& run = c.runs[item.arg];
      if (run.need_active) ResolveNeed(c, ci, item.arg, NeedOutcome::kSelf, t);
      break;
    }
    case kSymptom:
    case kDailySymptom: {
      Run& run = c.runs[item.arg];
      if (!run.need_active) break;
      const NeedSpec& need = model_.journeys[run.journey].needs[run.need];
      const bool one = (item.value & kOneOfBurst) != 0;
      const EventSpec& spec = need.symptoms[item.value & ~kOneOfBurst];
      if (item.kind == kSymptom && !spec.system && !InSession(c, t)) break;
      Emit(c, ci, t, spec, &run);
      run.last_symptom = t;
      if (one) break;
      // The rest of the burst, each as its own item so that events leave in
      // time order.
      const int count = std::max(1, DrawCount(c.rng, spec.count));
      Micros at = t;
      for (int k = 1; k < count; ++k) {
        at += std::max<Micros>(kMicrosPerSecond, Draw(c.rng, spec.spacing));
        if (!spec.system) KeepSession(c, at + kMicrosPerMinute);
        Schedule(ci, at, kSymptom, item.arg, item.value | kOneOfBurst);
      }
      if (item.kind == kDailySymptom) {
        const Micros next = WakingTime(c, t + kMicrosPerDay + Draw(c.rng, {-3 * kMicrosPerHour, 3 * kMicrosPerHour}));
        Schedule(ci, next, kDailySymptom, item.arg, item.value);
      }
      break;
    }
    case kNeedEnd: NeedEnd(c, ci, item.arg, t); break;
    case kGoal: EmitGoal(c, ci, item.arg, t); break;
    case kContactOpen: OpenContact(c, ci, item.arg, t); break;
    case kContactResolve: ResolveContact(c, ci, item.arg, t); break;
    case kBackgroundContact: {
      Run run;
      run.journey = kBackground;
      run.need_active = true;
      run.onset = t;
      c.runs.push_back(std::move(run));
      OpenContact(c, ci, static_cast<uint32_t>(c.runs.size() - 1), t);
      break;
    }
    case kCsat: {
      std::string props = fmt::format("\"{}\":{}", outcome_events_[static_cast<int>(OutcomeRole::kCsat)].property,
                                      item.value);
      EmitOutcome(c, ci, t, OutcomeRole::kCsat, props, item.value);
      break;
    }
    case kNpsAnswer: AnswerNps(c, ci, t); break;
    case kSee: See(c, ci, item.arg, t); break;
  }
}

// ---- Lives ----

void World::PlanDay(Customer& c, uint32_t ci, Micros at, int day) {
  const Zone& zone = zones_[c.zone];
  if (day + 1 >= static_cast<int>(zone.midnights.size())) return;
  const Micros day_start = zone.midnights[day], day_end = zone.midnights[day + 1];
  const SegmentModel& segment = model_.segments[c.segment];
  double weekday = 1;
  if (!model_.presence.weekdays.empty()) {
    // The local date of a local midnight is the UTC date twelve hours later
    // for every offset within +-12h.
    const absl::CivilDay local = absl::ToCivilDay(absl::FromUnixMicros(day_start + kMicrosPerHour * 12), absl::UTCTimeZone());
    weekday = model_.presence.weekdays[static_cast<int>(absl::GetWeekday(local))];
  }
  const int sessions = Poisson(c.rng, model_.presence.sessions_per_day * segment.activity * weekday * Activity(c));
  for (int s = 0; s < sessions; ++s) {
    const Micros t = RandomTimeOfDay(c, day);
    if (t >= at) Schedule(ci, t, kSessionStart);
  }
  for (size_t j = 0; j < model_.journeys.size(); ++j) {
    const JourneySpec& journey = model_.journeys[j];
    if (journey.start != JourneySpec::Start::kAnytime) continue;
    if (!journey.segments.empty() &&
        std::find(journey.segments.begin(), journey.segments.end(), c.segment) == journey.segments.end()) {
      continue;
    }
    const int starts = Poisson(c.rng, journey.rate);
    for (int s = 0; s < starts; ++s) {
      const Micros t = day_start + static_cast<Micros>(Uniform(c.rng) * static_cast<double>(day_end - day_start));
      if (t >= at) Schedule(ci, t, kJourneyStart, static_cast<uint32_t>(j));
    }
  }
  const int background = Poisson(c.rng, model_.support.background_per_month / 30.0);
  for (int b = 0; b < background; ++b) {
    const Micros t = RandomTimeOfDay(c, day);
    if (t >= at) Schedule(ci, t, kBackgroundContact);
  }
  Schedule(ci, day_end, kDayPlan, 0, day + 1);
}

bool World::InSession(const Customer& c, Micros at) const {
  return c.session_start != kNever && c.session_start <= at && at < c.session_end;
}

void World::KeepSession(Customer& c, Micros until) { c.session_end = std::max(c.session_end, until); }

void World::StartSession(Customer& c, uint32_t ci, Micros at) {
  if (InSession(c, at)) {
    KeepSession(c, at + 2 * kMicrosPerMinute);
    return;
  }
  std::mt19937_64& rng = c.rng;
  const PresenceModel& p = model_.presence;
  c.session_start = at;
  const Micros length = std::max<Micros>(kMicrosPerMinute, Draw(rng, p.session_length));
  c.session_end = at + length;
  c.device = static_cast<uint8_t>(Pick(rng, p.devices));
  if (p.session_start) Emit(c, ci, at, *p.session_start, nullptr);
  const int pages = DrawCount(rng, p.pages);
  for (int k = 0; k < pages; ++k) {
    Schedule(ci, at + 1 + static_cast<Micros>(Uniform(rng) * static_cast<double>(length)), kPage);
  }
  for (size_t j = 0; j < model_.journeys.size(); ++j) {
    const JourneySpec& journey = model_.journeys[j];
    if (journey.start == JourneySpec::Start::kAnytime) continue;
    if (journey.start == JourneySpec::Start::kFirstSession && c.first_session_done) continue;
    if (!journey.segments.empty() &&
        std::find(journey.segments.begin(), journey.segments.end(), c.segment) == journey.segments.end()) {
      continue;
    }
    if (Uniform(rng) < journey.rate) {
      const Micros offset = journey.start == JourneySpec::Start::kFirstSession
                                ? Draw(rng, {30 * kMicrosPerSecond, 2 * kMicrosPerMinute})
                                : 1 + static_cast<Micros>(Uniform(rng) * static_cast<double>(length / 2));
      Schedule(ci, at + offset, kJourneyStart, static_cast<uint32_t>(j));
    }
  }
  c.first_session_done = true;
  for (uint32_t r = 0; r < c.runs.size(); ++r) {
    Run& run = c.runs[r];
    if (run.goal_on_session) {
      run.goal_on_session = false;
      Schedule(ci, at + Draw(rng, {30 * kMicrosPerSecond, 3 * kMicrosPerMinute}), kGoal, r);
    }
    if (!run.need_active || run.journey == kBackground) continue;
    if (run.retry) {
      run.retry = false;
      Schedule(ci, at + 1 + static_cast<Micros>(Uniform(rng) * static_cast<double>(length / 2)), kRetry, r);
    }
    if (run.self_on_session) {
      run.self_on_session = false;
      Schedule(ci, at + Draw(rng, {kMicrosPerMinute, 5 * kMicrosPerMinute}), kSelfResolve, r);
    }
    const NeedSpec& need = model_.journeys[run.journey].needs[run.need];
    for (size_t s = 0; s < need.symptoms.size(); ++s) {
      const EventSpec& spec = need.symptoms[s];
      if (spec.when != EventSpec::When::kSession) continue;
      if (Uniform(rng) < spec.probability) {
        Schedule(ci, at + 1 + static_cast<Micros>(Uniform(rng) * static_cast<double>(length)), kSymptom, r,
                 static_cast<int32_t>(s));
      }
    }
  }
  for (uint32_t d : c.inbox) {
    const DeliveryState& state = c.deliveries[d];
    if (at - state.delivery.at <= habits_[state.delivery.channel].within) {
      Schedule(ci, at + 5 * kMicrosPerSecond + static_cast<Micros>(state.u[5] * 55 * kMicrosPerSecond), kSee, d);
    }
  }
  c.inbox.clear();
}

double World::Activity(const Customer& c) const {
  double a = 1;
  for (const Run& run : c.runs) {
    if (run.need_active && run.journey != kBackground) a *= model_.journeys[run.journey].needs[run.need].activity;
  }
  return a;
}

int World::ActiveNeeds(const Customer& c) const {
  int n = 0;
  for (const Run& run : c.runs) n += run.need_active && run.journey != kBackground;
  return n;
}

void World::StartJourney(Customer& c, uint32_t ci, int j, Micros at) {
  const JourneySpec& journey = model_.journeys[j];
  std::mt19937_64& rng = c.rng;
  const bool in_flow = journey.start != JourneySpec::Start::kAnytime;
  if (in_flow) {
    if (!InSession(c, at)) return;  // the session ended before the journey began
    KeepSession(c, at + 3 * kMicrosPerMinute);
  }
  Run run;
  run.journey = static_cast<uint16_t>(j);
  run.n = ++c.journey_seq;
  run.onset = at;
  c.runs.push_back(std::move(run));
  const uint32_t r = static_cast<uint32_t>(c.runs.size() - 1);
  for (const auto& [name, value] : journey.vars) {
    std::string text;
    RenderValue(c, value, &c.runs[r], &text, nullptr);
    c.runs[r].vars.push_back(std::move(text));
  }
  const double u = Uniform(rng);
  double acc = 0;
  for (size_t n = 0; n < journey.needs.size(); ++n) {
    acc += journey.needs[n].probability;
    if (u < acc) {
      c.runs[r].need = static_cast<int16_t>(n);
      break;
    }
  }
  Run& live = c.runs[r];
  if (live.need >= 0) {
    const NeedSpec& need = journey.needs[live.need];
    live.need_active = live.had_need = true;
    live.record = static_cast<uint32_t>(needs_.size());
    NeedRecord record;
    record.customer = ci;
    record.journey = static_cast<uint16_t>(j);
    record.need = static_cast<uint16_t>(live.need);
    record.onset = at;
    record.helped_by = helped_masks_[j][live.need];
    needs_.push_back(record);
    c.records.push_back(live.record);
    Schedule(ci, at + std::max<Micros>(kMicrosPerMinute, Draw(rng, need.lasts)), kNeedEnd, r);
    for (size_t s = 0; s < need.symptoms.size(); ++s) {
      if (need.symptoms[s].when == EventSpec::When::kDaily && Uniform(rng) < need.symptoms[s].probability) {
        Schedule(ci, WakingTime(c, at + Draw(rng, {2 * kMicrosPerHour, 20 * kMicrosPerHour})), kDailySymptom, r,
                 static_cast<int32_t>(s));
      }
    }
  }
  BuildPlan(c, live);
  live.flow_running = true;
  Schedule(ci, at, live.plan.empty() ? kFlowEnd : kFlowStep, r, 0);
}

void World::BuildPlan(Customer& c, Run& run) {
  const JourneySpec& journey = model_.journeys[run.journey];
  const EventSpec::When flow = journey.start == JourneySpec::Start::kAnytime ? EventSpec::When::kStart
                                                                             : EventSpec::When::kInFlow;
  auto add = [&](const EventSpec& e) {
    const EventSpec::When when = e.when.value_or(flow);
    if (when != EventSpec::When::kInFlow && when != EventSpec::When::kStart) return;
    if (e.probability < 1 && Uniform(c.rng) >= e.probability) return;
    const int count = DrawCount(c.rng, e.count);
    for (int k = 0; k < count; ++k) run.plan.push_back(&e);
  };
  run.plan.clear();
  const NeedSpec* need = run.need >= 0 && run.need_active ? &journey.needs[run.need] : nullptr;
  if (!(need && need->replaces_steps)) {
    for (const EventSpec& e : journey.steps) add(e);
  }
  run.symptoms_from = static_cast<uint32_t>(run.plan.size());
  if (need) {
    for (const EventSpec& e : need->symptoms) add(e);
  } else {
    for (const EventSpec& e : journey.noise) add(e);
  }
}

void World::FlowStep(Customer& c, uint32_t ci, uint32_t r, int32_t step, Micros at) {
  Run& run = c.runs[r];
  if (run.flow_cut) {  // proactive help resolved it mid-way: the goal is on its way
    run.flow_running = false;
    run.plan.clear();
    return;
  }
  const bool in_flow = model_.journeys[run.journey].start != JourneySpec::Start::kAnytime;
  if (in_flow && !InSession(c, at)) KeepSession(c, at + kMicrosPerMinute);
  const EventSpec& spec = *run.plan[step];
  Emit(c, ci, at, spec, &run);
  if (static_cast<uint32_t>(step) >= run.symptoms_from && run.need_active) run.last_symptom = at;
  if (static_cast<size_t>(step + 1) < run.plan.size()) {
    const Micros next = at + std::max<Micros>(kMicrosPerSecond, Draw(c.rng, run.plan[step + 1]->spacing));
    if (in_flow) KeepSession(c, next + 3 * kMicrosPerMinute);
    Schedule(ci, next, kFlowStep, r, step + 1);
  } else {
    const Micros next = in_flow ? at + Draw(c.rng, model_.journeys[run.journey].goal_after) : at;
    if (in_flow) KeepSession(c, next + 2 * kMicrosPerMinute);
    Schedule(ci, next, kFlowEnd, r);
  }
}

void World::FlowEnd(Customer& c, uint32_t ci, uint32_t r, Micros at) {
  Run& run = c.runs[r];
  run.flow_running = false;
  run.plan.clear();
  run.plan.shrink_to_fit();
  if (run.flow_cut) return;
  const JourneySpec& journey = model_.journeys[run.journey];
  const bool in_flow = journey.start != JourneySpec::Start::kAnytime;
  if (!run.need_active) {
    // No need stood in the way (one resolved mid-way has its goal coming).
    if (journey.goal && !run.goal_done && !run.had_need && Uniform(c.rng) < journey.goal_probability) {
      if (in_flow) {
        EmitGoal(c, ci, r, at);
      } else if (journey.goal->system) {
        Schedule(ci, at + Draw(c.rng, journey.goal_after), kGoal, r);
      } else {
        run.goal_on_session = true;  // the customer does it when next online
      }
    }
    return;
  }
  const NeedSpec& need = journey.needs[run.need];
  if (Uniform(c.rng) < need.self_resolve) {
    if (in_flow) {
      ResolveNeed(c, ci, r, NeedOutcome::kSelf, at);
      return;
    }
    run.self_on_session = true;
  } else if (in_flow && Uniform(c.rng) < need.retry) {
    run.retry = true;
  }
  if (!run.contact_planned) {
    run.contact_planned = true;
    if (Uniform(c.rng) < need.contact.probability) {
      Schedule(ci, std::max(at + kMicrosPerMinute, run.onset + Draw(c.rng, need.contact.after)), kContactOpen, r);
    }
  }
}

void World::NeedEnd(Customer& c, uint32_t ci, uint32_t r, Micros at) {
  Run& run = c.runs[r];
  const JourneySpec& journey = model_.journeys[run.journey];
  const NeedSpec& need = journey.needs[run.need];
  const Micros t = at;
  for (const EventSpec& e : need.end_events) Emit(c, ci, t, e, &run);
  if (need.on_end == NeedEnd::kGoal && journey.goal && !run.goal_done) EmitGoal(c, ci, r, t);
  if (!run.need_active) return;
  run.need_active = false;
  NeedRecord& record = needs_[run.record];
  record.resolved_at = at;
  record.outcome = need.on_end == NeedEnd::kGiveUp ? NeedOutcome::kGaveUp : NeedOutcome::kEnded;
  if (need.on_end == NeedEnd::kGiveUp) {
    ++c.gave_up;
    if (Uniform(c.rng) < model_.reactions.complaint_on_give_up) {
      EmitOutcome(c, ci, t, OutcomeRole::kComplaint, "\"about\":\"an unresolved problem\"", NAN);
    }
    if (Uniform(c.rng) < need.churn) Churn(c, ci, t);
  }
}

void World::ResolveNeed(Customer& c, uint32_t ci, uint32_t r, NeedOutcome how, Micros at) {
  Run& run = c.runs[r];
  if (!run.need_active) return;
  run.need_active = false;
  run.retry = false;
  run.self_on_session = false;
  if (run.record != kNoRecord) {
    needs_[run.record].resolved_at = at;
    needs_[run.record].outcome = how;
  }
  if (how == NeedOutcome::kHelped) {
    run.helped = true;
    ++c.helped;
  }
  if (run.flow_running) run.flow_cut = true;
  if (run.journey == kBackground) return;
  const JourneySpec& journey = model_.journeys[run.journey];
  if (journey.needs[run.need].on_end != NeedEnd::kGoal && journey.goal && !run.goal_done) ScheduleGoal(c, ci, r, at);
}

void World::ScheduleGoal(Customer& c, uint32_t ci, uint32_t r, Micros at) {
  const EventSpec& goal = *model_.journeys[c.runs[r].journey].goal;
  if (goal.system || InSession(c, at)) {
    const Micros t = at + Draw(c.rng, {30 * kMicrosPerSecond, 3 * kMicrosPerMinute});
    if (!goal.system) KeepSession(c, t + kMicrosPerMinute);
    Schedule(ci, t, kGoal, r);
  } else {
    c.runs[r].goal_on_session = true;
  }
}

void World::EmitGoal(Customer& c, uint32_t ci, uint32_t r, Micros at) {
  Run& run = c.runs[r];
  if (run.goal_done) return;
  const JourneySpec& journey = model_.journeys[run.journey];
  if (!journey.goal) return;
  run.goal_done = true;
  if (!journey.goal->system) KeepSession(c, at + kMicrosPerMinute);
  Emit(c, ci, at, *journey.goal, &run);
  const SurveyModel& s = model_.surveys;
  if (Uniform(c.rng) < s.csat_after_goal) {
    const EffectModel& e = model_.effects;
    double latent = s.csat_base + (run.had_need ? e.csat_friction : e.csat_smooth) + (run.helped ? e.csat_helped : 0) +
                    e.csat_annoyance * Annoyance(c, at) + s.csat_noise * Normal(c.rng);
    const int score = std::clamp(static_cast<int>(std::lround(latent)), 1, 5);
    Schedule(ci, at + Draw(c.rng, s.csat_delay), kCsat, r, score);
  }
}

void World::OpenContact(Customer& c, uint32_t ci, uint32_t r, Micros at) {
  Run& run = c.runs[r];
  if (!run.need_active) return;
  const SupportModel& s = model_.support;
  const std::string& case_type =
      run.journey == kBackground ? s.background_case_type : model_.journeys[run.journey].needs[run.need].contact.case_type;
  const std::string& channel = s.channels[Pick(c.rng, s.channels)].first;
  std::string props;
  const OutcomeRule* rule = policy_.FindOutcome(OutcomeRole::kContactOpened);
  std::string case_key = "case_type", channel_key = "channel";
  if (rule) {
    if (auto f = rule->fields.find("case_type"); f != rule->fields.end()) case_key = PropertyOf(f->second, case_key);
    if (auto f = rule->fields.find("channel"); f != rule->fields.end()) channel_key = PropertyOf(f->second, channel_key);
  }
  AppendJsonString(case_key, &props);
  props += ':';
  AppendJsonString(case_type.empty() ? "other" : case_type, &props);
  props += ',';
  AppendJsonString(channel_key, &props);
  props += ':';
  AppendJsonString(channel, &props);
  EmitOutcome(c, ci, at, OutcomeRole::kContactOpened, props, NAN);
  ++run.contacts;
  ++c.contacts;
  run.contact_opened_at = at;
  Schedule(ci, at + Draw(c.rng, s.resolve_after), kContactResolve, r);
}

void World::ResolveContact(Customer& c, uint32_t ci, uint32_t r, Micros at) {
  Run& run = c.runs[r];
  const SupportModel& s = model_.support;
  const bool background = run.journey == kBackground;
  const std::string& case_type =
      background ? s.background_case_type : model_.journeys[run.journey].needs[run.need].contact.case_type;
  std::string props = "\"case_type\":";
  AppendJsonString(case_type.empty() ? "other" : case_type, &props);
  EmitOutcome(c, ci, at, OutcomeRole::kContactResolved, props, NAN);
  bool fixed = !run.need_active;  // solved meanwhile: nothing left to fix
  if (!fixed) {
    double p = s.first_contact_fix;
    if (!background) {
      const ContactSpec& contact = model_.journeys[run.journey].needs[run.need].contact;
      if (contact.first_contact_fix) p = *contact.first_contact_fix;
    }
    if (run.informed) p += s.informed_fix_bonus;
    fixed = Uniform(c.rng) < p;
  }
  if (fixed) {
    if (run.need_active) {
      if (background) {
        run.need_active = false;
      } else {
        ResolveNeed(c, ci, r, NeedOutcome::kContact, at);
      }
    }
  } else if (Uniform(c.rng) < s.recontact) {
    Schedule(ci, at + Draw(c.rng, s.recontact_after), kContactOpen, r);
  }
  const SurveyModel& survey = model_.surveys;
  if (Uniform(c.rng) < survey.csat_after_contact) {
    const EffectModel& e = model_.effects;
    const double wait_days = static_cast<double>(at - run.contact_opened_at) / static_cast<double>(kMicrosPerDay);
    double latent = survey.csat_base + (fixed ? e.csat_fixed : e.csat_not_fixed) +
                    e.csat_recontact * std::max(0, run.contacts - 1) + e.csat_wait_per_day * wait_days +
                    (run.informed ? e.csat_informed : 0) + e.csat_annoyance * Annoyance(c, at) +
                    survey.csat_noise * Normal(c.rng);
    const int score = std::clamp(static_cast<int>(std::lround(latent)), 1, 5);
    Schedule(ci, at + Draw(c.rng, survey.csat_delay), kCsat, r, score);
  }
}

void World::AnswerNps(Customer& c, uint32_t ci, Micros at) {
  const EffectModel& e = model_.effects;
  double latent = model_.segments[c.segment].loyalty + e.nps_helped * c.helped + e.nps_unresolved * ActiveNeeds(c) +
                  e.nps_gave_up * c.gave_up + e.nps_contact * c.contacts + e.nps_annoyance * Annoyance(c, at) +
                  model_.surveys.nps_noise * Normal(c.rng);
  const int score = std::clamp(static_cast<int>(std::lround(latent)), 0, 10);
  std::string props = fmt::format("\"{}\":{}", outcome_events_[static_cast<int>(OutcomeRole::kNps)].property, score);
  EmitOutcome(c, ci, at, OutcomeRole::kNps, props, score);
}

void World::Churn(Customer& c, uint32_t ci, Micros at) {
  if (model_.churn_event) Emit(c, ci, at, *model_.churn_event, nullptr);
  c.churned = true;
  for (Run& run : c.runs) {
    if (!run.need_active) continue;
    run.need_active = false;
    if (run.record != kNoRecord) {
      needs_[run.record].resolved_at = at;
      needs_[run.record].outcome = NeedOutcome::kGaveUp;
    }
  }
}

// ---- Reactions ----

void World::Deliver(const Delivery& delivery, Micros not_before) {
  if (!simulated(delivery.customer)) return;
  Customer& c = *customers_[delivery.customer];
  const uint32_t ci = delivery.customer;
  if (delivery.intervention >= 0 && delivery.intervention < static_cast<int>(reactions_.size())) {
    ++reactions_[delivery.intervention].delivered;
  }
  DeliveryState state;
  state.delivery = delivery;
  {
    std::seed_seq seq{static_cast<uint32_t>(config_.seed), static_cast<uint32_t>(config_.seed >> 32), ci,
                      static_cast<uint32_t>(Hash64(delivery.decision_id)),
                      static_cast<uint32_t>(Hash64(delivery.decision_id) >> 32)};
    std::mt19937_64 rng(seq);
    for (double& u : state.u) u = Uniform(rng);
  }
  c.deliveries.push_back(std::move(state));
  const uint32_t d = static_cast<uint32_t>(c.deliveries.size() - 1);
  if (c.churned || delivery.channel < 0) return;
  const DeliveryState& s = c.deliveries[d];
  const Habit& habit = habits_[delivery.channel];
  switch (habit.how) {
    case ChannelHabit::How::kInSession:
      if (InSession(c, delivery.at) && InSession(c, not_before)) {
        Schedule(ci, not_before + 2 * kMicrosPerSecond + static_cast<Micros>(s.u[5] * 13 * kMicrosPerSecond), kSee, d);
      }
      break;
    case ChannelHabit::How::kNextSession:
      if (InSession(c, not_before)) {
        Schedule(ci, not_before + 2 * kMicrosPerSecond + static_cast<Micros>(s.u[5] * 28 * kMicrosPerSecond), kSee, d);
      } else {
        c.inbox.push_back(d);
      }
      break;
    case ChannelHabit::How::kLater:
      if (s.u[4] < habit.rate) {
        Micros t = delivery.at + habit.delay.min +
                   static_cast<Micros>(s.u[5] * static_cast<double>(habit.delay.max - habit.delay.min));
        Schedule(ci, WakingTime(c, std::max(t, not_before)), kSee, d);
      }
      break;
  }
}

double World::Annoyance(Customer& c, Micros at) {
  if (at > c.annoyance_at) {
    c.annoyance *= std::exp2(-static_cast<double>(at - c.annoyance_at) /
                             static_cast<double>(model_.reactions.annoyance_half_life));
    c.annoyance_at = at;
  }
  return c.annoyance;
}

void World::See(Customer& c, uint32_t ci, uint32_t d, Micros at) {
  DeliveryState& state = c.deliveries[d];
  if (state.seen) return;
  state.seen = true;
  ++c.seen_total;
  const Delivery& delivery = state.delivery;
  const ReactionModel& rm = model_.reactions;
  ReactionCounts& counts = reactions_[delivery.intervention];
  ++counts.seen;
  double annoyance = Annoyance(c, at);
  std::erase_if(c.seen_at, [&](Micros t) { return at - t >= kMicrosPerDay; });
  c.seen_at.push_back(at);
  const int excess = static_cast<int>(c.seen_at.size()) - rm.tolerance_per_day;
  if (excess > 0) annoyance += rm.annoyance_frequency * excess;

  // The need this message speaks to, if the customer has one now.
  int relevant = -1;
  for (size_t r = 0; r < c.runs.size(); ++r) {
    const Run& run = c.runs[r];
    if (!run.need_active || run.journey == kBackground) continue;
    if (helped_masks_[run.journey][run.need] >> delivery.intervention & 1) relevant = static_cast<int>(r);
  }
  bool accepted = false, dismissed = false;
  const double u = state.u[0];
  if (relevant >= 0) {
    ++counts.relevant;
    const Run& run = c.runs[relevant];
    const NeedSpec& need = model_.journeys[run.journey].needs[run.need];
    const bool timely = at - std::max(run.last_symptom, run.onset) <= need.timely;
    double p = need.accept.value_or(rm.accept) * (timely ? 1.0 : rm.late_factor);
    if (c.preferred >= 0 && c.preferred == delivery.channel) p *= model_.channels.preferred_boost;
    p = std::min(0.98, p / (1 + 0.5 * annoyance));
    if (u < p) {
      accepted = true;
    } else if (u < p + rm.dismiss_relevant + rm.dismiss_per_annoyance * annoyance) {
      dismissed = true;
    } else {
      annoyance += rm.annoyance_unwanted;
    }
  } else {
    annoyance += rm.annoyance_irrelevant * (delivery.ask_confirm ? rm.annoyance_confirm : 1.0);
    dismissed = u < std::min(0.95, rm.dismiss_irrelevant + rm.dismiss_per_annoyance * annoyance);
  }
  c.annoyance = annoyance;
  const std::string& intervention = policy_.interventions[delivery.intervention].name;
  std::string props = "\"decision_id\":";
  AppendJsonString(delivery.decision_id, &props);
  props += ",\"intervention\":";
  AppendJsonString(intervention, &props);
  if (accepted) {
    ++counts.accepted;
    // A link in an email or a text brings the customer online.
    if (habits_[delivery.channel].how == ChannelHabit::How::kLater && !InSession(c, at)) StartSession(c, ci, at);
    EmitOutcome(c, ci, at, OutcomeRole::kAccepted, props, NAN);
    Run& run = c.runs[relevant];
    run.informed = true;
    if (state.u[1] < model_.journeys[run.journey].needs[run.need].resolves) {
      ++counts.resolved;
      ResolveNeed(c, ci, static_cast<uint32_t>(relevant), NeedOutcome::kHelped, at);
    }
  } else if (dismissed) {
    ++counts.dismissed;
    EmitOutcome(c, ci, at, OutcomeRole::kDismissed, props, NAN);
  } else {
    ++counts.ignored;
  }
  if (relevant < 0 || dismissed) {
    if (!c.opted_out && state.u[2] < std::min(rm.max_rate, rm.opt_out_per_annoyance * annoyance)) {
      c.opted_out = true;
      ++counts.opt_outs;
      EmitOutcome(c, ci, at, OutcomeRole::kOptOut, props, NAN);
    }
    if (state.u[3] < std::min(rm.max_rate, rm.complaint_per_annoyance * annoyance)) {
      ++counts.complaints;
      std::string about = "\"about\":\"proactive messages\"";
      EmitOutcome(c, ci, at, OutcomeRole::kComplaint, about, NAN);
    }
  }
}

void World::ScheduleReview(const std::string& review_id, uint32_t customer, int intervention, Micros at) {
  std::seed_seq seq{static_cast<uint32_t>(config_.seed), static_cast<uint32_t>(config_.seed >> 32),
                    static_cast<uint32_t>(Hash64(review_id)), static_cast<uint32_t>(Hash64(review_id) >> 32), 0xa9e7u};
  std::mt19937_64 rng(seq);
  bool founded = false;
  if (simulated(customer) && intervention >= 0) {
    for (uint32_t r : customers_[customer]->records) {
      founded |= needs_[r].Active(at) && (needs_[r].helped_by >> intervention & 1);
    }
  }
  ReviewAnswerTask task;
  task.approve = Uniform(rng) < (founded ? model_.support.approve : model_.support.approve_unfounded);
  task.due = at + Draw(rng, model_.support.answer_after);
  task.review_id = review_id;
  if (task.due < config_.end) reviews_.push_back(std::move(task));
}

Micros World::NextReviewDue() const {
  Micros next = kNever;
  for (const ReviewAnswerTask& task : reviews_) {
    if (next == kNever || task.due < next) next = task.due;
  }
  return next;
}

std::vector<ReviewAnswerTask> World::TakeDueReviews(Micros until) {
  std::vector<ReviewAnswerTask> due;
  std::erase_if(reviews_, [&](ReviewAnswerTask& task) {
    if (task.due >= until) return false;
    due.push_back(std::move(task));
    return true;
  });
  std::sort(due.begin(), due.end(), [](const ReviewAnswerTask& a, const ReviewAnswerTask& b) {
    return a.due != b.due ? a.due < b.due : a.review_id < b.review_id;
  });
  // The agents' capacity: so many answers per (UTC) day; the rest wait for
  // the next day, in order, and may lapse meanwhile.
  const int64_t day = (until - 1 - config_.start) / kMicrosPerDay;
  if (day != answer_day_) {
    answer_day_ = day;
    answers_today_ = 0;
  }
  const double capacity =
      std::max(1.0, model_.support.review_capacity * static_cast<double>(config_.customers) / 1000.0);
  size_t take = 0;
  while (take < due.size() && answers_today_ < capacity) {
    ++take;
    ++answers_today_;
  }
  const Micros next_day = config_.start + (day + 1) * kMicrosPerDay;
  for (size_t i = take; i < due.size(); ++i) {
    due[i].due = next_day + static_cast<Micros>(i - take);
    if (due[i].due < config_.end) reviews_.push_back(std::move(due[i]));
  }
  due.resize(take);
  return due;
}

uint64_t World::ObserveDecision(uint32_t customer, Micros at, int acting, uint64_t held) {
  if (!simulated(customer)) return 0;
  const Customer& c = *customers_[customer];
  uint64_t active = 0;
  for (uint32_t r : c.records) {
    if (needs_[r].Active(at)) active |= needs_[r].helped_by;
  }
  if (active == 0) return 0;
  uint64_t alerting = 0;  // signals read by an intervention whose condition held
  for (size_t s = 0; s < signal_readers_.size(); ++s) {
    if (signal_readers_[s] & held) alerting |= uint64_t{1} << s;
  }
  for (uint32_t r : c.records) {
    NeedRecord& need = needs_[r];
    if (!need.Active(at)) continue;
    if (acting >= 0 && (need.helped_by >> acting & 1)) need.fired |= uint64_t{1} << acting;
    for (size_t s = 0; s < signal_readers_.size(); ++s) {
      if ((alerting >> s & 1) && (signal_readers_[s] & need.helped_by)) need.alerted |= uint64_t{1} << s;
    }
  }
  return active;
}

// ---- Events ----

void World::BeginEvent(Customer& c, uint32_t ci, Micros at, std::string_view type, bool system) {
  c.outcomes.active = true;
  ++events_;
  if (!config_.render || out_ == nullptr) return;
  std::string& out = *out_;
  out.append("{\"type\":\"");
  out.append(type);
  out.append("\",\"userId\":\"");
  out.append(ids_[ci]);
  fmt::format_to(std::back_inserter(out), "\",\"messageId\":\"{}-{}\",\"timestamp\":\"", ids_[ci], ++c.message_seq);
  AppendTimestamp(at, &out);
  out.push_back('"');
}

void World::EndEvent(Customer& c, bool system) {
  if (!config_.render || out_ == nullptr) return;
  std::string& out = *out_;
  const Zone& zone = zones_[c.zone];
  out.append(",\"context\":{\"timezone\":");
  AppendJsonString(zone.name, &out);
  if (!zone.locale.empty()) {
    out.append(",\"locale\":");
    AppendJsonString(zone.locale, &out);
  }
  if (!system) {
    out.append(",\"channel\":");
    AppendJsonString(model_.presence.devices[c.device].first, &out);
  }
  out.append("}}\n");
}

void World::Identify(Customer& c, uint32_t ci, Micros at) {
  c.identified = true;
  BeginEvent(c, ci, at, "identify", true);
  if (config_.render && out_ != nullptr) {
    out_->append(",\"traits\":");
    out_->append(c.traits_json);
  }
  EndEvent(c, true);
}

void World::RenderValue(Customer& c, const ValueSpec& value, const Run* run, std::string* out, double* number) {
  switch (value.kind) {
    case ValueSpec::Kind::kConstant:
      out->append(value.texts[0]);
      if (number) *number = NumberOf(value.texts[0]);
      return;
    case ValueSpec::Kind::kChoice: {
      const double u = Uniform(c.rng);
      size_t k = 0;
      while (k + 1 < value.weights.size() && u >= value.weights[k]) ++k;
      out->append(value.texts[k]);
      if (number) *number = NumberOf(value.texts[k]);
      return;
    }
    case ValueSpec::Kind::kUniform: {
      double v;
      if (value.integer) {
        v = static_cast<double>(DrawCount(c.rng, value.range));
        fmt::format_to(std::back_inserter(*out), "{}", static_cast<int64_t>(v));
      } else {
        v = value.range.min + Uniform(c.rng) * (value.range.max - value.range.min);
        const double scale = std::pow(10.0, value.decimals);
        v = std::round(v * scale) / scale;
        fmt::format_to(std::back_inserter(*out), "{:.{}f}", v, value.decimals);
      }
      if (number) *number = v;
      return;
    }
    case ValueSpec::Kind::kTemplate: {
      const std::string& text = value.texts[0];
      const JourneySpec* journey = run && run->journey != kBackground ? &model_.journeys[run->journey] : nullptr;
      auto var = [&](std::string_view name) -> const std::string* {
        if (!journey) return nullptr;
        for (size_t v = 0; v < journey->vars.size() && v < run->vars.size(); ++v) {
          if (journey->vars[v].first == name) return &run->vars[v];
        }
        return nullptr;
      };
      // Exactly "{var}": the variable's own JSON value, number or string.
      if (text.size() > 2 && text.front() == '{' && text.back() == '}' &&
          text.find('{', 1) == std::string::npos) {
        if (const std::string* v = var(std::string_view(text).substr(1, text.size() - 2))) {
          out->append(*v);
          if (number) *number = NumberOf(*v);
          return;
        }
      }
      std::string filled;
      for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '{') {
          filled.push_back(text[i]);
          continue;
        }
        const size_t close = text.find('}', i);
        if (close == std::string::npos) {
          filled.append(text, i, std::string::npos);
          break;
        }
        const std::string_view name = std::string_view(text).substr(i + 1, close - i - 1);
        if (name == "n") {
          fmt::format_to(std::back_inserter(filled), "{}", run ? run->n : 0);
        } else if (name == "customer") {
          filled.append(current_id_);
        } else if (const std::string* v = var(name)) {
          filled.append(Unquoted(*v));
        } else {
          filled.append(text, i, close - i + 1);
        }
        i = close;
      }
      AppendJsonString(filled, out);
      if (number) *number = NAN;
      return;
    }
  }
}

void World::Emit(Customer& c, uint32_t ci, Micros at, const EventSpec& spec, const Run* run) {
  if (!c.identified) Identify(c, ci, at);
  current_id_ = ids_[ci];
  const std::string_view type = spec.type == EventSpec::Type::kTrack  ? "track"
                                : spec.type == EventSpec::Type::kPage ? "page"
                                                                      : "screen";
  const std::string_view name = spec.type == EventSpec::Type::kTrack  ? std::string_view(spec.name)
                                : spec.type == EventSpec::Type::kPage ? std::string_view("Page Viewed")
                                                                      : std::string_view("Screen Viewed");
  // The roles this event plays, and the property each reads its value from.
  const std::vector<OutcomeRole>* roles = nullptr;
  for (const auto& [event, r] : roles_by_event_) {
    if (event == name) roles = &r;
  }
  BeginEvent(c, ci, at, type, spec.system);
  std::string scratch;
  std::string* out = config_.render && out_ != nullptr ? out_ : &scratch;
  if (spec.type == EventSpec::Type::kTrack) {
    out->append(",\"event\":");
    AppendJsonString(spec.name, out);
  } else if (spec.type == EventSpec::Type::kScreen) {
    out->append(",\"name\":");
    AppendJsonString(spec.name, out);
  }
  out->append(",\"properties\":{");
  bool first = true;
  if (spec.type == EventSpec::Type::kPage) {
    out->append("\"path\":");
    AppendJsonString(spec.name, out);
    first = false;
  }
  double value = NAN;
  for (const auto& [key, v] : spec.properties) {
    if (!first) out->push_back(',');
    first = false;
    AppendJsonString(key, out);
    out->push_back(':');
    double number = NAN;
    RenderValue(c, v, run, out, &number);
    if (roles) {
      for (OutcomeRole role : *roles) {
        if (outcome_events_[static_cast<int>(role)].property == key) value = number;
      }
    }
  }
  out->push_back('}');
  if (spec.type == EventSpec::Type::kPage && out == out_) {
    out->append(",\"context\":{\"page\":{\"path\":");
    AppendJsonString(spec.name, out);
    out->append("},\"timezone\":");
    AppendJsonString(zones_[c.zone].name, out);
    if (!zones_[c.zone].locale.empty()) {
      out->append(",\"locale\":");
      AppendJsonString(zones_[c.zone].locale, out);
    }
    out->append(",\"channel\":");
    AppendJsonString(model_.presence.devices[c.device].first, out);
    out->append("}}\n");
  } else if (out == out_) {
    EndEvent(c, spec.system);
  }
  if (roles) {
    for (OutcomeRole role : *roles) Count(c, role, at, value);
  }
}

void World::EmitOutcome(Customer& c, uint32_t ci, Micros at, OutcomeRole role, std::string_view properties_json,
                        double value) {
  const OutcomeEvent& e = outcome_events_[static_cast<int>(role)];
  // Ground truth counts it even when the policy maps no event to the role.
  Count(c, role, at, value);
  if (e.event.empty()) return;
  if (!c.identified) Identify(c, ci, at);
  BeginEvent(c, ci, at, "track", false);
  if (config_.render && out_ != nullptr) {
    out_->append(",\"event\":");
    AppendJsonString(e.event, out_);
    out_->append(",\"properties\":{");
    out_->append(properties_json);
    out_->push_back('}');
  }
  EndEvent(c, false);
}

void World::Count(Customer& c, OutcomeRole role, Micros at, double value) {
  CustomerOutcomes& o = c.outcomes;
  switch (role) {
    case OutcomeRole::kContactOpened: o.contacts_opened.push_back(at); break;
    case OutcomeRole::kContactResolved: o.contacts_resolved.push_back(at); break;
    case OutcomeRole::kCsat:
      if (std::isfinite(value) && value >= 1 && value <= 5) {
        ++o.csat_ratings;
        o.csat_good += value >= 4;
      }
      break;
    case OutcomeRole::kNps:
      if (std::isfinite(value)) o.nps = static_cast<int>(value);
      break;
    case OutcomeRole::kPurchase:
      if (std::isfinite(value)) o.revenue += value;
      break;
    case OutcomeRole::kOptOut: o.opted_out = true; break;
    case OutcomeRole::kComplaint: ++o.complaints; break;
    default: break;
  }
}

// ---- Time ----

int World::LocalHour(const Customer& c, Micros t) const {
  const std::vector<Micros>& m = zones_[c.zone].midnights;
  int64_t k = std::clamp<int64_t>((t - m[0]) / kMicrosPerDay, 0, static_cast<int64_t>(m.size()) - 2);
  while (k + 1 < static_cast<int64_t>(m.size()) - 1 && m[k + 1] <= t) ++k;
  while (k > 0 && m[k] > t) --k;
  return static_cast<int>(std::clamp<int64_t>((t - m[k]) / kMicrosPerHour, 0, 23));
}

Micros World::WakingTime(const Customer& c, Micros t) const {
  const std::vector<double>& hours = model_.presence.hours;
  for (int step = 0; step < 24; ++step) {
    if (hours[LocalHour(c, t)] >= 0.25 * max_hour_weight_) return t;
    t += kMicrosPerHour;
  }
  return t;
}

Micros World::RandomTimeOfDay(Customer& c, int day) {
  const std::vector<Micros>& m = zones_[c.zone].midnights;
  const double u = Uniform(c.rng);
  int hour = 0;
  while (hour < 23 && u >= hour_cdf_[hour]) ++hour;
  return m[day] + hour * kMicrosPerHour + static_cast<Micros>(Uniform(c.rng) * static_cast<double>(kMicrosPerHour));
}

}  // namespace upfront::sim
