#include "src/signals/signal_spec.h"

#include <gtest/gtest.h>

namespace upfront {
namespace {

Predicate Parse(std::string_view field, std::string_view text) {
  absl::StatusOr<Predicate> p = ParsePredicate(field, text);
  EXPECT_TRUE(p.ok()) << p.status();
  return p.ok() ? *p : Predicate{};
}

std::string ParseError(std::string_view field, std::string_view text) {
  absl::StatusOr<Predicate> p = ParsePredicate(field, text);
  EXPECT_FALSE(p.ok());
  return p.ok() ? "" : std::string(p.status().message());
}

FieldValue Text(std::string s) {
  FieldValue v;
  v.kind = FieldValue::Kind::kString;
  v.text = std::move(s);
  return v;
}

FieldValue Number(double n) {
  FieldValue v;
  v.kind = FieldValue::Kind::kNumber;
  v.number = n;
  return v;
}

TEST(ParsePredicate, AStarOrQuestionMarkMakesAGlob) {
  Predicate p = Parse("path", "/checkout*");
  EXPECT_EQ(p.property, "path");
  EXPECT_EQ(p.op, Predicate::Op::kGlob);
  EXPECT_EQ(p.text, "/checkout*");
  EXPECT_EQ(Parse("path", "/step-?").op, Predicate::Op::kGlob);
}

TEST(ParsePredicate, ComparisonsNeedANumber) {
  Predicate ge = Parse("delay_days", ">= 2");
  EXPECT_EQ(ge.op, Predicate::Op::kGe);
  EXPECT_TRUE(ge.has_number);
  EXPECT_EQ(ge.number, 2);
  EXPECT_EQ(Parse("x", ">3").op, Predicate::Op::kGt);
  EXPECT_EQ(Parse("x", "<  0.5").number, 0.5);
  EXPECT_EQ(Parse("x", "<=-1").number, -1);
  EXPECT_EQ(Parse("x", "<=-1").op, Predicate::Op::kLe);

  EXPECT_EQ(ParseError("delay_days", ">= soon"),
            "where.delay_days: '>= soon' compares with 'soon', which is not a number; "
            "'>=' needs a number such as 2 or 0.5");
  EXPECT_EQ(ParseError("delay_days", ">="), "where.delay_days: '>=' needs a value after '>='");
}

TEST(ParsePredicate, PlainTextIsEqualityAndANumberIsAlsoNumeric) {
  Predicate card = Parse("properties.method", "card");
  EXPECT_EQ(card.property, "method");
  EXPECT_EQ(card.op, Predicate::Op::kEq);
  EXPECT_EQ(card.text, "card");
  EXPECT_FALSE(card.has_number);

  Predicate five = Parse("score", "5");
  EXPECT_EQ(five.op, Predicate::Op::kEq);
  EXPECT_TRUE(five.has_number);
  EXPECT_EQ(five.number, 5);

  Predicate ne = Parse("method", "!= 'paypal'");
  EXPECT_EQ(ne.op, Predicate::Op::kNe);
  EXPECT_EQ(ne.text, "paypal");
  EXPECT_EQ(Parse("score", "== 4").number, 4);

  Predicate literal = Parse("path", "== /promo*");  // == takes the text literally
  EXPECT_EQ(literal.op, Predicate::Op::kEq);
  EXPECT_EQ(literal.text, "/promo*");
  FieldValue star = Text("/promo*"), promo = Text("/promo/x");
  EXPECT_TRUE(literal.Matches(&star));
  EXPECT_FALSE(literal.Matches(&promo));
}

TEST(ParsePredicate, ErrorsNameTheFieldAndWhatToWrite) {
  EXPECT_EQ(ParseError("path", "  "),
            "where.path: is empty; write a value (\"card\"), a pattern (\"/checkout*\") "
            "or a comparison (\">= 2\")");
  EXPECT_EQ(ParseError("traits.plan", "pro"),
            "where.traits.plan: conditions match event properties by name, such as 'path' or "
            "'properties.path'");
  EXPECT_EQ(ParseError("", "x"), "where: a condition needs a property name");
}

TEST(Predicate, GlobMatchesStringsOnly) {
  Predicate p = Parse("path", "/checkout*");
  FieldValue yes = Text("/checkout/payment");
  FieldValue no = Text("/cart");
  FieldValue number = Number(1);
  EXPECT_TRUE(p.Matches(&yes));
  EXPECT_FALSE(p.Matches(&no));
  EXPECT_FALSE(p.Matches(&number));
  EXPECT_FALSE(p.Matches(nullptr));
}

TEST(Predicate, ComparisonsAcceptNumbersAndNumericText) {
  Predicate p = Parse("delay_days", ">= 2");
  FieldValue two = Number(2), one = Number(1.5), text_three = Text("3"), words = Text("three");
  EXPECT_TRUE(p.Matches(&two));  // the boundary is included
  EXPECT_FALSE(p.Matches(&one));
  EXPECT_TRUE(p.Matches(&text_three));
  EXPECT_FALSE(p.Matches(&words));
  EXPECT_FALSE(Parse("x", "> 2").Matches(&two));
  EXPECT_TRUE(Parse("x", "< 2").Matches(&one));
  EXPECT_TRUE(Parse("x", "<= 2").Matches(&two));
}

TEST(Predicate, EqualityComparesLikeWithLike) {
  FieldValue card = Text("card"), paypal = Text("paypal"), five = Number(5), text_five = Text("5");
  FieldValue yes;
  yes.kind = FieldValue::Kind::kBool;
  yes.boolean = true;
  EXPECT_TRUE(Parse("m", "card").Matches(&card));
  EXPECT_FALSE(Parse("m", "card").Matches(&paypal));
  EXPECT_TRUE(Parse("m", "!= card").Matches(&paypal));
  EXPECT_FALSE(Parse("m", "!= card").Matches(&card));
  EXPECT_TRUE(Parse("s", "5").Matches(&five));
  EXPECT_TRUE(Parse("s", "5").Matches(&text_five));
  EXPECT_FALSE(Parse("m", "card").Matches(&five));
  EXPECT_TRUE(Parse("b", "true").Matches(&yes));
  EXPECT_FALSE(Parse("b", "false").Matches(&yes));
}

TEST(Predicate, AMissingPropertySatisfiesNothingNotEvenNotEqual) {
  EXPECT_FALSE(Parse("m", "card").Matches(nullptr));
  EXPECT_FALSE(Parse("m", "!= card").Matches(nullptr));
  FieldValue null_value;  // kNull
  EXPECT_FALSE(Parse("m", "!= card").Matches(&null_value));
}

TEST(GlobMatch, StarAndQuestionMark) {
  EXPECT_TRUE(GlobMatch("*", ""));
  EXPECT_TRUE(GlobMatch("/checkout*", "/checkout"));
  EXPECT_TRUE(GlobMatch("a*b*c", "aXXbYc"));
  EXPECT_TRUE(GlobMatch("a*b", "ab"));
  EXPECT_TRUE(GlobMatch("*ab", "aab"));  // needs backtracking
  EXPECT_TRUE(GlobMatch("a?c", "abc"));
  EXPECT_FALSE(GlobMatch("a?c", "ac"));
  EXPECT_FALSE(GlobMatch("*x", "xxxy"));
  EXPECT_FALSE(GlobMatch("/checkout*", "/help/checkout"));
  EXPECT_FALSE(GlobMatch("", "a"));
}

}  // namespace
}  // namespace upfront
