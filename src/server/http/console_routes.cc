// Routes behind the web console: the console's own files, who the caller is
// (so the console offers only what their role may do), and one customer's
// whole story on one page.

#include <algorithm>

#include "src/server/http/console_assets.h"
#include "src/server/http/service_impl.h"

namespace upfront::server_internal {

HttpResponse ServiceImpl::ServeConsole(const HttpRequest& request) {
  if (request.method != "GET" && request.method != "HEAD") {
    return HttpResponse::Error(405, request.method + " is not allowed on " + request.path);
  }
  // Relative asset paths need the trailing slash.
  if (request.path == "/" || request.path == "/console") {
    HttpResponse r;
    r.status = 302;
    r.content_type = "text/plain; charset=utf-8";
    r.body = "the console is at /console/\n";
    r.headers.emplace_back("Location", "/console/");
    return r;
  }
  const std::string_view name = std::string_view(request.path).substr(std::string_view("/console/").size());
  const ConsoleAsset* asset = FindConsoleAsset(name);
  if (asset == nullptr) return HttpResponse::Error(404, "the console has no file " + std::string(name));
  HttpResponse r;
  r.content_type = std::string(ConsoleContentType(asset->name));
  r.body = std::string(asset->body);
  // The files change only with the binary; the key lives in the page, so
  // nothing here is cached by shared caches.
  r.headers.emplace_back("Cache-Control", "no-cache");
  r.headers.emplace_back("Content-Security-Policy",
                         "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'");
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  return r;
}

HttpResponse ServiceImpl::WhoAmI(const Call& call) {
  const Role role = call.caller.role;
  nlohmann::json routes = nlohmann::json::array();
  for (const RouteInfo& route : Service::Routes()) {
    const bool allowed = route.roles.empty() || role == Role::kAdmin ||
                         std::find(route.roles.begin(), route.roles.end(), RoleName(role)) != route.roles.end();
    if (allowed) routes.push_back(route.method + " " + route.path);
  }
  return HttpResponse::Json(200, nlohmann::json{{"role", RoleName(role)},
                                                {"name", call.caller.name},
                                                {"key_id", call.caller.key_id},
                                                {"routes", std::move(routes)}}
                                     .dump());
}

HttpResponse ServiceImpl::GetTimeline(const Call& call) {
  const std::optional<size_t> limit = QueryNumber(call.request, "limit", 500);
  if (!limit) return HttpResponse::Error(400, "query limit: must be a number");
  nlohmann::json out;
  {
    auto lock = ReadRuntime();
    Engine& engine = *runtime_.engine;
    auto exported = engine.ExportCustomer(call.params[0]);
    if (!exported.ok()) return Respond(exported.status());
    out = nlohmann::json::parse(*exported);
    auto reading = engine.InspectJson(call.params[0]);
    if (!reading.ok()) return Respond(reading.status());
    out["reading"] = nlohmann::json::parse(*reading);
    auto history = engine.SignalHistoryJson(call.params[0], 200);
    if (!history.ok()) return Respond(history.status());
    out["signal_history"] = nlohmann::json::parse(*history);
  }
  // The newest events only: a long-lived customer has thousands.
  nlohmann::json& events = out["events"];
  out["events_total"] = events.size();
  if (events.size() > *limit) events.erase(events.begin(), events.end() - static_cast<std::ptrdiff_t>(*limit));
  const std::vector<std::string> ids = out["ids"].get<std::vector<std::string>>();
  auto decisions = ledger_->CustomerDecisions(ids, *limit);
  if (!decisions.ok()) return Respond(decisions.status());
  out["decisions"] = std::move(*decisions);
  nlohmann::json audit = nlohmann::json::array();
  for (const std::string& id : ids) {
    auto entries = control_->AuditJson(id, 0, *limit);
    if (!entries.ok()) return Respond(entries.status());
    for (auto& e : nlohmann::json::parse(*entries)) audit.push_back(std::move(e));
  }
  std::sort(audit.begin(), audit.end(),
            [](const nlohmann::json& a, const nlohmann::json& b) { return a["seq"] < b["seq"]; });
  out["audit"] = std::move(audit);
  return HttpResponse::Json(200, out.dump());
}

}  // namespace upfront::server_internal
