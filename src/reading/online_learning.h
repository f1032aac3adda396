// Online learning for logistic models with `learn:` (FTRL-Proximal): each
// time the engine reads a customer it remembers the moment (the model's
// features then) unless one is already waiting; the model's label event
// within `horizon` after it makes it a positive, the horizon passing without
// one a negative. Each moment is one FTRL update, made when its horizon
// closes, positive or not, and the next reading uses the updated weights.
//
// Why wait for the horizon: a positive is known as soon as the label event
// comes, a negative only when the horizon has passed. Learning positives at
// once would feed the learner nothing but positives for its first horizon
// (30 days, say) and every score would drift up; holding them keeps every
// update drawn from complete labels, at the price of learning one horizon late.
//
//   OnlineLearning learning(reader);                    // per partition
//   reader.Read(profile, signals, now, &reading, &learning.models());
//   learning.Observe(reading, event_name, now, &state.labels);
//   Micros due = learning.NextDue(state.labels);         // wake for negatives
//
// One learner per partition: it learns from that partition's customers, and
// its weights (with their version) are part of the partition's state. Not
// thread-safe; owned by the partition thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "src/models/ftrl.h"
#include "src/reading/reader.h"
#include "upfront/status.h"

namespace upfront {

// A customer's moments waiting for their label, one slot per policy model.
struct PendingLabels {
  struct Moment {
    Micros at = kNever;  // kNever: nothing waiting
    bool positive = false;  // the label event came; learnt when the horizon closes
    std::vector<double> features;
    std::vector<uint8_t> present;
  };
  std::vector<Moment> moments;
};

class OnlineLearning {
 public:
  explicit OnlineLearning(const PolicyReader& reader);

  // True when some model learns; otherwise every other call does nothing.
  bool active() const { return active_; }
  // The weights and versions readings should use.
  const LearnedModels& models() const { return models_; }
  uint64_t updates(int model) const { return updates_[model]; }

  // After a reading at `now` caused by an event named `event_name` ("" for a
  // timer): resolves what the customer's waiting moments have become, then
  // remembers this moment for models with none waiting. Allocates only the
  // first time a customer has a moment, and when weights change.
  void Observe(const Reading& reading, std::string_view event_name, Micros now,
               PendingLabels* pending);
  // A label given directly (an agent approving or rejecting a suggestion the
  // model drove): one update from the features in `reading`. No-op for
  // models that do not learn.
  void Label(int model, const Reading& reading, bool label);

  // When the earliest waiting moment becomes a negative; kNever when none.
  Micros NextDue(const PendingLabels& pending) const;

  // The learners' state, by model name; Load ignores models that no longer
  // learn and keeps a fresh learner when the stored one does not fit.
  std::vector<std::pair<std::string, std::string>> Save() const;
  void Load(std::string_view model, std::string_view state);

  void EncodePending(const PendingLabels& pending, std::string* out) const;
  absl::Status DecodePending(std::string_view in, PendingLabels* pending) const;

 private:
  void Learn(int model, const PendingLabels::Moment& moment, bool label);

  const PolicyReader* reader_;
  bool active_ = false;
  std::vector<std::unique_ptr<FtrlLearner>> learners_;  // null: the model does not learn
  std::vector<uint64_t> updates_;
  LearnedModels models_;
};

}  // namespace upfront
