// `upfront serve`: the embedded server. One process, state in RocksDB under
// the data directory, an HTTP API (docs/api.md, /openapi.json), webhook
// delivery, roles, the audit trail and policy governance.
//
//   ServiceOptions options;
//   options.data_dir = "/var/lib/upfront";
//   options.policy_file = "policy.yaml";   // becomes policy version 1 on first start
//   options.http.port = 8080;
//   auto service = Service::Start(options);
//   ...
//   (*service)->Stop();   // SIGTERM: drains requests, flushes, stops delivery
//
// Layout of the data directory: db/ (the engine), control/ (keys, audit
// trail, policy versions), outbox/ (webhooks), server/ (decisions, nudges).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "src/server/http/http_server.h"
#include "src/server/outbox/outbox.h"
#include "upfront/status.h"
#include "upfront/time.h"

namespace upfront {

struct ServiceOptions {
  std::string data_dir;
  // The policy to start with when the data directory has none active yet;
  // afterwards the active version (POST /v1/policies, approve, activate) wins.
  std::string policy_file;
  HttpServerOptions http;
  const Clock* clock = nullptr;  // SystemClock() when null
  int partitions = 0;            // 0: one per core (fixed when the directory is created)
  bool sync = true;              // fsync before acknowledging; false only for tests
  RetryPolicy webhook_retry;
  bool deliver_webhooks = true;  // run the delivery thread (tests drive DeliverWebhooks)
  bool tick = true;              // fire timers and retention from the clock in the background
  Micros nudge_ttl = kMicrosPerDay;  // an unanswered in-flow/in-app nudge lapses after this
  Micros retention_every = kMicrosPerHour;
  // With no API key in the data directory yet, create an admin key named
  // "first-admin" (first_admin_key() returns its secret, once).
  bool create_first_admin_key = true;
};

struct RouteInfo {
  std::string method;
  std::string path;  // OpenAPI style: /v1/customers/{id}/nudges
  std::vector<std::string> roles;  // empty: no key needed
};

class Service {
 public:
  static absl::StatusOr<std::unique_ptr<Service>> Start(const ServiceOptions& options);
  virtual ~Service() = default;

  virtual uint16_t port() const = 0;
  // The secret of the admin key created at this start ("" when there were
  // keys already). Show it once; it is stored only as a hash.
  virtual std::string first_admin_key() const = 0;
  // Graceful stop: no new requests, in-flight ones answered, decisions
  // recorded, state flushed, webhook delivery stopped. Idempotent.
  virtual void Stop() = 0;
  // Waits until every acknowledged event has been applied and every decision
  // it led to is recorded (tests, shutdown).
  virtual absl::Status Drain() = 0;
  // One webhook delivery pass now (tests with deliver_webhooks = false).
  virtual absl::StatusOr<size_t> DeliverWebhooks() = 0;
  // Fires timers and runs retention as of the clock's now (what the
  // background tick does each second).
  virtual absl::Status Tick() = 0;

  // Every route with the roles that may call it (admin may call all).
  static std::vector<RouteInfo> Routes();
};

}  // namespace upfront
