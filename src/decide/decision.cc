#include "src/decide/decision.h"

#include <cmath>
#include <iterator>

#include <fmt/format.h>

#include "src/common/time_format.h"
#include "src/event/event_json.h"

namespace upfront {

namespace {

// Shortest text that reads back as the same double; JSON has no NaN or inf.
void AppendNumber(double v, std::string* out) {
  if (!std::isfinite(v)) {
    out->append("null");
    return;
  }
  fmt::format_to(std::back_inserter(*out), "{}", v);
}

void AppendKey(std::string_view key, std::string* out) {
  out->push_back('"');
  out->append(key);
  out->append("\":");
}

void AppendStringOrNull(std::string_view value, std::string* out) {
  if (value.empty()) {
    out->append("null");
  } else {
    AppendJsonString(value, out);
  }
}

}  // namespace

void AppendDecisionJson(const Decision& d, std::string* out) {
  out->clear();
  out->push_back('{');
  AppendKey("decision_id", out);
  AppendJsonString(d.id, out);
  out->push_back(',');
  AppendKey("customer", out);
  AppendJsonString(d.customer, out);
  out->push_back(',');
  AppendKey("at", out);
  out->push_back('"');
  AppendTimestamp(d.at, out);
  out->append("\",");
  AppendKey("trigger", out);
  out->push_back('{');
  if (d.trigger_message_id.empty()) {
    AppendKey("timer", out);
    AppendJsonString(d.trigger_timer, out);
  } else {
    AppendKey("message_id", out);
    AppendJsonString(d.trigger_message_id, out);
  }
  out->append("},");
  AppendKey("segment", out);
  AppendJsonString(d.segment, out);
  out->push_back(',');
  AppendKey("cohort", out);
  AppendJsonString(d.cohort, out);
  out->push_back(',');
  AppendKey("action", out);
  AppendJsonString(d.action, out);
  out->push_back(',');
  AppendKey("intervention", out);
  AppendStringOrNull(d.intervention, out);
  out->push_back(',');
  AppendKey("step", out);
  if (d.step < 0) {
    out->append("null");
  } else {
    fmt::format_to(std::back_inserter(*out), "{}", d.step);
  }
  out->push_back(',');
  AppendKey("channel", out);
  AppendStringOrNull(d.channel, out);
  out->push_back(',');
  AppendKey("template", out);
  AppendStringOrNull(d.template_name, out);
  out->push_back(',');
  AppendKey("message", out);
  AppendStringOrNull(d.message, out);
  out->push_back(',');
  if (!d.subject.empty()) {
    AppendKey("subject", out);
    AppendJsonString(d.subject, out);
    out->push_back(',');
  }
  AppendKey("explanation", out);
  if (d.action == "none") {
    out->append("null");
  } else {
    out->push_back('{');
    AppendKey("why", out);
    AppendJsonString(d.why, out);
    out->push_back(',');
    AppendKey("benefit", out);
    AppendJsonString(d.benefit, out);
    out->push_back(',');
    AppendKey("options", out);
    out->push_back('[');
    for (size_t i = 0; i < d.options.size(); ++i) {
      if (i > 0) out->push_back(',');
      AppendJsonString(d.options[i], out);
    }
    out->append("],");
    AppendKey("confidence", out);
    AppendNumber(d.confidence, out);
    out->push_back('}');
  }
  out->push_back(',');
  AppendKey("confidence", out);
  AppendNumber(d.confidence, out);
  out->push_back(',');
  AppendKey("priority", out);
  AppendNumber(d.priority, out);
  out->push_back(',');
  AppendKey("signals", out);
  out->push_back('{');
  for (size_t i = 0; i < d.signals.size(); ++i) {
    if (i > 0) out->push_back(',');
    AppendJsonString(d.signals[i].name, out);
    out->append(":{\"score\":");
    AppendNumber(d.signals[i].score, out);
    out->append(",\"confidence\":");
    AppendNumber(d.signals[i].confidence, out);
    out->push_back('}');
  }
  out->append("},");
  AppendKey("models", out);
  out->push_back('{');
  for (size_t i = 0; i < d.models.size(); ++i) {
    if (i > 0) out->push_back(',');
    AppendJsonString(d.models[i].name, out);
    out->append(":{\"score\":");
    if (d.models[i].available) {
      AppendNumber(d.models[i].score, out);
    } else {
      out->append("null");
    }
    out->append(",\"confidence\":");
    AppendNumber(d.models[i].confidence, out);
    out->append(",\"version\":");
    AppendJsonString(d.models[i].version, out);
    out->push_back('}');
  }
  out->append("},");
  AppendKey("blocked", out);
  out->push_back('[');
  for (size_t i = 0; i < d.blocked.size(); ++i) {
    if (i > 0) out->push_back(',');
    out->push_back('{');
    AppendKey("intervention", out);
    AppendJsonString(d.blocked[i].intervention, out);
    out->push_back(',');
    AppendKey("reason", out);
    AppendJsonString(d.blocked[i].reason, out);
    if (d.blocked[i].retry_at != 0) {
      out->append(",\"retry_at\":\"");
      AppendTimestamp(d.blocked[i].retry_at, out);
      out->push_back('"');
    }
    out->push_back('}');
  }
  out->append("],");
  AppendKey("missing", out);
  out->push_back('[');
  for (size_t i = 0; i < d.missing.size(); ++i) {
    if (i > 0) out->push_back(',');
    AppendJsonString(d.missing[i], out);
  }
  out->append("],");
  AppendKey("policy_version", out);
  AppendJsonString(d.policy_version, out);
  out->push_back(',');
  AppendKey("policy_hash", out);
  AppendJsonString(d.policy_hash, out);
  out->push_back('}');
}

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
