// Writing JSON text fast, for the records the engine writes per event and per
// decision. std::string::append checks capacity on every call and push_back
// on every character; JsonWriter checks once per piece and writes through a
// raw cursor into room it has made at the end of the string.
//
//   std::string out;
//   {
//     JsonWriter w(&out);                 // appends after what `out` holds
//     w.Raw(R"({"score":)");
//     w.Decimal(0.7237441);               // 0.723744
//     w.Raw(R"(,"who":)");
//     w.String("Ana \"A\"");              // "Ana \"A\""
//     w.Raw("}");
//   }                                     // `out` is trimmed to what was written
//
// Not thread-safe; `out` must not be touched while the writer lives.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "upfront/time.h"

namespace upfront {

// The most bytes WriteJsonString writes for `text`: quotes and \u00XX escapes.
constexpr size_t MaxJsonStringSize(size_t text_size) { return 6 * text_size + 2; }

// Writes `text` quoted, with ", \ and control characters escaped, at `out`,
// which has room for MaxJsonStringSize(text.size()) bytes. Returns the end.
char* WriteJsonString(std::string_view text, char* out);

// At most six decimals, trailing zeros trimmed, "-0" written as "0", null for
// NaN and infinities (JSON has neither): what scores, confidences and
// priorities mean, and cheaper than the shortest round-trip form. Exactly
// what std::to_chars(fixed, 6) rounds to. `out` has room for kMaxDecimalSize.
inline constexpr size_t kMaxDecimalSize = 330;  // the largest double in fixed notation
char* WriteDecimal(double v, char* out);

class JsonWriter {
 public:
  explicit JsonWriter(std::string* out);
  ~JsonWriter() { Finish(); }
  JsonWriter(const JsonWriter&) = delete;
  JsonWriter& operator=(const JsonWriter&) = delete;

  // The small pieces are always inlined: a record is written with dozens of
  // them, nearly all string literals, whose copy then compiles to a few moves
  // of a known size instead of a call to Raw and one to memcpy (callgrind,
  // bench/decide_bench: ~1% of an event).

  // Text that is already JSON (keys with their quotes, punctuation, literals).
  [[gnu::always_inline]] void Raw(std::string_view text) {
    Ensure(text.size());
    std::memcpy(cur_, text.data(), text.size());
    cur_ += text.size();
  }
  [[gnu::always_inline]] void Char(char c) {
    Ensure(1);
    *cur_++ = c;
  }
  [[gnu::always_inline]] void String(std::string_view text) {
    Ensure(MaxJsonStringSize(text.size()));
    cur_ = WriteJsonString(text, cur_);
  }
  // A key (with its punctuation, e.g. R"(,"cohort":)") and a string value.
  [[gnu::always_inline]] void Member(std::string_view key, std::string_view value) {
    Raw(key);
    String(value);
  }
  // null for an empty string.
  [[gnu::always_inline]] void StringOrNull(std::string_view text) {
    if (text.empty()) {
      Raw("null");
    } else {
      String(text);
    }
  }
  void Decimal(double v) {
    Ensure(kMaxDecimalSize);
    cur_ = WriteDecimal(v, cur_);
  }
  void Integer(int64_t v);
  // "2026-11-25T09:00:00.250Z", quoted (see FormatTimestamp).
  void Timestamp(Micros t);

  // Trims the string to what was written; the destructor does it too.
  void Finish();

 private:
  [[gnu::always_inline]] void Ensure(size_t n) {
    if (static_cast<size_t>(end_ - cur_) < n) Grow(n);
  }
  void Grow(size_t n);

  std::string* out_;
  char* cur_ = nullptr;
  char* end_ = nullptr;
};

}  // namespace upfront
