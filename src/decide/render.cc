// Decider::Render: the message and the explanation, from the policy's
// templates (the customer's locale, the segment's tone) and the real evidence.

#include <fmt/format.h>

#include <cmath>

#include "src/decide/decider.h"

namespace upfront {
namespace {

// "8 minutes", "2 hours", "3 days": how people say a window.
std::string HumanDuration(Micros d) {
  const auto plural = [](int64_t n, const char* unit) {
    return fmt::format("{} {}{}", n, unit, n == 1 ? "" : "s");
  };
  if (d < kMicrosPerMinute) return plural(std::max<int64_t>(1, d / kMicrosPerSecond), "second");
  if (d < kMicrosPerHour) return plural(d / kMicrosPerMinute, "minute");
  if (d < 2 * kMicrosPerDay) return plural(d / kMicrosPerHour, "hour");
  return plural(d / kMicrosPerDay, "day");
}

// The texts of a template for this customer: a locale variant (exact, then
// the language alone), then the segment's tone, then the base, per field.
const TemplateText* Pick(const TemplateSpec& spec, std::string_view locale, std::string_view tone,
                         std::optional<TemplateText> TemplateSpec::Texts::*field) {
  if (!locale.empty()) {
    auto it = spec.locales.find(locale);
    if (it == spec.locales.end()) it = spec.locales.find(locale.substr(0, locale.find_first_of("-_")));
    if (it != spec.locales.end() && it->second.*field) return &*(it->second.*field);
  }
  if (!tone.empty()) {
    auto it = spec.tones.find(tone);
    if (it != spec.tones.end() && it->second.*field) return &*(it->second.*field);
  }
  return spec.base.*field ? &*(spec.base.*field) : nullptr;
}

}  // namespace

void Decider::Render(const DecisionInput& in, const DecisionState& state, int i, int step,
                     bool confirm, Decision* out) const {
  const InterventionSpec& spec = policy_->interventions[i];
  const TemplateSpec& tmpl = *policy_->FindTemplate(TemplateOf(i, step));
  const FieldCatalog& catalog = reader_->catalog();
  std::string_view tone;
  if (auto it = spec.tone.find(out->segment); it != spec.tone.end()) {
    tone = it->second;
  } else if (auto def = spec.tone.find(kDefaultSegment); def != spec.tone.end()) {
    tone = def->second;
  }

  const auto variable = [&](const std::string& path) -> std::string {
    if (path == "benefit") return spec.benefit;
    if (path == "intervention") return spec.name;
    if (path == "channel") return out->channel;
    if (path == "segment") return out->segment;
    if (path == "customer.id") return in.profile->id;
    if (path == "last.event") return in.event ? in.event->name : "";
    if (path.starts_with(kLastProperties)) {
      // The latest value the customer's events gave, so a timer's message
      // (or an event without it) still says which order or field.
      const int id = catalog.PropertyId(std::string_view(path).substr(kLastProperties.size()));
      for (const auto& [key, value] : state.last_properties) {
        if (key == id) return value;
      }
      return "";
    }
    if (path.starts_with("traits.")) {
      const int id = catalog.TraitId(std::string_view(path).substr(7));
      if (id < 0 || static_cast<size_t>(id) >= in.profile->has_trait.size() ||
          !in.profile->has_trait[id]) {
        return "";
      }
      return RenderField(in.profile->traits[id]);
    }
    const size_t first_dot = path.find('.');
    const size_t second_dot = path.find('.', first_dot + 1);
    const std::string_view root = std::string_view(path).substr(0, first_dot);
    const std::string_view name = std::string_view(path).substr(first_dot + 1, second_dot - first_dot - 1);
    const std::string_view field = std::string_view(path).substr(second_dot + 1);
    const int signal = reader_->signals().SignalIndex(name);
    if (signal < 0) return "";
    const Evidence& e = in.signals->evidence(signal);
    if (field == "score") return fmt::format("{:.2f}", in.reading->signal_score(signal));
    if (field == "confidence") return fmt::format("{:.2f}", in.reading->signal_confidence(signal));
    if (root == "evidence" && field == "count") return fmt::format("{}", e.count);
    if (root == "evidence" && field == "window") return HumanDuration(e.Window(in.now));
    if (root == "evidence" && field == "drop_pct") return fmt::format("{:.0f}", e.drop_pct);
    if (root == "evidence" && field == "last_event") return std::string(in.signals->LastEventName(signal));
    return "";
  };
  const auto render = [&](const TemplateText* text) {
    std::string rendered;
    if (text == nullptr) return rendered;
    for (const TemplateText::Part& part : text->parts) {
      rendered += part.variable ? variable(part.text) : part.text;
    }
    return rendered;
  };

  const std::string_view locale = state.locale;
  out->message = render(Pick(tmpl, locale, tone, &TemplateSpec::Texts::text));
  if (confirm) {
    // Unsure: ask before helping, in the template's words when it has them.
    const TemplateText* ask = Pick(tmpl, locale, tone, &TemplateSpec::Texts::confirm);
    out->message = ask ? render(ask) : "Would this help? " + out->message;
  }
  out->subject = render(Pick(tmpl, locale, tone, &TemplateSpec::Texts::subject));
  out->why = render(Pick(tmpl, locale, tone, &TemplateSpec::Texts::why));
  out->benefit = spec.benefit;
  out->options = {"accept", "snooze", "turn_off"};
}

}  // namespace upfront
