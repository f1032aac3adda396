#include "src/event/event_parser.h"

#include <gtest/gtest.h>

#include "src/common/hash.h"
#include "src/common/time_format.h"
#include "src/event/event_json.h"

namespace upfront {
namespace {

class EventParserTest : public ::testing::Test {
 protected:
  EventParserTest() : catalog_({"step", "path", "delay_days", "meta"}, {"plan", "email"}, {"email"}, "k3y") {}

  bool Parse(const std::string& json) {
    buffer_ = json + std::string(kParsePadding, '\0');
    return parser_.Parse(std::string_view(buffer_.data(), json.size()), defaults_, &event_, &error_);
  }
  void ExpectRejected(const std::string& json, const std::string& field, const std::string& reason_part) {
    ASSERT_FALSE(Parse(json)) << json;
    EXPECT_EQ(error_.field, field) << json;
    EXPECT_NE(error_.reason.find(reason_part), std::string::npos) << error_.reason;
  }

  FieldCatalog catalog_;
  EventParser parser_{&catalog_};
  ParseDefaults defaults_{.arrival = 1'000'000};
  Event event_;
  EventError error_;
  std::string buffer_;
};

TEST_F(EventParserTest, ReadsATrackCall) {
  ASSERT_TRUE(Parse(R"({"type":"track","userId":"u1","event":"Form Error","messageId":"m1",
      "timestamp":"2026-11-25T10:00:00Z","properties":{"step":"payment","delay_days":3,"extra":"x"},
      "context":{"timezone":"Asia/Tokyo","locale":"ja-JP"}})"))
      << error_.reason;
  EXPECT_EQ(event_.type, EventType::kTrack);
  EXPECT_EQ(event_.name, "Form Error");
  EXPECT_EQ(event_.user_id, "u1");
  EXPECT_EQ(event_.message_id, "m1");
  EXPECT_EQ(event_.timestamp, *ParseTimestamp("2026-11-25T10:00:00Z"));
  EXPECT_EQ(event_.received_at, 1'000'000);
  EXPECT_EQ(event_.timezone, "Asia/Tokyo");
  EXPECT_EQ(event_.locale, "ja-JP");
  ASSERT_EQ(event_.properties.size(), 2u);  // "extra" is not kept
  EXPECT_EQ(event_.properties.Find(catalog_.PropertyId("step"))->text, "payment");
  EXPECT_EQ(event_.properties.Find(catalog_.PropertyId("delay_days"))->number, 3);
}

TEST_F(EventParserTest, ARepeatedKeyKeepsItsFirstValue) {
  ASSERT_TRUE(Parse(R"({"type":"identify","userId":"u1","messageId":"m1",
      "properties":{"step":"one","path":"/a","step":"two"},
      "traits":{"plan":"pro"},"context":{"traits":{"plan":"free","email":"a@example.com"}}})"))
      << error_.reason;
  ASSERT_EQ(event_.properties.size(), 2u);
  EXPECT_EQ(event_.properties.Find(catalog_.PropertyId("step"))->text, "one");
  ASSERT_EQ(event_.traits.size(), 2u);  // top-level traits first, then context.traits
  EXPECT_EQ(event_.traits.Find(catalog_.TraitId("plan"))->text, "pro");
}

// Keys 64 apart share a bit of the parser's quick "seen" check; both are kept.
TEST(EventParser, KeysThatShareASeenBitAreEachKept) {
  std::vector<std::string> names;
  for (int i = 0; i < 70; ++i) names.push_back("p" + std::to_string(i));
  FieldCatalog catalog(names, {}, {}, "k");
  EventParser parser(&catalog);
  const std::string json = R"({"type":"track","userId":"u","event":"E","messageId":"m",)"
                           R"("properties":{"p0":1,"p64":2,"p1":3,"p65":4,"p0":5}})";
  const std::string buffer = json + std::string(kParsePadding, '\0');
  Event event;
  EventError error;
  ASSERT_TRUE(parser.Parse(std::string_view(buffer.data(), json.size()), ParseDefaults{}, &event, &error))
      << error.reason;
  ASSERT_EQ(catalog.PropertyId("p64") % 64, catalog.PropertyId("p0") % 64);
  ASSERT_EQ(event.properties.size(), 4u);
  EXPECT_EQ(event.properties.Find(catalog.PropertyId("p0"))->number, 1);
  EXPECT_EQ(event.properties.Find(catalog.PropertyId("p64"))->number, 2);
  EXPECT_EQ(event.properties.Find(catalog.PropertyId("p65"))->number, 4);
}

TEST_F(EventParserTest, NamesPageScreenIdentifyGroupAndAlias) {
  ASSERT_TRUE(Parse(R"({"type":"page","anonymousId":"a","name":"Checkout","context":{"page":{"path":"/checkout/pay"}}})"));
  EXPECT_EQ(event_.name, "Page Viewed");
  EXPECT_EQ(event_.page_name, "Checkout");
  EXPECT_EQ(event_.properties.Find(catalog_.PropertyId("path"))->text, "/checkout/pay");
  ASSERT_TRUE(Parse(R"({"type":"screen","userId":"u"})"));
  EXPECT_EQ(event_.name, "Screen Viewed");
  ASSERT_TRUE(Parse(R"({"type":"identify","userId":"u","traits":{"plan":"pro"}})"));
  EXPECT_EQ(event_.name, "Identify");
  ASSERT_TRUE(Parse(R"({"type":"group","userId":"u","groupId":"acme"})"));
  EXPECT_EQ(event_.name, "Group");
  ASSERT_TRUE(Parse(R"({"type":"alias","userId":"u","previousId":"a"})"));
  EXPECT_EQ(event_.previous_id, "a");
}

TEST_F(EventParserTest, RejectsEventsWithoutAnyId) {
  ExpectRejected(R"({"type":"track","event":"X"})", "userId", "needs userId or anonymousId");
}

TEST_F(EventParserTest, RejectsBadTimestamps) {
  ExpectRejected(R"({"type":"track","userId":"u","event":"X","timestamp":"yesterday"})", "timestamp",
                 "'yesterday' is not an ISO-8601 timestamp");
  ExpectRejected(R"({"type":"track","userId":"u","event":"X","timestamp":1732528800})", "timestamp",
                 "must be an ISO-8601 string, not a number");
  ExpectRejected(R"({"type":"track","userId":"u","event":"X","sentAt":"2026-02-30T00:00:00Z"})", "sentAt",
                 "is not an ISO-8601 timestamp");
}

TEST_F(EventParserTest, RejectsEventsOver32Kilobytes) {
  std::string big = R"({"type":"track","userId":"u","event":"X","properties":{"step":")" +
                    std::string(33 * 1024, 'x') + "\"}}";
  ExpectRejected(big, "", "the limit is 32768 bytes");
}

TEST_F(EventParserTest, RejectsUnknownAndMissingTypes) {
  ExpectRejected(R"({"type":"purchase","userId":"u"})", "type", "unknown type 'purchase'");
  ExpectRejected(R"({"userId":"u","event":"X"})", "type", "is missing");
  ExpectRejected(R"({"type":7,"userId":"u"})", "type", "must be a string, not a number");
}

TEST_F(EventParserTest, RejectsWrongJsonTypes) {
  ExpectRejected(R"({"type":"track","userId":"u","event":"X","properties":"step=1"})", "properties",
                 "must be a JSON object, not a string");
  ExpectRejected(R"({"type":"identify","userId":"u","traits":[1,2]})", "traits", "must be a JSON object, not an array");
  ExpectRejected(R"({"type":"track","userId":"u","event":"X","context":true})", "context",
                 "must be a JSON object, not a boolean");
  ExpectRejected(R"({"type":"track","userId":{"id":1},"event":"X"})", "userId", "must be a string, not an object");
  ExpectRejected(R"({"type":"track","userId":"u","event":42})", "event", "must be a string, not a number");
  ExpectRejected(R"({"type":"track","userId":"u","event":"X","context":{"timezone":9}})", "context.timezone",
                 "must be a string");
}

TEST_F(EventParserTest, AcceptsIntegerUserIds) {
  ASSERT_TRUE(Parse(R"({"type":"track","userId":12345,"event":"X"})"));
  EXPECT_EQ(event_.user_id, "12345");
}

TEST_F(EventParserTest, RejectsCallsMissingTheirOwnRequiredField) {
  ExpectRejected(R"({"type":"track","userId":"u"})", "event", "needs an event name");
  ExpectRejected(R"({"type":"alias","userId":"u"})", "previousId", "needs a previousId");
  ExpectRejected(R"({"type":"alias","anonymousId":"a","previousId":"b"})", "userId", "needs a userId");
  ExpectRejected(R"({"type":"group","userId":"u"})", "groupId", "needs a groupId");
}

TEST_F(EventParserTest, RejectsInvalidJsonAndNonObjects) {
  ExpectRejected(R"({"type":"track",)", "", "not valid JSON");
  ExpectRejected(R"(["track"])", "", "must be a JSON object, not an array");
}

TEST_F(EventParserTest, RejectsOverlongIds) {
  ExpectRejected(R"({"type":"track","event":"X","userId":")" + std::string(300, 'u') + "\"}", "userId",
                 "the limit is 256");
}

TEST_F(EventParserTest, HashesDeclaredPiiAndNeverKeepsTheClearValue) {
  ASSERT_TRUE(Parse(R"({"type":"identify","userId":"u","traits":{"email":"ana@example.com","ssn":"1"}})"));
  ASSERT_EQ(event_.traits.size(), 1u);
  const FieldValue* email = event_.traits.Find(catalog_.TraitId("email"));
  ASSERT_NE(email, nullptr);
  EXPECT_EQ(email->text, HmacSha256Hex("k3y", "ana@example.com"));
  std::string stored;
  AppendEventJson(event_, catalog_, &stored);
  EXPECT_EQ(stored.find("ana@example.com"), std::string::npos);
}

TEST_F(EventParserTest, MissingTimestampFallsBackToOriginalTimestampThenArrival) {
  ASSERT_TRUE(Parse(R"({"type":"track","userId":"u","event":"X","originalTimestamp":"2026-01-01T00:00:00Z"})"));
  EXPECT_EQ(event_.timestamp, *ParseTimestamp("2026-01-01"));
  ASSERT_TRUE(Parse(R"({"type":"track","userId":"u","event":"X"})"));
  EXPECT_EQ(event_.timestamp, 1'000'000);
}

TEST_F(EventParserTest, GeneratedMessageIdsAreDeterministic) {
  ASSERT_TRUE(Parse(R"({"type":"track","userId":"u","event":"X"})"));
  std::string first = event_.message_id;
  EXPECT_TRUE(event_.message_id_generated);
  EXPECT_EQ(first.rfind("auto-", 0), 0u);
  ASSERT_TRUE(Parse(R"({"type":"track","userId":"u","event":"X"})"));
  EXPECT_EQ(event_.message_id, first);
  ASSERT_TRUE(Parse(R"({"type":"track","userId":"u","event":"Y"})"));
  EXPECT_NE(event_.message_id, first);
}

TEST_F(EventParserTest, StoredFormRoundTripsExactly) {
  ASSERT_TRUE(Parse(R"({"type":"track","userId":"u","anonymousId":"a","event":"Shipment \"Delayed\"\n",
      "messageId":"m","timestamp":"2026-11-25T10:00:00.123456Z","sentAt":"2026-11-25T10:00:01Z",
      "properties":{"delay_days":2.5,"meta":{"a":[1,2]},"step":null},"traits":{"email":"x@y.z"},
      "context":{"timezone":"Europe/Madrid","channel":"web"}})"));
  event_.late = true;
  std::string stored;
  AppendEventJson(event_, catalog_, &stored);
  Event copy;
  std::string padded = stored + std::string(kParsePadding, '\0');
  ASSERT_TRUE(parser_.ParseStored(std::string_view(padded.data(), stored.size()), &copy, &error_)) << error_.reason;
  std::string again;
  AppendEventJson(copy, catalog_, &again);
  EXPECT_EQ(again, stored);
  EXPECT_TRUE(copy.late);
  EXPECT_EQ(copy.received_at, 1'000'000);
  EXPECT_EQ(copy.traits.Find(catalog_.TraitId("email"))->text, event_.traits.Find(catalog_.TraitId("email"))->text);
  EXPECT_EQ(copy.properties.Find(catalog_.PropertyId("meta"))->text, R"({"a":[1,2]})");
}

}  // namespace
}  // namespace upfront
