#include "src/decide/decision.h"

#include <charconv>
#include <cmath>

#include "src/common/time_format.h"
#include "src/event/event_json.h"

namespace upfront {

namespace {

// Six decimals: more than any score, confidence or priority means, and
// cheaper to write than the shortest round-trip form. JSON has no NaN or inf.
void AppendNumber(double v, std::string* out) {
  if (!std::isfinite(v)) {
    out->append("null");
    return;
  }
  char buf[400];  // room for the largest double in fixed notation
  char* end = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, 6).ptr;
  while (end[-1] == '0') --end;
  if (end[-1] == '.') --end;
  if (end - buf == 2 && buf[0] == '-' && buf[1] == '0') {  // -0.0000001 rounds to "-0"
    out->push_back('0');
    return;
  }
  out->append(buf, end);
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
  AppendKey("experiment", out);
  AppendStringOrNull(d.experiment, out);
  out->push_back(',');
  AppendKey("variant", out);
  AppendStringOrNull(d.variant, out);
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
    out->append(std::to_string(d.step));
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
  std::string text;
  AppendDecisionJson(d, &text);
  return nlohmann::json::parse(text);
}

}  // namespace upfront
