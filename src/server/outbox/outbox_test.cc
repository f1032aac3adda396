// The outbox against a real HTTP receiver on 127.0.0.1: signatures checked
// independently, retries driven by a ManualClock, restarts by reopening.
#include "src/server/outbox/outbox.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "src/common/manual_clock.h"
#include "src/common/time_format.h"
#include "src/server/outbox/internal/http_post.h"
#include "src/server/outbox/internal/retry.h"
#include "src/testing/temp_dir.h"
#include "src/testing/webhook_receiver.h"

namespace upfront {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;
using testing::Answer;
using testing::Receiver;
using testing::Received;
using testing::SignatureIsValid;

// The Standard Webhooks reference libraries' signing test vector.
constexpr char kVectorSecret[] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
constexpr char kVectorId[] = "msg_p5jXN8AQM9LWM0D4loKWxJek";
constexpr int64_t kVectorTimestamp = 1614265330;
constexpr char kVectorPayload[] = R"({"test": 2432232314})";
constexpr char kVectorSignature[] = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

// 32 bytes, base64.
constexpr char kSecret[] = "whsec_C2FQaGVyZVNlY3JldEtleUZvclVwZnJvbnRUZXN0cyE=";

Micros At(const char* text) { return *ParseTimestamp(text); }

nlohmann::json Items(const Outbox& outbox, std::string_view status = "", size_t limit = 1000) {
  absl::StatusOr<std::string> text = outbox.ItemsJson(status, limit);
  EXPECT_TRUE(text.ok()) << text.status();
  return nlohmann::json::parse(text.value_or("[]"));
}

nlohmann::json Item(const Outbox& outbox, const std::string& id) {
  for (const nlohmann::json& item : Items(outbox)) {
    if (item["id"] == id) return item;
  }
  ADD_FAILURE() << "no item " << id;
  return {};
}

OutboxMessage Message(const std::string& id, const std::string& customer = "cust-1",
                      const std::string& endpoint = "email") {
  return OutboxMessage{id, endpoint, customer, "nudge.deliver",
                       R"({"type":"nudge.deliver","data":{"message":")" + id + R"("}})"};
}

class OutboxTest : public ::testing::Test {
 protected:
  OutboxOptions Options() {
    OutboxOptions options;
    options.clock = &clock_;
    options.retry.jitter = 0;  // exact schedules; jitter has its own test
    options.endpoints = {{"email", receiver_.Url(), kSecret, 5 * kMicrosPerSecond}};
    options.sync = false;
    return options;
  }
  std::unique_ptr<Outbox> Open(OutboxOptions options) {
    absl::StatusOr<std::unique_ptr<Outbox>> outbox =
        Outbox::Open(dir_.file("outbox"), std::move(options));
    EXPECT_TRUE(outbox.ok()) << outbox.status();
    return outbox.ok() ? *std::move(outbox) : nullptr;
  }
  std::unique_ptr<Outbox> Open() { return Open(Options()); }
  size_t Deliver(Outbox& outbox) {
    absl::StatusOr<size_t> attempts = outbox.DeliverDue();
    EXPECT_TRUE(attempts.ok()) << attempts.status();
    return attempts.value_or(0);
  }

  ManualClock clock_{At("2026-11-05T10:00:00Z")};
  testing::TempDir dir_;
  Receiver receiver_;
};

TEST(SignWebhook, MatchesTheStandardWebhooksTestVector) {
  absl::StatusOr<std::string> signature =
      SignWebhook(kVectorSecret, kVectorId, kVectorTimestamp, kVectorPayload);
  ASSERT_TRUE(signature.ok()) << signature.status();
  EXPECT_EQ(*signature, kVectorSignature);
  EXPECT_TRUE(SignatureIsValid(kVectorSecret, kVectorId, std::to_string(kVectorTimestamp),
                               kVectorPayload, *signature));
  EXPECT_FALSE(SignatureIsValid(kVectorSecret, kVectorId, std::to_string(kVectorTimestamp + 1),
                                kVectorPayload, *signature));
}

TEST(SignWebhook, RejectsMalformedSecrets) {
  for (const char* secret : {"", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_", "whsec_abc",
                             "whsec_MfKQ9r8G*YqrTwjUPD8ILPZIo2LaLaSw", "whsec_ab=c"}) {
    absl::StatusOr<std::string> signature = SignWebhook(secret, "msg_1", 1, "{}");
    EXPECT_EQ(signature.status().code(), absl::StatusCode::kInvalidArgument) << secret;
    // The secret never shows in the message: it ends up in logs.
    if (std::string_view(secret).size() > 6) {
      EXPECT_THAT(signature.status().message(), ::testing::Not(HasSubstr(secret + 6)));
    }
  }
}

TEST(RetrySchedule, DoublesFromTheFirstDelayUpToTheCap) {
  RetryPolicy policy;
  policy.jitter = 0;
  std::vector<Micros> delays;
  for (uint32_t attempt = 1; attempt <= 12; ++attempt) {
    delays.push_back(outbox_internal::RetryDelay(policy, attempt, "msg_1", 0) / kMicrosPerSecond);
  }
  EXPECT_THAT(delays, ElementsAre(5, 10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600, 3600));
  EXPECT_EQ(outbox_internal::RetryDelay(policy, 1000, "msg_1", 0), kMicrosPerHour);
}

TEST(RetrySchedule, JitterIsDeterministicWithinItsShareAndSpreadsMessages) {
  RetryPolicy policy;  // jitter 0.2
  std::set<Micros> seen;
  for (int i = 0; i < 200; ++i) {
    const std::string id = "msg_" + std::to_string(i);
    const Micros delay = outbox_internal::RetryDelay(policy, 3, id, 42);
    EXPECT_EQ(delay, outbox_internal::RetryDelay(policy, 3, id, 42));
    EXPECT_GE(delay, 16 * kMicrosPerSecond);
    EXPECT_LE(delay, 24 * kMicrosPerSecond);
    seen.insert(delay);
    // Capped delays jitter downwards only: never past max_delay.
    EXPECT_LE(outbox_internal::RetryDelay(policy, 30, id, 42), kMicrosPerHour);
    EXPECT_GE(outbox_internal::RetryDelay(policy, 30, id, 42), 48 * kMicrosPerMinute);
  }
  EXPECT_GT(seen.size(), 150u);
  EXPECT_NE(outbox_internal::RetryDelay(policy, 3, "msg_1", 1),
            outbox_internal::RetryDelay(policy, 3, "msg_1", 2));
}

TEST(RetrySchedule, RetryAfterTakesSecondsOrAnHttpDate) {
  const Micros now = At("2015-10-21T07:00:00Z");
  using outbox_internal::ParseRetryAfter;
  EXPECT_EQ(ParseRetryAfter("120", now), now + 120 * kMicrosPerSecond);
  EXPECT_EQ(ParseRetryAfter(" 0 ", now), now);
  EXPECT_EQ(ParseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT", now), At("2015-10-21T07:28:00Z"));
  EXPECT_EQ(ParseRetryAfter("Wednesday, 21-Oct-15 07:28:00 GMT", now), At("2015-10-21T07:28:00Z"));
  EXPECT_EQ(ParseRetryAfter("Wed Oct 21 07:28:00 2015", now), At("2015-10-21T07:28:00Z"));
  EXPECT_EQ(ParseRetryAfter("", now), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("-5", now), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("soon", now), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("Wed, 32 Oct 2015 07:28:00 GMT", now), std::nullopt);
}

TEST_F(OutboxTest, DeliversASignedPostWithTheStandardWebhooksHeaders) {
  auto outbox = Open();
  const OutboxMessage message = Message("msg_00ab");
  ASSERT_TRUE(outbox->Enqueue(message).ok());
  EXPECT_EQ(outbox->Stats().pending, 1u);
  EXPECT_EQ(Deliver(*outbox), 1u);

  const std::vector<Received> requests = receiver_.requests();
  ASSERT_THAT(requests, SizeIs(1));
  const Received& request = requests[0];
  EXPECT_EQ(request.header("method"), "POST");
  EXPECT_EQ(request.target, "/hooks/email");
  EXPECT_EQ(request.body, message.payload);
  EXPECT_EQ(request.header("webhook-id"), "msg_00ab");
  EXPECT_EQ(request.header("webhook-timestamp"), std::to_string(clock_.Now() / kMicrosPerSecond));
  EXPECT_EQ(request.header("content-type"), "application/json");
  EXPECT_EQ(request.header("user-agent"), "Upfront");
  EXPECT_EQ(request.header("host"), "127.0.0.1:" + std::to_string(receiver_.port()));
  EXPECT_TRUE(SignatureIsValid(kSecret, request.header("webhook-id"),
                               request.header("webhook-timestamp"), request.body,
                               request.header("webhook-signature")))
      << request.header("webhook-signature");

  const OutboxStats stats = outbox->Stats();
  EXPECT_EQ(stats.enqueued, 1u);
  EXPECT_EQ(stats.delivered, 1u);
  EXPECT_EQ(stats.attempts, 1u);
  EXPECT_EQ(stats.pending, 0u);
  const nlohmann::json item = Item(*outbox, "msg_00ab");
  EXPECT_EQ(item["status"], "delivered");
  EXPECT_EQ(item["attempts"], 1);
  EXPECT_EQ(item["delivered_at"], "2026-11-05T10:00:00.000Z");
  EXPECT_EQ(item["created"], "2026-11-05T10:00:00.000Z");
  EXPECT_TRUE(item["next_attempt"].is_null());
  EXPECT_FALSE(item.contains("payload"));
  // Nothing more to do.
  EXPECT_EQ(Deliver(*outbox), 0u);
}

TEST_F(OutboxTest, RetriesAFailureThenWaitsAsRetryAfterSaysThenDelivers) {
  receiver_.Script({{500}, {429, "120"}, {200}});
  auto outbox = Open();
  ASSERT_TRUE(outbox->Enqueue(Message("msg_1")).ok());
  const Micros start = clock_.Now();

  EXPECT_EQ(Deliver(*outbox), 1u);  // 500
  nlohmann::json item = Item(*outbox, "msg_1");
  EXPECT_EQ(item["status"], "pending");
  EXPECT_EQ(item["last_error"], "HTTP 500");
  EXPECT_EQ(item["next_attempt"], FormatTimestamp(start + 5 * kMicrosPerSecond));
  clock_.Advance(4 * kMicrosPerSecond);
  EXPECT_EQ(Deliver(*outbox), 0u);  // not yet

  clock_.Set(start + 5 * kMicrosPerSecond);
  const Micros second = clock_.Now();
  EXPECT_EQ(Deliver(*outbox), 1u);  // 429, Retry-After: 120
  item = Item(*outbox, "msg_1");
  EXPECT_EQ(item["last_error"], "HTTP 429 (Retry-After: 120)");
  EXPECT_EQ(item["next_attempt"], FormatTimestamp(second + 120 * kMicrosPerSecond));
  // The backoff alone (10s) has passed; Retry-After has not.
  clock_.Set(second + 119 * kMicrosPerSecond);
  EXPECT_EQ(Deliver(*outbox), 0u);
  EXPECT_THAT(receiver_.requests(), SizeIs(2));

  clock_.Set(second + 120 * kMicrosPerSecond);
  const Micros third = clock_.Now();
  EXPECT_EQ(Deliver(*outbox), 1u);  // 200
  EXPECT_EQ(Item(*outbox, "msg_1")["status"], "delivered");

  const std::vector<Received> requests = receiver_.requests();
  ASSERT_THAT(requests, SizeIs(3));
  const Micros times[] = {start, second, third};
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(requests[i].header("webhook-id"), "msg_1");
    EXPECT_EQ(requests[i].header("webhook-timestamp"), std::to_string(times[i] / kMicrosPerSecond));
    EXPECT_TRUE(SignatureIsValid(kSecret, "msg_1", requests[i].header("webhook-timestamp"),
                                 requests[i].body, requests[i].header("webhook-signature")));
  }
  const OutboxStats stats = outbox->Stats();
  EXPECT_EQ(stats.attempts, 3u);
  EXPECT_EQ(stats.failed_attempts, 2u);
  EXPECT_EQ(stats.rate_limited, 1u);
  EXPECT_EQ(stats.delivered, 1u);
}

TEST_F(OutboxTest, AServiceUnavailableRetryAfterDateHoldsBackTheWholeEndpoint) {
  const Micros start = clock_.Now();
  receiver_.Script({{503, "Thu, 05 Nov 2026 10:10:00 GMT"}});
  auto outbox = Open();
  ASSERT_TRUE(outbox->Enqueue(Message("msg_a")).ok());
  EXPECT_EQ(Deliver(*outbox), 1u);
  EXPECT_EQ(Item(*outbox, "msg_a")["next_attempt"], "2026-11-05T10:10:00.000Z");

  // A message enqueued meanwhile waits for the same moment without an attempt.
  clock_.Set(start + kMicrosPerMinute);
  ASSERT_TRUE(outbox->Enqueue(Message("msg_b")).ok());
  EXPECT_EQ(Deliver(*outbox), 0u);
  EXPECT_EQ(Item(*outbox, "msg_b")["next_attempt"], "2026-11-05T10:10:00.000Z");
  EXPECT_EQ(Item(*outbox, "msg_b")["attempts"], 0);
  EXPECT_THAT(receiver_.requests(), SizeIs(1));

  clock_.Set(At("2026-11-05T10:10:00Z"));
  EXPECT_EQ(Deliver(*outbox), 2u);
  EXPECT_EQ(outbox->Stats().delivered, 2u);
}

TEST_F(OutboxTest, RedirectsAndClientErrorsOtherThanGoneAreRetried) {
  receiver_.Script({{301}, {404}, {400}});
  auto outbox = Open();
  ASSERT_TRUE(outbox->Enqueue(Message("msg_1")).ok());
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(Deliver(*outbox), 1u);
    clock_.Advance(kMicrosPerHour);
  }
  EXPECT_EQ(Item(*outbox, "msg_1")["status"], "delivered");
  EXPECT_EQ(Item(*outbox, "msg_1")["attempts"], 4);
}

TEST_F(OutboxTest, TimeoutsAndRefusedConnectionsAreFailedAttempts) {
  receiver_.Script({Answer::Stall()});
  OutboxOptions options = Options();
  options.endpoints[0].timeout = 300 * kMicrosPerMilli;
  // A port nothing listens on: bind one, note it, close it.
  uint16_t closed_port;
  {
    asio::io_context io;
    tcp::acceptor probe(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    closed_port = probe.local_endpoint().port();
  }
  options.endpoints.push_back({"sms", "http://127.0.0.1:" + std::to_string(closed_port) + "/sms",
                               kSecret, kMicrosPerSecond});
  auto outbox = Open(std::move(options));
  ASSERT_TRUE(outbox->Enqueue(Message("msg_slow")).ok());
  ASSERT_TRUE(outbox->Enqueue(Message("msg_refused", "cust-1", "sms")).ok());
  const auto before = std::chrono::steady_clock::now();
  EXPECT_EQ(Deliver(*outbox), 2u);
  EXPECT_LT(std::chrono::steady_clock::now() - before, std::chrono::seconds(5));
  receiver_.ReleaseStalls();

  EXPECT_EQ(Item(*outbox, "msg_slow")["status"], "pending");
  EXPECT_THAT(Item(*outbox, "msg_slow")["last_error"].get<std::string>(),
              HasSubstr("no answer within 300ms"));
  EXPECT_EQ(Item(*outbox, "msg_refused")["status"], "pending");
  EXPECT_THAT(Item(*outbox, "msg_refused")["last_error"].get<std::string>(),
              HasSubstr("connecting to 127.0.0.1:" + std::to_string(closed_port)));
  EXPECT_EQ(outbox->Stats().failed_attempts, 2u);
}

TEST_F(OutboxTest, GoneDisablesTheEndpointAndDeadLettersItsMessagesUntilReplay) {
  Receiver sms;
  OutboxOptions options = Options();
  options.endpoints.push_back({"sms", sms.Url("/sms"), kSecret, 5 * kMicrosPerSecond});
  receiver_.Script({{410}});
  auto outbox = Open(options);
  ASSERT_TRUE(outbox->Enqueue(Message("msg_1")).ok());
  ASSERT_TRUE(outbox->Enqueue(Message("msg_2")).ok());
  ASSERT_TRUE(outbox->Enqueue(Message("msg_3", "cust-1", "sms")).ok());
  // msg_1 gets 410; msg_2 is not attempted; the other endpoint is unaffected.
  EXPECT_EQ(Deliver(*outbox), 2u);
  EXPECT_THAT(receiver_.requests(), SizeIs(1));
  EXPECT_THAT(sms.requests(), SizeIs(1));
  EXPECT_EQ(Item(*outbox, "msg_1")["status"], "dead");
  EXPECT_THAT(Item(*outbox, "msg_1")["last_error"].get<std::string>(), HasSubstr("HTTP 410 Gone"));
  EXPECT_EQ(Item(*outbox, "msg_2")["status"], "dead");
  EXPECT_THAT(Item(*outbox, "msg_2")["last_error"].get<std::string>(), HasSubstr("is disabled"));
  EXPECT_EQ(Item(*outbox, "msg_3")["status"], "delivered");
  EXPECT_EQ(outbox->Stats().disabled_endpoints, 1u);

  // Disabled survives a restart; new messages for it go to the dead letters.
  outbox.reset();
  outbox = Open(options);
  EXPECT_EQ(outbox->Stats().disabled_endpoints, 1u);
  ASSERT_TRUE(outbox->Enqueue(Message("msg_4")).ok());
  EXPECT_EQ(Item(*outbox, "msg_4")["status"], "dead");
  EXPECT_EQ(Deliver(*outbox), 0u);
  EXPECT_EQ(outbox->Stats().dead, 3u);

  // Replay re-enables the endpoint and sends everything.
  absl::StatusOr<size_t> replayed = outbox->Replay("");
  ASSERT_TRUE(replayed.ok()) << replayed.status();
  EXPECT_EQ(*replayed, 3u);
  EXPECT_EQ(outbox->Stats().disabled_endpoints, 0u);
  EXPECT_EQ(outbox->Stats().dead, 0u);
  EXPECT_EQ(Item(*outbox, "msg_1")["attempts"], 0);
  EXPECT_EQ(Deliver(*outbox), 3u);
  EXPECT_EQ(Items(*outbox, "delivered").size(), 4u);
  outbox.reset();
  EXPECT_EQ(Open(options)->Stats().disabled_endpoints, 0u);
}

TEST_F(OutboxTest, DeadLettersAfterTheHorizonAndReplayDeliversThem) {
  receiver_.Script({}, /*fallback=*/{500});
  OutboxOptions options = Options();
  options.retry.first_delay = 10 * kMicrosPerSecond;
  options.retry.max_delay = kMicrosPerMinute;
  options.retry.horizon = 5 * kMicrosPerMinute;
  auto outbox = Open(options);
  ASSERT_TRUE(outbox->Enqueue(Message("msg_1")).ok());
  const Micros start = clock_.Now();
  // Attempts at 0, 10s, 30s, 70s, 130s, 190s, 250s; the next (310s) would pass 5m.
  std::vector<Micros> attempt_times;
  while (clock_.Now() < start + 10 * kMicrosPerMinute) {
    if (Deliver(*outbox) > 0) attempt_times.push_back((clock_.Now() - start) / kMicrosPerSecond);
    clock_.Advance(kMicrosPerSecond);
  }
  EXPECT_THAT(attempt_times, ElementsAre(0, 10, 30, 70, 130, 190, 250));
  nlohmann::json dead = Items(*outbox, "dead");
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0]["id"], "msg_1");
  EXPECT_EQ(dead[0]["attempts"], 7);
  EXPECT_THAT(
      dead[0]["last_error"].get<std::string>(),
      HasSubstr("HTTP 500; gave up after 7 attempts, the next would pass the 5m retry horizon"));
  EXPECT_EQ(outbox->Stats().dead, 1u);
  EXPECT_EQ(outbox->Stats().pending, 0u);

  EXPECT_EQ(outbox->Replay("msg_nope").status().code(), absl::StatusCode::kNotFound);
  receiver_.Script({}, /*fallback=*/{200});
  absl::StatusOr<size_t> replayed = outbox->Replay("msg_1");
  ASSERT_TRUE(replayed.ok()) << replayed.status();
  EXPECT_EQ(*replayed, 1u);
  EXPECT_EQ(Item(*outbox, "msg_1")["status"], "pending");
  EXPECT_EQ(Deliver(*outbox), 1u);
  EXPECT_EQ(Item(*outbox, "msg_1")["status"], "delivered");
  EXPECT_EQ(Item(*outbox, "msg_1")["attempts"], 1);
  EXPECT_EQ(outbox->Replay("msg_1").status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(*outbox->Replay(""), 0u);
}

TEST_F(OutboxTest, ARetryAfterBeyondTheHorizonDeadLettersAtOnce) {
  receiver_.Script({{429, "90000"}});
  auto outbox = Open();
  ASSERT_TRUE(outbox->Enqueue(Message("msg_1")).ok());
  EXPECT_EQ(Deliver(*outbox), 1u);
  EXPECT_EQ(Item(*outbox, "msg_1")["status"], "dead");
}

TEST_F(OutboxTest, NothingIsLostOrRepeatedAcrossRestarts) {
  receiver_.Script({{500}});
  {
    auto outbox = Open();
    ASSERT_TRUE(outbox->Enqueue(Message("msg_1")).ok());
    ASSERT_TRUE(outbox->Enqueue(Message("msg_2")).ok());
    EXPECT_EQ(Deliver(*outbox), 2u);  // msg_1 fails, msg_2 delivered
    ASSERT_TRUE(outbox->Enqueue(Message("msg_3")).ok());
    ASSERT_TRUE(outbox->Enqueue(Message("msg_3")).ok());  // the same id again
    EXPECT_EQ(outbox->Stats().enqueued, 3u);
  }
  {
    auto outbox = Open();
    EXPECT_EQ(outbox->Stats().pending, 2u);
    // Already in the outbox, in any state: not added again.
    ASSERT_TRUE(outbox->Enqueue(Message("msg_2")).ok());
    ASSERT_TRUE(outbox->Enqueue(Message("msg_1")).ok());
    EXPECT_EQ(outbox->Stats().enqueued, 0u);
    EXPECT_EQ(Deliver(*outbox), 1u);  // msg_3; msg_1 waits for its retry
    clock_.Advance(5 * kMicrosPerSecond);
    EXPECT_EQ(Deliver(*outbox), 1u);  // msg_1
    nlohmann::json msg_1 = Item(*outbox, "msg_1");
    EXPECT_EQ(msg_1["attempts"], 2);
    EXPECT_EQ(msg_1["status"], "delivered");
  }
  auto outbox = Open();
  EXPECT_EQ(Deliver(*outbox), 0u);
  clock_.Advance(kMicrosPerDay);
  EXPECT_EQ(Deliver(*outbox), 0u);
  EXPECT_EQ(Items(*outbox, "delivered").size(), 3u);

  std::map<std::string, int> delivered_ids;
  const std::vector<Received> requests = receiver_.requests();
  for (size_t i = 0; i < requests.size(); ++i) {
    if (i != 0) ++delivered_ids[requests[i].header("webhook-id")];  // the first answer was 500
  }
  EXPECT_EQ(delivered_ids, (std::map<std::string, int>{{"msg_1", 1}, {"msg_2", 1}, {"msg_3", 1}}));
}

TEST_F(OutboxTest, ListsItemsOldestFirstFilteredByStatus) {
  receiver_.Script({{200}, {500}});
  auto outbox = Open();
  for (const char* id : {"msg_c", "msg_a", "msg_b"}) ASSERT_TRUE(outbox->Enqueue(Message(id)).ok());
  // Attempted in order of due time, then id: msg_a delivered, msg_b fails.
  EXPECT_EQ(Deliver(*outbox), 3u);
  const auto ids = [](const nlohmann::json& items) {
    std::vector<std::string> out;
    for (const auto& item : items) out.push_back(item["id"]);
    return out;
  };
  EXPECT_THAT(ids(Items(*outbox)), ElementsAre("msg_c", "msg_a", "msg_b"));
  EXPECT_THAT(ids(Items(*outbox, "", 2)), ElementsAre("msg_c", "msg_a"));
  EXPECT_THAT(ids(Items(*outbox, "delivered")), ElementsAre("msg_c", "msg_a"));
  EXPECT_THAT(ids(Items(*outbox, "pending")), ElementsAre("msg_b"));
  EXPECT_THAT(ids(Items(*outbox, "dead")), ElementsAre());
  const nlohmann::json item = Items(*outbox, "pending")[0];
  std::vector<std::string> keys;
  for (const auto& [key, value] : item.items()) keys.push_back(key);
  EXPECT_THAT(keys, ::testing::UnorderedElementsAre("id", "endpoint", "type", "status", "attempts",
                                                    "next_attempt", "last_error", "created",
                                                    "delivered_at"));
  EXPECT_EQ(item["type"], "nudge.deliver");
  EXPECT_EQ(item["endpoint"], "email");
  EXPECT_EQ(outbox->ItemsJson("failed", 10).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(OutboxTest, ErasesAndExportsEveryItemOfACustomer) {
  receiver_.Script({}, /*fallback=*/{500});
  auto outbox = Open();
  ASSERT_TRUE(outbox->Enqueue(Message("msg_1", "cust-a")).ok());
  ASSERT_TRUE(outbox->Enqueue(Message("msg_2", "cust-b")).ok());
  ASSERT_TRUE(outbox->Enqueue(Message("msg_3", "cust-a")).ok());
  ASSERT_TRUE(outbox->Enqueue(Message("msg_4", "cust-ab")).ok());
  EXPECT_EQ(Deliver(*outbox), 4u);

  absl::StatusOr<std::string> exported = outbox->ExportCustomers({"cust-a"});
  ASSERT_TRUE(exported.ok()) << exported.status();
  nlohmann::json items = nlohmann::json::parse(*exported);
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0]["id"], "msg_1");
  EXPECT_EQ(items[0]["customer"], "cust-a");
  EXPECT_EQ(items[0]["payload"], Message("msg_1").payload);
  EXPECT_EQ(items[0]["last_error"], "HTTP 500");
  EXPECT_EQ(items[1]["id"], "msg_3");

  absl::StatusOr<size_t> erased = outbox->EraseCustomers({"cust-a", "cust-nobody"});
  ASSERT_TRUE(erased.ok()) << erased.status();
  EXPECT_EQ(*erased, 2u);
  EXPECT_EQ(*outbox->ExportCustomers({"cust-a"}), "[]");
  EXPECT_EQ(outbox->Stats().pending, 2u);
  receiver_.Script({}, /*fallback=*/{200});
  clock_.Advance(kMicrosPerMinute);
  EXPECT_EQ(Deliver(*outbox), 2u);
  const std::vector<Received> requests = receiver_.requests();
  ASSERT_THAT(requests, SizeIs(6));
  EXPECT_EQ(requests[4].header("webhook-id"), "msg_2");
  EXPECT_EQ(requests[5].header("webhook-id"), "msg_4");
  outbox.reset();
  outbox = Open();
  EXPECT_EQ(Items(*outbox).size(), 2u);
  EXPECT_EQ(*outbox->ExportCustomers({"cust-a"}), "[]");
}

TEST_F(OutboxTest, RefusesMalformedMessagesAndEndpoints) {
  auto outbox = Open();
  EXPECT_EQ(outbox->Enqueue(Message("")).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(outbox->Enqueue(Message("msg.1")).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(outbox->Enqueue(Message("msg 1")).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(outbox->Enqueue(Message("msg_1\r\nx: y")).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(outbox->Enqueue(Message("msg_1", "")).code(), absl::StatusCode::kInvalidArgument);
  absl::Status unknown = outbox->Enqueue(Message("msg_1", "cust-1", "pager"));
  EXPECT_EQ(unknown.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(unknown.message(), HasSubstr("no webhook endpoint named 'pager'"));
  EXPECT_EQ(outbox->Stats().enqueued, 0u);
  outbox.reset();

  const auto open_with = [&](WebhookEndpoint endpoint) {
    OutboxOptions options = Options();
    options.endpoints = {std::move(endpoint)};
    return Outbox::Open(dir_.file("outbox"), std::move(options)).status();
  };
  EXPECT_THAT(open_with({"email", "https://example.com/", kSecret}).message(),
              HasSubstr("is https"));
  EXPECT_THAT(open_with({"email", "ftp://example.com/", kSecret}).message(),
              HasSubstr("must start with http://"));
  EXPECT_THAT(open_with({"email", receiver_.Url(), "whsec_YWJj"}).message(),
              HasSubstr("holds 3 bytes"));
  EXPECT_THAT(open_with({"email", receiver_.Url(), "secret"}).message(),
              HasSubstr("starts with whsec_"));
  EXPECT_EQ(open_with({"email", receiver_.Url(), kSecret, 0}).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(OutboxTest, EnqueueManyGivesEachMessageItsOwnStatusAndAddsEachIdOnce) {
  receiver_.Script({}, /*fallback=*/{200});
  auto outbox = Open();
  ASSERT_TRUE(outbox->Enqueue(Message("msg_old")).ok());
  const std::vector<OutboxMessage> messages = {Message("msg_1"), Message("msg.bad"), Message("msg_old"),
                                               Message("msg_2", "cust-2"), Message("msg_1"),
                                               Message("msg_3", "cust-1", "pager")};
  const std::vector<absl::Status> statuses = outbox->EnqueueMany(messages);
  ASSERT_THAT(statuses, SizeIs(messages.size()));
  EXPECT_TRUE(statuses[0].ok());
  EXPECT_EQ(statuses[1].code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(statuses[2].ok());  // already queued: not added again
  EXPECT_TRUE(statuses[3].ok());
  EXPECT_TRUE(statuses[4].ok());  // the same id twice in one call: added once
  EXPECT_EQ(statuses[5].code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(outbox->Stats().enqueued, 3u);

  outbox.reset();
  outbox = Open();  // durable, with sequence numbers that keep their order
  EXPECT_EQ(outbox->Stats().pending, 3u);
  EXPECT_EQ(Deliver(*outbox), 3u);
  std::vector<std::string> delivered;
  for (const Received& r : receiver_.requests()) delivered.push_back(r.header("webhook-id"));
  EXPECT_THAT(delivered, ::testing::UnorderedElementsAre("msg_old", "msg_1", "msg_2"));
  ASSERT_TRUE(outbox->Enqueue(Message("msg_4")).ok());
  const nlohmann::json items = Items(*outbox);
  ASSERT_EQ(items.size(), 4u);
  EXPECT_EQ(items[0]["id"], "msg_old");  // oldest first
  EXPECT_EQ(items[3]["id"], "msg_4");
}

TEST_F(OutboxTest, TheDeliveryThreadDeliversWhatOtherThreadsEnqueue) {
  auto outbox = Open();
  outbox->Start();
  constexpr int kThreads = 4;
  constexpr int kPerThread = 25;
  std::vector<std::thread> producers;
  for (int t = 0; t < kThreads; ++t) {
    producers.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::string id = "msg_" + std::to_string(t) + "_" + std::to_string(i);
        EXPECT_TRUE(outbox->Enqueue(Message(id, "cust-" + std::to_string(i % 3))).ok());
        EXPECT_TRUE(outbox->Enqueue(Message(id)).ok());  // a duplicate, racing the delivery
        if (i % 10 == 0) {
          (void)outbox->Stats();
          EXPECT_TRUE(outbox->ItemsJson("pending", 5).ok());
          EXPECT_TRUE(outbox->Replay("").ok());
        }
      }
    });
  }
  for (std::thread& producer : producers) producer.join();
  ASSERT_TRUE(receiver_.WaitForRequests(kThreads * kPerThread));
  outbox->Stop();
  outbox->Stop();  // stopping twice is harmless
  std::set<std::string> ids;
  for (const Received& request : receiver_.requests()) ids.insert(request.header("webhook-id"));
  EXPECT_EQ(ids.size(), static_cast<size_t>(kThreads * kPerThread));
  EXPECT_THAT(receiver_.requests(), SizeIs(kThreads * kPerThread));
  EXPECT_EQ(outbox->Stats().delivered, static_cast<uint64_t>(kThreads * kPerThread));
  EXPECT_EQ(outbox->Stats().pending, 0u);
}

TEST_F(OutboxTest, StopFinishesTheAttemptInFlightAndLeavesTheRestPending) {
  receiver_.Script({Answer::Stall()});
  OutboxOptions options = Options();
  options.endpoints[0].timeout = 500 * kMicrosPerMilli;
  auto outbox = Open(std::move(options));
  for (const char* id : {"msg_1", "msg_2", "msg_3"}) ASSERT_TRUE(outbox->Enqueue(Message(id)).ok());
  outbox->Start();
  ASSERT_TRUE(receiver_.WaitForRequests(1));
  outbox->Stop();  // msg_1 is in flight (the receiver stalls): it finishes, by timing out
  receiver_.ReleaseStalls();
  EXPECT_EQ(Item(*outbox, "msg_1")["attempts"], 1);
  EXPECT_EQ(Item(*outbox, "msg_2")["attempts"], 0);
  EXPECT_EQ(outbox->Stats().pending, 3u);
  EXPECT_EQ(Deliver(*outbox), 2u);
}

TEST(EndpointsFromPolicy, ReadsSecretsFromTheEnvironmentWhenTheServerStarts) {
  absl::StatusOr<Policy> policy = LoadPolicyText(std::string(R"(version: v1
channels: {email: {webhook: email}, sms: {webhook: sms}}
webhooks:
  email: {url: "http://127.0.0.1:9000/email", secret_env: UPFRONT_TEST_EMAIL_SECRET, timeout: 10s}
  sms: {url: "http://127.0.0.1:9000/sms", secret: ")") +
                                                     kSecret + R"("}
)",
                                                 "p.yaml");
  ASSERT_TRUE(policy.ok()) << policy.status();
  ::unsetenv("UPFRONT_TEST_EMAIL_SECRET");
  absl::StatusOr<std::vector<WebhookEndpoint>> endpoints = EndpointsFromPolicy(*policy);
  EXPECT_EQ(endpoints.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(endpoints.status().message(),
              HasSubstr("webhook 'email': the environment variable UPFRONT_TEST_EMAIL_SECRET"));

  ::setenv("UPFRONT_TEST_EMAIL_SECRET", "not-a-secret", 1);
  endpoints = EndpointsFromPolicy(*policy);
  EXPECT_EQ(endpoints.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(endpoints.status().message(),
              HasSubstr("webhook 'email': UPFRONT_TEST_EMAIL_SECRET"));
  EXPECT_THAT(endpoints.status().message(), ::testing::Not(HasSubstr("not-a-secret")));

  ::setenv("UPFRONT_TEST_EMAIL_SECRET", kVectorSecret, 1);
  endpoints = EndpointsFromPolicy(*policy);
  ASSERT_TRUE(endpoints.ok()) << endpoints.status();
  ASSERT_THAT(*endpoints, SizeIs(2));
  EXPECT_EQ((*endpoints)[0].name, "email");
  EXPECT_EQ((*endpoints)[0].url, "http://127.0.0.1:9000/email");
  EXPECT_EQ((*endpoints)[0].secret, kVectorSecret);
  EXPECT_EQ((*endpoints)[0].timeout, 10 * kMicrosPerSecond);
  EXPECT_EQ((*endpoints)[1].secret, kSecret);
  ::unsetenv("UPFRONT_TEST_EMAIL_SECRET");

  absl::StatusOr<Policy> https = LoadPolicyText(std::string(R"(version: v1
webhooks: {email: {url: "https://hooks.example.com/", secret: ")") +
                                                    kSecret + R"("}}
)",
                                                "p.yaml");
  ASSERT_TRUE(https.ok()) << https.status();
  EXPECT_THAT(EndpointsFromPolicy(*https).status().message(),
              HasSubstr("webhook 'email': 'https://hooks.example.com/' is https"));
}

TEST(HttpUrl, SplitsHostPortAndTarget) {
  using outbox_internal::ParseHttpUrl;
  absl::StatusOr<outbox_internal::HttpUrl> url = ParseHttpUrl("http://hooks.example.com/a/b?c=1");
  ASSERT_TRUE(url.ok());
  EXPECT_EQ(url->host, "hooks.example.com");
  EXPECT_EQ(url->port, "80");
  EXPECT_EQ(url->target, "/a/b?c=1");
  EXPECT_EQ(url->host_header, "hooks.example.com");
  url = ParseHttpUrl("http://[::1]:8080");
  ASSERT_TRUE(url.ok());
  EXPECT_EQ(url->host, "::1");
  EXPECT_EQ(url->port, "8080");
  EXPECT_EQ(url->target, "/");
  EXPECT_EQ(url->host_header, "[::1]:8080");
  EXPECT_EQ(ParseHttpUrl("http://h?x")->target, "/?x");
  EXPECT_FALSE(ParseHttpUrl("http://h:70000/").ok());
  EXPECT_FALSE(ParseHttpUrl("http://u@h/").ok());
  EXPECT_FALSE(ParseHttpUrl("http:///x").ok());
}

}  // namespace
}  // namespace upfront
