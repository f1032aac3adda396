#include "upfront/event.h"

namespace upfront {

std::string_view EventTypeName(EventType type) {
  switch (type) {
    case EventType::kTrack: return "track";
    case EventType::kIdentify: return "identify";
    case EventType::kPage: return "page";
    case EventType::kScreen: return "screen";
    case EventType::kGroup: return "group";
    case EventType::kAlias: return "alias";
  }
  return "track";
}

void Event::Clear() {
  type = EventType::kTrack;
  message_id.clear();
  message_id_generated = false;
  user_id.clear();
  anonymous_id.clear();
  previous_id.clear();
  group_id.clear();
  name.clear();
  page_name.clear();
  timestamp = 0;
  sent_at = 0;
  received_at = 0;
  timezone.clear();
  locale.clear();
  channel.clear();
  properties.Clear();
  traits.Clear();
  late = false;
}

}  // namespace upfront
