// `upfront report`: the scorecard of a data directory as an HTML page (or
// JSON), with a one-paragraph summary on stdout. main.cc wires it to CLI11.
#pragma once

#include <cstdint>
#include <string>

#include "upfront/policy.h"

namespace upfront {

struct ReportCommand {
  std::string data_dir;
  std::string out;                   // default "report.html"; with json and no out: stdout
  bool json = false;                 // the scorecard JSON instead of the page
  std::string from;                  // RFC 3339; "" = from the window
  std::string to;                    // RFC 3339; "" = the midnight (UTC) after the latest event
  std::string window = "two-weeks";  // two-weeks, month or all
  bool sequential = false;           // always-valid intervals
  std::string adjust = "holm";       // holm or bh
  uint64_t min_per_arm = 100;
};

// Opens the engine on command.data_dir with `policy`, builds the scorecard
// (src/measure/scorecard.h) and writes it. Progress goes to stderr when it
// is a terminal. The summary goes to stdout, or to stderr when the JSON
// itself is written to stdout. Returns 0, or 2 with a message on stderr
// (bad option, unreadable data directory, unwritable output).
int RunReport(const ReportCommand& command, const Policy& policy);

}  // namespace upfront
