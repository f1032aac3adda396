// The subcommands that live in their own files; main.cc wires them to CLI11.
#pragma once

#include <optional>
#include <string>

#include "upfront/engine.h"
#include "upfront/policy.h"

namespace upfront {

// `upfront inspect`: prints the engine's reading of one customer as a person
// reads it (or JSON). Returns the process exit status.
int RunInspect(const std::string& data_dir, const Policy& policy, const std::string& id,
               const std::string& at, bool json);

struct TrainCommand {
  std::string data_dir;
  std::string model;
  std::string out;
  int rounds = 100;
  int max_depth = 4;
  double eta = 0.1;
  double holdout = 0.2;
  uint64_t seed = 1;
  std::string sample_every = "1d";
};
// `upfront train`: builds a gradient-boosted model from the stored event log.
int RunTrain(const TrainCommand& command, const Policy& policy);

struct ReplayCommand {
  std::string events;
  std::string out;
  std::string until;
};
// `upfront replay`: decisions for an event file, deterministically.
int RunReplay(const ReplayCommand& command, const Policy& policy);

struct ReviewCommand {
  std::string data_dir;
  std::string status = "pending";
  size_t limit = 50;
  bool json = false;
  bool audit = false;
  std::string approve, reject;  // review ids
  std::string agent, message, reason;
  std::string at;  // when the agent answers (ISO-8601); default now
};
// `upfront review`: list, approve or reject review items; the audit trail.
int RunReview(const ReviewCommand& command, const Policy& policy);

// `upfront preferences`: show or change a customer's preferences and consent.
int RunPreferences(const std::string& data_dir, const Policy& policy, const std::string& id,
                   const std::string& patch);

struct ServeCommand {
  std::string data_dir;
  std::string policy;
  std::string listen = "127.0.0.1:8080";
  int partitions = 0;
};
// `upfront serve`: the HTTP service until SIGTERM/SIGINT.
int RunServe(const ServeCommand& command);

struct SendCommand {
  std::string url = "http://127.0.0.1:8080";
  std::string key;     // an ingest key
  std::string events;  // a JSON-lines file of Segment messages
  double rate = 0;     // events per second; 0: as fast as the server takes them
  size_t batch = 100;
  bool live = false;   // re-stamp each event with the wall clock as it is sent
  bool loop = false;   // start again at the end (new message ids each pass)
  int seconds = 0;     // stop after this long; 0: at the end of the file
};
// `upfront send`: streams an events file to a server's /v1/batch.
int RunSend(const SendCommand& command);

// `upfront webhooks list|replay` on a stopped server's data directory.
// status: pending, delivered, dead or "" for all. id "" replays every dead letter.
int RunWebhooksList(const std::string& data_dir, const std::string& status, bool json);
int RunWebhooksReplay(const std::string& data_dir, const std::string& id);

}  // namespace upfront
