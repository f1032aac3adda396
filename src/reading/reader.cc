#include "src/reading/reader.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <limits>

#include "src/common/hash.h"

namespace upfront {
namespace {

constexpr double kMissing = std::numeric_limits<double>::quiet_NaN();

// A value as a model feature: numbers, booleans as 0/1, numeric text;
// anything else is missing (a model cannot read "enterprise").
double AsNumber(const ExprValue& v) {
  switch (v.kind) {
    case ExprValue::Kind::kNumber: return v.number;
    case ExprValue::Kind::kBool: return v.boolean ? 1 : 0;
    case ExprValue::Kind::kString: {
      double d = 0;
      const char* end = v.text.data() + v.text.size();
      auto [ptr, ec] = std::from_chars(v.text.data(), end, d);
      return ec == std::errc() && ptr == end && !v.text.empty() ? d : kMissing;
    }
    case ExprValue::Kind::kMissing: return kMissing;
  }
  return kMissing;
}

}  // namespace

std::string LogisticModelVersion(const std::string& name, const LogisticModel& model) {
  std::string bytes = fmt::format("logistic|{}|{}", name, model.bias);
  for (double w : model.weights) bytes += fmt::format("|{}", w);
  return fmt::format("lr-{:016x}", Hash64(bytes));
}

Reading::Reading(const PolicyReader& reader) : reader_(&reader) {
  const Policy& policy = reader.policy();
  values_.resize(policy.paths.size());
  models_.resize(policy.models.size());
  features_.resize(policy.models.size());
  contributions_.resize(policy.models.size());
  size_t widest = 0;
  for (size_t i = 0; i < policy.models.size(); ++i) {
    const size_t n = policy.models[i].features.size();
    features_[i].assign(n, kMissing);
    if (policy.models[i].kind == ModelSpec::Kind::kLogistic) contributions_[i].assign(n, 0);
    widest = std::max(widest, n);
  }
  present_.resize(widest);
  float_features_.resize(widest);
  signal_scores_.resize(reader.signals().signal_count());
  signal_confidences_.resize(reader.signals().signal_count());
}

void Reading::SetThreshold(double value) {
  if (reader_->threshold_slot_ >= 0) values_[reader_->threshold_slot_] = ExprValue::Number(value);
}

std::string_view Reading::segment_name() const {
  return segment_ < 0 ? kDefaultSegment
                      : std::string_view(reader_->policy().segments[segment_].name);
}

absl::StatusOr<std::unique_ptr<PolicyReader>> PolicyReader::Create(const Policy& policy,
                                                                   const FieldCatalog& catalog,
                                                                   bool load_model_files) {
  UPFRONT_ASSIGN_OR_RETURN(CompiledSignals compiled,
                           CompiledSignals::Compile(policy.signals, policy.counters, catalog));
  std::unique_ptr<PolicyReader> reader(new PolicyReader(policy, catalog, std::move(compiled)));
  for (const ValuePath& path : policy.paths) {
    SlotSource source{path.kind};
    switch (path.kind) {
      case ValuePath::Kind::kSignalScore:
      case ValuePath::Kind::kSignalConfidence:
        source.index = reader->signals_.SignalIndex(path.name);
        break;
      case ValuePath::Kind::kModelScore:
      case ValuePath::Kind::kModelConfidence:
        for (size_t m = 0; m < policy.models.size(); ++m) {
          if (policy.models[m].name == path.name) source.index = static_cast<int>(m);
        }
        break;
      case ValuePath::Kind::kTrait: source.index = catalog.TraitId(path.name); break;
      case ValuePath::Kind::kCount:
        source.index = reader->signals_.CounterIndex(path.name);
        source.window = path.window;
        break;
      case ValuePath::Kind::kThreshold:
        reader->threshold_slot_ = static_cast<int>(reader->sources_.size());
        break;
    }
    if (source.index < 0 && path.kind != ValuePath::Kind::kThreshold) {
      // The loader resolved every path; this means catalog and policy disagree.
      return absl::InternalError(fmt::format("'{}' cannot be read with this catalog", path.text));
    }
    reader->sources_.push_back(source);
  }
  for (const ModelSpec& spec : policy.models) {
    Model model;
    model.spec = &spec;
    if (spec.kind == ModelSpec::Kind::kLogistic) {
      model.logistic.bias = spec.bias;
      model.logistic.weights = spec.weights;
      model.version = LogisticModelVersion(spec.name, model.logistic);
    } else if (!load_model_files) {
      model.version = "xgb-unloaded";
    } else {
      absl::StatusOr<XgboostModel> loaded = XgboostModel::Load(spec.file);
      if (!loaded.ok()) {
        return absl::FailedPreconditionError(fmt::format(
            "models.{}: {} (train it with: upfront train --model {} --out {})", spec.name,
            std::string(loaded.status().message()), spec.name, spec.file));
      }
      if (loaded->feature_count() != static_cast<int>(spec.features.size())) {
        return absl::FailedPreconditionError(fmt::format(
            "models.{}: {} was trained on {} features but the policy lists {}; retrain it",
            spec.name, spec.file, loaded->feature_count(), spec.features.size()));
      }
      model.xgboost = std::make_unique<XgboostModel>(*std::move(loaded));
      model.version = "xgb-" + model.xgboost->version();
    }
    reader->models_.push_back(std::move(model));
  }
  return reader;
}

void PolicyReader::Read(const Profile& profile, const CustomerSignals& signals, Micros now,
                        Reading* out, const LearnedModels* learned) const {
  out->at_ = now;
  // All of them: conditions read some, and a decision reports every one.
  for (size_t s = 0; s < out->signal_scores_.size(); ++s) {
    signals.ScoreAndConfidence(static_cast<int>(s), now, &out->signal_scores_[s], &out->signal_confidences_[s]);
  }
  // Models first need every non-model slot; model slots are filled after.
  for (size_t slot = 0; slot < sources_.size(); ++slot) {
    const SlotSource& source = sources_[slot];
    ExprValue& value = out->values_[slot];
    switch (source.kind) {
      case ValuePath::Kind::kSignalScore:
        value = ExprValue::Number(out->signal_scores_[source.index]);
        break;
      case ValuePath::Kind::kSignalConfidence:
        value = ExprValue::Number(out->signal_confidences_[source.index]);
        break;
      case ValuePath::Kind::kCount:
        value = ExprValue::Number(static_cast<double>(signals.Count(source.index, now, source.window)));
        break;
      case ValuePath::Kind::kTrait: {
        const auto id = static_cast<size_t>(source.index);
        value = ExprValue::Missing();
        if (id >= profile.has_trait.size() || !profile.has_trait[id]) break;
        const FieldValue& trait = profile.traits[id];
        if (trait.kind == FieldValue::Kind::kNumber) value = ExprValue::Number(trait.number);
        if (trait.kind == FieldValue::Kind::kBool) value = ExprValue::Bool(trait.boolean);
        if (trait.kind == FieldValue::Kind::kString) value = ExprValue::String(trait.text);
        break;
      }
      case ValuePath::Kind::kThreshold:
      case ValuePath::Kind::kModelScore:
      case ValuePath::Kind::kModelConfidence: value = ExprValue::Missing(); break;
    }
  }
  for (size_t m = 0; m < models_.size(); ++m) ScoreModel(static_cast<int>(m), out, learned);
  for (size_t slot = 0; slot < sources_.size(); ++slot) {
    const SlotSource& source = sources_[slot];
    if (source.kind != ValuePath::Kind::kModelScore &&
        source.kind != ValuePath::Kind::kModelConfidence) {
      continue;
    }
    const ModelReading& model = out->models_[source.index];
    out->values_[slot] =
        !model.available ? ExprValue::Missing()
        : source.kind == ValuePath::Kind::kModelScore ? ExprValue::Number(model.score)
                                                       : ExprValue::Number(model.confidence);
  }
  out->segment_ = -1;
  const std::vector<SegmentSpec>& segments = policy_->segments;
  for (size_t s = 0; s < segments.size(); ++s) {
    if (segments[s].condition.Evaluate(*out)) {
      out->segment_ = static_cast<int>(s);
      break;
    }
  }
}

void PolicyReader::ScoreModel(int i, Reading* out, const LearnedModels* learned) const {
  const Model& model = models_[i];
  const std::string& version = learned ? learned->versions[i] : model.version;
  if (out->models_[i].version != version) out->models_[i].version.assign(version);  // nearly always the same
  const std::vector<int>& slots = model.spec->features;
  std::vector<double>& features = out->features_[i];
  const size_t n = slots.size();
  size_t present_count = 0;
  for (size_t f = 0; f < n; ++f) {
    features[f] = AsNumber(out->values_[slots[f]]);
    out->present_[f] = std::isnan(features[f]) ? 0 : 1;
    present_count += out->present_[f];
  }
  ModelReading& reading = out->models_[i];
  std::span<const uint8_t> present(out->present_.data(), n);
  if (model.spec->kind == ModelSpec::Kind::kXgboost) {
    if (!model.xgboost) {
      reading.available = false;
      reading.low_confidence = true;
      return;
    }
    for (size_t f = 0; f < n; ++f) out->float_features_[f] = static_cast<float>(features[f]);
    const double score =
        model.xgboost->PredictOrNaN(std::span<const float>(out->float_features_.data(), n));
    reading.available = !std::isnan(score) && present_count > 0;
    reading.score = reading.available ? score : 0;
    reading.confidence = n == 0 ? 1 : static_cast<double>(present_count) / static_cast<double>(n);
  } else {
    for (size_t f = 0; f < n; ++f) {
      if (!out->present_[f]) features[f] = 0;  // Score reads present only; 0 keeps spans finite
    }
    const LogisticModel& weights = learned ? learned->weights[i] : model.logistic;
    const ModelScore score = weights.Score(features, present);
    weights.Contributions(features, present, out->contributions_[i]);
    for (size_t f = 0; f < n; ++f) {
      if (!out->present_[f]) features[f] = kMissing;
    }
    reading.available = n == 0 || present_count > 0;
    reading.score = score.score;
    reading.confidence = score.coverage;
  }
  reading.low_confidence = !reading.available || reading.confidence < model.spec->min_coverage;
}

}  // namespace upfront
