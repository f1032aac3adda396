#include "src/event/field_catalog.h"

#include <algorithm>

namespace upfront {

FieldCatalog::FieldCatalog(std::vector<std::string> keep_properties, std::vector<std::string> keep_traits,
                           const std::vector<std::string>& hashed, std::string hash_key)
    : properties_(std::move(keep_properties)), traits_(std::move(keep_traits)), hash_key_(std::move(hash_key)) {
  auto is_hashed = [&](const std::string& name) {
    return std::find(hashed.begin(), hashed.end(), name) != hashed.end();
  };
  for (size_t i = 0; i < properties_.size(); ++i) {
    property_ids_.emplace(properties_[i], static_cast<int>(i));
    property_hashed_.push_back(is_hashed(properties_[i]));
  }
  for (size_t i = 0; i < traits_.size(); ++i) {
    trait_ids_.emplace(traits_[i], static_cast<int>(i));
    trait_hashed_.push_back(is_hashed(traits_[i]));
  }
}

int FieldCatalog::PropertyId(std::string_view name) const {
  auto it = property_ids_.find(name);
  return it == property_ids_.end() ? -1 : it->second;
}

int FieldCatalog::TraitId(std::string_view name) const {
  auto it = trait_ids_.find(name);
  return it == trait_ids_.end() ? -1 : it->second;
}

}  // namespace upfront
