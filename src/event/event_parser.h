// Parses one Segment Spec message into an Event, validating it and keeping
// only what the policy keeps (see docs/events.md for every rule and message).
//
//   EventParser parser(&catalog);
//   Event event;  EventError error;
//   if (!parser.Parse(raw, defaults, &event, &error)) report(error.field, error.reason);
//
// `raw` must be followed by kParsePadding readable bytes (simdjson reads
// ahead). One parser per thread; Parse reuses its buffers and the Event's,
// so it allocates nothing in the steady state (hashing fields aside).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "src/event/field_catalog.h"
#include "upfront/event.h"

namespace upfront {

inline constexpr size_t kParsePadding = 64;

struct EventError {
  std::string field;  // "" = the event as a whole
  std::string reason;
};

// Values that apply to every event of a batch unless the event says otherwise.
struct ParseDefaults {
  Micros arrival = 0;  // also the event time of events without a timestamp
  Micros sent_at = 0;
  std::string_view timezone, locale, channel;
};

struct ParserLimits {
  size_t max_event_bytes = 32 * 1024;
  size_t max_id_bytes = 256;
};

class EventParser {
 public:
  explicit EventParser(const FieldCatalog* catalog, ParserLimits limits = {});
  ~EventParser();

  bool Parse(std::string_view raw, const ParseDefaults& defaults, Event* out, EventError* error);
  // Reads an event written by AppendEventJson: trusts receivedAt and _late,
  // and treats hashed fields as already hashed.
  bool ParseStored(std::string_view raw, Event* out, EventError* error);

 private:
  struct Impl;
  bool ParseImpl(std::string_view raw, const ParseDefaults& defaults, bool stored, Event* out,
                 EventError* error);
  std::unique_ptr<Impl> impl_;
  const FieldCatalog* catalog_;
  ParserLimits limits_;
};

}  // namespace upfront
