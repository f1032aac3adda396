// The sections that say how the engine acts: `channels` (beyond consent,
// which the loader reads with the events), `webhooks`, `moderation` and
// `templates`.
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
  // `webhooks.<name>: {url, secret_env | secret, timeout}`.
  void ParseWebhooks(const YamlField& section);
  // Reports each channel whose `webhook:` names no webhook. Call after
  // ParseChannels and ParseWebhooks. `webhooks_declared`: the policy has a
  // `webhooks:` section; without one, channel webhooks are not checked (see
  // the .cc for why).
  void CheckChannelWebhooks(bool webhooks_declared);
  void ParseModeration(const YamlField& section);
  // Moderation values over `moderation` as it stands (an experiment variant's).
  void ParseModerationInto(const YamlField& section, ModerationSpec* moderation);
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
  // Each channel's `webhook:` value, checked once the webhooks are read.
  std::vector<YamlField> channel_webhooks_;
  // Every webhook written, including those with errors, so a channel naming a
  // broken one is not also reported as naming a missing one.
  std::vector<std::string> webhook_names_;
};

// Why `url` cannot be a webhook URL (scheme http or https, a host, an optional
// port, an optional path); empty when it can.
std::string CheckWebhookUrl(std::string_view url);

// Why `secret` is not a Standard Webhooks secret ("whsec_" and the base64 of
// 24 to 64 bytes); empty when it is.
std::string CheckWebhookSecret(std::string_view secret);

// "HH:MM" -> minutes after midnight.
std::optional<int> ParseTimeOfDay(std::string_view text);

}  // namespace upfront::policy_internal
