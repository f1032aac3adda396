#include "upfront/expression.h"

#include <gtest/gtest.h>

#include <map>

namespace upfront {
namespace {

// Paths: signals.*.score (number), traits.plan (any), flags.vip (bool), threshold (number).
absl::StatusOr<PathInfo> Resolve(std::string_view path) {
  static const std::map<std::string, PathInfo, std::less<>> kPaths = {
      {"signals.friction.score", {0, ValueType::kNumber}},
      {"signals.friction.confidence", {1, ValueType::kNumber}},
      {"threshold", {2, ValueType::kNumber}},
      {"traits.plan", {3, ValueType::kAny}},
      {"flags.vip", {4, ValueType::kBool}},
      {"counts.contact_opened.30d", {5, ValueType::kNumber}},
  };
  auto it = kPaths.find(path);
  if (it == kPaths.end()) return absl::NotFoundError("unknown path '" + std::string(path) + "'");
  return it->second;
}

class Inputs : public ExpressionInputs {
 public:
  std::map<int, ExprValue> values;
  ExprValue Get(int slot) const override {
    auto it = values.find(slot);
    return it == values.end() ? ExprValue::Missing() : it->second;
  }
};

Expression Compile(const std::string& text) {
  auto e = Expression::Compile(text, Resolve);
  EXPECT_TRUE(e.ok()) << text << ": " << e.status();
  return std::move(e).value();
}

std::string CompileError(const std::string& text) {
  auto e = Expression::Compile(text, Resolve);
  EXPECT_FALSE(e.ok()) << text;
  return e.ok() ? "" : std::string(e.status().message());
}

TEST(Expression, ComparesAgainstTheThreshold) {
  Expression e = Compile("signals.friction.score >= threshold");
  Inputs in;
  in.values[0] = ExprValue::Number(0.6);
  in.values[2] = ExprValue::Number(0.6);
  EXPECT_TRUE(e.Evaluate(in));  // exactly at the threshold holds
  in.values[0] = ExprValue::Number(0.59);
  EXPECT_FALSE(e.Evaluate(in));
  EXPECT_EQ(e.slots(), (std::vector<int>{0, 2}));
}

TEST(Expression, CombinesWithPrecedenceAndParentheses) {
  Inputs in;
  in.values[0] = ExprValue::Number(0.9);
  in.values[3] = ExprValue::String("free");
  in.values[5] = ExprValue::Number(3);
  EXPECT_TRUE(Compile("signals.friction.score > 0.5 || traits.plan == 'enterprise' && false").Evaluate(in));
  EXPECT_FALSE(Compile("(signals.friction.score > 0.5 || traits.plan == 'enterprise') && false").Evaluate(in));
  EXPECT_TRUE(Compile("!(counts.contact_opened.30d > 5) && traits.plan != \"enterprise\"").Evaluate(in));
  EXPECT_TRUE(Compile("flags.vip || -1 < 0").Evaluate(in));
}

TEST(Expression, AMissingInputMakesTheConditionFalseAndIsReported) {
  Expression e = Compile("signals.friction.score >= 0.5 && signals.friction.confidence >= 0.3");
  Inputs in;
  in.values[0] = ExprValue::Number(0.9);
  std::vector<int> missing;
  EXPECT_FALSE(e.Evaluate(in, &missing));
  EXPECT_EQ(missing, std::vector<int>{1});
  // Negation does not turn "unknown" into "true".
  missing.clear();
  EXPECT_FALSE(Compile("!(signals.friction.confidence >= 0.3)").Evaluate(in, &missing));
  EXPECT_EQ(missing, std::vector<int>{1});
}

TEST(Expression, KnownOperandsDecideDespiteAMissingOne) {
  Inputs in;
  in.values[0] = ExprValue::Number(0.1);
  std::vector<int> missing;
  EXPECT_TRUE(Compile("signals.friction.score < 0.5 || signals.friction.confidence > 0.9").Evaluate(in, &missing));
  EXPECT_FALSE(Compile("signals.friction.score > 0.5 && signals.friction.confidence > 0.9").Evaluate(in, &missing));
  EXPECT_TRUE(missing.empty());  // the result did not depend on it
}

TEST(Expression, ReportsErrorsWithTheirColumn) {
  EXPECT_EQ(CompileError("signals.nope.score > 1"), "column 1: unknown path 'signals.nope.score'");
  EXPECT_EQ(CompileError("signals.friction.score >= 'high'"), "column 27: cannot compare a number with a string");
  EXPECT_EQ(CompileError("signals.friction.score"),
            "column 1: this is a number, not a condition; compare it, e.g. '>= 0.5' or '== \"x\"'");
  EXPECT_EQ(CompileError("(signals.friction.score > 1"), "column 28: missing ')'");
  EXPECT_EQ(CompileError("traits.plan == 'pro"), "column 16: unterminated string");
  EXPECT_EQ(CompileError("signals.friction.score > "), "column 26: the expression ends too early");
  EXPECT_EQ(CompileError("signals.friction.score > 1 )"), "column 28: unexpected ')'");
  EXPECT_EQ(CompileError("flags.vip && 3"),
            "column 14: this is a number, not a condition; compare it, e.g. '>= 0.5' or '== \"x\"'");
  EXPECT_EQ(CompileError("traits.plan > 'a'"), "column 1: '>' needs numbers");
}

TEST(Expression, ValuesOfAnotherTypeAtRunTimeAreNotEqual) {
  Inputs in;
  in.values[3] = ExprValue::Number(5);
  EXPECT_FALSE(Compile("traits.plan == 'enterprise'").Evaluate(in));
  EXPECT_TRUE(Compile("traits.plan != 'enterprise'").Evaluate(in));
  EXPECT_FALSE(Compile("traits.plan < 3").Evaluate(in));
}

TEST(Expression, SurvivesBeingMovedAndCopied) {
  Expression original = Compile("traits.plan == \"enterprise-plan-with-a-long-name\"");
  Expression copy = original;
  Expression moved = std::move(original);
  Inputs in;
  in.values[3] = ExprValue::String("enterprise-plan-with-a-long-name");
  EXPECT_TRUE(copy.Evaluate(in));
  EXPECT_TRUE(moved.Evaluate(in));
}

}  // namespace
}  // namespace upfront
