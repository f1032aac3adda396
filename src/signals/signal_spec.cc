#include "src/signals/signal_spec.h"

#include <charconv>
#include <cmath>
#include <string>

namespace upfront {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// A whole-text number: "2", "-1.5", "1e3". Senders often put numbers in
// strings, so matching uses this on string values too.
bool ParseNumber(std::string_view s, double* out) {
  if (s.empty()) return false;
  const char* begin = s.data();
  if (*begin == '+') ++begin;
  auto [end, ec] = std::from_chars(begin, s.data() + s.size(), *out);
  return ec == std::errc() && end == s.data() + s.size() && std::isfinite(*out);
}

bool Compare(Predicate::Op op, double value, double operand) {
  switch (op) {
    case Predicate::Op::kLt: return value < operand;
    case Predicate::Op::kLe: return value <= operand;
    case Predicate::Op::kGt: return value > operand;
    case Predicate::Op::kGe: return value >= operand;
    default: return false;
  }
}

bool Equals(const Predicate& p, const FieldValue& value) {
  switch (value.kind) {
    case FieldValue::Kind::kString: return value.text == p.text;
    case FieldValue::Kind::kNumber: return p.has_number && value.number == p.number;
    case FieldValue::Kind::kBool: return p.text == (value.boolean ? "true" : "false");
    case FieldValue::Kind::kNull:
    case FieldValue::Kind::kJson: return false;
  }
  return false;
}

}  // namespace

std::string_view PredicateOpName(Predicate::Op op) {
  switch (op) {
    case Predicate::Op::kEq: return "eq";
    case Predicate::Op::kNe: return "ne";
    case Predicate::Op::kGlob: return "glob";
    case Predicate::Op::kLt: return "lt";
    case Predicate::Op::kLe: return "le";
    case Predicate::Op::kGt: return "gt";
    case Predicate::Op::kGe: return "ge";
  }
  return "eq";
}

bool GlobMatch(std::string_view pattern, std::string_view text) {
  // Greedy with one backtrack point (the last `*`): linear for the patterns
  // policies use, O(n·m) at worst, and no allocation.
  size_t p = 0, t = 0;
  size_t star = std::string_view::npos, star_text = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      star_text = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++star_text;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool Predicate::Matches(const FieldValue* value) const {
  if (value == nullptr || value->kind == FieldValue::Kind::kNull) return false;
  switch (op) {
    case Op::kEq: return Equals(*this, *value);
    case Op::kNe: return !Equals(*this, *value);
    case Op::kGlob: return value->kind == FieldValue::Kind::kString && GlobMatch(text, value->text);
    case Op::kLt:
    case Op::kLe:
    case Op::kGt:
    case Op::kGe: {
      double v;
      if (value->kind == FieldValue::Kind::kNumber) {
        v = value->number;
      } else if (value->kind != FieldValue::Kind::kString || !ParseNumber(value->text, &v)) {
        return false;
      }
      return Compare(op, v, number);
    }
  }
  return false;
}

absl::StatusOr<Predicate> ParsePredicate(std::string_view field,
                                         std::string_view yaml_scalar_text) {
  Predicate p;
  std::string_view name = field;
  if (name.substr(0, 11) == "properties.") name.remove_prefix(11);
  if (name.empty()) {
    return absl::InvalidArgumentError("where: a condition needs a property name");
  }
  if (name.find('.') != std::string_view::npos) {
    return absl::InvalidArgumentError("where." + std::string(field) +
                                      ": conditions match event properties by name, such as "
                                      "'path' or 'properties.path'");
  }
  p.property = std::string(name);
  const std::string where = "where." + p.property;

  std::string_view text = Trim(yaml_scalar_text);
  if (text.empty()) {
    return absl::InvalidArgumentError(
        where +
        ": is empty; write a value (\"card\"), a pattern (\"/checkout*\") "
        "or a comparison (\">= 2\")");
  }

  struct OpSpelling {
    std::string_view token;
    Predicate::Op op;
  };
  // Two-character operators first so ">=" is not read as ">" and "=2".
  static constexpr OpSpelling kOps[] = {
      {">=", Predicate::Op::kGe}, {"<=", Predicate::Op::kLe}, {"==", Predicate::Op::kEq},
      {"!=", Predicate::Op::kNe}, {">", Predicate::Op::kGt},  {"<", Predicate::Op::kLt},
  };
  for (const OpSpelling& spelling : kOps) {
    if (text.substr(0, spelling.token.size()) != spelling.token) continue;
    std::string_view operand = Trim(text.substr(spelling.token.size()));
    if (operand.size() >= 2 && (operand.front() == '"' || operand.front() == '\'') &&
        operand.back() == operand.front()) {
      operand = operand.substr(1, operand.size() - 2);
    } else if (operand.empty()) {
      return absl::InvalidArgumentError(where + ": '" + std::string(text) +
                                        "' needs a value after '" + std::string(spelling.token) +
                                        "'");
    }
    p.op = spelling.op;
    p.text = std::string(operand);
    p.has_number = ParseNumber(operand, &p.number);
    const bool ordering = p.op != Predicate::Op::kEq && p.op != Predicate::Op::kNe;
    if (ordering && !p.has_number) {
      return absl::InvalidArgumentError(where + ": '" + std::string(text) + "' compares with '" +
                                        std::string(operand) + "', which is not a number; '" +
                                        std::string(spelling.token) +
                                        "' needs a number such as 2 or 0.5");
    }
    return p;
  }

  p.text = std::string(text);
  if (text.find_first_of("*?") != std::string_view::npos) {
    p.op = Predicate::Op::kGlob;
    return p;
  }
  p.op = Predicate::Op::kEq;
  p.has_number = ParseNumber(text, &p.number);
  return p;
}

}  // namespace upfront
