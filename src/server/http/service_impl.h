// Internal to src/server/http: the assembled service, shared by the files
// that implement its routes.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "src/server/control/control_store.h"
#include "src/server/http/decision_ledger.h"
#include "src/server/http/http_server.h"
#include "src/server/http/metrics.h"
#include "src/server/http/service.h"
#include "src/server/outbox/outbox.h"
#include "upfront/engine.h"
#include "upfront/policy.h"

namespace upfront::server_internal {

// Who is calling, once their key checked out.
struct Caller {
  Role role = Role::kIngest;
  std::string key_id;
  std::string name;   // the key's name: the agent or admin, in the audit trail
  std::string actor;  // "key:<id>" / "<role>:<name>"
};

// A matched request: path parameters in pattern order.
struct Call {
  const HttpRequest& request;
  std::vector<std::string> params;
  Caller caller;
};

// A string field of a JSON object, "" when absent, null or not a string
// (nlohmann's value() throws on null).
inline std::string StringField(const nlohmann::json& object, const char* key) {
  if (!object.is_object()) return "";
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// A numeric query parameter: `fallback` when absent, nullopt when not a number.
std::optional<size_t> QueryNumber(const HttpRequest& request, const std::string& name, size_t fallback);

// New nudges for one customer's open SSE streams.
struct NudgeSubscription {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::string> events;  // SSE "data:" payloads
};

class ServiceImpl final : public Service {
 public:
  explicit ServiceImpl(const ServiceOptions& options);
  ~ServiceImpl() override;

  absl::Status Open();
  uint16_t port() const override { return http_ ? http_->port() : 0; }
  std::string first_admin_key() const override { return first_admin_key_; }
  void Stop() override;
  absl::Status Drain() override;
  absl::StatusOr<size_t> DeliverWebhooks() override;
  absl::Status Tick() override;

  HttpResponse Handle(const HttpRequest& request);

  // --- routes (routes_*.cc) ---
  HttpResponse Health(const Call&);
  HttpResponse Ready(const Call&);
  HttpResponse OpenApi(const Call&);
  HttpResponse Metrics(const Call&);
  HttpResponse Stats(const Call&);
  HttpResponse GetScorecard(const Call&);
  HttpResponse IngestSegment(const Call&);
  HttpResponse IngestCloudEvents(const Call&);
  HttpResponse GetProfile(const Call&);
  HttpResponse GetReading(const Call&);
  HttpResponse GetCustomerDecisions(const Call&);
  HttpResponse GetNudges(const Call&);
  HttpResponse StreamNudges(const Call&);
  HttpResponse PostFeedback(const Call&);
  HttpResponse GetPreferences(const Call&);
  HttpResponse PutPreferences(const Call&);
  HttpResponse GetDecision(const Call&);
  HttpResponse ExportCustomer(const Call&);
  HttpResponse EraseCustomer(const Call&);
  HttpResponse ListReview(const Call&);
  HttpResponse GetReviewItem(const Call&);
  HttpResponse ClaimReview(const Call&);
  HttpResponse ApproveReview(const Call&);
  HttpResponse RejectReview(const Call&);
  HttpResponse ListPolicies(const Call&);
  HttpResponse UploadPolicy(const Call&);
  HttpResponse GetPolicy(const Call&);
  HttpResponse DiffPolicies(const Call&);
  HttpResponse ApprovePolicy(const Call&);
  HttpResponse ActivatePolicy(const Call&);
  HttpResponse RollbackPolicy(const Call&);
  HttpResponse GetAudit(const Call&);
  HttpResponse VerifyAudit(const Call&);
  HttpResponse ListWebhooks(const Call&);
  HttpResponse ReplayWebhooks(const Call&);
  HttpResponse ListKeys(const Call&);
  HttpResponse CreateKey(const Call&);
  HttpResponse WhoAmI(const Call&);
  HttpResponse GetTimeline(const Call&);
  // GET /console/...: the web console's files (no key: the page asks for one).
  HttpResponse ServeConsole(const HttpRequest& request);

 private:
  // A decision as the engine told it; `replayed` when told while the engine
  // recovered (opening, up to the first tick), when it may re-tell what it
  // told before a restart.
  struct ToldDecision {
    std::string json;
    bool replayed = false;
  };
  // The engine and what depends on the active policy, swapped together
  // when a policy version is activated.
  struct Runtime {
    std::shared_ptr<const Policy> policy;
    int policy_number = 0;
    std::unique_ptr<Engine> engine;
    std::unique_ptr<Outbox> outbox;
  };

  absl::Status OpenRuntime(int policy_number);
  absl::StatusOr<int> BootstrapPolicy();
  void OnDecision(std::string_view json);
  void RunDecisionWorker();
  void ProcessDecisions(std::span<ToldDecision> chunk);
  void Publish(const std::string& customer, const std::string& sse_data);
  void AuditDelivery(const DeliveryAttempt& attempt);
  // Blocks until every decision the engine has told so far is recorded, and
  // then flushes the ledger (which keeps no log of its own).
  absl::Status AwaitDecisionsDurable();
  // Stops and closes an outbox the worker may be delivering to.
  void CloseOutbox(std::unique_ptr<Outbox>& outbox);
  HttpResponse Respond(const absl::Status& status);
  HttpResponse AnswerReview(const Call& call, bool approve);
  HttpResponse ActivateVersion(const Call& call, bool rollback);
  // Every id of the customer known by `id` ([id] when unknown).
  std::vector<std::string> IdsOf(Engine& engine, const std::string& id);
  std::shared_lock<std::shared_mutex> ReadRuntime() { return std::shared_lock(runtime_mu_); }
  Micros Now() const { return clock_->Now(); }

  ServiceOptions options_;
  const Clock* clock_;
  std::unique_ptr<ControlStore> control_;
  std::unique_ptr<DecisionLedger> ledger_;
  ServerMetrics metrics_;
  std::unique_ptr<HttpServer> http_;

  std::shared_mutex runtime_mu_;
  Runtime runtime_;

  // Decisions told by the engine, waiting for the worker.
  std::mutex decisions_mu_;
  std::condition_variable decisions_cv_;
  std::condition_variable decisions_idle_cv_;
  std::condition_variable decisions_room_cv_;
  static constexpr size_t kMaxQueuedDecisions = 50000;
  // The worker takes and records this many at a time. It runs behind ingest
  // under load, and thousands in one go grew the ledger's write batch (a
  // kilobyte each) to tens of megabytes: copying it while it grew and
  // faulting in its pages were a third of the worker.
  static constexpr size_t kDecisionChunk = 1024;
  std::deque<ToldDecision> decisions_;
  std::atomic<bool> engine_recovering_{false};
  uint64_t decisions_told_ = 0;  // by the engine
  uint64_t decisions_done_ = 0;  // recorded, queued for delivery and audited
  std::mutex persist_mu_;        // one ledger flush at a time; the others then find it done
  uint64_t decisions_persisted_ = 0;  // done and flushed by the ledger
  bool worker_stop_ = false;
  bool worker_exited_ = false;
  std::thread worker_;
  // What the worker delivers with; swapped when a policy is activated.
  std::mutex delivery_mu_;
  std::shared_ptr<const Policy> delivery_policy_;
  Outbox* delivery_outbox_ = nullptr;
  // Actions per customer on the current UTC day (fatigue metric).
  int64_t action_day_ = -1;
  std::map<std::string, uint32_t> actions_today_;

  std::mutex subscriptions_mu_;
  std::map<std::string, std::vector<std::weak_ptr<NudgeSubscription>>> subscriptions_;

  std::mutex tick_mu_;
  std::condition_variable tick_cv_;
  bool tick_stop_ = false;
  std::thread ticker_;
  Micros last_retention_ = 0;
  bool stopped_ = false;
  std::string first_admin_key_;
};

}  // namespace upfront::server_internal
