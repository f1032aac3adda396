// The shipped example policy with what reading it needs, for benchmarks that
// run the engine's per-event work without the engine around it.
#pragma once

#include <memory>
#include <string>

#include "src/event/field_catalog.h"
#include "src/profile/profile.h"
#include "src/reading/reader.h"
#include "upfront/policy.h"

namespace upfront {

struct ExamplePolicy {
  std::unique_ptr<Policy> policy;
  std::unique_ptr<FieldCatalog> catalog;
  std::unique_ptr<ProfileRules> rules;
  std::unique_ptr<PolicyReader> reader;

  static ExamplePolicy Load() {
    ExamplePolicy e;
    e.policy = std::make_unique<Policy>(
        LoadPolicyFile(std::string(UPFRONT_SOURCE_DIR) + "/examples/ecommerce/policy.yaml").value());
    const EventsPolicy& ev = e.policy->events;
    e.catalog = std::make_unique<FieldCatalog>(ev.keep_properties, ev.keep_traits, ev.hash, "key");
    e.rules = std::make_unique<ProfileRules>(*e.policy, *e.catalog);
    e.reader = PolicyReader::Create(*e.policy, *e.catalog).value();
    return e;
  }
};

}  // namespace upfront
