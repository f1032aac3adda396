#include "src/policy/action_sections.h"

#include <fmt/format.h>

#include <algorithm>

namespace upfront::policy_internal {
namespace {

constexpr std::string_view kChannelKeys[] = {"needs_presence", "quiet_hours_exempt", "consent",
                                             "webhook", "queue", "description"};
constexpr std::string_view kWebhookKeys[] = {"url", "secret_env", "secret", "timeout",
                                             "description"};
constexpr std::string_view kModerationKeys[] = {"quiet_hours",  "max_per_day", "max_per_week",
                                                "window",       "cooldown",    "after_dismiss",
                                                "pause_on_incident", "presence"};
constexpr std::string_view kDismissKeys[] = {"cooldown", "suppress_after", "suppress_for"};
constexpr std::string_view kTextKeys[] = {"text", "subject", "why", "confirm", "locales", "tones"};
constexpr std::string_view kVariantTextKeys[] = {"text", "subject", "why", "confirm"};
constexpr std::string_view kEvidenceFields[] = {"count", "window", "drop_pct", "last_event",
                                                "score", "confidence"};

bool Contains(const std::vector<std::string>& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

std::optional<bool> ReadBool(const YamlField& field, ErrorCollector* errors) {
  bool value = false;
  if (field.node.IsScalar() && YAML::convert<bool>::decode(field.node, value)) return value;
  errors->Add(field.mark, field.key, "must be true or false, found " + DescribeNode(field.node));
  return std::nullopt;
}

bool IsEnvironmentName(std::string_view name) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

bool IsHostChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_';
}

}  // namespace

std::string CheckWebhookUrl(std::string_view url) {
  std::string_view rest;
  if (url.starts_with("http://")) {
    rest = url.substr(7);
  } else if (url.starts_with("https://")) {
    rest = url.substr(8);
  } else {
    return "must start with http:// or https://";
  }
  for (char c : url) {
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) {
      return "has a space or control character; percent-encode it";
    }
  }
  if (url.find('#') != std::string_view::npos) {
    return "has a #fragment, which is never sent to the server; remove it";
  }
  const std::string_view authority = rest.substr(0, rest.find_first_of("/?"));
  if (authority.find('@') != std::string_view::npos) {
    return "has credentials before the host; the webhook secret signs each request instead";
  }
  std::string_view host = authority;
  std::optional<std::string_view> port;
  if (authority.starts_with('[')) {  // an IPv6 literal: [::1]:8080
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return "has an IPv6 address without its closing ']'";
    host = authority.substr(1, close - 1);
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty() && !after.starts_with(':')) return "has text after the IPv6 address";
    if (!after.empty()) port = after.substr(1);
    constexpr std::string_view kIpv6Chars = "0123456789abcdefABCDEF:.";
    if (host.empty() || host.find_first_not_of(kIpv6Chars) != std::string_view::npos) {
      return "has an invalid IPv6 address";
    }
  } else {
    if (const size_t colon = authority.find(':'); colon != std::string_view::npos) {
      host = authority.substr(0, colon);
      port = authority.substr(colon + 1);
    }
    if (host.empty()) return "has no host; write one like http://hooks.example.com/upfront";
    if (!std::all_of(host.begin(), host.end(), IsHostChar)) {
      return fmt::format("has an invalid host '{}'", host);
    }
  }
  if (port) {
    int value = 0;
    bool valid = !port->empty() && port->size() <= 5;
    for (char c : *port) {
      valid = valid && c >= '0' && c <= '9';
      if (valid) value = value * 10 + (c - '0');
    }
    if (!valid || value < 1 || value > 65535) {
      return fmt::format("has an invalid port '{}'; write a number from 1 to 65535", *port);
    }
  }
  return "";
}

std::string CheckWebhookSecret(std::string_view secret) {
  constexpr std::string_view kPrefix = "whsec_";
  if (!secret.starts_with(kPrefix)) {
    return "is not a webhook secret; write whsec_ followed by the base64 of 24 to 64 random bytes";
  }
  const std::string_view encoded = secret.substr(kPrefix.size());
  size_t padding = 0;
  bool valid = !encoded.empty() && encoded.size() % 4 == 0;
  for (size_t i = 0; valid && i < encoded.size(); ++i) {
    const char c = encoded[i];
    if (c == '=') {
      ++padding;
      valid = i + 2 >= encoded.size();  // only in the last two places
    } else {
      valid = padding == 0 && ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                               (c >= '0' && c <= '9') || c == '+' || c == '/');
    }
  }
  if (!valid) return "is not valid base64 after whsec_";
  const size_t bytes = encoded.size() / 4 * 3 - padding;
  if (bytes < 24 || bytes > 64) {
    return fmt::format("holds {} bytes; Standard Webhooks secrets are 24 to 64 bytes", bytes);
  }
  return "";
}

std::optional<int> ParseTimeOfDay(std::string_view text) {
  if (text.size() != 5 || text[2] != ':') return std::nullopt;
  const auto digit = [&](size_t i) { return text[i] >= '0' && text[i] <= '9' ? text[i] - '0' : -1; };
  for (size_t i : {0, 1, 3, 4}) {
    if (digit(i) < 0) return std::nullopt;
  }
  const int hours = digit(0) * 10 + digit(1);
  const int minutes = digit(3) * 10 + digit(4);
  if (hours > 23 || minutes > 59) return std::nullopt;
  return hours * 60 + minutes;
}

void ActionSections::ParseChannels(
    const YamlField& section,
    const std::function<bool(const std::string&, const YamlField&)>& on_consent) {
  if (!ExpectMap(section, errors_, /*allow_empty=*/true)) return;
  for (const MapEntry& entry : MapEntries(section, errors_)) {
    ChannelSpec channel;
    channel.name = entry.name;
    if (!IsEmpty(entry.value.node) && !ExpectMap(entry.value, errors_, /*allow_empty=*/true)) {
      continue;
    }
    if (entry.value.node.IsMap()) {
      for (const MapEntry& field : MapEntries(entry.value, errors_)) {
        if (field.name == "needs_presence") {
          channel.needs_presence = ReadBool(field.value, errors_).value_or(false);
        } else if (field.name == "quiet_hours_exempt") {
          channel.quiet_hours_exempt = ReadBool(field.value, errors_).value_or(false);
        } else if (field.name == "consent") {
          if (on_consent(channel.name, field.value)) {
            const std::string path = field.value.node.Scalar();
            channel.consent_trait = path.starts_with("traits.") ? path.substr(7) : path;
          }
        } else if (field.name == "webhook") {
          channel.webhook = ReadString(field.value, errors_).value_or("");
          if (!channel.webhook.empty()) channel_webhooks_.push_back(field.value);
        } else if (field.name == "queue") {
          channel.queue = ReadString(field.value, errors_).value_or("");
        } else if (field.name == "description") {
          ReadString(field.value, errors_);
        } else {
          ReportUnknownKey(field, kChannelKeys, errors_);
        }
      }
    }
    policy_->channels.push_back(std::move(channel));
  }
}

void ActionSections::ParseWebhooks(const YamlField& section) {
  if (!ExpectMap(section, errors_, /*allow_empty=*/true)) return;
  for (const MapEntry& entry : MapEntries(section, errors_)) {
    webhook_names_.push_back(entry.name);
    if (!ExpectMap(entry.value, errors_)) continue;
    WebhookSpec webhook;
    webhook.name = entry.name;
    bool valid = true;
    bool has_url = false;
    std::optional<YamlField> secret_env, secret;
    for (const MapEntry& field : MapEntries(entry.value, errors_)) {
      if (field.name == "url") {
        has_url = true;
        std::optional<std::string> url = ReadString(field.value, errors_);
        if (!url) {
          valid = false;
        } else if (std::string why = CheckWebhookUrl(*url); !why.empty()) {
          errors_->Add(field.value.mark, field.value.key, fmt::format("'{}' {}", *url, why));
          valid = false;
        } else {
          webhook.url = *std::move(url);
        }
      } else if (field.name == "secret_env") {
        secret_env = field.value;
        std::optional<std::string> name = ReadString(field.value, errors_);
        if (!name) {
          valid = false;
        } else if (!IsEnvironmentName(*name)) {
          errors_->Add(field.value.mark, field.value.key,
                       fmt::format("'{}' is not an environment variable name; write the name "
                                   "(letters, digits, _), e.g. UPFRONT_EMAIL_SECRET",
                                   *name));
          valid = false;
        } else {
          webhook.secret_env = *std::move(name);
        }
      } else if (field.name == "secret") {
        secret = field.value;
        std::optional<std::string> text = ReadString(field.value, errors_);
        if (!text) {
          valid = false;
        } else if (std::string why = CheckWebhookSecret(*text); !why.empty()) {
          // The secret itself stays out of the message: errors end up in logs.
          errors_->Add(field.value.mark, field.value.key, why);
          valid = false;
        } else {
          webhook.secret = *std::move(text);
        }
      } else if (field.name == "timeout") {
        std::optional<Micros> timeout = ReadPositiveDuration(field.value, errors_);
        valid = valid && timeout.has_value();
        if (timeout) webhook.timeout = *timeout;
      } else if (field.name == "description") {
        ReadString(field.value, errors_);
      } else {
        ReportUnknownKey(field, kWebhookKeys, errors_);
        valid = false;
      }
    }
    if (!has_url) {
      errors_->Add(entry.value.mark, entry.value.key,
                   "needs 'url', where requests are POSTed, e.g. "
                   "url: \"https://hooks.example.com/upfront\"");
      valid = false;
    }
    if (secret_env && secret) {
      errors_->Add(secret->mark, secret->key,
                   "give either secret_env or secret, not both (secret_env keeps the secret out "
                   "of the file)");
      valid = false;
    } else if (!secret_env && !secret) {
      errors_->Add(entry.value.mark, entry.value.key,
                   "needs secret_env: the environment variable holding its whsec_ signing secret");
      valid = false;
    }
    if (valid) policy_->webhooks.push_back(std::move(webhook));
  }
}

void ActionSections::CheckChannelWebhooks(bool webhooks_declared) {
  // A policy without a `webhooks:` section names delivery channels whose
  // endpoints are not set up yet: the shipped telecom example is one, and
  // replays and checks of it must keep working. Such a policy still loads;
  // the outbox then refuses its messages (NotFound: no endpoint of that
  // name). Once a policy declares webhooks, every channel must name one.
  if (!webhooks_declared) return;
  for (const YamlField& field : channel_webhooks_) {
    const std::string name = field.node.Scalar();
    if (Contains(webhook_names_, name)) continue;
    std::string known;
    for (const std::string& webhook : webhook_names_) {
      known += known.empty() ? webhook : ", " + webhook;
    }
    errors_->Add(field.mark, field.key,
                 known.empty()
                     ? fmt::format("'{}' is not a webhook; the webhooks section defines none", name)
                     : fmt::format("'{}' is not a webhook; the webhooks are: {}", name, known));
  }
}

void ActionSections::ParseModeration(const YamlField& section) {
  ParseModerationInto(section, &policy_->moderation);
}

void ActionSections::ParseModerationInto(const YamlField& section, ModerationSpec* moderation) {
  if (!ExpectMap(section, errors_, /*allow_empty=*/true)) return;
  ModerationSpec& m = *moderation;
  for (const MapEntry& entry : MapEntries(section, errors_)) {
    const YamlField& value = entry.value;
    if (entry.name == "quiet_hours") {
      if (!ExpectMap(value, errors_)) continue;
      std::optional<int> start, end;
      int keys_seen = 0;
      for (const MapEntry& field : MapEntries(value, errors_)) {
        if (field.name != "start" && field.name != "end") {
          static constexpr std::string_view kKeys[] = {"start", "end"};
          ReportUnknownKey(field, kKeys, errors_);
          continue;
        }
        ++keys_seen;
        std::optional<std::string> text = ReadString(field.value, errors_);
        if (!text) continue;
        std::optional<int> minute = ParseTimeOfDay(*text);
        if (!minute) {
          errors_->Add(field.value.mark, field.value.key,
                       fmt::format("'{}' is not a time of day; write \"HH:MM\" (24-hour), e.g. "
                                   "\"21:00\"",
                                   *text));
          continue;
        }
        (field.name == "start" ? start : end) = minute;
      }
      if (!start || !end) {
        if (keys_seen == 2) continue;  // the bad value is reported already
        errors_->Add(value.mark, value.key,
                     "needs both 'start' and 'end', e.g. {start: \"21:00\", end: \"08:00\"}");
        continue;
      }
      if (*start == *end) {
        errors_->Add(value.mark, value.key, "start and end are the same time; remove quiet_hours");
        continue;
      }
      m.has_quiet_hours = true;
      m.quiet_start_minute = *start;
      m.quiet_end_minute = *end;
    } else if (entry.name == "max_per_day") {
      m.max_per_day = ReadInt(value, errors_, 0, 1000).value_or(0);
    } else if (entry.name == "max_per_week") {
      m.max_per_week = ReadInt(value, errors_, 0, 10000).value_or(0);
    } else if (entry.name == "window") {
      std::optional<std::string> window = ReadString(value, errors_);
      if (window == "rolling") {
        m.rolling_windows = true;
      } else if (window && *window != "calendar") {
        errors_->Add(value.mark, value.key,
                     fmt::format("'{}' is not a window; write calendar (the customer's local day "
                                 "and week, the default) or rolling (24h and 7d)",
                                 *window));
      }
    } else if (entry.name == "cooldown") {
      m.cooldown = ReadPositiveDuration(value, errors_).value_or(0);
    } else if (entry.name == "presence") {
      m.presence_window = ReadPositiveDuration(value, errors_).value_or(m.presence_window);
    } else if (entry.name == "pause_on_incident") {
      m.pause_on_incident = ReadBool(value, errors_).value_or(false);
    } else if (entry.name == "after_dismiss") {
      if (!ExpectMap(value, errors_)) continue;
      for (const MapEntry& field : MapEntries(value, errors_)) {
        if (field.name == "cooldown") {
          m.dismiss_cooldown = ReadPositiveDuration(field.value, errors_).value_or(0);
        } else if (field.name == "suppress_after") {
          m.suppress_after = ReadInt(field.value, errors_, 1, 1000).value_or(0);
        } else if (field.name == "suppress_for") {
          m.suppress_for = ReadPositiveDuration(field.value, errors_).value_or(0);
        } else {
          ReportUnknownKey(field, kDismissKeys, errors_);
        }
      }
      if (m.suppress_after > 0 && m.suppress_for == 0) {
        errors_->Add(value.mark, value.key, "suppress_after needs suppress_for, e.g. 30d");
      }
    } else {
      ReportUnknownKey(entry, kModerationKeys, errors_);
    }
  }
}

void ActionSections::ParseTemplates(const YamlField& section) {
  if (!ExpectMap(section, errors_, /*allow_empty=*/true)) return;
  for (const MapEntry& entry : MapEntries(section, errors_)) {
    if (!ExpectMap(entry.value, errors_)) continue;
    TemplateSpec spec;
    spec.name = entry.name;
    ParseTexts(entry.value, &spec.base, /*allow_variants=*/true, &spec);
    if (!spec.base.text && !entry.value.node["text"]) {
      errors_->Add(entry.value.mark, entry.value.key,
                   "needs 'text', the message the customer sees");
      continue;
    }
    // A template whose text had errors is still defined, so ladders naming it
    // do not report it missing as well.
    policy_->templates.push_back(std::move(spec));
  }
}

void ActionSections::ParseTexts(const YamlField& field, TemplateSpec::Texts* texts,
                                bool allow_variants, TemplateSpec* spec) {
  for (const MapEntry& entry : MapEntries(field, errors_)) {
    if (entry.name == "text") {
      texts->text = ParseTemplateText(entry.value);
    } else if (entry.name == "subject") {
      texts->subject = ParseTemplateText(entry.value);
    } else if (entry.name == "why") {
      texts->why = ParseTemplateText(entry.value);
    } else if (entry.name == "confirm") {
      texts->confirm = ParseTemplateText(entry.value);
    } else if (allow_variants && (entry.name == "locales" || entry.name == "tones")) {
      if (!ExpectMap(entry.value, errors_)) continue;
      auto& variants = entry.name == "locales" ? spec->locales : spec->tones;
      for (const MapEntry& variant : MapEntries(entry.value, errors_)) {
        if (!ExpectMap(variant.value, errors_)) continue;
        ParseTexts(variant.value, &variants[variant.name], /*allow_variants=*/false, spec);
      }
    } else if (allow_variants) {
      ReportUnknownKey(entry, kTextKeys, errors_);
    } else {
      ReportUnknownKey(entry, kVariantTextKeys, errors_);
    }
  }
}

std::optional<TemplateText> ActionSections::ParseTemplateText(const YamlField& field) {
  std::optional<std::string> source = ReadString(field, errors_);
  if (!source) return std::nullopt;
  TemplateText text;
  text.source = *source;
  bool valid = true;
  size_t pos = 0;
  while (pos < source->size()) {
    const size_t open = source->find("{{", pos);
    if (open == std::string::npos) {
      text.parts.push_back({false, source->substr(pos)});
      break;
    }
    if (open > pos) text.parts.push_back({false, source->substr(pos, open - pos)});
    const size_t close = source->find("}}", open + 2);
    if (close == std::string::npos) {
      errors_->Add(field.mark, field.key,
                   fmt::format("'{{{{' at character {} is never closed with '}}}}'", open + 1));
      return std::nullopt;
    }
    std::string path = source->substr(open + 2, close - open - 2);
    path.erase(0, path.find_first_not_of(' '));
    path.erase(path.find_last_not_of(' ') + 1);
    if (std::string why = CheckVariable(path); !why.empty()) {
      errors_->Add(field.mark, field.key, fmt::format("{{{{{}}}}}: {}", path, why));
      valid = false;
    }
    text.parts.push_back({true, path});
    pos = close + 2;
  }
  if (!valid) return std::nullopt;
  return text;
}

std::string ActionSections::CheckVariable(std::string_view path) const {
  std::vector<std::string_view> parts;
  for (size_t start = 0;;) {
    const size_t dot = path.find('.', start);
    parts.push_back(path.substr(start, dot == std::string_view::npos ? dot : dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  const auto& events = policy_->events;
  if (path == "benefit" || path == "intervention" || path == "channel" || path == "segment" ||
      path == "last.event" || path == "customer.id") {
    return "";
  }
  if (parts[0] == "last" && parts.size() == 3 && parts[1] == "properties") {
    if (!keep_lists_valid_ || Contains(events.keep_properties, parts[2])) {
      if (Contains(events.hash, parts[2])) return "is stored only as a keyed hash; it cannot be shown";
      return "";
    }
    return fmt::format("properties.{} is not kept; add it to events.keep_properties", parts[2]);
  }
  if (parts[0] == "traits" && parts.size() == 2) {
    if (keep_lists_valid_ && !Contains(events.keep_traits, parts[1])) {
      return fmt::format("traits.{} is not kept; add it to events.keep_traits", parts[1]);
    }
    if (Contains(events.hash, parts[1])) return "is stored only as a keyed hash; it cannot be shown";
    return "";
  }
  if ((parts[0] == "evidence" || parts[0] == "signals") && parts.size() == 3) {
    const auto& signals = policy_->signals;
    if (std::none_of(signals.begin(), signals.end(),
                     [&](const SignalSpec& s) { return s.name == parts[1]; })) {
      return fmt::format("unknown signal '{}'", parts[1]);
    }
    if (std::find(std::begin(kEvidenceFields), std::end(kEvidenceFields), parts[2]) ==
        std::end(kEvidenceFields)) {
      return fmt::format("'{}' is not known; use count, window, drop_pct, last_event, score or "
                         "confidence",
                         parts[2]);
    }
    return "";
  }
  return "unknown variable; use last.event, last.properties.P, traits.T, evidence.S.count|window|"
         "drop_pct|last_event, signals.S.score|confidence, benefit, intervention, channel, "
         "segment or customer.id";
}

}  // namespace upfront::policy_internal
