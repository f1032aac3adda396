#include "src/decide/decision.h"

#include "src/common/json_writer.h"

namespace upfront {

// Keys are written with the punctuation around them as one piece.
void AppendDecisionJson(const Decision& d, std::string* out) {
  out->clear();
  JsonWriter w(out);
  w.Member(R"({"decision_id":)", d.id);
  w.Member(R"(,"customer":)", d.customer);
  w.Raw(R"(,"at":)");
  w.Timestamp(d.at);
  if (d.trigger_message_id.empty()) {
    w.Member(R"(,"trigger":{"timer":)", d.trigger_timer);
  } else {
    w.Member(R"(,"trigger":{"message_id":)", d.trigger_message_id);
  }
  w.Member(R"(},"segment":)", d.segment);
  w.Member(R"(,"cohort":)", d.cohort);
  w.Raw(R"(,"experiment":)");
  w.StringOrNull(d.experiment);
  w.Raw(R"(,"variant":)");
  w.StringOrNull(d.variant);
  w.Member(R"(,"action":)", d.action);
  w.Raw(R"(,"intervention":)");
  w.StringOrNull(d.intervention);
  w.Raw(R"(,"step":)");
  if (d.step < 0) {
    w.Raw("null");
  } else {
    w.Integer(d.step);
  }
  w.Raw(R"(,"channel":)");
  w.StringOrNull(d.channel);
  w.Raw(R"(,"template":)");
  w.StringOrNull(d.template_name);
  w.Raw(R"(,"message":)");
  w.StringOrNull(d.message);
  if (!d.subject.empty()) {
    w.Member(R"(,"subject":)", d.subject);
  }
  w.Raw(R"(,"explanation":)");
  if (d.action == "none") {
    w.Raw("null");
  } else {
    w.Member(R"({"why":)", d.why);
    w.Member(R"(,"benefit":)", d.benefit);
    w.Raw(R"(,"options":[)");
    for (size_t i = 0; i < d.options.size(); ++i) {
      if (i > 0) w.Char(',');
      w.String(d.options[i]);
    }
    w.Raw(R"(],"confidence":)");
    w.Decimal(d.confidence);
    w.Char('}');
  }
  w.Raw(R"(,"confidence":)");
  w.Decimal(d.confidence);
  w.Raw(R"(,"priority":)");
  w.Decimal(d.priority);
  w.Raw(R"(,"signals":{)");
  for (size_t i = 0; i < d.signals.size(); ++i) {
    if (i > 0) w.Char(',');
    w.String(d.signals[i].name);
    w.Raw(R"(:{"score":)");
    w.Decimal(d.signals[i].score);
    w.Raw(R"(,"confidence":)");
    w.Decimal(d.signals[i].confidence);
    w.Char('}');
  }
  w.Raw(R"(},"models":{)");
  for (size_t i = 0; i < d.models.size(); ++i) {
    if (i > 0) w.Char(',');
    w.String(d.models[i].name);
    w.Raw(R"(:{"score":)");
    if (d.models[i].available) {
      w.Decimal(d.models[i].score);
    } else {
      w.Raw("null");
    }
    w.Raw(R"(,"confidence":)");
    w.Decimal(d.models[i].confidence);
    w.Member(R"(,"version":)", d.models[i].version);
    w.Char('}');
  }
  w.Raw(R"(},"blocked":[)");
  for (size_t i = 0; i < d.blocked.size(); ++i) {
    if (i > 0) w.Char(',');
    w.Member(R"({"intervention":)", d.blocked[i].intervention);
    w.Member(R"(,"reason":)", d.blocked[i].reason);
    if (d.blocked[i].retry_at != 0) {
      w.Raw(R"(,"retry_at":)");
      w.Timestamp(d.blocked[i].retry_at);
    }
    w.Char('}');
  }
  w.Raw(R"(],"missing":[)");
  for (size_t i = 0; i < d.missing.size(); ++i) {
    if (i > 0) w.Char(',');
    w.String(d.missing[i]);
  }
  w.Member(R"(],"policy_version":)", d.policy_version);
  w.Member(R"(,"policy_hash":)", d.policy_hash);
  w.Char('}');
}

nlohmann::json DecisionToJson(const Decision& d) {
  std::string text;
  AppendDecisionJson(d, &text);
  return nlohmann::json::parse(text);
}

}  // namespace upfront
