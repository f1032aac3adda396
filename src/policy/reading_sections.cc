#include "src/policy/reading_sections.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "src/common/time_format.h"
#include "src/policy/outcome_roles.h"
#include "src/signals/counters.h"

namespace upfront::policy_internal {
namespace {

constexpr std::string_view kSignalKeys[] = {"description", "half_life", "inputs"};
constexpr std::string_view kPatternKeys[] = {"event", "repeat", "abandon", "rate_change",
                                             "sequence"};
constexpr std::string_view kEventInputKeys[] = {"event", "where", "weight", "confidence"};
constexpr std::string_view kRepeatKeys[] = {"repeat", "key",    "count",     "within",
                                            "where",  "weight", "confidence"};
constexpr std::string_view kAbandonKeys[] = {"abandon", "unless", "within", "weight",
                                             "confidence"};
constexpr std::string_view kRateChangeKeys[] = {"rate_change", "short",  "long",      "drop",
                                                "min_baseline", "weight", "confidence"};
constexpr std::string_view kSequenceKeys[] = {"sequence", "then", "within", "weight",
                                              "confidence"};
constexpr std::string_view kModelKeys[] = {"description", "kind",  "features",    "weights",
                                           "file",        "learn", "min_coverage"};
constexpr std::string_view kLearnKeys[] = {"label", "horizon", "algorithm"};

constexpr std::string_view kPropertiesPrefix = "properties.";

bool IsName(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

bool Contains(const std::vector<std::string>& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

template <typename T>
std::string NamesOf(const std::vector<T>& items) {
  std::vector<std::string_view> names;
  for (const T& item : items) names.push_back(item.name);
  return names.empty() ? std::string("none") : fmt::format("{}", fmt::join(names, ", "));
}

// Where inside a condition's text an error points: yaml-cpp marks the
// scalar's first character, the opening quote for a quoted scalar.
YAML::Mark MarkInsideScalar(const YamlField& field, int column_in_text) {
  YAML::Mark mark = field.mark;
  if (mark.line < 0 || column_in_text <= 0) return mark;
  const bool quoted = field.node.Tag() == "!";
  if (field.node.Scalar().find('\n') == std::string::npos) {
    mark.column += column_in_text - 1 + (quoted ? 1 : 0);
  }
  return mark;
}

}  // namespace

void ReadingSections::ParseSensitiveTraits(const YamlField& section) {
  if (!ExpectList(section, errors_, /*allow_empty=*/true)) return;
  policy_->sensitive_traits = ReadStringList(section, errors_);
}

// --- signals ---------------------------------------------------------------

void ReadingSections::ParseSignals(const YamlField& section) {
  if (!ExpectMap(section, errors_, /*allow_empty=*/true)) return;
  for (const MapEntry& entry : MapEntries(section, errors_)) ParseSignal(entry);
}

void ReadingSections::ParseSignal(const MapEntry& entry) {
  const YamlField& value = entry.value;
  if (!IsName(entry.name)) {
    errors_->Add(entry.key_mark, value.key,
                 "a signal name is letters, digits and '_' so conditions can name it "
                 "(signals.<name>.score)");
    return;
  }
  if (!ExpectMap(value, errors_)) return;
  SignalSpec signal;
  signal.name = entry.name;
  bool valid = true;
  bool has_half_life = false;
  bool has_inputs = false;
  for (const MapEntry& field : MapEntries(value, errors_)) {
    if (field.name == "description") {
      if (auto text = ReadString(field.value, errors_)) signal.description = *text;
    } else if (field.name == "half_life") {
      has_half_life = true;
      auto half_life = ReadPositiveDuration(field.value, errors_);
      valid = valid && half_life.has_value();
      if (half_life) signal.half_life = *half_life;
    } else if (field.name == "inputs") {
      has_inputs = true;
      if (!ExpectList(field.value, errors_)) {
        valid = false;
        continue;
      }
      std::vector<YamlField> items = ListItems(field.value);
      if (items.size() > static_cast<size_t>(kMaxInputsPerSignal)) {
        errors_->Add(field.value.mark, field.value.key,
                     fmt::format("has {} inputs; a signal takes at most {}", items.size(),
                                 kMaxInputsPerSignal));
        valid = false;
      }
      for (size_t i = 0; i < items.size(); ++i) {
        items[i].key = fmt::format("{}[{}]", field.value.key, i);
        std::optional<InputSpec> input = ParseInput(items[i]);
        valid = valid && input.has_value();
        if (input) signal.inputs.push_back(*std::move(input));
      }
    } else {
      ReportUnknownKey(field, kSignalKeys, errors_);
    }
  }
  if (!has_half_life) {
    errors_->Add(value.mark, value.key, "needs 'half_life', how fast it fades, e.g. half_life: 10m");
    valid = false;
  }
  if (!has_inputs) {
    errors_->Add(value.mark, value.key,
                 "needs 'inputs', a list of the events or patterns it reads, e.g. "
                 "inputs: [{event: \"Form Error\", weight: 0.6, confidence: 0.9}]");
    valid = false;
  }
  if (valid) policy_->signals.push_back(std::move(signal));
}

std::optional<InputSpec> ReadingSections::ParseInput(const YamlField& item) {
  if (!item.node.IsMap()) {
    errors_->Add(item.mark, item.key,
                 "must be a map like {event: \"Form Error\", weight: 0.6, confidence: 0.9}, "
                 "found " + DescribeNode(item.node));
    return std::nullopt;
  }
  std::vector<MapEntry> fields = MapEntries(item, errors_);
  std::vector<const MapEntry*> patterns;
  for (const MapEntry& field : fields) {
    if (std::find(std::begin(kPatternKeys), std::end(kPatternKeys), field.name) !=
        std::end(kPatternKeys)) {
      patterns.push_back(&field);
    }
  }
  if (patterns.empty()) {
    errors_->Add(item.mark, item.key,
                 "needs one of event, repeat, abandon, rate_change or sequence: what it watches");
    return std::nullopt;
  }
  if (patterns.size() > 1) {
    errors_->Add(patterns[1]->key_mark, item.key,
                 fmt::format("has both '{}' and '{}'; an input is one pattern, so write two inputs",
                             patterns[0]->name, patterns[1]->name));
    return std::nullopt;
  }
  const std::string& kind = patterns[0]->name;
  std::span<const std::string_view> allowed = kEventInputKeys;
  if (kind == "repeat") allowed = kRepeatKeys;
  if (kind == "abandon") allowed = kAbandonKeys;
  if (kind == "rate_change") allowed = kRateChangeKeys;
  if (kind == "sequence") allowed = kSequenceKeys;

  InputSpec input;
  EventInput event_input;
  RepeatInput repeat;
  AbandonInput abandon;
  RateChangeInput rate;
  SequenceInput sequence;
  bool valid = true;
  const auto fail = [&valid](auto optional) {
    valid = valid && optional.has_value();
    return optional;
  };
  std::vector<std::string_view> seen;
  for (const MapEntry& field : fields) {
    const YamlField& value = field.value;
    if (std::find(allowed.begin(), allowed.end(), field.name) == allowed.end()) {
      ReportUnknownKey(field, allowed, errors_);
      valid = false;
      continue;
    }
    seen.push_back(field.name);
    if (field.name == "weight") {
      if (auto w = fail(ReadNumber(value, errors_, -100, 100))) input.weight = *w;
    } else if (field.name == "confidence") {
      if (auto c = fail(ReadNumber(value, errors_, 0, 1))) input.confidence = *c;
    } else if (field.name == "event") {
      if (auto name = fail(ReadString(value, errors_))) event_input.event = *name;
    } else if (field.name == "repeat") {
      if (auto name = fail(ReadString(value, errors_))) repeat.event = *name;
    } else if (field.name == "abandon") {
      if (auto name = fail(ReadString(value, errors_))) abandon.event = *name;
    } else if (field.name == "rate_change") {
      if (auto name = fail(ReadString(value, errors_))) rate.event = *name;
    } else if (field.name == "sequence") {
      if (auto name = fail(ReadString(value, errors_))) sequence.first = *name;
    } else if (field.name == "then") {
      if (auto name = fail(ReadString(value, errors_))) sequence.then = *name;
    } else if (field.name == "unless") {
      if (auto name = fail(ReadString(value, errors_))) abandon.unless = *name;
    } else if (field.name == "where") {
      valid = ParseWhere(value, kind == "repeat" ? &repeat.where : &event_input.where) && valid;
    } else if (field.name == "key") {
      if (auto name = fail(ReadPropertyName(value))) repeat.key = *name;
    } else if (field.name == "count") {
      if (auto n = fail(ReadInt(value, errors_, 2, kMaxRepeatCount))) repeat.count = *n;
    } else if (field.name == "within") {
      if (auto d = fail(ReadPositiveDuration(value, errors_))) {
        repeat.within = abandon.within = sequence.within = *d;
      }
    } else if (field.name == "short" || field.name == "long") {
      auto d = fail(ReadPositiveDuration(value, errors_));
      if (!d) continue;
      if (*d % kMicrosPerDay != 0) {
        errors_->Add(value.mark, value.key,
                     "rate_change windows are whole days (the baseline is kept per day), e.g. 7d");
        valid = false;
      } else if (*d > kRateChangeMaxLongDays * kMicrosPerDay) {
        errors_->Add(value.mark, value.key,
                     fmt::format("is longer than {}d, the longest baseline kept",
                                 kRateChangeMaxLongDays));
        valid = false;
      }
      (field.name == "short" ? rate.short_window : rate.long_window) = *d;
    } else if (field.name == "drop") {
      auto drop = fail(ReadNumber(value, errors_, 0, 1));
      if (drop && *drop == 0) {
        errors_->Add(value.mark, value.key, "must be above 0: 0.6 means at least 60% fewer");
        valid = false;
      } else if (drop) {
        rate.drop = *drop;
      }
    } else if (field.name == "min_baseline") {
      if (auto n = fail(ReadInt(value, errors_, 1, 1 << 20))) rate.min_baseline_count = *n;
    }
  }
  const auto require = [&](std::string_view key, std::string_view what) {
    if (std::find(seen.begin(), seen.end(), key) != seen.end()) return;
    errors_->Add(item.mark, item.key, fmt::format("a {} input needs '{}': {}", kind, key, what));
    valid = false;
  };
  if (kind == "event") {
    input.pattern = std::move(event_input);
  } else if (kind == "repeat") {
    require("within", "the window the repeats fall in, e.g. within: 5m");
    input.pattern = std::move(repeat);
  } else if (kind == "abandon") {
    require("unless", "the event that completes what was started");
    require("within", "how long to wait for it, e.g. within: 30m");
    input.pattern = std::move(abandon);
  } else if (kind == "rate_change") {
    require("short", "the recent window, e.g. short: 7d");
    require("long", "the baseline window, e.g. long: 28d");
    if (rate.short_window > 0 && rate.long_window > 0 && rate.long_window <= rate.short_window) {
      errors_->Add(item.mark, item.key, "'long' must be longer than 'short'");
      valid = false;
    }
    input.pattern = std::move(rate);
  } else {
    require("then", "the event that must follow");
    require("within", "how soon it must follow, e.g. within: 10m");
    input.pattern = std::move(sequence);
  }
  if (!valid) return std::nullopt;
  return input;
}

std::optional<std::string> ReadingSections::ReadPropertyName(const YamlField& field) {
  std::optional<std::string> written = ReadString(field, errors_);
  if (!written) return std::nullopt;
  std::string name = *written;
  if (name.starts_with(kPropertiesPrefix)) name.erase(0, kPropertiesPrefix.size());
  if (!IsName(name)) {
    errors_->Add(field.mark, field.key,
                 fmt::format("'{}' is not a property; write properties.<name> or <name>", *written));
    return std::nullopt;
  }
  if (keep_lists_valid_ && !Contains(policy_->events.keep_properties, name)) {
    errors_->Add(field.mark, field.key,
                 fmt::format("properties.{} is not kept; add '{}' to events.keep_properties", name,
                             name));
    return std::nullopt;
  }
  return name;
}

bool ReadingSections::ParseWhere(const YamlField& field, std::vector<Predicate>* where) {
  if (!ExpectMap(field, errors_)) return false;
  bool valid = true;
  for (const MapEntry& entry : MapEntries(field, errors_)) {
    YamlField name_field{YAML::Node(entry.name), entry.value.key, entry.key_mark};
    std::optional<std::string> property = ReadPropertyName(name_field);
    if (!property || !entry.value.node.IsScalar()) {
      if (property) {
        errors_->Add(entry.value.mark, entry.value.key,
                     "must be a value (\"card\"), a pattern (\"/checkout*\") or a comparison "
                     "(\">= 2\"), found " + DescribeNode(entry.value.node));
      }
      valid = false;
      continue;
    }
    absl::StatusOr<Predicate> predicate = ParsePredicate(*property, entry.value.node.Scalar());
    if (!predicate.ok()) {
      // ParsePredicate names the field itself ("where.x: ..."); the key says it here.
      const std::string full_message(predicate.status().message());
      std::string_view message = full_message;
      if (const size_t colon = message.find(": "); message.starts_with("where.") &&
                                                   colon != std::string_view::npos) {
        message.remove_prefix(colon + 2);
      }
      errors_->Add(entry.value.mark, entry.value.key, std::string(message));
      valid = false;
      continue;
    }
    const bool equality = predicate->op == Predicate::Op::kEq || predicate->op == Predicate::Op::kNe;
    if (!equality && Contains(policy_->events.hash, *property)) {
      errors_->Add(entry.value.mark, entry.value.key,
                   fmt::format("properties.{} is stored only as a keyed hash, so it can be "
                               "compared for equality but not with patterns or < >",
                               *property));
      valid = false;
      continue;
    }
    where->push_back(*std::move(predicate));
  }
  return valid;
}

// --- models ----------------------------------------------------------------

void ReadingSections::ParseModels(const YamlField& section) {
  if (!ExpectMap(section, errors_, /*allow_empty=*/true)) return;
  for (const MapEntry& entry : MapEntries(section, errors_)) ParseModel(entry);
}

void ReadingSections::ParseModel(const MapEntry& entry) {
  const YamlField& value = entry.value;
  if (!IsName(entry.name)) {
    errors_->Add(entry.key_mark, value.key,
                 "a model name is letters, digits and '_' so conditions can name it "
                 "(models.<name>.score)");
    return;
  }
  if (!ExpectMap(value, errors_)) return;
  ModelSpec model;
  model.name = entry.name;
  bool valid = true;
  std::vector<std::string> feature_texts;
  std::vector<bool> feature_readable;  // per feature_texts entry
  std::optional<YamlField> weights_field, features_field, file_field;
  bool has_algorithm = false;
  YAML::Mark algorithm_mark;
  for (const MapEntry& field : MapEntries(value, errors_)) {
    if (field.name == "description") {
      ReadString(field.value, errors_);
    } else if (field.name == "kind") {
      std::optional<std::string> kind = ReadString(field.value, errors_);
      if (kind == "logistic") {
        model.kind = ModelSpec::Kind::kLogistic;
      } else if (kind == "xgboost") {
        model.kind = ModelSpec::Kind::kXgboost;
      } else {
        if (kind) {
          errors_->Add(field.value.mark, field.value.key,
                       fmt::format("'{}' is not a model kind; write logistic or xgboost", *kind));
        }
        valid = false;
      }
    } else if (field.name == "features") {
      features_field = field.value;
    } else if (field.name == "weights") {
      weights_field = field.value;
    } else if (field.name == "file") {
      file_field = field.value;
    } else if (field.name == "min_coverage") {
      auto coverage = ReadNumber(field.value, errors_, 0, 1);
      valid = valid && coverage.has_value();
      if (coverage) model.min_coverage = *coverage;
    } else if (field.name == "learn") {
      if (!ExpectMap(field.value, errors_)) {
        valid = false;
        continue;
      }
      model.learn = true;
      bool has_label = false, has_horizon = false;
      for (const MapEntry& learn : MapEntries(field.value, errors_)) {
        if (learn.name == "label") {
          has_label = true;
          auto label = ReadString(learn.value, errors_);
          valid = valid && label.has_value();
          if (label) model.label_event = *label;
        } else if (learn.name == "horizon") {
          has_horizon = true;
          auto horizon = ReadPositiveDuration(learn.value, errors_);
          valid = valid && horizon.has_value();
          if (horizon) model.horizon = *horizon;
        } else if (learn.name == "algorithm") {
          has_algorithm = true;
          algorithm_mark = learn.value.mark;
          auto algorithm = ReadString(learn.value, errors_);
          if (algorithm && *algorithm != "ftrl") {
            errors_->Add(learn.value.mark, learn.value.key,
                         fmt::format("'{}' is not an online algorithm; the one offered is ftrl",
                                     *algorithm));
            valid = false;
          }
        } else {
          ReportUnknownKey(learn, kLearnKeys, errors_);
          valid = false;
        }
      }
      if (!has_label || !has_horizon) {
        errors_->Add(field.value.mark, field.value.key,
                     "needs 'label' (the event that makes a positive) and 'horizon' (how long "
                     "after a score it counts), e.g. {label: \"Subscription Cancelled\", "
                     "horizon: 30d}");
        valid = false;
      }
    } else {
      ReportUnknownKey(field, kModelKeys, errors_);
      valid = false;
    }
  }

  if (!features_field) {
    errors_->Add(value.mark, value.key,
                 "needs 'features', the values it reads, e.g. [signals.usage_drop.score, "
                 "traits.tenure_days]");
    valid = false;
  } else if (ExpectList(*features_field, errors_)) {
    std::vector<YamlField> items = ListItems(*features_field);
    for (size_t i = 0; i < items.size(); ++i) {
      items[i].key = fmt::format("{}[{}]", features_field->key, i);
      std::optional<std::string> text = ReadString(items[i], errors_);
      if (!text) {
        valid = false;
        continue;
      }
      if (Contains(feature_texts, *text)) {
        errors_->Add(items[i].mark, items[i].key, fmt::format("'{}' is listed twice", *text));
        valid = false;
        continue;
      }
      // Listed even when it cannot be read, so its weight is not reported too.
      feature_texts.push_back(*text);
      absl::StatusOr<PathInfo> slot = Resolve(*text, Context::kModelFeature);
      feature_readable.push_back(slot.ok());
      if (!slot.ok()) {
        errors_->Add(items[i].mark, items[i].key, std::string(slot.status().message()));
        valid = false;
        continue;
      }
      model.features.push_back(slot->slot);
    }
  } else {
    valid = false;
  }

  if (model.kind == ModelSpec::Kind::kLogistic) {
    if (file_field) {
      errors_->Add(file_field->mark, file_field->key,
                   "only xgboost models read a file; a logistic model's weights are in 'weights'");
      valid = false;
    }
    model.weights.assign(feature_texts.size(), 0.0);
    std::vector<bool> weighted(feature_texts.size(), false);
    if (weights_field && ExpectMap(*weights_field, errors_)) {
      for (const MapEntry& weight : MapEntries(*weights_field, errors_)) {
        std::optional<double> w = ReadNumber(weight.value, errors_, -1e6, 1e6);
        if (!w) {
          valid = false;
          continue;
        }
        if (weight.name == "bias") {
          model.bias = *w;
          continue;
        }
        auto it = std::find(feature_texts.begin(), feature_texts.end(), weight.name);
        if (it == feature_texts.end()) {
          errors_->Add(weight.key_mark, weight.value.key,
                       "is not one of the model's features; add it to 'features' or remove it");
          valid = false;
          continue;
        }
        model.weights[it - feature_texts.begin()] = *w;
        weighted[it - feature_texts.begin()] = true;
      }
    }
    // A model that learns may start from zero weights; one that does not
    // would silently ignore a feature it lists, which is surely a mistake.
    if (!model.learn) {
      for (size_t i = 0; i < feature_texts.size(); ++i) {
        if (weighted[i] || !feature_readable[i]) continue;
        errors_->Add(weights_field ? weights_field->mark : value.mark, value.key + ".weights",
                     fmt::format("'{}' has no weight; give it one, or add 'learn:' so the model "
                                 "learns it",
                                 feature_texts[i]));
        valid = false;
      }
    }
  } else {
    if (weights_field) {
      errors_->Add(weights_field->mark, weights_field->key,
                   "an xgboost model's trees come from its file; remove 'weights'");
      valid = false;
    }
    if (has_algorithm) {
      errors_->Add(algorithm_mark, value.key + ".learn.algorithm",
                   "xgboost models learn offline with `upfront train`; remove 'algorithm'");
      valid = false;
    }
    if (!file_field) {
      errors_->Add(value.mark, value.key,
                   "an xgboost model needs 'file', the model written by `upfront train`");
      valid = false;
    } else if (std::optional<std::string> file = ReadString(*file_field, errors_)) {
      std::filesystem::path path(*file);
      if (path.is_relative() && !policy_->source_file.empty()) {
        path = std::filesystem::path(policy_->source_file).parent_path() / path;
      }
      model.file = path.lexically_normal().string();
    } else {
      valid = false;
    }
  }
  if (valid) policy_->models.push_back(std::move(model));
}

// --- segments and conditions -------------------------------------------------

void ReadingSections::ParseSegments(const YamlField& section) {
  if (!ExpectMap(section, errors_, /*allow_empty=*/true)) return;
  for (const MapEntry& entry : MapEntries(section, errors_)) {
    if (entry.name == kDefaultSegment) {
      errors_->Add(entry.key_mark, entry.value.key,
                   "every customer no other segment matches is in 'default'; it cannot be "
                   "defined");
      continue;
    }
    if (!IsName(entry.name)) {
      errors_->Add(entry.key_mark, entry.value.key,
                   "a segment name is letters, digits and '_'");
      continue;
    }
    std::optional<Expression> condition = CompileCondition(entry.value, Context::kSegment);
    if (condition) policy_->segments.push_back({entry.name, *std::move(condition)});
  }
}

void ReadingSections::ParseInterventions(const YamlField& section) {
  if (!ExpectMap(section, errors_, /*allow_empty=*/true)) return;
  for (const MapEntry& entry : MapEntries(section, errors_)) {
    if (!ExpectMap(entry.value, errors_)) continue;
    InterventionSpec intervention;
    intervention.name = entry.name;
    std::optional<YamlField> when;
    bool valid = true;
    const auto take = [&valid](auto optional, auto* target) {
      valid = valid && optional.has_value();
      if (optional) *target = *optional;
    };
    for (const MapEntry& field : MapEntries(entry.value, errors_)) {
      const YamlField& value = field.value;
      if (field.name == "when") {
        when = value;
      } else if (field.name == "threshold") {
        ParseThreshold(value, &intervention);
      } else if (field.name == "min_confidence") {
        take(ReadNumber(value, errors_, 0, 1), &intervention.min_confidence);
      } else if (field.name == "low_confidence") {
        std::optional<std::string> choice = ReadString(value, errors_);
        if (choice == "ask_confirm") {
          intervention.low_confidence = LowConfidence::kAskConfirm;
        } else if (choice == "review") {
          intervention.low_confidence = LowConfidence::kReview;
        } else if (choice == "skip") {
          intervention.low_confidence = LowConfidence::kSkip;
        } else {
          if (choice) {
            errors_->Add(value.mark, value.key,
                         fmt::format("'{}' is not a choice; write ask_confirm, review or skip",
                                     *choice));
          }
          valid = false;
        }
      } else if (field.name == "goal") {
        take(ReadString(value, errors_), &intervention.goal);
      } else if (field.name == "priority") {
        take(ReadNumber(value, errors_, 0, 1e6), &intervention.priority);
      } else if (field.name == "value") {
        take(ReadNumber(value, errors_, 0, 1e12), &intervention.value);
      } else if (field.name == "cooldown") {
        take(ReadPositiveDuration(value, errors_), &intervention.cooldown);
      } else if (field.name == "sensitive") {
        bool sensitive = false;
        if (value.node.IsScalar() && YAML::convert<bool>::decode(value.node, sensitive)) {
          intervention.sensitive = sensitive;
        } else {
          errors_->Add(value.mark, value.key, "must be true or false");
          valid = false;
        }
      } else if (field.name == "benefit") {
        take(ReadString(value, errors_), &intervention.benefit);
      } else if (field.name == "description") {
        ReadString(value, errors_);
      } else if (field.name == "tone") {
        ParseTone(value, &intervention);
      } else if (field.name == "ladder") {
        valid = ParseLadder(value, &intervention) && valid;
      } else {
        static constexpr std::string_view kKeys[] = {
            "when",    "threshold", "min_confidence", "low_confidence", "goal",   "priority",
            "value",   "cooldown",  "sensitive",      "benefit",        "ladder", "tone",
            "description"};
        ReportUnknownKey(field, kKeys, errors_);
        valid = false;
      }
    }
    if (!when) {
      errors_->Add(entry.value.mark, entry.value.key,
                   "needs 'when', the condition for acting, e.g. "
                   "when: 'signals.checkout_friction.score >= threshold'");
      continue;
    }
    if (intervention.ladder.empty() && valid) {
      errors_->Add(entry.value.mark, entry.value.key,
                   "needs 'ladder', the steps to take, e.g. "
                   "ladder: [{channel: in_app, template: my_tip}]");
      valid = false;
    }
    std::optional<Expression> condition = CompileCondition(*when, Context::kCondition);
    if (!condition) continue;
    const bool reads_threshold =
        std::any_of(condition->slots().begin(), condition->slots().end(), [&](int slot) {
          return policy_->paths[slot].kind == ValuePath::Kind::kThreshold;
        });
    if (reads_threshold && intervention.threshold.empty()) {
      errors_->Add(when->mark, when->key,
                   "reads 'threshold' but the intervention sets none; add e.g. "
                   "threshold: {default: 0.6}");
      continue;
    }
    intervention.when = *std::move(condition);
    if (valid) policy_->interventions.push_back(std::move(intervention));
  }
}

bool ReadingSections::ParseLadder(const YamlField& field, InterventionSpec* intervention) {
  if (!ExpectList(field, errors_)) return false;
  bool valid = true;
  std::vector<YamlField> items = ListItems(field);
  for (size_t i = 0; i < items.size(); ++i) {
    YamlField& item = items[i];
    item.key = fmt::format("{}[{}]", field.key, i);
    if (!ExpectMap(item, errors_)) {
      valid = false;
      continue;
    }
    LadderStep step;
    bool has_after = false;
    for (const MapEntry& key : MapEntries(item, errors_)) {
      if (key.name == "channel") {
        std::optional<std::string> channel = ReadString(key.value, errors_);
        if (channel && policy_->FindChannel(*channel) == nullptr) {
          errors_->Add(key.value.mark, key.value.key,
                       fmt::format("'{}' is not a channel; the channels are: {}", *channel,
                                   NamesOf(policy_->channels)));
          channel.reset();
        }
        if (!channel) valid = false;
        step.channel = channel.value_or("");
      } else if (key.name == "template") {
        std::optional<std::string> name = ReadString(key.value, errors_);
        if (name && policy_->FindTemplate(*name) == nullptr) {
          errors_->Add(key.value.mark, key.value.key,
                       fmt::format("'{}' is not a template; the templates are: {}", *name,
                                   NamesOf(policy_->templates)));
          name.reset();
        }
        if (!name) valid = false;
        step.template_name = name.value_or("");
      } else if (key.name == "after") {
        has_after = true;
        std::optional<Micros> after = ReadPositiveDuration(key.value, errors_);
        if (!after) valid = false;
        step.after = after.value_or(0);
        if (i == 0) {
          errors_->Add(key.value.mark, key.value.key,
                       "the first step goes out when the condition holds; 'after' belongs to "
                       "later steps");
          valid = false;
        }
      } else {
        static constexpr std::string_view kKeys[] = {"channel", "template", "after"};
        ReportUnknownKey(key, kKeys, errors_);
        valid = false;
      }
    }
    if (step.channel.empty() || step.template_name.empty()) {
      if (valid) {
        errors_->Add(item.mark, item.key, "a step needs 'channel' and 'template'");
      }
      valid = false;
    }
    if (i > 0 && !has_after) {
      errors_->Add(item.mark, item.key,
                   "a later step needs 'after', how long the condition must persist first, "
                   "e.g. after: 1h");
      valid = false;
    }
    intervention->ladder.push_back(std::move(step));
  }
  return valid;
}

void ReadingSections::ParseTone(const YamlField& field, InterventionSpec* intervention) {
  if (field.node.IsScalar()) {
    if (auto tone = ReadString(field, errors_)) intervention->tone.emplace(kDefaultSegment, *tone);
    return;
  }
  if (!ExpectMap(field, errors_)) return;
  for (const MapEntry& entry : MapEntries(field, errors_)) {
    if (auto tone = ReadString(entry.value, errors_)) intervention->tone.emplace(entry.name, *tone);
  }
}

void ReadingSections::ParseThreshold(const YamlField& field, InterventionSpec* intervention) {
  if (field.node.IsScalar()) {
    if (auto value = ReadNumber(field, errors_)) {
      intervention->threshold.emplace(kDefaultSegment, *value);
    }
    return;
  }
  if (!ExpectMap(field, errors_)) return;
  for (const MapEntry& entry : MapEntries(field, errors_)) {
    const bool known = entry.name == kDefaultSegment ||
                       std::any_of(policy_->segments.begin(), policy_->segments.end(),
                                   [&](const SegmentSpec& s) { return s.name == entry.name; });
    if (!known) {
      errors_->Add(entry.key_mark, entry.value.key,
                   fmt::format("'{}' is not a segment; the segments are default, {}", entry.name,
                               NamesOf(policy_->segments)));
      continue;
    }
    if (auto value = ReadNumber(entry.value, errors_)) {
      intervention->threshold.emplace(entry.name, *value);
    }
  }
  if (!intervention->threshold.empty() && !intervention->threshold.contains(kDefaultSegment)) {
    errors_->Add(field.mark, field.key,
                 "needs a 'default' value for customers in no listed segment");
  }
}

std::optional<Expression> ReadingSections::CompileCondition(const YamlField& field,
                                                            Context context) {
  std::optional<std::string> text = ReadString(field, errors_);
  if (!text) return std::nullopt;
  absl::StatusOr<Expression> compiled = Expression::Compile(
      *text, [&](std::string_view path) { return Resolve(path, context); });
  if (compiled.ok()) return *std::move(compiled);
  // Expression errors read "column N: reason"; point the mark at column N.
  const std::string full_message(compiled.status().message());
  std::string_view message = full_message;
  int column = 0;
  if (message.starts_with("column ")) {
    const char* begin = message.data() + 7;
    auto [end, ec] = std::from_chars(begin, message.data() + message.size(), column);
    if (ec == std::errc() && std::string_view(end, 2) == ": ") {
      message.remove_prefix(end + 2 - message.data());
    } else {
      column = 0;
    }
  }
  errors_->Add(MarkInsideScalar(field, column), field.key, std::string(message));
  return std::nullopt;
}

// --- value paths -------------------------------------------------------------

absl::StatusOr<PathInfo> ReadingSections::Resolve(std::string_view path, Context context) {
  UPFRONT_ASSIGN_OR_RETURN(ValuePath described, Describe(path, context));
  std::vector<ValuePath>& paths = policy_->paths;
  auto it = std::find_if(paths.begin(), paths.end(),
                         [&](const ValuePath& p) { return p.text == described.text; });
  const ValueType type =
      described.kind == ValuePath::Kind::kTrait ? ValueType::kAny : ValueType::kNumber;
  if (it != paths.end()) return PathInfo{static_cast<int>(it - paths.begin()), type};
  if (described.kind == ValuePath::Kind::kCount) AddCounter(described);
  paths.push_back(std::move(described));
  return PathInfo{static_cast<int>(paths.size() - 1), type};
}

absl::StatusOr<ValuePath> ReadingSections::Describe(std::string_view text, Context context) const {
  ValuePath path;
  path.text = std::string(text);
  std::vector<std::string_view> parts;
  for (size_t start = 0;;) {
    const size_t dot = text.find('.', start);
    parts.push_back(text.substr(start, dot == std::string_view::npos ? dot : dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  const std::string_view root = parts[0];
  const auto invalid = [](std::string message) { return absl::InvalidArgumentError(message); };

  if (root == "threshold" && parts.size() == 1) {
    if (context != Context::kCondition) {
      return invalid("'threshold' is only defined in an intervention's when:");
    }
    path.kind = ValuePath::Kind::kThreshold;
    return path;
  }
  if (root == "signals" || root == "models") {
    const bool signal = root == "signals";
    if (parts.size() != 3 || (parts[2] != "score" && parts[2] != "confidence")) {
      return invalid(fmt::format("'{}' must be written {}.<name>.score or {}.<name>.confidence",
                                 text, root, root));
    }
    path.name = std::string(parts[1]);
    if (signal) {
      const auto& signals = policy_->signals;
      if (std::none_of(signals.begin(), signals.end(),
                       [&](const SignalSpec& s) { return s.name == path.name; })) {
        return invalid(fmt::format("unknown signal '{}'; the signals are: {}", path.name,
                                   NamesOf(signals)));
      }
      path.kind = parts[2] == "score" ? ValuePath::Kind::kSignalScore
                                      : ValuePath::Kind::kSignalConfidence;
      return path;
    }
    if (context == Context::kModelFeature) {
      return invalid(fmt::format("'{}': a model feature cannot read another model", text));
    }
    const auto& models = policy_->models;
    if (std::none_of(models.begin(), models.end(),
                     [&](const ModelSpec& m) { return m.name == path.name; })) {
      return invalid(
          fmt::format("unknown model '{}'; the models are: {}", path.name, NamesOf(models)));
    }
    path.kind = parts[2] == "score" ? ValuePath::Kind::kModelScore
                                    : ValuePath::Kind::kModelConfidence;
    return path;
  }
  if (root == "traits") {
    if (parts.size() != 2 || parts[1].empty()) {
      return invalid(fmt::format("'{}' must be written traits.<name>", text));
    }
    path.kind = ValuePath::Kind::kTrait;
    path.name = std::string(parts[1]);
    if (Contains(policy_->sensitive_traits, path.name)) {
      return invalid(fmt::format(
          "traits.{} is listed in sensitive_traits and must never drive a decision", path.name));
    }
    if (keep_lists_valid_ && !Contains(policy_->events.keep_traits, path.name)) {
      return invalid(fmt::format("traits.{} is not kept; add '{}' to events.keep_traits",
                                 path.name, path.name));
    }
    if (Contains(policy_->events.hash, path.name)) {
      return invalid(fmt::format(
          "traits.{} is stored only as a keyed hash, so conditions cannot read it", path.name));
    }
    return path;
  }
  if (root == "counts") {
    if (parts.size() != 3) {
      return invalid(fmt::format(
          "'{}' must be written counts.<outcome role or event>.<window>, e.g. "
          "counts.contact_opened.30d",
          text));
    }
    path.kind = ValuePath::Kind::kCount;
    path.name = std::string(parts[1]);
    absl::StatusOr<Micros> window = ParseDuration(parts[2]);
    if (!window.ok()) return invalid(fmt::format("'{}': {}", text, std::string(window.status().message())));
    if (absl::Status countable = CheckCountWindow(*window); !countable.ok()) {
      return invalid(fmt::format("'{}': {}", text, std::string(countable.message())));
    }
    path.window = *window;
    if (std::optional<OutcomeRole> role = OutcomeRoleFromName(path.name);
        role && policy_->FindOutcome(*role) == nullptr) {
      return invalid(fmt::format(
          "counts.{} counts the outcome role {}, which outcomes: does not map to an event",
          path.name, path.name));
    }
    return path;
  }
  return invalid(fmt::format(
      "unknown value '{}'; values are signals.<name>.score|confidence, "
      "models.<name>.score|confidence, traits.<name>, counts.<event>.<window> and threshold",
      text));
}

void ReadingSections::AddCounter(const ValuePath& path) {
  std::vector<CounterSpec>& counters = policy_->counters;
  auto it = std::find_if(counters.begin(), counters.end(),
                         [&](const CounterSpec& c) { return c.name == path.name; });
  if (it == counters.end()) {
    CounterSpec counter;
    counter.name = path.name;
    counter.event = path.name;
    if (std::optional<OutcomeRole> role = OutcomeRoleFromName(path.name)) {
      counter.event = policy_->FindOutcome(*role)->event;
    }
    counters.push_back(std::move(counter));
    it = counters.end() - 1;
  }
  if (std::find(it->windows.begin(), it->windows.end(), path.window) == it->windows.end()) {
    it->windows.push_back(path.window);
  }
}

}  // namespace upfront::policy_internal
