// The event model: one Segment Spec message (track, identify, page, screen,
// group, alias) after validation and minimization. Only the properties and
// traits the policy keeps are present; hashed fields hold a keyed hash, never
// the clear value.
//
// An Event is meant to be reused: Clear() keeps the capacity of its strings
// and field lists, so parsing a stream into one Event allocates nothing once
// the buffers have grown.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "upfront/time.h"

namespace upfront {

enum class EventType : uint8_t { kTrack, kIdentify, kPage, kScreen, kGroup, kAlias };

// "track", "identify", ...
std::string_view EventTypeName(EventType type);

// A kept property or trait. `key` is the field's id in the FieldCatalog.
struct FieldValue {
  enum class Kind : uint8_t { kNull, kBool, kNumber, kString, kJson };
  uint16_t key = 0;
  Kind kind = Kind::kNull;
  bool boolean = false;
  double number = 0;
  // A string value; raw JSON text for objects and arrays; the hex HMAC for
  // hashed fields.
  std::string text;
};

// A small list of fields that reuses its slots across Clear().
class FieldList {
 public:
  void Clear() { size_ = 0; }
  FieldValue& Add(uint16_t key) {
    if (size_ == slots_.size()) slots_.emplace_back();
    FieldValue& v = slots_[size_++];
    v.key = key;
    v.kind = FieldValue::Kind::kNull;
    v.boolean = false;
    v.number = 0;
    v.text.clear();
    return v;
  }
  const FieldValue* Find(uint16_t key) const {
    for (size_t i = 0; i < size_; ++i) {
      if (slots_[i].key == key) return &slots_[i];
    }
    return nullptr;
  }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  const FieldValue* begin() const { return slots_.data(); }
  const FieldValue* end() const { return slots_.data() + size_; }

 private:
  std::vector<FieldValue> slots_;
  size_t size_ = 0;
};

struct Event {
  EventType type = EventType::kTrack;
  std::string message_id;
  bool message_id_generated = false;  // the sender gave none; see docs/events.md
  std::string user_id;
  std::string anonymous_id;
  std::string previous_id;  // alias only
  std::string group_id;     // group only
  // The name signals match on: a track's `event`; "Page Viewed" for page,
  // "Screen Viewed" for screen, "Identify", "Group" and "Alias" otherwise.
  std::string name;
  std::string page_name;  // page and screen: their own `name`, if any
  Micros timestamp = 0;   // event time
  Micros sent_at = 0;     // 0 when absent
  Micros received_at = 0; // arrival time, assigned by ingest
  // From `context` (or the batch's context).
  std::string timezone;
  std::string locale;
  std::string channel;
  FieldList properties;
  FieldList traits;
  // Arrived more than the policy's allowed lateness after it happened: stored
  // and counted, never fires an intervention.
  bool late = false;

  void Clear();
  // The id the sender knows this customer by: userId, else anonymousId.
  std::string_view SenderId() const { return user_id.empty() ? std::string_view(anonymous_id) : user_id; }
};

}  // namespace upfront
