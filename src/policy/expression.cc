#include "upfront/expression.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include <fmt/format.h>

namespace upfront {

// Recursive descent over the text; builds Expression::nodes_ bottom-up.
class ExpressionParser {
 public:
  ExpressionParser(std::string_view text, const PathResolver& resolve, Expression* out)
      : text_(text), resolve_(resolve), out_(out) {}

  absl::Status Parse() {
    SkipSpace();
    const size_t start = pos_;
    UPFRONT_ASSIGN_OR_RETURN(int root, ParseOr());
    SkipSpace();
    if (pos_ < text_.size()) return Error(fmt::format("unexpected '{}'", text_.substr(pos_, 8)));
    UPFRONT_RETURN_IF_ERROR(RequireCondition(root, start));
    out_->root_ = root;
    return absl::OkStatus();
  }

 private:
  using Node = Expression::Node;
  using Op = Node::Op;

  absl::Status Error(std::string message, size_t at) const {
    return absl::InvalidArgumentError(fmt::format("column {}: {}", at + 1, message));
  }
  absl::Status Error(std::string message) const { return Error(std::move(message), pos_); }

  void SkipSpace() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n')) ++pos_;
  }
  bool Consume(std::string_view token) {
    SkipSpace();
    if (text_.substr(pos_, token.size()) != token) return false;
    pos_ += token.size();
    return true;
  }

  int Add(Node node) {
    out_->nodes_.push_back(node);
    return static_cast<int>(out_->nodes_.size() - 1);
  }

  // && and || and ! need something true or false underneath.
  absl::Status RequireCondition(int node, size_t at) const {
    const Node& n = out_->nodes_[node];
    if (n.type == ValueType::kBool || n.type == ValueType::kAny) return absl::OkStatus();
    std::string what = n.type == ValueType::kNumber ? "a number" : "a string";
    return Error(fmt::format("this is {}, not a condition; compare it, e.g. '>= 0.5' or '== \"x\"'", what), at);
  }

  absl::StatusOr<int> ParseOr() {
    SkipSpace();
    size_t at = pos_;
    UPFRONT_ASSIGN_OR_RETURN(int left, ParseAnd());
    while (true) {
      if (!Consume("||")) return left;
      UPFRONT_RETURN_IF_ERROR(RequireCondition(left, at));
      SkipSpace();
      size_t right_at = pos_;
      UPFRONT_ASSIGN_OR_RETURN(int right, ParseAnd());
      UPFRONT_RETURN_IF_ERROR(RequireCondition(right, right_at));
      left = Add({Op::kOr, left, right, -1, {}, -1, ValueType::kBool});
    }
  }

  absl::StatusOr<int> ParseAnd() {
    SkipSpace();
    size_t at = pos_;
    UPFRONT_ASSIGN_OR_RETURN(int left, ParseUnary());
    while (true) {
      if (!Consume("&&")) return left;
      UPFRONT_RETURN_IF_ERROR(RequireCondition(left, at));
      SkipSpace();
      size_t right_at = pos_;
      UPFRONT_ASSIGN_OR_RETURN(int right, ParseUnary());
      UPFRONT_RETURN_IF_ERROR(RequireCondition(right, right_at));
      left = Add({Op::kAnd, left, right, -1, {}, -1, ValueType::kBool});
    }
  }

  absl::StatusOr<int> ParseUnary() {
    SkipSpace();
    if (pos_ < text_.size() && text_[pos_] == '!' && text_.substr(pos_, 2) != "!=") {
      ++pos_;
      SkipSpace();
      size_t at = pos_;
      UPFRONT_ASSIGN_OR_RETURN(int operand, ParseUnary());
      UPFRONT_RETURN_IF_ERROR(RequireCondition(operand, at));
      return Add({Op::kNot, operand, -1, -1, {}, -1, ValueType::kBool});
    }
    return ParseComparison();
  }

  absl::StatusOr<int> ParseComparison() {
    SkipSpace();
    size_t at = pos_;
    UPFRONT_ASSIGN_OR_RETURN(int left, ParsePrimary());
    struct Cmp {
      std::string_view token;
      Op op;
    };
    static constexpr Cmp kOps[] = {{"==", Op::kEq}, {"!=", Op::kNe}, {"<=", Op::kLe},
                                   {">=", Op::kGe}, {"<", Op::kLt},  {">", Op::kGt}};
    SkipSpace();
    for (const Cmp& c : kOps) {
      if (!Consume(c.token)) continue;
      SkipSpace();
      size_t right_at = pos_;
      UPFRONT_ASSIGN_OR_RETURN(int right, ParsePrimary());
      ValueType a = out_->nodes_[left].type, b = out_->nodes_[right].type;
      bool ordering = c.op != Op::kEq && c.op != Op::kNe;
      if (a != ValueType::kAny && b != ValueType::kAny && a != b) {
        return Error(fmt::format("cannot compare {} with {}", TypeName(a), TypeName(b)), right_at);
      }
      if (ordering && (a == ValueType::kBool || b == ValueType::kBool || a == ValueType::kString ||
                       b == ValueType::kString)) {
        return Error(fmt::format("'{}' needs numbers", c.token), at);
      }
      return Add({c.op, left, right, -1, {}, -1, ValueType::kBool});
    }
    return left;
  }

  static std::string_view TypeName(ValueType t) {
    switch (t) {
      case ValueType::kNumber: return "a number";
      case ValueType::kString: return "a string";
      case ValueType::kBool: return "a boolean";
      default: return "a value";
    }
  }

  absl::StatusOr<int> ParsePrimary() {
    SkipSpace();
    if (pos_ >= text_.size()) return Error("the expression ends too early");
    const char c = text_[pos_];
    if (c == '(') {
      ++pos_;
      UPFRONT_ASSIGN_OR_RETURN(int inner, ParseOr());
      if (!Consume(")")) return Error("missing ')'");
      return inner;
    }
    if (c == '"' || c == '\'') {
      size_t start = ++pos_;
      while (pos_ < text_.size() && text_[pos_] != c) ++pos_;
      if (pos_ >= text_.size()) return Error("unterminated string", start - 1);
      out_->strings_.emplace_back(text_.substr(start, pos_ - start));
      ++pos_;
      Node n{Op::kConst, -1, -1, -1, ExprValue::String({}), static_cast<int>(out_->strings_.size() - 1),
             ValueType::kString};
      return Add(n);
    }
    if ((c >= '0' && c <= '9') || c == '-' || c == '.') {
      double v = 0;
      auto [end, ec] = std::from_chars(text_.data() + pos_, text_.data() + text_.size(), v);
      if (ec != std::errc()) return Error("not a number");
      pos_ = static_cast<size_t>(end - text_.data());
      return Add({Op::kConst, -1, -1, -1, ExprValue::Number(v), -1, ValueType::kNumber});
    }
    if (IsWordChar(c)) {
      size_t start = pos_;
      while (pos_ < text_.size() && (IsWordChar(text_[pos_]) || text_[pos_] == '.')) ++pos_;
      std::string_view word = text_.substr(start, pos_ - start);
      if (word == "true" || word == "false") {
        return Add({Op::kConst, -1, -1, -1, ExprValue::Bool(word == "true"), -1, ValueType::kBool});
      }
      absl::StatusOr<PathInfo> info = resolve_(word);
      if (!info.ok()) return Error(std::string(info.status().message()), start);
      if (std::find(out_->slots_.begin(), out_->slots_.end(), info->slot) == out_->slots_.end()) {
        out_->slots_.push_back(info->slot);
      }
      return Add({Op::kPath, -1, -1, info->slot, {}, -1, info->type});
    }
    return Error(fmt::format("unexpected '{}'", c));
  }

  static bool IsWordChar(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  }

  std::string_view text_;
  const PathResolver& resolve_;
  Expression* out_;
  size_t pos_ = 0;
};

absl::StatusOr<Expression> Expression::Compile(std::string_view text, const PathResolver& resolve) {
  Expression e;
  e.text_ = std::string(text);
  ExpressionParser parser(e.text_, resolve, &e);
  UPFRONT_RETURN_IF_ERROR(parser.Parse());
  return e;
}

ExprValue Expression::Value(int node, const ExpressionInputs& inputs, std::vector<int>* missing) const {
  const Node& n = nodes_[node];
  if (n.op == Node::Op::kConst) {
    return n.string_index >= 0 ? ExprValue::String(strings_[n.string_index]) : n.constant;
  }
  if (n.op == Node::Op::kPath) {
    ExprValue v = inputs.Get(n.slot);
    if (v.kind == ExprValue::Kind::kMissing && missing &&
        std::find(missing->begin(), missing->end(), n.slot) == missing->end()) {
      missing->push_back(n.slot);
    }
    return v;
  }
  Truth t = Test(node, inputs, missing);
  return t == Truth::kUnknown ? ExprValue::Missing() : ExprValue::Bool(t == Truth::kTrue);
}

Expression::Truth Expression::Test(int node, const ExpressionInputs& inputs, std::vector<int>* missing) const {
  const Node& n = nodes_[node];
  switch (n.op) {
    case Node::Op::kConst:
    case Node::Op::kPath: {
      ExprValue v = Value(node, inputs, missing);
      if (v.kind == ExprValue::Kind::kMissing) return Truth::kUnknown;
      return v.kind == ExprValue::Kind::kBool && v.boolean ? Truth::kTrue : Truth::kFalse;
    }
    case Node::Op::kNot: {
      Truth t = Test(n.left, inputs, missing);
      return t == Truth::kUnknown ? t : t == Truth::kTrue ? Truth::kFalse : Truth::kTrue;
    }
    case Node::Op::kAnd: {
      Truth l = Test(n.left, inputs, missing);
      if (l == Truth::kFalse) return l;
      Truth r = Test(n.right, inputs, missing);
      if (r == Truth::kFalse) return r;
      return l == Truth::kTrue && r == Truth::kTrue ? Truth::kTrue : Truth::kUnknown;
    }
    case Node::Op::kOr: {
      Truth l = Test(n.left, inputs, missing);
      if (l == Truth::kTrue) return l;
      Truth r = Test(n.right, inputs, missing);
      if (r == Truth::kTrue) return r;
      return l == Truth::kFalse && r == Truth::kFalse ? Truth::kFalse : Truth::kUnknown;
    }
    default:
      break;
  }
  // Nearly every comparison is a path against a constant (score > 0.7) or
  // against another path (score >= threshold): read both here rather than
  // through two calls of Value.
  const Node& l = nodes_[n.left];
  const Node& r = nodes_[n.right];
  const ExprValue a = l.op == Node::Op::kPath && missing == nullptr ? inputs.Get(l.slot) : Value(n.left, inputs, missing);
  const ExprValue b = r.op == Node::Op::kConst && r.string_index < 0 ? r.constant
                      : r.op == Node::Op::kPath && missing == nullptr ? inputs.Get(r.slot)
                                                                      : Value(n.right, inputs, missing);
  if (a.kind == ExprValue::Kind::kMissing || b.kind == ExprValue::Kind::kMissing) return Truth::kUnknown;
  auto truth = [](bool v) { return v ? Truth::kTrue : Truth::kFalse; };
  if (a.kind != b.kind) return truth(n.op == Node::Op::kNe);  // e.g. a trait of another type
  int cmp = 0;
  switch (a.kind) {
    case ExprValue::Kind::kNumber: cmp = a.number < b.number ? -1 : a.number > b.number ? 1 : 0; break;
    case ExprValue::Kind::kString: cmp = a.text.compare(b.text); break;
    case ExprValue::Kind::kBool: cmp = static_cast<int>(a.boolean) - static_cast<int>(b.boolean); break;
    default: break;
  }
  switch (n.op) {
    case Node::Op::kEq: return truth(cmp == 0);
    case Node::Op::kNe: return truth(cmp != 0);
    case Node::Op::kLt: return truth(a.kind == ExprValue::Kind::kNumber && cmp < 0);
    case Node::Op::kLe: return truth(a.kind == ExprValue::Kind::kNumber && cmp <= 0);
    case Node::Op::kGt: return truth(a.kind == ExprValue::Kind::kNumber && cmp > 0);
    case Node::Op::kGe: return truth(a.kind == ExprValue::Kind::kNumber && cmp >= 0);
    default: return Truth::kFalse;
  }
}

bool Expression::Evaluate(const ExpressionInputs& inputs, std::vector<int>* missing) const {
  Truth t = Test(root_, inputs, nullptr);
  if (t == Truth::kUnknown && missing) Test(root_, inputs, missing);
  return t == Truth::kTrue;
}

}  // namespace upfront
