// `upfront simulate`: a synthetic population lives through a policy in the
// real engine, in simulated time; prints and writes the scorecard (treatment
// against the holdout), the interruption load, opt-outs and complaints, and
// the ground truth's precision and recall (docs/simulation.md).
#pragma once

#include <cstdint>
#include <string>

namespace upfront {

struct SimulateCommand {
  std::string policy;
  uint32_t customers = 10000;
  int days = 30;
  uint64_t seed = 1;
  std::string population;  // "": population.yaml beside the policy, else the built-in shoppers
  std::string out;         // directory for scorecard.json, report.html, truth.json, summary.json
  std::string compare;     // a second policy run on the same population and seed
  std::string events_out;  // the generated events, JSON lines
  std::string tick = "1m";
  int partitions = 2;
  std::string barrier = "clock";  // or "checkpoint" (docs/simulation.md, "Speed")
  bool freeze_models = false;  // no online learning during the run
  bool json = false;  // print the summary JSON instead of text
};

// Returns the process exit status: 0 done, 2 failure (bad files or options).
int RunSimulate(const SimulateCommand& command);

}  // namespace upfront
