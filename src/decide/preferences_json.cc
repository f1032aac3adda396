#include "src/decide/preferences_json.h"

#include <fmt/format.h>

#include <algorithm>

#include "src/common/time_format.h"

namespace upfront {
namespace {

nlohmann::json TimeOrNull(Micros t) {
  return t == kNever ? nlohmann::json(nullptr) : nlohmann::json(FormatTimestamp(t));
}

std::string Minute(int m) { return fmt::format("{:02d}:{:02d}", m / 60, m % 60); }

std::optional<int> ParseMinute(const std::string& text) {
  if (text.size() != 5 || text[2] != ':') return std::nullopt;
  int h = 0, m = 0;
  if (std::sscanf(text.c_str(), "%2d:%2d", &h, &m) != 2 || h > 23 || m > 59 || h < 0 || m < 0) {
    return std::nullopt;
  }
  return h * 60 + m;
}

constexpr std::string_view kStates[] = {"granted", "denied", "revoked"};

absl::Status Invalid(std::string_view field, std::string_view what) {
  return absl::InvalidArgumentError(fmt::format("{}: {}", field, what));
}

void Remove(std::vector<std::string>* items, const std::string& item) {
  items->erase(std::remove(items->begin(), items->end(), item), items->end());
}

}  // namespace

nlohmann::json PreferencesToJson(const Policy& policy, const DecisionState& state) {
  const Preferences& p = state.preferences;
  nlohmann::json channels = nlohmann::json::object();
  for (const ChannelSpec& c : policy.channels) {
    const bool out = std::find(p.channel_opt_outs.begin(), p.channel_opt_outs.end(), c.name) != p.channel_opt_outs.end();
    const bool in = std::find(p.channel_opt_ins.begin(), p.channel_opt_ins.end(), c.name) != p.channel_opt_ins.end();
    channels[c.name] = out ? "opt_out" : in ? "opt_in" : "default";
  }
  nlohmann::json declined = nlohmann::json::array();
  for (size_t i = 0; i < state.interventions.size() && i < policy.interventions.size(); ++i) {
    if (state.interventions[i].declined) declined.push_back(policy.interventions[i].name);
  }
  nlohmann::json snoozed = nlohmann::json::object();
  for (size_t i = 0; i < state.interventions.size() && i < policy.interventions.size(); ++i) {
    if (state.interventions[i].snoozed_until != kNever) {
      snoozed[policy.interventions[i].name] = TimeOrNull(state.interventions[i].snoozed_until);
    }
  }
  nlohmann::json consent = nlohmann::json::object();
  for (const PurposeConsent& c : p.purposes) {
    consent[c.purpose] = {{"state", kStates[static_cast<int>(c.state)]},
                          {"since", TimeOrNull(c.since)},
                          {"expires", TimeOrNull(c.expires)}};
  }
  return {{"channels", std::move(channels)},
          {"preferred_channel", p.preferred_channel.empty() ? nlohmann::json(nullptr)
                                                            : nlohmann::json(p.preferred_channel)},
          {"snooze_until", TimeOrNull(p.snoozed_until)},
          {"opted_out", p.opted_out},
          {"declined", std::move(declined)},
          {"snoozed", std::move(snoozed)},
          {"quiet_hours", p.has_quiet_hours ? nlohmann::json{{"start", Minute(p.quiet_start_minute)},
                                                             {"end", Minute(p.quiet_end_minute)}}
                                            : nlohmann::json(nullptr)},
          {"consent", std::move(consent)},
          {"timezone", state.timezone.empty() ? nlohmann::json(nullptr) : nlohmann::json(state.timezone)}};
}

absl::Status ApplyPreferencesPatch(const Policy& policy, const nlohmann::json& patch, Micros now,
                                   DecisionState* state) {
  if (!patch.is_object()) return Invalid("preferences", "must be a JSON object");
  DecisionState next = *state;  // all or nothing
  Preferences& p = next.preferences;
  const auto time_or_null = [&](const nlohmann::json& v, std::string_view field,
                                Micros* out) -> absl::Status {
    if (v.is_null()) {
      *out = kNever;
      return absl::OkStatus();
    }
    std::optional<Micros> t = v.is_string() ? ParseTimestamp(v.get<std::string>()) : std::nullopt;
    if (!t) return Invalid(field, "must be an ISO-8601 time like 2026-12-01T00:00:00Z, or null");
    *out = *t;
    return absl::OkStatus();
  };
  for (const auto& [key, value] : patch.items()) {
    if (key == "channels") {
      if (!value.is_object()) return Invalid("channels", "must be an object of channel: opt_in|opt_out|default");
      for (const auto& [channel, choice] : value.items()) {
        const std::string field = "channels." + channel;
        if (policy.FindChannel(channel) == nullptr) return Invalid(field, "is not a channel of the policy");
        if (!choice.is_string()) return Invalid(field, "must be opt_in, opt_out or default");
        const std::string c = choice.get<std::string>();
        if (c != "opt_in" && c != "opt_out" && c != "default") {
          return Invalid(field, "must be opt_in, opt_out or default");
        }
        Remove(&p.channel_opt_outs, channel);
        Remove(&p.channel_opt_ins, channel);
        if (c == "opt_out") p.channel_opt_outs.push_back(channel);
        if (c == "opt_in") p.channel_opt_ins.push_back(channel);
      }
    } else if (key == "preferred_channel") {
      if (value.is_null()) {
        p.preferred_channel.clear();
      } else if (!value.is_string() || policy.FindChannel(value.get<std::string>()) == nullptr) {
        return Invalid(key, "must be one of the policy's channels, or null");
      } else {
        p.preferred_channel = value.get<std::string>();
      }
    } else if (key == "snooze_until") {
      UPFRONT_RETURN_IF_ERROR(time_or_null(value, key, &p.snoozed_until));
    } else if (key == "opted_out") {
      if (!value.is_boolean()) return Invalid(key, "must be true or false");
      p.opted_out = value.get<bool>();
    } else if (key == "declined") {
      if (!value.is_array()) return Invalid(key, "must be a list of intervention names");
      for (auto& s : next.interventions) s.declined = false;
      for (const auto& name : value) {
        const auto& list = policy.interventions;
        auto it = std::find_if(list.begin(), list.end(), [&](const InterventionSpec& i) {
          return name.is_string() && i.name == name.get<std::string>();
        });
        if (it == list.end()) return Invalid(key, fmt::format("{} is not an intervention of the policy", name.dump()));
        next.intervention(static_cast<size_t>(it - list.begin())).declined = true;
      }
    } else if (key == "snoozed") {
      if (!value.is_object()) return Invalid(key, "must be an object of intervention: time (or null)");
      for (const auto& [name, until] : value.items()) {
        const std::string field = "snoozed." + name;
        const auto& list = policy.interventions;
        auto it = std::find_if(list.begin(), list.end(), [&](const InterventionSpec& i) { return i.name == name; });
        if (it == list.end()) return Invalid(field, "is not an intervention of the policy");
        InterventionState& s = next.intervention(static_cast<size_t>(it - list.begin()));
        UPFRONT_RETURN_IF_ERROR(time_or_null(until, field, &s.snoozed_until));
        // Offered again from the first step once the snooze ends.
        if (s.snoozed_until != kNever) {
          s.step = -1;
          s.retry_at = kNever;
        }
      }
    } else if (key == "quiet_hours") {
      if (value.is_null()) {
        p.has_quiet_hours = false;
        continue;
      }
      std::optional<int> start, end;
      if (value.is_object() && value.contains("start") && value.contains("end") &&
          value["start"].is_string() && value["end"].is_string()) {
        start = ParseMinute(value["start"].get<std::string>());
        end = ParseMinute(value["end"].get<std::string>());
      }
      if (!start || !end || *start == *end) {
        return Invalid(key, "must be {\"start\": \"HH:MM\", \"end\": \"HH:MM\"} (different times), or null");
      }
      p.has_quiet_hours = true;
      p.quiet_start_minute = *start;
      p.quiet_end_minute = *end;
    } else if (key == "consent") {
      if (!value.is_object()) return Invalid(key, "must be an object of purpose: {state, expires}");
      for (const auto& [purpose, given] : value.items()) {
        const std::string field = "consent." + purpose;
        if (!given.is_object() || !given.contains("state") || !given["state"].is_string()) {
          return Invalid(field, "needs a state: granted, denied or revoked");
        }
        const std::string word = given["state"].get<std::string>();
        const auto state_it = std::find(std::begin(kStates), std::end(kStates), word);
        if (state_it == std::end(kStates)) return Invalid(field + ".state", "must be granted, denied or revoked");
        PurposeConsent c;
        c.purpose = purpose;
        c.state = static_cast<PurposeConsent::State>(state_it - std::begin(kStates));
        c.since = now;
        if (given.contains("since")) UPFRONT_RETURN_IF_ERROR(time_or_null(given["since"], field + ".since", &c.since));
        if (given.contains("expires")) {
          UPFRONT_RETURN_IF_ERROR(time_or_null(given["expires"], field + ".expires", &c.expires));
        }
        auto it = std::find_if(p.purposes.begin(), p.purposes.end(),
                               [&](const PurposeConsent& x) { return x.purpose == purpose; });
        if (it == p.purposes.end()) {
          p.purposes.push_back(c);
        } else {
          *it = c;
        }
      }
    } else {
      return Invalid(key, "is not a preference; use channels, preferred_channel, snooze_until, "
                          "opted_out, declined, snoozed, quiet_hours or consent");
    }
  }
  *state = std::move(next);
  return absl::OkStatus();
}

}  // namespace upfront
