#include "src/policy/yaml_fields.h"

#include <fmt/format.h>

#include <cmath>

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "src/common/time_format.h"

namespace upfront::policy_internal {
namespace {

bool IsKnownMark(const YAML::Mark& mark) { return mark.line >= 0 && mark.column >= 0; }

// Where to point at a value found under a key; see YamlField::mark.
YAML::Mark ValueMark(const YAML::Node& value, const YAML::Mark& key_mark) {
  if (IsEmpty(value) || !IsKnownMark(value.Mark())) return key_mark;
  return value.Mark();
}

}  // namespace

void ErrorCollector::Add(const YAML::Mark& mark, std::string key, std::string message) {
  PolicyError error;
  error.file = file_;
  if (IsKnownMark(mark)) {
    error.line = mark.line + 1;
    error.column = mark.column + 1;
  }
  error.key = std::move(key);
  error.message = std::move(message);
  errors_.push_back(std::move(error));
}

std::vector<PolicyError> ErrorCollector::TakeSorted() {
  // Sections are checked in dependency order (events before outcomes), but a
  // user reads the file top to bottom, so that is the order we report in.
  std::stable_sort(errors_.begin(), errors_.end(), [](const PolicyError& a, const PolicyError& b) {
    if (a.line != b.line) return a.line < b.line;
    return a.column < b.column;
  });
  return std::move(errors_);
}

YamlField RootField(const YAML::Node& document) { return YamlField{document, "", document.Mark()}; }

std::string JoinKey(std::string_view parent, std::string_view child) {
  if (parent.empty()) return std::string(child);
  // Plain concatenation: this absl build's string_view is not std::string_view,
  // so absl::StrCat does not take std::string_view arguments.
  std::string key(parent);
  key += '.';
  key += child;
  return key;
}

bool IsEmpty(const YAML::Node& node) { return !node.IsDefined() || node.IsNull(); }

std::string DescribeNode(const YAML::Node& node) {
  if (IsEmpty(node)) return "nothing";
  if (node.IsMap()) return "a map";
  if (node.IsSequence()) return "a list";
  if (node.IsScalar()) {
    std::string text = node.Scalar();
    if (text.size() > 40) text = absl::StrCat(text.substr(0, 37), "...");
    return absl::StrCat("'", text, "'");
  }
  return "an unreadable value";
}

std::vector<MapEntry> MapEntries(const YamlField& field, ErrorCollector* errors) {
  std::vector<MapEntry> entries;
  std::set<std::string> seen;
  // Range-for, not it->first: yaml-cpp's operator-> hands out a temporary,
  // so a reference to its member would dangle.
  for (const auto& pair : field.node) {
    const YAML::Node key_node = pair.first;
    const YAML::Node value = pair.second;
    if (!key_node.IsScalar()) {
      errors->Add(key_node.Mark(), field.key,
                  absl::StrCat("a key must be a plain name, found ", DescribeNode(key_node)));
      continue;
    }
    MapEntry entry;
    entry.name = key_node.Scalar();
    entry.key_mark = key_node.Mark();
    std::string path = JoinKey(field.key, entry.name);
    if (!seen.insert(entry.name).second) {
      // yaml-cpp keeps both pairs; silently taking either would hide a mistake.
      errors->Add(entry.key_mark, path,
                  absl::StrCat("key '", entry.name, "' is written twice in this map; keep one"));
      continue;
    }
    entry.value = YamlField{value, std::move(path), ValueMark(value, entry.key_mark)};
    entries.push_back(std::move(entry));
  }
  return entries;
}

std::vector<YamlField> ListItems(const YamlField& field) {
  std::vector<YamlField> items;
  for (const YAML::Node& item : field.node) {
    items.push_back(YamlField{item, field.key, ValueMark(item, field.mark)});
  }
  return items;
}

bool ExpectMap(const YamlField& field, ErrorCollector* errors, bool allow_empty) {
  if (field.node.IsMap()) return true;
  if (allow_empty && IsEmpty(field.node)) return false;
  errors->Add(field.mark, field.key,
              absl::StrCat("must be a map, found ", DescribeNode(field.node)));
  return false;
}

bool ExpectList(const YamlField& field, ErrorCollector* errors, bool allow_empty) {
  if (field.node.IsSequence()) return true;
  if (allow_empty && IsEmpty(field.node)) return false;
  errors->Add(field.mark, field.key,
              absl::StrCat("must be a list, like [a, b], found ", DescribeNode(field.node)));
  return false;
}

std::optional<std::string> ReadString(const YamlField& field, ErrorCollector* errors) {
  if (!field.node.IsScalar()) {
    errors->Add(field.mark, field.key,
                absl::StrCat("must be a text value, found ", DescribeNode(field.node)));
    return std::nullopt;
  }
  if (field.node.Scalar().empty()) {
    errors->Add(field.mark, field.key, "must not be empty");
    return std::nullopt;
  }
  return field.node.Scalar();
}

std::vector<std::string> ReadStringList(const YamlField& field, ErrorCollector* errors,
                                        bool* all_valid) {
  std::vector<std::string> values;
  bool valid = ExpectList(field, errors);
  if (valid) {
    for (const YamlField& item : ListItems(field)) {
      if (std::optional<std::string> value = ReadString(item, errors)) {
        values.push_back(*std::move(value));
      } else {
        valid = false;
      }
    }
  }
  if (all_valid != nullptr) *all_valid = valid;
  return values;
}

std::optional<double> ReadNumber(const YamlField& field, ErrorCollector* errors, double min,
                                 double max) {
  double value = 0;
  const bool parsed = field.node.IsScalar() && YAML::convert<double>::decode(field.node, value) &&
                      std::isfinite(value);
  if (!parsed) {
    errors->Add(field.mark, field.key,
                absl::StrCat("must be a number, found ", DescribeNode(field.node)));
    return std::nullopt;
  }
  if (value < min || value > max) {
    errors->Add(field.mark, field.key,
                fmt::format("must be between {} and {}, found {}", min, max, field.node.Scalar()));
    return std::nullopt;
  }
  return value;
}

std::optional<int> ReadInt(const YamlField& field, ErrorCollector* errors, int min, int max) {
  std::optional<double> value = ReadNumber(field, errors, min, max);
  if (!value) return std::nullopt;
  if (*value != std::floor(*value)) {
    errors->Add(field.mark, field.key,
                absl::StrCat("must be a whole number, found ", field.node.Scalar()));
    return std::nullopt;
  }
  return static_cast<int>(*value);
}

std::optional<Micros> ReadPositiveDuration(const YamlField& field, ErrorCollector* errors) {
  if (!field.node.IsScalar()) {
    errors->Add(field.mark, field.key,
                absl::StrCat("must be a duration like 30s, 10m, 2h or 7d, found ",
                             DescribeNode(field.node)));
    return std::nullopt;
  }
  absl::StatusOr<Micros> duration = ParseDuration(field.node.Scalar());
  if (!duration.ok()) {
    errors->Add(field.mark, field.key, std::string(duration.status().message()));
    return std::nullopt;
  }
  if (*duration <= 0) {
    errors->Add(field.mark, field.key,
                absl::StrCat("'", field.node.Scalar(), "' must be longer than zero"));
    return std::nullopt;
  }
  return *duration;
}

void ReportUnknownKey(const MapEntry& entry, std::span<const std::string_view> known_keys,
                      ErrorCollector* errors) {
  std::string message = absl::StrCat("unknown key '", entry.name, "'; ");
  if (std::optional<std::string_view> closest = ClosestKey(entry.name, known_keys)) {
    message += "did you mean '";
    message += *closest;
    message += "'? ";
  }
  message += "known keys are ";
  for (size_t i = 0; i < known_keys.size(); ++i) {
    if (i > 0) message += ", ";
    message += known_keys[i];
  }
  errors->Add(entry.key_mark, entry.value.key, std::move(message));
}

int EditDistance(std::string_view a, std::string_view b) {
  // Three rolling rows suffice: a swap looks back two rows.
  const size_t n = b.size();
  std::vector<int> before_previous(n + 1), previous(n + 1), current(n + 1);
  for (size_t j = 0; j <= n; ++j) previous[j] = static_cast<int>(j);
  for (size_t i = 1; i <= a.size(); ++i) {
    current[0] = static_cast<int>(i);
    for (size_t j = 1; j <= n; ++j) {
      const int substitution = a[i - 1] == b[j - 1] ? 0 : 1;
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1, previous[j - 1] + substitution});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        current[j] = std::min(current[j], before_previous[j - 2] + 1);
      }
    }
    std::swap(before_previous, previous);
    std::swap(previous, current);
  }
  return previous[n];
}

std::optional<std::string_view> ClosestKey(std::string_view key,
                                           std::span<const std::string_view> known_keys,
                                           int max_distance) {
  std::optional<std::string_view> closest;
  int closest_distance = max_distance + 1;
  for (std::string_view known : known_keys) {
    const int distance = EditDistance(key, known);
    if (distance < closest_distance) {
      closest = known;
      closest_distance = distance;
    }
  }
  return closest;
}

}  // namespace upfront::policy_internal
