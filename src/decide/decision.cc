#include "src/decide/decision.h"

#include "src/common/time_format.h"

namespace upfront {

nlohmann::json DecisionToJson(const Decision& d) {
  nlohmann::json trigger = nlohmann::json::object();
  if (d.trigger_message_id.empty()) {
    trigger["timer"] = d.trigger_timer;
  } else {
    trigger["message_id"] = d.trigger_message_id;
  }
  nlohmann::json signals = nlohmann::json::object();
  for (const Decision::SignalValue& s : d.signals) {
    signals[s.name] = {{"score", s.score}, {"confidence", s.confidence}};
  }
  nlohmann::json models = nlohmann::json::object();
  for (const Decision::ModelValue& m : d.models) {
    models[m.name] = {{"score", m.available ? nlohmann::json(m.score) : nlohmann::json(nullptr)},
                      {"confidence", m.confidence},
                      {"version", m.version}};
  }
  nlohmann::json blocked = nlohmann::json::array();
  for (const Decision::Blocked& b : d.blocked) {
    nlohmann::json item = {{"intervention", b.intervention}, {"reason", b.reason}};
    if (b.retry_at != 0) item["retry_at"] = FormatTimestamp(b.retry_at);
    blocked.push_back(std::move(item));
  }
  nlohmann::json out = {
      {"decision_id", d.id},
      {"customer", d.customer},
      {"at", FormatTimestamp(d.at)},
      {"trigger", std::move(trigger)},
      {"segment", d.segment},
      {"cohort", d.cohort},
      {"action", d.action},
      {"intervention", d.intervention.empty() ? nlohmann::json(nullptr) : nlohmann::json(d.intervention)},
      {"step", d.step < 0 ? nlohmann::json(nullptr) : nlohmann::json(d.step)},
      {"channel", d.channel.empty() ? nlohmann::json(nullptr) : nlohmann::json(d.channel)},
      {"template", d.template_name.empty() ? nlohmann::json(nullptr) : nlohmann::json(d.template_name)},
      {"message", d.message.empty() ? nlohmann::json(nullptr) : nlohmann::json(d.message)},
      {"explanation",
       d.action == "none" ? nlohmann::json(nullptr)
                          : nlohmann::json{{"why", d.why},
                                           {"benefit", d.benefit},
                                           {"options", d.options},
                                           {"confidence", d.confidence}}},
      {"confidence", d.confidence},
      {"priority", d.priority},
      {"signals", std::move(signals)},
      {"models", std::move(models)},
      {"blocked", std::move(blocked)},
      {"missing", d.missing},
      {"policy_version", d.policy_version},
      {"policy_hash", d.policy_hash},
  };
  if (!d.subject.empty()) out["subject"] = d.subject;
  return out;
}

}  // namespace upfront
