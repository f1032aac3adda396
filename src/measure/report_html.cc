#include "src/measure/report_html.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace upfront {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr const char* kTreatmentColor = "#1f5fbf";
constexpr const char* kHoldoutColor = "#7a7a7a";

double D(const nlohmann::json& j, std::string_view key) {
  if (!j.is_object()) return kNaN;
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<double>() : kNaN;
}

std::string S(const nlohmann::json& j, std::string_view key) {
  if (!j.is_object()) return "";
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

uint64_t U(const nlohmann::json& j, std::string_view key) {
  if (!j.is_object()) return 0;
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<uint64_t>() : 0;
}

bool B(const nlohmann::json& j, std::string_view key) {
  if (!j.is_object()) return false;
  auto it = j.find(key);
  return it != j.end() && it->is_boolean() && it->get<bool>();
}

const nlohmann::json& At(const nlohmann::json& j, std::string_view key) {
  static const nlohmann::json kNull;
  if (!j.is_object()) return kNull;
  auto it = j.find(key);
  return it != j.end() ? *it : kNull;
}

std::string FormatP(double p) {
  if (!std::isfinite(p)) return "n/a";
  if (p < 0.001) return "&lt; 0.001";
  return fmt::format("{:.3f}", p);
}

std::string VerdictText(std::string_view verdict) {
  if (verdict == "better") return "better";
  if (verdict == "worse") return "worse";
  if (verdict == "no_clear_difference") return "no clear difference";
  if (verdict == "not_enough_data") return "not enough data yet";
  if (verdict == "treatment_only") return "treated customers only";
  if (verdict == "no_holdout") return "no holdout to compare with";
  return "no data";
}

std::string VerdictClass(std::string_view verdict) {
  if (verdict == "better") return "better";
  if (verdict == "worse") return "worse";
  if (verdict == "not_enough_data" || verdict == "no_data") return "thin";
  return "neutral";
}

std::string Date(const std::string& timestamp) { return timestamp.substr(0, 10); }

// The metric catalog entry for `name`.
const nlohmann::json& CatalogEntry(const nlohmann::json& card, std::string_view name) {
  static const nlohmann::json kNull;
  for (const nlohmann::json& m : At(card, "metrics")) {
    if (S(m, "name") == name) return m;
  }
  return kNull;
}

constexpr const char* kStyle = R"(
body{font:15px/1.45 -apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#1d1d1f;margin:0;background:#f6f7f9}
main{max-width:1120px;margin:0 auto;padding:24px}
h1{font-size:26px;margin:0 0 4px} h2{font-size:19px;margin:32px 0 10px;border-bottom:1px solid #dde;padding-bottom:4px}
h3{font-size:16px;margin:18px 0 6px}
.meta{color:#555;margin:0}
.warnings{margin:16px 0}
.warning{background:#fde8e8;border:2px solid #c81e1e;color:#8a1010;padding:10px 14px;border-radius:6px;margin:8px 0;font-weight:600}
.warning.soft{background:#fff6e0;border-color:#d99b00;color:#6b4b00}
.summary{background:#fff;border-radius:8px;padding:12px 16px;box-shadow:0 1px 2px #0001}
.cards{display:flex;flex-wrap:wrap;gap:12px}
.card{background:#fff;border-radius:8px;padding:12px 14px;min-width:220px;flex:1;box-shadow:0 1px 2px #0001;border-top:5px solid #aab}
.card.better{border-top-color:#12833a}.card.worse{border-top-color:#c81e1e}.card.thin{border-top-color:#ddd}
.card .label{font-weight:600;color:#444}.card .value{font-size:30px;font-weight:700}
.card .vs,.card .ci,.card .p,.card .target{color:#555;font-size:13px}
.card .lift{font-size:16px;font-weight:600}
.badge{display:inline-block;border-radius:10px;padding:1px 9px;font-size:12px;font-weight:600;margin-top:4px;background:#eee;color:#333}
.badge.better{background:#dff3e4;color:#0d6a2e}.badge.worse{background:#fde8e8;color:#a01616}.badge.thin{background:#f3f3f3;color:#777}
table{border-collapse:collapse;width:100%;background:#fff;font-size:13px;margin:6px 0 12px}
th,td{padding:4px 8px;border-bottom:1px solid #eef;text-align:right;white-space:nowrap}
th:first-child,td:first-child,th.l,td.l{text-align:left}
th{background:#f0f2f6;font-weight:600}
tr.flag td{background:#fde8e8} td.bad{color:#a01616;font-weight:600} td.good{color:#0d6a2e;font-weight:600}
.charts{display:flex;flex-wrap:wrap;gap:12px}
.chart{background:#fff;border-radius:8px;padding:6px;box-shadow:0 1px 2px #0001}
details{margin:6px 0} summary{cursor:pointer;font-weight:600}
.note{color:#555;font-size:13px}
)";

// The entries of `by_metric` (an object keyed by metric name) in the
// catalog's order, headline metrics first, rather than alphabetically.
std::vector<std::pair<std::string, const nlohmann::json*>> InCatalogOrder(
    const nlohmann::json& card, const nlohmann::json& by_metric) {
  std::vector<std::pair<std::string, const nlohmann::json*>> out;
  if (!by_metric.is_object()) return out;
  for (const nlohmann::json& m : At(card, "metrics")) {
    const std::string name = S(m, "name");
    auto it = by_metric.find(name);
    if (it != by_metric.end()) out.emplace_back(name, &*it);
  }
  for (const auto& [name, value] : by_metric.items()) {
    if (std::none_of(out.begin(), out.end(), [&](const auto& e) { return e.first == name; })) {
      out.emplace_back(name, &value);
    }
  }
  return out;
}

class Page {
 public:
  explicit Page(const nlohmann::json& card) : card_(card) {}
  std::string Render();

 private:
  void Header();
  void Warnings();
  void Cards(const nlohmann::json& items);
  void Forests();
  void Series();
  void Comparisons();
  void Breakdowns();
  void Targets();
  void SignalQuality();
  void BiasAudit();
  void SampleRatios();
  void Method();
  void ResultRow(const std::string& first, const nlohmann::json& r, std::string_view unit);
  std::string Unit(std::string_view metric) const { return S(CatalogEntry(card_, metric), "unit"); }
  std::string Label(std::string_view metric) const {
    const std::string label = S(CatalogEntry(card_, metric), "label");
    return label.empty() ? std::string(metric) : label;
  }
  const nlohmann::json& Cohort() const {
    for (const nlohmann::json& c : At(card_, "comparisons")) {
      if (S(c, "id") == "cohort") return c;
    }
    static const nlohmann::json kNull;
    return kNull;
  }

  const nlohmann::json& card_;
  std::string out_;
};

void Page::Header() {
  const nlohmann::json& w = At(card_, "window");
  const nlohmann::json& p = At(card_, "population");
  const nlohmann::json& policy = At(card_, "policy");
  out_ += fmt::format(
      "<h1>Proactive support scorecard</h1>\n<p class=\"meta\">{} to {} ({:g} days, {}) &middot; "
      "{} active customers: {} treated, {} held out &middot; policy {} ({})</p>\n",
      HtmlEscape(Date(S(w, "from"))), HtmlEscape(Date(S(w, "to"))), D(w, "days"),
      HtmlEscape(S(w, "name")), U(p, "active_customers"), U(p, "treatment"), U(p, "holdout"),
      HtmlEscape(S(policy, "version")), HtmlEscape(S(policy, "content_hash")));
}

void Page::Warnings() {
  const nlohmann::json& warnings = At(card_, "warnings");
  if (!warnings.is_array() || warnings.empty()) return;
  out_ += "<section class=\"warnings\">\n";
  for (const nlohmann::json& w : warnings) {
    const std::string kind = S(w, "kind");
    const bool hard = kind == "sample_ratio_mismatch" || kind == "assignment_mismatch" ||
                      kind == "pre_period_imbalance";
    out_ +=
        fmt::format("<div class=\"warning{}\">{}{}</div>\n", hard ? "" : " soft",
                    kind == "sample_ratio_mismatch" ? "&#9888; " : "", HtmlEscape(S(w, "message")));
  }
  out_ += "</section>\n";
}

void Page::Cards(const nlohmann::json& items) {
  const double confidence = D(At(card_, "options"), "confidence");
  const std::string adjustment = S(At(card_, "options"), "adjustment") == "holm" ? "Holm" : "BH";
  out_ += "<div class=\"cards\">\n";
  for (const nlohmann::json& h : items) {
    const std::string unit = S(h, "unit");
    const std::string verdict = S(h, "verdict");
    out_ += fmt::format(
        "<div class=\"card {}\"><div class=\"label\">{}</div><div class=\"value\">{}</div>",
        VerdictClass(verdict), HtmlEscape(S(h, "label")),
        HtmlEscape(FormatMetricValue(D(h, "treatment"), unit)));
    if (std::isfinite(D(h, "control"))) {
      out_ += fmt::format("<div class=\"vs\">holdout {}</div>",
                          HtmlEscape(FormatMetricValue(D(h, "control"), unit)));
    }
    if (std::isfinite(D(h, "difference"))) {
      const double lift = D(h, "relative_lift");
      out_ += fmt::format("<div class=\"lift\">{}{}</div>",
                          HtmlEscape(FormatMetricDifference(D(h, "difference"), unit)),
                          std::isfinite(lift) ? fmt::format(" ({:+.1f}%)", 100 * lift) : "");
      out_ += fmt::format("<div class=\"ci\">{:.0f}% CI {} to {}</div>", 100 * confidence,
                          HtmlEscape(FormatMetricDifference(D(h, "ci_low"), unit)),
                          HtmlEscape(FormatMetricDifference(D(h, "ci_high"), unit)));
      out_ += fmt::format("<div class=\"p\">p = {} ({}-adjusted {})</div>",
                          FormatP(D(h, "p_value")), adjustment, FormatP(D(h, "p_adjusted")));
    }
    if (const nlohmann::json& year = At(h, "projected_annual");
        std::isfinite(D(year, "treatment"))) {
      out_ += fmt::format(
          "<div class=\"ci\">&asymp; {} a year at this pace{}</div>",
          HtmlEscape(FormatMetricValue(D(year, "treatment"), unit)),
          std::isfinite(D(year, "difference"))
              ? " (" + HtmlEscape(FormatMetricDifference(D(year, "difference"), unit)) + ")"
              : "");
    }
    if (h.contains("target")) {
      const double target = D(h, "target");
      const double actual = D(h, "treatment");
      const bool higher = B(h, "higher_is_better");
      const bool met = std::isfinite(actual) && (higher ? actual >= target : actual <= target);
      out_ += fmt::format("<div class=\"target\">target {} &middot; {}</div>",
                          HtmlEscape(FormatMetricValue(target, unit)),
                          std::isfinite(actual) ? (met ? "met" : "missed") : "no data");
    }
    out_ += fmt::format("<span class=\"badge {}\">{}</span></div>\n", VerdictClass(verdict),
                        VerdictText(verdict));
  }
  out_ += "</div>\n";
}

void Page::Forests() {
  bool any = false;
  for (const nlohmann::json& c : At(card_, "comparisons")) {
    const std::string kind = S(c, "kind");
    if (kind != "cohort" && kind != "experiment") continue;
    std::vector<ForestRow> rows;
    for (const auto& [metric, results] : InCatalogOrder(card_, At(c, "metrics"))) {
      const nlohmann::json& r = At(*results, "overall");
      const double control = D(r, "control");
      if (!std::isfinite(control) || control == 0 || !std::isfinite(D(r, "difference"))) continue;
      const double scale = 100 / std::fabs(control);
      rows.push_back({Label(metric), D(r, "difference") * scale, D(r, "ci_low") * scale,
                      D(r, "ci_high") * scale, S(r, "verdict")});
    }
    if (rows.empty()) continue;
    if (!any) out_ += "<h2>Lifts</h2>\n<div class=\"charts\">\n";
    any = true;
    out_ += "<div class=\"chart\">" +
            RenderForestPlotSvg(S(c, "label") + ": difference as % of " + S(c, "control"), rows) +
            "</div>\n";
  }
  if (any) {
    out_ +=
        "</div>\n<p class=\"note\">Each line is the interval of the difference, as a percentage of "
        "the "
        "control's value; green: called better, red: called worse (after adjustment), grey: not "
        "called.</p>\n";
  }
}

void Page::Series() {
  const nlohmann::json& series = At(card_, "series");
  const nlohmann::json& metrics = At(series, "metrics");
  if (!metrics.is_object() || metrics.empty()) return;
  std::vector<std::string> labels;
  for (const nlohmann::json& w : At(series, "weeks"))
    labels.push_back(Date(S(w, "from")).substr(5));
  out_ += "<h2>Over time (weekly, by cohort)</h2>\n<div class=\"charts\">\n";
  for (const auto& [metric, by_arm] : InCatalogOrder(card_, metrics)) {
    const nlohmann::json& arms = *by_arm;
    std::vector<ChartLine> lines;
    for (const char* arm : {"holdout", "treatment"}) {
      ChartLine line;
      line.name = arm;
      line.color = std::string_view(arm) == "holdout" ? kHoldoutColor : kTreatmentColor;
      line.dashed = std::string_view(arm) == "holdout";
      for (const nlohmann::json& v : At(arms, arm))
        line.values.push_back(v.is_number() ? v.get<double>() : kNaN);
      lines.push_back(std::move(line));
    }
    out_ += "<div class=\"chart\">" +
            RenderLineChartSvg(Label(metric), labels, lines, Unit(metric)) + "</div>\n";
  }
  out_ += "</div>\n";
}

void Page::ResultRow(const std::string& first, const nlohmann::json& r, std::string_view unit) {
  const std::string verdict = S(r, "verdict");
  const std::string cls = verdict == "better"  ? " class=\"good\""
                          : verdict == "worse" ? " class=\"bad\""
                                               : "";
  out_ += fmt::format(
      "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{} to "
      "{}</td><td>{}</td><td>{}</td><td>{}</td>"
      "<td>{}</td><td{}>{}</td></tr>\n",
      first, HtmlEscape(FormatMetricValue(D(r, "control"), unit)),
      HtmlEscape(FormatMetricValue(D(r, "treatment"), unit)),
      HtmlEscape(FormatMetricDifference(D(r, "difference"), unit)),
      HtmlEscape(FormatMetricDifference(D(r, "ci_low"), unit)),
      HtmlEscape(FormatMetricDifference(D(r, "ci_high"), unit)), FormatP(D(r, "p_value")),
      FormatP(D(r, "p_adjusted")), U(r, "n_control"), U(r, "n_treatment"), cls,
      VerdictText(verdict));
}

constexpr const char* kResultHeader =
    "<tr><th>{}</th><th>{}</th><th>{}</th><th>difference</th><th>interval</th><th>p</th><th>p "
    "adj.</th>"
    "<th>n {}</th><th>n {}</th><th>verdict</th></tr>\n";

void Page::Comparisons() {
  bool any = false;
  for (const nlohmann::json& c : At(card_, "comparisons")) {
    if (!any) out_ += "<h2>Comparisons</h2>\n";
    any = true;
    const nlohmann::json& customers = At(c, "customers");
    out_ += fmt::format("<h3>{}</h3>\n<p class=\"note\">{}: {} {} vs {} {} customers. {}</p>\n",
                        HtmlEscape(S(c, "label")), HtmlEscape(S(c, "population")),
                        U(customers, "treatment"), HtmlEscape(S(c, "treatment")),
                        U(customers, "control"), HtmlEscape(S(c, "control")),
                        HtmlEscape(S(At(c, "adjustment"), "primary")));
    out_ += "<table>\n" + fmt::format(fmt::runtime(kResultHeader), "metric",
                                      HtmlEscape(S(c, "control")), HtmlEscape(S(c, "treatment")),
                                      HtmlEscape(S(c, "control")), HtmlEscape(S(c, "treatment")));
    for (const auto& [metric, results] : InCatalogOrder(card_, At(c, "metrics"))) {
      const nlohmann::json& r = At(*results, "overall");
      if (!r.is_object()) continue;
      std::string first = HtmlEscape(Label(metric));
      if (r.contains("cuped")) first += " <span class=\"note\">(CUPED)</span>";
      ResultRow(first, r, Unit(metric));
    }
    out_ += "</table>\n";
  }
}

void Page::Breakdowns() {
  const nlohmann::json& cohort = Cohort();
  if (!cohort.is_object()) return;
  out_ += "<h2>Breakdowns (treatment vs holdout)</h2>\n";
  const std::pair<const char*, const char*> dims[] = {{"by_segment", "By segment"},
                                                      {"by_channel", "By channel"},
                                                      {"by_case_type", "By case type"},
                                                      {"by_hour", "By local hour of day"}};
  for (const auto& [key, title] : dims) {
    std::string rows;
    size_t count = 0;
    std::string saved;
    saved.swap(out_);
    for (const auto& [metric, results] : InCatalogOrder(card_, At(cohort, "metrics"))) {
      const nlohmann::json& values = At(*results, key);
      if (!values.is_object()) continue;
      for (const auto& [value, r] : values.items()) {
        ResultRow(HtmlEscape(Label(metric)) + " &middot; " + HtmlEscape(value), r, Unit(metric));
        ++count;
      }
    }
    rows.swap(out_);
    out_.swap(saved);
    if (count == 0) continue;
    out_ += fmt::format("<details{}><summary>{} ({} rows)</summary>\n<table>\n",
                        key == std::string_view("by_segment") ? " open" : "", title, count);
    out_ += fmt::format(fmt::runtime(kResultHeader), "metric &middot; value", "holdout",
                        "treatment", "holdout", "treatment");
    out_ += rows + "</table>\n</details>\n";
  }
  out_ += fmt::format("<p class=\"note\">{}</p>\n",
                      HtmlEscape(S(At(cohort, "adjustment"), "breakdowns")));
}

void Page::Targets() {
  const nlohmann::json& targets = At(card_, "targets");
  if (!targets.is_array() || targets.empty()) return;
  out_ +=
      "<h2>Targets (treated customers)</h2>\n<table>\n<tr><th>metric</th><th "
      "class=\"l\">segment</th>"
      "<th class=\"l\">channel</th><th>goal</th><th>actual</th><th>n</th><th>status</th></tr>\n";
  for (const nlohmann::json& t : targets) {
    const std::string metric = S(t, "metric");
    const std::string unit = Unit(metric);
    const std::string status = S(t, "status");
    out_ += fmt::format(
        "<tr><td>{}</td><td class=\"l\">{}</td><td class=\"l\">{}</td><td>{}</td><td>{}</td>"
        "<td>{}</td><td{}>{}</td></tr>\n",
        HtmlEscape(Label(metric)), HtmlEscape(S(t, "segment").empty() ? "all" : S(t, "segment")),
        HtmlEscape(S(t, "channel").empty() ? "all" : S(t, "channel")),
        HtmlEscape(FormatMetricValue(D(t, "goal"), unit)),
        HtmlEscape(FormatMetricValue(D(t, "actual"), unit)), U(t, "n"),
        status == "met"      ? " class=\"good\""
        : status == "missed" ? " class=\"bad\""
                             : "",
        HtmlEscape(status));
  }
  out_ += "</table>\n";
}

void Page::SignalQuality() {
  const nlohmann::json& sq = At(card_, "signal_quality");
  const nlohmann::json& interventions = At(sq, "interventions");
  if (!interventions.is_array() || interventions.empty()) return;
  out_ += fmt::format(
      "<h2>Signal quality</h2>\n<p class=\"note\">Precision: {}; bad outcome: {}.</p>\n",
      HtmlEscape(S(sq, "precision_definition")), HtmlEscape(S(sq, "bad_outcome")));
  auto table = [&](const nlohmann::json& rows, const char* key, const char* title) {
    out_ += fmt::format(
        "<table>\n<tr><th>{}</th><th class=\"l\">reads</th><th>holdout "
        "exposures</th><th>precision</th>"
        "<th>interval</th><th>treated: bad outcome</th><th>actions</th><th>accepted</th>"
        "<th>dismissed</th><th>noisy</th></tr>\n",
        title);
    for (const nlohmann::json& r : rows) {
      std::string reads;
      for (const nlohmann::json& s :
           At(r, std::string_view(key) == "intervention" ? "signals" : "interventions")) {
        reads += (reads.empty() ? "" : ", ") + HtmlEscape(s.get<std::string>());
      }
      const nlohmann::json& ci = At(r, "precision_ci");
      const bool noisy = B(r, "noisy");
      out_ += fmt::format(
          "<tr{}><td>{}</td><td class=\"l\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
          "<td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
          noisy ? " class=\"flag\"" : "", HtmlEscape(S(r, key)), reads, U(r, "holdout_exposures"),
          HtmlEscape(FormatMetricValue(D(r, "precision"), "share")),
          ci.is_array() && ci.size() == 2 && ci[0].is_number()
              ? HtmlEscape(FormatMetricValue(ci[0].get<double>(), "share") + " to " +
                           FormatMetricValue(ci[1].get<double>(), "share"))
              : "n/a",
          HtmlEscape(FormatMetricValue(D(r, "treatment_bad_outcome_rate"), "share")),
          U(r, "actions"), HtmlEscape(FormatMetricValue(D(r, "acceptance_rate"), "share")),
          HtmlEscape(FormatMetricValue(D(r, "dismissal_rate"), "share")), noisy ? "yes" : "");
    }
    out_ += "</table>\n";
  };
  table(interventions, "intervention", "intervention");
  const nlohmann::json& signals = At(sq, "signals");
  if (signals.is_array() && !signals.empty()) table(signals, "signal", "signal");
}

void Page::BiasAudit() {
  const nlohmann::json& audit = At(card_, "bias_audit");
  const nlohmann::json& segments = At(audit, "segments");
  if (!segments.is_array() || segments.empty()) return;
  out_ += fmt::format(
      "<h2>Bias audit</h2>\n<p class=\"note\">Rule: {}.</p>\n<table>\n<tr><th>segment</th>"
      "<th>customers</th><th>intervention rate</th><th>dismissal rate</th><th>complaint rate</th>"
      "<th>opt-out rate</th></tr>\n",
      HtmlEscape(S(audit, "rule")));
  const nlohmann::json& overall = At(audit, "overall");
  out_ += fmt::format(
      "<tr><td><b>overall</b></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
      U(overall, "customers"), FormatMetricValue(D(overall, "intervention_rate"), "share"),
      FormatMetricValue(D(overall, "dismissal_rate"), "share"),
      FormatMetricValue(D(overall, "complaint_rate"), "share"),
      FormatMetricValue(D(overall, "opt_out_rate"), "share"));
  for (const nlohmann::json& s : segments) {
    bool flagged = false;
    std::string cells;
    for (const char* rate :
         {"intervention_rate", "dismissal_rate", "complaint_rate", "opt_out_rate"}) {
      const nlohmann::json& r = At(s, rate);
      const bool flag = B(r, "flag");
      flagged = flagged || flag;
      const double ratio = D(r, "ratio_to_overall");
      cells += fmt::format("<td{}>{}{}</td>", flag ? " class=\"bad\"" : "",
                           FormatMetricValue(D(r, "value"), "share"),
                           std::isfinite(ratio) ? fmt::format(" ({:.2f}&times;)", ratio) : "");
    }
    out_ += fmt::format("<tr{}><td>{}</td><td>{}</td>{}</tr>\n", flagged ? " class=\"flag\"" : "",
                        HtmlEscape(S(s, "segment")), U(s, "customers"), cells);
  }
  out_ += "</table>\n";
}

void Page::SampleRatios() {
  const nlohmann::json& srm = At(card_, "srm");
  if (!srm.is_array() || srm.empty()) return;
  out_ +=
      "<h2>Sample ratio checks</h2>\n<table>\n<tr><th>comparison</th><th class=\"l\">observed "
      "(expected)</th>"
      "<th>&chi;&sup2;</th><th>p</th><th>result</th></tr>\n";
  for (const nlohmann::json& s : srm) {
    std::string arms;
    for (const nlohmann::json& a : At(s, "arms")) {
      arms += fmt::format("{}{} {} ({:.0f})", arms.empty() ? "" : ", ", HtmlEscape(S(a, "arm")),
                          U(a, "observed"), D(a, "expected"));
    }
    const bool mismatch = B(s, "mismatch");
    out_ += fmt::format(
        "<tr{}><td>{}</td><td class=\"l\">{}</td><td>{:.2f}</td><td>{}</td><td{}>{}</td></tr>\n",
        mismatch ? " class=\"flag\"" : "", HtmlEscape(S(s, "label")), arms, D(s, "chi_square"),
        FormatP(D(s, "p_value")), mismatch ? " class=\"bad\"" : "", mismatch ? "MISMATCH" : "ok");
  }
  out_ += "</table>\n";
}

void Page::Method() {
  const nlohmann::json& o = At(card_, "options");
  const nlohmann::json& w = At(card_, "window");
  out_ += "<h2>Method</h2>\n<p class=\"note\">";
  out_ += fmt::format(
      "Intervals at {:.0f}% confidence{}; a result is called only with at least {} per arm and an "
      "adjusted p below {:.2f}. p-values are adjusted with {} across every metric overall and by "
      "segment of each comparison (and separately across the finer breakdowns). ",
      100 * D(o, "confidence"),
      B(o, "sequential") ? ", always valid (sequential: safe to look every day)"
                         : " (fixed horizon)",
      U(o, "min_per_arm"), 1 - D(o, "confidence"),
      S(o, "adjustment") == "holm" ? "Holm's method (family-wise error)"
                                   : "Benjamini-Hochberg (false discovery rate)");
  out_ += fmt::format(
      "The pre-period baseline is {} to {}; follow-up windows are judged as of {}. Definitions: "
      "docs/metrics.md.</p>\n",
      HtmlEscape(Date(S(w, "pre_from"))), HtmlEscape(Date(S(w, "pre_to"))),
      HtmlEscape(S(w, "as_of")));
  const nlohmann::json& baseline = At(At(card_, "baseline"), "metrics");
  if (baseline.is_object() && !baseline.empty()) {
    out_ +=
        "<details><summary>Pre-period baseline (same customers, before the "
        "window)</summary>\n<table>\n";
    out_ += fmt::format(fmt::runtime(kResultHeader), "metric", "holdout", "treatment", "holdout",
                        "treatment");
    for (const auto& [metric, r] : InCatalogOrder(card_, baseline))
      ResultRow(HtmlEscape(Label(metric)), *r, Unit(metric));
    out_ += "</table>\n</details>\n";
  }
  out_ +=
      "<details><summary>Metric definitions</summary>\n<table>\n<tr><th>metric</th><th "
      "class=\"l\">definition</th>"
      "<th class=\"l\">method</th></tr>\n";
  for (const nlohmann::json& m : At(card_, "metrics")) {
    if (!B(m, "available")) continue;
    out_ += fmt::format(
        "<tr><td>{}</td><td class=\"l\" style=\"white-space:normal\">{}</td><td "
        "class=\"l\">{}</td></tr>\n",
        HtmlEscape(S(m, "label")), HtmlEscape(S(m, "definition")), HtmlEscape(S(m, "method")));
  }
  out_ += "</table>\n</details>\n";
}

std::string Page::Render() {
  out_ +=
      "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out_ += fmt::format(
      "<title>Upfront scorecard &middot; {}</title>\n<style>{}</style>\n</head><body><main>\n",
      HtmlEscape(S(At(card_, "policy"), "version")), kStyle);
  Header();
  Warnings();
  if (const std::string summary = S(card_, "summary"); !summary.empty()) {
    out_ += "<div class=\"summary\">" + HtmlEscape(summary) + "</div>\n";
  }
  out_ += "<h2>Headline</h2>\n";
  Cards(At(card_, "headline"));
  out_ += "<h2>Guardrails</h2>\n";
  Cards(At(card_, "guardrails"));
  Forests();
  Series();
  Comparisons();
  Breakdowns();
  Targets();
  SignalQuality();
  BiasAudit();
  SampleRatios();
  Method();
  out_ += fmt::format("<p class=\"note\">{} &middot; generated from data up to {}</p>\n",
                      HtmlEscape(S(card_, "schema")), HtmlEscape(S(At(card_, "window"), "as_of")));
  out_ += "</main></body></html>\n";
  return std::move(out_);
}

std::string Svg(double v) { return fmt::format("{:.1f}", v); }

}  // namespace

std::string HtmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string FormatMetricValue(double value, std::string_view unit) {
  if (!std::isfinite(value)) return "n/a";
  if (unit == "share") return fmt::format("{:.1f}%", 100 * value);
  if (unit == "points") return fmt::format("{:.1f}", value);
  if (unit == "currency") return fmt::format("{:.2f}", value);
  if (unit == "hours") return fmt::format("{:.1f} h", value);
  if (unit == "per day") return fmt::format("{:.3f}/day", value);
  return fmt::format("{:.2f}", value);
}

std::string FormatMetricDifference(double value, std::string_view unit) {
  if (!std::isfinite(value)) return "n/a";
  if (unit == "share") return fmt::format("{:+.1f} pts", 100 * value);
  if (unit == "points") return fmt::format("{:+.1f}", value);
  if (unit == "hours") return fmt::format("{:+.1f} h", value);
  if (unit == "per day") return fmt::format("{:+.3f}/day", value);
  return fmt::format("{:+.2f}", value);
}

std::string RenderLineChartSvg(std::string_view title, const std::vector<std::string>& x_labels,
                               const std::vector<ChartLine>& lines, std::string_view unit) {
  constexpr double kWidth = 500, kHeight = 230, kLeft = 64, kRight = 14, kTop = 30, kBottom = 34;
  const double plot_w = kWidth - kLeft - kRight, plot_h = kHeight - kTop - kBottom;
  size_t points = x_labels.size();
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (const ChartLine& l : lines) {
    points = std::max(points, l.values.size());
    for (double v : l.values) {
      if (!std::isfinite(v)) continue;
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
  }
  std::string out = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} "
      "{1}\" role=\"img\" "
      "aria-label=\"{2}\" font-family=\"sans-serif\" font-size=\"11\">\n<title>{2}</title>\n"
      "<text x=\"{3}\" y=\"18\" font-size=\"13\" font-weight=\"600\">{2}</text>\n",
      kWidth, kHeight, HtmlEscape(title), kLeft);
  if (!std::isfinite(lo)) {
    out += fmt::format("<text x=\"{}\" y=\"{}\" fill=\"#777\">no data yet</text>\n</svg>",
                       Svg(kLeft + 10), Svg(kTop + plot_h / 2));
    return out;
  }
  if (hi - lo < 1e-12) {
    const double pad = std::max(std::fabs(hi) * 0.05, 1e-3);
    lo -= pad;
    hi += pad;
  } else {
    const double pad = (hi - lo) * 0.08;
    lo -= pad;
    hi += pad;
  }
  auto x_of = [&](size_t i) {
    return kLeft + (points <= 1 ? plot_w / 2 : plot_w * static_cast<double>(i) / (points - 1));
  };
  auto y_of = [&](double v) { return kTop + plot_h * (1 - (v - lo) / (hi - lo)); };
  // Axes and grid.
  for (int t = 0; t <= 4; ++t) {
    const double v = lo + (hi - lo) * t / 4;
    const double y = y_of(v);
    out += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#e3e6ec\"/>\n",
                       Svg(kLeft), Svg(y), Svg(kLeft + plot_w), Svg(y));
    out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\" fill=\"#555\">{}</text>\n",
                       Svg(kLeft - 6), Svg(y + 4), HtmlEscape(FormatMetricValue(v, unit)));
  }
  out += fmt::format("<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\" stroke=\"#999\"/>\n",
                     Svg(kLeft), Svg(kTop), Svg(kTop + plot_h));
  const size_t step = std::max<size_t>(1, (x_labels.size() + 5) / 6);
  for (size_t i = 0; i < x_labels.size(); i += step) {
    out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#555\">{}</text>\n",
                       Svg(x_of(i)), Svg(kTop + plot_h + 16), HtmlEscape(x_labels[i]));
  }
  // Lines: one path per run of known values, and a dot per point.
  double legend_x = kWidth - kRight;
  for (size_t li = lines.size(); li-- > 0;) {
    const ChartLine& l = lines[li];
    std::string d;
    bool pen = false;
    for (size_t i = 0; i < l.values.size(); ++i) {
      if (!std::isfinite(l.values[i])) {
        pen = false;
        continue;
      }
      d += fmt::format("{}{},{} ", pen ? "L" : "M", Svg(x_of(i)), Svg(y_of(l.values[i])));
      pen = true;
    }
    if (!d.empty()) {
      out += fmt::format("<path d=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\"{}/>\n", d,
                         HtmlEscape(l.color), l.dashed ? " stroke-dasharray=\"5,4\"" : "");
    }
    for (size_t i = 0; i < l.values.size(); ++i) {
      if (!std::isfinite(l.values[i])) continue;
      out += fmt::format(
          "<circle cx=\"{}\" cy=\"{}\" r=\"2.5\" fill=\"{}\"><title>{} {}: {}</title></circle>\n",
          Svg(x_of(i)), Svg(y_of(l.values[i])), HtmlEscape(l.color), HtmlEscape(l.name),
          i < x_labels.size() ? HtmlEscape(x_labels[i]) : "",
          HtmlEscape(FormatMetricValue(l.values[i], unit)));
    }
    const double w = 18 + 7.0 * static_cast<double>(l.name.size());
    legend_x -= w;
    out += fmt::format(
        "<line x1=\"{0}\" y1=\"14\" x2=\"{1}\" y2=\"14\" stroke=\"{2}\" stroke-width=\"2\"{3}/>"
        "<text x=\"{4}\" y=\"18\" fill=\"#333\">{5}</text>\n",
        Svg(legend_x), Svg(legend_x + 12), HtmlEscape(l.color),
        l.dashed ? " stroke-dasharray=\"4,3\"" : "", Svg(legend_x + 15), HtmlEscape(l.name));
  }
  out += "</svg>";
  return out;
}

std::string RenderForestPlotSvg(std::string_view title, const std::vector<ForestRow>& rows) {
  constexpr double kWidth = 640, kLabel = 210, kRight = 70, kTop = 34, kRow = 24, kBottom = 30;
  const double plot_w = kWidth - kLabel - kRight;
  const double height = kTop + kRow * static_cast<double>(rows.size()) + kBottom;
  double span = 1;
  for (const ForestRow& r : rows) {
    for (double v : {r.estimate, r.low, r.high}) {
      if (std::isfinite(v)) span = std::max(span, std::fabs(v));
    }
  }
  span *= 1.1;
  auto x_of = [&](double v) {
    return kLabel + plot_w * (std::clamp(v, -span, span) + span) / (2 * span);
  };
  std::string out = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} "
      "{1}\" role=\"img\" "
      "aria-label=\"{2}\" font-family=\"sans-serif\" font-size=\"12\">\n<title>{2}</title>\n"
      "<text x=\"8\" y=\"18\" font-size=\"13\" font-weight=\"600\">{2}</text>\n",
      kWidth, Svg(height), HtmlEscape(title));
  const double axis_y = kTop + kRow * static_cast<double>(rows.size());
  for (int t = -2; t <= 2; ++t) {
    const double v = span / 1.1 * t / 2;
    out += fmt::format(
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#555\">{:+.1f}%</text>\n",
        Svg(x_of(v)), Svg(axis_y + 16), v);
    out += fmt::format("<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\" stroke=\"#eef0f4\"/>\n",
                       Svg(x_of(v)), Svg(kTop - 6), Svg(axis_y));
  }
  out += fmt::format(
      "<line class=\"zero\" x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\" stroke=\"#333\" "
      "stroke-dasharray=\"3,3\"/>\n",
      Svg(x_of(0)), Svg(kTop - 8), Svg(axis_y));
  for (size_t i = 0; i < rows.size(); ++i) {
    const ForestRow& r = rows[i];
    const double y = kTop + kRow * (static_cast<double>(i) + 0.5);
    const char* color = r.verdict == "better"  ? "#12833a"
                        : r.verdict == "worse" ? "#c81e1e"
                                               : "#6b7280";
    out += fmt::format("<text x=\"8\" y=\"{}\" fill=\"#222\">{}</text>\n", Svg(y + 4),
                       HtmlEscape(r.label));
    if (std::isfinite(r.low) && std::isfinite(r.high)) {
      out += fmt::format(
          "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"2.5\"/>\n",
          Svg(x_of(r.low)), Svg(y), Svg(x_of(r.high)), Svg(y), color);
    }
    if (std::isfinite(r.estimate)) {
      out += fmt::format(
          "<circle cx=\"{}\" cy=\"{}\" r=\"4.5\" fill=\"{}\"><title>{}: {:+.1f}% ({:+.1f}% to "
          "{:+.1f}%)</title></circle>\n",
          Svg(x_of(r.estimate)), Svg(y), color, HtmlEscape(r.label), r.estimate, r.low, r.high);
      out += fmt::format("<text x=\"{}\" y=\"{}\" fill=\"#333\">{:+.1f}%</text>\n",
                         Svg(kWidth - kRight + 8), Svg(y + 4), r.estimate);
    }
  }
  out += "</svg>";
  return out;
}

std::string RenderScorecardHtml(const nlohmann::json& scorecard) {
  return Page(scorecard).Render();
}

}  // namespace upfront
