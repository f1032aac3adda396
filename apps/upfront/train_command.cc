// `upfront train`: replay the log into training rows, train XGBoost, report
// AUC and calibration on the held-out rows, write the model file.

#include <fmt/format.h>
#include <unistd.h>

#include <cmath>
#include <iostream>

#include "apps/upfront/commands.h"
#include "src/common/time_format.h"
#include "src/models/xgboost_model.h"
#include "src/training/training_set.h"

namespace upfront {

int RunTrain(const TrainCommand& command, const Policy& policy) {
  const bool terminal = isatty(STDERR_FILENO) != 0;
  absl::StatusOr<Micros> sample_every = ParseDuration(command.sample_every);
  if (!sample_every.ok() || *sample_every <= 0) {
    std::cerr << "upfront: --sample-every: '" << command.sample_every
              << "' is not a duration like 1d or 6h\n";
    return 2;
  }
  TrainingSetOptions options{.sample_every = *sample_every};
  TrainingSetStats stats;
  absl::StatusOr<TrainingSet> set = BuildTrainingSet(
      command.data_dir, policy, command.model, options,
      [terminal](uint64_t events) {
        if (terminal) std::cerr << fmt::format("\rreading the event log: {} events", events) << std::flush;
      },
      &stats);
  if (terminal) std::cerr << "\r\033[K";
  if (!set.ok()) {
    std::cerr << "upfront: " << set.status().message() << "\n";
    return 2;
  }
  std::cout << fmt::format(
      "{} events, {} customers -> {} rows ({} positive, {:.1f}%), {} left out as not yet known\n",
      stats.events, stats.customers, stats.rows, stats.positives,
      stats.rows ? 100.0 * stats.positives / stats.rows : 0.0, stats.censored);
  if (stats.rows == 0 || stats.positives == 0 || stats.positives == stats.rows) {
    std::cerr << "upfront: cannot train: the rows need both positive and negative labels\n";
    return 2;
  }

  TrainOptions train;
  train.rounds = command.rounds;
  train.max_depth = command.max_depth;
  train.eta = command.eta;
  train.holdout_share = command.holdout;
  train.seed = command.seed;
  absl::StatusOr<TrainReport> report =
      TrainXgboost(*set, train, command.out, [terminal](int round, int rounds) {
        if (terminal) std::cerr << fmt::format("\rtraining: round {}/{}", round, rounds) << std::flush;
      });
  if (terminal) std::cerr << "\r\033[K";
  if (!report.ok()) {
    std::cerr << "upfront: " << report.status().message() << "\n";
    return 2;
  }
  std::cout << fmt::format("trained on {} rows, evaluated on {} held-out rows\n", report->train_rows,
                           report->holdout_rows);
  std::cout << fmt::format("AUC {:.3f}\n\n", report->auc);
  std::cout << "calibration (held-out rows)\n";
  std::cout << fmt::format("  {:<13} {:>7} {:>10} {:>9}  \n", "predicted", "rows", "mean pred", "observed");
  for (const CalibrationBin& bin : report->calibration) {
    if (bin.count == 0) continue;
    // A bar of the observed rate, so a badly calibrated bin stands out.
    const std::string bar(static_cast<size_t>(std::lround(bin.observed_rate * 30)), '#');
    std::cout << fmt::format("  {:.1f} - {:.1f}   {:>7} {:>10.3f} {:>9.3f}  {}\n", bin.lower,
                             bin.upper, bin.count, bin.mean_predicted, bin.observed_rate, bar);
  }
  std::cout << fmt::format("\nwrote {}; use it with  models.{}: {{kind: xgboost, file: {}}}\n",
                           command.out, command.model, command.out);
  return 0;
}

}  // namespace upfront
