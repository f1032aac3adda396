#include "src/server/http/metrics.h"

#include <fmt/format.h>

#include <algorithm>

namespace upfront {
namespace {

std::string Escape(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

void Header(std::string_view name, std::string_view type, std::string_view help, std::string* out) {
  fmt::format_to(std::back_inserter(*out), "# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

void Sample(std::string_view name, std::string_view labels, double value, std::string* out) {
  if (labels.empty()) {
    fmt::format_to(std::back_inserter(*out), "{} {}\n", name, value);
  } else {
    fmt::format_to(std::back_inserter(*out), "{}{{{}}} {}\n", name, labels, value);
  }
}

const std::vector<double> kLatencyBounds = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                            0.05,   0.1,   0.25,   0.5,   1,    2.5};

}  // namespace

void Histogram::Observe(double value) {
  const size_t i = std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin();
  ++counts_[i];
  sum_ += value;
  ++count_;
}

void Histogram::Render(std::string_view name, std::string_view labels, std::string* out) const {
  uint64_t cumulative = 0;
  const std::string sep = labels.empty() ? "" : std::string(labels) + ",";
  for (size_t i = 0; i < bounds_.size(); ++i) {
    cumulative += counts_[i];
    fmt::format_to(std::back_inserter(*out), "{}_bucket{{{}le=\"{}\"}} {}\n", name, sep, bounds_[i], cumulative);
  }
  cumulative += counts_.back();
  fmt::format_to(std::back_inserter(*out), "{}_bucket{{{}le=\"+Inf\"}} {}\n", name, sep, cumulative);
  Sample(fmt::format("{}_sum", name), labels, sum_, out);
  Sample(fmt::format("{}_count", name), labels, static_cast<double>(count_), out);
}

void Histogram::Set(std::span<const uint64_t> counts, double sum) {
  count_ = 0;
  for (size_t i = 0; i < counts_.size() && i < counts.size(); ++i) {
    counts_[i] = counts[i];
    count_ += counts[i];
  }
  sum_ = sum;
}

double Histogram::Quantile(double q) const {
  if (count_ == 0) return 0;
  const double target = q * static_cast<double>(count_);
  uint64_t cumulative = 0;
  for (size_t i = 0; i < bounds_.size(); ++i) {
    cumulative += counts_[i];
    if (static_cast<double>(cumulative) >= target) return bounds_[i];
  }
  return bounds_.empty() ? 0 : bounds_.back();
}

ServerMetrics::ServerMetrics()
    : ack_single_(kLatencyBounds),
      ack_batch_(kLatencyBounds),
      actions_per_customer_day_({1, 2, 3, 4, 5, 7, 10}) {}

void ServerMetrics::CountRequest(std::string_view route, int status, double seconds) {
  std::lock_guard lock(mu_);
  ++requests_[{std::string(route), status}];
  auto it = request_seconds_.try_emplace(std::string(route), kLatencyBounds).first;
  it->second.Observe(seconds);
}

void ServerMetrics::CountIngest(uint64_t accepted, uint64_t duplicates, uint64_t late,
                                const std::vector<std::string>& rejected_fields, double ack_seconds,
                                bool batch, Micros now) {
  std::lock_guard lock(mu_);
  accepted_ += accepted;
  duplicates_ += duplicates;
  late_ += late;
  rejected_ += rejected_fields.size();
  for (const std::string& field : rejected_fields) ++rejected_by_field_[field.empty() ? "event" : field];
  (batch ? ack_batch_ : ack_single_).Observe(ack_seconds);
  const int64_t second = now / kMicrosPerSecond;
  auto& slot = per_second_[static_cast<size_t>(second) % per_second_.size()];
  if (slot.first != second) slot = {second, 0};
  slot.second += accepted;
}

double ServerMetrics::IngestRate(Micros now) const {
  std::lock_guard lock(mu_);
  const int64_t second = now / kMicrosPerSecond;
  uint64_t total = 0;
  // The last 60 whole seconds; the current one is still filling.
  for (const auto& [at, count] : per_second_) {
    if (at < second && at >= second - 60) total += count;
  }
  return static_cast<double>(total) / 60.0;
}

void ServerMetrics::CountDecision(std::string_view action, std::string_view channel,
                                  const std::vector<std::string>& blocked_reasons, std::string_view cohort) {
  std::lock_guard lock(mu_);
  ++decision_points_;
  ++decisions_by_cohort_[std::string(cohort)];
  if (action != "none") ++actions_[{std::string(channel), std::string(action)}];
  for (const std::string& reason : blocked_reasons) ++blocks_[reason];
}

ServerMetrics::DecisionCounts ServerMetrics::Decisions() const {
  std::lock_guard lock(mu_);
  DecisionCounts out;
  out.decision_points = decision_points_;
  out.by_cohort = decisions_by_cohort_;
  for (const auto& [key, n] : actions_) out.actions[key.first][key.second] = n;
  out.blocks = blocks_;
  out.feedback = feedback_;
  return out;
}

void ServerMetrics::CountActionOfDay(uint32_t actions_today) {
  std::lock_guard lock(mu_);
  actions_per_customer_day_.Observe(actions_today);
}

void ServerMetrics::CountFeedback(std::string_view feedback) {
  std::lock_guard lock(mu_);
  ++feedback_[std::string(feedback)];
}

std::string ServerMetrics::Render(const Snapshot& s) const {
  std::lock_guard lock(mu_);
  std::string out;
  Header("upfront_http_requests_total", "counter", "HTTP requests by route and status.", &out);
  for (const auto& [key, n] : requests_) {
    Sample("upfront_http_requests_total", fmt::format("route=\"{}\",code=\"{}\"", Escape(key.first), key.second),
           static_cast<double>(n), &out);
  }
  Header("upfront_http_request_seconds", "histogram", "HTTP request latency by route.", &out);
  for (const auto& [route, h] : request_seconds_) {
    h.Render("upfront_http_request_seconds", fmt::format("route=\"{}\"", Escape(route)), &out);
  }
  Header("upfront_events_total", "counter", "Events received, by outcome.", &out);
  Sample("upfront_events_total", "outcome=\"accepted\"", static_cast<double>(accepted_), &out);
  Sample("upfront_events_total", "outcome=\"duplicate\"", static_cast<double>(duplicates_), &out);
  Sample("upfront_events_total", "outcome=\"rejected\"", static_cast<double>(rejected_), &out);
  Header("upfront_events_rejected_total", "counter", "Rejected events by the field at fault.", &out);
  for (const auto& [field, n] : rejected_by_field_) {
    Sample("upfront_events_rejected_total", fmt::format("field=\"{}\"", Escape(field)), static_cast<double>(n), &out);
  }
  Header("upfront_events_late_total", "counter", "Events later than allowed_lateness (stored, never acted on).", &out);
  Sample("upfront_events_late_total", "", static_cast<double>(late_), &out);
  Header("upfront_ingest_backpressure_total", "counter",
         "Ingest batches that waited for the partitions to catch up before being accepted.", &out);
  Sample("upfront_ingest_backpressure_total", "", static_cast<double>(s.ingest_waits), &out);
  Header("upfront_ingest_ack_seconds", "histogram", "Time to acknowledge an ingest request (durable).", &out);
  ack_single_.Render("upfront_ingest_ack_seconds", "kind=\"single\"", &out);
  ack_batch_.Render("upfront_ingest_ack_seconds", "kind=\"batch\"", &out);
  Header("upfront_decision_seconds", "histogram",
         "Decision latency: from an event reaching its partition to its decision (read, decide, render).", &out);
  {
    std::vector<double> bounds_seconds;
    for (double micros : kDecisionLatencyBoundsMicros) bounds_seconds.push_back(micros / 1e6);
    Histogram latency(std::move(bounds_seconds));
    latency.Set(s.decision_latency, s.decision_latency_sum_micros / 1e6);
    latency.Render("upfront_decision_seconds", "", &out);
  }
  Header("upfront_decision_points_total", "counter", "Decision points, by cohort.", &out);
  for (const auto& [cohort, n] : decisions_by_cohort_) {
    Sample("upfront_decision_points_total", fmt::format("cohort=\"{}\"", Escape(cohort)), static_cast<double>(n), &out);
  }
  Header("upfront_actions_total", "counter", "Actions by channel and kind (deliver, ask_confirm, review).", &out);
  for (const auto& [key, n] : actions_) {
    Sample("upfront_actions_total", fmt::format("channel=\"{}\",action=\"{}\"", Escape(key.first), Escape(key.second)),
           static_cast<double>(n), &out);
  }
  Header("upfront_guardrail_blocks_total", "counter", "Candidates held back, by guardrail.", &out);
  for (const auto& [reason, n] : blocks_) {
    Sample("upfront_guardrail_blocks_total", fmt::format("reason=\"{}\"", Escape(reason)), static_cast<double>(n), &out);
  }
  Header("upfront_actions_per_customer_day", "histogram",
         "Fatigue: a customer's count of actions that day, observed at each action.", &out);
  actions_per_customer_day_.Render("upfront_actions_per_customer_day", "", &out);
  Header("upfront_nudge_feedback_total", "counter", "Feedback on nudges.", &out);
  for (const auto& [kind, n] : feedback_) {
    Sample("upfront_nudge_feedback_total", fmt::format("feedback=\"{}\"", Escape(kind)), static_cast<double>(n), &out);
  }
  Header("upfront_queue_depth", "gauge", "Items waiting, by queue.", &out);
  Sample("upfront_queue_depth", "queue=\"review\"", static_cast<double>(s.review_pending), &out);
  Sample("upfront_queue_depth", "queue=\"nudges\"", static_cast<double>(s.nudges_pending), &out);
  Sample("upfront_queue_depth", "queue=\"decisions\"", static_cast<double>(s.decision_queue), &out);
  Sample("upfront_queue_depth", "queue=\"applying\"", static_cast<double>(s.events_applying), &out);
  Sample("upfront_queue_depth", "queue=\"webhooks\"", static_cast<double>(s.outbox_pending), &out);
  Header("upfront_webhook_deliveries_total", "counter", "Webhook outcomes.", &out);
  Sample("upfront_webhook_deliveries_total", "outcome=\"delivered\"", static_cast<double>(s.outbox_delivered), &out);
  Sample("upfront_webhook_deliveries_total", "outcome=\"failed_attempt\"", static_cast<double>(s.outbox_failed), &out);
  Sample("upfront_webhook_deliveries_total", "outcome=\"rate_limited\"", static_cast<double>(s.outbox_rate_limited), &out);
  Sample("upfront_webhook_deliveries_total", "outcome=\"dead_letter\"", static_cast<double>(s.outbox_dead), &out);
  Header("upfront_webhook_attempts_total", "counter", "Webhook delivery attempts.", &out);
  Sample("upfront_webhook_attempts_total", "", static_cast<double>(s.outbox_attempts), &out);
  Header("upfront_webhook_disabled_endpoints", "gauge", "Endpoints disabled after 410 Gone.", &out);
  Sample("upfront_webhook_disabled_endpoints", "", static_cast<double>(s.outbox_disabled_endpoints), &out);
  Header("upfront_model_psi", "gauge", "Population stability index of each model's scores (drift).", &out);
  for (const auto& d : s.drift) {
    Sample("upfront_model_psi", fmt::format("model=\"{}\",version=\"{}\"", Escape(d.model), Escape(d.version)), d.psi, &out);
  }
  Header("upfront_identity_merges_total", "counter", "Anonymous profiles merged into known ones.", &out);
  Sample("upfront_identity_merges_total", "", static_cast<double>(s.engine_merges), &out);
  Header("upfront_policy_info", "gauge", "The active policy.", &out);
  Sample("upfront_policy_info", fmt::format("version=\"{}\",number=\"{}\"", Escape(s.policy_version), s.policy_number), 1, &out);
  return out;
}

}  // namespace upfront
