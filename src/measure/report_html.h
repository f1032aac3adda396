// The scorecard as one self-contained HTML page a CX lead reads in a minute:
// warnings (sample ratio mismatches) first, in red; the four headline
// metrics (CSAT, NPS, FCR, LTV) with lift and interval; the guardrails
// (opt-outs, complaints, fatigue); a forest plot of the lifts; weekly lines
// by cohort; then experiments, breakdowns, targets, signal quality, the bias
// audit and the method. Plots are inline SVG drawn here: no scripts, no
// network.
//
//   absl::StatusOr<nlohmann::json> card = BuildScorecard(engine, policy, {});
//   std::ofstream("report.html") << RenderScorecardHtml(*card);
//
// Pure functions; thread-safe. Every text from the data is HTML-escaped.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace upfront {

// The page for a scorecard JSON (src/measure/scorecard.h). Missing parts of
// the JSON are left out rather than failing.
std::string RenderScorecardHtml(const nlohmann::json& scorecard);

// One line of a line chart; NaN values leave gaps.
struct ChartLine {
  std::string name;
  std::vector<double> values;
  std::string color;  // CSS colour
  bool dashed = false;
};

// An SVG line chart of `lines` over the points labelled `x_labels`; values
// are formatted in `unit` (see FormatMetricValue).
std::string RenderLineChartSvg(std::string_view title, const std::vector<std::string>& x_labels,
                               const std::vector<ChartLine>& lines, std::string_view unit);

// One row of a forest plot: an estimate and its interval, in percent.
struct ForestRow {
  std::string label;
  double estimate = 0;
  double low = 0;
  double high = 0;
  // "better", "worse" or anything else (drawn neutral).
  std::string verdict;
};

// An SVG interval plot of the rows with a line at zero.
std::string RenderForestPlotSvg(std::string_view title, const std::vector<ForestRow>& rows);

// A metric value in its unit: "share" 0.861 -> "86.1%", "points" -> "12.3",
// "currency" -> "12.30", "hours" -> "5.2 h"; "n/a" for NaN.
std::string FormatMetricValue(double value, std::string_view unit);
// A difference in the metric's unit: shares in points ("+4.1 pts").
std::string FormatMetricDifference(double value, std::string_view unit);

// Escapes & < > " ' for HTML text and attributes.
std::string HtmlEscape(std::string_view text);

}  // namespace upfront
