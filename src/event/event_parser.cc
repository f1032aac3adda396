#include "src/event/event_parser.h"

#include <simdjson.h>

#include <charconv>
#include <cstring>

#include "src/common/hash.h"
#include "src/common/time_format.h"

namespace upfront {

static_assert(kParsePadding >= simdjson::SIMDJSON_PADDING);

struct EventParser::Impl {
  simdjson::dom::parser parser;
  std::string scratch;
};

namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

// Overwrites a reused string. assign() goes through _M_replace, which allows
// for the source overlapping the string (~70 instructions); the parser's
// sources never do, and clear + append costs a third of that (callgrind,
// bench/decide_bench: about ten of these per event).
void Overwrite(std::string* out, std::string_view value) {
  out->clear();
  out->append(value.data(), value.size());
}

// text == word. With the word's length known here, the comparison compiles to
// a load or two; string_view's operator== calls out to compare() and memcmp
// (callgrind, bench/decide_bench: about ten such calls per event).
template <size_t N>
bool Is(std::string_view text, const char (&word)[N]) {
  return text.size() == N - 1 && std::memcmp(text.data(), word, N - 1) == 0;
}

// The object behind an element already known to be one.
simdjson::dom::object AsObject(element value) {
  simdjson::dom::object object;
  if (value.get(object)) return {};
  return object;
}

bool Fail(EventError* error, std::string_view field, std::string reason) {
  error->field.assign(field);
  error->reason = std::move(reason);
  return false;
}

std::string_view TypeWord(element_type t) {
  switch (t) {
    case element_type::ARRAY: return "an array";
    case element_type::OBJECT: return "an object";
    case element_type::INT64:
    case element_type::UINT64:
    case element_type::DOUBLE: return "a number";
    case element_type::STRING: return "a string";
    case element_type::BOOL: return "a boolean";
    case element_type::NULL_VALUE: return "null";
  }
  return "a value";
}

// Reads an id: a string, or an integer that some SDKs send instead.
bool ReadId(element value, std::string_view field, size_t max_bytes, std::string* out, EventError* error) {
  switch (value.type()) {
    case element_type::STRING: {
      std::string_view s = value.get_string().value_unsafe();
      if (s.size() > max_bytes) {
        return Fail(error, field, "is " + std::to_string(s.size()) + " bytes; the limit is " +
                                      std::to_string(max_bytes));
      }
      Overwrite(out, s);
      return true;
    }
    case element_type::INT64: out->assign(std::to_string(value.get_int64().value_unsafe())); return true;
    case element_type::UINT64: out->assign(std::to_string(value.get_uint64().value_unsafe())); return true;
    case element_type::NULL_VALUE: out->clear(); return true;
    default: return Fail(error, field, "must be a string, not " + std::string(TypeWord(value.type())));
  }
}

bool ReadString(element value, std::string_view field, std::string* out, EventError* error) {
  if (value.type() == element_type::NULL_VALUE) {
    out->clear();
    return true;
  }
  if (value.type() != element_type::STRING) {
    return Fail(error, field, "must be a string, not " + std::string(TypeWord(value.type())));
  }
  Overwrite(out, value.get_string().value_unsafe());
  return true;
}

bool ReadTime(element value, std::string_view field, std::optional<Micros>* out, EventError* error) {
  if (value.type() == element_type::NULL_VALUE) return true;
  if (value.type() != element_type::STRING) {
    return Fail(error, field, "must be an ISO-8601 string, not " + std::string(TypeWord(value.type())));
  }
  std::string_view text = value.get_string().value_unsafe();
  *out = ParseTimestamp(text);
  if (!*out) return Fail(error, field, "'" + std::string(text.substr(0, 64)) + "' is not an ISO-8601 timestamp");
  return true;
}

void AppendNumberText(double v, std::string* out) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out->append(buf, end);
}

// Copies a kept field's value; hashed fields keep only the keyed hash.
void StoreField(element value, bool hashed, bool already_hashed, const std::string& key, FieldValue* f) {
  switch (value.type()) {
    case element_type::STRING:
      f->kind = FieldValue::Kind::kString;
      Overwrite(&f->text, value.get_string().value_unsafe());
      break;
    case element_type::INT64:
      f->kind = FieldValue::Kind::kNumber;
      f->number = static_cast<double>(value.get_int64().value_unsafe());
      break;
    case element_type::UINT64:
      f->kind = FieldValue::Kind::kNumber;
      f->number = static_cast<double>(value.get_uint64().value_unsafe());
      break;
    case element_type::DOUBLE:
      f->kind = FieldValue::Kind::kNumber;
      f->number = value.get_double().value_unsafe();
      break;
    case element_type::BOOL:
      f->kind = FieldValue::Kind::kBool;
      f->boolean = value.get_bool().value_unsafe();
      break;
    case element_type::NULL_VALUE:
      f->kind = FieldValue::Kind::kNull;
      break;
    default:
      f->kind = FieldValue::Kind::kJson;
      f->text = simdjson::minify(value);
      break;
  }
  if (!hashed || already_hashed || f->kind == FieldValue::Kind::kNull) return;
  std::string clear;
  switch (f->kind) {
    case FieldValue::Kind::kNumber: AppendNumberText(f->number, &clear); break;
    case FieldValue::Kind::kBool: clear = f->boolean ? "true" : "false"; break;
    default: clear = f->text; break;
  }
  f->kind = FieldValue::Kind::kString;
  f->text = HmacSha256Hex(key, clear);
}

enum class Section { kProperties, kTraits };

bool ReadFields(element value, std::string_view field, Section section, const FieldCatalog& catalog,
                bool stored, FieldList* out, EventError* error) {
  if (value.type() == element_type::NULL_VALUE) return true;
  if (value.type() != element_type::OBJECT) {
    return Fail(error, field, "must be a JSON object, not " + std::string(TypeWord(value.type())));
  }
  // Keys already in the list, by key % 64: a key whose bit is clear is new
  // without a walk of the list (JSON objects rarely repeat a key).
  uint64_t seen = 0;
  for (const FieldValue& f : *out) seen |= uint64_t{1} << (f.key & 63);
  for (auto [key, v] : AsObject(value)) {
    int id = section == Section::kProperties ? catalog.PropertyId(key) : catalog.TraitId(key);
    if (id < 0) continue;  // not declared in the policy: dropped at ingest
    const uint64_t bit = uint64_t{1} << (id & 63);
    if ((seen & bit) != 0 && out->Find(static_cast<uint16_t>(id))) continue;  // first one wins
    seen |= bit;
    bool hashed = section == Section::kProperties ? catalog.PropertyHashed(static_cast<uint16_t>(id))
                                                  : catalog.TraitHashed(static_cast<uint16_t>(id));
    StoreField(v, hashed, stored, catalog.hash_key(), &out->Add(static_cast<uint16_t>(id)));
  }
  return true;
}

bool ParseType(std::string_view s, EventType* type) {
  if (Is(s, "track")) *type = EventType::kTrack;
  else if (Is(s, "identify")) *type = EventType::kIdentify;
  else if (Is(s, "page")) *type = EventType::kPage;
  else if (Is(s, "screen")) *type = EventType::kScreen;
  else if (Is(s, "group")) *type = EventType::kGroup;
  else if (Is(s, "alias")) *type = EventType::kAlias;
  else return false;
  return true;
}

}  // namespace

EventParser::EventParser(const FieldCatalog* catalog, ParserLimits limits)
    : impl_(std::make_unique<Impl>()), catalog_(catalog), limits_(limits) {}

EventParser::~EventParser() = default;

bool EventParser::Parse(std::string_view raw, const ParseDefaults& defaults, Event* out, EventError* error) {
  return ParseImpl(raw, defaults, /*stored=*/false, out, error);
}

bool EventParser::ParseStored(std::string_view raw, Event* out, EventError* error) {
  return ParseImpl(raw, ParseDefaults{}, /*stored=*/true, out, error);
}

bool EventParser::ParseImpl(std::string_view raw, const ParseDefaults& defaults, bool stored, Event* out,
                            EventError* error) {
  out->Clear();
  if (raw.size() > limits_.max_event_bytes) {
    return Fail(error, "", "event is " + std::to_string(raw.size()) + " bytes; the limit is " +
                               std::to_string(limits_.max_event_bytes) + " bytes");
  }
  element root;
  if (auto err = impl_->parser.parse(raw.data(), raw.size(), false).get(root)) {
    return Fail(error, "", std::string("not valid JSON (") + simdjson::error_message(err) + ")");
  }
  if (root.type() != element_type::OBJECT) {
    return Fail(error, "", "an event must be a JSON object, not " + std::string(TypeWord(root.type())));
  }
  bool has_type = false;
  std::optional<Micros> timestamp, original_timestamp, sent_at, received_at;
  std::string_view event_name;
  bool has_event = false;
  element properties, traits, context;
  bool has_properties = false, has_traits = false, has_context = false;

  for (auto [key, value] : AsObject(root)) {
    if (Is(key, "type")) {
      if (value.type() != element_type::STRING) {
        return Fail(error, "type", "must be a string, not " + std::string(TypeWord(value.type())));
      }
      std::string_view t = value.get_string().value_unsafe();
      if (!ParseType(t, &out->type)) {
        return Fail(error, "type", "unknown type '" + std::string(t.substr(0, 64)) +
                                       "'; expected one of track, identify, page, screen, group, alias");
      }
      has_type = true;
    } else if (Is(key, "messageId")) {
      if (!ReadId(value, "messageId", limits_.max_id_bytes, &out->message_id, error)) return false;
    } else if (Is(key, "userId")) {
      if (!ReadId(value, "userId", limits_.max_id_bytes, &out->user_id, error)) return false;
    } else if (Is(key, "anonymousId")) {
      if (!ReadId(value, "anonymousId", limits_.max_id_bytes, &out->anonymous_id, error)) return false;
    } else if (Is(key, "previousId")) {
      if (!ReadId(value, "previousId", limits_.max_id_bytes, &out->previous_id, error)) return false;
    } else if (Is(key, "groupId")) {
      if (!ReadId(value, "groupId", limits_.max_id_bytes, &out->group_id, error)) return false;
    } else if (Is(key, "event")) {
      if (value.type() != element_type::STRING && value.type() != element_type::NULL_VALUE) {
        return Fail(error, "event", "must be a string, not " + std::string(TypeWord(value.type())));
      }
      if (value.type() == element_type::STRING) {
        event_name = value.get_string().value_unsafe();
        has_event = true;
      }
    } else if (Is(key, "name")) {
      if (!ReadString(value, "name", &out->page_name, error)) return false;
    } else if (Is(key, "timestamp")) {
      if (!ReadTime(value, "timestamp", &timestamp, error)) return false;
    } else if (Is(key, "originalTimestamp")) {
      if (!ReadTime(value, "originalTimestamp", &original_timestamp, error)) return false;
    } else if (Is(key, "sentAt")) {
      if (!ReadTime(value, "sentAt", &sent_at, error)) return false;
    } else if (Is(key, "receivedAt") && stored) {
      if (!ReadTime(value, "receivedAt", &received_at, error)) return false;
    } else if (Is(key, "_late") && stored) {
      out->late = value.type() == element_type::BOOL && value.get_bool().value_unsafe();
    } else if (Is(key, "properties")) {
      properties = value;
      has_properties = true;
    } else if (Is(key, "traits")) {
      traits = value;
      has_traits = true;
    } else if (Is(key, "context")) {
      context = value;
      has_context = true;
    }
  }
  if (!has_type) return Fail(error, "type", "is missing; expected one of track, identify, page, screen, group, alias");
  if (out->user_id.empty() && out->anonymous_id.empty()) {
    return Fail(error, "userId", "needs userId or anonymousId");
  }
  switch (out->type) {
    case EventType::kTrack:
      if (!has_event || event_name.empty()) return Fail(error, "event", "a track call needs an event name");
      if (event_name.size() > limits_.max_id_bytes) {
        return Fail(error, "event", "is longer than " + std::to_string(limits_.max_id_bytes) + " bytes");
      }
      Overwrite(&out->name, event_name);
      break;
    case EventType::kIdentify: out->name.assign("Identify"); break;
    case EventType::kPage: out->name.assign("Page Viewed"); break;
    case EventType::kScreen: out->name.assign("Screen Viewed"); break;
    case EventType::kGroup:
      if (out->group_id.empty()) return Fail(error, "groupId", "a group call needs a groupId");
      out->name.assign("Group");
      break;
    case EventType::kAlias:
      if (out->previous_id.empty()) return Fail(error, "previousId", "an alias call needs a previousId");
      if (out->user_id.empty()) return Fail(error, "userId", "an alias call needs a userId");
      out->name.assign("Alias");
      break;
  }

  if (has_properties &&
      !ReadFields(properties, "properties", Section::kProperties, *catalog_, stored, &out->properties, error)) {
    return false;
  }
  if (has_traits && !ReadFields(traits, "traits", Section::kTraits, *catalog_, stored, &out->traits, error)) {
    return false;
  }
  if (has_context) {
    if (context.type() != element_type::OBJECT && context.type() != element_type::NULL_VALUE) {
      return Fail(error, "context", "must be a JSON object, not " + std::string(TypeWord(context.type())));
    }
    if (context.type() == element_type::OBJECT) {
      // Segment's libraries say where they run by what context they send:
      // analytics.js a page and userAgent, mobile SDKs an app and device.
      std::string_view implied_channel;
      for (auto [key, value] : AsObject(context)) {
        if (Is(key, "page") || Is(key, "userAgent")) implied_channel = "browser";
        if (implied_channel.empty() && (Is(key, "app") || Is(key, "device"))) implied_channel = "mobile";
        if (Is(key, "timezone")) {
          if (!ReadString(value, "context.timezone", &out->timezone, error)) return false;
        } else if (Is(key, "locale")) {
          if (!ReadString(value, "context.locale", &out->locale, error)) return false;
        } else if (Is(key, "channel")) {
          if (!ReadString(value, "context.channel", &out->channel, error)) return false;
        } else if (Is(key, "traits")) {
          if (!ReadFields(value, "context.traits", Section::kTraits, *catalog_, stored, &out->traits, error)) {
            return false;
          }
        } else if (Is(key, "page") && out->type == EventType::kPage && value.type() == element_type::OBJECT) {
          int path_id = catalog_->PropertyId("path");
          element path;
          if (path_id >= 0 && !out->properties.Find(static_cast<uint16_t>(path_id)) &&
              !value["path"].get(path)) {
            StoreField(path, catalog_->PropertyHashed(static_cast<uint16_t>(path_id)), stored,
                       catalog_->hash_key(), &out->properties.Add(static_cast<uint16_t>(path_id)));
          }
        }
      }
      if (out->channel.empty()) Overwrite(&out->channel, implied_channel);
    }
  }
  if (out->timezone.empty()) Overwrite(&out->timezone, defaults.timezone);
  if (out->locale.empty()) Overwrite(&out->locale, defaults.locale);
  if (out->channel.empty()) Overwrite(&out->channel, defaults.channel);

  out->timestamp = timestamp ? *timestamp : original_timestamp ? *original_timestamp : defaults.arrival;
  out->sent_at = sent_at ? *sent_at : defaults.sent_at;
  out->received_at = received_at ? *received_at : defaults.arrival;
  if (out->message_id.empty()) {
    // Senders that give no id still get idempotency for exact resends.
    static constexpr char kHex[] = "0123456789abcdef";
    uint64_t h = Hash64(raw);
    out->message_id.assign("auto-");
    for (int shift = 60; shift >= 0; shift -= 4) out->message_id.push_back(kHex[(h >> shift) & 15]);
    out->message_id_generated = true;
  }
  return true;
}

}  // namespace upfront
