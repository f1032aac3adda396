// upfront: the command line. The only place that wires concrete pieces together.

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "apps/upfront/commands.h"
#include "apps/upfront/report_command.h"
#include "apps/upfront/simulate_command.h"
#include "src/common/huge_pages.h"
#include "src/server/control/control_commands.h"
#include "upfront/engine.h"
#include "upfront/policy.h"

namespace upfront {
namespace {

constexpr size_t kChunkBytes = 1 << 20;
constexpr std::string_view kActivePolicyFile = "policy.yaml";

// Loads the policy named on the command line, or the one the data directory
// was last used with.
absl::StatusOr<Policy> LoadPolicyFor(const std::string& policy_path, const std::string& data_dir) {
  std::string path = policy_path;
  if (path.empty()) {
    path = (std::filesystem::path(data_dir) / kActivePolicyFile).string();
    if (!std::filesystem::exists(path)) {
      return absl::FailedPreconditionError(
          absl::StrCat("no --policy given and ", data_dir, " has no policy yet; pass --policy FILE"));
    }
  }
  return LoadPolicyFile(path);
}

absl::Status RememberPolicy(const std::string& policy_path, const std::string& data_dir) {
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  auto target = std::filesystem::path(data_dir) / kActivePolicyFile;
  if (std::filesystem::exists(target) && std::filesystem::equivalent(policy_path, target, ec)) {
    return absl::OkStatus();
  }
  std::filesystem::copy_file(policy_path, target, std::filesystem::copy_options::overwrite_existing, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot copy the policy into ", data_dir, ": ", ec.message()));
  return absl::OkStatus();
}

int Fail(const absl::Status& status) {
  std::cerr << "upfront: " << status.message() << "\n";
  return 2;
}

class Progress {
 public:
  explicit Progress(bool enabled) : enabled_(enabled), start_(Clock::now()) {}
  void Update(size_t events, size_t bytes, size_t total_bytes) {
    if (!enabled_) return;
    auto now = Clock::now();
    if (now - last_ < std::chrono::milliseconds(200)) return;
    last_ = now;
    double secs = std::chrono::duration<double>(now - start_).count();
    double pct = total_bytes ? 100.0 * static_cast<double>(bytes) / static_cast<double>(total_bytes) : 0;
    std::fprintf(stderr, "\r  %5.1f%%  %zu events  %.0f events/s   ", pct, events,
                 secs > 0 ? static_cast<double>(events) / secs : 0.0);
    std::fflush(stderr);
  }
  void Done() {
    if (enabled_) std::fprintf(stderr, "\r%60s\r", "");
  }
  double Seconds() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }

 private:
  using Clock = std::chrono::steady_clock;
  bool enabled_;
  Clock::time_point start_;
  Clock::time_point last_{};
};

struct IngestTotals {
  size_t accepted = 0, duplicates = 0, rejected = 0, late = 0;
};

void Tally(const IngestReport& report, const std::string& file, IngestTotals* totals) {
  totals->accepted += report.accepted;
  totals->duplicates += report.duplicates;
  totals->rejected += report.rejected;
  totals->late += report.late;
  for (const EventResult& r : report.events) {
    if (r.status == EventResult::Status::kRejected) {
      std::cerr << file << ":" << r.line << ": event " << r.index << ": "
                << (r.field.empty() ? "" : "field " + r.field + ": ") << r.reason << "\n";
    }
  }
}

bool LooksLikeJsonLines(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  return ext != ".json";
}

absl::Status IngestFile(Engine& engine, const std::string& path, Progress& progress, IngestTotals* totals) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  const size_t total_bytes = std::filesystem::file_size(path);
  if (!LooksLikeJsonLines(path)) {
    // One document: a Segment batch, an array or one message; limits apply as over HTTP.
    std::stringstream buffer;
    buffer << in.rdbuf();
    IngestOptions options;
    options.format = IngestFormat::kJson;
    auto report = engine.Ingest(buffer.str(), options);
    if (!report.ok()) return absl::InvalidArgumentError(absl::StrCat(path, ": ", report.status().message()));
    Tally(*report, path, totals);
    return absl::OkStatus();
  }
  // JSON lines, in chunks cut at line ends; the next chunk is parsed while
  // the previous one is being committed.
  std::string carry, chunk(kChunkBytes, '\0');
  size_t line = 1, index = 0, bytes_read = 0;
  std::future<absl::StatusOr<IngestReport>> in_flight;
  absl::Status failure;
  auto collect = [&]() {
    if (!in_flight.valid()) return;
    auto report = in_flight.get();
    if (!report.ok()) {
      failure = report.status();
      return;
    }
    Tally(*report, path, totals);
    progress.Update(totals->accepted + totals->duplicates + totals->rejected, bytes_read, total_bytes);
  };
  while (in && failure.ok()) {
    in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    size_t got = static_cast<size_t>(in.gcount());
    bytes_read += got;
    carry.append(chunk.data(), got);
    size_t cut = in ? carry.rfind('\n') : carry.size();
    if (cut == std::string::npos) continue;
    if (cut < carry.size()) ++cut;
    std::string_view payload(carry.data(), cut);
    IngestOptions options;
    options.format = IngestFormat::kJsonLines;
    options.max_batch_bytes = 0;
    options.first_line = line;
    options.first_index = index;
    auto next = engine.Submit(payload, options);
    for (char c : payload) line += c == '\n';
    // Index of the next chunk's first event: count non-blank lines.
    size_t start = 0;
    while (start < payload.size()) {
      size_t end = payload.find('\n', start);
      if (end == std::string_view::npos) end = payload.size();
      if (payload.substr(start, end - start).find_first_not_of(" \t\r") != std::string_view::npos) ++index;
      start = end + 1;
    }
    carry.erase(0, cut);
    collect();
    in_flight = std::move(next);
  }
  collect();
  if (!failure.ok()) return absl::InternalError(absl::StrCat(path, ": ", failure.message()));
  return absl::OkStatus();
}

int RunIngest(const std::string& data_dir, const std::string& policy_path, const std::vector<std::string>& files,
              const std::string& arrival, int partitions) {
  auto policy = LoadPolicyFor(policy_path, data_dir);
  if (!policy.ok()) return Fail(policy.status());
  if (!policy_path.empty()) {
    if (auto s = RememberPolicy(policy_path, data_dir); !s.ok()) return Fail(s);
  }
  EngineOptions options;
  options.data_dir = data_dir;
  options.policy = std::make_shared<Policy>(std::move(policy).value());
  options.arrival = arrival == "wall" ? ArrivalClock::kWall : ArrivalClock::kEventTime;
  options.partitions = partitions;
  auto engine = Engine::Open(options);
  if (!engine.ok()) return Fail(engine.status());

  Progress progress(isatty(STDERR_FILENO));
  IngestTotals totals;
  for (const std::string& file : files) {
    if (auto s = IngestFile(**engine, file, progress, &totals); !s.ok()) {
      progress.Done();
      return Fail(s);
    }
  }
  if (auto s = (*engine)->Flush(); !s.ok()) return Fail(s);
  progress.Done();
  double secs = progress.Seconds();
  size_t total = totals.accepted + totals.duplicates + totals.rejected;
  std::cout << "accepted " << totals.accepted << ", duplicates " << totals.duplicates << ", rejected "
            << totals.rejected << ", late " << totals.late << "  (" << total << " events in "
            << absl::StrCat(static_cast<int64_t>(secs * 1000)) << " ms)\n";
  return totals.rejected > 0 ? 1 : 0;
}

int RunProfile(const std::string& data_dir, const std::string& policy_path, const std::string& id) {
  auto policy = LoadPolicyFor(policy_path, data_dir);
  if (!policy.ok()) return Fail(policy.status());
  EngineOptions options;
  options.data_dir = data_dir;
  options.policy = std::make_shared<Policy>(std::move(policy).value());
  auto engine = Engine::Open(options);
  if (!engine.ok()) return Fail(engine.status());
  auto json = (*engine)->ProfileJson(id);
  if (!json.ok()) return Fail(json.status());
  std::cout << *json << "\n";
  return 0;
}

int RunCheck(const std::string& path) {
  std::vector<PolicyError> errors = CheckPolicyFile(path);
  for (const PolicyError& e : errors) std::cerr << e.ToString() << "\n";
  if (!errors.empty()) {
    std::cerr << errors.size() << (errors.size() == 1 ? " error" : " errors") << " in " << path << "\n";
    return 1;
  }
  auto policy = LoadPolicyFile(path);
  std::cout << path << ": ok (version " << policy->version << ", content " << policy->content_hash << ")\n";
  return 0;
}

}  // namespace
}  // namespace upfront

int main(int argc, char** argv) {
  using namespace upfront;
  UseHugePageHeap(argv);
  RetainFreedHeap();
  CLI::App app{"Upfront: a real-time engine for proactive customer support.\n"
               "Ingests Segment-spec events, keeps every customer's state, and (as the\n"
               "policy says) decides the smallest helpful action."};
  app.require_subcommand(1);
  app.set_version_flag("--version", "upfront 0.1.0");

  std::string data_dir, policy_path, arrival = "event-time", id;
  std::vector<std::string> files;
  int partitions = 0;

  CLI::App* ingest = app.add_subcommand("ingest", "Validate and durably store events from files");
  ingest->add_option("--data", data_dir, "Data directory (created if missing)")->required();
  ingest->add_option("--policy", policy_path, "Policy file (defaults to the one the data directory last used)");
  ingest->add_option("--arrival", arrival,
                     "Arrival time for lateness and dedup: event-time (as if events arrived as they\n"
                     "happened, in file order) or wall (now)")
      ->check(CLI::IsMember({"event-time", "wall"}));
  ingest->add_option("--partitions", partitions, "Partitions when creating the data directory (default: cores)");
  ingest->add_option("files", files, "Files of Segment messages: .jsonl (one per line) or .json (a batch)")
      ->required()
      ->check(CLI::ExistingFile);
  ingest->footer("Prints every rejected event as FILE:LINE: event N: field F: reason.\n"
                 "Exit status: 0 all accepted, 1 some rejected, 2 failure.");

  CLI::App* profile = app.add_subcommand("profile", "Print a customer's merged profile as JSON");
  profile->add_option("--data", data_dir, "Data directory")->required()->check(CLI::ExistingDirectory);
  profile->add_option("--policy", policy_path, "Policy file (defaults to the one the data directory last used)");
  profile->add_option("id", id, "userId or anonymousId")->required();

  CLI::App* check = app.add_subcommand("check", "Validate a policy file and report every error with its line");
  check->add_option("policy", policy_path, "Policy file")->required()->check(CLI::ExistingFile);

  std::string at;
  bool as_json = false;
  CLI::App* inspect = app.add_subcommand(
      "inspect", "Show the engine's reading of a customer: segment, signals, models");
  inspect->add_option("--data", data_dir, "Data directory")->required()->check(CLI::ExistingDirectory);
  inspect->add_option("--policy", policy_path, "Policy file (defaults to the one the data directory last used)");
  inspect->add_option("--at", at,
                      "Event time to read at, ISO-8601 (default: the latest event time seen)");
  inspect->add_flag("--json", as_json, "Print JSON instead of text");
  inspect->add_option("id", id, "userId or anonymousId")->required();
  inspect->footer("Exit status: 0 shown, 1 unknown customer, 2 failure.");

  TrainCommand train_command;
  CLI::App* train = app.add_subcommand(
      "train", "Train a gradient-boosted (XGBoost) model from the stored event log");
  train->add_option("--data", train_command.data_dir, "Data directory")->required()->check(CLI::ExistingDirectory);
  train->add_option("--policy", policy_path, "Policy file (defaults to the one the data directory last used)");
  train->add_option("--model", train_command.model,
                    "The policy's model whose features and learn: label to train on")->required();
  train->add_option("--out", train_command.out, "Model file to write (.json)")->required();
  train->add_option("--rounds", train_command.rounds, "Boosting rounds")->check(CLI::Range(1, 10000));
  train->add_option("--max-depth", train_command.max_depth, "Tree depth")->check(CLI::Range(1, 16));
  train->add_option("--eta", train_command.eta, "Learning rate")->check(CLI::Range(0.001, 1.0));
  train->add_option("--holdout", train_command.holdout, "Share of rows held out for evaluation")
      ->check(CLI::Range(0.05, 0.9));
  train->add_option("--seed", train_command.seed, "Seed for the split and the trees");
  train->add_option("--sample-every", train_command.sample_every,
                    "One training row per customer per this much event time (default 1d)");
  train->footer("Rows: a customer's features at their first event in each sample period;\n"
                "label: the model's learn: label event within its horizon after that moment.\n"
                "Rows whose horizon reaches past the end of the log are left out (unknown).\n"
                "Reports AUC and a calibration table on the held-out rows.");

  ReplayCommand replay_command;
  CLI::App* replay = app.add_subcommand(
      "replay", "Run events through the engine in memory and write every decision as JSON lines");
  replay->add_option("--policy", policy_path, "Policy file")->required()->check(CLI::ExistingFile);
  replay->add_option("--events", replay_command.events, "Segment messages, one per line (.jsonl)")
      ->required()
      ->check(CLI::ExistingFile);
  replay->add_option("--out", replay_command.out, "Decisions file (JSON lines); - or none for stdout");
  replay->add_option("--until", replay_command.until,
                     "At the end, let event time run to this ISO-8601 time so timers due by then fire");
  replay->footer("The file's order is the arrival order; each customer's state advances in event\n"
                 "time; events later than allowed_lateness are late; timers fire as event time\n"
                 "advances. One line per decision point where some intervention's condition held.\n"
                 "Same input, same output, byte for byte. Exit status: 0 ok, 1 some events\n"
                 "rejected (listed on stderr), 2 failure.");

  ReviewCommand review_command;
  CLI::App* review = app.add_subcommand("review", "Work the human review queue: list, approve (with an edit) or reject");
  review->add_option("--data", review_command.data_dir, "Data directory")->required()->check(CLI::ExistingDirectory);
  review->add_option("--policy", policy_path, "Policy file (defaults to the one the data directory last used)");
  review->add_option("--status", review_command.status, "Items to list: pending, approved, rejected, expired or all")
      ->check(CLI::IsMember({"pending", "approved", "rejected", "expired", "all"}));
  review->add_option("--limit", review_command.limit, "At most this many items");
  review->add_flag("--json", review_command.json, "Print the items as JSON");
  review->add_flag("--audit", review_command.audit, "Print the audit trail of agent answers instead");
  CLI::Option* approve_opt = review->add_option("--approve", review_command.approve, "Approve this review item");
  CLI::Option* reject_opt = review->add_option("--reject", review_command.reject, "Reject this review item");
  approve_opt->excludes(reject_opt);
  review->add_option("--agent", review_command.agent, "Who answers (recorded in the audit trail)");
  review->add_option("--message", review_command.message, "With --approve: the message as edited")->needs(approve_opt);
  review->add_option("--reason", review_command.reason, "With --reject: why")->needs(reject_opt);
  review->add_option("--at", review_command.at,
                     "When the answer is given, ISO-8601 (default: now; for data replayed in event\n"
                     "time, a time within the item's 24 hours)");
  review->footer("An approval delivers the (edited) message; a rejection ends the episode. Items lapse\n"
                 "after 24 hours. Exit status: 0 ok, 1 unknown or no longer pending item or bad\n"
                 "answer, 2 failure.");

  std::string patch;
  CLI::App* preferences = app.add_subcommand("preferences", "Show or change a customer's preferences and consent");
  preferences->add_option("--data", data_dir, "Data directory")->required()->check(CLI::ExistingDirectory);
  preferences->add_option("--policy", policy_path, "Policy file (defaults to the one the data directory last used)");
  preferences->add_option("--set", patch,
                          "A JSON patch, e.g. '{\"channels\": {\"email\": \"opt_out\"}}' (docs/decisions.md)");
  preferences->add_option("id", id, "userId or anonymousId")->required();

  ServeCommand serve_command;
  CLI::App* serve = app.add_subcommand("serve", "Run the HTTP service: ingest, nudges, review, governance, privacy, metrics");
  serve->add_option("--data", serve_command.data_dir, "Data directory (created if missing)")->required();
  serve->add_option("--policy", serve_command.policy,
                    "Policy file; becomes version 1 on first start (later: POST /v1/policies, approve, activate)");
  serve->add_option("--listen", serve_command.listen, "HOST:PORT to listen on (port 0: any free port)")
      ->capture_default_str();
  serve->add_option("--partitions", serve_command.partitions, "Partitions (default: one per core; fixed at creation)");
  serve->footer("The API is described at /openapi.json (docs/api.md). With no API key yet, an admin key is\n"
                "created and printed once. SIGTERM or Ctrl-C stops gracefully.");

  std::string role, key_name;
  CLI::App* keys = app.add_subcommand("keys", "Create or list API keys (roles: ingest, agent, analyst, admin)");
  keys->require_subcommand(1);
  CLI::App* keys_create = keys->add_subcommand("create", "Create a key and print its secret once");
  keys_create->add_option("--data", data_dir, "Data directory")->required();
  keys_create->add_option("--role", role, "ingest, agent, analyst or admin")->required();
  keys_create->add_option("--name", key_name, "Who or what uses the key (default: the role)");
  CLI::App* keys_list = keys->add_subcommand("list", "List keys (never their secrets)");
  keys_list->add_option("--data", data_dir, "Data directory")->required()->check(CLI::ExistingDirectory);
  keys->footer("Keys are stored only as SHA-256 hashes. While a server runs, create keys with POST /v1/keys.");

  std::string customer;
  size_t audit_limit = 0;
  CLI::App* audit = app.add_subcommand("audit", "Verify or show the hash-chained audit trail");
  audit->require_subcommand(1);
  CLI::App* audit_verify = audit->add_subcommand("verify", "Detect any altered, removed or reordered entry (exit 1 if so)");
  audit_verify->add_option("--data", data_dir, "Data directory")->required()->check(CLI::ExistingDirectory);
  CLI::App* audit_show = audit->add_subcommand("show", "Print entries as JSON, oldest first");
  audit_show->add_option("--data", data_dir, "Data directory")->required()->check(CLI::ExistingDirectory);
  audit_show->add_option("--customer", customer, "Only entries about this customer");
  audit_show->add_option("--limit", audit_limit, "At most this many (default: all)");

  std::string webhook_status, webhook_id;
  bool webhooks_json = false;
  CLI::App* webhooks = app.add_subcommand("webhooks", "The webhook outbox of a stopped server: list, replay dead letters");
  webhooks->require_subcommand(1);
  CLI::App* webhooks_list = webhooks->add_subcommand("list", "Webhook messages with their status, attempts and last error");
  webhooks_list->add_option("--data", data_dir, "Data directory")->required()->check(CLI::ExistingDirectory);
  webhooks_list->add_option("--status", webhook_status, "pending, delivered or dead (default: all)");
  webhooks_list->add_flag("--json", webhooks_json, "Print JSON");
  CLI::App* webhooks_replay = webhooks->add_subcommand("replay", "Move dead letters back to pending (sent when the server runs)");
  webhooks_replay->add_option("--data", data_dir, "Data directory")->required()->check(CLI::ExistingDirectory);
  webhooks_replay->add_option("--id", webhook_id, "One message (its webhook-id); default: every dead letter");
  webhooks->footer("A running server holds the data directory: use GET /v1/webhooks and POST /v1/webhooks/replay.");

  ReportCommand report_command;
  CLI::App* report = app.add_subcommand(
      "report", "The scorecard: treatment vs holdout and experiments, CSAT/NPS/FCR/LTV with intervals");
  report->add_option("--data", report_command.data_dir, "Data directory")->required()->check(CLI::ExistingDirectory);
  report->add_option("--policy", policy_path, "Policy file (defaults to the one the data directory last used)");
  report->add_option("--out", report_command.out, "Where to write the report (default report.html; with --json: JSON)");
  report->add_flag("--json", report_command.json, "The scorecard as JSON (to stdout unless --out is given)");
  report->add_option("--window", report_command.window, "two-weeks, month or all")
      ->check(CLI::IsMember({"two-weeks", "month", "all"}))->capture_default_str();
  report->add_option("--from", report_command.from, "Start of the range, inclusive (RFC 3339)");
  report->add_option("--to", report_command.to, "End of the range, exclusive (default: the midnight after the latest event)");
  report->add_flag("--sequential", report_command.sequential, "Always-valid intervals (safe to look every day)");
  report->add_option("--adjust", report_command.adjust, "Multiple-comparison adjustment: holm or bh")
      ->check(CLI::IsMember({"holm", "bh"}))->capture_default_str();
  report->add_option("--min-per-arm", report_command.min_per_arm, "Observations per arm before a result is called")
      ->capture_default_str();
  report->footer("Definitions: docs/metrics.md. Progress on stderr (a terminal only); the summary on stdout.");

  SimulateCommand simulate_command;
  CLI::App* simulate = app.add_subcommand(
      "simulate", "Run a synthetic population through a policy in the real engine; print the scorecard");
  simulate->add_option("--policy", simulate_command.policy, "Policy file")->required()->check(CLI::ExistingFile);
  simulate->add_option("--customers", simulate_command.customers, "Customers in the population")->capture_default_str();
  simulate->add_option("--days", simulate_command.days, "Simulated days")->capture_default_str();
  simulate->add_option("--seed", simulate_command.seed, "Random seed (same seed, same results)")->capture_default_str();
  simulate->add_option("--population", simulate_command.population,
                       "Population file (default: population.yaml beside the policy, else built-in shoppers)");
  simulate->add_option("--out", simulate_command.out, "Directory for scorecard.json, report.html, truth.json, summary.json");
  simulate->add_option("--compare", simulate_command.compare, "A second policy, run on the same population and seed");
  simulate->add_option("--events-out", simulate_command.events_out, "Write the generated events (JSON lines)");
  simulate->add_option("--tick", simulate_command.tick, "Simulated clock step")->capture_default_str();
  simulate->add_option("--partitions", simulate_command.partitions, "Engine partitions")->capture_default_str();
  simulate->add_flag("--json", simulate_command.json, "Print the summary as JSON");
  simulate->add_option("--barrier", simulate_command.barrier,
                       "How each tick ends: clock (timers fire at the tick's end) or checkpoint (also writes "
                       "all touched state every tick; slower) (docs/simulation.md, \"Speed\")")
      ->check(CLI::IsMember({"clock", "checkpoint"}))->capture_default_str();
  simulate->add_flag("--freeze-models", simulate_command.freeze_models, "No online learning during the run");
  simulate->footer("The population model and its reactions: docs/simulation.md.");

  SendCommand send_command;
  CLI::App* send = app.add_subcommand("send", "Stream an events file to a running server (POST /v1/batch) at a steady rate");
  send->add_option("events", send_command.events, "JSON-lines file of Segment messages (e.g. from simulate --events-out)")
      ->required()->check(CLI::ExistingFile);
  send->add_option("--url", send_command.url, "The server")->capture_default_str();
  send->add_option("--key", send_command.key, "An ingest key (or set UPFRONT_KEY)")->envname("UPFRONT_KEY")->required();
  send->add_option("--rate", send_command.rate, "Events per second (0: as fast as the server acknowledges)");
  send->add_option("--batch", send_command.batch, "Events per request")->capture_default_str()->check(CLI::Range(1, 5000));
  send->add_flag("--live", send_command.live, "Stamp each event with the current time as it is sent");
  send->add_flag("--loop", send_command.loop, "Start over at the end, with new message ids each pass");
  send->add_option("--seconds", send_command.seconds, "Stop after this many seconds");

  CLI11_PARSE(app, argc, argv);
  if (*send) return RunSend(send_command);
  if (*simulate) return RunSimulate(simulate_command);
  if (*report) {
    auto policy = LoadPolicyFor(policy_path, report_command.data_dir);
    if (!policy.ok()) return Fail(policy.status());
    return RunReport(report_command, *policy);
  }
  if (*webhooks_list) return RunWebhooksList(data_dir, webhook_status, webhooks_json);
  if (*webhooks_replay) return RunWebhooksReplay(data_dir, webhook_id);
  if (*serve) return RunServe(serve_command);
  if (*keys_create) return RunKeysCreate(data_dir, role, key_name.empty() ? role : key_name);
  if (*keys_list) return RunKeysList(data_dir);
  if (*audit_verify) return RunAuditVerify(data_dir);
  if (*audit_show) return RunAuditShow(data_dir, customer, audit_limit);
  if (*review || *preferences) {
    const std::string& dir = *review ? review_command.data_dir : data_dir;
    auto policy = LoadPolicyFor(policy_path, dir);
    if (!policy.ok()) return Fail(policy.status());
    if (*review) {
      if ((!review_command.approve.empty() || !review_command.reject.empty()) && review_command.agent.empty()) {
        std::cerr << "upfront: --agent is required to answer a review item\n";
        return 1;
      }
      return RunReview(review_command, *policy);
    }
    return RunPreferences(dir, *policy, id, patch);
  }
  if (*replay) {
    auto policy = LoadPolicyFile(policy_path);
    if (!policy.ok()) return Fail(policy.status());
    return RunReplay(replay_command, *policy);
  }
  if (*inspect || *train) {
    const std::string& dir = *inspect ? data_dir : train_command.data_dir;
    auto policy = LoadPolicyFor(policy_path, dir);
    if (!policy.ok()) return Fail(policy.status());
    if (*inspect) return RunInspect(dir, *policy, id, at, as_json);
    return RunTrain(train_command, *policy);
  }
  if (*ingest) return RunIngest(data_dir, policy_path, files, arrival, partitions);
  if (*profile) return RunProfile(data_dir, policy_path, id);
  if (*check) return RunCheck(policy_path);
  return 0;
}
