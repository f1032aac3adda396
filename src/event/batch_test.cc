#include "src/event/batch.h"

#include <gtest/gtest.h>

#include "src/event/event_parser.h"

namespace upfront {
namespace {

struct Split {
  absl::Status status;
  std::vector<RawEvent> events;
  BatchInfo info;
  std::string buffer;
};

std::unique_ptr<Split> SplitText(const std::string& payload, PayloadFormat format) {
  auto s = std::make_unique<Split>();
  s->buffer = payload + std::string(kParsePadding, '\0');
  s->status = SplitPayload(std::string_view(s->buffer.data(), payload.size()), format, &s->events, &s->info);
  return s;
}

TEST(SplitPayload, JsonLinesGiveOneEventPerNonBlankLineWithLineNumbers) {
  auto s = SplitText("{\"type\":\"track\"}\n\n  {broken\n{\"type\":\"page\"}\n", PayloadFormat::kAuto);
  ASSERT_TRUE(s->status.ok());
  ASSERT_EQ(s->events.size(), 3u);
  EXPECT_EQ(s->events[0].line, 1u);
  EXPECT_EQ(s->events[1].json, "{broken");
  EXPECT_EQ(s->events[1].line, 3u);
  EXPECT_EQ(s->events[2].line, 4u);
}

TEST(SplitPayload, SegmentBatchEnvelopeGivesItsMessagesAndDefaults) {
  auto s = SplitText(R"({"sentAt":"2026-11-25T10:00:00Z","context":{"timezone":"Asia/Tokyo"},
    "batch":[{"type":"track","userId":"u","event":"A"},
             {"type":"identify","userId":"u"}]})",
               PayloadFormat::kAuto);
  ASSERT_TRUE(s->status.ok()) << s->status;
  ASSERT_EQ(s->events.size(), 2u);
  EXPECT_EQ(s->events[0].json, R"({"type":"track","userId":"u","event":"A"})");
  EXPECT_EQ(s->events[1].line, 3u);
  EXPECT_EQ(s->info.timezone, "Asia/Tokyo");
  EXPECT_GT(s->info.sent_at, 0);
}

TEST(SplitPayload, ArrayAndSingleMessage) {
  auto array = SplitText(R"([{"type":"track"},{"type":"page"}])", PayloadFormat::kJson);
  ASSERT_TRUE(array->status.ok());
  EXPECT_EQ(array->events.size(), 2u);
  auto single = SplitText(R"(  {"type":"track","userId":"u","event":"A"} )", PayloadFormat::kAuto);
  ASSERT_TRUE(single->status.ok());
  ASSERT_EQ(single->events.size(), 1u);
  EXPECT_EQ(single->events[0].json, R"({"type":"track","userId":"u","event":"A"})");
}

TEST(SplitPayload, UnreadableDocumentsAreRejectedWhole) {
  auto bad = SplitText(R"({"batch":[{"type":"track"},)", PayloadFormat::kJson);
  EXPECT_FALSE(bad->status.ok());
  EXPECT_NE(std::string(bad->status.message()).find("not valid JSON"), std::string::npos);
  auto not_array = SplitText(R"({"batch":{"type":"track"}})", PayloadFormat::kJson);
  EXPECT_FALSE(not_array->status.ok());
  EXPECT_NE(std::string(not_array->status.message()).find("batch: must be an array"), std::string::npos);
}

TEST(SplitPayload, PrettyPrintedDocumentIsNotMistakenForLines) {
  auto s = SplitText("{\n  \"batch\": [\n    {\"type\":\"track\"}\n  ]\n}\n", PayloadFormat::kAuto);
  ASSERT_TRUE(s->status.ok()) << s->status;
  ASSERT_EQ(s->events.size(), 1u);
  EXPECT_EQ(s->events[0].line, 3u);
}

}  // namespace
}  // namespace upfront
