// Reading a policy's YAML while collecting every problem instead of stopping at
// the first. Section parsers (events, outcomes, and later signals, models, ...)
// share these so every error has the same shape: file:line:column, the dotted
// key path, and a reason in the user's words.
//
//   ErrorCollector errors("policy.yaml");
//   YamlField root = RootField(document);
//   for (const MapEntry& entry : MapEntries(root, &errors)) { ... }
//   std::optional<Micros> window = ReadPositiveDuration(field, &errors);
//
// Internal to src/policy. Not thread-safe; one collector per load.
#pragma once

#include <yaml-cpp/yaml.h>

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "upfront/policy.h"
#include "upfront/time.h"

namespace upfront::policy_internal {

// Collects the errors of one policy file.
class ErrorCollector {
 public:
  explicit ErrorCollector(std::string file) : file_(std::move(file)) {}

  // `mark` is yaml-cpp's 0-based position; a null mark (-1) means unknown.
  void Add(const YAML::Mark& mark, std::string key, std::string message);

  bool empty() const { return errors_.empty(); }
  size_t size() const { return errors_.size(); }
  const std::string& file() const { return file_; }

  // The errors in file order (line, then column); stable for equal positions.
  std::vector<PolicyError> TakeSorted();

 private:
  std::string file_;
  std::vector<PolicyError> errors_;
};

// A value in the document together with where errors about it should point.
struct YamlField {
  YAML::Node node;
  std::string key;  // dotted path, e.g. "events.dedup_window"; "" for the root
  // The value's position, or its key's when the value is empty: yaml-cpp marks
  // an empty value at the start of the next line, which would mislead.
  YAML::Mark mark;
};

YamlField RootField(const YAML::Node& document);

// One `key: value` pair of a map.
struct MapEntry {
  std::string name;  // the key as written
  YAML::Mark key_mark;
  YamlField value;  // value.key is the parent's path joined with `name`
};

// "a.b" from "a" and "b"; just "b" when the parent is the root.
std::string JoinKey(std::string_view parent, std::string_view child);

// "a map", "a list", "nothing", "a value ('x')": for "found ..." in messages.
std::string DescribeNode(const YAML::Node& node);

bool IsEmpty(const YAML::Node& node);  // absent or null (`key:` with no value)

// The entries of a map in file order. Reports keys that are not plain scalars
// and keys written twice (the later one is dropped). REQUIRES: field is a map.
std::vector<MapEntry> MapEntries(const YamlField& field, ErrorCollector* errors);

// The items of a list, each keyed by the list's own path. REQUIRES: a list.
std::vector<YamlField> ListItems(const YamlField& field);

// Type checks. Each reports its own error ("must be a map, found a list") and
// returns false / nullopt so the caller can carry on with the next key.
// A section may be left empty (`signals:` alone); pass allow_empty for that.
bool ExpectMap(const YamlField& field, ErrorCollector* errors, bool allow_empty = false);
bool ExpectList(const YamlField& field, ErrorCollector* errors, bool allow_empty = false);

// A non-empty scalar.
std::optional<std::string> ReadString(const YamlField& field, ErrorCollector* errors);

// A list of non-empty scalars. Bad items are reported and skipped; `all_valid`
// (optional) tells whether any were skipped or the list itself was malformed.
std::vector<std::string> ReadStringList(const YamlField& field, ErrorCollector* errors,
                                        bool* all_valid = nullptr);

// A finite number within [min, max] (inclusive), e.g. a weight or a share.
std::optional<double> ReadNumber(const YamlField& field, ErrorCollector* errors,
                                 double min = -1e300, double max = 1e300);

// A whole number within [min, max].
std::optional<int> ReadInt(const YamlField& field, ErrorCollector* errors, int min, int max);

// A duration ("30s", "10m", "2h", "7d") strictly greater than zero.
std::optional<Micros> ReadPositiveDuration(const YamlField& field, ErrorCollector* errors);

// Reports `entry` as an unknown key of its map, naming the known keys and the
// closest one when it is likely a typo (edit distance at most 2).
void ReportUnknownKey(const MapEntry& entry, std::span<const std::string_view> known_keys,
                      ErrorCollector* errors);

// Optimal string alignment distance: insertions, deletions, substitutions and
// swaps of adjacent characters each cost 1, so "evnets" is 1 from "events".
int EditDistance(std::string_view a, std::string_view b);

// The known key nearest to `key` when within `max_distance`; ties go to the
// first in `known_keys`.
std::optional<std::string_view> ClosestKey(std::string_view key,
                                           std::span<const std::string_view> known_keys,
                                           int max_distance = 2);

}  // namespace upfront::policy_internal
