// How the outbox keeps its messages in its RocksDB: the item record, its keys
// and its JSON form. Internal to src/server/outbox.
//
// Keys (one RocksDB, default column family):
//   i/<id>                      -> the item (EncodeItem)
//   s/<state><seq, 8 bytes BE>  -> <id>   items by state, oldest first
//   c/<customer>\0<id>          -> ""     items by customer (erasure, export)
//   e/<endpoint>                -> why    disabled endpoints
//   meta/next_seq               -> 8 bytes BE
// Pending items are also indexed in memory by next attempt (the Outbox).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "upfront/time.h"

namespace upfront::outbox_internal {

enum class ItemState : char { kPending = 'p', kDelivered = 'd', kDead = 'x' };

std::string_view ItemStateName(ItemState state);  // "pending", "delivered", "dead"
std::optional<ItemState> ItemStateFromName(std::string_view name);

struct Item {
  std::string id;  // the key; not in the encoded record
  std::string endpoint;
  std::string customer;
  std::string type;
  std::string payload;
  std::string last_error;
  ItemState state = ItemState::kPending;
  uint32_t attempts = 0;
  uint64_t seq = 0;  // enqueue order
  Micros created = 0;
  Micros first_attempt = kNever;  // the retry horizon counts from here
  Micros next_attempt = kNever;   // pending only
  Micros delivered_at = kNever;   // delivered only
};

std::string EncodeItem(const Item& item);
// False when `bytes` is not a record EncodeItem wrote.
bool DecodeItem(std::string_view id, std::string_view bytes, Item* item);

std::string ItemKey(std::string_view id);
std::string StatePrefix(ItemState state);
std::string StateKey(ItemState state, uint64_t seq);
std::string CustomerPrefix(std::string_view customer);
std::string CustomerKey(std::string_view customer, std::string_view id);
inline constexpr std::string_view kEndpointPrefix = "e/";
std::string EndpointKey(std::string_view endpoint);
inline constexpr std::string_view kNextSeqKey = "meta/next_seq";

std::string EncodeSeq(uint64_t seq);         // 8 bytes, big-endian, so keys sort by it
uint64_t DecodeSeq(std::string_view bytes);  // 0 unless 8 bytes

// The item as a list entry: id, endpoint, type, status, attempts,
// next_attempt, last_error, created, delivered_at; with `for_export` also
// customer and payload.
nlohmann::ordered_json ItemJson(const Item& item, bool for_export);

}  // namespace upfront::outbox_internal
