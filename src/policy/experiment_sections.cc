#include "src/policy/experiment_sections.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <set>

namespace upfront::policy_internal {
namespace {

constexpr std::string_view kMetricNames[] = {
    "csat",           "csat_mean",     "nps",          "ces",
    "fcr",            "recontact_7d",  "recontact_14d", "time_to_resolve_hours",
    "contacts_per_customer", "ltv",    "drop_off_rate", "opt_out_rate",
    "complaint_rate", "acceptance_rate", "dismissal_rate", "actions_per_customer_day",
};

constexpr std::string_view kExperimentKeys[] = {"intervention", "variants", "salt"};
constexpr std::string_view kVariantKeys[] = {"share", "threshold", "templates", "ladder", "moderation"};
constexpr std::string_view kHoldoutKeys[] = {"share", "salt"};

template <typename T>
std::string NamesOf(const std::vector<T>& items) {
  std::vector<std::string_view> names;
  for (const T& item : items) names.push_back(item.name);
  return names.empty() ? std::string("none") : fmt::format("{}", fmt::join(names, ", "));
}

}  // namespace

std::span<const std::string_view> ScorecardMetricNames() { return kMetricNames; }

void ExperimentSections::ParseExperiments(const YamlField& section) {
  if (!ExpectMap(section, errors_, /*allow_empty=*/true)) return;
  for (const MapEntry& entry : MapEntries(section, errors_)) {
    if (entry.name == "holdout") {
      ParseHoldout(entry.value);
    } else {
      ParseExperiment(entry);
    }
  }
}

void ExperimentSections::ParseHoldout(const YamlField& field) {
  if (!ExpectMap(field, errors_)) return;
  for (const MapEntry& entry : MapEntries(field, errors_)) {
    if (entry.name == "share") {
      // More than half held out would leave the treatment the smaller arm:
      // almost certainly a typo for a percentage.
      if (auto share = ReadNumber(entry.value, errors_, 0, 0.5)) policy_->holdout.share = *share;
    } else if (entry.name == "salt") {
      if (auto salt = ReadString(entry.value, errors_)) policy_->holdout.salt = *salt;
    } else {
      ReportUnknownKey(entry, kHoldoutKeys, errors_);
    }
  }
}

void ExperimentSections::ParseExperiment(const MapEntry& entry) {
  const YamlField& field = entry.value;
  if (!ExpectMap(field, errors_)) return;
  ExperimentSpec experiment;
  experiment.name = entry.name;
  experiment.salt = entry.name;
  std::optional<YamlField> variants;
  bool has_intervention = false;
  for (const MapEntry& key : MapEntries(field, errors_)) {
    if (key.name == "intervention") {
      has_intervention = true;
      std::optional<std::string> name = ReadString(key.value, errors_);
      if (!name) continue;
      const auto& list = policy_->interventions;
      auto it = std::find_if(list.begin(), list.end(), [&](const InterventionSpec& i) { return i.name == *name; });
      if (it == list.end()) {
        errors_->Add(key.value.mark, key.value.key,
                     fmt::format("'{}' is not an intervention; the interventions are: {}", *name, NamesOf(list)));
        continue;
      }
      const int index = static_cast<int>(it - list.begin());
      for (const ExperimentSpec& other : policy_->experiments) {
        if (other.intervention == index) {
          errors_->Add(key.value.mark, key.value.key,
                       fmt::format("'{}' is already tested by experiment '{}'; an intervention is in one "
                                   "experiment at a time",
                                   *name, other.name));
        }
      }
      experiment.intervention = index;
    } else if (key.name == "salt") {
      if (auto salt = ReadString(key.value, errors_)) experiment.salt = *salt;
    } else if (key.name == "variants") {
      variants = key.value;
    } else {
      ReportUnknownKey(key, kExperimentKeys, errors_);
    }
  }
  if (!has_intervention) {
    errors_->Add(field.mark, field.key, "needs 'intervention', the intervention it tests");
    return;
  }
  if (!variants) {
    errors_->Add(field.mark, field.key,
                 "needs 'variants', e.g. variants: {control: {share: 0.5}, lower: {share: 0.5, "
                 "threshold: {default: 0.5}}}");
    return;
  }
  if (experiment.intervention < 0 || !ExpectMap(*variants, errors_)) return;
  const InterventionSpec& intervention = policy_->interventions[experiment.intervention];
  double total = 0;
  bool valid = true;
  for (const MapEntry& v : MapEntries(*variants, errors_)) {
    std::optional<VariantSpec> variant = ParseVariant(v, intervention);
    if (!variant) {
      valid = false;
      continue;
    }
    total += variant->share;
    experiment.variants.push_back(*std::move(variant));
  }
  if (!valid) return;
  if (experiment.variants.size() < 2) {
    errors_->Add(variants->mark, variants->key, "needs at least two variants: the first is the control");
    return;
  }
  if (std::abs(total - 1.0) > 1e-6) {
    errors_->Add(variants->mark, variants->key,
                 fmt::format("the variants' shares add up to {:g}; they must add up to 1", total));
    return;
  }
  policy_->experiments.push_back(std::move(experiment));
}

std::optional<VariantSpec> ExperimentSections::ParseVariant(const MapEntry& entry,
                                                            const InterventionSpec& intervention) {
  const YamlField& field = entry.value;
  if (!ExpectMap(field, errors_)) return std::nullopt;
  VariantSpec variant;
  variant.name = entry.name;
  bool valid = true;
  bool has_share = false;
  const size_t errors_before = errors_->size();
  for (const MapEntry& key : MapEntries(field, errors_)) {
    if (key.name == "share") {
      has_share = true;
      if (auto share = ReadNumber(key.value, errors_, 0, 1)) variant.share = *share;
    } else if (key.name == "threshold") {
      InterventionSpec scratch;
      reading_->ParseThreshold(key.value, &scratch);
      variant.threshold = std::move(scratch.threshold);
    } else if (key.name == "ladder") {
      InterventionSpec scratch;
      if (!reading_->ParseLadder(key.value, &scratch)) continue;
      if (scratch.ladder.size() != intervention.ladder.size()) {
        // The decision state counts steps; a ladder of another length would
        // misread a customer's step after a policy change. A variant may
        // change each step's channel, template and delay, not their number.
        errors_->Add(key.value.mark, key.value.key,
                     fmt::format("has {} steps; the intervention's ladder has {}, and a variant keeps the "
                                 "number of steps",
                                 scratch.ladder.size(), intervention.ladder.size()));
        continue;
      }
      variant.ladder = std::move(scratch.ladder);
    } else if (key.name == "templates") {
      if (!ExpectMap(key.value, errors_)) continue;
      for (const MapEntry& t : MapEntries(key.value, errors_)) {
        const bool used = std::any_of(intervention.ladder.begin(), intervention.ladder.end(),
                                      [&](const LadderStep& s) { return s.template_name == t.name; });
        if (!used) {
          errors_->Add(t.key_mark, t.value.key,
                       fmt::format("'{}' is not a template of intervention '{}'", t.name, intervention.name));
          continue;
        }
        std::optional<std::string> replacement = ReadString(t.value, errors_);
        if (!replacement) continue;
        if (policy_->FindTemplate(*replacement) == nullptr) {
          errors_->Add(t.value.mark, t.value.key,
                       fmt::format("'{}' is not a template; the templates are: {}", *replacement,
                                   NamesOf(policy_->templates)));
          continue;
        }
        variant.templates.emplace(t.name, *replacement);
      }
    } else if (key.name == "moderation") {
      variant.overrides_moderation = true;
      variant.moderation = policy_->moderation;
      actions_->ParseModerationInto(key.value, &variant.moderation);
    } else {
      ReportUnknownKey(key, kVariantKeys, errors_);
    }
  }
  if (!has_share) errors_->Add(field.mark, field.key, "needs 'share', its part of the experiment (0 to 1)");
  valid = valid && has_share && errors_->size() == errors_before;
  if (!valid) return std::nullopt;
  return variant;
}

void ExperimentSections::ParseTargets(const YamlField& section) {
  if (!ExpectMap(section, errors_, /*allow_empty=*/true)) return;
  const auto is_segment = [&](std::string_view name) {
    return name == kDefaultSegment || std::any_of(policy_->segments.begin(), policy_->segments.end(),
                                                  [&](const SegmentSpec& s) { return s.name == name; });
  };
  for (const MapEntry& entry : MapEntries(section, errors_)) {
    if (std::find(std::begin(kMetricNames), std::end(kMetricNames), entry.name) == std::end(kMetricNames)) {
      ReportUnknownKey(entry, kMetricNames, errors_);
      continue;
    }
    const YamlField& value = entry.value;
    if (value.node.IsScalar()) {
      if (auto goal = ReadNumber(value, errors_)) {
        policy_->targets.push_back({entry.name, "", "", *goal, value.key});
      }
      continue;
    }
    if (!ExpectMap(value, errors_)) continue;
    for (const MapEntry& key : MapEntries(value, errors_)) {
      if (key.name == "channels") {
        if (!ExpectMap(key.value, errors_)) continue;
        for (const MapEntry& channel : MapEntries(key.value, errors_)) {
          if (auto goal = ReadNumber(channel.value, errors_)) {
            policy_->targets.push_back({entry.name, "", channel.name, *goal, channel.value.key});
          }
        }
      } else if (is_segment(key.name)) {
        if (auto goal = ReadNumber(key.value, errors_)) {
          policy_->targets.push_back(
              {entry.name, key.name == kDefaultSegment ? "" : key.name, "", *goal, key.value.key});
        }
      } else {
        errors_->Add(key.key_mark, key.value.key,
                     fmt::format("'{}' is not a segment; write default, a segment ({}) or channels: "
                                 "{{CHANNEL: goal}}",
                                 key.name, NamesOf(policy_->segments)));
      }
    }
  }
}

}  // namespace upfront::policy_internal
