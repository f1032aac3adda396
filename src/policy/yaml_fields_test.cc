#include "src/policy/yaml_fields.h"

#include <gtest/gtest.h>

#include <string_view>

namespace upfront::policy_internal {
namespace {

constexpr std::string_view kKnown[] = {"version", "events", "outcomes", "signals"};

TEST(EditDistance, CountsEditsAndAdjacentSwapsAsOne) {
  EXPECT_EQ(EditDistance("events", "events"), 0);
  EXPECT_EQ(EditDistance("evnts", "events"), 1);   // deletion
  EXPECT_EQ(EditDistance("evnets", "events"), 1);  // swap
  EXPECT_EQ(EditDistance("eventz", "events"), 1);  // substitution
  EXPECT_EQ(EditDistance("", "abc"), 3);
  EXPECT_EQ(EditDistance("kitten", "sitting"), 3);
}

TEST(ClosestKey, SuggestsOnlyLikelyTypos) {
  EXPECT_EQ(ClosestKey("evnets", kKnown), "events");
  EXPECT_EQ(ClosestKey("signal", kKnown), "signals");
  EXPECT_EQ(ClosestKey("outcomez", kKnown), "outcomes");
  EXPECT_FALSE(ClosestKey("thresholds", kKnown).has_value());
}

TEST(MapEntries, ReportsAKeyWrittenTwiceAndKeepsTheFirst) {
  ErrorCollector errors("p.yaml");
  YAML::Node document = YAML::Load("a: 1\nb: 2\na: 3\n");
  std::vector<MapEntry> entries = MapEntries(RootField(document), &errors);
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].value.node.Scalar(), "1");
  std::vector<PolicyError> reported = errors.TakeSorted();
  ASSERT_EQ(reported.size(), 1u);
  EXPECT_EQ(reported[0].ToString(),
            "p.yaml:3:1: a: key 'a' is written twice in this map; keep one");
}

TEST(MapEntries, PointsAnEmptyValueAtItsKey) {
  ErrorCollector errors("p.yaml");
  YAML::Node document = YAML::Load("x: 1\nwindow:\ny: 2\n");
  std::vector<MapEntry> entries = MapEntries(RootField(document), &errors);
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_FALSE(ReadPositiveDuration(entries[1].value, &errors).has_value());
  std::vector<PolicyError> reported = errors.TakeSorted();
  ASSERT_EQ(reported.size(), 1u);
  EXPECT_EQ(reported[0].line, 2);
  EXPECT_EQ(reported[0].column, 1);
  EXPECT_EQ(reported[0].key, "window");
}

TEST(ReadPositiveDuration, RejectsZeroAndNonScalars) {
  ErrorCollector errors("p.yaml");
  YAML::Node document = YAML::Load("a: 0s\nb: [1h]\nc: 90s\n");
  std::vector<MapEntry> entries = MapEntries(RootField(document), &errors);
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_FALSE(ReadPositiveDuration(entries[0].value, &errors).has_value());
  EXPECT_FALSE(ReadPositiveDuration(entries[1].value, &errors).has_value());
  EXPECT_EQ(ReadPositiveDuration(entries[2].value, &errors), 90 * kMicrosPerSecond);
  std::vector<PolicyError> reported = errors.TakeSorted();
  ASSERT_EQ(reported.size(), 2u);
  EXPECT_EQ(reported[0].ToString(), "p.yaml:1:4: a: '0s' must be longer than zero");
  EXPECT_EQ(reported[1].ToString(),
            "p.yaml:2:4: b: must be a duration like 30s, 10m, 2h or 7d, found a list");
}

YAML::Mark MarkAt(int line, int column) {
  YAML::Mark mark;
  mark.line = line;
  mark.column = column;
  return mark;
}

TEST(ErrorCollector, SortsByLineThenColumn) {
  ErrorCollector errors("p.yaml");
  errors.Add(MarkAt(4, 2), "late", "x");
  errors.Add(MarkAt(1, 9), "early_right", "x");
  errors.Add(MarkAt(1, 0), "early_left", "x");
  errors.Add(YAML::Mark::null_mark(), "unplaced", "x");
  std::vector<PolicyError> sorted = errors.TakeSorted();
  ASSERT_EQ(sorted.size(), 4u);
  EXPECT_EQ(sorted[0].key, "unplaced");
  EXPECT_EQ(sorted[1].key, "early_left");
  EXPECT_EQ(sorted[2].key, "early_right");
  EXPECT_EQ(sorted[3].key, "late");
  EXPECT_EQ(sorted[3].line, 5);
  EXPECT_EQ(sorted[3].column, 3);
}

}  // namespace
}  // namespace upfront::policy_internal
