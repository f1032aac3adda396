// Which properties and traits an event keeps (the policy's minimization rules),
// with a dense id per kept field so events carry small integer keys.
//
//   FieldCatalog catalog({"step", "path"}, {"plan", "email"}, {"email"}, key);
//   int id = catalog.PropertyId("step");   // 0; -1 when not kept
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "src/common/name_index.h"

namespace upfront {

class FieldCatalog {
 public:
  FieldCatalog() = default;
  // `hashed` names fields (properties or traits) stored only as
  // HMAC-SHA256(hash_key, value). Names may repeat across properties and traits.
  FieldCatalog(std::vector<std::string> keep_properties, std::vector<std::string> keep_traits,
               const std::vector<std::string>& hashed, std::string hash_key);

  int PropertyId(std::string_view name) const { return property_ids_.Find(name); }
  int TraitId(std::string_view name) const { return trait_ids_.Find(name); }
  const std::string& PropertyName(uint16_t id) const { return properties_[id]; }
  const std::string& TraitName(uint16_t id) const { return traits_[id]; }
  bool PropertyHashed(uint16_t id) const { return property_hashed_[id]; }
  bool TraitHashed(uint16_t id) const { return trait_hashed_[id]; }
  size_t property_count() const { return properties_.size(); }
  size_t trait_count() const { return traits_.size(); }
  const std::string& hash_key() const { return hash_key_; }

 private:
  std::vector<std::string> properties_;
  std::vector<std::string> traits_;
  std::vector<bool> property_hashed_;
  std::vector<bool> trait_hashed_;
  NameIndex property_ids_;
  NameIndex trait_ids_;
  std::string hash_key_;
};

}  // namespace upfront
