#include "src/common/json_writer.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

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

namespace {

// Writes the escape of one byte that needs it.
char* WriteEscape(unsigned char c, char* out) {
  static constexpr char kHex[] = "0123456789abcdef";
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
  return out;
}

bool NeedsEscape(unsigned char c) { return c < 0x20 || c == '"' || c == '\\'; }

}  // namespace

char* WriteJsonString(std::string_view text, char* out) {
  *out++ = '"';
  const char* p = text.data();
  const char* const end = p + text.size();
  // Sixteen bytes at a time (SSE2, every x86-64 has it), then eight, copying
  // runs that need no escape (nearly all text) and escaping only the bytes
  // that do; the rest byte by byte.
#ifdef __SSE2__
  const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\'), last_control = _mm_set1_epi8(0x1f);
  while (end - p >= 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const __m128i control = _mm_cmpeq_epi8(_mm_min_epu8(v, last_control), v);
    const __m128i special = _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash));
    const unsigned mask = static_cast<unsigned>(_mm_movemask_epi8(_mm_or_si128(control, special)));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out), v);
    if (mask == 0) {
      p += 16;
      out += 16;
      continue;
    }
    const int clean = __builtin_ctz(mask);
    out = WriteEscape(static_cast<unsigned char>(p[clean]), out + clean);
    p += clean + 1;
  }
#endif
  while (end - p >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    if (NeedsEscape(w)) break;
    std::memcpy(out, &w, 8);
    p += 8;
    out += 8;
  }
  for (; p < end; ++p) {
    const auto c = static_cast<unsigned char>(*p);
    if (!NeedsEscape(c)) [[likely]] {
      *out++ = *p;
    } else {
      out = WriteEscape(c, out);
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
