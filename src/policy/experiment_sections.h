// The sections that say how the engine is measured: `experiments` (the
// holdout and A/B tests of interventions, whose variants override an
// intervention's threshold, templates, ladder or moderation) and `targets`
// (goals for the scorecard's metrics).
//
// Internal to src/policy; the loader calls these last, once interventions,
// templates and moderation are read.
#pragma once

#include "src/policy/action_sections.h"
#include "src/policy/reading_sections.h"
#include "src/policy/yaml_fields.h"
#include "upfront/policy.h"

namespace upfront::policy_internal {

// The metric names a target may name (docs/metrics.md).
std::span<const std::string_view> ScorecardMetricNames();

class ExperimentSections {
 public:
  ExperimentSections(Policy* policy, ErrorCollector* errors, ReadingSections* reading,
                     ActionSections* actions)
      : policy_(policy), errors_(errors), reading_(reading), actions_(actions) {}

  void ParseExperiments(const YamlField& section);
  void ParseTargets(const YamlField& section);

 private:
  void ParseHoldout(const YamlField& field);
  void ParseExperiment(const MapEntry& entry);
  std::optional<VariantSpec> ParseVariant(const MapEntry& entry, const InterventionSpec& intervention);

  Policy* policy_;
  ErrorCollector* errors_;
  ReadingSections* reading_;
  ActionSections* actions_;
};

}  // namespace upfront::policy_internal
