// Writes an Event back as minimized Segment JSON: the form kept in the event
// log, exported, and replayed (EventParser::ParseStored reads it back exactly).
#pragma once

#include <string>

#include "src/event/field_catalog.h"
#include "upfront/event.h"

namespace upfront {

void AppendEventJson(const Event& event, const FieldCatalog& catalog, std::string* out);

// Appends `text` as a JSON string literal, quotes included.
void AppendJsonString(std::string_view text, std::string* out);

}  // namespace upfront
