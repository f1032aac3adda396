// Identity resolution: which profile an event belongs to, and when two
// profiles become one.
//
// Every id is its own profile until a merge links it: an `alias` (previousId
// into userId) or an `identify` carrying both userId and anonymousId (the
// anonymous profile into the known one). Only merged ids are kept in the
// index, so customers who never merge cost nothing here.
//
// An anonymousId already merged into one known customer is never used to merge
// two known customers (a shared device); that identify is routed by userId only.
//
// Not thread-safe: owned by the ingest sequencer.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "src/common/string_map.h"
#include "upfront/event.h"

namespace upfront {

struct Routing {
  std::string canonical;     // the profile the event applies to (after any merge)
  std::string merge_from;    // non-empty: this profile merges into `canonical` first
};

class IdentityIndex {
 public:
  // Decides the routing of `event` and updates the index. Every id whose
  // canonical changed is appended to `changes` (id, new canonical) so the
  // caller can persist it atomically with the event.
  void Route(const Event& event, Routing* routing,
             std::vector<std::pair<std::string, std::string>>* changes);

  // The canonical profile id for `id` (the id itself when never merged).
  std::string_view Resolve(std::string_view id) const;

  // Restores one persisted link (id -> canonical).
  void Load(std::string_view id, std::string_view canonical);

  size_t merged_ids() const { return canonical_of_.size(); }

  // Every id that resolves to `canonical`, itself first.
  std::vector<std::string> Members(std::string_view canonical) const;
  // Forgets every link into `canonical` (privacy erasure); returns the ids
  // that resolved to it, itself first.
  std::vector<std::string> Forget(std::string_view canonical);

 private:
  void Merge(const std::string& from, const std::string& to,
             std::vector<std::pair<std::string, std::string>>* changes);

  StringMap<std::string> canonical_of_;
  StringMap<std::vector<std::string>> members_;
};

}  // namespace upfront
