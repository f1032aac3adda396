#include "src/server/control/policy_diff.h"

#include <gtest/gtest.h>

#include <string>

namespace upfront {
namespace {

std::string Lines(int from, int to) {
  std::string out;
  for (int i = from; i <= to; ++i) out += "line " + std::to_string(i) + "\n";
  return out;
}

std::string Diff(const std::string& a, const std::string& b, int context = 3) {
  return UnifiedDiff(a, b, "a", "b", context);
}

TEST(PolicyDiffTest, EqualTextsHaveNoDiff) {
  EXPECT_EQ(Diff("", ""), "");
  EXPECT_EQ(Diff(Lines(1, 5), Lines(1, 5)), "");
}

TEST(PolicyDiffTest, ChangedLineWithThreeLinesOfContext) {
  std::string b = Lines(1, 4) + "changed\n" + Lines(6, 10);
  EXPECT_EQ(Diff(Lines(1, 10), b),
            "--- a\n+++ b\n"
            "@@ -2,7 +2,7 @@\n"
            " line 2\n line 3\n line 4\n"
            "-line 5\n"
            "+changed\n"
            " line 6\n line 7\n line 8\n");
}

TEST(PolicyDiffTest, InsertionAtTheStartAndDeletionAtTheEnd) {
  EXPECT_EQ(Diff(Lines(1, 2), "new\n" + Lines(1, 2)),
            "--- a\n+++ b\n@@ -1,2 +1,3 @@\n+new\n line 1\n line 2\n");
  EXPECT_EQ(Diff(Lines(1, 5), Lines(1, 4)),
            "--- a\n+++ b\n@@ -2,4 +2,3 @@\n line 2\n line 3\n line 4\n-line 5\n");
  EXPECT_EQ(Diff("", Lines(1, 2)), "--- a\n+++ b\n@@ -0,0 +1,2 @@\n+line 1\n+line 2\n");
  EXPECT_EQ(Diff(Lines(1, 1), ""), "--- a\n+++ b\n@@ -1 +0,0 @@\n-line 1\n");
}

TEST(PolicyDiffTest, DistantChangesGetTheirOwnHunks) {
  std::string b = Lines(1, 19);
  b.replace(b.find("line 2\n"), 7, "two\n");
  b.replace(b.find("line 18\n"), 8, "eighteen\n");
  EXPECT_EQ(Diff(Lines(1, 19), b),
            "--- a\n+++ b\n"
            "@@ -1,5 +1,5 @@\n line 1\n-line 2\n+two\n line 3\n line 4\n line 5\n"
            "@@ -15,5 +15,5 @@\n line 15\n line 16\n line 17\n-line 18\n+eighteen\n line 19\n");
}

TEST(PolicyDiffTest, ChangesWithinTwiceTheContextShareAHunk) {
  std::string b = Lines(1, 12);
  b.replace(b.find("line 2\n"), 7, "two\n");
  b.replace(b.find("line 9\n"), 7, "nine\n");  // six unchanged lines between
  EXPECT_EQ(Diff(Lines(1, 12), b),
            "--- a\n+++ b\n"
            "@@ -1,12 +1,12 @@\n line 1\n-line 2\n+two\n line 3\n line 4\n line 5\n line 6\n"
            " line 7\n line 8\n-line 9\n+nine\n line 10\n line 11\n line 12\n");
}

TEST(PolicyDiffTest, FindsALongestCommonSubsequence) {
  // a b c a b b a -> c b a b a c: the LCS has 4 lines.
  auto text = [](std::string_view letters) {
    std::string out;
    for (char c : letters) out += std::string(1, c) + "\n";
    return out;
  };
  std::string diff = Diff(text("abcabba"), text("cbabac"), 10);
  int kept = 0;
  for (size_t at = diff.find("\n "); at != std::string::npos; at = diff.find("\n ", at + 1)) {
    ++kept;
  }
  EXPECT_EQ(kept, 4) << diff;
  EXPECT_EQ(diff.substr(0, 28), "--- a\n+++ b\n@@ -1,7 +1,6 @@\n");
}

TEST(PolicyDiffTest, MissingNewlineAtEndIsMarked) {
  EXPECT_EQ(Diff("x\ny", "x\ny\n"),
            "--- a\n+++ b\n@@ -1,2 +1,2 @@\n x\n-y\n\\ No newline at end of file\n+y\n");
}

}  // namespace
}  // namespace upfront
