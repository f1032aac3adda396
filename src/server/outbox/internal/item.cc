#include "src/server/outbox/internal/item.h"

#include "src/common/binary_codec.h"
#include "src/common/time_format.h"

namespace upfront::outbox_internal {
namespace {

// The first byte of every record, so a later layout can tell old records apart.
constexpr uint64_t kItemVersion = 1;

nlohmann::ordered_json TimeOrNull(Micros t) {
  if (t == kNever) return nullptr;
  return FormatTimestamp(t);
}

}  // namespace

std::string_view ItemStateName(ItemState state) {
  switch (state) {
    case ItemState::kPending:
      return "pending";
    case ItemState::kDelivered:
      return "delivered";
    case ItemState::kDead:
      return "dead";
  }
  return "unknown";
}

std::optional<ItemState> ItemStateFromName(std::string_view name) {
  for (ItemState state : {ItemState::kPending, ItemState::kDelivered, ItemState::kDead}) {
    if (ItemStateName(state) == name) return state;
  }
  return std::nullopt;
}

std::string EncodeItem(const Item& item) {
  std::string out;
  Encoder e(&out);
  e.PutVarint(kItemVersion);
  e.PutVarint(static_cast<uint8_t>(item.state));
  e.PutString(item.endpoint);
  e.PutString(item.customer);
  e.PutString(item.type);
  e.PutString(item.last_error);
  e.PutVarint(item.attempts);
  e.PutVarint(item.seq);
  e.PutSigned(item.created);
  e.PutSigned(item.first_attempt);
  e.PutSigned(item.next_attempt);
  e.PutSigned(item.delivered_at);
  e.PutString(item.payload);
  return out;
}

bool DecodeItem(std::string_view id, std::string_view bytes, Item* item) {
  Decoder d(bytes);
  if (d.GetVarint() != kItemVersion) return false;
  item->id = std::string(id);
  const uint64_t state = d.GetVarint();
  if (state != 'p' && state != 'd' && state != 'x') return false;
  item->state = static_cast<ItemState>(state);
  item->endpoint = std::string(d.GetString());
  item->customer = std::string(d.GetString());
  item->type = std::string(d.GetString());
  item->last_error = std::string(d.GetString());
  item->attempts = static_cast<uint32_t>(d.GetVarint());
  item->seq = d.GetVarint();
  item->created = d.GetSigned();
  item->first_attempt = d.GetSigned();
  item->next_attempt = d.GetSigned();
  item->delivered_at = d.GetSigned();
  item->payload = std::string(d.GetString());
  return d.ok() && d.done();
}

std::string EncodeSeq(uint64_t seq) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(seq & 0xff);
    seq >>= 8;
  }
  return out;
}

uint64_t DecodeSeq(std::string_view bytes) {
  if (bytes.size() != 8) return 0;
  uint64_t seq = 0;
  for (char c : bytes) seq = (seq << 8) | static_cast<uint8_t>(c);
  return seq;
}

std::string ItemKey(std::string_view id) { return "i/" + std::string(id); }

std::string StatePrefix(ItemState state) { return std::string("s/") + static_cast<char>(state); }

std::string StateKey(ItemState state, uint64_t seq) { return StatePrefix(state) + EncodeSeq(seq); }

std::string CustomerPrefix(std::string_view customer) {
  std::string key = "c/";
  key += customer;
  key += '\0';
  return key;
}

std::string CustomerKey(std::string_view customer, std::string_view id) {
  return CustomerPrefix(customer) + std::string(id);
}

std::string EndpointKey(std::string_view endpoint) {
  return std::string(kEndpointPrefix) + std::string(endpoint);
}

nlohmann::ordered_json ItemJson(const Item& item, bool for_export) {
  nlohmann::ordered_json json;
  json["id"] = item.id;
  json["endpoint"] = item.endpoint;
  json["type"] = item.type;
  json["status"] = ItemStateName(item.state);
  json["attempts"] = item.attempts;
  json["next_attempt"] = TimeOrNull(item.state == ItemState::kPending ? item.next_attempt : kNever);
  json["last_error"] = item.last_error;
  json["created"] = FormatTimestamp(item.created);
  json["delivered_at"] = TimeOrNull(item.delivered_at);
  if (for_export) {
    json["customer"] = item.customer;
    // The body exactly as sent: a string, since it is what was signed.
    json["payload"] = item.payload;
  }
  return json;
}

}  // namespace upfront::outbox_internal
