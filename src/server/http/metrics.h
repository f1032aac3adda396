// Prometheus metrics of the server, rendered in the text exposition format
// (version 0.0.4). Labels never carry customer ids: only routes, channels,
// reasons, fields and models.
//
// Updated from request threads and the decision worker, never from the
// engine's partition threads; a mutex is cheap at those rates.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "upfront/engine.h"
#include "upfront/time.h"

namespace upfront {

// A cumulative histogram with fixed upper bounds (seconds or counts).
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)), counts_(bounds_.size() + 1) {}
  void Observe(double value);
  // Replaces the contents: per-bucket counts (bounds order, then +Inf) and their sum.
  void Set(std::span<const uint64_t> counts, double sum);
  void Render(std::string_view name, std::string_view labels, std::string* out) const;
  double Quantile(double q) const;  // from the buckets (upper bound of the bucket holding q)
  uint64_t count() const { return count_; }

 private:
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;
  double sum_ = 0;
  uint64_t count_ = 0;
};

class ServerMetrics {
 public:
  ServerMetrics();

  void CountRequest(std::string_view route, int status, double seconds);
  void CountIngest(uint64_t accepted, uint64_t duplicates, uint64_t late,
                   const std::vector<std::string>& rejected_fields, double ack_seconds, bool batch,
                   Micros now);
  // One decision point as told by the engine (already parsed fields).
  void CountDecision(std::string_view action, std::string_view channel,
                     const std::vector<std::string>& blocked_reasons, std::string_view cohort);
  // How many actions this customer has had today when one more goes out.
  void CountActionOfDay(uint32_t actions_today);
  void CountFeedback(std::string_view feedback);

  // Gauges and counters owned elsewhere, read at scrape time.
  struct Snapshot {
    uint64_t review_pending = 0;
    uint64_t nudges_pending = 0;
    uint64_t decision_queue = 0;
    uint64_t events_applying = 0;  // acknowledged, not yet applied by the partitions
    uint64_t ingest_waits = 0;     // batches held back until the partitions caught up
    uint64_t outbox_pending = 0, outbox_delivered = 0, outbox_attempts = 0, outbox_failed = 0,
             outbox_rate_limited = 0, outbox_dead = 0, outbox_disabled_endpoints = 0;
    uint64_t engine_partitions = 0, engine_merges = 0;
    // The engine's decision latency histogram (per-bucket counts).
    std::array<uint64_t, kDecisionLatencyBuckets> decision_latency{};
    double decision_latency_sum_micros = 0;
    struct Drift {
      std::string model, version;
      double psi = 0;
      uint64_t current = 0;
    };
    std::vector<Drift> drift;
    std::string policy_version;
    int policy_number = 0;
  };
  std::string Render(const Snapshot& snapshot) const;

  // Events accepted per second over the last minute (for the console).
  double IngestRate(Micros now) const;

  // What the decisions did so far, for /v1/stats and the console.
  struct DecisionCounts {
    uint64_t decision_points = 0;
    std::map<std::string, uint64_t> by_cohort;
    std::map<std::string, std::map<std::string, uint64_t>> actions;  // channel -> action -> n
    std::map<std::string, uint64_t> blocks;                           // guardrail -> n
    std::map<std::string, uint64_t> feedback;
  };
  DecisionCounts Decisions() const;

 private:
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;
  std::map<std::string, Histogram> request_seconds_;
  uint64_t accepted_ = 0, duplicates_ = 0, late_ = 0, rejected_ = 0;
  std::map<std::string, uint64_t> rejected_by_field_;
  Histogram ack_single_, ack_batch_;
  std::map<std::pair<std::string, std::string>, uint64_t> actions_;  // (channel, action)
  std::map<std::string, uint64_t> blocks_;
  std::map<std::string, uint64_t> decisions_by_cohort_;
  uint64_t decision_points_ = 0;
  Histogram actions_per_customer_day_;
  std::map<std::string, uint64_t> feedback_;
  // Accepted events per wall-clock second, the last 64 seconds.
  std::array<std::pair<int64_t, uint64_t>, 64> per_second_{};
};

}  // namespace upfront
