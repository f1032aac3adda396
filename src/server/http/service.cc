// The service assembled: lifecycle, routing and roles, and the decision
// worker that turns the engine's decisions into nudges, webhooks, audit
// entries and metrics off the partition threads.

#include <openssl/evp.h>
#include <pthread.h>
#include <unistd.h>
#include <simdjson.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "src/common/hash.h"
#include "src/common/json_writer.h"
#include "src/common/time_format.h"
#include "src/server/http/service_impl.h"
#include "src/store/background_priority.h"

namespace upfront {
namespace server_internal {
namespace {

// The decision worker's niceness (0 is normal, 19 the lowest).
constexpr int kDecisionWorkerNice = 10;

constexpr unsigned kIngest = 1u << static_cast<int>(Role::kIngest);
constexpr unsigned kAgent = 1u << static_cast<int>(Role::kAgent);
constexpr unsigned kAnalyst = 1u << static_cast<int>(Role::kAnalyst);
constexpr unsigned kAdmin = 1u << static_cast<int>(Role::kAdmin);
constexpr unsigned kPublic = 0;

struct Route {
  const char* method;
  const char* path;
  unsigned roles;  // besides admin, who may call every route
  HttpResponse (ServiceImpl::*handler)(const Call&);
};

// Literal routes before parameterised ones where both could match.
const Route kRoutes[] = {
    {"GET", "/healthz", kPublic, &ServiceImpl::Health},
    {"GET", "/readyz", kPublic, &ServiceImpl::Ready},
    {"GET", "/openapi.json", kPublic, &ServiceImpl::OpenApi},
    {"GET", "/metrics", kAnalyst, &ServiceImpl::Metrics},
    {"GET", "/v1/whoami", kIngest | kAgent | kAnalyst, &ServiceImpl::WhoAmI},
    {"GET", "/v1/stats", kAgent | kAnalyst, &ServiceImpl::Stats},
    {"GET", "/v1/scorecard", kAnalyst, &ServiceImpl::GetScorecard},
    {"POST", "/v1/batch", kIngest, &ServiceImpl::IngestSegment},
    {"POST", "/v1/track", kIngest, &ServiceImpl::IngestSegment},
    {"POST", "/v1/identify", kIngest, &ServiceImpl::IngestSegment},
    {"POST", "/v1/page", kIngest, &ServiceImpl::IngestSegment},
    {"POST", "/v1/screen", kIngest, &ServiceImpl::IngestSegment},
    {"POST", "/v1/group", kIngest, &ServiceImpl::IngestSegment},
    {"POST", "/v1/alias", kIngest, &ServiceImpl::IngestSegment},
    {"POST", "/v1/cloudevents", kIngest, &ServiceImpl::IngestCloudEvents},
    {"GET", "/v1/customers/{id}", kAgent | kAnalyst, &ServiceImpl::GetProfile},
    {"DELETE", "/v1/customers/{id}", kPublic, &ServiceImpl::EraseCustomer},  // admin only
    {"GET", "/v1/customers/{id}/reading", kAgent | kAnalyst, &ServiceImpl::GetReading},
    {"GET", "/v1/customers/{id}/timeline", kAgent | kAnalyst, &ServiceImpl::GetTimeline},
    {"GET", "/v1/customers/{id}/decisions", kAgent | kAnalyst, &ServiceImpl::GetCustomerDecisions},
    {"GET", "/v1/customers/{id}/nudges", kIngest | kAgent, &ServiceImpl::GetNudges},
    {"GET", "/v1/customers/{id}/nudges/stream", kIngest | kAgent, &ServiceImpl::StreamNudges},
    {"GET", "/v1/customers/{id}/preferences", kAgent, &ServiceImpl::GetPreferences},
    {"PUT", "/v1/customers/{id}/preferences", kAgent, &ServiceImpl::PutPreferences},
    {"GET", "/v1/customers/{id}/export", kPublic, &ServiceImpl::ExportCustomer},  // admin only
    {"POST", "/v1/nudges/{decision_id}/feedback", kIngest | kAgent, &ServiceImpl::PostFeedback},
    {"GET", "/v1/decisions/{decision_id}", kAgent | kAnalyst, &ServiceImpl::GetDecision},
    {"GET", "/v1/review", kAgent | kAnalyst, &ServiceImpl::ListReview},
    {"GET", "/v1/review/{review_id}", kAgent | kAnalyst, &ServiceImpl::GetReviewItem},
    {"POST", "/v1/review/{review_id}/claim", kAgent, &ServiceImpl::ClaimReview},
    {"POST", "/v1/review/{review_id}/approve", kAgent, &ServiceImpl::ApproveReview},
    {"POST", "/v1/review/{review_id}/reject", kAgent, &ServiceImpl::RejectReview},
    {"GET", "/v1/policies", kAnalyst, &ServiceImpl::ListPolicies},
    {"POST", "/v1/policies", kPublic, &ServiceImpl::UploadPolicy},  // admin only
    {"GET", "/v1/policies/{version}", kAnalyst, &ServiceImpl::GetPolicy},
    {"GET", "/v1/policies/{version}/diff/{other}", kAnalyst, &ServiceImpl::DiffPolicies},
    {"POST", "/v1/policies/{version}/approve", kPublic, &ServiceImpl::ApprovePolicy},
    {"POST", "/v1/policies/{version}/activate", kPublic, &ServiceImpl::ActivatePolicy},
    {"POST", "/v1/policies/{version}/rollback", kPublic, &ServiceImpl::RollbackPolicy},
    {"GET", "/v1/audit", kAnalyst, &ServiceImpl::GetAudit},
    {"GET", "/v1/audit/verify", kAnalyst, &ServiceImpl::VerifyAudit},
    {"GET", "/v1/webhooks", kAnalyst, &ServiceImpl::ListWebhooks},
    {"POST", "/v1/webhooks/replay", kPublic, &ServiceImpl::ReplayWebhooks},  // admin only
    {"GET", "/v1/keys", kPublic, &ServiceImpl::ListKeys},                   // admin only
    {"POST", "/v1/keys", kPublic, &ServiceImpl::CreateKey},                 // admin only
};

// Routes that need no key at all (kPublic above otherwise means admin only).
bool IsOpen(const Route& r) {
  const std::string_view p = r.path;
  return p == "/healthz" || p == "/readyz" || p == "/openapi.json";
}

std::vector<std::string_view> Segments(std::string_view path) {
  std::vector<std::string_view> out;
  size_t start = 1;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    out.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return out;
}

bool Match(std::string_view pattern, const std::vector<std::string_view>& path, std::vector<std::string>* params) {
  const std::vector<std::string_view> parts = Segments(pattern);
  if (parts.size() != path.size()) return false;
  params->clear();
  for (size_t i = 0; i < parts.size(); ++i) {
    if (parts[i].starts_with('{')) {
      if (path[i].empty()) return false;
      params->emplace_back(path[i]);
    } else if (parts[i] != path[i]) {
      return false;
    }
  }
  return true;
}

std::string DecodeBase64(std::string_view in) {
  std::string out(in.size() * 3 / 4 + 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  if (n < 0) return "";
  size_t length = static_cast<size_t>(n);
  for (size_t i = in.size(); i > 0 && in[i - 1] == '=' && length > 0; --i) --length;
  out.resize(length);
  return out;
}

// The key from "Authorization: Basic base64(key:)" (Segment's write key as
// the user name) or "Authorization: Bearer key"; without either, a
// `writeKey` field of an ingest body, which Segment's HTTP API also accepts
// (analytics-node before 3.1 sends the key only there).
std::string PresentedKey(const HttpRequest& request, bool ingest_route) {
  std::string_view auth = request.Header("authorization");
  if (auth.starts_with("Bearer ")) return std::string(auth.substr(7));
  if (auth.starts_with("Basic ")) {
    std::string decoded = DecodeBase64(auth.substr(6));
    return decoded.substr(0, decoded.find(':'));
  }
  if (ingest_route && auth.empty() && request.body.find("\"writeKey\"") != std::string::npos) {
    const nlohmann::json body = nlohmann::json::parse(request.body, nullptr, false);
    return StringField(body, "writeKey");
  }
  return "";
}

std::string RoleList(unsigned roles) {
  std::string out;
  for (Role r : {Role::kIngest, Role::kAgent, Role::kAnalyst, Role::kAdmin}) {
    if (r != Role::kAdmin && !(roles & (1u << static_cast<int>(r)))) continue;
    if (!out.empty()) out += ", ";
    out += RoleName(r);
  }
  return out;
}

}  // namespace

ServiceImpl::ServiceImpl(const ServiceOptions& options)
    : options_(options), clock_(options.clock ? options.clock : &SystemClock()) {}

ServiceImpl::~ServiceImpl() { Stop(); }

absl::Status ServiceImpl::Open() {
  namespace fs = std::filesystem;
  const fs::path dir(options_.data_dir);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return absl::FailedPreconditionError("cannot create " + dir.string() + ": " + ec.message());
  // The engine creates the pseudonym key on its first open; the control
  // store needs it first.
  UPFRONT_ASSIGN_OR_RETURN(std::string key, LoadOrCreateDataKey(options_.data_dir));
  ControlOptions control;
  control.clock = clock_;
  control.pseudonym_key = key;
  control.sync = options_.sync;
  UPFRONT_ASSIGN_OR_RETURN(control_, ControlStore::Open((dir / "control").string(), control));
  UPFRONT_ASSIGN_OR_RETURN(ledger_, DecisionLedger::Open((dir / "server").string()));
  if (options_.create_first_admin_key && control_->ListKeys().empty()) {
    UPFRONT_ASSIGN_OR_RETURN(NewApiKey key, control_->CreateKey(Role::kAdmin, "first-admin", "system"));
    first_admin_key_ = key.secret;
  }
  UPFRONT_ASSIGN_OR_RETURN(int number, BootstrapPolicy());

  worker_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "upfront-decide");
    // Behind the ingest path: on a busy machine acknowledgements come first,
    // and decisions queue (bounded: the partitions wait when it is full).
    LowerThreadPriority(gettid(), kDecisionWorkerNice);
    RunDecisionWorker();
  });
  {
    std::unique_lock lock(runtime_mu_);
    UPFRONT_RETURN_IF_ERROR(OpenRuntime(number));
  }

  http_ = std::make_unique<HttpServer>(options_.http, [this](const HttpRequest& r) { return Handle(r); });
  UPFRONT_RETURN_IF_ERROR(http_->Start());
  if (options_.tick) {
    ticker_ = std::thread([this] {
      pthread_setname_np(pthread_self(), "upfront-tick");
      std::unique_lock lock(tick_mu_);
      while (!tick_stop_) {
        tick_cv_.wait_for(lock, std::chrono::seconds(1));
        if (tick_stop_) break;
        lock.unlock();
        if (absl::Status s = Tick(); !s.ok()) spdlog::warn("tick: {}", s.ToString());
        lock.lock();
      }
    });
  }
  return absl::OkStatus();
}

absl::StatusOr<int> ServiceImpl::BootstrapPolicy() {
  std::string file_text;
  if (!options_.policy_file.empty()) {
    std::ifstream in(options_.policy_file);
    if (!in) return absl::NotFoundError("cannot read the policy file " + options_.policy_file);
    std::stringstream text;
    text << in.rdbuf();
    file_text = text.str();
  }
  if (std::optional<PolicyVersion> active = control_->ActivePolicy()) {
    if (!file_text.empty()) {
      auto stored = control_->PolicyText(active->number);
      if (stored.ok() && *stored != file_text) {
        spdlog::warn("{} differs from the active policy v{} of the data directory, which is used; "
                     "upload it with POST /v1/policies to change the policy",
                     options_.policy_file, active->number);
      }
    }
    return active->number;
  }
  if (file_text.empty()) {
    return absl::FailedPreconditionError("the data directory has no active policy yet: start with --policy FILE");
  }
  // The first policy is trusted as given on the command line: uploaded,
  // approved and activated at once, each step in the audit trail.
  UPFRONT_ASSIGN_OR_RETURN(PolicyVersion v, control_->UploadPolicy(file_text, "cli:" + options_.policy_file));
  UPFRONT_RETURN_IF_ERROR(control_->ApprovePolicy(v.number, "system").status());
  UPFRONT_RETURN_IF_ERROR(control_->ActivatePolicy(v.number, "system").status());
  return v.number;
}

// REQUIRES: runtime_mu_ held exclusively (the worker, which reads the
// runtime shared, only queues meanwhile).
absl::Status ServiceImpl::OpenRuntime(int policy_number) {
  UPFRONT_ASSIGN_OR_RETURN(std::string text, control_->PolicyText(policy_number));
  UPFRONT_ASSIGN_OR_RETURN(Policy policy, LoadPolicyText(text, "policy v" + std::to_string(policy_number) + ".yaml"));
  Runtime next;
  next.policy = std::make_shared<Policy>(std::move(policy));
  next.policy_number = policy_number;

  OutboxOptions outbox;
  outbox.clock = clock_;
  outbox.retry = options_.webhook_retry;
  outbox.sync = options_.sync;
  outbox.jitter_seed = Hash64(options_.data_dir);
  outbox.on_attempt = [this](const DeliveryAttempt& a) { AuditDelivery(a); };
  UPFRONT_ASSIGN_OR_RETURN(outbox.endpoints, EndpointsFromPolicy(*next.policy));
  UPFRONT_ASSIGN_OR_RETURN(next.outbox,
                           Outbox::Open((std::filesystem::path(options_.data_dir) / "outbox").string(), outbox));

  {
    // Recovery tells decisions while the engine opens: the worker delivers
    // them with this policy and outbox.
    std::lock_guard lock(delivery_mu_);
    delivery_policy_ = next.policy;
    delivery_outbox_ = next.outbox.get();
  }
  EngineOptions engine;
  engine.data_dir = options_.data_dir;
  engine.policy = next.policy;
  engine.partitions = options_.partitions;
  engine.clock = clock_;
  engine.arrival = ArrivalClock::kWall;
  engine.sync = options_.sync;
  engine.on_decision = [this](std::string_view json) { OnDecision(json); };
  engine.await_decisions_durable = [this] { return AwaitDecisionsDurable(); };
  // Until the first tick after this, the engine may re-tell decisions it
  // told before a restart: recovery replays the log since the last
  // checkpoint, and that tick fires the timers that came due meanwhile.
  engine_recovering_.store(true);
  absl::StatusOr<std::unique_ptr<Engine>> opened = Engine::Open(engine);
  if (!opened.ok()) {
    CloseOutbox(next.outbox);
    return opened.status();
  }
  next.engine = std::move(*opened);
  if (options_.deliver_webhooks) next.outbox->Start();
  runtime_ = std::move(next);
  // The CLI's commands (inspect, review, ...) read the data directory's
  // policy.yaml: keep it the active version.
  std::ofstream((std::filesystem::path(options_.data_dir) / "policy.yaml").string()) << text;
  spdlog::info("policy v{} ({}) is active", policy_number, runtime_.policy->version);
  return absl::OkStatus();
}

void ServiceImpl::Stop() {
  if (stopped_) return;
  stopped_ = true;
  if (http_) http_->Stop();
  {
    std::lock_guard lock(tick_mu_);
    tick_stop_ = true;
  }
  tick_cv_.notify_all();
  if (ticker_.joinable()) ticker_.join();
  if (absl::Status s = Drain(); !s.ok()) spdlog::error("draining: {}", s.ToString());
  std::unique_lock lock(runtime_mu_);
  // The engine's last checkpoint may wait for decisions: the worker still runs.
  runtime_.engine.reset();
  {
    std::lock_guard decisions(decisions_mu_);
    worker_stop_ = true;
  }
  decisions_cv_.notify_all();
  if (worker_.joinable()) worker_.join();
  CloseOutbox(runtime_.outbox);
}

void ServiceImpl::CloseOutbox(std::unique_ptr<Outbox>& outbox) {
  if (!outbox) return;
  outbox->Stop();
  std::lock_guard lock(delivery_mu_);
  if (delivery_outbox_ == outbox.get()) delivery_outbox_ = nullptr;
  outbox.reset();
}

absl::Status ServiceImpl::Drain() {
  {
    auto lock = ReadRuntime();
    if (runtime_.engine) UPFRONT_RETURN_IF_ERROR(runtime_.engine->Flush());
  }
  return AwaitDecisionsDurable();
}

// Before a partition checkpoint, after an approved review and when draining:
// what a checkpoint covers is not replayed after a crash, so its decisions
// must be in the ledger's tables, not only in its memtable (see
// decision_ledger.h). One flush covers every caller waiting meanwhile.
absl::Status ServiceImpl::AwaitDecisionsDurable() {
  uint64_t done = 0;
  {
    std::unique_lock lock(decisions_mu_);
    const uint64_t target = decisions_told_;
    decisions_idle_cv_.wait(lock, [&] { return decisions_done_ >= target || worker_exited_; });
    done = decisions_done_;
  }
  std::lock_guard lock(persist_mu_);
  if (decisions_persisted_ >= done) return absl::OkStatus();
  UPFRONT_RETURN_IF_ERROR(ledger_->Persist());
  decisions_persisted_ = done;
  return absl::OkStatus();
}

absl::StatusOr<size_t> ServiceImpl::DeliverWebhooks() {
  auto lock = ReadRuntime();
  return runtime_.outbox->DeliverDue();
}

absl::Status ServiceImpl::Tick() {
  auto lock = ReadRuntime();
  if (!runtime_.engine) return absl::OkStatus();
  const Micros now = Now();
  UPFRONT_RETURN_IF_ERROR(runtime_.engine->AdvanceClock(now));
  engine_recovering_.store(false);
  if (now - last_retention_ >= options_.retention_every) {
    last_retention_ = now;
    UPFRONT_ASSIGN_OR_RETURN(uint64_t purged, runtime_.engine->PurgeExpiredEvents());
    if (purged > 0) spdlog::info("retention: purged {} events", purged);
    UPFRONT_ASSIGN_OR_RETURN(uint64_t expired, ledger_->ExpireNudges(now));
    if (expired > 0) spdlog::info("{} nudges expired unanswered", expired);
  }
  return absl::OkStatus();
}

// --- decisions ---

void ServiceImpl::OnDecision(std::string_view json) {
  {
    std::unique_lock lock(decisions_mu_);
    // Backpressure: when the worker falls this far behind, the partitions
    // wait (and so, through them, does ingest) rather than the queue growing
    // without bound. The worker never waits for a partition.
    decisions_room_cv_.wait(lock, [this] { return decisions_.size() < kMaxQueuedDecisions || worker_exited_; });
    decisions_.push_back({std::string(json), engine_recovering_.load()});
    ++decisions_told_;
  }
  decisions_cv_.notify_one();
}

void ServiceImpl::RunDecisionWorker() {
  std::vector<ToldDecision> batch;
  std::unique_lock lock(decisions_mu_);
  for (;;) {
    decisions_cv_.wait(lock, [this] { return worker_stop_ || !decisions_.empty(); });
    if (decisions_.empty() && worker_stop_) break;
    // A chunk at a time, not the whole queue: taking all of it let the
    // partitions fill the queue again and then wait for the worker to finish
    // every decision it had taken, seconds at a time under load, and ingest
    // stalled behind them in bursts (bench/http_load_bench).
    const size_t taken = std::min(kDecisionChunk, decisions_.size());
    batch.assign(std::make_move_iterator(decisions_.begin()),
                 std::make_move_iterator(decisions_.begin() + static_cast<std::ptrdiff_t>(taken)));
    decisions_.erase(decisions_.begin(), decisions_.begin() + static_cast<std::ptrdiff_t>(taken));
    decisions_room_cv_.notify_all();
    lock.unlock();
    try {
      ProcessDecisions(std::span(batch));
    } catch (const std::exception& e) {
      // A bug, not bad input (the engine writes these); keep serving.
      spdlog::error("processing decisions: {}", e.what());
    }
    const size_t processed = batch.size();
    batch.clear();
    lock.lock();
    decisions_done_ += processed;
    decisions_idle_cv_.notify_all();
  }
  worker_exited_ = true;
  decisions_idle_cv_.notify_all();
  decisions_room_cv_.notify_all();
}

namespace {

// The audit details of an action as JSON text, keys sorted as in every other
// entry, numbers and objects as the engine told them: building a document only
// to print it cost more than the rest of the entry.
void WriteDecisionAuditDetails(simdjson::dom::element d, std::string_view channel, std::string_view cohort,
                               JsonWriter& w) {
  const auto told = [&](const char* key, std::string_view absent) {
    simdjson::dom::element e;
    w.Raw(d[key].get(e) == simdjson::SUCCESS ? simdjson::to_string(e) : std::string(absent));
  };
  const auto told_text = [&](const char* key) {
    std::string_view v;
    w.String(d[key].get(v) == simdjson::SUCCESS ? v : std::string_view());
  };
  w.Char('{');
  if (simdjson::dom::element approver; d["approved_by"].get(approver) == simdjson::SUCCESS) {
    w.Raw(R"("approved_by":)");
    w.Raw(simdjson::to_string(approver));
    w.Char(',');
  }
  w.Member(R"("channel":)", channel);
  w.Member(R"(,"cohort":)", cohort);
  w.Raw(R"(,"confidence":)");
  told("confidence", "null");
  w.Raw(R"(,"intervention":)");
  told_text("intervention");
  w.Raw(R"(,"message":)");
  told_text("message");
  w.Raw(R"(,"models":{)");
  simdjson::dom::object models;
  if (d["models"].get(models) == simdjson::SUCCESS) {
    bool first = true;
    for (auto [name, model] : models) {
      std::string_view version;
      if (!first) w.Char(',');
      first = false;
      w.String(name);
      w.Char(':');
      w.String(model["version"].get(version) == simdjson::SUCCESS ? version : std::string_view());
    }
  }
  w.Raw(R"(},"policy_hash":)");
  told_text("policy_hash");
  w.Raw(R"(,"policy_version":)");
  told_text("policy_version");
  w.Raw(R"(,"step":)");
  told("step", "null");
  w.Raw(R"(,"trigger":)");
  told("trigger", "{}");
  w.Char('}');
}

std::string DecisionAuditDetails(simdjson::dom::element d, std::string_view channel, std::string_view cohort) {
  std::string details;
  {
    JsonWriter w(&details);
    WriteDecisionAuditDetails(d, channel, cohort, w);
  }  // trims `details` to what was written
  return details;
}

}  // namespace

void ServiceImpl::ProcessDecisions(std::span<ToldDecision> chunk) {
  std::shared_ptr<const Policy> policy;
  {
    std::lock_guard lock(delivery_mu_);
    policy = delivery_policy_;
  }
  const Micros now = Now();
  std::vector<RecordedDecision> recorded;
  recorded.reserve(chunk.size());
  std::vector<AuditEntry> audit;
  std::vector<OutboxMessage> webhooks;
  std::vector<std::pair<std::string, std::string>> published;  // customer, SSE data
  // Decisions are read with simdjson (nothing is built for the fields not
  // needed); the audit details are the only document made, for actions.
  simdjson::dom::parser parser;
  for (ToldDecision& told : chunk) {
    std::string& raw = told.json;
    simdjson::dom::element d;
    std::string_view id_view;
    if (parser.parse(raw).get(d) != simdjson::SUCCESS || d["decision_id"].get(id_view) != simdjson::SUCCESS) {
      spdlog::error("the engine told an unreadable decision: {}", raw.substr(0, 200));
      continue;
    }
    const auto text = [&](const char* key, std::string_view fallback = "") {
      std::string_view v;
      return std::string(d[key].get(v) == simdjson::SUCCESS ? v : fallback);
    };
    const std::string id(id_view);
    const std::string customer = text("customer");
    const std::string action = text("action", "none");
    const std::string channel = text("channel");
    const std::string cohort = text("cohort", "treatment");
    std::vector<std::string> reasons;
    simdjson::dom::array blocked;
    if (d["blocked"].get(blocked) == simdjson::SUCCESS) {
      for (simdjson::dom::element b : blocked) {
        std::string_view reason;
        reasons.emplace_back(b["reason"].get(reason) == simdjson::SUCCESS ? reason : std::string_view());
      }
    }
    metrics_.CountDecision(action, channel, reasons, cohort);

    RecordedDecision r;
    r.may_be_recorded = told.replayed;
    r.id = id;
    r.customer = customer;
    r.at = ParseTimestamp(text("at")).value_or(now);
    const bool acts = action == "deliver" || action == "ask_confirm";
    if (acts && cohort != "holdout") {
      const ChannelSpec* spec = policy->FindChannel(channel);
      if (spec != nullptr && !spec->webhook.empty()) {
        // {"data": <the decision as told>, "timestamp", "type"}
        std::string payload = "{\"data\":";
        payload += raw;
        payload += ",\"timestamp\":\"" + FormatTimestamp(now) + "\",\"type\":\"nudge.deliver\"}";
        webhooks.push_back({"msg_" + id, spec->webhook, customer, "nudge.deliver", std::move(payload)});
      } else if (spec != nullptr && spec->queue.empty()) {
        r.nudge = true;
        r.nudge_expires = now + options_.nudge_ttl;
        published.emplace_back(customer, raw);
      }
      const int64_t day = now / kMicrosPerDay;
      if (day != action_day_) {
        action_day_ = day;
        actions_today_.clear();
      }
      metrics_.CountActionOfDay(++actions_today_[customer]);
    }
    if (action != "none") {
      AuditEntry entry{"engine", "decision." + action, {customer}, id};
      entry.details_text = DecisionAuditDetails(d, channel, cohort);
      audit.push_back(std::move(entry));
    }
    r.json = std::move(raw);
    recorded.push_back(std::move(r));
  }
  if (absl::Status s = ledger_->Record(recorded); !s.ok()) spdlog::error("recording decisions: {}", s.ToString());
  {
    // Not the runtime lock: a partition may be waiting for this batch to be
    // durable while a policy activation holds that lock.
    std::lock_guard lock(delivery_mu_);
    const std::vector<absl::Status> queued =
        delivery_outbox_ != nullptr
            ? delivery_outbox_->EnqueueMany(webhooks)
            : std::vector<absl::Status>(webhooks.size(), absl::UnavailableError("the outbox is closed"));
    for (size_t i = 0; i < webhooks.size(); ++i) {
      const OutboxMessage& m = webhooks[i];
      if (!queued[i].ok()) {
        spdlog::error("webhook {} for decision not queued: {}", m.id, queued[i].ToString());
        continue;
      }
      audit.push_back({"engine", "delivery.queued", {m.customer}, m.id.substr(4),
                       {{"endpoint", m.endpoint}, {"webhook_id", m.id}}});
    }
  }
  if (!audit.empty()) {
    if (auto s = control_->AppendMany(audit); !s.ok()) spdlog::error("audit: {}", s.status().ToString());
  }
  for (const auto& [customer, data] : published) Publish(customer, data);
}

void ServiceImpl::AuditDelivery(const DeliveryAttempt& a) {
  using Outcome = DeliveryAttempt::Outcome;
  const char* action = a.outcome == Outcome::kDelivered ? "delivery.sent"
                       : a.outcome == Outcome::kDead    ? "delivery.dead"
                                                        : "delivery.retry";
  nlohmann::json details = {{"endpoint", a.endpoint}, {"webhook_id", a.id}, {"attempts", a.attempts}};
  if (a.http_status != 0) details["http_status"] = a.http_status;
  if (!a.detail.empty()) details["error"] = a.detail;
  // Webhook ids are "msg_<decision_id>": the subject links back to the decision.
  const std::string decision = a.id.starts_with("msg_") ? a.id.substr(4) : a.id;
  if (auto s = control_->Append({"outbox", action, {a.customer}, decision, std::move(details)}); !s.ok()) {
    spdlog::error("audit of webhook {}: {}", a.id, s.status().ToString());
  }
}

void ServiceImpl::Publish(const std::string& customer, const std::string& sse_data) {
  std::vector<std::shared_ptr<NudgeSubscription>> live;
  {
    std::lock_guard lock(subscriptions_mu_);
    auto it = subscriptions_.find(customer);
    if (it == subscriptions_.end()) return;
    auto& list = it->second;
    for (auto w = list.begin(); w != list.end();) {
      if (auto s = w->lock()) {
        live.push_back(std::move(s));
        ++w;
      } else {
        w = list.erase(w);
      }
    }
    if (list.empty()) subscriptions_.erase(it);
  }
  for (auto& s : live) {
    {
      std::lock_guard lock(s->mu);
      s->events.push_back(sse_data);
    }
    s->cv.notify_all();
  }
}

std::vector<std::string> ServiceImpl::IdsOf(Engine& engine, const std::string& id) {
  auto ids = engine.CustomerIds(id);
  return ids.ok() ? *ids : std::vector<std::string>{id};
}

// --- routing ---

HttpResponse ServiceImpl::Respond(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk: return HttpResponse::Json(200, "{}");
    case absl::StatusCode::kInvalidArgument: return HttpResponse::Error(400, std::string(status.message()));
    case absl::StatusCode::kNotFound: return HttpResponse::Error(404, std::string(status.message()));
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kAlreadyExists: return HttpResponse::Error(409, std::string(status.message()));
    case absl::StatusCode::kPermissionDenied: return HttpResponse::Error(403, std::string(status.message()));
    case absl::StatusCode::kUnavailable: return HttpResponse::Error(503, std::string(status.message()));
    default:
      spdlog::error("internal error: {}", status.ToString());
      return HttpResponse::Error(500, std::string(status.message()));
  }
}

HttpResponse ServiceImpl::Handle(const HttpRequest& request) {
  const auto started = std::chrono::steady_clock::now();
  if (request.path == "/" || request.path == "/console" || request.path.starts_with("/console/")) {
    HttpResponse response = ServeConsole(request);
    metrics_.CountRequest("GET /console", response.status,
                          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    return response;
  }
  const std::vector<std::string_view> path = Segments(request.path);
  std::vector<std::string> params;
  const Route* route = nullptr;
  bool path_known = false;
  for (const Route& r : kRoutes) {
    if (!Match(r.path, path, &params)) continue;
    path_known = true;
    if (request.method == r.method) {
      route = &r;
      break;
    }
  }
  HttpResponse response;
  std::string route_name = "unmatched";
  if (route == nullptr) {
    response = path_known ? HttpResponse::Error(405, request.method + " is not allowed on " + request.path)
                          : HttpResponse::Error(404, "no route " + request.method + " " + request.path);
  } else {
    route_name = std::string(route->method) + " " + route->path;
    Call call{request, std::move(params), {}};
    if (!IsOpen(*route)) {
      const std::string presented = PresentedKey(request, route->roles == kIngest);
      std::optional<ApiKey> key = presented.empty() ? std::nullopt : control_->Authenticate(presented);
      if (!key) {
        response = HttpResponse::Error(401, presented.empty()
                                                ? "this route needs an API key (HTTP Basic with the key as user name, or Bearer)"
                                                : "the API key is not valid (unknown or revoked)");
        // A Bearer caller (the console) gets a Bearer challenge: a Basic one
        // makes browsers pop up a password dialog over the page.
        const bool bearer = request.Header("authorization").starts_with("Bearer ");
        response.headers.emplace_back("WWW-Authenticate",
                                      bearer ? "Bearer realm=\"upfront\"" : "Basic realm=\"upfront\"");
      } else if (key->role != Role::kAdmin && !(route->roles & (1u << static_cast<int>(key->role)))) {
        response = HttpResponse::Error(403, "the " + std::string(RoleName(key->role)) + " role may not call " +
                                                route_name + " (allowed: " + RoleList(route->roles) + ")");
      } else {
        call.caller.role = key->role;
        call.caller.key_id = key->id;
        call.caller.name = key->name;
        call.caller.actor = std::string(RoleName(key->role)) + ":" + key->name;
        response = (this->*route->handler)(call);
      }
    } else {
      response = (this->*route->handler)(call);
    }
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  metrics_.CountRequest(route_name, response.status, seconds);
  return response;
}

}  // namespace server_internal

std::vector<RouteInfo> Service::Routes() {
  std::vector<RouteInfo> out;
  for (const server_internal::Route& r : server_internal::kRoutes) {
    RouteInfo info{r.method, r.path, {}};
    if (!server_internal::IsOpen(r)) {
      for (Role role : {Role::kIngest, Role::kAgent, Role::kAnalyst, Role::kAdmin}) {
        if (role == Role::kAdmin || (r.roles & (1u << static_cast<int>(role)))) {
          info.roles.emplace_back(RoleName(role));
        }
      }
    }
    out.push_back(std::move(info));
  }
  return out;
}

absl::StatusOr<std::unique_ptr<Service>> Service::Start(const ServiceOptions& options) {
  auto service = std::make_unique<server_internal::ServiceImpl>(options);
  UPFRONT_RETURN_IF_ERROR(service->Open());
  return std::unique_ptr<Service>(std::move(service));
}

}  // namespace upfront
