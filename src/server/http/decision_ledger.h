// The server's record of decisions and in-flow nudges, in RocksDB under
// `<data>/server`: every decision point by id ("why am I seeing this"), each
// customer's decisions in time order, and the nudges waiting for the web or
// app to show them with the feedback they got.
//
// Decisions are re-told by the engine after a crash (with the same id): the
// engine replays its log from each partition's last checkpoint, and asks for
// Persist() before it writes one. So Record() is idempotent and writes no
// log of its own (the ledger would otherwise write every decision twice, to
// its log and to its tables: half of the server's disk writes under load);
// what comes after the last Persist() may be lost in a crash, and is re-told.
// A nudge's feedback, a claim and an erasure go through the log (synced
// where the caller is told it is done) and survive a crash on their own.
// Thread-safe.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "upfront/status.h"
#include "upfront/time.h"

namespace upfront {

struct RecordedDecision {
  std::string id;
  std::string customer;  // canonical id
  Micros at = 0;
  std::string json;      // as the engine told it
  bool nudge = false;    // an in-flow/in-app action waiting to be shown
  Micros nudge_expires = 0;
  // Re-told after a restart, so perhaps recorded already (its nudge then
  // keeps its state). Only these are looked up before they are written.
  bool may_be_recorded = true;
};

class DecisionLedger {
 public:
  static absl::StatusOr<std::unique_ptr<DecisionLedger>> Open(const std::string& dir);
  virtual ~DecisionLedger() = default;

  virtual absl::Status Record(const std::vector<RecordedDecision>& decisions) = 0;
  // Makes every decision recorded so far durable (flushes it to the tables).
  virtual absl::Status Persist() = 0;
  // The decision as told, with its nudge's state under "nudge" when it has one.
  // NotFound for an unknown id.
  virtual absl::StatusOr<nlohmann::json> Get(std::string_view decision_id) = 0;
  // The customer's decisions (any of `ids`), newest first, at most `limit`.
  virtual absl::StatusOr<nlohmann::json> CustomerDecisions(const std::vector<std::string>& ids,
                                                           size_t limit) = 0;
  // Nudges not yet answered nor expired at `now`, oldest first.
  virtual absl::StatusOr<nlohmann::json> PendingNudges(const std::vector<std::string>& ids, Micros now) = 0;
  // Nudges still pending whose time ran out by `now` leave the pending list
  // and take the status "expired". Returns how many.
  virtual absl::StatusOr<uint64_t> ExpireNudges(Micros now) = 0;
  // Marks a nudge shown (first time only); true when this was the first time.
  virtual absl::StatusOr<bool> MarkShown(std::string_view decision_id, Micros now) = 0;
  // Records feedback on a nudge ("accepted", "dismissed", "snoozed",
  // "turned_off"); FailedPrecondition when it already has feedback.
  virtual absl::Status RecordFeedback(std::string_view decision_id, std::string_view feedback,
                                      Micros now) = 0;
  // Privacy: every decision and nudge of these ids.
  virtual absl::StatusOr<uint64_t> EraseCustomers(const std::vector<std::string>& ids) = 0;
  virtual uint64_t pending_nudges() const = 0;

  // Review claims: an agent takes a review item for `ttl`, so two agents do
  // not work the same one. Returns the holder after the call (the caller when
  // the item was free, its claim had lapsed, or it was already theirs).
  virtual absl::StatusOr<std::string> Claim(std::string_view review_id, std::string_view agent, Micros now,
                                            Micros ttl) = 0;
  // The current holder of a claim, "" when none (or lapsed at `now`).
  virtual std::string ClaimHolder(std::string_view review_id, Micros now) = 0;
};

}  // namespace upfront
