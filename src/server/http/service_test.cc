// The service over real HTTP: a server on an ephemeral port, a real webhook
// receiver, keys of every role, and a ManualClock for time (timers, retries,
// nudge expiry), so nothing here sleeps.
#include "src/server/http/service.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <sys/socket.h>

#include <fstream>
#include <future>
#include <map>
#include <set>
#include <sstream>

#include "src/common/manual_clock.h"
#include "src/common/time_format.h"
#include "src/testing/http_client.h"
#include "src/testing/temp_dir.h"
#include "src/testing/webhook_receiver.h"

namespace upfront {
namespace {

using ::testing::AllOf;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::SizeIs;
using testing::Answer;
using testing::HttpClient;
using testing::HttpResult;
using testing::Receiver;
using testing::SignatureIsValid;
using Json = nlohmann::json;

constexpr char kSecret[] = "whsec_C2FQaGVyZVNlY3JldEtleUZvclVwZnJvbnRUZXN0cyE=";

Micros At(const char* text) { return *ParseTimestamp(text); }

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string Base64(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::string Track(const std::string& user, const std::string& event, const std::string& message_id,
                  const std::string& timestamp, const Json& properties = Json::object()) {
  return Json{{"type", "track"}, {"userId", user}, {"event", event}, {"messageId", message_id},
              {"timestamp", timestamp}, {"properties", properties}}
      .dump();
}

std::string Identify(const std::string& user, const std::string& message_id, const std::string& timestamp,
                     const Json& traits = {{"email", "someone@example.com"}, {"email_opt_in", true}}) {
  return Json{{"type", "identify"}, {"userId", user}, {"messageId", message_id}, {"timestamp", timestamp},
              {"traits", traits}}
      .dump();
}

std::string Batch(const std::vector<std::string>& events) {
  Json batch = Json::array();
  for (const std::string& e : events) batch.push_back(Json::parse(e));
  return Json{{"batch", batch}}.dump();
}

class ServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string policy = ReadFile(std::string(UPFRONT_SOURCE_DIR) + "/src/server/http/testdata/service_policy.yaml");
    policy.replace(policy.find("WEBHOOK_URL"), 11, receiver_.Url("/hooks/email"));
    policy_text_ = policy;
    std::ofstream(dir_.file("policy.yaml")) << policy;
    Start();
    admin_ = service_->first_admin_key();
    ASSERT_FALSE(admin_.empty());
    ingest_ = CreateKey("ingest", "web-sdk");
    agent_ = CreateKey("agent", "ana");
    other_agent_ = CreateKey("agent", "bo");
    analyst_ = CreateKey("analyst", "cy");
    other_admin_ = CreateKey("admin", "di");
  }

  void Start() {
    ServiceOptions options;
    options.data_dir = dir_.file("data");
    options.policy_file = dir_.file("policy.yaml");
    options.clock = &clock_;
    options.partitions = 2;
    options.sync = false;
    options.deliver_webhooks = false;
    options.tick = false;
    options.webhook_retry.first_delay = 5 * kMicrosPerSecond;
    options.webhook_retry.jitter = 0;
    auto service = Service::Start(options);
    ASSERT_TRUE(service.ok()) << service.status();
    service_ = std::move(*service);
    client_ = std::make_unique<HttpClient>(service_->port());
  }

  std::string CreateKey(const std::string& role, const std::string& name) {
    HttpResult r = Send("POST", "/v1/keys", Json{{"role", role}, {"name", name}}.dump(), admin_);
    EXPECT_EQ(r.status, 201) << r.body;
    return r.Json().value("secret", "");
  }

  HttpResult Send(const std::string& method, const std::string& target, const std::string& body,
                  const std::string& key) {
    return client_->Send(method, target, body, key);
  }
  HttpResult Get(const std::string& target, const std::string& key) { return client_->Get(target, key); }
  HttpResult Post(const std::string& target, const std::string& body, const std::string& key) {
    return client_->Post(target, body, key);
  }

  // Ingests a batch, expecting every event to be accepted, then waits until
  // the decisions they led to are recorded.
  void IngestAll(const std::vector<std::string>& events) {
    HttpResult r = Post("/v1/batch", Batch(events), ingest_);
    ASSERT_EQ(r.status, 200) << r.body;
    ASSERT_EQ(r.Json()["accepted"], events.size()) << r.body;
    ASSERT_TRUE(service_->Drain().ok());
  }

  // Moves the clock and lets the service act on it (timers, retention).
  void AdvanceTo(const char* time) {
    clock_.Set(At(time));
    ASSERT_TRUE(service_->Tick().ok());
    ASSERT_TRUE(service_->Drain().ok());
  }

  Json Decisions(const std::string& customer) {
    HttpResult r = Get("/v1/customers/" + customer + "/decisions", agent_);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.Json();
  }

  Json Audit(const std::string& customer) {
    HttpResult r = Get("/v1/audit?customer=" + customer, analyst_);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.Json();
  }

  static std::vector<std::string> Actions(const Json& audit) {
    std::vector<std::string> out;
    for (const Json& e : audit) out.push_back(e["action"]);
    return out;
  }

  // A late shipment for `user` (who has opted in to email) at `time`.
  void DelayShipment(const std::string& user, const std::string& time) {
    IngestAll({Identify(user, user + "-id", time),
               Track(user, "Shipment Delayed", user + "-delay", time, {{"order_id", "o-" + user}, {"delay_days", 3}})});
  }

  testing::TempDir dir_;
  Receiver receiver_;
  ManualClock clock_{At("2026-11-25T10:00:00Z")};
  std::string policy_text_;
  std::unique_ptr<Service> service_;
  std::unique_ptr<HttpClient> client_;
  std::string admin_, ingest_, agent_, other_agent_, analyst_, other_admin_;
};

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

TEST_F(ServiceTest, EveryRouteIsInTheOpenApiDocumentAndEveryDocumentedRouteExists) {
  HttpResult r = Get("/openapi.json", "");
  ASSERT_EQ(r.status, 200);
  const Json doc = r.Json();
  ASSERT_TRUE(doc.is_object());
  EXPECT_THAT(doc["openapi"].get<std::string>(), ::testing::StartsWith("3.1"));
  std::set<std::pair<std::string, std::string>> served, documented;
  for (const RouteInfo& route : Service::Routes()) served.insert({Lower(route.method), route.path});
  for (const auto& [path, operations] : doc["paths"].items()) {
    for (const auto& [method, operation] : operations.items()) {
      if (method == "parameters") continue;
      documented.insert({method, path});
      EXPECT_TRUE(operation.contains("responses")) << method << " " << path;
    }
  }
  for (const auto& route : served) EXPECT_TRUE(documented.contains(route)) << "undocumented: " << route.first << " " << route.second;
  for (const auto& route : documented) EXPECT_TRUE(served.contains(route)) << "not served: " << route.first << " " << route.second;
  EXPECT_GE(served.size(), 40u);
}

TEST_F(ServiceTest, EveryRouteChecksItsRoleAndARefusedCallChangesNothing) {
  DelayShipment("u1", "2026-11-25T10:01:00Z");
  const std::map<std::string, std::string> keys = {
      {"ingest", ingest_}, {"agent", agent_}, {"analyst", analyst_}, {"admin", admin_}};
  const std::string audit_before = Get("/v1/audit", admin_).body;
  const std::string profile_before = Get("/v1/customers/u1", admin_).body;
  const std::string keys_before = Get("/v1/keys", admin_).body;

  std::vector<std::pair<const RouteInfo*, std::string>> allowed;
  const std::vector<RouteInfo> routes = Service::Routes();
  for (const RouteInfo& route : routes) {
    std::string target = route.path;
    for (size_t open; (open = target.find('{')) != std::string::npos;) {
      target.replace(open, target.find('}', open) - open + 1, "u1");
    }
    const std::string name = route.method + " " + route.path;
    if (route.roles.empty()) {
      EXPECT_EQ(Send(route.method, target, "", "").status, 200) << name;
      continue;
    }
    HttpResult none = Send(route.method, target, "{}", "");
    EXPECT_EQ(none.status, 401) << name;
    EXPECT_THAT(none.Header("WWW-Authenticate"), HasSubstr("Basic")) << name;
    EXPECT_EQ(Send(route.method, target, "{}", "not-a-key").status, 401) << name;
    for (const auto& [role, key] : keys) {
      const bool may = std::find(route.roles.begin(), route.roles.end(), role) != route.roles.end();
      if (may) {
        allowed.emplace_back(&route, target);
        continue;
      }
      HttpResult refused = Send(route.method, target, "{}", key);
      EXPECT_EQ(refused.status, 403) << name << " as " << role;
      EXPECT_THAT(refused.Json()["error"]["message"].get<std::string>(), HasSubstr("the " + role + " role may not"))
          << name;
    }
  }
  // Nothing a refused call asked for happened.
  EXPECT_EQ(Get("/v1/audit", admin_).body, audit_before);
  EXPECT_EQ(Get("/v1/customers/u1", admin_).body, profile_before);
  EXPECT_EQ(Get("/v1/keys", admin_).body, keys_before);
  EXPECT_EQ(Get("/v1/policies", admin_).Json().size(), 1u);

  // Admin may call everything; each allowed role gets past the check.
  for (const auto& [route, target] : allowed) {
    if (route->method == "DELETE" || route->path.ends_with("/stream")) continue;  // erasure and SSE: own tests
    for (const std::string& role : route->roles) {
      HttpResult r = Send(route->method, target, "", keys.at(role));
      EXPECT_NE(r.status, 401) << route->method << " " << route->path << " as " << role;
      EXPECT_NE(r.status, 403) << route->method << " " << route->path << " as " << role << ": " << r.body;
    }
  }
}

TEST_F(ServiceTest, SegmentRoutesAcceptGoodEventsAndNameEachBadOne) {
  // Segment's libraries send the write key as the Basic user name.
  const std::vector<std::pair<std::string, std::string>> basic = {
      {"Authorization", "Basic " + Base64(ingest_ + ":")}};
  const std::string good = Track("u1", "Shipment Delayed", "m-1", "2026-11-25T09:59:00Z", {{"delay_days", 1}});
  const std::string no_ids = R"({"type":"track","event":"Shipment Delayed","messageId":"m-2"})";
  const std::string bad_time = R"({"type":"track","userId":"u1","event":"x","messageId":"m-3","timestamp":"yesterday"})";
  HttpResult r = client_->Send("POST", "/v1/batch", "{\"batch\":[" + good + "," + no_ids + "," + bad_time + "]}", "", basic);
  ASSERT_EQ(r.status, 200) << r.body;
  Json report = r.Json();
  EXPECT_EQ(report["accepted"], 1);
  EXPECT_EQ(report["rejected"], 2);
  EXPECT_EQ(report["success"], false);
  ASSERT_THAT(report["errors"], SizeIs(2));
  EXPECT_EQ(report["errors"][0]["index"], 1);
  EXPECT_THAT(report["errors"][0]["message"].get<std::string>(), HasSubstr("userId"));
  EXPECT_EQ(report["errors"][1]["index"], 2);
  EXPECT_EQ(report["errors"][1]["field"], "timestamp");

  // Older Segment clients send the write key only in the body.
  r = client_->Send("POST", "/v1/batch", "{\"writeKey\":\"" + ingest_ + "\",\"batch\":[" + good + "]}");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(client_->Send("POST", "/v1/batch", "{\"writeKey\":\"wrong\",\"batch\":[" + good + "]}").status, 401);
  EXPECT_EQ(client_->Send("POST", "/v1/keys", "{\"writeKey\":\"" + admin_ + "\"}").status, 401)
      << "only ingest routes read a body key";

  // The same message again is a duplicate; the single-message routes add
  // the type Segment's clients leave out.
  r = Post("/v1/track", good, ingest_);
  EXPECT_EQ(r.Json()["duplicates"], 1) << r.body;
  r = Post("/v1/track", R"({"userId":"u1","event":"Shipment Delayed","messageId":"m-4","properties":{"delay_days":1}})", ingest_);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.Json()["accepted"], 1) << r.body;
  r = Post("/v1/page", R"({"anonymousId":"a-1","name":"Home","messageId":"m-5"})", ingest_);
  EXPECT_EQ(r.Json()["accepted"], 1) << r.body;
  r = Post("/v1/identify", R"({"type":"track","userId":"u1","event":"x"})", ingest_);
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("/v1/identify"));
  r = Post("/v1/track", "{not json", ingest_);
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("not valid JSON"));
  r = Post("/v1/track", "[1,2]", ingest_);
  EXPECT_EQ(r.status, 400);
  r = Post("/v1/batch", R"({"batch":[{"type":"track","event":"x"}]})", ingest_);
  EXPECT_EQ(r.status, 400) << "a batch with nothing good in it";

  // An event over 32 KB is rejected alone; a batch over 500 KB is refused whole.
  const std::string big_props = Json{{"reason", std::string(33 * 1024, 'x')}}.dump();
  r = Post("/v1/batch", "{\"batch\":[" + Track("u1", "a", "m-6", "2026-11-25T10:00:00Z", Json::parse(big_props)) + "," +
                            Track("u1", "b", "m-7", "2026-11-25T10:00:00Z") + "]}",
           ingest_);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json()["accepted"], 1);
  EXPECT_THAT(r.Json()["errors"][0]["message"].get<std::string>(), HasSubstr("32"));
  std::vector<std::string> many;
  for (int i = 0; many.size() * 300 < 520 * 1024; ++i) {
    many.push_back(Track("u-big", "Shipment Delayed", "big-" + std::to_string(i), "2026-11-25T10:00:00Z",
                         {{"reason", std::string(200, 'y')}}));
  }
  r = Post("/v1/batch", Batch(many), ingest_);
  EXPECT_EQ(r.status, 413);
  EXPECT_THAT(r.body, HasSubstr("500 KB"));
  EXPECT_EQ(Get("/v1/customers/u-big", agent_).status, 404) << "nothing of a refused batch is stored";

  HttpResult profile = Get("/v1/customers/u1", agent_);
  ASSERT_EQ(profile.status, 200);
  EXPECT_THAT(profile.body, HasSubstr("Shipment Delayed"));
}

TEST_F(ServiceTest, CloudEventsInStructuredModeBecomeEvents) {
  const std::vector<std::pair<std::string, std::string>> type = {{"Content-Type", "application/cloudevents+json"}};
  const Json event = {{"specversion", "1.0"}, {"id", "ce-1"}, {"source", "/shipping"}, {"type", "Shipment Delayed"},
                      {"time", "2026-11-25T10:00:00Z"}, {"subject", "u5"}, {"data", {{"delay_days", 4}, {"order_id", "o-9"}}}};
  HttpResult r = client_->Send("POST", "/v1/cloudevents", event.dump(), ingest_, type);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json()["accepted"], 1);
  ASSERT_TRUE(service_->Drain().ok());
  Json decisions = Decisions("u5");
  ASSERT_THAT(decisions, SizeIs(1));
  EXPECT_EQ(decisions[0]["message"], "Your order o-9 is running 4 days late.");

  Json batch = Json::array({event, {{"specversion", "0.3"}, {"id", "ce-2"}, {"source", "/s"}, {"type", "x"}},
                            {{"id", "ce-3"}, {"source", "/s"}, {"type", "x"}}});
  r = client_->Send("POST", "/v1/cloudevents", batch.dump(), ingest_,
                    {{"Content-Type", "application/cloudevents-batch+json"}});
  ASSERT_EQ(r.status, 200) << "a duplicate is not an error: " << r.body;
  const Json report = r.Json();
  EXPECT_EQ(report["duplicates"], 1);
  ASSERT_THAT(report["errors"], SizeIs(2));
  EXPECT_EQ(report["errors"][0]["field"], "specversion");
  EXPECT_EQ(report["errors"][1]["field"], "specversion");
  EXPECT_EQ(report["errors"][1]["index"], 2);
  r = client_->Send("POST", "/v1/cloudevents", event.dump(), ingest_, {{"Content-Type", "text/plain"}});
  EXPECT_EQ(r.status, 415);
}

// Reads a Server-Sent Events stream until `want` appears or `deadline` passes.
class SseReader {
 public:
  SseReader(uint16_t port, const std::string& target, const std::string& key) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    timeval timeout{0, 200 * 1000};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    if (connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) return;
    const std::string request = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + key +
                                "\r\nAccept: text/event-stream\r\n\r\n";
    (void)!write(fd_, request.data(), request.size());
  }
  ~SseReader() { close(fd_); }
  bool WaitFor(const std::string& want, int seconds = 20) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    char buffer[4096];
    while (text_.find(want) == std::string::npos && std::chrono::steady_clock::now() < deadline) {
      const ssize_t n = read(fd_, buffer, sizeof buffer);
      if (n == 0) break;
      if (n > 0) text_.append(buffer, static_cast<size_t>(n));
    }
    return text_.find(want) != std::string::npos;
  }
  const std::string& text() const { return text_; }

 private:
  int fd_ = -1;
  std::string text_;
};

TEST_F(ServiceTest, NudgesArePulledStreamedAndAnswered) {
  DelayShipment("u1", "2026-11-25T10:01:00Z");
  HttpResult r = Get("/v1/customers/u1/nudges", ingest_);
  ASSERT_EQ(r.status, 200) << r.body;
  Json nudges = r.Json()["nudges"];
  ASSERT_THAT(nudges, SizeIs(1));
  const std::string id = nudges[0]["decision_id"];
  EXPECT_EQ(nudges[0]["channel"], "in_app");
  EXPECT_EQ(nudges[0]["message"], "Your order o-u1 is running 3 days late.");
  EXPECT_EQ(nudges[0]["feedback"], "/v1/nudges/" + id + "/feedback");
  EXPECT_EQ(Get("/v1/customers/u1/nudges?channel=email", ingest_).Json()["nudges"].size(), 0u);

  // "Why am I seeing this?"
  r = Get("/v1/decisions/" + id, agent_);
  ASSERT_EQ(r.status, 200);
  Json decision = r.Json();
  EXPECT_EQ(decision["explanation"]["why"], "Our carrier reported a delay on your order.");
  EXPECT_EQ(decision["explanation"]["options"], Json::array({"accept", "snooze", "turn_off"}));
  EXPECT_EQ(decision["policy_version"], "service-test-1");
  EXPECT_GT(decision["signals"]["delivery_risk"]["score"].get<double>(), 0.5);
  EXPECT_EQ(Get("/v1/decisions/nope", agent_).status, 404);

  // A stream sees a nudge decided after it connected.
  SseReader stream(service_->port(), "/v1/customers/u2/nudges/stream", ingest_);
  ASSERT_TRUE(stream.WaitFor(": connected")) << stream.text();
  EXPECT_THAT(stream.text(), HasSubstr("text/event-stream"));
  DelayShipment("u2", "2026-11-25T10:02:00Z");
  ASSERT_TRUE(stream.WaitFor("Your order o-u2 is running 3 days late.")) << stream.text();
  EXPECT_THAT(stream.text(), HasSubstr("event: nudge\nid: "));

  // Feedback: bad requests change nothing.
  EXPECT_EQ(Post("/v1/nudges/" + id + "/feedback", R"({"type":"loved"})", ingest_).status, 400);
  EXPECT_EQ(Post("/v1/nudges/" + id + "/feedback", R"({"type":"snoozed","until":"2026-11-20T00:00:00Z"})", ingest_).status, 400);
  EXPECT_EQ(Post("/v1/nudges/" + id + "/feedback", "nope", ingest_).status, 400);
  EXPECT_EQ(Post("/v1/nudges/unknown/feedback", R"({"type":"accepted"})", ingest_).status, 404);
  EXPECT_EQ(Get("/v1/customers/u1/preferences", agent_).Json()["snoozed"], Json::object());

  r = Post("/v1/nudges/" + id + "/feedback", R"({"type":"snoozed","until":"2026-11-27T00:00:00Z"})", ingest_);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Get("/v1/customers/u1/nudges", ingest_).Json()["nudges"].size(), 0u) << "answered nudges are not shown again";
  Json prefs = Get("/v1/customers/u1/preferences", agent_).Json();
  EXPECT_EQ(prefs["snoozed"]["delivery_heads_up"], "2026-11-27T00:00:00.000Z");

  const std::string id2 = Decisions("u2")[0]["decision_id"];
  r = Post("/v1/nudges/" + id2 + "/feedback", R"({"type":"turned_off"})", ingest_);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Get("/v1/customers/u2/preferences", agent_).Json()["declined"], Json::array({"delivery_heads_up"}));
  EXPECT_THAT(Actions(Audit("u2")), AllOf(Contains("decision.deliver"), Contains("delivery.shown"), Contains("feedback")));

  // Preferences by hand: a bad patch names its field and changes nothing.
  r = Send("PUT", "/v1/customers/u1/preferences", R"({"channels":{"email":"maybe"}})", agent_);
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("channels.email"));
  r = Send("PUT", "/v1/customers/u1/preferences", R"({"channels":{"email":"opt_out"}})", agent_);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Get("/v1/customers/u1/preferences", agent_).Json()["channels"]["email"], "opt_out");
  EXPECT_THAT(Actions(Audit("u1")), Contains("preferences.update"));
}

TEST_F(ServiceTest, NudgesNobodyAnswersLapse) {
  DelayShipment("u1", "2026-11-25T10:01:00Z");
  const Json nudges = Get("/v1/customers/u1/nudges", ingest_).Json()["nudges"];
  ASSERT_EQ(nudges.size(), 1u);
  const std::string id = nudges[0]["decision_id"];
  EXPECT_THAT(Get("/metrics", analyst_).body, HasSubstr("upfront_queue_depth{queue=\"nudges\"} 1\n"));
  clock_.Set(At("2026-11-26T10:02:00Z"));
  EXPECT_EQ(Get("/v1/customers/u1/nudges", ingest_).Json()["nudges"].size(), 0u);
  // The retention pass takes it off the pending list (and the gauge).
  AdvanceTo("2026-11-26T11:03:00Z");
  EXPECT_THAT(Get("/metrics", analyst_).body, HasSubstr("upfront_queue_depth{queue=\"nudges\"} 0\n"));
  EXPECT_EQ(Get("/v1/decisions/" + id, agent_).Json()["nudge"]["status"], "expired");
}

TEST_F(ServiceTest, WebhooksAreSignedRetriedWithBackoffAndRetryAfterAndAudited) {
  receiver_.Script({Answer(500), Answer(429, "120")});
  DelayShipment("u1", "2026-11-25T10:01:00Z");
  AdvanceTo("2026-11-25T12:02:00Z");  // the email step, two hours on
  Json decisions = Decisions("u1");
  ASSERT_THAT(decisions, SizeIs(2));
  const Json email = decisions[0]["channel"] == "email" ? decisions[0] : decisions[1];
  ASSERT_EQ(email["channel"], "email") << decisions.dump();
  const std::string webhook_id = "msg_" + email["decision_id"].get<std::string>();

  ASSERT_EQ(service_->DeliverWebhooks().value_or(0), 1u);  // 500
  clock_.Set(At("2026-11-25T12:02:04Z"));
  EXPECT_EQ(service_->DeliverWebhooks().value_or(9), 0u) << "the retry waits for its backoff (5 s)";
  clock_.Set(At("2026-11-25T12:02:05Z"));
  ASSERT_EQ(service_->DeliverWebhooks().value_or(0), 1u);  // 429, Retry-After: 120
  clock_.Set(At("2026-11-25T12:03:00Z"));
  EXPECT_EQ(service_->DeliverWebhooks().value_or(9), 0u) << "Retry-After is honoured";
  clock_.Set(At("2026-11-25T12:04:05Z"));
  ASSERT_EQ(service_->DeliverWebhooks().value_or(0), 1u);  // 200

  const std::vector<testing::Received> requests = receiver_.requests();
  ASSERT_THAT(requests, SizeIs(3));
  std::set<std::string> timestamps;
  for (const testing::Received& request : requests) {
    EXPECT_EQ(request.target, "/hooks/email");
    EXPECT_EQ(request.header("webhook-id"), webhook_id) << "the same id on every retry";
    timestamps.insert(request.header("webhook-timestamp"));
    EXPECT_TRUE(SignatureIsValid(kSecret, request.header("webhook-id"), request.header("webhook-timestamp"),
                                 request.body, request.header("webhook-signature")));
    EXPECT_FALSE(SignatureIsValid(kSecret, request.header("webhook-id"), request.header("webhook-timestamp"),
                                  request.body + " ", request.header("webhook-signature")));
    const Json body = Json::parse(request.body);
    EXPECT_EQ(body["type"], "nudge.deliver");
    EXPECT_EQ(body["data"]["message"], "Your order is delayed; here is the new estimate.");
    EXPECT_EQ(body["data"]["customer"], "u1");
  }
  EXPECT_EQ(timestamps.size(), 3u);
  EXPECT_EQ(*requests[0].headers.find("webhook-timestamp")->second.c_str(), '1');

  Json delivered = Get("/v1/webhooks?status=delivered", analyst_).Json();
  ASSERT_THAT(delivered, SizeIs(1));
  EXPECT_EQ(delivered[0]["id"], webhook_id);
  EXPECT_EQ(delivered[0]["attempts"], 3);
  const std::vector<std::string> actions = Actions(Audit("u1"));
  EXPECT_EQ(std::count(actions.begin(), actions.end(), "delivery.retry"), 2);
  EXPECT_THAT(actions, AllOf(Contains("decision.deliver"), Contains("delivery.queued"), Contains("delivery.sent")));
  EXPECT_EQ(Get("/v1/audit/verify", analyst_).Json()["ok"], true);
  const Json audit = Audit("u1");
  const auto deliver = std::find_if(audit.begin(), audit.end(), [&](const Json& e) {
    return e["action"] == "decision.deliver" && e["subject"] == webhook_id.substr(4);  // "msg_<decision id>"
  });
  ASSERT_NE(deliver, audit.end());
  const Json body0 = Json::parse(requests[0].body);
  const Json& details = (*deliver)["details"];  // what the decision said, for the record
  EXPECT_EQ(details["channel"], "email") << details;
  EXPECT_EQ(details["cohort"], "treatment");
  EXPECT_EQ(details["message"], "Your order is delayed; here is the new estimate.");
  EXPECT_EQ(details["intervention"], body0["data"]["intervention"]);
  EXPECT_EQ(details["step"], body0["data"]["step"]);
  EXPECT_EQ(details["trigger"], body0["data"]["trigger"]);
  EXPECT_EQ(details["confidence"], body0["data"]["confidence"]);
  EXPECT_EQ(details["policy_version"], body0["data"]["policy_version"]);
  EXPECT_EQ(details["policy_hash"], body0["data"]["policy_hash"]);
  EXPECT_TRUE(details["models"].is_object());
  EXPECT_FALSE(details.contains("approved_by"));

  const std::string metrics = Get("/metrics", analyst_).body;
  EXPECT_THAT(metrics, HasSubstr("upfront_webhook_deliveries_total{outcome=\"delivered\"} 1"));
  EXPECT_THAT(metrics, HasSubstr("upfront_webhook_deliveries_total{outcome=\"rate_limited\"} 1"));
}

TEST_F(ServiceTest, AnEndpointThatAnswersGoneIsDisabledAndItsDeadLettersReplay) {
  receiver_.Script({Answer(410)});
  DelayShipment("u1", "2026-11-25T10:01:00Z");
  AdvanceTo("2026-11-25T12:02:00Z");
  ASSERT_EQ(service_->DeliverWebhooks().value_or(0), 1u);
  Json dead = Get("/v1/webhooks?status=dead", analyst_).Json();
  ASSERT_THAT(dead, SizeIs(1));
  EXPECT_THAT(dead[0]["last_error"].get<std::string>(), HasSubstr("410"));
  EXPECT_THAT(Actions(Audit("u1")), Contains("delivery.dead"));
  EXPECT_EQ(Get("/v1/webhooks?status=sideways", analyst_).status, 400);

  EXPECT_EQ(Post("/v1/webhooks/replay?id=nope", "", admin_).status, 404);
  HttpResult r = Post("/v1/webhooks/replay", "", admin_);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json()["replayed"], 1);
  ASSERT_EQ(service_->DeliverWebhooks().value_or(0), 1u);
  EXPECT_THAT(Get("/v1/webhooks?status=delivered", analyst_).Json(), SizeIs(1));
  EXPECT_THAT(receiver_.requests(), SizeIs(2));
}

TEST_F(ServiceTest, AgentsClaimApproveWithAnEditAndRejectWithAReason) {
  IngestAll({Track("u7", "Complaint Call", "c-1", "2026-11-25T10:01:00Z"),
             Track("u8", "Complaint Call", "c-2", "2026-11-25T10:01:00Z")});
  HttpResult r = Get("/v1/review", agent_);
  ASSERT_EQ(r.status, 200) << r.body;
  Json items = r.Json();
  ASSERT_THAT(items, SizeIs(2));
  std::map<std::string, std::string> item_of;
  for (const Json& item : items) {
    item_of[item["customer"]] = item["review_id"];
    EXPECT_EQ(item["status"], "pending");
    EXPECT_EQ(item["message"], "Call them about their complaint.");
    EXPECT_EQ(item["evidence"]["upset"]["count"], 1);
    EXPECT_TRUE(item["claimed_by"].is_null());
  }
  const std::string first = item_of["u7"], second = item_of["u8"];
  const Json summary = Get("/v1/review?view=summary", analyst_).Json();
  ASSERT_THAT(summary, SizeIs(2));
  EXPECT_EQ(summary[0]["message"], "Call them about their complaint.");
  EXPECT_FALSE(summary[0].contains("evidence"));
  EXPECT_EQ(Get("/v1/review?view=tiny", analyst_).status, 400);
  r = Get("/v1/review/" + first, analyst_);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json()["customer"], "u7");
  EXPECT_EQ(r.Json()["evidence"]["upset"]["count"], 1);
  EXPECT_EQ(Get("/v1/review/nothing-here", agent_).status, 404);

  ASSERT_EQ(Post("/v1/review/" + first + "/claim", "", other_agent_).status, 200);
  r = Post("/v1/review/" + first + "/approve", R"({"message":"Call now"})", agent_);
  EXPECT_EQ(r.status, 409);
  EXPECT_THAT(r.body, HasSubstr("claimed by bo"));
  EXPECT_EQ(Post("/v1/review/" + first + "/approve", R"({"message": 7})", other_agent_).status, 400);
  r = Post("/v1/review/" + first + "/approve", R"({"message":"Call them today and waive the fee."})", other_agent_);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json()["status"], "approved");
  ASSERT_TRUE(service_->Drain().ok());
  bool delivered_edit = false;
  for (const Json& d : Decisions("u7")) {
    if (d["action"] == "deliver") {
      EXPECT_EQ(d["message"], "Call them today and waive the fee.");
      EXPECT_EQ(d["approved_by"], "bo");
      delivered_edit = true;
    }
  }
  EXPECT_TRUE(delivered_edit);
  EXPECT_EQ(Post("/v1/review/" + first + "/approve", "{}", other_agent_).status, 409) << "answered already";

  r = Post("/v1/review/" + second + "/reject", "{}", agent_);
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("reason"));
  r = Post("/v1/review/" + second + "/reject", R"({"reason":"they asked not to be called"})", agent_);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json()["status"], "rejected");
  EXPECT_EQ(Post("/v1/review/unknown/approve", "{}", agent_).status, 404);
  EXPECT_THAT(Get("/v1/review", agent_).Json(), SizeIs(0));
  EXPECT_THAT(Get("/v1/review?status=all", analyst_).Json(), SizeIs(2));
  EXPECT_THAT(Actions(Audit("u8")), Contains("review.reject"));
  EXPECT_THAT(Actions(Audit("u7")), AllOf(Contains("review.approve"), Contains("decision.review")));
  const Json audit = Audit("u7");
  const auto approved = std::find_if(audit.begin(), audit.end(), [](const Json& e) {
    return e["action"] == "decision.deliver";
  });
  ASSERT_NE(approved, audit.end()) << audit;
  EXPECT_TRUE((*approved)["details"].contains("approved_by")) << (*approved)["details"];
}

TEST_F(ServiceTest, TheConsoleIsServedWithoutAKeyAndOffersOnlyWhatTheRoleMayDo) {
  HttpResult page = Get("/console/", "");
  ASSERT_EQ(page.status, 200);
  EXPECT_THAT(page.content_type, HasSubstr("text/html"));
  EXPECT_THAT(page.body, HasSubstr("console.js"));
  EXPECT_THAT(page.Header("Content-Security-Policy"), HasSubstr("default-src 'self'"));
  HttpResult script = Get("/console/console.js", "");
  ASSERT_EQ(script.status, 200);
  EXPECT_THAT(script.content_type, HasSubstr("text/javascript"));
  EXPECT_THAT(script.body, HasSubstr("/v1/whoami"));
  EXPECT_EQ(Get("/console/nothing.js", "").status, 404);
  EXPECT_EQ(Get("/console", "").status, 302);
  EXPECT_EQ(Get("/console", "").Header("Location"), "/console/");
  EXPECT_EQ(Send("POST", "/console/", "", "").status, 405);

  EXPECT_EQ(Get("/v1/whoami", "").status, 401);
  // A browser would pop up a password dialog on a Basic challenge.
  HttpResult wrong = Get("/v1/whoami", "not-a-key");
  EXPECT_EQ(wrong.status, 401);
  EXPECT_THAT(wrong.Header("WWW-Authenticate"), ::testing::StartsWith("Bearer"));
  const auto routes_of = [&](const std::string& key) {
    HttpResult r = Get("/v1/whoami", key);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.Json();
  };
  const Json agent = routes_of(agent_);
  EXPECT_EQ(agent["role"], "agent");
  EXPECT_EQ(agent["name"], "ana");
  EXPECT_THAT(agent["routes"], Contains("POST /v1/review/{review_id}/approve"));
  EXPECT_THAT(agent["routes"], Not(Contains("POST /v1/policies/{version}/approve")));
  const Json analyst = routes_of(analyst_);
  EXPECT_THAT(analyst["routes"], Contains("GET /v1/scorecard"));
  EXPECT_THAT(analyst["routes"], Not(Contains("POST /v1/review/{review_id}/approve")));
  EXPECT_THAT(analyst["routes"], Not(Contains("POST /v1/policies/{version}/approve")));
  EXPECT_THAT(routes_of(admin_)["routes"], Contains("POST /v1/policies/{version}/approve"));
  EXPECT_THAT(routes_of(ingest_)["routes"], Not(Contains("GET /v1/review")));
}

TEST_F(ServiceTest, ATimelineHoldsEventsSignalsDecisionsAndDeliveriesOfACustomer) {
  DelayShipment("u1", "2026-11-25T10:01:00Z");
  HttpResult r = Get("/v1/customers/u1/timeline", agent_);
  ASSERT_EQ(r.status, 200) << r.body;
  const Json t = r.Json();
  EXPECT_EQ(t["ids"], Json({"u1"}));
  ASSERT_THAT(t["events"], SizeIs(2));
  EXPECT_EQ(t["events"][1]["event"]["event"], "Shipment Delayed");
  EXPECT_EQ(t["events_total"], 2);
  EXPECT_TRUE(t["reading"]["signals"].is_array());
  ASSERT_THAT(t["signal_history"]["points"], SizeIs(2));
  const Json& names = t["signal_history"]["signals"];
  const auto delivery = std::find(names.begin(), names.end(), "delivery_risk");
  ASSERT_NE(delivery, names.end());
  const size_t index = static_cast<size_t>(delivery - names.begin());
  EXPECT_EQ(t["signal_history"]["points"][0]["scores"][index], 0);
  EXPECT_GT(t["signal_history"]["points"][1]["scores"][index].get<double>(), 0.5);
  ASSERT_FALSE(t["decisions"].empty());
  EXPECT_FALSE(t["decisions"][0]["explanation"]["why"].get<std::string>().empty());
  EXPECT_THAT(Actions(t["audit"]), Contains(::testing::StartsWith("decision.")));
  EXPECT_THAT(Get("/v1/customers/u1/timeline?limit=1", agent_).Json()["events"], SizeIs(1));
  EXPECT_EQ(Get("/v1/customers/nobody/timeline", agent_).status, 404);
  EXPECT_EQ(Get("/v1/customers/u1/timeline", ingest_).status, 403);
}

TEST_F(ServiceTest, APolicyVersionNeedsASecondAdminAndCanBeRolledBack) {
  HttpResult r = Post("/v1/policies", "version: [unclosed", admin_);
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr(":1:"));
  std::string v2 = policy_text_;
  v2.replace(v2.find("service-test-1"), 14, "service-test-2");
  v2.replace(v2.find("threshold: {default: 0.5}"), 25, "threshold: {default: 0.95}");
  r = Post("/v1/policies", v2, admin_);
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.Json()["number"], 2);
  EXPECT_EQ(Post("/v1/policies/2/activate", "", admin_).status, 409) << "not approved yet";
  r = Post("/v1/policies/2/approve", "", admin_);
  EXPECT_EQ(r.status, 403) << "the uploader cannot approve their own version";
  ASSERT_EQ(Post("/v1/policies/2/approve", "", other_admin_).status, 200);
  EXPECT_EQ(Post("/v1/policies/3/approve", "", other_admin_).status, 404);

  r = Get("/v1/policies/1/diff/2", analyst_);
  ASSERT_EQ(r.status, 200);
  EXPECT_THAT(r.body, AllOf(HasSubstr("-version: \\\"service-test-1\\\""), HasSubstr("+version: \\\"service-test-2\\\"")));

  ASSERT_EQ(Post("/v1/policies/2/activate", "", admin_).status, 200);
  DelayShipment("u1", "2026-11-25T10:01:00Z");
  EXPECT_THAT(Decisions("u1"), SizeIs(0)) << "under v2's threshold of 0.95 one late shipment is not enough";
  IngestAll({Track("u2", "Shipment Delayed", "u2-a", "2026-11-25T10:01:00Z", {{"delay_days", 3}}),
             Track("u2", "Shipment Delayed", "u2-b", "2026-11-25T10:02:00Z", {{"delay_days", 3}})});
  Json decisions = Decisions("u2");
  ASSERT_THAT(decisions, SizeIs(1));
  EXPECT_EQ(decisions[0]["policy_version"], "service-test-2");

  ASSERT_EQ(Post("/v1/policies/1/rollback", "", admin_).status, 200);
  DelayShipment("u3", "2026-11-25T10:03:00Z");
  decisions = Decisions("u3");
  ASSERT_THAT(decisions, SizeIs(1));
  EXPECT_EQ(decisions[0]["policy_version"], "service-test-1");

  std::map<int, Json> versions;
  for (const Json& v : Get("/v1/policies", analyst_).Json()) versions[v["number"]] = v;
  ASSERT_THAT(versions, SizeIs(2));
  EXPECT_EQ(versions[1]["status"], "active");
  EXPECT_EQ(versions[2]["status"], "retired");
  EXPECT_EQ(versions[2]["approved_by"], "di");
  EXPECT_EQ(versions[2]["uploaded_by"], "first-admin");
  EXPECT_FALSE(versions[2]["activated_at"].is_null());
  EXPECT_EQ(Get("/v1/policies/2", analyst_).Json()["yaml"], v2);
  const std::vector<std::string> actions = Actions(Get("/v1/audit", analyst_).Json());
  EXPECT_THAT(actions, AllOf(Contains("policy.upload"), Contains("policy.approve"), Contains("policy.activate"),
                             Contains("policy.rollback")));
}

TEST_F(ServiceTest, ExportHoldsEverythingAndErasureLeavesOnlyAPseudonymousTombstone) {
  IngestAll({R"({"type":"page","anonymousId":"anon-9","name":"Orders","messageId":"p-1","timestamp":"2026-11-25T10:00:00Z"})",
             R"({"type":"identify","anonymousId":"anon-9","userId":"u9","messageId":"i-1","timestamp":"2026-11-25T10:00:30Z","traits":{"email":"nine@example.com","email_opt_in":true}})",
             Track("u9", "Shipment Delayed", "d-1", "2026-11-25T10:01:00Z", {{"order_id", "o-9"}, {"delay_days", 3}})});
  AdvanceTo("2026-11-25T12:02:00Z");  // an email in the outbox too
  EXPECT_EQ(Get("/v1/customers/anon-9/export", analyst_).status, 403);
  HttpResult r = Get("/v1/customers/anon-9/export", admin_);
  ASSERT_EQ(r.status, 200) << r.body;
  Json exported = r.Json();
  EXPECT_THAT(exported["ids"], AllOf(Contains("u9"), Contains("anon-9")));
  EXPECT_THAT(exported["decisions"], SizeIs(2));
  EXPECT_THAT(exported["webhooks"], SizeIs(1));
  EXPECT_FALSE(exported["audit"].empty());
  EXPECT_THAT(r.body, AllOf(HasSubstr("Shipment Delayed"), HasSubstr("Orders")));
  EXPECT_THAT(r.body, Not(HasSubstr("nine@example.com"))) << "hashed at ingest, never kept in clear";

  r = Send("DELETE", "/v1/customers/anon-9", "", admin_);
  ASSERT_EQ(r.status, 200) << r.body;
  Json erased = r.Json();
  EXPECT_EQ(erased["ids_erased"], 2);
  EXPECT_EQ(erased["events"], 3);
  EXPECT_EQ(erased["webhooks"], 1);
  EXPECT_EQ(erased["decisions"], 2);
  EXPECT_EQ(Get("/v1/customers/u9", admin_).status, 404);
  EXPECT_EQ(Get("/v1/customers/anon-9/export", admin_).status, 404);
  EXPECT_THAT(Decisions("u9"), SizeIs(0));
  EXPECT_THAT(Get("/v1/webhooks", analyst_).Json(), SizeIs(0));

  const std::string trail = Get("/v1/audit", admin_).body;
  EXPECT_THAT(trail, Not(HasSubstr("u9")));
  EXPECT_THAT(trail, Not(HasSubstr("anon-9")));
  EXPECT_THAT(trail, HasSubstr("customer.erase"));
  for (const Json& tombstone : erased["tombstone"]) EXPECT_THAT(trail, HasSubstr(tombstone.get<std::string>()));
  EXPECT_EQ(Get("/v1/audit/verify", analyst_).Json()["ok"], true) << "erasure keeps the chain verifiable";
  EXPECT_EQ(Send("DELETE", "/v1/customers/u9", "", admin_).status, 404);
}

TEST_F(ServiceTest, MetricsArePrometheusTextWithoutCustomerIds) {
  DelayShipment("cust-417", "2026-11-25T10:01:00Z");
  IngestAll({Track("cust-417", "Shipment Delayed", "again", "2026-11-25T10:02:00Z", {{"delay_days", 3}})});
  Post("/v1/batch", R"({"batch":[{"type":"track","event":"x","messageId":"bad-1"}]})", ingest_);
  HttpResult r = Get("/metrics", analyst_);
  ASSERT_EQ(r.status, 200);
  EXPECT_THAT(r.content_type, HasSubstr("text/plain; version=0.0.4"));
  const std::string& text = r.body;
  EXPECT_THAT(text, HasSubstr("upfront_events_total{outcome=\"accepted\"} 3"));
  EXPECT_THAT(text, HasSubstr("upfront_events_total{outcome=\"rejected\"} 1"));
  EXPECT_THAT(text, HasSubstr("upfront_actions_total{channel=\"in_app\",action=\"deliver\"} 1"));
  EXPECT_THAT(text, HasSubstr("upfront_guardrail_blocks_total{reason=\""));
  EXPECT_THAT(text, HasSubstr("upfront_decision_seconds_count 2"));
  EXPECT_THAT(text, HasSubstr("upfront_decision_seconds_bucket{le=\"+Inf\"} 2"));
  EXPECT_THAT(text, HasSubstr("upfront_ingest_ack_seconds_bucket{kind=\"batch\""));
  EXPECT_THAT(text, HasSubstr("upfront_actions_per_customer_day_count 1"));
  EXPECT_THAT(text, HasSubstr("upfront_queue_depth{queue=\"review\"} 0"));
  EXPECT_THAT(text, HasSubstr("upfront_queue_depth{queue=\"applying\"} "));
  EXPECT_THAT(text, HasSubstr("upfront_ingest_backpressure_total 0\n"));
  EXPECT_THAT(text, HasSubstr("upfront_policy_info{version=\"service-test-1\",number=\"1\"} 1"));
  EXPECT_THAT(text, HasSubstr("# TYPE upfront_model_psi gauge"));
  EXPECT_THAT(text, Not(HasSubstr("cust-417")));
  const Json stats = Get("/v1/stats", agent_).Json();
  EXPECT_EQ(stats["decisions"]["points"], 2);
  EXPECT_EQ(stats["decisions"]["actions"]["in_app"]["deliver"], 1);
  EXPECT_EQ(stats["decisions"]["by_cohort"]["treatment"], 2);
  EXPECT_EQ(stats["events"]["accepted"], 3);
  // Every sample line is "name{labels} value" or "name value".
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line.starts_with("# ")) continue;
    EXPECT_NE(line.rfind(' '), std::string::npos) << line;
    EXPECT_TRUE(line.starts_with("upfront_")) << line;
  }
}

TEST_F(ServiceTest, TheScorecardIsServedToAnalystsWithClearErrorsForBadQueries) {
  DelayShipment("u1", "2026-11-25T10:01:00Z");
  IngestAll({Track("u1", "Order Completed", "buy-1", "2026-11-25T11:00:00Z", {{"revenue", 40}})});
  HttpResult r = Get("/v1/scorecard?window=all", analyst_);
  ASSERT_EQ(r.status, 200) << r.body;
  const Json card = r.Json();
  EXPECT_EQ(card["schema"], "upfront.scorecard/1");
  EXPECT_FALSE(card["headline"].empty());
  EXPECT_EQ(Get("/v1/scorecard?window=fortnight", analyst_).status, 400);
  EXPECT_EQ(Get("/v1/scorecard?from=yesterday", analyst_).status, 400);
  EXPECT_EQ(Get("/v1/scorecard?min_per_arm=x", analyst_).status, 400);
  EXPECT_EQ(Get("/v1/scorecard", agent_).status, 403);
}

TEST_F(ServiceTest, HealthReadinessStatsAndKeys) {
  EXPECT_EQ(Get("/healthz", "").status, 200);
  HttpResult ready = Get("/readyz", "");
  EXPECT_EQ(ready.status, 200);
  EXPECT_EQ(ready.Json()["status"], "ready");
  HttpResult stats = Get("/v1/stats", agent_);
  ASSERT_EQ(stats.status, 200);
  EXPECT_EQ(stats.Json()["policy"]["number"], 1);

  HttpResult keys = Get("/v1/keys", admin_);
  ASSERT_EQ(keys.status, 200);
  EXPECT_THAT(keys.Json(), SizeIs(6));
  for (const std::string& secret : {admin_, ingest_, agent_, analyst_}) EXPECT_THAT(keys.body, Not(HasSubstr(secret)));
  EXPECT_EQ(Post("/v1/keys", R"({"role":"wizard","name":"x"})", admin_).status, 400);
  EXPECT_EQ(Post("/v1/keys", R"({"role":"agent"})", admin_).status, 400);
  EXPECT_EQ(Post("/v1/keys", "not json", admin_).status, 400);
  const std::string fresh = CreateKey("analyst", "ed");
  EXPECT_EQ(Get("/metrics", fresh).status, 200);
  EXPECT_THAT(Actions(Get("/v1/audit", admin_).Json()), Contains("key.create"));
  EXPECT_EQ(Get("/v1/nowhere", admin_).status, 404);
  EXPECT_EQ(Send("PATCH", "/v1/keys", "", admin_).status, 405);
}

// More decisions than the worker records at a time (it takes them in chunks
// when it is behind): every one is recorded and becomes a nudge.
TEST_F(ServiceTest, ThousandsOfDecisionsAtOnceAreEachRecorded) {
  constexpr int kCustomers = 3000;
  for (int from = 0; from < kCustomers; from += 1000) {
    std::vector<std::string> events;
    for (int i = from; i < from + 1000; ++i) {
      const std::string user = "bulk-" + std::to_string(i);
      events.push_back(Track(user, "Shipment Delayed", user + "-delay", "2026-11-25T10:01:00Z",
                             {{"order_id", "o-" + user}, {"delay_days", 3}}));
    }
    HttpResult r = Post("/v1/batch", Batch(events), ingest_);
    ASSERT_EQ(r.status, 200) << r.body;
  }
  ASSERT_TRUE(service_->Drain().ok());
  for (int i : {0, 1, 1023, 1024, 1025, 2047, 2048, kCustomers - 1}) {
    const std::string user = "bulk-" + std::to_string(i);
    EXPECT_THAT(Decisions(user), SizeIs(1)) << user;
    EXPECT_THAT(Get("/v1/customers/" + user + "/nudges", ingest_).Json()["nudges"], SizeIs(1)) << user;
  }
  EXPECT_THAT(Get("/metrics", analyst_).body,
              HasSubstr("upfront_queue_depth{queue=\"nudges\"} " + std::to_string(kCustomers)));
}

TEST_F(ServiceTest, KeysAcknowledgedEventsAndDecisionsSurviveARestart) {
  DelayShipment("u1", "2026-11-25T10:01:00Z");
  const std::string decisions_before = Get("/v1/customers/u1/decisions", agent_).body;
  service_->Stop();
  service_.reset();
  Start();
  EXPECT_EQ(service_->first_admin_key(), "") << "keys exist already";
  EXPECT_EQ(Get("/v1/customers/u1/decisions", agent_).body, decisions_before);
  EXPECT_EQ(Get("/v1/customers/u1/nudges", ingest_).Json()["nudges"].size(), 1u);
  HttpResult r = Post("/v1/track", Track("u1", "Shipment Delayed", "u1-delay", "2026-11-25T10:01:00Z"), ingest_);
  EXPECT_EQ(r.Json()["duplicates"], 1) << "dedup survives the restart";
}

}  // namespace
}  // namespace upfront
