#include "src/sim/population.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>
#include <type_traits>
#include <variant>

#include "src/common/time_format.h"

namespace upfront::sim {
namespace {

// ---- Reading YAML while collecting every problem ----

class Errors {
 public:
  explicit Errors(std::string file) : file_(std::move(file)) {}
  void Add(const YAML::Mark& mark, std::string_view key, std::string_view message) {
    Entry e;
    e.line = mark.line >= 0 ? mark.line + 1 : 0;
    e.column = mark.column >= 0 ? mark.column + 1 : 0;
    e.text = e.line > 0 ? fmt::format("{}:{}:{}: {}: {}", file_, e.line, e.column, key, message)
                        : fmt::format("{}: {}: {}", file_, key, message);
    entries_.push_back(std::move(e));
  }
  bool empty() const { return entries_.empty(); }
  std::string Joined() {
    std::stable_sort(entries_.begin(), entries_.end(), [](const Entry& a, const Entry& b) {
      return a.line != b.line ? a.line < b.line : a.column < b.column;
    });
    std::string out;
    for (const Entry& e : entries_) {
      if (!out.empty()) out += '\n';
      out += e.text;
    }
    return out;
  }

 private:
  struct Entry {
    int line = 0, column = 0;
    std::string text;
  };
  std::string file_;
  std::vector<Entry> entries_;
};

std::string Join(std::string_view parent, std::string_view child) {
  if (parent.empty()) return std::string(child);
  return fmt::format("{}.{}", parent, child);
}

bool Empty(const YAML::Node& n) { return !n.IsDefined() || n.IsNull(); }

std::string Describe(const YAML::Node& n) {
  if (Empty(n)) return "nothing";
  if (n.IsMap()) return "a map";
  if (n.IsSequence()) return "a list";
  return fmt::format("'{}'", n.Scalar());
}

// A map whose keys are checked: reading a key marks it known; Finish reports
// the rest as unknown.
class MapReader {
 public:
  MapReader(const YAML::Node& node, std::string key, Errors* errors)
      : node_(node), key_(std::move(key)), errors_(errors) {
    ok_ = node.IsMap();
    if (!ok_ && !Empty(node)) errors_->Add(node.Mark(), key_, fmt::format("must be a map, found {}", Describe(node)));
  }
  bool ok() const { return ok_; }
  const std::string& key() const { return key_; }
  Errors* errors() const { return errors_; }
  const YAML::Node& node() const { return node_; }

  YAML::Node Get(std::string_view name) {
    known_.insert(std::string(name));
    if (!ok_) return YAML::Node();
    return node_[std::string(name)];
  }
  bool Has(std::string_view name) const { return ok_ && node_[std::string(name)].IsDefined(); }
  std::string KeyOf(std::string_view name) const { return Join(key_, name); }

  void Finish() {
    if (!ok_) return;
    for (auto it = node_.begin(); it != node_.end(); ++it) {
      const std::string name = it->first.Scalar();
      if (known_.count(name)) continue;
      std::string list;
      for (const std::string& k : known_) list += (list.empty() ? "" : ", ") + k;
      errors_->Add(it->first.Mark(), Join(key_, name), fmt::format("unknown key (known here: {})", list));
    }
  }

 private:
  YAML::Node node_;
  std::string key_;
  Errors* errors_;
  bool ok_ = false;
  std::set<std::string> known_;
};

std::optional<double> ParseNumber(std::string_view text) {
  double v = 0;
  const char* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, v);
  if (ec != std::errc() || p != end || text.empty()) return std::nullopt;
  return v;
}

std::optional<double> ReadNumber(const YAML::Node& n, const std::string& key, Errors* errors) {
  if (Empty(n)) return std::nullopt;
  if (!n.IsScalar()) {
    errors->Add(n.Mark(), key, fmt::format("must be a number, found {}", Describe(n)));
    return std::nullopt;
  }
  std::optional<double> v = ParseNumber(n.Scalar());
  if (!v || !std::isfinite(*v)) errors->Add(n.Mark(), key, fmt::format("must be a number, found {}", Describe(n)));
  return v;
}

void Number(MapReader& m, std::string_view name, double* out, double lo = -1e300, double hi = 1e300) {
  YAML::Node n = m.Get(name);
  std::optional<double> v = ReadNumber(n, m.KeyOf(name), m.errors());
  if (!v) return;
  if (*v < lo || *v > hi) {
    m.errors()->Add(n.Mark(), m.KeyOf(name), fmt::format("must be between {:g} and {:g}, found {:g}", lo, hi, *v));
    return;
  }
  *out = *v;
}
void Probability(MapReader& m, std::string_view name, double* out) { Number(m, name, out, 0, 1); }
void OptionalProbability(MapReader& m, std::string_view name, std::optional<double>* out) {
  if (!m.Has(name)) {
    m.Get(name);
    return;
  }
  double v = 0;
  Number(m, name, &v, 0, 1);
  *out = v;
}

std::optional<Micros> ReadDuration(const YAML::Node& n, const std::string& key, Errors* errors) {
  if (Empty(n)) return std::nullopt;
  if (!n.IsScalar()) {
    errors->Add(n.Mark(), key, fmt::format("must be a duration such as 30s, 10m, 2h or 3d, found {}", Describe(n)));
    return std::nullopt;
  }
  absl::StatusOr<Micros> d = ParseDuration(n.Scalar());
  if (!d.ok()) {
    errors->Add(n.Mark(), key, std::string(d.status().message()));
    return std::nullopt;
  }
  return *d;
}

void Duration(MapReader& m, std::string_view name, Micros* out) {
  if (std::optional<Micros> d = ReadDuration(m.Get(name), m.KeyOf(name), m.errors())) *out = *d;
}

// A duration or {min, max} of durations.
void Durations(MapReader& m, std::string_view name, DurationRange* out) {
  YAML::Node n = m.Get(name);
  if (Empty(n)) return;
  const std::string key = m.KeyOf(name);
  if (n.IsMap()) {
    MapReader r(n, key, m.errors());
    DurationRange range = *out;
    Duration(r, "min", &range.min);
    Duration(r, "max", &range.max);
    r.Finish();
    if (range.max < range.min) {
      m.errors()->Add(n.Mark(), key, "max must not be below min");
      return;
    }
    *out = range;
    return;
  }
  if (std::optional<Micros> d = ReadDuration(n, key, m.errors())) *out = {*d, *d};
}

// A number or {min, max}.
void Numbers(MapReader& m, std::string_view name, NumberRange* out, double lo = 0) {
  YAML::Node n = m.Get(name);
  if (Empty(n)) return;
  const std::string key = m.KeyOf(name);
  if (n.IsMap()) {
    MapReader r(n, key, m.errors());
    NumberRange range = *out;
    Number(r, "min", &range.min, lo);
    Number(r, "max", &range.max, lo);
    r.Finish();
    if (range.max < range.min) {
      m.errors()->Add(n.Mark(), key, "max must not be below min");
      return;
    }
    *out = range;
    return;
  }
  if (std::optional<double> v = ReadNumber(n, key, m.errors())) {
    if (*v < lo) {
      m.errors()->Add(n.Mark(), key, fmt::format("must be at least {:g}", lo));
      return;
    }
    *out = {*v, *v};
  }
}

std::string String(MapReader& m, std::string_view name, std::string fallback = "") {
  YAML::Node n = m.Get(name);
  if (Empty(n)) return fallback;
  if (!n.IsScalar()) {
    m.errors()->Add(n.Mark(), m.KeyOf(name), fmt::format("must be text, found {}", Describe(n)));
    return fallback;
  }
  return n.Scalar();
}

void Bool(MapReader& m, std::string_view name, bool* out) {
  YAML::Node n = m.Get(name);
  if (Empty(n)) return;
  if (n.IsScalar() && (n.Scalar() == "true" || n.Scalar() == "false")) {
    *out = n.Scalar() == "true";
    return;
  }
  m.errors()->Add(n.Mark(), m.KeyOf(name), fmt::format("must be true or false, found {}", Describe(n)));
}

std::vector<std::string> Strings(MapReader& m, std::string_view name) {
  std::vector<std::string> out;
  YAML::Node n = m.Get(name);
  if (Empty(n)) return out;
  if (n.IsScalar()) return {n.Scalar()};
  if (!n.IsSequence()) {
    m.errors()->Add(n.Mark(), m.KeyOf(name), fmt::format("must be a list of names, found {}", Describe(n)));
    return out;
  }
  for (const YAML::Node& item : n) {
    if (item.IsScalar()) {
      out.push_back(item.Scalar());
    } else {
      m.errors()->Add(item.Mark(), m.KeyOf(name), fmt::format("must be a name, found {}", Describe(item)));
    }
  }
  return out;
}

// name -> share maps ({web: 0.6, mobile: 0.4}), normalized to sum to 1.
std::vector<std::pair<std::string, double>> Shares(MapReader& m, std::string_view name, bool normalize) {
  std::vector<std::pair<std::string, double>> out;
  YAML::Node n = m.Get(name);
  if (Empty(n)) return out;
  const std::string key = m.KeyOf(name);
  if (!n.IsMap()) {
    m.errors()->Add(n.Mark(), key, fmt::format("must be a map of name: share, found {}", Describe(n)));
    return out;
  }
  double total = 0;
  for (auto it = n.begin(); it != n.end(); ++it) {
    const std::string item = it->first.Scalar();
    std::optional<double> v = ReadNumber(it->second, Join(key, item), m.errors());
    if (!v) continue;
    if (*v < 0 || (!normalize && *v > 1)) {
      m.errors()->Add(it->second.Mark(), Join(key, item), normalize ? "must not be negative" : "must be between 0 and 1");
      continue;
    }
    total += *v;
    out.emplace_back(item, *v);
  }
  if (normalize) {
    if (total <= 0 && !out.empty()) {
      m.errors()->Add(n.Mark(), key, "the shares must add up to more than 0");
      return {};
    }
    for (auto& [k, v] : out) v /= total;
  }
  return out;
}

std::string JsonString(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<int>(c));
        } else {
          out += c;
        }
    }
  }
  out += '"';
  return out;
}

// The JSON text of a plain scalar: quoted YAML text stays a string.
std::string ScalarJson(const YAML::Node& n) {
  const std::string& s = n.Scalar();
  if (n.Tag() != "!") {
    if (s == "true" || s == "false" || s == "null") return s;
    if (std::optional<double> v = ParseNumber(s)) {
      if (std::isfinite(*v)) return s;
    }
  }
  return JsonString(s);
}

bool IsInteger(double v) { return std::fabs(v - std::round(v)) < 1e-9; }

std::optional<ValueSpec> ReadValue(const YAML::Node& n, const std::string& key, Errors* errors) {
  ValueSpec v;
  if (Empty(n)) {
    errors->Add(n.Mark(), key, "needs a value");
    return std::nullopt;
  }
  if (n.IsScalar()) {
    const bool is_string = n.Tag() == "!" || ScalarJson(n).front() == '"';
    if (is_string && n.Scalar().find('{') != std::string::npos) {
      v.kind = ValueSpec::Kind::kTemplate;
      v.texts.push_back(n.Scalar());
    } else {
      v.texts.push_back(ScalarJson(n));
    }
    return v;
  }
  if (n.IsSequence()) {
    v.kind = ValueSpec::Kind::kChoice;
    for (const YAML::Node& item : n) {
      if (!item.IsScalar()) {
        errors->Add(item.Mark(), key, fmt::format("a choice must be a plain value, found {}", Describe(item)));
        return std::nullopt;
      }
      v.texts.push_back(ScalarJson(item));
    }
    if (v.texts.empty()) {
      errors->Add(n.Mark(), key, "an empty list offers nothing to choose");
      return std::nullopt;
    }
    for (size_t i = 0; i < v.texts.size(); ++i) v.weights.push_back(static_cast<double>(i + 1) / v.texts.size());
    return v;
  }
  MapReader m(n, key, errors);
  if (m.Has("choice")) {
    v.kind = ValueSpec::Kind::kChoice;
    YAML::Node c = m.Get("choice");
    if (!c.IsMap()) {
      errors->Add(c.Mark(), m.KeyOf("choice"), fmt::format("must be a map of value: weight, found {}", Describe(c)));
      return std::nullopt;
    }
    double total = 0;
    for (auto it = c.begin(); it != c.end(); ++it) {
      std::optional<double> w = ReadNumber(it->second, Join(m.KeyOf("choice"), it->first.Scalar()), errors);
      if (!w || *w < 0) return std::nullopt;
      total += *w;
      v.texts.push_back(ScalarJson(it->first));
      v.weights.push_back(total);
    }
    if (total <= 0) {
      errors->Add(c.Mark(), m.KeyOf("choice"), "the weights must add up to more than 0");
      return std::nullopt;
    }
    for (double& w : v.weights) w /= total;
    m.Finish();
    return v;
  }
  if (m.Has("min") || m.Has("max")) {
    v.kind = ValueSpec::Kind::kUniform;
    Number(m, "min", &v.range.min);
    v.range.max = v.range.min;
    Number(m, "max", &v.range.max);
    bool round = true;
    Bool(m, "round", &round);
    double decimals = 2;
    Number(m, "decimals", &decimals, 0, 6);
    v.decimals = static_cast<int>(decimals);
    v.integer = round && IsInteger(v.range.min) && IsInteger(v.range.max);
    if (v.range.max < v.range.min) {
      errors->Add(n.Mark(), key, "max must not be below min");
      return std::nullopt;
    }
    m.Finish();
    return v;
  }
  errors->Add(n.Mark(), key, "must be a value, a list to choose from, {choice: {...}} or {min: .., max: ..}");
  return std::nullopt;
}

Properties ReadProperties(MapReader& m, std::string_view name) {
  Properties out;
  YAML::Node n = m.Get(name);
  if (Empty(n)) return out;
  const std::string key = m.KeyOf(name);
  if (!n.IsMap()) {
    m.errors()->Add(n.Mark(), key, fmt::format("must be a map of name: value, found {}", Describe(n)));
    return out;
  }
  for (auto it = n.begin(); it != n.end(); ++it) {
    const std::string item = it->first.Scalar();
    if (std::optional<ValueSpec> v = ReadValue(it->second, Join(key, item), m.errors())) out.emplace_back(item, std::move(*v));
  }
  return out;
}

std::optional<EventSpec> ReadEvent(const YAML::Node& n, const std::string& key, Errors* errors) {
  MapReader m(n, key, errors);
  if (!m.ok()) {
    if (Empty(n)) errors->Add(n.Mark(), key, "needs an event: {event: NAME}, {page: PATH} or {screen: NAME}");
    return std::nullopt;
  }
  EventSpec e;
  int kinds = 0;
  for (auto [k, type] : {std::pair{"event", EventSpec::Type::kTrack}, std::pair{"page", EventSpec::Type::kPage},
                         std::pair{"screen", EventSpec::Type::kScreen}}) {
    if (m.Has(k)) {
      ++kinds;
      e.type = type;
      e.name = String(m, k);
    } else {
      m.Get(k);
    }
  }
  if (kinds != 1 || e.name.empty()) {
    errors->Add(n.Mark(), key, "needs exactly one of event: NAME, page: PATH or screen: NAME");
  }
  e.properties = ReadProperties(m, "properties");
  Numbers(m, "count", &e.count, 0);
  Durations(m, "spacing", &e.spacing);
  Probability(m, "probability", &e.probability);
  Bool(m, "system", &e.system);
  if (m.Has("when")) {
    const std::string when = String(m, "when");
    if (when == "in_flow") {
      e.when = EventSpec::When::kInFlow;
    } else if (when == "start") {
      e.when = EventSpec::When::kStart;
    } else if (when == "session") {
      e.when = EventSpec::When::kSession;
    } else if (when == "daily") {
      e.when = EventSpec::When::kDaily;
    } else {
      errors->Add(m.Get("when").Mark(), m.KeyOf("when"),
                  fmt::format("must be in_flow, start, session or daily, found '{}'", when));
    }
  } else {
    m.Get("when");
  }
  m.Finish();
  if (kinds != 1 || e.name.empty()) return std::nullopt;
  return e;
}

std::vector<EventSpec> ReadEvents(MapReader& m, std::string_view name) {
  std::vector<EventSpec> out;
  YAML::Node n = m.Get(name);
  if (Empty(n)) return out;
  const std::string key = m.KeyOf(name);
  if (!n.IsSequence()) {
    m.errors()->Add(n.Mark(), key, fmt::format("must be a list of events, found {}", Describe(n)));
    return out;
  }
  for (size_t i = 0; i < n.size(); ++i) {
    if (std::optional<EventSpec> e = ReadEvent(n[i], fmt::format("{}[{}]", key, i), m.errors())) out.push_back(std::move(*e));
  }
  return out;
}

std::optional<EventSpec> OptionalEvent(MapReader& m, std::string_view name) {
  YAML::Node n = m.Get(name);
  if (Empty(n)) return std::nullopt;
  return ReadEvent(n, m.KeyOf(name), m.errors());
}

void ReadContact(MapReader& parent, ContactSpec* out) {
  YAML::Node n = parent.Get("contact");
  if (Empty(n)) return;
  MapReader m(n, parent.KeyOf("contact"), parent.errors());
  Probability(m, "probability", &out->probability);
  Durations(m, "after", &out->after);
  out->case_type = String(m, "case_type");
  OptionalProbability(m, "first_contact_fix", &out->first_contact_fix);
  m.Finish();
}

std::optional<NeedSpec> ReadNeed(const std::string& name, const YAML::Node& n, const std::string& key, Errors* errors) {
  MapReader m(n, key, errors);
  if (!m.ok()) return std::nullopt;
  NeedSpec need;
  need.name = name;
  Probability(m, "probability", &need.probability);
  need.helped_by = Strings(m, "helped_by");
  need.symptoms = ReadEvents(m, "symptoms");
  Bool(m, "replaces_steps", &need.replaces_steps);
  Number(m, "activity", &need.activity, 0, 10);
  Durations(m, "lasts", &need.lasts);
  Probability(m, "self_resolve", &need.self_resolve);
  Probability(m, "retry", &need.retry);
  OptionalProbability(m, "accept", &need.accept);
  Probability(m, "resolves", &need.resolves);
  Duration(m, "timely", &need.timely);
  ReadContact(m, &need.contact);
  if (m.Has("on_end")) {
    YAML::Node v = m.Get("on_end");
    const std::string end = String(m, "on_end");
    if (end == "nothing") {
      need.on_end = NeedEnd::kNothing;
    } else if (end == "goal") {
      need.on_end = NeedEnd::kGoal;
    } else if (end == "give_up") {
      need.on_end = NeedEnd::kGiveUp;
    } else {
      errors->Add(v.Mark(), m.KeyOf("on_end"), fmt::format("must be nothing, goal or give_up, found '{}'", end));
    }
  } else {
    m.Get("on_end");
  }
  Probability(m, "churn", &need.churn);
  need.end_events = ReadEvents(m, "end_events");
  m.Finish();
  if (need.lasts.min <= 0) errors->Add(n.Mark(), Join(key, "lasts"), "must be longer than 0");
  return need;
}

std::optional<JourneySpec> ReadJourney(const std::string& name, const YAML::Node& n, const std::string& key,
                                       const std::vector<SegmentModel>& segments, Errors* errors) {
  MapReader m(n, key, errors);
  if (!m.ok()) return std::nullopt;
  JourneySpec j;
  j.name = name;
  const std::string start = String(m, "start", "in_session");
  if (start == "in_session") {
    j.start = JourneySpec::Start::kInSession;
  } else if (start == "anytime") {
    j.start = JourneySpec::Start::kAnytime;
  } else if (start == "first_session") {
    j.start = JourneySpec::Start::kFirstSession;
  } else {
    errors->Add(m.Get("start").Mark(), m.KeyOf("start"),
                fmt::format("must be in_session, anytime or first_session, found '{}'", start));
  }
  Number(m, "rate", &j.rate, 0, 100);
  if (j.start == JourneySpec::Start::kFirstSession && !m.Has("rate")) j.rate = 1;
  if (j.start == JourneySpec::Start::kFirstSession && j.rate > 1) {
    errors->Add(m.Get("rate").Mark(), m.KeyOf("rate"), "a first_session journey's rate is a probability (0..1)");
  }
  YAML::Node segs = m.Get("segments");
  for (const std::string& s : Strings(m, "segments")) {
    auto it = std::find_if(segments.begin(), segments.end(), [&](const SegmentModel& sm) { return sm.name == s; });
    if (it == segments.end()) {
      errors->Add(segs.Mark(), m.KeyOf("segments"), fmt::format("no segment named '{}'", s));
    } else {
      j.segments.push_back(static_cast<int>(it - segments.begin()));
    }
  }
  j.vars = ReadProperties(m, "vars");
  j.steps = ReadEvents(m, "steps");
  j.noise = ReadEvents(m, "noise");
  j.goal = OptionalEvent(m, "goal");
  Durations(m, "goal_after", &j.goal_after);
  Probability(m, "goal_probability", &j.goal_probability);
  YAML::Node needs = m.Get("needs");
  if (!Empty(needs)) {
    if (!needs.IsMap()) {
      errors->Add(needs.Mark(), m.KeyOf("needs"), fmt::format("must be a map of need: {{...}}, found {}", Describe(needs)));
    } else {
      double total = 0;
      for (auto it = needs.begin(); it != needs.end(); ++it) {
        const std::string need_name = it->first.Scalar();
        if (std::optional<NeedSpec> need = ReadNeed(need_name, it->second, Join(m.KeyOf("needs"), need_name), errors)) {
          total += need->probability;
          j.needs.push_back(std::move(*need));
        }
      }
      if (total > 1 + 1e-9) {
        errors->Add(needs.Mark(), m.KeyOf("needs"),
                    fmt::format("the needs' probabilities add up to {:g}; a journey has at most one need, so at most 1", total));
      }
    }
  }
  m.Finish();
  if (j.steps.empty() && j.needs.empty() && !j.goal) {
    errors->Add(n.Mark(), key, "a journey needs steps, a goal or needs");
  }
  return j;
}

ChannelHabit::How HowFrom(const std::string& text, bool* ok) {
  *ok = true;
  if (text == "in_session") return ChannelHabit::How::kInSession;
  if (text == "next_session") return ChannelHabit::How::kNextSession;
  if (text == "later") return ChannelHabit::How::kLater;
  *ok = false;
  return ChannelHabit::How::kLater;
}

absl::StatusOr<PopulationModel> Parse(const YAML::Node& root, const std::string& file) {
  Errors errors(file);
  MapReader top(root, "", &errors);
  if (!top.ok()) return absl::InvalidArgumentError(fmt::format("{}: a population file is a map of sections", file));
  PopulationModel model;
  model.source_file = file;
  model.name = String(top, "name", "population");
  {
    YAML::Node s = top.Get("start");
    const std::string text = String(top, "start", "2026-11-02T00:00:00Z");
    std::optional<Micros> t = ParseTimestamp(text);
    if (!t) {
      errors.Add(s.Mark(), "start", fmt::format("must be an ISO-8601 time, found '{}'", text));
    } else {
      model.start = *t;
    }
  }
  model.id_prefix = String(top, "id_prefix", "sim-");

  // segments
  {
    YAML::Node n = top.Get("segments");
    if (Empty(n) || !n.IsMap()) {
      errors.Add(n.Mark(), "segments", "must be a map of segment: {share, traits, activity, loyalty}");
    } else {
      double total = 0;
      for (auto it = n.begin(); it != n.end(); ++it) {
        const std::string name = it->first.Scalar();
        MapReader m(it->second, Join("segments", name), &errors);
        SegmentModel seg;
        seg.name = name;
        Number(m, "share", &seg.share, 0);
        seg.traits = ReadProperties(m, "traits");
        Number(m, "activity", &seg.activity, 0, 100);
        Number(m, "loyalty", &seg.loyalty, 0, 10);
        m.Finish();
        total += seg.share;
        model.segments.push_back(std::move(seg));
      }
      if (total <= 0) {
        errors.Add(n.Mark(), "segments", "the shares must add up to more than 0");
      } else {
        for (SegmentModel& s : model.segments) s.share /= total;
      }
    }
  }
  // timezones: zone: share, or zone: {share, locale}
  {
    YAML::Node n = top.Get("timezones");
    if (Empty(n)) {
      model.timezones.push_back({"UTC", 1, ""});
    } else if (!n.IsMap()) {
      errors.Add(n.Mark(), "timezones", "must be a map of zone: share (or zone: {share, locale})");
    } else {
      double total = 0;
      for (auto it = n.begin(); it != n.end(); ++it) {
        TimezoneModel tz;
        tz.zone = it->first.Scalar();
        const std::string key = Join("timezones", tz.zone);
        if (it->second.IsMap()) {
          MapReader m(it->second, key, &errors);
          Number(m, "share", &tz.share, 0);
          tz.locale = String(m, "locale");
          m.Finish();
        } else if (std::optional<double> v = ReadNumber(it->second, key, &errors)) {
          tz.share = *v;
        }
        total += tz.share;
        model.timezones.push_back(std::move(tz));
      }
      if (total <= 0) {
        errors.Add(n.Mark(), "timezones", "the shares must add up to more than 0");
      } else {
        for (TimezoneModel& tz : model.timezones) tz.share /= total;
      }
    }
  }
  // channels
  {
    MapReader m(top.Get("channels"), "channels", &errors);
    model.channels.consent = Shares(m, "consent", false);
    model.channels.preferred = Shares(m, "preferred", true);
    Number(m, "preferred_boost", &model.channels.preferred_boost, 0, 10);
    YAML::Node seen = m.Get("seen");
    if (!Empty(seen)) {
      if (!seen.IsMap()) {
        errors.Add(seen.Mark(), "channels.seen", "must be a map of channel: {how, rate, delay, within}");
      } else {
        for (auto it = seen.begin(); it != seen.end(); ++it) {
          ChannelHabit h;
          h.channel = it->first.Scalar();
          MapReader r(it->second, Join("channels.seen", h.channel), &errors);
          const std::string how = String(r, "how", "later");
          bool ok = true;
          h.how = HowFrom(how, &ok);
          if (!ok) {
            errors.Add(r.Get("how").Mark(), r.KeyOf("how"),
                       fmt::format("must be in_session, next_session or later, found '{}'", how));
          }
          Probability(r, "rate", &h.rate);
          Durations(r, "delay", &h.delay);
          Duration(r, "within", &h.within);
          r.Finish();
          model.channels.seen.push_back(std::move(h));
        }
      }
    }
    m.Finish();
  }
  // presence
  {
    MapReader m(top.Get("presence"), "presence", &errors);
    PresenceModel& p = model.presence;
    Number(m, "sessions_per_day", &p.sessions_per_day, 0, 100);
    YAML::Node hours = m.Get("hours");
    if (!Empty(hours)) {
      if (!hours.IsSequence() || hours.size() != 24) {
        errors.Add(hours.Mark(), "presence.hours", "must be a list of 24 weights, one per local hour 0..23");
      } else {
        for (size_t h = 0; h < 24; ++h) {
          std::optional<double> v = ReadNumber(hours[h], fmt::format("presence.hours[{}]", h), &errors);
          p.hours.push_back(v && *v > 0 ? *v : 0);
        }
      }
    }
    YAML::Node weekdays = m.Get("weekdays");
    if (!Empty(weekdays)) {
      if (!weekdays.IsSequence() || weekdays.size() != 7) {
        errors.Add(weekdays.Mark(), "presence.weekdays", "must be a list of 7 multipliers, Monday to Sunday");
      } else {
        for (size_t d = 0; d < 7; ++d) {
          std::optional<double> v = ReadNumber(weekdays[d], fmt::format("presence.weekdays[{}]", d), &errors);
          p.weekdays.push_back(v && *v > 0 ? *v : 0);
        }
      }
    }
    Durations(m, "session_length", &p.session_length);
    p.session_start = OptionalEvent(m, "session_start");
    Numbers(m, "pages", &p.pages, 0);
    p.paths = Strings(m, "paths");
    p.devices = Shares(m, "devices", true);
    m.Finish();
    if (p.hours.empty()) {
      // Awake 7:00-23:00, busiest at lunch and in the evening.
      p.hours = {0.1, 0.05, 0.02, 0.02, 0.02, 0.05, 0.2, 0.5, 0.8, 1, 1, 1.1,
                 1.3, 1.2, 1, 1, 1, 1.1, 1.3, 1.5, 1.5, 1.3, 0.8, 0.3};
    }
    double total = 0;
    for (double w : p.hours) total += w;
    if (total <= 0) errors.Add(hours.Mark(), "presence.hours", "at least one hour must have a weight above 0");
    if (p.paths.empty()) p.paths = {"/"};
    if (p.devices.empty()) p.devices = {{"web", 1.0}};
  }
  // support
  {
    MapReader m(top.Get("support"), "support", &errors);
    SupportModel& s = model.support;
    s.channels = Shares(m, "channels", true);
    Durations(m, "resolve_after", &s.resolve_after);
    Probability(m, "first_contact_fix", &s.first_contact_fix);
    Probability(m, "informed_fix_bonus", &s.informed_fix_bonus);
    Probability(m, "recontact", &s.recontact);
    Durations(m, "recontact_after", &s.recontact_after);
    Number(m, "background_per_month", &s.background_per_month, 0, 100);
    s.background_case_type = String(m, "background_case_type", s.background_case_type);
    Probability(m, "approve", &s.approve);
    Probability(m, "approve_unfounded", &s.approve_unfounded);
    Durations(m, "answer_after", &s.answer_after);
    Number(m, "review_capacity", &s.review_capacity, 0, 1e6);
    m.Finish();
    if (s.channels.empty()) s.channels = {{"chat", 0.5}, {"phone", 0.3}, {"email", 0.2}};
  }
  // surveys
  {
    MapReader m(top.Get("surveys"), "surveys", &errors);
    SurveyModel& s = model.surveys;
    Probability(m, "csat_after_contact", &s.csat_after_contact);
    Probability(m, "csat_after_goal", &s.csat_after_goal);
    Durations(m, "csat_delay", &s.csat_delay);
    Number(m, "csat_base", &s.csat_base, 1, 5);
    Number(m, "csat_noise", &s.csat_noise, 0, 10);
    Probability(m, "nps_invited", &s.nps_invited);
    Probability(m, "nps_response", &s.nps_response);
    Number(m, "nps_noise", &s.nps_noise, 0, 10);
    m.Finish();
  }
  // reactions
  {
    MapReader m(top.Get("reactions"), "reactions", &errors);
    ReactionModel& r = model.reactions;
    Probability(m, "accept", &r.accept);
    Probability(m, "late_factor", &r.late_factor);
    Probability(m, "dismiss_relevant", &r.dismiss_relevant);
    Probability(m, "dismiss_irrelevant", &r.dismiss_irrelevant);
    Number(m, "dismiss_per_annoyance", &r.dismiss_per_annoyance, 0, 1);
    Duration(m, "annoyance_half_life", &r.annoyance_half_life);
    Number(m, "annoyance_irrelevant", &r.annoyance_irrelevant, 0, 100);
    Number(m, "annoyance_unwanted", &r.annoyance_unwanted, 0, 100);
    Number(m, "annoyance_confirm", &r.annoyance_confirm, 0, 10);
    double tolerance = r.tolerance_per_day;
    Number(m, "tolerance_per_day", &tolerance, 0, 100);
    r.tolerance_per_day = static_cast<int>(tolerance);
    Number(m, "annoyance_frequency", &r.annoyance_frequency, 0, 100);
    Number(m, "opt_out_per_annoyance", &r.opt_out_per_annoyance, 0, 1);
    Number(m, "complaint_per_annoyance", &r.complaint_per_annoyance, 0, 1);
    Probability(m, "max_rate", &r.max_rate);
    Probability(m, "complaint_on_give_up", &r.complaint_on_give_up);
    m.Finish();
    if (r.annoyance_half_life <= 0) r.annoyance_half_life = kMicrosPerDay;
  }
  // effects
  {
    MapReader m(top.Get("effects"), "effects", &errors);
    EffectModel& e = model.effects;
    for (auto [name, field] : std::initializer_list<std::pair<const char*, double*>>{
             {"csat_informed", &e.csat_informed},   {"csat_fixed", &e.csat_fixed},
             {"csat_not_fixed", &e.csat_not_fixed}, {"csat_recontact", &e.csat_recontact},
             {"csat_wait_per_day", &e.csat_wait_per_day}, {"csat_annoyance", &e.csat_annoyance},
             {"csat_smooth", &e.csat_smooth},       {"csat_friction", &e.csat_friction},
             {"csat_helped", &e.csat_helped},       {"nps_helped", &e.nps_helped},
             {"nps_unresolved", &e.nps_unresolved}, {"nps_gave_up", &e.nps_gave_up},
             {"nps_contact", &e.nps_contact},       {"nps_annoyance", &e.nps_annoyance}}) {
      Number(m, name, field, -10, 10);
    }
    m.Finish();
  }
  model.churn_event = OptionalEvent(top, "churn_event");
  // journeys
  {
    YAML::Node n = top.Get("journeys");
    if (Empty(n) || !n.IsMap()) {
      errors.Add(n.Mark(), "journeys", "must be a map of journey: {...}");
    } else {
      for (auto it = n.begin(); it != n.end(); ++it) {
        const std::string name = it->first.Scalar();
        if (std::optional<JourneySpec> j = ReadJourney(name, it->second, Join("journeys", name), model.segments, &errors)) {
          model.journeys.push_back(std::move(*j));
        }
      }
    }
  }
  top.Finish();
  if (!errors.empty()) return absl::InvalidArgumentError(errors.Joined());
  return model;
}

}  // namespace

absl::StatusOr<PopulationModel> LoadPopulationText(std::string_view yaml, const std::string& file_name) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        fmt::format("{}:{}:{}: {}", file_name, e.mark.line + 1, e.mark.column + 1, e.msg));
  }
  try {
    return Parse(root, file_name);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        fmt::format("{}:{}:{}: {}", file_name, e.mark.line + 1, e.mark.column + 1, e.msg));
  }
}

absl::StatusOr<PopulationModel> LoadPopulationFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(fmt::format("cannot read the population file {}", path));
  std::stringstream buffer;
  buffer << in.rdbuf();
  return LoadPopulationText(buffer.str(), path);
}

PopulationModel DefaultPopulation() {
  absl::StatusOr<PopulationModel> model = LoadPopulationText(DefaultPopulationYaml(), "(built-in population)");
  // The built-in text is tested (population_test.cc); failing here is a build error.
  if (!model.ok()) {
    fmt::print(stderr, "upfront: the built-in population does not load: {}\n", std::string(model.status().message()));
    std::abort();
  }
  model->source_file.clear();
  return *std::move(model);
}

std::vector<std::string> CheckPopulationAgainstPolicy(const PopulationModel& model, const Policy& policy) {
  std::vector<std::string> notes;
  std::set<std::string> interventions;
  for (const InterventionSpec& i : policy.interventions) interventions.insert(i.name);
  std::set<std::string> produced;  // event names the population sends
  auto add = [&](const EventSpec& e) {
    produced.insert(e.type == EventSpec::Type::kTrack  ? e.name
                    : e.type == EventSpec::Type::kPage ? std::string("Page Viewed")
                                                       : std::string("Screen Viewed"));
  };
  for (const JourneySpec& j : model.journeys) {
    for (const EventSpec& e : j.steps) add(e);
    for (const EventSpec& e : j.noise) add(e);
    if (j.goal) add(*j.goal);
    for (const NeedSpec& n : j.needs) {
      for (const EventSpec& e : n.symptoms) add(e);
      for (const EventSpec& e : n.end_events) add(e);
      for (const std::string& h : n.helped_by) {
        if (!interventions.count(h)) {
          notes.push_back(fmt::format("journeys.{}.needs.{}.helped_by: the policy has no intervention '{}'", j.name,
                                      n.name, h));
        }
      }
    }
  }
  if (model.presence.session_start) add(*model.presence.session_start);
  if (model.churn_event) add(*model.churn_event);
  if (!model.presence.paths.empty()) produced.insert("Page Viewed");
  for (const SignalSpec& s : policy.signals) {
    bool read = false;
    for (const InputSpec& in : s.inputs) {
      std::visit(
          [&](const auto& p) {
            using T = std::decay_t<decltype(p)>;
            if constexpr (std::is_same_v<T, SequenceInput>) {
              read |= produced.count(p.first) > 0 || produced.count(p.then) > 0;
            } else {
              read |= produced.count(p.event) > 0;
            }
          },
          in.pattern);
    }
    if (!read) notes.push_back(fmt::format("signal {}: the population sends none of the events it reads", s.name));
  }
  // Roles the simulator emits itself: contacts, surveys and feedback.
  static constexpr OutcomeRole kSimulated[] = {OutcomeRole::kContactOpened, OutcomeRole::kContactResolved,
                                               OutcomeRole::kCsat,          OutcomeRole::kNps,
                                               OutcomeRole::kAccepted,      OutcomeRole::kDismissed,
                                               OutcomeRole::kOptOut,        OutcomeRole::kComplaint};
  for (const OutcomeRule& rule : policy.outcomes) {
    if (std::find(std::begin(kSimulated), std::end(kSimulated), rule.role) != std::end(kSimulated)) continue;
    if (!produced.count(rule.event)) {
      notes.push_back(fmt::format("outcome {} ('{}'): the population never sends it", OutcomeRoleName(rule.role),
                                  rule.event));
    }
  }
  for (const ChannelSpec& c : policy.channels) {
    bool known = false;
    for (const ChannelHabit& h : model.channels.seen) known |= h.channel == c.name;
    if (!known) notes.push_back(fmt::format("channel {}: no habit in channels.seen; read by its kind", c.name));
  }
  return notes;
}

}  // namespace upfront::sim
