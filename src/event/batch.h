// Splits a request body or file chunk into the raw text of each Segment
// message, without parsing the messages themselves (EventParser does that,
// one by one, so one bad message does not spoil its neighbours).
//
//   std::vector<RawEvent> events;  BatchInfo info;
//   absl::Status s = SplitPayload(body, PayloadFormat::kAuto, &events, &info);
//
// `payload` must be followed by kParsePadding readable bytes.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "upfront/status.h"
#include "upfront/time.h"

namespace upfront {

enum class PayloadFormat {
  kAuto,       // one JSON document if it is one, else JSON lines
  kJsonLines,  // one message (or one Segment batch object) per line
  kJson,       // a Segment batch {"batch":[...]}, an array of messages, or one message
};

struct RawEvent {
  std::string_view json;
  size_t line = 0;  // 1-based line where the message starts
};

// Batch-level values from a Segment batch envelope.
struct BatchInfo {
  Micros sent_at = 0;
  std::string timezone, locale, channel;
};

absl::Status SplitPayload(std::string_view payload, PayloadFormat format, std::vector<RawEvent>* events,
                          BatchInfo* info);

}  // namespace upfront
