#include "src/event/field_catalog.h"

#include <algorithm>

namespace upfront {

FieldCatalog::FieldCatalog(std::vector<std::string> keep_properties, std::vector<std::string> keep_traits,
                           const std::vector<std::string>& hashed, std::string hash_key)
    : properties_(std::move(keep_properties)),
      traits_(std::move(keep_traits)),
      property_ids_(properties_),
      trait_ids_(traits_),
      hash_key_(std::move(hash_key)) {
  auto is_hashed = [&](const std::string& name) {
    return std::find(hashed.begin(), hashed.end(), name) != hashed.end();
  };
  for (size_t i = 0; i < properties_.size(); ++i) {
    property_hashed_.push_back(is_hashed(properties_[i]));
  }
  for (size_t i = 0; i < traits_.size(); ++i) {
    trait_hashed_.push_back(is_hashed(traits_[i]));
  }
}



}  // namespace upfront
