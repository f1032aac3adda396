#include "src/event/batch.h"

#include <simdjson.h>

#include <algorithm>

#include "src/common/time_format.h"
#include "src/event/event_parser.h"

namespace upfront {
namespace {

namespace ondemand = simdjson::ondemand;

std::string_view Trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

// Counts lines lazily as slices are found in increasing order.
class LineCounter {
 public:
  LineCounter(std::string_view text, size_t first_line) : text_(text), line_(first_line) {}
  size_t LineAt(const char* p) {
    size_t offset = static_cast<size_t>(p - text_.data());
    line_ += std::count(text_.begin() + pos_, text_.begin() + offset, '\n');
    pos_ = offset;
    return line_;
  }

 private:
  std::string_view text_;
  size_t pos_ = 0;
  size_t line_;
};

// The text of one value, as a slice of the document (consumes the value).
simdjson::error_code RawText(ondemand::value value, std::string_view* raw) {
  ondemand::json_type type;
  if (auto err = value.type().get(type)) return err;
  if (type == ondemand::json_type::object) {
    ondemand::object o;
    if (auto err = value.get_object().get(o)) return err;
    return o.raw_json().get(*raw);
  }
  if (type == ondemand::json_type::array) {
    ondemand::array a;
    if (auto err = value.get_array().get(a)) return err;
    return a.raw_json().get(*raw);
  }
  *raw = value.raw_json_token();
  return simdjson::SUCCESS;
}

absl::Status NotJson(simdjson::error_code err) {
  return absl::InvalidArgumentError(std::string("the batch is not valid JSON (") +
                                    simdjson::error_message(err) + ")");
}

// Each element of `array`, as a slice of the document.
absl::Status AppendElements(ondemand::array& array, LineCounter& lines, std::vector<RawEvent>* events) {
  for (auto item : array) {
    std::string_view raw;
    ondemand::value v;
    if (auto err = item.get(v)) return NotJson(err);
    if (auto err = RawText(v, &raw)) return NotJson(err);
    raw = Trim(raw);
    events->push_back({raw, lines.LineAt(raw.data())});
  }
  return absl::OkStatus();
}

// One JSON document: a batch envelope, an array of messages, or a message.
absl::Status SplitDocument(std::string_view doc_text, size_t first_line, std::vector<RawEvent>* events,
                           BatchInfo* info) {
  // One parser per thread, kept: its buffers are allocated once, not per
  // request. The events found are views into `doc_text`, not into it.
  thread_local ondemand::parser parser;
  ondemand::document doc;
  if (auto err = parser.iterate(doc_text.data(), doc_text.size(), doc_text.size() + simdjson::SIMDJSON_PADDING)
                     .get(doc)) {
    return NotJson(err);
  }
  LineCounter lines(doc_text, first_line);
  ondemand::json_type type;
  if (auto err = doc.type().get(type)) return NotJson(err);
  if (type == ondemand::json_type::array) {
    ondemand::array array;
    if (auto err = doc.get_array().get(array)) return NotJson(err);
    return AppendElements(array, lines, events);
  }
  if (type != ondemand::json_type::object) {
    return absl::InvalidArgumentError("the batch must be a JSON object or array of Segment messages");
  }
  ondemand::object object;
  if (auto err = doc.get_object().get(object)) return NotJson(err);
  bool is_batch = false;
  for (auto field : object) {
    std::string_view key;
    if (auto err = field.unescaped_key().get(key)) return NotJson(err);
    ondemand::value value;
    if (auto err = field.value().get(value)) return NotJson(err);
    if (key == "batch") {
      is_batch = true;
      ondemand::array array;
      if (value.get_array().get(array)) {
        return absl::InvalidArgumentError("field batch: must be an array of Segment messages");
      }
      UPFRONT_RETURN_IF_ERROR(AppendElements(array, lines, events));
    } else if (key == "sentAt") {
      std::string_view text;
      if (!value.get_string().get(text)) {
        if (auto t = ParseTimestamp(text)) info->sent_at = *t;
      }
    } else if (key == "context") {
      ondemand::object context;
      if (!value.get_object().get(context)) {
        for (auto c : context) {
          std::string_view ckey, text;
          if (c.unescaped_key().get(ckey)) break;
          if (c.value().get_string().get(text)) continue;
          if (ckey == "timezone") info->timezone.assign(text);
          else if (ckey == "locale") info->locale.assign(text);
          else if (ckey == "channel") info->channel.assign(text);
        }
      }
    } else {
      // A plain message: skip its fields; EventParser reads it whole.
      std::string_view skipped;
      if (auto err = RawText(value, &skipped)) return NotJson(err);
    }
  }
  if (!is_batch) {
    events->clear();
    *info = BatchInfo();
    std::string_view raw = Trim(doc_text);
    events->push_back({raw, lines.LineAt(raw.data())});
  }
  return absl::OkStatus();
}

absl::Status SplitLines(std::string_view payload, std::vector<RawEvent>* events, BatchInfo* info) {
  size_t line = 1, start = 0;
  while (start < payload.size()) {
    size_t end = payload.find('\n', start);
    if (end == std::string_view::npos) end = payload.size();
    std::string_view text = Trim(payload.substr(start, end - start));
    if (!text.empty()) {
      if (text.front() == '{' && text.find("\"batch\"") != std::string_view::npos) {
        // A Segment batch object on one line: its messages, or the line as one
        // message if it is not a batch after all.
        std::vector<RawEvent> inner;
        if (SplitDocument(text, line, &inner, info).ok()) {
          events->insert(events->end(), inner.begin(), inner.end());
        } else {
          events->push_back({text, line});
        }
      } else {
        events->push_back({text, line});
      }
    }
    ++line;
    start = end + 1;
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status SplitPayload(std::string_view payload, PayloadFormat format, std::vector<RawEvent>* events,
                          BatchInfo* info) {
  events->clear();
  *info = BatchInfo();
  if (format == PayloadFormat::kAuto) {
    std::string_view body = Trim(payload);
    if (body.empty()) return absl::OkStatus();
    format = PayloadFormat::kJsonLines;
    size_t newline = body.find('\n');
    bool one_line = newline == std::string_view::npos || Trim(body.substr(newline)).empty();
    if (body.front() == '[' || one_line) {
      format = PayloadFormat::kJson;
    } else {
      // Several lines: JSON lines if the first line is a message on its own,
      // otherwise one pretty-printed document.
      simdjson::dom::parser probe;
      std::string_view first = Trim(body.substr(0, newline));
      simdjson::dom::element ignored;
      if (probe.parse(first.data(), first.size(), false).get(ignored)) format = PayloadFormat::kJson;
    }
  }
  if (format == PayloadFormat::kJsonLines) return SplitLines(payload, events, info);
  if (Trim(payload).empty()) return absl::OkStatus();
  size_t leading = payload.find_first_not_of(" \t\r\n");
  size_t first_line = 1 + std::count(payload.begin(), payload.begin() + leading, '\n');
  return SplitDocument(payload.substr(leading), first_line, events, info);
}

}  // namespace upfront
