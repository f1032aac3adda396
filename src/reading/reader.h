// The engine's reading of one customer at one moment: every value the policy
// can name (signals, traits, counts), the models' scores with their
// confidence, and the customer's segment. Conditions are evaluated against a
// Reading; explanations and `upfront inspect` print one.
//
//   absl::StatusOr<std::unique_ptr<PolicyReader>> reader = PolicyReader::Create(policy, catalog);
//   CustomerSignals signals((*reader)->signals());      // per customer
//   Reading reading(**reader);                          // per thread, reused
//   (*reader)->Read(profile, signals, now, &reading);   // allocation-free
//   reading.segment_name(); reading.model(0).score; intervention.when.Evaluate(reading);
//
// A PolicyReader is immutable and shared by all partitions; a Reading is
// scratch space owned by one thread. Models: logistic weights from the policy
// (or as learned, see SetLogisticWeights) and XGBoost files loaded at Create.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "src/event/field_catalog.h"
#include "src/models/logistic_model.h"
#include "src/models/xgboost_model.h"
#include "src/profile/profile.h"
#include "src/signals/compiled_signals.h"
#include "src/signals/customer_signals.h"
#include "upfront/expression.h"
#include "upfront/policy.h"

namespace upfront {

struct ModelReading {
  // Of the weights or file that scored; recorded with the score. A copy, not
  // a view: online learning replaces a model's version string while readings
  // taken before are still in use. Readings are reused, so assigning keeps
  // the buffer and allocates nothing once it is large enough.
  std::string version;
  bool available = false;  // false when the model could not score (e.g. every input missing)
  double score = 0;        // in [0, 1]
  // Coverage: the share of the model's (weighted) features that were present.
  double confidence = 0;
  bool low_confidence = false;  // confidence below the model's min_coverage
};

class PolicyReader;

// Logistic weights learned online, replacing the policy's (see
// online_learning.h): one entry per policy model; entries of models that do
// not learn hold the policy's weights.
struct LearnedModels {
  std::vector<LogisticModel> weights;
  std::vector<std::string> versions;
};

// The version string of logistic weights: "lr-" and a hash of them.
std::string LogisticModelVersion(const std::string& name, const LogisticModel& model);

// One customer's values at one moment. Also the ExpressionInputs conditions
// read; `threshold` is set by whoever evaluates an intervention.
class Reading : public ExpressionInputs {
 public:
  explicit Reading(const PolicyReader& reader);

  ExprValue Get(int slot) const override { return values_[slot]; }
  void SetThreshold(double value);

  const ModelReading& model(int i) const { return models_[i]; }
  // Features of model `i` as read (NaN when missing), in the policy's order.
  std::span<const double> features(int i) const { return features_[i]; }
  // Per feature w·x for logistic models (the push each gave); empty for others.
  std::span<const double> contributions(int i) const { return contributions_[i]; }
  // Every signal's score and confidence (CompiledSignals index) at at().
  double signal_score(int signal) const { return signal_scores_[signal]; }
  double signal_confidence(int signal) const { return signal_confidences_[signal]; }
  int segment() const { return segment_; }  // index in Policy::segments; -1 = default
  std::string_view segment_name() const;
  Micros at() const { return at_; }

 private:
  friend class PolicyReader;

  const PolicyReader* reader_;
  std::vector<ExprValue> values_;
  std::vector<ModelReading> models_;
  std::vector<std::vector<double>> features_;
  std::vector<std::vector<double>> contributions_;
  std::vector<uint8_t> present_;
  std::vector<float> float_features_;
  std::vector<double> signal_scores_, signal_confidences_;
  int segment_ = -1;
  Micros at_ = 0;
};

class PolicyReader {
 public:
  // Compiles the policy's signals and loads its models. Errors name the model
  // file that cannot be used. Without `load_model_files` XGBoost models are
  // left unloaded and never available (training reads features before the
  // model file exists).
  static absl::StatusOr<std::unique_ptr<PolicyReader>> Create(const Policy& policy,
                                                              const FieldCatalog& catalog,
                                                              bool load_model_files = true);

  const Policy& policy() const { return *policy_; }
  const CompiledSignals& signals() const { return signals_; }
  const FieldCatalog& catalog() const { return *catalog_; }

  // Fills `out` for the customer at `now`. Advance `signals` to `now` first
  // so timers due by then have fired.
  // `learned`, when given, replaces the logistic weights.
  void Read(const Profile& profile, const CustomerSignals& signals, Micros now, Reading* out,
            const LearnedModels* learned = nullptr) const;

  // The version recorded with each score: a hash of the weights for a
  // logistic model, of the file for an XGBoost one.
  const std::string& model_version(int i) const { return models_[i].version; }
  // The logistic weights in use (policy weights, or learned ones).
  const LogisticModel& logistic(int i) const { return models_[i].logistic; }

 private:
  struct Model {
    const ModelSpec* spec = nullptr;
    LogisticModel logistic;
    std::unique_ptr<XgboostModel> xgboost;
    double total_weight = 0;  // xgboost: features count equally
    std::string version;
  };
  // How a slot's value is found.
  struct SlotSource {
    ValuePath::Kind kind;
    int index = -1;  // signal, model, counter or trait id
    Micros window = 0;
  };

  PolicyReader(const Policy& policy, const FieldCatalog& catalog, CompiledSignals signals)
      : policy_(&policy), catalog_(&catalog), signals_(std::move(signals)) {}
  void ScoreModel(int i, Reading* out, const LearnedModels* learned) const;

  const Policy* policy_;
  const FieldCatalog* catalog_;
  CompiledSignals signals_;
  std::vector<SlotSource> sources_;
  std::vector<Model> models_;
  int threshold_slot_ = -1;

  friend class Reading;
};

}  // namespace upfront
