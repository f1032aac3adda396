#include "src/common/json_writer.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "src/common/time_format.h"

namespace upfront {

namespace {

constexpr size_t kFirstRoom = 1024;

char* WriteDecimalExactly(double v, char* out) {
  char* end = std::to_chars(out, out + kMaxDecimalSize, v, std::chars_format::fixed, 6).ptr;
  while (end[-1] == '0') --end;
  if (end[-1] == '.') --end;
  if (end - out == 2 && out[0] == '-' && out[1] == '0') {  // -0.0000001 rounds to "-0"
    out[0] = '0';
    return out + 1;
  }
  return end;
}

}  // namespace

// True when one of the eight bytes of `w` is a control character, '"' or
// '\': the classic "has a byte less than n" bit trick, three times.
inline bool NeedsEscape(uint64_t w) {
  constexpr uint64_t kOnes = 0x0101010101010101ull, kHighs = 0x8080808080808080ull;
  const auto has_zero = [](uint64_t v) { return (v - kOnes) & ~v & kHighs; };
  const uint64_t control = (w - kOnes * 0x20) & ~w & kHighs;
  return (control | has_zero(w ^ (kOnes * '"')) | has_zero(w ^ (kOnes * '\\'))) != 0;
}

char* WriteJsonString(std::string_view text, char* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  *out++ = '"';
  // Eight bytes at a time while none needs an escape (nearly all text),
  // then byte by byte from the first word that has one.
  size_t i = 0;
  for (; i + 8 <= text.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, text.data() + i, 8);
    if (NeedsEscape(w)) break;
    std::memcpy(out, &w, 8);
    out += 8;
  }
  for (const char ch : text.substr(i)) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c != '"' && c != '\\') [[likely]] {
      *out++ = ch;
      continue;
    }
    *out++ = '\\';
    switch (c) {
      case '"': *out++ = '"'; break;
      case '\\': *out++ = '\\'; break;
      case '\n': *out++ = 'n'; break;
      case '\r': *out++ = 'r'; break;
      case '\t': *out++ = 't'; break;
      default:
        std::memcpy(out, "u00", 3);
        out[3] = kHex[(c >> 4) & 15];
        out[4] = kHex[c & 15];
        out += 5;
    }
  }
  *out++ = '"';
  return out;
}

char* WriteDecimal(double v, char* out) {
  if (!std::isfinite(v)) {
    std::memcpy(out, "null", 4);
    return out + 4;
  }
  // Scores, confidences and priorities are small: v * 1e6 is then off from
  // the exact product by far less than the margin below, so rounding it
  // gives what to_chars gives from the exact value. Near a half, or for
  // large values, to_chars decides.
  const double scaled = v * 1e6;
  if (!(std::abs(scaled) < 1e12)) return WriteDecimalExactly(v, out);
  const double whole = std::trunc(scaled);
  if (std::abs(std::abs(scaled - whole) - 0.5) < 1e-3) return WriteDecimalExactly(v, out);
  auto units = static_cast<int64_t>(std::nearbyint(scaled));
  if (units == 0) {
    *out = '0';
    return out + 1;
  }
  if (units < 0) {
    *out++ = '-';
    units = -units;
  }
  out = std::to_chars(out, out + 24, units / 1'000'000).ptr;
  int64_t fraction = units % 1'000'000;
  if (fraction == 0) return out;
  int digits = 6;
  while (fraction % 10 == 0) {
    fraction /= 10;
    --digits;
  }
  *out++ = '.';
  for (int i = digits - 1; i >= 0; --i) {
    out[i] = static_cast<char>('0' + fraction % 10);
    fraction /= 10;
  }
  return out + digits;
}

JsonWriter::JsonWriter(std::string* out) : out_(out) {
  const size_t used = out_->size();
  out_->resize(used + kFirstRoom);
  cur_ = out_->data() + used;
  end_ = out_->data() + out_->size();
}

void JsonWriter::Integer(int64_t v) {
  Ensure(24);
  cur_ = std::to_chars(cur_, cur_ + 24, v).ptr;
}

void JsonWriter::Timestamp(Micros t) {
  Ensure(kMaxTimestampSize + 2);
  *cur_++ = '"';
  cur_ = WriteTimestamp(t, cur_);
  *cur_++ = '"';
}

void JsonWriter::Finish() {
  out_->resize(static_cast<size_t>(cur_ - out_->data()));
  cur_ = out_->data() + out_->size();
  end_ = cur_;
}

void JsonWriter::Grow(size_t n) {
  const size_t used = static_cast<size_t>(cur_ - out_->data());
  out_->resize(std::max(out_->size() * 2, used + n + kFirstRoom));
  cur_ = out_->data() + used;
  end_ = out_->data() + out_->size();
}

}  // namespace upfront
