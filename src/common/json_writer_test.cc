#include "src/common/json_writer.h"

#include <gtest/gtest.h>

#include <charconv>
#include <cmath>
#include <limits>
#include <random>

#include "src/common/time_format.h"

namespace upfront {
namespace {

// The definition WriteDecimal must match: to_chars(fixed, 6), zeros trimmed.
std::string ReferenceDecimal(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[400];
  char* end = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, 6).ptr;
  while (end[-1] == '0') --end;
  if (end[-1] == '.') --end;
  std::string s(buf, end);
  return s == "-0" ? "0" : s;
}

std::string Decimal(double v) {
  char buf[kMaxDecimalSize];
  return std::string(buf, WriteDecimal(v, buf));
}

TEST(WriteDecimal, SixDecimalsTrimmed) {
  EXPECT_EQ(Decimal(0.7237441), "0.723744");
  EXPECT_EQ(Decimal(0.5), "0.5");
  EXPECT_EQ(Decimal(21.0), "21");
  EXPECT_EQ(Decimal(0.0000004), "0");
  EXPECT_EQ(Decimal(-0.0000004), "0");
  EXPECT_EQ(Decimal(-0.0), "0");
  EXPECT_EQ(Decimal(-2.25), "-2.25");
  EXPECT_EQ(Decimal(0.007812), "0.007812");
  EXPECT_EQ(Decimal(std::nan("")), "null");
  EXPECT_EQ(Decimal(std::numeric_limits<double>::infinity()), "null");
}

TEST(WriteDecimal, RoundsExactlyLikeToCharsIncludingHalves) {
  // 1/128 = 0.0078125 is an exact tie at the seventh decimal; 0.0000005 is
  // just below one. Neither may be moved by the product's rounding.
  for (double v : {0.0078125, -0.0078125, 0.0000005, 0.0000015, 2.5e-6, 0.1234565, 1e12, -3e15,
                   1.7976931348623157e308, 999999.9999995, 5e-324}) {
    EXPECT_EQ(Decimal(v), ReferenceDecimal(v)) << v;
  }
  std::mt19937_64 random(11);
  std::uniform_real_distribution<double> unit(-1.0, 1.0);
  for (int i = 0; i < 200'000; ++i) {
    const double v = unit(random) * std::pow(10.0, static_cast<int>(random() % 16) - 8);
    ASSERT_EQ(Decimal(v), ReferenceDecimal(v)) << v;
  }
  // Values on the 1e-7 grid, where halves are most likely.
  for (int64_t k = -20'000; k <= 20'000; ++k) {
    const double v = static_cast<double>(k) * 1e-7;
    ASSERT_EQ(Decimal(v), ReferenceDecimal(v)) << v;
  }
}

TEST(WriteJsonString, EscapesQuotesBackslashesAndControlCharacters) {
  const std::string text = std::string("a\"b\\c\nd\te\rf") + '\x01' + "g\xc3\xa9";
  char buf[MaxJsonStringSize(16)];
  ASSERT_LE(text.size(), 16u);
  EXPECT_EQ(std::string(buf, WriteJsonString(text, buf)), "\"a\\\"b\\\\c\\nd\\te\\rf\\u0001g\xc3\xa9\"");
  const std::string worst(16, '\x1f');
  EXPECT_EQ(static_cast<size_t>(WriteJsonString(worst, buf) - buf), MaxJsonStringSize(16));
}

TEST(WriteJsonString, MatchesAByteByByteEscaperAtEveryPosition) {
  const auto reference = [](std::string_view text) {
    std::string out = "\"";
    for (const char ch : text) {
      const auto c = static_cast<unsigned char>(ch);
      if (c == '"') out += "\\\"";
      else if (c == '\\') out += "\\\\";
      else if (c == '\n') out += "\\n";
      else if (c == '\r') out += "\\r";
      else if (c == '\t') out += "\\t";
      else if (c < 0x20) out += "\\u00" + std::string(1, "0123456789abcdef"[c >> 4]) + "0123456789abcdef"[c & 15];
      else out += ch;
    }
    return out + "\"";
  };
  std::mt19937_64 random(5);
  // Mostly plain text with UTF-8 and bytes next to the escaped ones (0x1f,
  // 0x20, '!', '#', '[', ']', 0x7f, 0x80, 0xff), and up to four escapes
  // anywhere (the vector path resumes after each).
  const std::string alphabet = "abcXYZ 09\xc3\xa9\x1f\x20!#[]\x7f\x80\xff";
  const std::string escaped = std::string("\"\\\n\t\r\x01\x00", 7);
  for (int n = 0; n < 20'000; ++n) {
    std::string text(random() % 80, 'a');
    for (char& c : text) c = alphabet[random() % alphabet.size()];
    for (int k = n % 5; !text.empty() && k > 0; --k) {
      text[random() % text.size()] = escaped[random() % escaped.size()];
    }
    std::vector<char> buf(MaxJsonStringSize(text.size()));
    ASSERT_EQ(std::string(buf.data(), WriteJsonString(text, buf.data())), reference(text)) << n;
  }
  // Every byte escaped to six: the output fills exactly the room promised.
  for (size_t size : {1, 15, 16, 17, 33, 100}) {
    const std::string text(size, '\x01');
    std::vector<char> buf(MaxJsonStringSize(size));
    EXPECT_EQ(WriteJsonString(text, buf.data()) - buf.data(), static_cast<ptrdiff_t>(buf.size()));
    EXPECT_EQ(std::string(buf.data(), buf.size()), reference(text));
  }
}

TEST(JsonWriter, AppendsAfterWhatTheStringHoldsAndTrimsToIt) {
  std::string out = "prefix:";
  {
    JsonWriter w(&out);
    w.Raw(R"({"n":)");
    w.Integer(-42);
    w.Raw(R"(,"s":)");
    w.StringOrNull("");
    w.Raw(R"(,"t":)");
    w.Timestamp(*ParseTimestamp("2026-11-25T10:00:00.250Z"));
    w.Raw(R"(,"d":)");
    w.Decimal(0.25);
    w.Member(R"(,"m":)", "a\"b");
    w.Char('}');
  }
  EXPECT_EQ(out, R"(prefix:{"n":-42,"s":null,"t":"2026-11-25T10:00:00.250Z","d":0.25,"m":"a\"b"})");
}

TEST(JsonWriter, GrowsPastItsFirstRoom) {
  std::string out;
  std::string expected;
  {
    JsonWriter w(&out);
    for (int i = 0; i < 5000; ++i) {
      const std::string piece = "piece-" + std::to_string(i) + "\"";
      w.String(piece);
      expected += "\"piece-" + std::to_string(i) + "\\\"\"";
    }
    w.Finish();
    EXPECT_EQ(out, expected);
    w.Char('!');  // writing on after Finish is allowed
  }
  EXPECT_EQ(out, expected + "!");
}

}  // namespace
}  // namespace upfront
