#include "src/profile/identity.h"

namespace upfront {

std::string_view IdentityIndex::Resolve(std::string_view id) const {
  auto it = canonical_of_.find(id);
  return it == canonical_of_.end() ? id : std::string_view(it->second);
}

void IdentityIndex::Load(std::string_view id, std::string_view canonical) {
  canonical_of_[id] = std::string(canonical);
  members_[canonical].emplace_back(id);
}

std::vector<std::string> IdentityIndex::Members(std::string_view canonical) const {
  std::vector<std::string> ids{std::string(canonical)};
  if (auto it = members_.find(canonical); it != members_.end()) {
    for (const std::string& id : it->second) {
      if (id != canonical) ids.push_back(id);
    }
  }
  return ids;
}

std::vector<std::string> IdentityIndex::Forget(std::string_view canonical) {
  std::vector<std::string> ids = Members(canonical);
  for (const std::string& id : ids) canonical_of_.erase(id);
  if (auto it = members_.find(canonical); it != members_.end()) members_.erase(it);
  return ids;
}

void IdentityIndex::Merge(const std::string& from, const std::string& to,
                          std::vector<std::pair<std::string, std::string>>* changes) {
  std::vector<std::string> moved;
  if (auto it = members_.find(from); it != members_.end()) {
    moved = std::move(it->second);
    members_.erase(it);
  }
  moved.push_back(from);
  std::vector<std::string>& into = members_[to];
  for (std::string& id : moved) {
    canonical_of_[id] = to;
    changes->emplace_back(id, to);
    into.push_back(std::move(id));
  }
}

void IdentityIndex::Route(const Event& event, Routing* routing,
                          std::vector<std::pair<std::string, std::string>>* changes) {
  routing->merge_from.clear();
  if (event.user_id.empty()) {
    routing->canonical.assign(Resolve(event.anonymous_id));
    return;
  }
  std::string to(Resolve(event.user_id));
  std::string_view other;
  if (event.type == EventType::kAlias) {
    other = event.previous_id;
  } else if (event.type == EventType::kIdentify && !event.anonymous_id.empty()) {
    // Only a never-merged anonymous id joins a known customer: one already
    // merged elsewhere belongs to someone else (a shared device).
    if (!canonical_of_.contains(event.anonymous_id)) other = event.anonymous_id;
  }
  if (!other.empty()) {
    std::string from(Resolve(other));
    if (from != to) {
      Merge(from, to, changes);
      routing->merge_from = std::move(from);
    }
  }
  routing->canonical = std::move(to);
}

}  // namespace upfront
