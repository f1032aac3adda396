// Routes about one customer: profile and reading, nudges (list, stream,
// feedback), preferences, decisions ("why am I seeing this"), export and
// erasure.

#include <chrono>

#include "src/common/time_format.h"
#include "src/server/http/service_impl.h"

namespace upfront::server_internal {
namespace {

// What a web page or app needs to show a nudge, and where to answer it.
nlohmann::json NudgeView(const nlohmann::json& d) {
  nlohmann::json view = {{"decision_id", d["decision_id"]},
                         {"intervention", StringField(d, "intervention")},
                         {"channel", StringField(d, "channel")},
                         {"template", StringField(d, "template")},
                         {"message", StringField(d, "message")},
                         {"explanation", d.value("explanation", nlohmann::json())},
                         {"confidence", d.value("confidence", nlohmann::json())},
                         {"at", StringField(d, "at")},
                         {"feedback", "/v1/nudges/" + d["decision_id"].get<std::string>() + "/feedback"}};
  if (d.contains("subject")) view["subject"] = d["subject"];
  if (d.contains("action")) view["action"] = d["action"];
  if (d.contains("nudge")) view["expires"] = StringField(d["nudge"], "expires");
  return view;
}

const char* const kFeedbackKinds[] = {"accepted", "dismissed", "snoozed", "turned_off"};

}  // namespace

HttpResponse ServiceImpl::GetProfile(const Call& call) {
  auto lock = ReadRuntime();
  auto profile = runtime_.engine->ProfileJson(call.params[0]);
  return profile.ok() ? HttpResponse::Json(200, *profile) : Respond(profile.status());
}

HttpResponse ServiceImpl::GetReading(const Call& call) {
  auto lock = ReadRuntime();
  auto reading = runtime_.engine->InspectJson(call.params[0]);
  return reading.ok() ? HttpResponse::Json(200, *reading) : Respond(reading.status());
}

HttpResponse ServiceImpl::GetCustomerDecisions(const Call& call) {
  std::vector<std::string> ids;
  {
    auto lock = ReadRuntime();
    ids = IdsOf(*runtime_.engine, call.params[0]);
  }
  const std::optional<size_t> limit = QueryNumber(call.request, "limit", 100);
  if (!limit) return HttpResponse::Error(400, "query limit: must be a number");
  auto decisions = ledger_->CustomerDecisions(ids, *limit);
  return decisions.ok() ? HttpResponse::Json(200, decisions->dump()) : Respond(decisions.status());
}

HttpResponse ServiceImpl::GetNudges(const Call& call) {
  std::vector<std::string> ids;
  {
    auto lock = ReadRuntime();
    ids = IdsOf(*runtime_.engine, call.params[0]);
  }
  const Micros now = Now();
  auto pending = ledger_->PendingNudges(ids, now);
  if (!pending.ok()) return Respond(pending.status());
  const std::string channel = call.request.Query("channel");
  nlohmann::json nudges = nlohmann::json::array();
  std::vector<AuditEntry> shown;
  for (const nlohmann::json& d : *pending) {
    if (!channel.empty() && StringField(d, "channel") != channel) continue;
    nudges.push_back(NudgeView(d));
    const std::string id = d["decision_id"];
    if (auto first = ledger_->MarkShown(id, now); first.ok() && *first) {
      shown.push_back({call.caller.actor, "delivery.shown", {StringField(d, "customer")}, id,
                       {{"channel", StringField(d, "channel")}}});
    }
  }
  if (!shown.empty()) {
    if (auto s = control_->AppendMany(shown); !s.ok()) return Respond(s.status());
  }
  return HttpResponse::Json(200, nlohmann::json{{"customer", call.params[0]}, {"nudges", std::move(nudges)}}.dump());
}

HttpResponse ServiceImpl::StreamNudges(const Call& call) {
  std::vector<std::string> ids;
  {
    auto lock = ReadRuntime();
    ids = IdsOf(*runtime_.engine, call.params[0]);
  }
  auto subscription = std::make_shared<NudgeSubscription>();
  {
    std::lock_guard lock(subscriptions_mu_);
    for (const std::string& id : ids) subscriptions_[id].push_back(subscription);
  }
  auto pending = ledger_->PendingNudges(ids, Now());
  if (!pending.ok()) return Respond(pending.status());
  const std::string channel = call.request.Query("channel");
  HttpResponse response;
  response.content_type = "text/event-stream";
  response.stream = [this, subscription, channel, first = std::move(*pending)](StreamWriter& out) {
    const auto send = [&](const nlohmann::json& d) {
      if (!channel.empty() && StringField(d, "channel") != channel) return true;
      const std::string id = d["decision_id"];
      if (auto shown = ledger_->MarkShown(id, Now()); shown.ok() && *shown) {
        control_->Append({"stream", "delivery.shown", {StringField(d, "customer")}, id,
                          {{"channel", StringField(d, "channel")}}}).IgnoreError();
      }
      return out.Write("event: nudge\nid: " + id + "\ndata: " + NudgeView(d).dump() + "\n\n");
    };
    for (const nlohmann::json& d : first) {
      if (!send(d)) return;
    }
    if (!out.Write(": connected\n\n")) return;
    auto last_write = std::chrono::steady_clock::now();
    while (!out.stopping()) {
      std::deque<std::string> events;
      {
        std::unique_lock lock(subscription->mu);
        subscription->cv.wait_for(lock, std::chrono::milliseconds(500),
                                  [&] { return !subscription->events.empty(); });
        events.swap(subscription->events);
      }
      for (const std::string& raw : events) {
        const nlohmann::json d = nlohmann::json::parse(raw, nullptr, false);
        if (d.is_object() && !send(d)) return;
        last_write = std::chrono::steady_clock::now();
      }
      if (std::chrono::steady_clock::now() - last_write > std::chrono::seconds(15)) {
        if (!out.Write(": keep-alive\n\n")) return;  // also notices a client that left
        last_write = std::chrono::steady_clock::now();
      }
    }
  };
  return response;
}

HttpResponse ServiceImpl::PostFeedback(const Call& call) {
  const std::string& decision_id = call.params[0];
  const nlohmann::json body = nlohmann::json::parse(call.request.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) return HttpResponse::Error(400, "the body must be a JSON object like {\"type\": \"accepted\"}");
  if (!body.contains("type") || !body["type"].is_string() ||
      std::find(std::begin(kFeedbackKinds), std::end(kFeedbackKinds), body["type"].get<std::string>()) ==
          std::end(kFeedbackKinds)) {
    return HttpResponse::Error(400, "field type: must be accepted, dismissed, snoozed or turned_off");
  }
  const std::string kind = body["type"];
  const Micros now = Now();
  Micros until = now + kMicrosPerDay;
  if (body.contains("until")) {
    if (kind != "snoozed") return HttpResponse::Error(400, "field until: only a snooze has an until");
    std::optional<Micros> t = body["until"].is_string() ? ParseTimestamp(body["until"].get<std::string>()) : std::nullopt;
    if (!t || *t <= now) return HttpResponse::Error(400, "field until: must be an ISO-8601 time in the future");
    until = *t;
  }
  auto decision = ledger_->Get(decision_id);
  if (!decision.ok()) return Respond(decision.status());
  const std::string customer = StringField(*decision, "customer");
  const std::string intervention = StringField(*decision, "intervention");
  if (StringField(*decision, "action") == "none") {
    return HttpResponse::Error(409, "decision " + decision_id + " took no action, so there is nothing to answer");
  }
  if (decision->contains("nudge")) {
    if (absl::Status s = ledger_->RecordFeedback(decision_id, kind, now); !s.ok()) return Respond(s);
  }

  // Tell the engine, the same way an SDK's own feedback event would.
  nlohmann::json applied = nlohmann::json::object();
  {
    auto lock = ReadRuntime();
    Engine& engine = *runtime_.engine;
    const Policy& policy = *runtime_.policy;
    std::string role_event;
    const OutcomeRole role = kind == "accepted" ? OutcomeRole::kAccepted
                             : kind == "dismissed" ? OutcomeRole::kDismissed
                                                   : OutcomeRole::kSnoozed;
    for (const OutcomeRule& rule : policy.outcomes) {
      if (rule.role == role) role_event = rule.event;
    }
    if ((kind == "accepted" || kind == "dismissed") && !role_event.empty()) {
      nlohmann::json event = {{"type", "track"},
                              {"userId", customer},
                              {"event", role_event},
                              {"messageId", "feedback-" + decision_id},
                              {"timestamp", FormatTimestamp(now)},
                              {"properties", {{"decision_id", decision_id}, {"intervention", intervention}}}};
      auto report = engine.Ingest(event.dump());
      if (!report.ok()) return Respond(report.status());
      applied["event"] = role_event;
    } else if (kind == "snoozed") {
      auto prefs = engine.UpdatePreferences(customer, nlohmann::json{{"snoozed", {{intervention, FormatTimestamp(until)}}}}.dump());
      if (!prefs.ok()) return Respond(prefs.status());
      applied["snoozed_until"] = FormatTimestamp(until);
    } else if (kind == "turned_off") {
      auto prefs = engine.Preferences(customer);
      if (!prefs.ok()) return Respond(prefs.status());
      nlohmann::json declined = nlohmann::json::parse(*prefs).value("declined", nlohmann::json::array());
      if (std::find(declined.begin(), declined.end(), intervention) == declined.end()) declined.push_back(intervention);
      auto updated = engine.UpdatePreferences(customer, nlohmann::json{{"declined", declined}}.dump());
      if (!updated.ok()) return Respond(updated.status());
      applied["declined"] = declined;
    } else {
      applied["note"] = "the policy maps no " + kind + " outcome event, so only the nudge was marked";
    }
  }
  metrics_.CountFeedback(kind);
  nlohmann::json details = {{"feedback", kind}, {"intervention", intervention}};
  if (kind == "snoozed") details["until"] = FormatTimestamp(until);
  if (auto s = control_->Append({call.caller.actor, "feedback", {customer}, decision_id, details}); !s.ok()) {
    return Respond(s.status());
  }
  return HttpResponse::Json(200, nlohmann::json{{"decision_id", decision_id}, {"feedback", kind}, {"applied", applied}}.dump());
}

HttpResponse ServiceImpl::GetPreferences(const Call& call) {
  auto lock = ReadRuntime();
  auto prefs = runtime_.engine->Preferences(call.params[0]);
  return prefs.ok() ? HttpResponse::Json(200, *prefs) : Respond(prefs.status());
}

HttpResponse ServiceImpl::PutPreferences(const Call& call) {
  absl::StatusOr<std::string> prefs;
  std::vector<std::string> ids;
  {
    auto lock = ReadRuntime();
    prefs = runtime_.engine->UpdatePreferences(call.params[0], call.request.body);
    if (prefs.ok()) ids = IdsOf(*runtime_.engine, call.params[0]);
  }
  if (!prefs.ok()) return Respond(prefs.status());
  const nlohmann::json patch = nlohmann::json::parse(call.request.body, nullptr, false);
  if (auto s = control_->Append({call.caller.actor, "preferences.update", {ids.front()}, ids.front(), {{"patch", patch}}});
      !s.ok()) {
    return Respond(s.status());
  }
  return HttpResponse::Json(200, *prefs);
}

HttpResponse ServiceImpl::GetDecision(const Call& call) {
  auto decision = ledger_->Get(call.params[0]);
  return decision.ok() ? HttpResponse::Json(200, decision->dump()) : Respond(decision.status());
}

HttpResponse ServiceImpl::ExportCustomer(const Call& call) {
  nlohmann::json out;
  std::vector<std::string> ids;
  {
    auto lock = ReadRuntime();
    auto exported = runtime_.engine->ExportCustomer(call.params[0]);
    if (!exported.ok()) return Respond(exported.status());
    out = nlohmann::json::parse(*exported);
    ids = out["ids"].get<std::vector<std::string>>();
    auto webhooks = runtime_.outbox->ExportCustomers(ids);
    if (!webhooks.ok()) return Respond(webhooks.status());
    out["webhooks"] = nlohmann::json::parse(*webhooks);
  }
  auto decisions = ledger_->CustomerDecisions(ids, SIZE_MAX);
  if (!decisions.ok()) return Respond(decisions.status());
  out["decisions"] = std::move(*decisions);
  nlohmann::json audit = nlohmann::json::array();
  for (const std::string& id : ids) {
    auto entries = control_->AuditJson(id, 0, 0);
    if (!entries.ok()) return Respond(entries.status());
    for (auto& e : nlohmann::json::parse(*entries)) audit.push_back(std::move(e));
  }
  std::sort(audit.begin(), audit.end(), [](const nlohmann::json& a, const nlohmann::json& b) { return a["seq"] < b["seq"]; });
  out["audit"] = std::move(audit);
  control_->Append({call.caller.actor, "customer.export", ids, control_->Pseudonym(ids.front()), {}}).IgnoreError();
  return HttpResponse::Json(200, out.dump());
}

HttpResponse ServiceImpl::EraseCustomer(const Call& call) {
  nlohmann::json out;
  std::vector<std::string> ids;
  {
    auto lock = ReadRuntime();
    auto erased = runtime_.engine->EraseCustomer(call.params[0]);
    if (!erased.ok()) return Respond(erased.status());
    ids = erased->ids;
    out["events"] = erased->events;
    auto webhooks = runtime_.outbox->EraseCustomers(ids);
    if (!webhooks.ok()) return Respond(webhooks.status());
    out["webhooks"] = *webhooks;
  }
  auto decisions = ledger_->EraseCustomers(ids);
  if (!decisions.ok()) return Respond(decisions.status());
  out["decisions"] = *decisions;
  auto redacted = control_->EraseCustomers(ids, call.caller.actor);
  if (!redacted.ok()) return Respond(redacted.status());
  out["audit_entries_redacted"] = *redacted;
  nlohmann::json pseudonyms = nlohmann::json::array();
  for (const std::string& id : ids) pseudonyms.push_back(control_->Pseudonym(id));
  out["ids_erased"] = ids.size();
  out["tombstone"] = std::move(pseudonyms);
  return HttpResponse::Json(200, out.dump());
}

}  // namespace upfront::server_internal
