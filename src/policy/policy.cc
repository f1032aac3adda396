#include "upfront/policy.h"

#include "absl/strings/str_cat.h"
#include "src/policy/outcome_roles.h"

namespace upfront {

std::string PolicyError::ToString() const {
  std::string out = file;
  if (line > 0) {
    absl::StrAppend(&out, ":", line);
    if (column > 0) absl::StrAppend(&out, ":", column);
  }
  if (!out.empty()) out += ": ";
  if (!key.empty()) absl::StrAppend(&out, key, ": ");
  out += message;
  return out;
}

std::string_view OutcomeRoleName(OutcomeRole role) {
  const int index = static_cast<int>(role);
  if (index < 0 || index >= kOutcomeRoleCount) return "unknown";
  return policy_internal::kOutcomeRoleNames[index];
}

const ChannelSpec* Policy::FindChannel(std::string_view name) const {
  for (const ChannelSpec& channel : channels) {
    if (channel.name == name) return &channel;
  }
  return nullptr;
}

const TemplateSpec* Policy::FindTemplate(std::string_view name) const {
  for (const TemplateSpec& t : templates) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

const OutcomeRule* Policy::FindOutcome(OutcomeRole role) const {
  for (const OutcomeRule& rule : outcomes) {
    if (rule.role == role) return &rule;
  }
  return nullptr;
}

}  // namespace upfront
