#include "trellis/engine/expression.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <optional>

#include "expression_in_text.hpp"
#include "trellis/engine/suggest.hpp"

namespace trellis::engine {

struct ExpressionNode {
  // Nested, so these names cannot clash with another file's in trellis::engine.
  enum class NodeKind { Literal, Variable, Negate, Not, And, Or, Binary, Call };
  enum class BinaryOp {
    Add, Subtract, Multiply, Divide, Remainder, Equal, NotEqual, Less, LessEqual, Greater, GreaterEqual
  };
  enum class Function { Min, Max, Sum, Count, Round, Abs, Length, If };

  NodeKind kind = NodeKind::Literal;
  std::size_t offset = 0;           // where the node's text starts
  std::size_t operator_offset = 0;  // unary, binary, and/or: where the operator is
  Value literal;
  std::string name;  // variable or function name
  std::uint32_t variable = 0;  // a variable's position in Expression::variables()
  BinaryOp op = BinaryOp::Add;
  Function function = Function::Min;
  std::vector<ExpressionNode> operands;
};

namespace {

using NodeKind = ExpressionNode::NodeKind;
using BinaryOp = ExpressionNode::BinaryOp;
using Function = ExpressionNode::Function;

// ---------------------------------------------------------------------------
// Functions

struct FunctionSpec {
  std::string_view name;
  Function function;
  std::size_t min_arguments;
  std::size_t max_arguments;  // kAnyCount for "one or more"
};

constexpr std::size_t kAnyCount = static_cast<std::size_t>(-1);

constexpr std::array<FunctionSpec, 8> kFunctions{{
    {"min", Function::Min, 1, kAnyCount},
    {"max", Function::Max, 1, kAnyCount},
    {"sum", Function::Sum, 1, kAnyCount},
    {"count", Function::Count, 1, kAnyCount},
    {"round", Function::Round, 1, 1},
    {"abs", Function::Abs, 1, 1},
    {"length", Function::Length, 1, 1},
    {"if", Function::If, 3, 3},
}};

const FunctionSpec* find_function(std::string_view name) {
  for (const auto& spec : kFunctions) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

const FunctionSpec& spec_of(Function function) {
  for (const auto& spec : kFunctions) {
    if (spec.function == function) return spec;
  }
  return kFunctions[0];
}

std::string hint_for(std::string_view word, const std::vector<std::string>& candidates) {
  auto match = closest_match(word, candidates);
  return match ? "did you mean '" + *match + "'?" : "";
}


// ---------------------------------------------------------------------------
// Lexer

enum class TokenKind {
  Number, String, Name, And, Or, Not, True, False,
  Plus, Minus, Star, Slash, Percent,
  Equal, NotEqual, Less, LessEqual, Greater, GreaterEqual,
  OpenParen, CloseParen, Comma, End,
};

struct Token {
  TokenKind kind = TokenKind::End;
  std::size_t offset = 0;
  std::string_view text;  // as written
  double number = 0;
  std::string string;  // decoded string literal
};

std::string describe(const Token& token) {
  switch (token.kind) {
    case TokenKind::End: return "the end of the expression";
    case TokenKind::String: return "the string " + std::string(token.text);
    case TokenKind::Number: return "the number " + std::string(token.text);
    case TokenKind::Name: return "'" + std::string(token.text) + "'";
    default: return "'" + std::string(token.text) + "'";
  }
}

bool is_name_start(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_name_char(char c) { return is_name_start(c) || is_digit(c); }

// The whole character starting at `offset`, so that a stray "é" is shown whole.
std::string_view character_at(std::string_view text, std::size_t offset) {
  const auto lead = static_cast<unsigned char>(text[offset]);
  std::size_t length = lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
  return text.substr(offset, std::min(length, text.size() - offset));
}

using LexResult = tl::expected<std::vector<Token>, ExpressionError>;

LexResult lex(std::string_view text) {
  std::vector<Token> tokens;
  std::size_t i = 0;
  auto fail = [](std::string message, std::size_t offset, std::string hint = "") {
    return tl::unexpected(ExpressionError{std::move(message), offset, std::move(hint)});
  };
  while (i < text.size()) {
    const char c = text[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      ++i;
      continue;
    }
    Token token;
    token.offset = i;
    auto two = [&](char next) { return i + 1 < text.size() && text[i + 1] == next; };
    auto simple = [&](TokenKind kind, std::size_t length) {
      token.kind = kind;
      token.text = text.substr(i, length);
      i += length;
    };

    if (is_digit(c)) {
      std::size_t end = i;
      while (end < text.size() && is_digit(text[end])) ++end;
      if (end < text.size() && text[end] == '.') {
        ++end;
        if (end >= text.size() || !is_digit(text[end])) {
          return fail("expected digits after the '.' in '" + std::string(text.substr(i, end - i)) + "'",
                      end, "write numbers like 7 or 7.5");
        }
        while (end < text.size() && is_digit(text[end])) ++end;
      }
      token.kind = TokenKind::Number;
      token.text = text.substr(i, end - i);
      token.number = std::strtod(std::string(token.text).c_str(), nullptr);
      if (!std::isfinite(token.number)) return fail("the number is too large", i);
      i = end;
    } else if (is_name_start(c)) {
      std::size_t end = i;
      while (end < text.size() && is_name_char(text[end])) ++end;
      token.text = text.substr(i, end - i);
      token.kind = token.text == "and"     ? TokenKind::And
                   : token.text == "or"    ? TokenKind::Or
                   : token.text == "not"   ? TokenKind::Not
                   : token.text == "true"  ? TokenKind::True
                   : token.text == "false" ? TokenKind::False
                                           : TokenKind::Name;
      i = end;
    } else if (c == '"' || c == '\'') {
      std::size_t end = i + 1;
      bool closed = false;
      while (end < text.size()) {
        const char d = text[end];
        if (d == c) {
          closed = true;
          ++end;
          break;
        }
        if (d == '\\') {
          if (end + 1 >= text.size()) break;
          const char e = text[end + 1];
          if (e == '"' || e == '\'' || e == '\\') token.string += e;
          else if (e == 'n') token.string += '\n';
          else {
            return fail("unknown escape '\\" + std::string(character_at(text, end + 1)) + "' in a string",
                        end, "the escapes are \\\" \\' \\\\ and \\n; write \\\\ for a backslash");
          }
          end += 2;
          continue;
        }
        token.string += d;
        ++end;
      }
      if (!closed) {
        return fail(std::string("this string has no closing ") + c, i,
                    std::string("end it with ") + c);
      }
      token.kind = TokenKind::String;
      token.text = text.substr(i, end - i);
      i = end;
    } else if (c == '+') simple(TokenKind::Plus, 1);
    else if (c == '-') simple(TokenKind::Minus, 1);
    else if (c == '*') simple(TokenKind::Star, 1);
    else if (c == '/') simple(TokenKind::Slash, 1);
    else if (c == '%') simple(TokenKind::Percent, 1);
    else if (c == '(') simple(TokenKind::OpenParen, 1);
    else if (c == ')') simple(TokenKind::CloseParen, 1);
    else if (c == ',') simple(TokenKind::Comma, 1);
    else if (c == '=' && two('=')) simple(TokenKind::Equal, 2);
    else if (c == '!' && two('=')) simple(TokenKind::NotEqual, 2);
    else if (c == '<' && two('=')) simple(TokenKind::LessEqual, 2);
    else if (c == '>' && two('=')) simple(TokenKind::GreaterEqual, 2);
    else if (c == '<') simple(TokenKind::Less, 1);
    else if (c == '>') simple(TokenKind::Greater, 1);
    else if (c == '=') return fail("unexpected '='", i, "use '==' to compare; expressions cannot assign");
    else if (c == '!') return fail("unexpected '!'", i, "write 'not'");
    else if (c == '&') return fail("unexpected '" + std::string(two('&') ? "&&" : "&") + "'", i, "write 'and'");
    else if (c == '|') return fail("unexpected '" + std::string(two('|') ? "||" : "|") + "'", i, "write 'or'");
    else if (c == '.') return fail("unexpected '.'", i, "write a number with a leading digit, like 0.5");
    else return fail("unexpected character '" + std::string(character_at(text, i)) + "'", i);
    tokens.push_back(std::move(token));
  }
  Token end;
  end.offset = text.size();
  tokens.push_back(end);
  return tokens;
}

// ---------------------------------------------------------------------------
// Parser: one function per grammar rule in expression.hpp.

// Each rule returns nullopt after recording the first error in `error_`.
using ParsedNode = std::optional<ExpressionNode>;

class Parser {
 public:
  Parser(std::vector<Token> tokens, std::size_t column_base)
      : tokens_(std::move(tokens)), column_base_(column_base) {}

  tl::expected<ExpressionNode, ExpressionError> parse() {
    if (peek().kind == TokenKind::End) return tl::unexpected(ExpressionError{"the expression is empty", 0, ""});
    ParsedNode root = parse_or();
    if (root && peek().kind != TokenKind::End) root = fail_trailing();
    if (!root) return tl::unexpected(error_);
    return std::move(*root);
  }

  std::vector<std::string> take_variables() { return std::move(variables_); }

 private:
  const Token& peek() const { return tokens_[position_]; }
  const Token& take() {
    const Token& token = tokens_[position_];
    if (token.kind != TokenKind::End) ++position_;
    return token;
  }
  bool accept(TokenKind kind) {
    if (peek().kind != kind) return false;
    take();
    return true;
  }
  std::nullopt_t fail(std::string message, std::size_t offset, std::string hint = "") {
    error_ = ExpressionError{std::move(message), offset, std::move(hint)};
    return std::nullopt;
  }

  // Counts nesting (parentheses, calls, "not", unary "-") against kMaxExpressionDepth.
  // Check ok() right after constructing one.
  class Nesting {
   public:
    Nesting(Parser& parser, std::size_t offset) : parser_(parser) {
      if (++parser_.depth_ > kMaxExpressionDepth) {
        parser_.fail("the expression is nested too deeply (more than " + std::to_string(kMaxExpressionDepth) +
                         " levels)",
                     offset, "split it into several 'set' steps");
        ok_ = false;
      }
    }
    ~Nesting() { --parser_.depth_; }
    Nesting(const Nesting&) = delete;
    Nesting& operator=(const Nesting&) = delete;
    bool ok() const { return ok_; }

   private:
    Parser& parser_;
    bool ok_ = true;
  };

  static ExpressionNode combine(NodeKind kind, std::size_t operator_offset, ExpressionNode left,
                                ExpressionNode right) {
    ExpressionNode node;
    node.kind = kind;
    node.offset = left.offset;
    node.operator_offset = operator_offset;
    node.operands.push_back(std::move(left));
    node.operands.push_back(std::move(right));
    return node;
  }

  ParsedNode parse_or() {
    ParsedNode left = parse_and();
    while (left && peek().kind == TokenKind::Or) {
      const std::size_t at = take().offset;
      ParsedNode right = parse_and();
      if (!right) return std::nullopt;
      left = combine(NodeKind::Or, at, std::move(*left), std::move(*right));
    }
    return left;
  }

  ParsedNode parse_and() {
    ParsedNode left = parse_not();
    while (left && peek().kind == TokenKind::And) {
      const std::size_t at = take().offset;
      ParsedNode right = parse_not();
      if (!right) return std::nullopt;
      left = combine(NodeKind::And, at, std::move(*left), std::move(*right));
    }
    return left;
  }

  ParsedNode parse_not() {
    if (peek().kind != TokenKind::Not) return parse_comparison();
    const Token& keyword = take();
    Nesting nesting(*this, keyword.offset);
    if (!nesting.ok()) return std::nullopt;
    ParsedNode operand = parse_not();
    if (!operand) return std::nullopt;
    ExpressionNode node;
    node.kind = NodeKind::Not;
    node.offset = node.operator_offset = keyword.offset;
    node.operands.push_back(std::move(*operand));
    return node;
  }

  static std::optional<BinaryOp> comparison_op(TokenKind kind) {
    switch (kind) {
      case TokenKind::Equal: return BinaryOp::Equal;
      case TokenKind::NotEqual: return BinaryOp::NotEqual;
      case TokenKind::Less: return BinaryOp::Less;
      case TokenKind::LessEqual: return BinaryOp::LessEqual;
      case TokenKind::Greater: return BinaryOp::Greater;
      case TokenKind::GreaterEqual: return BinaryOp::GreaterEqual;
      default: return std::nullopt;
    }
  }

  ParsedNode parse_comparison() {
    ParsedNode left = parse_sum();
    if (!left) return std::nullopt;
    auto op = comparison_op(peek().kind);
    if (!op) return left;
    const std::size_t at = take().offset;
    ParsedNode right = parse_sum();
    if (!right) return std::nullopt;
    if (comparison_op(peek().kind)) {
      return fail("comparisons cannot be chained: unexpected " + describe(peek()), peek().offset,
                  "join two comparisons with 'and', e.g. 1 <= x and x <= 10");
    }
    ExpressionNode node = combine(NodeKind::Binary, at, std::move(*left), std::move(*right));
    node.op = *op;
    return node;
  }

  ParsedNode parse_sum() {
    ParsedNode left = parse_product();
    while (left && (peek().kind == TokenKind::Plus || peek().kind == TokenKind::Minus)) {
      const Token& token = take();
      const BinaryOp op = token.kind == TokenKind::Plus ? BinaryOp::Add : BinaryOp::Subtract;
      ParsedNode right = parse_product();
      if (!right) return std::nullopt;
      left = combine(NodeKind::Binary, token.offset, std::move(*left), std::move(*right));
      left->op = op;
    }
    return left;
  }

  ParsedNode parse_product() {
    ParsedNode left = parse_unary();
    while (left && (peek().kind == TokenKind::Star || peek().kind == TokenKind::Slash ||
                    peek().kind == TokenKind::Percent)) {
      const Token& token = take();
      const BinaryOp op = token.kind == TokenKind::Star    ? BinaryOp::Multiply
                          : token.kind == TokenKind::Slash ? BinaryOp::Divide
                                                           : BinaryOp::Remainder;
      ParsedNode right = parse_unary();
      if (!right) return std::nullopt;
      left = combine(NodeKind::Binary, token.offset, std::move(*left), std::move(*right));
      left->op = op;
    }
    return left;
  }

  ParsedNode parse_unary() {
    if (peek().kind != TokenKind::Minus) return parse_primary();
    const Token& minus = take();
    Nesting nesting(*this, minus.offset);
    if (!nesting.ok()) return std::nullopt;
    ParsedNode operand = parse_unary();
    if (!operand) return std::nullopt;
    ExpressionNode node;
    node.kind = NodeKind::Negate;
    node.offset = node.operator_offset = minus.offset;
    node.operands.push_back(std::move(*operand));
    return node;
  }

  ParsedNode parse_primary() {
    const Token& token = peek();
    ExpressionNode node;
    node.offset = token.offset;
    switch (token.kind) {
      case TokenKind::Number:
        node.literal = take().number;
        return node;
      case TokenKind::String:
        node.literal = take().string;
        return node;
      case TokenKind::True:
      case TokenKind::False:
        node.literal = take().kind == TokenKind::True;
        return node;
      case TokenKind::Name:
        take();
        if (peek().kind == TokenKind::OpenParen) return parse_call(token);
        node.kind = NodeKind::Variable;
        node.name = std::string(token.text);
        node.variable = static_cast<std::uint32_t>(
            std::find(variables_.begin(), variables_.end(), node.name) - variables_.begin());
        if (node.variable == variables_.size()) variables_.push_back(node.name);
        return node;
      case TokenKind::OpenParen: {
        take();
        Nesting nesting(*this, token.offset);
        if (!nesting.ok()) return std::nullopt;
        ParsedNode inner = parse_or();
        if (!inner) return std::nullopt;
        if (!accept(TokenKind::CloseParen)) {
          return fail("expected ')' to close the '(' at " + column_of(token.offset) + ", found " +
                          describe(peek()),
                      peek().offset);
        }
        return inner;
      }
      default:
        return fail_expected_value();
    }
  }

  ParsedNode parse_call(const Token& name_token) {
    const std::string name(name_token.text);
    const FunctionSpec* spec = find_function(name);
    if (spec == nullptr) {
      std::vector<std::string> names;
      for (const auto& known : kFunctions) names.emplace_back(known.name);
      std::string hint = hint_for(name, names);
      if (hint.empty()) hint = "the functions are min, max, sum, count, round, abs, length and if";
      return fail("unknown function '" + name + "'", name_token.offset, std::move(hint));
    }
    const Token& open = take();
    Nesting nesting(*this, open.offset);
    if (!nesting.ok()) return std::nullopt;
    ExpressionNode node;
    node.kind = NodeKind::Call;
    node.offset = name_token.offset;
    node.name = name;
    node.function = spec->function;
    if (accept(TokenKind::CloseParen)) return node;
    do {
      ParsedNode argument = parse_or();
      if (!argument) return std::nullopt;
      node.operands.push_back(std::move(*argument));
    } while (accept(TokenKind::Comma));
    if (!accept(TokenKind::CloseParen)) {
      return fail("expected ')' to close the '(' of " + name + "() at " + column_of(open.offset) + ", found " +
                      describe(peek()),
                  peek().offset, "separate arguments with ','");
    }
    return node;
  }

  std::nullopt_t fail_expected_value() {
    const Token& token = peek();
    if (position_ == 0) return fail("expected a value, found " + describe(token), token.offset);
    const Token& before = tokens_[position_ - 1];
    return fail("expected a value after '" + std::string(before.text) + "', found " + describe(token),
                token.offset);
  }

  std::nullopt_t fail_trailing() {
    const Token& token = peek();
    std::string hint;
    if (token.kind == TokenKind::CloseParen) hint = "this ')' has no matching '('";
    else if (token.kind == TokenKind::Comma) hint = "',' separates the arguments of a function call";
    else hint = "is an operator missing before it?";
    return fail("found " + describe(token) + " after a complete expression", token.offset,
                std::move(hint));
  }

  std::string column_of(std::size_t offset) const {
    return "column " + std::to_string(column_base_ + offset + 1);
  }

  std::vector<Token> tokens_;
  std::size_t column_base_;
  std::size_t position_ = 0;
  int depth_ = 0;
  std::vector<std::string> variables_;
  ExpressionError error_;
};

// ---------------------------------------------------------------------------
// Type checking

std::string a_type(ValueType type) {
  return type == ValueType::Number ? "a number" : type == ValueType::String ? "a string" : "a boolean";
}

std::string_view symbol_of(BinaryOp op) {
  switch (op) {
    case BinaryOp::Add: return "+";
    case BinaryOp::Subtract: return "-";
    case BinaryOp::Multiply: return "*";
    case BinaryOp::Divide: return "/";
    case BinaryOp::Remainder: return "%";
    case BinaryOp::Equal: return "==";
    case BinaryOp::NotEqual: return "!=";
    case BinaryOp::Less: return "<";
    case BinaryOp::LessEqual: return "<=";
    case BinaryOp::Greater: return ">";
    case BinaryOp::GreaterEqual: return ">=";
  }
  return "?";
}

using TypeResult = tl::expected<ValueType, ExpressionError>;

TypeResult type_error(std::string message, std::size_t offset, std::string hint = "") {
  return tl::unexpected(ExpressionError{std::move(message), offset, std::move(hint)});
}

// Recursion is bounded: the parser caps nesting, and operator chains are at most
// kMaxExpressionBytes / 2 long.
TypeResult infer(const ExpressionNode& node, const VariableTypes& types) {
  switch (node.kind) {
    case NodeKind::Literal:
      return type_of(node.literal);

    case NodeKind::Variable: {
      auto type = types ? types(node.name) : std::nullopt;
      if (!type) return type_error("unknown variable '" + node.name + "'", node.offset);
      return *type;
    }

    case NodeKind::Negate:
    case NodeKind::Not: {
      auto operand = infer(node.operands[0], types);
      if (!operand) return operand;
      const bool is_not = node.kind == NodeKind::Not;
      const ValueType wanted = is_not ? ValueType::Boolean : ValueType::Number;
      if (*operand != wanted) {
        return type_error(std::string(is_not ? "'not'" : "'-'") + " needs " + a_type(wanted) + ", not " +
                              a_type(*operand),
                          node.operator_offset,
                          is_not && *operand == ValueType::Number ? "compare it, e.g. not (x > 0)" : "");
      }
      return wanted;
    }

    case NodeKind::And:
    case NodeKind::Or: {
      const std::string_view word = node.kind == NodeKind::And ? "and" : "or";
      for (std::size_t side = 0; side < 2; ++side) {
        auto operand = infer(node.operands[side], types);
        if (!operand) return operand;
        if (*operand != ValueType::Boolean) {
          return type_error("'" + std::string(word) + "' needs booleans on both sides, but the " +
                                (side == 0 ? "left" : "right") + " side is " + a_type(*operand),
                            node.operands[side].offset,
                            *operand == ValueType::Number ? "compare it, e.g. x > 0" : "");
        }
      }
      return ValueType::Boolean;
    }

    case NodeKind::Binary: {
      auto left = infer(node.operands[0], types);
      if (!left) return left;
      auto right = infer(node.operands[1], types);
      if (!right) return right;
      const std::string symbol(symbol_of(node.op));
      switch (node.op) {
        case BinaryOp::Add:
          if (*left == *right && *left != ValueType::Boolean) return *left;
          return type_error("cannot add " + a_type(*right) + " to " + a_type(*left), node.operator_offset,
                            "'+' adds two numbers or joins two strings");
        case BinaryOp::Subtract:
        case BinaryOp::Multiply:
        case BinaryOp::Divide:
        case BinaryOp::Remainder:
          if (*left != ValueType::Number || *right != ValueType::Number) {
            const bool left_wrong = *left != ValueType::Number;
            return type_error("'" + symbol + "' needs numbers on both sides, but the " +
                                  (left_wrong ? "left" : "right") + " side is " +
                                  a_type(left_wrong ? *left : *right),
                              node.operator_offset);
          }
          return ValueType::Number;
        case BinaryOp::Equal:
        case BinaryOp::NotEqual:
          if (*left != *right) {
            return type_error("cannot compare " + a_type(*left) + " with " + a_type(*right),
                              node.operator_offset, "both sides of '" + symbol + "' must have the same type");
          }
          return ValueType::Boolean;
        case BinaryOp::Less:
        case BinaryOp::LessEqual:
        case BinaryOp::Greater:
        case BinaryOp::GreaterEqual:
          if (*left != *right || *left == ValueType::Boolean) {
            return type_error("'" + symbol + "' needs two numbers or two strings, not " + a_type(*left) +
                                  " and " + a_type(*right),
                              node.operator_offset);
          }
          return ValueType::Boolean;
      }
      return ValueType::Boolean;
    }

    case NodeKind::Call: {
      const FunctionSpec& spec = spec_of(node.function);
      const std::size_t count = node.operands.size();
      if (count < spec.min_arguments || count > spec.max_arguments) {
        std::string wanted = spec.max_arguments == kAnyCount
                                 ? "at least " + std::to_string(spec.min_arguments)
                                 : std::to_string(spec.min_arguments);
        wanted += spec.min_arguments == 1 ? " argument" : " arguments";
        return type_error(node.name + "() takes " + wanted + ", not " + std::to_string(count), node.offset,
                          node.function == Function::If ? "write if(condition, value if true, value if false)"
                                                        : "");
      }
      std::vector<ValueType> argument_types;
      for (const auto& argument : node.operands) {
        auto type = infer(argument, types);
        if (!type) return type;
        argument_types.push_back(*type);
      }
      auto expect_all = [&](ValueType wanted) -> std::optional<ExpressionError> {
        for (std::size_t i = 0; i < count; ++i) {
          if (argument_types[i] != wanted) {
            return ExpressionError{"argument " + std::to_string(i + 1) + " of " + node.name + "() must be " +
                                       a_type(wanted) + ", not " + a_type(argument_types[i]),
                                   node.operands[i].offset, ""};
          }
        }
        return std::nullopt;
      };
      switch (node.function) {
        case Function::Min:
        case Function::Max:
        case Function::Sum:
        case Function::Round:
        case Function::Abs:
          if (auto error = expect_all(ValueType::Number)) return tl::unexpected(*error);
          return ValueType::Number;
        case Function::Count:
          if (auto error = expect_all(ValueType::Boolean)) return tl::unexpected(*error);
          return ValueType::Number;
        case Function::Length:
          if (auto error = expect_all(ValueType::String)) return tl::unexpected(*error);
          return ValueType::Number;
        case Function::If:
          if (argument_types[0] != ValueType::Boolean) {
            return type_error("the condition of if() must be a boolean, not " + a_type(argument_types[0]),
                              node.operands[0].offset);
          }
          if (argument_types[1] != argument_types[2]) {
            return type_error("both branches of if() must have the same type, not " + a_type(argument_types[1]) +
                                  " and " + a_type(argument_types[2]),
                              node.operands[2].offset);
          }
          return argument_types[1];
      }
      return ValueType::Number;
    }
  }
  return ValueType::Number;
}

// ---------------------------------------------------------------------------
// Evaluation. Type checking happens at compile time, but evaluate() must not
// crash on an unchecked tree either, so every operation coerces what it gets.
// A variable missing from the scope is nullopt and reads as 0, "" or false.

using Maybe = std::optional<Value>;

double finite(double number) { return std::isfinite(number) ? number : 0.0; }

// The helpers take the value in place; nullptr is a missing variable.
double as_number(const Value* value) {
  if (value == nullptr) return 0;
  if (const auto* number = std::get_if<double>(value)) return *number;
  if (const auto* flag = std::get_if<bool>(value)) return *flag ? 1 : 0;
  return 0;
}

std::string as_string(const Value* value) { return value ? to_display_string(*value) : std::string(); }

bool as_boolean(const Value* value) { return value && is_true(*value); }

bool is_string(const Value* value) { return value && std::holds_alternative<std::string>(*value); }

// Missing stands for the other side's type: 0 == missing, "" == missing.
bool equal(const Value* left, const Value* right) {
  if (!left && !right) return true;
  if (!left || !right) {
    const Value& present = left ? *left : *right;
    if (const auto* number = std::get_if<double>(&present)) return *number == 0;
    if (const auto* text = std::get_if<std::string>(&present)) return text->empty();
    return !std::get<bool>(present);
  }
  return *left == *right;
}

std::size_t code_points(std::string_view text) {
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

template <typename Lookup>
Maybe eval(const ExpressionNode& node, const Lookup& scope);

// An operand's value. Most operands are variables or literals, which are read
// where they are: copying each into a Maybe was a large part of evaluating.
struct Operand {
  Maybe computed;
  const Value* in_place = nullptr;
  const Value* get() const { return computed ? &*computed : in_place; }
};

// `lookup` finds a variable node's value (nullptr when it is not set): by name in
// a Scope, or by slot while a step runs. One tree walk serves both.
template <typename Lookup>
Operand operand(const ExpressionNode& node, const Lookup& scope) {
  if (node.kind == NodeKind::Variable) return {std::nullopt, scope(node)};
  if (node.kind == NodeKind::Literal) return {std::nullopt, &node.literal};
  return {eval(node, scope), nullptr};
}

template <typename Lookup>
double number(const ExpressionNode& node, const Lookup& scope) {
  return as_number(operand(node, scope).get());
}

template <typename Lookup>
bool boolean(const ExpressionNode& node, const Lookup& scope) {
  return as_boolean(operand(node, scope).get());
}

template <typename Lookup>
Maybe eval(const ExpressionNode& node, const Lookup& scope) {
  switch (node.kind) {
    case NodeKind::Literal:
      return node.literal;
    case NodeKind::Variable: {
      const Value* value = scope(node);
      if (value == nullptr) return std::nullopt;
      return *value;
    }
    case NodeKind::Negate:
      return Value{finite(-number(node.operands[0], scope))};
    case NodeKind::Not:
      return Value{!boolean(node.operands[0], scope)};
    case NodeKind::And:
      return Value{boolean(node.operands[0], scope) && boolean(node.operands[1], scope)};
    case NodeKind::Or:
      return Value{boolean(node.operands[0], scope) || boolean(node.operands[1], scope)};
    case NodeKind::Binary: {
      const Operand left_operand = operand(node.operands[0], scope);
      const Operand right_operand = operand(node.operands[1], scope);
      const Value* left = left_operand.get();
      const Value* right = right_operand.get();
      const double a = as_number(left), b = as_number(right);
      switch (node.op) {
        case BinaryOp::Add:
          if (is_string(left) || is_string(right)) return Value{as_string(left) + as_string(right)};
          return Value{finite(a + b)};
        case BinaryOp::Subtract: return Value{finite(a - b)};
        case BinaryOp::Multiply: return Value{finite(a * b)};
        case BinaryOp::Divide: return Value{b == 0 ? 0.0 : finite(a / b)};
        case BinaryOp::Remainder: return Value{b == 0 ? 0.0 : finite(std::fmod(a, b))};
        case BinaryOp::Equal: return Value{equal(left, right)};
        case BinaryOp::NotEqual: return Value{!equal(left, right)};
        default: break;
      }
      int order = 0;
      if (is_string(left) || is_string(right)) {
        const int c = as_string(left).compare(as_string(right));
        order = c < 0 ? -1 : c > 0 ? 1 : 0;
      } else {
        order = a < b ? -1 : a > b ? 1 : 0;
      }
      switch (node.op) {
        case BinaryOp::Less: return Value{order < 0};
        case BinaryOp::LessEqual: return Value{order <= 0};
        case BinaryOp::Greater: return Value{order > 0};
        default: return Value{order >= 0};
      }
    }
    case NodeKind::Call: {
      const auto& arguments = node.operands;
      switch (node.function) {
        case Function::Min:
        case Function::Max:
        case Function::Sum: {
          if (arguments.empty()) return Value{0.0};
          double result = number(arguments[0], scope);
          for (std::size_t i = 1; i < arguments.size(); ++i) {
            const double next = number(arguments[i], scope);
            if (node.function == Function::Min) result = std::min(result, next);
            else if (node.function == Function::Max) result = std::max(result, next);
            else result = finite(result + next);
          }
          return Value{result};
        }
        case Function::Count: {
          double count = 0;
          for (const auto& argument : arguments) count += boolean(argument, scope) ? 1 : 0;
          return Value{count};
        }
        case Function::Round:
          return Value{arguments.empty() ? 0.0 : std::round(number(arguments[0], scope))};
        case Function::Abs:
          return Value{arguments.empty() ? 0.0 : std::fabs(number(arguments[0], scope))};
        case Function::Length:
          return Value{arguments.empty() ? 0.0
                                         : static_cast<double>(code_points(
                                               as_string(operand(arguments[0], scope).get())))};
        case Function::If:
          if (arguments.size() != 3) return Value{0.0};
          return boolean(arguments[0], scope) ? eval(arguments[1], scope) : eval(arguments[2], scope);
      }
      return Value{0.0};
    }
  }
  return Value{0.0};
}

}  // namespace

tl::expected<Expression, ExpressionError> parse_expression_at(std::string_view text, std::size_t column_base) {
  if (text.size() > kMaxExpressionBytes) {
    return tl::unexpected(ExpressionError{"the expression is longer than " + std::to_string(kMaxExpressionBytes) +
                                              " bytes",
                                          kMaxExpressionBytes, "split it into several 'set' steps"});
  }
  auto tokens = lex(text);
  if (!tokens) return tl::unexpected(tokens.error());
  Parser parser(std::move(*tokens), column_base);
  auto root = parser.parse();
  if (!root) return tl::unexpected(root.error());
  return Expression(std::string(text), std::make_shared<const ExpressionNode>(std::move(*root)),
                    parser.take_variables());
}

tl::expected<Expression, ExpressionError> parse_expression(std::string_view text) {
  return parse_expression_at(text, 0);
}

tl::expected<ValueType, ExpressionError> check_types(const Expression& expression, const VariableTypes& types) {
  if (expression.empty()) return tl::unexpected(ExpressionError{"the expression is empty", 0, ""});
  return infer(*expression.root(), types);
}

Value evaluate(const Expression& expression, const Scope& scope) {
  if (expression.empty()) return Value{0.0};
  auto by_name = [&](const ExpressionNode& node) -> const Value* {
    auto it = scope.find(node.name);
    return it == scope.end() ? nullptr : &it->second;
  };
  Maybe result = eval(*expression.root(), by_name);
  return result ? std::move(*result) : Value{0.0};
}

Value evaluate(const Expression& expression, SlotScope scope) {
  if (expression.empty()) return Value{0.0};
  const std::vector<VariableSlot>& slots = expression.slots();
  auto by_slot = [&](const ExpressionNode& node) -> const Value* {
    if (node.variable >= slots.size() || slots[node.variable] >= scope.size()) return nullptr;  // not bound
    const std::optional<Value>& value = scope[slots[node.variable]];
    return value ? &*value : nullptr;
  };
  Maybe result = eval(*expression.root(), by_slot);
  return result ? std::move(*result) : Value{0.0};
}

void Expression::bind(const SlotTable& table) {
  slots_.clear();
  for (const auto& name : variables_) {
    auto found = table.find(name);
    slots_.push_back(found == table.end() ? kNoSlot : found->second);
  }
}

bool is_true(const Value& value) {
  if (const auto* flag = std::get_if<bool>(&value)) return *flag;
  if (const auto* number = std::get_if<double>(&value)) return *number != 0;
  return !std::get<std::string>(value).empty();
}

}  // namespace trellis::engine
