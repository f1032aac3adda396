// The sections that say how the engine reads a customer: `sensitive_traits`,
// `signals`, `models`, `segments`, and the conditions of `interventions`.
// They share one table of value paths (signals.X.score, traits.T, counts.E.W,
// ...) so every condition and model feature is resolved once, with errors
// located in the file, and sensitive traits are refused everywhere alike.
//
// Internal to src/policy; the loader calls these after `events` and
// `outcomes`, in this order: sensitive traits, signals, models, segments,
// interventions (each may read what the previous ones defined).
#pragma once

#include "src/policy/yaml_fields.h"
#include "upfront/policy.h"

namespace upfront::policy_internal {

class ReadingSections {
 public:
  // `policy` already holds its events and outcomes; `keep_lists_valid` is
  // false when a keep list had errors (then "is not kept" is not reported).
  ReadingSections(Policy* policy, ErrorCollector* errors, bool keep_lists_valid)
      : policy_(policy), errors_(errors), keep_lists_valid_(keep_lists_valid) {}

  void ParseSensitiveTraits(const YamlField& section);
  void ParseSignals(const YamlField& section);
  void ParseModels(const YamlField& section);
  void ParseSegments(const YamlField& section);
  void ParseInterventions(const YamlField& section);
  // Also for experiment variants, which override these of an intervention.
  void ParseThreshold(const YamlField& field, InterventionSpec* intervention);
  bool ParseLadder(const YamlField& field, InterventionSpec* intervention);

 private:
  enum class Context { kModelFeature, kSegment, kCondition };

  void ParseSignal(const MapEntry& entry);
  std::optional<InputSpec> ParseInput(const YamlField& item);
  bool ParseWhere(const YamlField& field, std::vector<Predicate>* where);
  std::optional<std::string> ReadPropertyName(const YamlField& field);
  void ParseModel(const MapEntry& entry);
  std::optional<Expression> CompileCondition(const YamlField& field, Context context);
  void ParseTone(const YamlField& field, InterventionSpec* intervention);

  // The slot of `path` in policy_->paths, adding it on first use, or an error
  // in the user's words.
  absl::StatusOr<PathInfo> Resolve(std::string_view path, Context context);
  absl::StatusOr<ValuePath> Describe(std::string_view path, Context context) const;
  void AddCounter(const ValuePath& path);

  Policy* policy_;
  ErrorCollector* errors_;
  bool keep_lists_valid_;
};

}  // namespace upfront::policy_internal
