#include "src/training/training_set.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>

#include "src/common/string_map.h"
#include "src/event/event_parser.h"
#include "src/event/field_catalog.h"
#include "src/profile/profile.h"
#include "src/reading/reader.h"
#include "src/signals/customer_signals.h"
#include "src/store/store.h"

namespace upfront {
namespace {

struct Customer {
  explicit Customer(const CompiledSignals* compiled) : signals(compiled) {}
  Profile profile;
  CustomerSignals signals;
  Micros next_sample = std::numeric_limits<Micros>::min();
  std::vector<Micros> label_times;
  std::vector<std::pair<Micros, size_t>> moments;  // (time, first feature index in `features`)
};

absl::StatusOr<std::string> ReadHashKey(const std::string& data_dir) {
  const std::filesystem::path path = std::filesystem::path(data_dir) / "hash.key";
  std::ifstream in(path);
  std::string key;
  if (!in || !std::getline(in, key) || key.size() < 32) {
    return absl::FailedPreconditionError(fmt::format(
        "{} is missing or damaged: is {} an Upfront data directory?", path.string(), data_dir));
  }
  return key;
}

}  // namespace

absl::StatusOr<TrainingSet> BuildTrainingSet(const std::string& data_dir, const Policy& policy,
                                             const std::string& model_name,
                                             const TrainingSetOptions& options,
                                             const std::function<void(uint64_t)>& progress,
                                             TrainingSetStats* stats) {
  const auto model_it = std::find_if(policy.models.begin(), policy.models.end(),
                                     [&](const ModelSpec& m) { return m.name == model_name; });
  if (model_it == policy.models.end()) {
    std::string names;
    for (const ModelSpec& m : policy.models) names += (names.empty() ? "" : ", ") + m.name;
    return absl::NotFoundError(fmt::format("the policy has no model '{}' (models: {})",
                                           model_name, names.empty() ? "none" : names));
  }
  const ModelSpec& spec = *model_it;
  const int model_index = static_cast<int>(model_it - policy.models.begin());
  if (!spec.learn) {
    return absl::FailedPreconditionError(fmt::format(
        "models.{} has no learn: section, so there is no label to train on; add e.g. "
        "learn: {{label: \"Subscription Cancelled\", horizon: 30d}}",
        model_name));
  }
  UPFRONT_ASSIGN_OR_RETURN(std::string hash_key, ReadHashKey(data_dir));
  const EventsPolicy& ev = policy.events;
  FieldCatalog catalog(ev.keep_properties, ev.keep_traits, ev.hash, hash_key);
  ProfileRules rules(policy, catalog);
  UPFRONT_ASSIGN_OR_RETURN(std::unique_ptr<PolicyReader> reader,
                           PolicyReader::Create(policy, catalog, /*load_model_files=*/false));
  UPFRONT_ASSIGN_OR_RETURN(
      std::unique_ptr<StateStore> store,
      OpenRocksDbStore((std::filesystem::path(data_dir) / "db").string(), StoreOptions{}));

  StringMap<std::unique_ptr<Customer>> customers;
  const auto find_or_create = [&](std::string_view id) -> Customer& {
    auto it = customers.find(id);
    if (it != customers.end()) return *it->second;
    auto customer = std::make_unique<Customer>(&reader->signals());
    customer->profile.id.assign(id);
    Customer& ref = *customer;
    customers.emplace(std::string(id), std::move(customer));
    return ref;
  };

  EventParser parser(&catalog);
  Event event;
  EventError error;
  Reading reading(*reader);
  std::vector<float> features;
  const size_t width = spec.features.size();
  Micros log_end = std::numeric_limits<Micros>::min();
  absl::Status bad_record = absl::OkStatus();
  std::string padded;
  UPFRONT_RETURN_IF_ERROR(store->ScanLog(1, [&](const LogRecord& record) {
    // simdjson reads a little past the end; the store's bytes have no room.
    padded.assign(record.event_json);
    padded.append(kParsePadding, '\0');
    if (!parser.ParseStored(std::string_view(padded.data(), record.event_json.size()), &event,
                            &error)) {
      bad_record = absl::DataLossError(
          fmt::format("event log record {} cannot be read: {}", record.seq, error.reason));
      return false;
    }
    Customer& customer = find_or_create(record.canonical);
    if (!record.merge_from.empty() && record.merge_from != record.canonical) {
      if (auto from = customers.find(record.merge_from); from != customers.end()) {
        MergeProfiles(rules, std::move(from->second->profile), &customer.profile);
        customer.signals.Absorb(from->second->signals);
        customer.label_times.insert(customer.label_times.end(),
                                    from->second->label_times.begin(),
                                    from->second->label_times.end());
        customer.moments.insert(customer.moments.end(), from->second->moments.begin(),
                                from->second->moments.end());
        customers.erase(from);
      }
    }
    ApplyEvent(rules, event, &customer.profile);
    customer.signals.OnEvent(event);
    log_end = std::max(log_end, event.timestamp);
    if (event.name == spec.label_event) customer.label_times.push_back(event.timestamp);
    if (event.timestamp >= customer.next_sample) {
      reader->Read(customer.profile, customer.signals, event.timestamp, &reading);
      customer.moments.emplace_back(event.timestamp, features.size());
      for (double f : reading.features(model_index)) features.push_back(static_cast<float>(f));
      customer.next_sample =
          (event.timestamp / options.sample_every + 1) * options.sample_every;
    }
    if (++stats->events % 100000 == 0 && progress) progress(stats->events);
    return true;
  }));
  UPFRONT_RETURN_IF_ERROR(bad_record);

  TrainingSet set;
  set.feature_count = static_cast<int>(width);
  stats->customers = customers.size();
  // Rows in the order of customer ids, not of the hash map (which differs
  // from run to run): the holdout is picked by row index, so the same log
  // and seed give the same model.
  std::vector<std::pair<std::string_view, Customer*>> in_order;
  in_order.reserve(customers.size());
  for (const auto& [id, customer] : customers) in_order.emplace_back(id, customer.get());
  std::sort(in_order.begin(), in_order.end());
  for (const auto& [id, customer] : in_order) {
    std::sort(customer->label_times.begin(), customer->label_times.end());
    for (const auto& [t, offset] : customer->moments) {
      auto next = std::upper_bound(customer->label_times.begin(), customer->label_times.end(), t);
      const bool positive = next != customer->label_times.end() && *next <= t + spec.horizon;
      if (!positive && t + spec.horizon > log_end) {
        ++stats->censored;
        continue;
      }
      set.rows.insert(set.rows.end(), features.begin() + static_cast<std::ptrdiff_t>(offset),
                      features.begin() + static_cast<std::ptrdiff_t>(offset + width));
      set.labels.push_back(positive ? 1.0f : 0.0f);
      stats->positives += positive;
    }
  }
  stats->rows = set.labels.size();
  return set;
}

}  // namespace upfront
