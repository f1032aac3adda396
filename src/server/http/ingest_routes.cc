// Ingest routes: Segment's HTTP tracking API and CloudEvents 1.0
// (structured mode). 200 only once the events are durable.

#include <chrono>

#include "src/common/time_format.h"
#include "src/server/http/service_impl.h"

namespace upfront::server_internal {
namespace {

constexpr size_t kMaxBatchBytes = 500 * 1024;

nlohmann::json ReportJson(const IngestReport& report, const std::vector<nlohmann::json>& extra_errors) {
  nlohmann::json errors = extra_errors;
  for (const EventResult& r : report.events) {
    if (r.status != EventResult::Status::kRejected) continue;
    errors.push_back({{"index", r.index},
                      {"field", r.field},
                      {"reason", r.reason},
                      {"message", IngestReport::Describe(r)}});
  }
  std::sort(errors.begin(), errors.end(),
            [](const nlohmann::json& a, const nlohmann::json& b) { return a["index"] < b["index"]; });
  return {{"success", errors.empty()},
          {"accepted", report.accepted},
          {"duplicates", report.duplicates},
          {"rejected", errors.size()},
          {"late", report.late},
          {"errors", std::move(errors)}};
}

HttpResponse TooLarge(size_t bytes) {
  return HttpResponse::Error(413, "the batch is " + std::to_string(bytes) + " bytes; the limit is " +
                                      std::to_string(kMaxBatchBytes) + " bytes (500 KB), so none of it was accepted");
}

}  // namespace

HttpResponse ServiceImpl::IngestSegment(const Call& call) {
  const HttpRequest& request = call.request;
  if (request.body.size() > kMaxBatchBytes) return TooLarge(request.body.size());
  const std::string kind = request.path.substr(request.path.rfind('/') + 1);  // batch, track, ...
  std::string single;  // a one-message route's body, with its type
  std::string_view payload = request.body;  // a batch goes in as it came
  if (kind != "batch") {
    // One message; the route names its type (Segment's clients leave it out).
    nlohmann::json message = nlohmann::json::parse(request.body, nullptr, false);
    if (message.is_discarded()) return HttpResponse::Error(400, "the body is not valid JSON");
    if (!message.is_object()) return HttpResponse::Error(400, "the body must be a JSON object (one " + kind + " message)");
    if (!message.contains("type")) {
      message["type"] = kind;
    } else if (!message["type"].is_string() || message["type"] != kind) {
      return HttpResponse::Error(400, "field type: " + message["type"].dump() + " does not match the route /v1/" + kind);
    }
    single = message.dump();
    payload = single;
  }
  const auto started = std::chrono::steady_clock::now();
  absl::StatusOr<IngestReport> report;
  {
    auto lock = ReadRuntime();
    IngestOptions options;
    options.format = IngestFormat::kJson;
    options.max_batch_bytes = kMaxBatchBytes;
    report = runtime_.engine->Ingest(payload, options);
  }
  if (!report.ok()) return Respond(report.status());
  std::vector<std::string> fields;
  for (const EventResult& r : report->events) {
    if (r.status == EventResult::Status::kRejected) fields.push_back(r.field);
  }
  metrics_.CountIngest(report->accepted, report->duplicates, report->late, fields,
                       std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(),
                       report->events.size() > 1, Now());
  const bool all_rejected = !report->events.empty() && report->rejected == report->events.size();
  return HttpResponse::Json(all_rejected ? 400 : 200, ReportJson(*report, {}).dump());
}

HttpResponse ServiceImpl::IngestCloudEvents(const Call& call) {
  const HttpRequest& request = call.request;
  if (request.body.size() > kMaxBatchBytes) return TooLarge(request.body.size());
  const std::string_view type = request.Header("content-type");
  if (!type.starts_with("application/cloudevents+json") && !type.starts_with("application/cloudevents-batch+json") &&
      !type.starts_with("application/json")) {
    return HttpResponse::Error(415, "structured-mode CloudEvents need Content-Type application/cloudevents+json "
                                    "(or application/cloudevents-batch+json for a batch)");
  }
  const nlohmann::json body = nlohmann::json::parse(request.body, nullptr, false);
  if (body.is_discarded()) return HttpResponse::Error(400, "the body is not valid JSON");
  const bool batch = body.is_array();
  if (!batch && !body.is_object()) return HttpResponse::Error(400, "the body must be a CloudEvent object or an array of them");
  const nlohmann::json events = batch ? body : nlohmann::json::array({body});

  // Each CloudEvent becomes a Segment track event: id -> messageId, type ->
  // event, time -> timestamp, subject (or data.userId / data.anonymousId) ->
  // the customer, data -> properties.
  std::vector<nlohmann::json> errors;
  std::vector<size_t> index_of;  // Segment batch index -> CloudEvents index
  nlohmann::json segment = nlohmann::json::array();
  for (size_t i = 0; i < events.size(); ++i) {
    const nlohmann::json& ce = events[i];
    const auto reject = [&](const std::string& field, const std::string& reason) {
      errors.push_back({{"index", i}, {"field", field}, {"reason", reason},
                        {"message", "event " + std::to_string(i) + ": field " + field + ": " + reason}});
    };
    if (!ce.is_object()) {
      reject("", "is not a JSON object");
      continue;
    }
    bool ok = true;
    for (const char* required : {"specversion", "id", "source", "type"}) {
      if (!ce.contains(required) || !ce[required].is_string() || ce[required].get<std::string>().empty()) {
        reject(required, "is required (a non-empty string)");
        ok = false;
        break;
      }
    }
    if (!ok) continue;
    if (ce["specversion"] != "1.0") {
      reject("specversion", "must be \"1.0\"");
      continue;
    }
    nlohmann::json data = ce.value("data", nlohmann::json::object());
    if (!data.is_object()) {
      reject("data", "must be a JSON object (its fields become the event's properties)");
      continue;
    }
    nlohmann::json e = {{"type", "track"}, {"messageId", ce["id"]}, {"event", ce["type"]}};
    if (ce.contains("time")) e["timestamp"] = ce["time"];
    if (data.contains("userId")) e["userId"] = data["userId"];
    if (data.contains("anonymousId")) e["anonymousId"] = data["anonymousId"];
    if (!e.contains("userId") && ce.contains("subject")) e["userId"] = ce["subject"];
    data.erase("userId");
    data.erase("anonymousId");
    e["properties"] = std::move(data);
    e["context"] = {{"cloudevents", {{"source", ce["source"]}}}};
    segment.push_back(std::move(e));
    index_of.push_back(i);
  }
  IngestReport report;
  if (!segment.empty()) {
    const auto started = std::chrono::steady_clock::now();
    absl::StatusOr<IngestReport> ingested;
    {
      auto lock = ReadRuntime();
      IngestOptions options;
      options.format = IngestFormat::kJson;
      options.max_batch_bytes = 0;  // checked above on the original body
      ingested = runtime_.engine->Ingest(nlohmann::json{{"batch", segment}}.dump(), options);
    }
    if (!ingested.ok()) return Respond(ingested.status());
    report = std::move(*ingested);
    for (EventResult& r : report.events) r.index = index_of[r.index];
    std::vector<std::string> fields;
    for (const EventResult& r : report.events) {
      if (r.status == EventResult::Status::kRejected) fields.push_back(r.field);
    }
    for (const auto& e : errors) fields.push_back(e["field"]);
    metrics_.CountIngest(report.accepted, report.duplicates, report.late, fields,
                         std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(),
                         events.size() > 1, Now());
  }
  const nlohmann::json out = ReportJson(report, errors);
  const bool all_rejected = !events.empty() && out["rejected"].get<size_t>() == events.size();
  return HttpResponse::Json(all_rejected ? 400 : 200, out.dump());
}

}  // namespace upfront::server_internal
