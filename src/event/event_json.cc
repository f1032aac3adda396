#include "src/event/event_json.h"

#include <charconv>
#include <cmath>

#include "src/common/json_writer.h"
#include "src/common/time_format.h"

namespace upfront {
namespace {

void AppendNumber(double v, std::string* out) {
  if (!std::isfinite(v)) {
    out->append("null");
    return;
  }
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);  // shortest round-trip form
  out->append(buf, end);
}

void AppendKey(std::string_view key, std::string* out, bool* first) {
  if (!*first) out->push_back(',');
  *first = false;
  AppendJsonString(key, out);
  out->push_back(':');
}

void AppendStringField(std::string_view key, std::string_view value, std::string* out, bool* first) {
  if (value.empty()) return;
  AppendKey(key, out, first);
  AppendJsonString(value, out);
}

void AppendTimeField(std::string_view key, Micros t, std::string* out, bool* first) {
  AppendKey(key, out, first);
  out->push_back('"');
  AppendTimestamp(t, out);
  out->push_back('"');
}

void AppendFieldValue(const FieldValue& v, std::string* out) {
  switch (v.kind) {
    case FieldValue::Kind::kNull: out->append("null"); break;
    case FieldValue::Kind::kBool: out->append(v.boolean ? "true" : "false"); break;
    case FieldValue::Kind::kNumber: AppendNumber(v.number, out); break;
    case FieldValue::Kind::kString: AppendJsonString(v.text, out); break;
    case FieldValue::Kind::kJson: out->append(v.text); break;
  }
}

template <typename NameOf>
void AppendFields(std::string_view section, const FieldList& fields, NameOf name_of, std::string* out,
                  bool* first) {
  if (fields.empty()) return;
  AppendKey(section, out, first);
  bool inner = true;
  out->push_back('{');
  for (const FieldValue& f : fields) {
    AppendKey(name_of(f.key), out, &inner);
    AppendFieldValue(f, out);
  }
  out->push_back('}');
}

}  // namespace

void AppendJsonString(std::string_view text, std::string* out) {
  const size_t used = out->size();
  out->resize(used + MaxJsonStringSize(text.size()));
  char* end = WriteJsonString(text, out->data() + used);
  out->resize(static_cast<size_t>(end - out->data()));
}

void AppendEventJson(const Event& e, const FieldCatalog& catalog, std::string* out) {
  bool first = true;
  out->push_back('{');
  AppendStringField("type", EventTypeName(e.type), out, &first);
  AppendStringField("messageId", e.message_id, out, &first);
  AppendStringField("userId", e.user_id, out, &first);
  AppendStringField("anonymousId", e.anonymous_id, out, &first);
  AppendStringField("previousId", e.previous_id, out, &first);
  AppendStringField("groupId", e.group_id, out, &first);
  if (e.type == EventType::kTrack) AppendStringField("event", e.name, out, &first);
  AppendStringField("name", e.page_name, out, &first);
  AppendTimeField("timestamp", e.timestamp, out, &first);
  if (e.sent_at != 0) AppendTimeField("sentAt", e.sent_at, out, &first);
  if (e.received_at != 0) AppendTimeField("receivedAt", e.received_at, out, &first);
  if (!e.timezone.empty() || !e.locale.empty() || !e.channel.empty()) {
    AppendKey("context", out, &first);
    bool inner = true;
    out->push_back('{');
    AppendStringField("timezone", e.timezone, out, &inner);
    AppendStringField("locale", e.locale, out, &inner);
    AppendStringField("channel", e.channel, out, &inner);
    out->push_back('}');
  }
  AppendFields("properties", e.properties, [&](uint16_t key) -> const std::string& { return catalog.PropertyName(key); },
               out, &first);
  AppendFields("traits", e.traits, [&](uint16_t key) -> const std::string& { return catalog.TraitName(key); },
               out, &first);
  if (e.late) {
    AppendKey("_late", out, &first);
    out->append("true");
  }
  out->push_back('}');
}

}  // namespace upfront
