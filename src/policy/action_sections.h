// The sections that say how the engine acts: `channels` (beyond consent,
// which the loader reads with the events), `moderation` and `templates`.
// Interventions, which also hold conditions, are read by ReadingSections.
//
// Internal to src/policy; the loader calls these after the signals (templates
// may name signals in {{evidence.X...}}).
#pragma once

#include <functional>

#include "src/policy/yaml_fields.h"
#include "upfront/policy.h"

namespace upfront::policy_internal {

class ActionSections {
 public:
  ActionSections(Policy* policy, ErrorCollector* errors, bool keep_lists_valid)
      : policy_(policy), errors_(errors), keep_lists_valid_(keep_lists_valid) {}

  // `consent` values go to `on_consent` (the loader checks them against the
  // kept traits); the channel's consent_trait is set only when it accepts.
  void ParseChannels(const YamlField& section,
                     const std::function<bool(const std::string& channel, const YamlField& consent)>&
                         on_consent);
  void ParseModeration(const YamlField& section);
  void ParseTemplates(const YamlField& section);

 private:
  std::optional<TemplateText> ParseTemplateText(const YamlField& field);
  void ParseTexts(const YamlField& field, TemplateSpec::Texts* texts, bool allow_variants,
                  TemplateSpec* spec);
  // Why a {{variable}} cannot be rendered; empty when it can.
  std::string CheckVariable(std::string_view path) const;

  Policy* policy_;
  ErrorCollector* errors_;
  bool keep_lists_valid_;
};

// "HH:MM" -> minutes after midnight.
std::optional<int> ParseTimeOfDay(std::string_view text);

}  // namespace upfront::policy_internal
