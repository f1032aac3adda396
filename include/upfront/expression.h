// The policy's expression language, for `when:` conditions and segments:
//
//   signals.checkout_friction.score >= threshold && traits.plan == "enterprise"
//   !(counts.contact_opened.30d > 2) || models.churn_risk.confidence < 0.5
//
// Numbers, strings ("..." or '...'), true/false, comparisons (== != < <= > >=),
// && || !, parentheses, and paths. What a path means is the caller's business:
// a PathResolver maps each path to a slot and a type at compile time, so
// unknown paths and type errors are found by `upfront check`, not at run time.
//
// Evaluation uses three-valued logic: a comparison with a missing input is
// unknown, `!unknown` is unknown, `false && unknown` is false, `true || unknown`
// is true. A condition that ends unknown does not hold, and the inputs that
// were missing are reported so the decision can record them.
//
// A compiled Expression is immutable and thread-safe; Evaluate allocates
// nothing.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "upfront/status.h"

namespace upfront {

enum class ValueType { kNumber, kString, kBool, kAny };

// A run-time input: a number, a string, a boolean, or missing.
struct ExprValue {
  enum class Kind { kMissing, kNumber, kString, kBool };
  Kind kind = Kind::kMissing;
  double number = 0;
  std::string_view text;
  bool boolean = false;
  static ExprValue Number(double v) { return {Kind::kNumber, v, {}, false}; }
  static ExprValue String(std::string_view v) { return {Kind::kString, 0, v, false}; }
  static ExprValue Bool(bool v) { return {Kind::kBool, 0, {}, v}; }
  static ExprValue Missing() { return {}; }
};

struct PathInfo {
  int slot = 0;
  ValueType type = ValueType::kAny;
};

// Maps a dotted path to its slot and type, or explains why it is not allowed
// (unknown signal, sensitive trait, ...).
using PathResolver = std::function<absl::StatusOr<PathInfo>(std::string_view path)>;

// Supplies slot values at evaluation time.
class ExpressionInputs {
 public:
  virtual ~ExpressionInputs() = default;
  virtual ExprValue Get(int slot) const = 0;
};

class Expression {
 public:
  // Errors read "column 12: ..." (1-based column in `text`).
  static absl::StatusOr<Expression> Compile(std::string_view text, const PathResolver& resolve);

  // True only when the condition holds with the inputs present. Slots of
  // missing inputs that made the result unknown are appended to `missing`.
  bool Evaluate(const ExpressionInputs& inputs, std::vector<int>* missing = nullptr) const;

  // The slots the expression reads, each once, in order of appearance.
  const std::vector<int>& slots() const { return slots_; }
  const std::string& text() const { return text_; }

 private:
  struct Node {
    enum class Op { kConst, kPath, kNot, kAnd, kOr, kEq, kNe, kLt, kLe, kGt, kGe };
    Op op = Op::kConst;
    int left = -1, right = -1;  // child nodes
    int slot = -1;              // kPath
    ExprValue constant;         // kConst; for strings, see string_index
    int string_index = -1;      // kConst string: index into strings_
    ValueType type = ValueType::kAny;
  };
  enum class Truth { kFalse, kTrue, kUnknown };

  friend class ExpressionParser;
  ExprValue Value(int node, const ExpressionInputs& inputs, std::vector<int>* missing) const;
  Truth Test(int node, const ExpressionInputs& inputs, std::vector<int>* missing) const;

  std::string text_;
  std::vector<std::string> strings_;  // string literals
  std::vector<Node> nodes_;
  int root_ = -1;
  std::vector<int> slots_;
};

}  // namespace upfront
