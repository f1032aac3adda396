#include "src/reading/reading_json.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "src/common/time_format.h"

namespace upfront {
namespace {

nlohmann::json TimeOrNull(Micros t) {
  return t == kNever ? nlohmann::json(nullptr) : nlohmann::json(FormatTimestamp(t));
}

std::string_view InputKind(const InputSpec& input) {
  static constexpr std::string_view kNames[] = {"event", "repeat", "abandon", "rate_change",
                                                "sequence"};
  return kNames[input.pattern.index()];
}

nlohmann::json SignalJson(const PolicyReader& reader, const CustomerSignals& signals, int i,
                          Micros now) {
  const CompiledSignals& compiled = reader.signals();
  const SignalSpec& spec = compiled.signal(i);
  const Evidence& evidence = signals.evidence(i);
  nlohmann::json inputs = nlohmann::json::array();
  for (size_t k = 0; k < spec.inputs.size(); ++k) {
    inputs.push_back({{"kind", InputKind(spec.inputs[k])},
                      {"event", compiled.ContributingEvent(i, static_cast<int>(k))},
                      {"weight", spec.inputs[k].weight},
                      {"confidence", spec.inputs[k].confidence},
                      {"hits", evidence.input_hits[k]}});
  }
  nlohmann::json out = {
      {"name", spec.name},
      {"description", spec.description},
      {"score", signals.Score(i, now)},
      {"confidence", signals.Confidence(i, now)},
      {"half_life", FormatDuration(spec.half_life)},
      {"evidence",
       {{"count", evidence.count},
        {"window", FormatDuration(evidence.Window(now))},
        {"first_at", TimeOrNull(evidence.count ? evidence.first_at : kNever)},
        {"last_at", TimeOrNull(evidence.count ? evidence.last_at : kNever)},
        {"last_event", signals.LastEventName(i)},
        {"last_message_id", evidence.last_message_id},
        {"inputs", std::move(inputs)}}},
  };
  if (evidence.drop_pct > 0) out["evidence"]["drop_pct"] = std::round(evidence.drop_pct);
  return out;
}

nlohmann::json ModelJson(const PolicyReader& reader, const Reading& reading, int m) {
  const Policy& policy = reader.policy();
  const ModelSpec& spec = policy.models[m];
  const ModelReading& score = reading.model(m);
  std::span<const double> features = reading.features(m);
  std::span<const double> pushes = reading.contributions(m);
  std::vector<size_t> order(features.size());
  std::iota(order.begin(), order.end(), 0);
  if (!pushes.empty()) {
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return std::abs(pushes[a]) > std::abs(pushes[b]); });
  }
  nlohmann::json top = nlohmann::json::array();
  for (size_t k = 0; k < order.size() && k < kTopFeatures; ++k) {
    const size_t f = order[k];
    nlohmann::json item = {{"feature", policy.paths[spec.features[f]].text},
                           {"value", std::isnan(features[f]) ? nlohmann::json(nullptr)
                                                             : nlohmann::json(features[f])}};
    if (!pushes.empty()) item["contribution"] = pushes[f];
    top.push_back(std::move(item));
  }
  return {{"name", spec.name},
          {"kind", spec.kind == ModelSpec::Kind::kLogistic ? "logistic" : "xgboost"},
          {"version", score.version},
          {"available", score.available},
          {"score", score.score},
          {"confidence", score.confidence},
          {"min_coverage", spec.min_coverage},
          {"low_confidence", score.low_confidence},
          {"top_features", std::move(top)}};
}

}  // namespace

nlohmann::json ReadingToJson(const PolicyReader& reader, const Profile& profile,
                             const CustomerSignals& signals, const Reading& reading) {
  const Micros now = reading.at();
  nlohmann::json out = {{"id", profile.id},
                        {"at", FormatTimestamp(now)},
                        {"policy", reader.policy().version},
                        {"segment", reading.segment_name()}};
  nlohmann::json signal_list = nlohmann::json::array();
  for (size_t i = 0; i < reader.signals().signal_count(); ++i) {
    signal_list.push_back(SignalJson(reader, signals, static_cast<int>(i), now));
  }
  out["signals"] = std::move(signal_list);
  nlohmann::json counts = nlohmann::json::object();
  for (const ValuePath& path : reader.policy().paths) {
    if (path.kind != ValuePath::Kind::kCount) continue;
    const int counter = reader.signals().CounterIndex(path.name);
    counts[path.text] = signals.Count(counter, now, path.window);
  }
  out["counts"] = std::move(counts);
  nlohmann::json models = nlohmann::json::array();
  for (size_t m = 0; m < reader.policy().models.size(); ++m) {
    models.push_back(ModelJson(reader, reading, static_cast<int>(m)));
  }
  out["models"] = std::move(models);
  nlohmann::json timers = nlohmann::json::array();
  for (const SignalTimer& timer : signals.timers().pending()) {
    if (timer.signal >= reader.signals().signal_count()) continue;
    timers.push_back({{"signal", reader.signals().signal(timer.signal).name},
                      {"due", FormatTimestamp(timer.due)}});
  }
  out["pending_timers"] = std::move(timers);
  return out;
}

}  // namespace upfront
