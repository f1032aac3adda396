// Routes for agents, analysts and admins: the review queue, policy
// governance, the audit trail, webhooks, keys, and operations (health,
// readiness, metrics, live stats, the OpenAPI document).

#include <simdjson.h>

#include <charconv>

#include "src/common/time_format.h"
#include "src/server/http/openapi_json.h"
#include "src/measure/scorecard.h"
#include "src/server/http/service_impl.h"

namespace upfront::server_internal {
namespace {

constexpr Micros kClaimFor = 30 * kMicrosPerMinute;

std::optional<int> ParseVersion(std::string_view text) {
  if (text.starts_with('v')) text.remove_prefix(1);
  int n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size() || n <= 0) return std::nullopt;
  return n;
}

nlohmann::json VersionJson(const PolicyVersion& v) {
  const auto time = [](Micros t) { return t == 0 ? nlohmann::json(nullptr) : nlohmann::json(FormatTimestamp(t)); };
  return {{"number", v.number},         {"name", v.name},
          {"hash", v.hash},             {"status", v.status},
          {"uploaded_by", v.uploaded_by}, {"uploaded_at", time(v.uploaded_at)},
          {"approved_by", v.approved_by.empty() ? nlohmann::json(nullptr) : nlohmann::json(v.approved_by)},
          {"approved_at", time(v.approved_at)}, {"activated_at", time(v.activated_at)}};
}

// Counted without parsing each item: /metrics and the console poll this
// with thousands of items queued. Items are stored as nlohmann dumps them.
uint64_t PendingReviewCount(Engine& engine) {
  uint64_t pending = 0;
  engine.ScanRecords("review", [&](std::string_view, std::string_view json) {
    pending += json.find(R"("status":"pending")") != std::string_view::npos;
    return true;
  }).IgnoreError();
  return pending;
}

}  // namespace

std::optional<size_t> QueryNumber(const HttpRequest& request, const std::string& name, size_t fallback) {
  const std::string text = request.Query(name);
  if (text.empty()) return fallback;
  size_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return n;
}

HttpResponse ServiceImpl::Health(const Call&) { return HttpResponse::Json(200, R"({"status":"ok"})"); }

HttpResponse ServiceImpl::Ready(const Call&) {
  auto lock = ReadRuntime();
  if (!runtime_.engine || stopped_) return HttpResponse::Error(503, "starting or stopping");
  return HttpResponse::Json(200, nlohmann::json{{"status", "ready"},
                                                {"policy", runtime_.policy->version},
                                                {"policy_number", runtime_.policy_number}}
                                     .dump());
}

HttpResponse ServiceImpl::OpenApi(const Call&) { return HttpResponse::Json(200, std::string(kOpenApiJson)); }

HttpResponse ServiceImpl::Metrics(const Call&) {
  ServerMetrics::Snapshot s;
  {
    auto lock = ReadRuntime();
    s.review_pending = PendingReviewCount(*runtime_.engine);
    const OutboxStats o = runtime_.outbox->Stats();
    s.outbox_pending = o.pending;
    s.outbox_delivered = o.delivered;
    s.outbox_attempts = o.attempts;
    s.outbox_failed = o.failed_attempts;
    s.outbox_rate_limited = o.rate_limited;
    s.outbox_dead = o.dead;
    s.outbox_disabled_endpoints = o.disabled_endpoints;
    const EngineStats e = runtime_.engine->Stats();
    s.engine_partitions = static_cast<uint64_t>(e.partitions);
    s.engine_merges = e.merges;
    s.events_applying = e.events_applying;
    s.ingest_waits = e.ingest_waits;
    s.decision_latency = e.decision_latency_counts;
    s.decision_latency_sum_micros = e.decision_latency_sum_micros;
    for (const ModelDrift& d : runtime_.engine->Drift()) s.drift.push_back({d.model, d.version, d.psi, d.current_scores});
    s.policy_version = runtime_.policy->version;
    s.policy_number = runtime_.policy_number;
  }
  s.nudges_pending = ledger_->pending_nudges();
  {
    std::lock_guard lock(decisions_mu_);
    s.decision_queue = decisions_.size();
  }
  HttpResponse r = HttpResponse::Json(200, metrics_.Render(s));
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  return r;
}

HttpResponse ServiceImpl::Stats(const Call&) {
  auto lock = ReadRuntime();
  const EngineStats e = runtime_.engine->Stats();
  const OutboxStats o = runtime_.outbox->Stats();
  const ServerMetrics::DecisionCounts decisions = metrics_.Decisions();
  nlohmann::json drift = nlohmann::json::array();
  for (const ModelDrift& d : runtime_.engine->Drift()) {
    drift.push_back({{"model", d.model}, {"version", d.version}, {"psi", d.psi}, {"level", d.level}});
  }
  return HttpResponse::Json(
      200, nlohmann::json{{"events_per_second", metrics_.IngestRate(Now())},
                          {"events", {{"accepted", e.accepted}, {"duplicates", e.duplicates},
                                      {"rejected", e.rejected}, {"late", e.late}}},
                          {"decisions", {{"points", decisions.decision_points},
                                         {"by_cohort", decisions.by_cohort},
                                         {"actions", decisions.actions},
                                         {"blocked", decisions.blocks},
                                         {"feedback", decisions.feedback}}},
                          {"nudges_pending", ledger_->pending_nudges()},
                          {"review_pending", PendingReviewCount(*runtime_.engine)},
                          {"webhooks", {{"pending", o.pending}, {"delivered", o.delivered}, {"dead", o.dead},
                                        {"failed_attempts", o.failed_attempts}}},
                          {"drift", std::move(drift)},
                          {"policy", {{"version", runtime_.policy->version}, {"number", runtime_.policy_number}}}}
               .dump());
}

HttpResponse ServiceImpl::GetScorecard(const Call& call) {
  ScorecardOptions options;
  absl::StatusOr<ScorecardWindow> window = ParseScorecardWindow(call.request.Query("window", "two-weeks"));
  if (!window.ok()) return HttpResponse::Error(400, "query " + std::string(window.status().message()));
  options.window = *window;
  for (const auto& [name, slot] : {std::pair{"from", &options.from}, std::pair{"to", &options.to}}) {
    const std::string text = call.request.Query(name);
    if (text.empty()) continue;
    const std::optional<Micros> t = ParseTimestamp(text);
    if (!t) return HttpResponse::Error(400, "query " + std::string(name) + ": '" + text + "' is not an RFC 3339 time");
    *slot = *t;
  }
  absl::StatusOr<PValueAdjustment> adjust = ParsePValueAdjustment(call.request.Query("adjust", "holm"));
  if (!adjust.ok()) return HttpResponse::Error(400, "query " + std::string(adjust.status().message()));
  options.adjustment = *adjust;
  options.sequential = call.request.Query("sequential", "false") == "true";
  const std::optional<size_t> min_per_arm = QueryNumber(call.request, "min_per_arm", 100);
  if (!min_per_arm) return HttpResponse::Error(400, "query min_per_arm: must be a number");
  options.min_per_arm = *min_per_arm;
  auto lock = ReadRuntime();
  absl::StatusOr<nlohmann::json> card = BuildScorecard(*runtime_.engine, *runtime_.policy, options);
  if (!card.ok()) return Respond(card.status());
  return HttpResponse::Json(200, card->dump());
}

// --- review queue ---

HttpResponse ServiceImpl::ListReview(const Call& call) {
  const std::optional<size_t> limit = QueryNumber(call.request, "limit", 100);
  if (!limit) return HttpResponse::Error(400, "query limit: must be a number");
  const std::string status = call.request.Query("status", "pending");
  absl::StatusOr<std::string> items;
  {
    auto lock = ReadRuntime();
    items = runtime_.engine->ReviewItems(status == "all" ? "" : status, *limit);
  }
  if (!items.ok()) return Respond(items.status());
  const std::string view = call.request.Query("view", "full");
  if (view != "full" && view != "summary") return HttpResponse::Error(400, "query view: must be full or summary");
  const Micros now = Now();
  const auto holder_json = [&](std::string_view review_id) {
    const std::string holder = ledger_->ClaimHolder(std::string(review_id), now);
    return holder.empty() ? std::string("null") : nlohmann::json(holder).dump();
  };
  if (view == "full") {
    nlohmann::json list = nlohmann::json::parse(*items);
    for (auto& item : list) item["claimed_by"] = nlohmann::json::parse(holder_json(StringField(item, "review_id")));
    return HttpResponse::Json(200, list.dump());
  }
  // What a list row shows (GET /v1/review/{id} has the rest), copied out of
  // the stored items without building a document for each: the console
  // asks for ten thousand at a time.
  simdjson::dom::parser parser;
  simdjson::dom::array list;
  if (parser.parse(*items).get(list) != simdjson::SUCCESS) {
    return HttpResponse::Error(500, "the review items are unreadable");
  }
  std::string out = "[";
  for (simdjson::dom::element item : list) {
    if (out.size() > 1) out += ',';
    out += '{';
    std::string_view review_id;
    for (const char* key : {"review_id", "customer", "intervention", "channel", "step", "confidence", "message",
                            "status", "created_at", "expires_at"}) {
      simdjson::dom::element value;
      if (item[key].get(value) != simdjson::SUCCESS) continue;
      if (std::string_view(key) == "review_id" && value.get(review_id) != simdjson::SUCCESS) review_id = {};
      out += '"';
      out += key;
      out += "\":";
      out += simdjson::to_string(value);
      out += ',';
    }
    out += "\"claimed_by\":";
    out += holder_json(review_id);
    out += '}';
  }
  out += ']';
  return HttpResponse::Json(200, std::move(out));
}

HttpResponse ServiceImpl::GetReviewItem(const Call& call) {
  absl::StatusOr<std::string> stored;
  {
    auto lock = ReadRuntime();
    stored = runtime_.engine->ReviewItem(call.params[0]);
  }
  if (!stored.ok()) return Respond(stored.status());
  nlohmann::json item = nlohmann::json::parse(*stored);
  const std::string holder = ledger_->ClaimHolder(call.params[0], Now());
  item["claimed_by"] = holder.empty() ? nlohmann::json(nullptr) : nlohmann::json(holder);
  return HttpResponse::Json(200, item.dump());
}

HttpResponse ServiceImpl::ClaimReview(const Call& call) {
  const std::string& id = call.params[0];
  auto holder = ledger_->Claim(id, call.caller.name, Now(), kClaimFor);
  if (!holder.ok()) return Respond(holder.status());
  if (*holder != call.caller.name) return HttpResponse::Error(409, "review item " + id + " is claimed by " + *holder);
  control_->Append({call.caller.actor, "review.claim", {}, id, {}}).IgnoreError();
  return HttpResponse::Json(200, nlohmann::json{{"review_id", id}, {"claimed_by", *holder},
                                                {"until", FormatTimestamp(Now() + kClaimFor)}}.dump());
}

HttpResponse ServiceImpl::ApproveReview(const Call& call) { return AnswerReview(call, true); }
HttpResponse ServiceImpl::RejectReview(const Call& call) { return AnswerReview(call, false); }

HttpResponse ServiceImpl::AnswerReview(const Call& call, bool approve) {
  const std::string& id = call.params[0];
  nlohmann::json body = call.request.body.empty() ? nlohmann::json::object()
                                                  : nlohmann::json::parse(call.request.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) return HttpResponse::Error(400, "the body must be a JSON object");
  ReviewAnswer answer;
  answer.approve = approve;
  answer.agent = call.caller.name;
  if (body.contains("message")) {
    if (!body["message"].is_string()) return HttpResponse::Error(400, "field message: must be a string");
    answer.message = body["message"];
  }
  if (body.contains("reason")) {
    if (!body["reason"].is_string()) return HttpResponse::Error(400, "field reason: must be a string");
    answer.reason = body["reason"];
  }
  if (!approve && answer.reason.empty()) return HttpResponse::Error(400, "field reason: a rejection needs a reason");
  const std::string holder = ledger_->ClaimHolder(id, Now());
  if (!holder.empty() && holder != call.caller.name) {
    return HttpResponse::Error(409, "review item " + id + " is claimed by " + holder);
  }
  absl::StatusOr<std::string> item;
  {
    auto lock = ReadRuntime();
    item = runtime_.engine->AnswerReview(id, answer);
  }
  if (!item.ok()) return Respond(item.status());
  const nlohmann::json updated = nlohmann::json::parse(*item);
  nlohmann::json details = approve ? nlohmann::json{{"message", answer.message}} : nlohmann::json{{"reason", answer.reason}};
  control_->Append({call.caller.actor, approve ? "review.approve" : "review.reject",
                    {StringField(updated, "customer")}, id, details})
      .IgnoreError();
  return HttpResponse::Json(200, *item);
}

// --- policies ---

HttpResponse ServiceImpl::ListPolicies(const Call&) {
  nlohmann::json list = nlohmann::json::array();
  for (const PolicyVersion& v : control_->ListPolicies()) list.push_back(VersionJson(v));
  return HttpResponse::Json(200, list.dump());
}

HttpResponse ServiceImpl::UploadPolicy(const Call& call) {
  if (call.request.body.empty()) return HttpResponse::Error(400, "the body must be the policy YAML");
  auto version = control_->UploadPolicy(call.request.body, call.caller.name);
  if (!version.ok()) return Respond(version.status());
  return HttpResponse::Json(201, VersionJson(*version).dump());
}

HttpResponse ServiceImpl::GetPolicy(const Call& call) {
  const std::optional<int> n = ParseVersion(call.params[0]);
  if (!n) return HttpResponse::Error(400, "version: '" + call.params[0] + "' is not a version number");
  auto text = control_->PolicyText(*n);
  if (!text.ok()) return Respond(text.status());
  for (const PolicyVersion& v : control_->ListPolicies()) {
    if (v.number != *n) continue;
    nlohmann::json out = VersionJson(v);
    out["yaml"] = *text;
    return HttpResponse::Json(200, out.dump());
  }
  return HttpResponse::Error(404, "no policy version " + call.params[0]);
}

HttpResponse ServiceImpl::DiffPolicies(const Call& call) {
  const std::optional<int> a = ParseVersion(call.params[0]);
  const std::optional<int> b = ParseVersion(call.params[1]);
  if (!a || !b) return HttpResponse::Error(400, "versions must be numbers, like /v1/policies/1/diff/2");
  auto diff = control_->DiffPolicies(*a, *b);
  if (!diff.ok()) return Respond(diff.status());
  if (call.request.Header("accept").find("text/plain") != std::string_view::npos) {
    HttpResponse r = HttpResponse::Json(200, *diff);
    r.content_type = "text/plain; charset=utf-8";
    return r;
  }
  return HttpResponse::Json(200, nlohmann::json{{"from", *a}, {"to", *b}, {"diff", *diff}}.dump());
}

HttpResponse ServiceImpl::ApprovePolicy(const Call& call) {
  const std::optional<int> n = ParseVersion(call.params[0]);
  if (!n) return HttpResponse::Error(400, "version: '" + call.params[0] + "' is not a version number");
  auto version = control_->ApprovePolicy(*n, call.caller.name);
  return version.ok() ? HttpResponse::Json(200, VersionJson(*version).dump()) : Respond(version.status());
}

HttpResponse ServiceImpl::ActivatePolicy(const Call& call) { return ActivateVersion(call, false); }
HttpResponse ServiceImpl::RollbackPolicy(const Call& call) { return ActivateVersion(call, true); }

HttpResponse ServiceImpl::ActivateVersion(const Call& call, bool rollback) {
  const std::optional<int> n = ParseVersion(call.params[0]);
  if (!n) return HttpResponse::Error(400, "version: '" + call.params[0] + "' is not a version number");
  if (rollback) {
    const std::vector<PolicyVersion> versions = control_->ListPolicies();
    auto it = std::find_if(versions.begin(), versions.end(), [&](const PolicyVersion& v) { return v.number == *n; });
    if (it == versions.end()) return HttpResponse::Error(404, "no policy version " + call.params[0]);
    if (it->activated_at == 0) {
      return HttpResponse::Error(409, "version " + call.params[0] + " was never active; approve and activate it instead");
    }
  }
  // Swapping the engine waits for requests in flight and holds new ones
  // for the moment it takes to flush and reopen.
  std::unique_lock lock(runtime_mu_);
  auto version = control_->ActivatePolicy(*n, call.caller.name);
  if (!version.ok()) return Respond(version.status());
  if (absl::Status s = runtime_.engine->Flush(); !s.ok()) return Respond(s);
  const int previous = runtime_.policy_number;
  runtime_.engine.reset();
  CloseOutbox(runtime_.outbox);
  if (absl::Status s = OpenRuntime(*n); !s.ok()) {
    // Validated at upload, so this is the environment (a webhook secret
    // missing, the disk): go back to what ran before.
    absl::Status back = OpenRuntime(previous);
    return HttpResponse::Error(500, "activating version " + call.params[0] + " failed: " + std::string(s.message()) +
                                        (back.ok() ? "; the previous version is still running" : "; the engine is down: " +
                                                                                                   std::string(back.message())));
  }
  return HttpResponse::Json(200, VersionJson(*version).dump());
}

// --- audit, webhooks, keys ---

HttpResponse ServiceImpl::GetAudit(const Call& call) {
  const std::optional<size_t> from = QueryNumber(call.request, "from", 0);
  const std::optional<size_t> limit = QueryNumber(call.request, "limit", 1000);
  if (!from || !limit) return HttpResponse::Error(400, "query from and limit must be numbers");
  auto entries = control_->AuditJson(call.request.Query("customer"), *from, *limit);
  return entries.ok() ? HttpResponse::Json(200, *entries) : Respond(entries.status());
}

HttpResponse ServiceImpl::VerifyAudit(const Call&) {
  const AuditVerifyReport r = control_->Verify();
  return HttpResponse::Json(200, nlohmann::json{{"ok", r.ok}, {"entries", r.entries}, {"first_bad_seq", r.first_bad_seq},
                                                {"problem", r.problem}, {"head", r.head_hash}}.dump());
}

HttpResponse ServiceImpl::ListWebhooks(const Call& call) {
  const std::optional<size_t> limit = QueryNumber(call.request, "limit", 100);
  if (!limit) return HttpResponse::Error(400, "query limit: must be a number");
  auto lock = ReadRuntime();
  auto items = runtime_.outbox->ItemsJson(call.request.Query("status"), *limit);
  return items.ok() ? HttpResponse::Json(200, *items) : Respond(items.status());
}

HttpResponse ServiceImpl::ReplayWebhooks(const Call& call) {
  const std::string id = call.request.Query("id");
  absl::StatusOr<size_t> replayed;
  {
    auto lock = ReadRuntime();
    replayed = runtime_.outbox->Replay(id);
  }
  if (!replayed.ok()) return Respond(replayed.status());
  control_->Append({call.caller.actor, "webhooks.replay", {}, id.empty() ? "all" : id, {{"replayed", *replayed}}})
      .IgnoreError();
  return HttpResponse::Json(200, nlohmann::json{{"replayed", *replayed}}.dump());
}

HttpResponse ServiceImpl::ListKeys(const Call&) {
  nlohmann::json list = nlohmann::json::array();
  for (const ApiKey& k : control_->ListKeys()) {
    list.push_back({{"id", k.id}, {"name", k.name}, {"role", RoleName(k.role)},
                    {"created", FormatTimestamp(k.created)}, {"revoked", k.revoked}});
  }
  return HttpResponse::Json(200, list.dump());
}

HttpResponse ServiceImpl::CreateKey(const Call& call) {
  const nlohmann::json body = nlohmann::json::parse(call.request.body, nullptr, false);
  if (!body.is_object() || !body.contains("role") || !body["role"].is_string()) {
    return HttpResponse::Error(400, "field role: required: ingest, agent, analyst or admin");
  }
  const std::optional<Role> role = ParseRole(body["role"].get<std::string>());
  if (!role) return HttpResponse::Error(400, "field role: must be ingest, agent, analyst or admin");
  if (!body.contains("name") || !body["name"].is_string()) return HttpResponse::Error(400, "field name: required (who or what uses the key)");
  auto key = control_->CreateKey(*role, body["name"].get<std::string>(), call.caller.actor);
  if (!key.ok()) return Respond(key.status());
  return HttpResponse::Json(201, nlohmann::json{{"id", key->key.id}, {"name", key->key.name},
                                                {"role", RoleName(key->key.role)}, {"secret", key->secret}}.dump());
}

}  // namespace upfront::server_internal
