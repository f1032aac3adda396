#include "src/reading/online_learning.h"

#include <cmath>

#include "src/common/binary_codec.h"

namespace upfront {
namespace {

// 1: without `positive` (read as false); 2: with it.
constexpr uint64_t kPendingVersion = 2;

}  // namespace

OnlineLearning::OnlineLearning(const PolicyReader& reader) : reader_(&reader) {
  const std::vector<ModelSpec>& specs = reader.policy().models;
  learners_.resize(specs.size());
  updates_.assign(specs.size(), 0);
  for (size_t m = 0; m < specs.size(); ++m) {
    const int i = static_cast<int>(m);
    models_.weights.push_back(reader.logistic(i));
    models_.versions.push_back(reader.model_version(i));
    if (specs[m].kind != ModelSpec::Kind::kLogistic || !specs[m].learn) continue;
    learners_[m] = std::make_unique<FtrlLearner>(reader.logistic(i), FtrlParams{});
    active_ = true;
  }
}

void OnlineLearning::Learn(int model, const PendingLabels::Moment& moment, bool label) {
  learners_[model]->Update(moment.features, moment.present, label);
  ++updates_[model];
  // Labels are rare next to events, so rebuilding the weights here is cheap.
  models_.weights[model] = learners_[model]->Weights();
  models_.versions[model] =
      LogisticModelVersion(reader_->policy().models[model].name, models_.weights[model]);
}

void OnlineLearning::Observe(const Reading& reading, std::string_view event_name, Micros now,
                             PendingLabels* pending) {
  if (!active_) return;
  const std::vector<ModelSpec>& specs = reader_->policy().models;
  if (pending->moments.size() < specs.size()) pending->moments.resize(specs.size());
  for (size_t m = 0; m < specs.size(); ++m) {
    if (!learners_[m]) continue;
    const ModelSpec& spec = specs[m];
    PendingLabels::Moment& moment = pending->moments[m];
    bool ended = event_name == spec.label_event;
    if (moment.at != kNever) {
      if (now > moment.at + spec.horizon) {
        Learn(static_cast<int>(m), moment, moment.positive);
        ended = ended || moment.positive;
        moment.at = kNever;
        moment.positive = false;
      } else if (event_name == spec.label_event && now >= moment.at) {
        moment.positive = true;
      }
    }
    // The label event ends what the model predicts: the moment after it,
    // or at the close of the horizon it fell in, is not a new chance to
    // predict it.
    if (moment.at != kNever || ended ||
        !reading.model(static_cast<int>(m)).available) {
      continue;
    }
    std::span<const double> features = reading.features(static_cast<int>(m));
    moment.at = now;
    moment.features.resize(features.size());
    moment.present.resize(features.size());
    for (size_t f = 0; f < features.size(); ++f) {
      const bool present = !std::isnan(features[f]);
      moment.present[f] = present ? 1 : 0;
      moment.features[f] = present ? features[f] : 0;
    }
  }
}

void OnlineLearning::Label(int model, const Reading& reading, bool label) {
  if (model < 0 || static_cast<size_t>(model) >= learners_.size() || !learners_[model]) return;
  if (!reading.model(model).available) return;
  PendingLabels::Moment moment;
  std::span<const double> features = reading.features(model);
  moment.features.resize(features.size());
  moment.present.resize(features.size());
  for (size_t f = 0; f < features.size(); ++f) {
    moment.present[f] = std::isnan(features[f]) ? 0 : 1;
    moment.features[f] = moment.present[f] ? features[f] : 0;
  }
  Learn(model, moment, label);
}

Micros OnlineLearning::NextDue(const PendingLabels& pending) const {
  Micros due = kNever;
  const std::vector<ModelSpec>& specs = reader_->policy().models;
  for (size_t m = 0; m < pending.moments.size() && m < specs.size(); ++m) {
    if (!learners_[m] || pending.moments[m].at == kNever) continue;
    // Negative only once strictly past the horizon: a label at the edge counts.
    const Micros expiry = pending.moments[m].at + specs[m].horizon + 1;
    if (due == kNever || expiry < due) due = expiry;
  }
  return due;
}

std::vector<std::pair<std::string, std::string>> OnlineLearning::Save() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (size_t m = 0; m < learners_.size(); ++m) {
    if (!learners_[m]) continue;
    std::string state;
    Encoder e(&state);
    e.PutVarint(updates_[m]);
    learners_[m]->Encode(&state);
    out.emplace_back(reader_->policy().models[m].name, std::move(state));
  }
  return out;
}

void OnlineLearning::Load(std::string_view model, std::string_view state) {
  for (size_t m = 0; m < learners_.size(); ++m) {
    if (!learners_[m] || reader_->policy().models[m].name != model) continue;
    Decoder d(state);
    const uint64_t updates = d.GetVarint();
    FtrlLearner loaded(*learners_[m]);
    if (!d.ok() || !loaded.Decode(d.Rest()).ok() ||
        loaded.feature_count() != learners_[m]->feature_count()) {
      return;  // features changed with the policy: start from its weights again
    }
    *learners_[m] = std::move(loaded);
    updates_[m] = updates;
    if (updates > 0) {
      models_.weights[m] = learners_[m]->Weights();
      models_.versions[m] = LogisticModelVersion(std::string(model), models_.weights[m]);
    }
  }
}

void OnlineLearning::EncodePending(const PendingLabels& pending, std::string* out) const {
  Encoder e(out);
  e.PutVarint(kPendingVersion);
  e.PutVarint(pending.moments.size());
  for (const PendingLabels::Moment& moment : pending.moments) {
    e.PutSigned(moment.at);
    if (moment.at == kNever) continue;
    e.PutVarint(moment.positive ? 1 : 0);
    e.PutVarint(moment.features.size());
    for (size_t f = 0; f < moment.features.size(); ++f) {
      e.PutDouble(moment.features[f]);
      e.PutVarint(moment.present[f]);
    }
  }
}

absl::Status OnlineLearning::DecodePending(std::string_view in, PendingLabels* pending) const {
  pending->moments.clear();
  if (in.empty()) return absl::OkStatus();
  Decoder d(in);
  const uint64_t version = d.GetVarint();
  if (version != 1 && version != kPendingVersion) return absl::DataLossError("pending labels: unknown version");
  const uint64_t count = d.GetVarint();
  if (!d.ok() || count > 1024) return absl::DataLossError("pending labels are corrupt");
  pending->moments.resize(count);
  for (PendingLabels::Moment& moment : pending->moments) {
    moment.at = d.GetSigned();
    if (moment.at == kNever) continue;
    moment.positive = version >= 2 && d.GetVarint() != 0;
    const uint64_t n = d.GetVarint();
    if (!d.ok() || n > 4096) return absl::DataLossError("pending labels are corrupt");
    moment.features.resize(n);
    moment.present.resize(n);
    for (size_t f = 0; f < n; ++f) {
      moment.features[f] = d.GetDouble();
      moment.present[f] = static_cast<uint8_t>(d.GetVarint());
    }
  }
  if (!d.ok()) return absl::DataLossError("pending labels are truncated");
  // Moments recorded under a policy whose model had other features are dropped.
  const std::vector<ModelSpec>& specs = reader_->policy().models;
  if (pending->moments.size() != specs.size()) pending->moments.assign(specs.size(), {});
  for (size_t m = 0; m < specs.size(); ++m) {
    if (pending->moments[m].features.size() != specs[m].features.size()) pending->moments[m] = {};
  }
  return absl::OkStatus();
}

}  // namespace upfront
