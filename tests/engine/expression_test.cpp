#include "trellis/engine/expression.hpp"

#include <gtest/gtest.h>

namespace trellis::engine {
namespace {

const Scope kScope{
    {"score", 7.0},        {"zero", 0.0},       {"name", std::string("Ana")},
    {"empty", std::string()}, {"agreed", true}, {"declined", false},
};

std::optional<ValueType> scope_types(std::string_view name) {
  auto it = kScope.find(name);
  if (it == kScope.end()) return std::nullopt;
  return type_of(it->second);
}

Value run(std::string_view text, const Scope& scope = kScope) {
  auto expression = parse_expression(text);
  EXPECT_TRUE(expression) << text << ": " << (expression ? "" : expression.error().message);
  if (!expression) return Value{std::string("<parse error>")};
  return evaluate(*expression, scope);
}

// ---------------------------------------------------------------------------
// Evaluation

struct EvalRow {
  std::string text;
  Value expected;
};

void PrintTo(const EvalRow& row, std::ostream* out) { *out << row.text; }

class EvaluateTest : public ::testing::TestWithParam<EvalRow> {};

TEST_P(EvaluateTest, Evaluates) {
  const EvalRow& row = GetParam();
  EXPECT_EQ(run(row.text), row.expected) << row.text << " gave " << to_display_string(run(row.text));
}

using S = std::string;

INSTANTIATE_TEST_SUITE_P(Literals, EvaluateTest, ::testing::Values(
    EvalRow{"42", 42.0}, EvalRow{"3.25", 3.25}, EvalRow{"007", 7.0}, EvalRow{"true", true},
    EvalRow{"false", false}, EvalRow{"'single'", S("single")}, EvalRow{"\"double\"", S("double")},
    EvalRow{R"("say \"hi\"")", S("say \"hi\"")}, EvalRow{R"('it\'s')", S("it's")},
    EvalRow{R"('back\\slash')", S("back\\slash")}, EvalRow{R"("a\nb")", S("a\nb")},
    EvalRow{R"("it's")", S("it's")}, EvalRow{"''", S("")}, EvalRow{"  score  ", 7.0},
    EvalRow{"\tname\n", S("Ana")}));

INSTANTIATE_TEST_SUITE_P(Arithmetic, EvaluateTest, ::testing::Values(
    EvalRow{"1 + 2", 3.0}, EvalRow{"5 - 8", -3.0}, EvalRow{"3 * 4", 12.0}, EvalRow{"7 / 2", 3.5},
    EvalRow{"7 % 3", 1.0}, EvalRow{"7.5 % 2", 1.5}, EvalRow{"-score", -7.0}, EvalRow{"--3", 3.0},
    EvalRow{"- -3", 3.0}, EvalRow{"score / 0", 0.0}, EvalRow{"score % 0", 0.0}, EvalRow{"score / zero", 0.0},
    EvalRow{"score % (1 - 1)", 0.0}, EvalRow{"'a' + 'b'", S("ab")}, EvalRow{"'Hi ' + name", S("Hi Ana")}));

INSTANTIATE_TEST_SUITE_P(PrecedenceAndAssociativity, EvaluateTest, ::testing::Values(
    EvalRow{"1 + 2 * 3", 7.0}, EvalRow{"(1 + 2) * 3", 9.0}, EvalRow{"10 - 4 - 3", 3.0},
    EvalRow{"10 - (4 - 3)", 9.0}, EvalRow{"64 / 4 / 2", 8.0}, EvalRow{"2 * 3 % 4", 2.0},
    EvalRow{"-2 * 3", -6.0}, EvalRow{"-(2 + 3)", -5.0}, EvalRow{"1 + 2 < 4", true},
    EvalRow{"(1 < 2) == true", true},
    EvalRow{"true or false and false", true}, EvalRow{"(true or false) and false", false},
    EvalRow{"not false and false", false}, EvalRow{"not (false and false)", true},
    EvalRow{"not not true", true}, EvalRow{"not 1 > 2", true}, EvalRow{"score > 5 and name == 'Ana'", true},
    EvalRow{"false or score >= 7", true}));

INSTANTIATE_TEST_SUITE_P(Comparisons, EvaluateTest, ::testing::Values(
    EvalRow{"1 == 1", true}, EvalRow{"1 != 1", false}, EvalRow{"1 < 2", true}, EvalRow{"2 <= 2", true},
    EvalRow{"2 > 2", false}, EvalRow{"2 >= 3", false}, EvalRow{"'a' < 'b'", true},
    EvalRow{"'b' >= 'a'", true}, EvalRow{"name == 'Ana'", true}, EvalRow{"name != \"Ana\"", false},
    EvalRow{"agreed == true", true}, EvalRow{"declined != false", false}));

INSTANTIATE_TEST_SUITE_P(Functions, EvaluateTest, ::testing::Values(
    EvalRow{"min(3, 1, 2)", 1.0}, EvalRow{"max(3, 1, 2)", 3.0}, EvalRow{"min(5)", 5.0},
    EvalRow{"sum(1, 2, 3.5)", 6.5}, EvalRow{"count(true, false, agreed, score > 1)", 3.0},
    EvalRow{"round(2.5)", 3.0}, EvalRow{"round(-2.5)", -3.0}, EvalRow{"round(2.4)", 2.0},
    EvalRow{"abs(-4)", 4.0}, EvalRow{"abs(4)", 4.0}, EvalRow{"length('hello')", 5.0},
    EvalRow{"length('h\xC3\xA9llo')", 5.0}, EvalRow{"length(empty)", 0.0},
    EvalRow{"if(agreed, 'yes', 'no')", S("yes")}, EvalRow{"if(declined, 1, 2)", 2.0},
    EvalRow{"max(min(1, 2), sum(1, 1))", 2.0}, EvalRow{"if(score > 5, if(agreed, 1, 2), 3)", 1.0}));

// A checked expression never meets these, but evaluate() must cope: missing
// variables read as 0, "" or false depending on use, and nothing throws.
INSTANTIATE_TEST_SUITE_P(MissingVariables, EvaluateTest, ::testing::Values(
    EvalRow{"missing + 1", 1.0}, EvalRow{"'a' + missing", S("a")}, EvalRow{"missing == 0", true},
    EvalRow{"missing == ''", true}, EvalRow{"missing or true", true}, EvalRow{"not missing", true},
    EvalRow{"missing", 0.0}, EvalRow{"length(missing)", 0.0}));

INSTANTIATE_TEST_SUITE_P(UncheckedTypes, EvaluateTest, ::testing::Values(
    EvalRow{"1 + true", 2.0}, EvalRow{"'n' + 1", S("n1")}, EvalRow{"1 == '1'", false},
    EvalRow{"score and 1", true}, EvalRow{"length(5)", 1.0}, EvalRow{"if(1, 'a', 2)", S("a")},
    EvalRow{"round()", 0.0}, EvalRow{"if(true)", 0.0}));

TEST(ExpressionTest, ChainedComparisonsAreRejected) {
  auto result = parse_expression("1 < 2 < 3");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().offset, 6u);
  EXPECT_EQ(result.error().hint, "join two comparisons with 'and', e.g. 1 <= x and x <= 10");
}

TEST(ExpressionTest, OverflowStaysFinite) {
  const std::string big = "9" + std::string(300, '0');
  EXPECT_EQ(run(big + " * " + big), Value{0.0});
  auto too_large = parse_expression(std::string(400, '9'));
  ASSERT_FALSE(too_large);
  EXPECT_EQ(too_large.error().message, "the number is too large");
}

TEST(ExpressionTest, IsTrue) {
  EXPECT_TRUE(is_true(Value{true}));
  EXPECT_FALSE(is_true(Value{false}));
  EXPECT_TRUE(is_true(Value{-1.0}));
  EXPECT_FALSE(is_true(Value{0.0}));
  EXPECT_TRUE(is_true(Value{std::string("x")}));
  EXPECT_FALSE(is_true(Value{std::string()}));
}

TEST(ExpressionTest, VariablesInOrderOfFirstAppearance) {
  auto expression = parse_expression("b + a * max(b, c) + if(d, a, e) + length(f)");
  ASSERT_TRUE(expression);
  EXPECT_EQ(expression->variables(), (std::vector<std::string>{"b", "a", "c", "d", "e", "f"}));
  EXPECT_EQ(expression->text(), "b + a * max(b, c) + if(d, a, e) + length(f)");
  EXPECT_FALSE(expression->empty());
  EXPECT_TRUE(Expression().empty());
  EXPECT_EQ(evaluate(Expression(), kScope), Value{0.0});
}

TEST(ExpressionTest, CopiesShareTheTree) {
  auto expression = parse_expression("score + 1");
  ASSERT_TRUE(expression);
  const Expression copy = *expression;
  EXPECT_EQ(copy.root(), expression->root());
  EXPECT_EQ(evaluate(copy, kScope), Value{8.0});
}

// ---------------------------------------------------------------------------
// Parse errors

struct ErrorRow {
  std::string text;
  std::size_t offset;
  std::string message;
  std::string hint = "";
};

void PrintTo(const ErrorRow& row, std::ostream* out) { *out << row.text; }

class ParseErrorTest : public ::testing::TestWithParam<ErrorRow> {};

TEST_P(ParseErrorTest, Reports) {
  const ErrorRow& row = GetParam();
  auto result = parse_expression(row.text);
  ASSERT_FALSE(result) << row.text;
  EXPECT_EQ(result.error().message, row.message) << row.text;
  EXPECT_EQ(result.error().offset, row.offset) << row.text;
  EXPECT_EQ(result.error().hint, row.hint) << row.text;
}

INSTANTIATE_TEST_SUITE_P(Syntax, ParseErrorTest, ::testing::Values(
    ErrorRow{"", 0, "the expression is empty"},
    ErrorRow{"   ", 0, "the expression is empty"},
    ErrorRow{"1 +", 3, "expected a value after '+', found the end of the expression"},
    ErrorRow{"(1 + 2", 6, "expected ')' to close the '(' at column 1, found the end of the expression"},
    ErrorRow{"2 * (3 + 4", 10, "expected ')' to close the '(' at column 5, found the end of the expression"},
    ErrorRow{"max(1, 2", 8, "expected ')' to close the '(' of max() at column 4, found the end of the expression",
             "separate arguments with ','"},
    ErrorRow{"max(1 2)", 6, "expected ')' to close the '(' of max() at column 4, found the number 2",
             "separate arguments with ','"},
    ErrorRow{"1 + 2)", 5, "found ')' after a complete expression", "this ')' has no matching '('"},
    ErrorRow{"score 5", 6, "found the number 5 after a complete expression",
             "is an operator missing before it?"},
    ErrorRow{"mx(1, 2)", 0, "unknown function 'mx'", "did you mean 'max'?"},
    ErrorRow{"lenght(name)", 0, "unknown function 'lenght'", "did you mean 'length'?"},
    ErrorRow{"frobnicate(1)", 0, "unknown function 'frobnicate'",
             "the functions are min, max, sum, count, round, abs, length and if"},
    ErrorRow{"* 2", 0, "expected a value, found '*'"},
    ErrorRow{"(,)", 1, "expected a value after '(', found ','"},
    ErrorRow{"not", 3, "expected a value after 'not', found the end of the expression"},
    ErrorRow{"1 and or 2", 6, "expected a value after 'and', found 'or'"},
    ErrorRow{"max(1,)", 6, "expected a value after ',', found ')'"},
    ErrorRow{"true(1)", 4, "found '(' after a complete expression", "is an operator missing before it?"},
    ErrorRow{"a, b", 1, "found ',' after a complete expression",
             "',' separates the arguments of a function call"}));

INSTANTIATE_TEST_SUITE_P(Lexical, ParseErrorTest, ::testing::Values(
    ErrorRow{"x = 1", 2, "unexpected '='", "use '==' to compare; expressions cannot assign"},
    ErrorRow{"!agreed", 0, "unexpected '!'", "write 'not'"},
    ErrorRow{"a && b", 2, "unexpected '&&'", "write 'and'"},
    ErrorRow{"a || b", 2, "unexpected '||'", "write 'or'"},
    ErrorRow{".5", 0, "unexpected '.'", "write a number with a leading digit, like 0.5"},
    ErrorRow{"1.", 2, "expected digits after the '.' in '1.'", "write numbers like 7 or 7.5"},
    ErrorRow{"1 # 2", 2, "unexpected character '#'"},
    ErrorRow{"caf\xC3\xA9", 3, "unexpected character '\xC3\xA9'"},
    ErrorRow{"'open", 0, "this string has no closing '", "end it with '"},
    ErrorRow{"name + \"open", 7, "this string has no closing \"", "end it with \""},
    ErrorRow{"'ends in \\", 0, "this string has no closing '", "end it with '"},
    ErrorRow{R"('bad \q')", 5, "unknown escape '\\q' in a string",
             "the escapes are \\\" \\' \\\\ and \\n; write \\\\ for a backslash"}));

TEST(ExpressionTest, SizeLimit) {
  std::string text = "1";
  while (text.size() + 4 <= kMaxExpressionBytes) text += " + 1";
  auto fits = parse_expression(text);
  ASSERT_TRUE(fits);
  EXPECT_EQ(evaluate(*fits, Scope{}), Value{static_cast<double>((text.size() + 3) / 4)});

  text += std::string(kMaxExpressionBytes + 1 - text.size(), ' ');
  auto too_long = parse_expression(text);
  ASSERT_FALSE(too_long);
  EXPECT_EQ(too_long.error().message, "the expression is longer than 4096 bytes");
  EXPECT_EQ(too_long.error().offset, kMaxExpressionBytes);
}

TEST(ExpressionTest, DepthLimit) {
  auto nested = [](const std::string& open, int depth, const std::string& close) {
    std::string text;
    for (int i = 0; i < depth; ++i) text += open;
    text += "1";
    for (int i = 0; i < depth; ++i) text += close;
    return text;
  };
  const std::string error = "the expression is nested too deeply (more than 64 levels)";
  struct Row {
    std::string open, close;
    std::size_t width;  // bytes per level
  };
  const Row rows[] = {{"(", ")", 1}, {"-", "", 1}, {"not ", "", 4}, {"abs(", ")", 4}};
  for (const auto& row : rows) {
    EXPECT_TRUE(parse_expression(nested(row.open, kMaxExpressionDepth, row.close))) << row.open;
    auto deep = parse_expression(nested(row.open, kMaxExpressionDepth + 1, row.close));
    ASSERT_FALSE(deep) << row.open;
    EXPECT_EQ(deep.error().message, error);
    const std::size_t last_open = kMaxExpressionDepth * row.width + (row.open == "abs(" ? 3 : 0);
    EXPECT_EQ(deep.error().offset, last_open) << row.open;
  }
  // Far past the limit (and the size limit) is just as safe.
  EXPECT_FALSE(parse_expression(std::string(100000, '(')));
}

// ---------------------------------------------------------------------------
// Types

struct TypeRow {
  std::string text;
  std::optional<ValueType> type;  // nullopt: an error
  std::size_t offset = 0;
  std::string message = "";
  std::string hint = "";
};

void PrintTo(const TypeRow& row, std::ostream* out) { *out << row.text; }

class CheckTypesTest : public ::testing::TestWithParam<TypeRow> {};

TEST_P(CheckTypesTest, Infers) {
  const TypeRow& row = GetParam();
  auto expression = parse_expression(row.text);
  ASSERT_TRUE(expression) << row.text << ": " << expression.error().message;
  auto type = check_types(*expression, scope_types);
  if (row.type) {
    ASSERT_TRUE(type) << row.text << ": " << type.error().message;
    EXPECT_EQ(*type, *row.type) << row.text;
  } else {
    ASSERT_FALSE(type) << row.text;
    EXPECT_EQ(type.error().message, row.message) << row.text;
    EXPECT_EQ(type.error().offset, row.offset) << row.text;
    EXPECT_EQ(type.error().hint, row.hint) << row.text;
  }
}

constexpr auto N = ValueType::Number;
constexpr auto Str = ValueType::String;
constexpr auto B = ValueType::Boolean;

INSTANTIATE_TEST_SUITE_P(WellTyped, CheckTypesTest, ::testing::Values(
    TypeRow{"1", N}, TypeRow{"'a'", Str}, TypeRow{"true", B}, TypeRow{"score", N}, TypeRow{"name", Str},
    TypeRow{"agreed", B}, TypeRow{"score + 1", N}, TypeRow{"name + '!'", Str}, TypeRow{"-score", N},
    TypeRow{"score % 2 * 3 / 4 - 1", N}, TypeRow{"score == 1", B}, TypeRow{"name != 'x'", B},
    TypeRow{"agreed == declined", B}, TypeRow{"score < 1", B}, TypeRow{"name >= 'b'", B},
    TypeRow{"agreed and not declined or false", B}, TypeRow{"min(1, score)", N}, TypeRow{"max(2)", N},
    TypeRow{"sum(1, 2, 3)", N}, TypeRow{"count(agreed, declined)", N}, TypeRow{"round(score / 3)", N},
    TypeRow{"abs(-1)", N}, TypeRow{"length(name)", N}, TypeRow{"if(agreed, name, 'x')", Str},
    TypeRow{"if(agreed, 1, 2)", N}, TypeRow{"if(agreed, true, declined)", B}));

INSTANTIATE_TEST_SUITE_P(TypeErrors, CheckTypesTest, ::testing::Values(
    TypeRow{"scor + 1", std::nullopt, 0, "unknown variable 'scor'"},
    TypeRow{"1 + nope", std::nullopt, 4, "unknown variable 'nope'"},
    TypeRow{"agreed + 1", std::nullopt, 7, "cannot add a number to a boolean",
            "'+' adds two numbers or joins two strings"},
    TypeRow{"name + 1", std::nullopt, 5, "cannot add a number to a string",
            "'+' adds two numbers or joins two strings"},
    TypeRow{"true + false", std::nullopt, 5, "cannot add a boolean to a boolean",
            "'+' adds two numbers or joins two strings"},
    TypeRow{"name - 1", std::nullopt, 5, "'-' needs numbers on both sides, but the left side is a string"},
    TypeRow{"2 * agreed", std::nullopt, 2, "'*' needs numbers on both sides, but the right side is a boolean"},
    TypeRow{"2 / 'x'", std::nullopt, 2, "'/' needs numbers on both sides, but the right side is a string"},
    TypeRow{"true % 2", std::nullopt, 5, "'%' needs numbers on both sides, but the left side is a boolean"},
    TypeRow{"-name", std::nullopt, 0, "'-' needs a number, not a string"},
    TypeRow{"not score", std::nullopt, 0, "'not' needs a boolean, not a number", "compare it, e.g. not (x > 0)"},
    TypeRow{"not name", std::nullopt, 0, "'not' needs a boolean, not a string"},
    TypeRow{"score and agreed", std::nullopt, 0, "'and' needs booleans on both sides, but the left side is a number",
            "compare it, e.g. x > 0"},
    TypeRow{"agreed or name", std::nullopt, 10, "'or' needs booleans on both sides, but the right side is a string"},
    TypeRow{"score == name", std::nullopt, 6, "cannot compare a number with a string",
            "both sides of '==' must have the same type"},
    TypeRow{"agreed != 1", std::nullopt, 7, "cannot compare a boolean with a number",
            "both sides of '!=' must have the same type"},
    TypeRow{"score < name", std::nullopt, 6, "'<' needs two numbers or two strings, not a number and a string"},
    TypeRow{"agreed <= declined", std::nullopt, 7,
            "'<=' needs two numbers or two strings, not a boolean and a boolean"},
    TypeRow{"1 > 'a'", std::nullopt, 2, "'>' needs two numbers or two strings, not a number and a string"},
    TypeRow{"1 >= true", std::nullopt, 2, "'>=' needs two numbers or two strings, not a number and a boolean"},
    TypeRow{"min()", std::nullopt, 0, "min() takes at least 1 argument, not 0"},
    TypeRow{"max()", std::nullopt, 0, "max() takes at least 1 argument, not 0"},
    TypeRow{"sum()", std::nullopt, 0, "sum() takes at least 1 argument, not 0"},
    TypeRow{"count()", std::nullopt, 0, "count() takes at least 1 argument, not 0"},
    TypeRow{"round(1, 2)", std::nullopt, 0, "round() takes 1 argument, not 2"},
    TypeRow{"abs()", std::nullopt, 0, "abs() takes 1 argument, not 0"},
    TypeRow{"length('a', 'b')", std::nullopt, 0, "length() takes 1 argument, not 2"},
    TypeRow{"if(agreed, 1)", std::nullopt, 0, "if() takes 3 arguments, not 2",
            "write if(condition, value if true, value if false)"},
    TypeRow{"min(1, name)", std::nullopt, 7, "argument 2 of min() must be a number, not a string"},
    TypeRow{"max(agreed)", std::nullopt, 4, "argument 1 of max() must be a number, not a boolean"},
    TypeRow{"sum(1, 2, 3, 'x')", std::nullopt, 13, "argument 4 of sum() must be a number, not a string"},
    TypeRow{"count(agreed, 1)", std::nullopt, 14, "argument 2 of count() must be a boolean, not a number"},
    TypeRow{"round(name)", std::nullopt, 6, "argument 1 of round() must be a number, not a string"},
    TypeRow{"abs(true)", std::nullopt, 4, "argument 1 of abs() must be a number, not a boolean"},
    TypeRow{"length(score)", std::nullopt, 7, "argument 1 of length() must be a string, not a number"},
    TypeRow{"if(score, 1, 2)", std::nullopt, 3, "the condition of if() must be a boolean, not a number"},
    TypeRow{"if(agreed, 1, 'x')", std::nullopt, 14,
            "both branches of if() must have the same type, not a number and a string"},
    TypeRow{"max(1, (2 + name))", std::nullopt, 10, "cannot add a string to a number",
            "'+' adds two numbers or joins two strings"}));

// Conditions come from authors: whatever they write must parse or fail cleanly,
// and whatever parses must check and evaluate without throwing.
TEST(ExpressionTest, GarbageNeverCrashes) {
  const std::vector<std::string> pieces{"score", "name", "agreed", "x", "1", "0", "2.5", "'s'", "\"t\"", "+", "-",
                                        "*", "/", "%", "==", "!=", "<", "<=", ">", ">=", "and", "or", "not", "(",
                                        ")", ",", "min", "max", "sum", "count", "round", "abs", "length", "if",
                                        "true", "false", " ", "'", "\\", "=", "!", "."};
  std::uint32_t seed = 2024;
  auto next = [&seed] {
    seed = seed * 1664525u + 1013904223u;
    return seed >> 8;
  };
  int parsed = 0;
  for (int round = 0; round < 5000; ++round) {
    std::string text;
    const std::uint32_t length = next() % 12;
    for (std::uint32_t i = 0; i < length; ++i) text += pieces[next() % pieces.size()] + (next() % 2 ? " " : "");
    auto expression = parse_expression(text);
    if (!expression) {
      EXPECT_LE(expression.error().offset, text.size()) << text;
      EXPECT_FALSE(expression.error().message.empty()) << text;
      continue;
    }
    ++parsed;
    auto type = check_types(*expression, scope_types);
    const Value value = evaluate(*expression, kScope);
    if (type) {
      EXPECT_EQ(type_of(value), *type) << text;
    }
  }
  EXPECT_GT(parsed, 100);  // the generator does reach the evaluator
}

TEST(ExpressionTest, CheckTypesWithoutAnyVariables) {
  auto expression = parse_expression("x > 1");
  ASSERT_TRUE(expression);
  auto type = check_types(*expression, [](std::string_view) { return std::nullopt; });
  ASSERT_FALSE(type);
  EXPECT_EQ(type.error().message, "unknown variable 'x'");
  EXPECT_FALSE(check_types(Expression(), scope_types));
}

}  // namespace
}  // namespace trellis::engine
