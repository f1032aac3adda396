// The durable webhook outbox: messages for email, SMS and push channels are
// POSTed to the customer's own endpoints, signed per Standard Webhooks
// (https://www.standardwebhooks.com), retried with backoff, and dead-lettered
// when they cannot be delivered.
//
//   OutboxOptions options;
//   UPFRONT_ASSIGN_OR_RETURN(options.endpoints, EndpointsFromPolicy(policy));
//   UPFRONT_ASSIGN_OR_RETURN(std::unique_ptr<Outbox> outbox,
//                            Outbox::Open(data_dir + "/outbox", std::move(options)));
//   outbox->Start();  // background delivery
//   UPFRONT_RETURN_IF_ERROR(outbox->Enqueue({.id = "msg_" + decision_id, .endpoint = "email",
//                                            .customer = customer, .type = "nudge.deliver",
//                                            .payload = json}));
//
// Delivery contract (at least once, per Standard Webhooks): a message whose
// Enqueue returned OK is on disk and is POSTed until an endpoint answers 2xx,
// the endpoint is disabled, or the retry horizon passes. A crash after a
// successful POST but before it is recorded sends it again after the restart,
// with the same webhook-id, so receivers deduplicate on webhook-id.
//
// Rules (the module's README.md has them in full):
// - 2xx: delivered. Anything else, a timeout or a network error: a failed
//   attempt, retried after first_delay * 2^(attempts-1), capped at max_delay,
//   with a deterministic jitter of +-jitter (seeded by jitter_seed and the id).
//   3xx and 4xx other than 410 and 429 are failures like 5xx: a receiver being
//   (re)deployed often answers 404 for a while.
// - 429 and 503 with Retry-After (seconds or an HTTP date): the next attempt
//   for that message, and for every message of that endpoint, is no earlier.
// - 410 Gone: the endpoint is disabled (persisted); the message and every
//   pending message of the endpoint move to the dead-letter list, and later
//   messages for it go there directly. Replay re-enables it.
// - A message whose next attempt would come later than `horizon` after its
//   first attempt moves to the dead-letter list. Replay moves it back.
//
// Thread safety: every method may be called from any thread, including while
// the background delivery thread runs. Attempts for one message never overlap.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "upfront/policy.h"
#include "upfront/status.h"
#include "upfront/time.h"

namespace upfront {

struct WebhookEndpoint {
  std::string name;    // what OutboxMessage::endpoint names; the policy's webhook name
  std::string url;     // http://host[:port][/path][?query]
  std::string secret;  // "whsec_<base64>"
  Micros timeout = 5 * kMicrosPerSecond;  // per request: connect, send and the response
};

struct RetryPolicy {
  Micros first_delay = 5 * kMicrosPerSecond;  // after the first failed attempt
  Micros max_delay = kMicrosPerHour;          // the longest wait between attempts
  Micros horizon = 24 * kMicrosPerHour;       // since the first attempt; then dead-lettered
  double jitter = 0.2;                        // each delay varies by up to this share, either way
};

// What became of one delivery attempt, as told to OutboxOptions::on_attempt.
struct DeliveryAttempt {
  enum class Outcome { kDelivered, kRetry, kDead };
  std::string id;        // webhook-id
  std::string endpoint;
  std::string customer;
  Outcome outcome = Outcome::kRetry;
  int http_status = 0;   // 0: no answer (network error or timeout)
  uint32_t attempts = 0; // including this one
  std::string detail;    // the error, or why it was dead-lettered; "" when delivered
};

struct OutboxOptions {
  const Clock* clock = nullptr;  // SystemClock() when null; not owned, must outlive the Outbox
  RetryPolicy retry;
  std::vector<WebhookEndpoint> endpoints;
  uint64_t jitter_seed = 0;
  bool sync = true;  // fsync every write; false only for tests and benchmarks
  // Told once each attempt's result is on disk, on the delivering thread and
  // without the outbox's lock held (the service writes its audit trail from
  // here). Not told for an item erased while its attempt was in flight.
  std::function<void(const DeliveryAttempt&)> on_attempt;
};

struct OutboxMessage {
  std::string id;  // webhook-id, e.g. "msg_<decision_id>"; no '.', spaces or control characters
  std::string endpoint;  // a WebhookEndpoint::name
  std::string customer;  // canonical customer id, for erasure and export
  std::string type;      // e.g. "nudge.deliver"
  std::string payload;   // the JSON body, sent and signed byte for byte
};

// Counters since Open, except pending, dead and disabled_endpoints, which are
// the current numbers.
struct OutboxStats {
  uint64_t enqueued = 0;   // new messages accepted (duplicates not counted)
  uint64_t delivered = 0;  // messages answered 2xx
  uint64_t attempts = 0;   // POSTs made (or tried: a refused connection counts)
  uint64_t failed_attempts = 0;
  uint64_t rate_limited = 0;  // 429 answers
  uint64_t dead = 0;          // messages in the dead-letter list
  uint64_t pending = 0;       // messages waiting for delivery or a retry
  uint64_t disabled_endpoints = 0;
};

class Outbox {
 public:
  // Opens (creating if needed) the outbox's own RocksDB under `dir`.
  // InvalidArgument when an endpoint's URL or secret is malformed (https URLs
  // are refused: this build speaks plain HTTP only); the RocksDB status when
  // the store cannot be opened (e.g. another process holds it).
  static absl::StatusOr<std::unique_ptr<Outbox>> Open(const std::string& dir,
                                                      OutboxOptions options);

  // Durable once it returns OK. An id already in the outbox (any state) is not
  // added again: duplicates carry the same id and are delivered at most once
  // per id. InvalidArgument for a malformed id or an empty customer; NotFound
  // for an endpoint that is not configured. A message for a disabled endpoint
  // goes straight to the dead-letter list.
  absl::Status Enqueue(const OutboxMessage& message);
  // The same for several, in one synced write; each message's own status.
  std::vector<absl::Status> EnqueueMany(std::span<const OutboxMessage> messages);

  // One pass: attempts every message due by clock->Now(), one after another;
  // returns the attempts made. Deterministic with an injected clock (tests).
  // An error only when the store fails; delivery failures are recorded on the
  // messages, never returned.
  absl::StatusOr<size_t> DeliverDue();

  // Background delivery thread: delivers due messages, sleeps until the next
  // due time or until Enqueue/Replay wakes it. Stop() finishes the attempt in
  // flight and joins; the remaining due messages wait for the next Start or
  // DeliverDue. Start on a started outbox and Stop on a stopped one do
  // nothing. The destructor stops.
  void Start();
  void Stop();

  // JSON array of items with status "pending" | "delivered" | "dead" ("" =
  // all), oldest first, at most `limit`: id, endpoint, type, status, attempts,
  // next_attempt (RFC 3339, null unless pending), last_error, created,
  // delivered_at (null unless delivered). No payload. InvalidArgument for
  // another status.
  absl::StatusOr<std::string> ItemsJson(std::string_view status, size_t limit) const;

  // Moves dead-lettered items back to pending, due now (id: one item; "": all
  // dead items), resetting attempts and the horizon; re-enables their
  // endpoints. Returns how many. NotFound for an unknown id, FailedPrecondition
  // for an id that is not dead.
  absl::StatusOr<size_t> Replay(std::string_view id);

  // Deletes every item of these customers (privacy erasure), in any state;
  // returns how many. An attempt in flight for one of them still completes,
  // but leaves no record.
  absl::StatusOr<size_t> EraseCustomers(const std::vector<std::string>& customers);

  // Every item of these customers as a JSON array, oldest first: the list
  // fields plus customer and payload (the body as sent, a JSON string).
  absl::StatusOr<std::string> ExportCustomers(const std::vector<std::string>& customers) const;

  OutboxStats Stats() const;

  ~Outbox();
  Outbox(const Outbox&) = delete;
  Outbox& operator=(const Outbox&) = delete;

 private:
  class Impl;
  explicit Outbox(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Standard Webhooks signature header value: "v1," + base64(HMAC-SHA256(the
// base64-decoded secret after "whsec_", id + "." + timestamp + "." +
// payload)). InvalidArgument for a malformed secret.
absl::StatusOr<std::string> SignWebhook(std::string_view secret, std::string_view id,
                                        int64_t timestamp_seconds, std::string_view payload);

// The endpoints of a policy's webhooks, secrets read from the environment
// (secret_env) or inline. FailedPrecondition naming the webhook and variable
// when a secret is missing; InvalidArgument when a secret is malformed or a
// URL is https (not supported by this build; put a TLS-terminating proxy on
// the way, or use http on a private network).
absl::StatusOr<std::vector<WebhookEndpoint>> EndpointsFromPolicy(const Policy& policy);

}  // namespace upfront
