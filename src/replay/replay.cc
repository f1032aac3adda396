#include "src/replay/replay.h"

#include <fmt/format.h>
#include <stdlib.h>

#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>

#include "src/common/scratch_dir.h"
#include "upfront/engine.h"

namespace upfront {
namespace {

constexpr size_t kChunkBytes = 1 << 20;


void Count(const std::string& json, ReplayStats* stats) {
  const nlohmann::json d = nlohmann::json::parse(json);
  ++stats->decisions;
  ++stats->actions[d["action"].get<std::string>()];
  if (d["action"] != "none") ++stats->interventions[d["intervention"].get<std::string>()];
  for (const auto& b : d["blocked"]) ++stats->blocked[b["reason"].get<std::string>()];
}

}  // namespace

absl::Status Replay(std::shared_ptr<const Policy> policy, std::istream& events,
                    const std::string& events_name, const ReplayOptions& options,
                    const std::function<void(std::string_view)>& write, ReplayStats* stats) {
  ScratchDir dir("upfront-replay");
  if (dir.path().empty()) return absl::InternalError("cannot create a scratch directory for replay");
  // Decisions are made on the partition thread; one partition keeps their
  // order that of the input, and the lock only orders the hand-over.
  std::mutex mu;
  std::vector<std::string> pending;
  EngineOptions engine_options;
  engine_options.data_dir = dir.path();
  engine_options.policy = std::move(policy);
  engine_options.partitions = 1;
  engine_options.arrival = ArrivalClock::kEventTime;
  engine_options.sync = false;  // scratch state: nothing to make durable
  engine_options.on_decision = [&](std::string_view json) {
    std::lock_guard lock(mu);
    pending.emplace_back(json);
  };
  UPFRONT_ASSIGN_OR_RETURN(std::unique_ptr<Engine> engine, Engine::Open(engine_options));
  const auto drain = [&]() {
    std::vector<std::string> ready;
    {
      std::lock_guard lock(mu);
      ready.swap(pending);
    }
    for (const std::string& json : ready) {
      Count(json, stats);
      write(json);
    }
  };

  std::string carry, chunk(kChunkBytes, '\0');
  size_t line = 1, index = 0;
  while (events) {
    events.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    carry.append(chunk.data(), static_cast<size_t>(events.gcount()));
    size_t cut = events ? carry.rfind('\n') : carry.size();
    if (cut == std::string::npos) continue;
    if (cut < carry.size()) ++cut;
    const std::string_view payload(carry.data(), cut);
    IngestOptions ingest;
    ingest.format = IngestFormat::kJsonLines;
    ingest.max_batch_bytes = 0;
    ingest.first_line = line;
    ingest.first_index = index;
    UPFRONT_ASSIGN_OR_RETURN(IngestReport report, engine->Ingest(payload, ingest));
    stats->accepted += report.accepted;
    stats->duplicates += report.duplicates;
    stats->rejected += report.rejected;
    stats->late += report.late;
    stats->events += report.events.size();
    index += report.events.size();
    for (const EventResult& r : report.events) {
      if (r.status == EventResult::Status::kRejected) {
        stats->errors.push_back(fmt::format("{}: {}", events_name, IngestReport::Describe(r)));
      }
    }
    for (char c : payload) line += c == '\n';
    carry.erase(0, cut);
    UPFRONT_RETURN_IF_ERROR(engine->Flush());
    drain();
    if (options.progress) options.progress(stats->events);
  }
  if (options.until) UPFRONT_RETURN_IF_ERROR(engine->AdvanceClock(*options.until));
  UPFRONT_RETURN_IF_ERROR(engine->Flush());
  drain();
  return absl::OkStatus();
}

}  // namespace upfront
