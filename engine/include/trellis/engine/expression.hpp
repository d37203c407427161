#pragma once
// The small, safe expression language authors use in `set`, `branch`, `when`,
// `check`, `summary` and inside `{{ }}` in messages. Grammar (docs/authoring.md):
//
//   expression := or
//   or         := and { "or" and }
//   and        := not { "and" not }
//   not        := "not" not | comparison
//   comparison := sum [ ("==" | "!=" | "<" | "<=" | ">" | ">=") sum ]
//   sum        := product { ("+" | "-") product }
//   product    := unary { ("*" | "/" | "%") unary }
//   unary      := "-" unary | primary
//   primary    := number | string | "true" | "false" | name
//               | name "(" [ expression { "," expression } ] ")" | "(" expression ")"
//
// Functions: min(n, ...), max(n, ...), sum(n, ...), count(b, ...) (how many are true),
// round(n), abs(n), length(s), if(b, a, a). No loops, no I/O, no assignment.
// `+` adds numbers or joins strings. Division or remainder by zero gives 0.
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

#include "trellis/engine/value.hpp"

namespace trellis::engine {

struct ExpressionNode;  // the parsed tree; see expression.cpp

// A problem in an expression, located by byte offset into its text.
struct ExpressionError {
  std::string message;  // "expected ')' to close the '(' at column 4"
  std::size_t offset = 0;
  std::string hint;     // may be empty
};

// Parsed once at compile time; evaluated many times. Cheap to copy (shared tree).
class Expression {
 public:
  Expression() = default;

  const std::string& text() const { return text_; }
  // Every variable the expression reads, in order of first appearance, without repeats.
  const std::vector<std::string>& variables() const { return variables_; }
  bool empty() const { return root_ == nullptr; }

  // Where each of variables() lives in a compiled Flow (Flow::variable_table):
  // compile_flow binds every expression it keeps, so step() never looks a name up.
  void bind(const SlotTable& table);
  const std::vector<VariableSlot>& slots() const { return slots_; }

  // Internal: the parser builds these.
  Expression(std::string text, std::shared_ptr<const ExpressionNode> root,
             std::vector<std::string> variables)
      : text_(std::move(text)), root_(std::move(root)), variables_(std::move(variables)) {}
  const ExpressionNode* root() const { return root_.get(); }

 private:
  std::string text_;
  std::shared_ptr<const ExpressionNode> root_;
  std::vector<std::string> variables_;
  std::vector<VariableSlot> slots_;  // empty until bound
};

// Limits against hostile files: longer text or deeper nesting is an error.
inline constexpr std::size_t kMaxExpressionBytes = 4096;
inline constexpr int kMaxExpressionDepth = 64;

tl::expected<Expression, ExpressionError> parse_expression(std::string_view text);

// Tells the checker the type of a variable, or nullopt when no such variable exists.
using VariableTypes = std::function<std::optional<ValueType>(std::string_view name)>;

// Infers the expression's type, or reports the first type error (unknown variable,
// unknown function, wrong number of arguments, "cannot add a number to a boolean").
tl::expected<ValueType, ExpressionError> check_types(const Expression& expression,
                                                     const VariableTypes& types);

// Evaluates a type-checked expression. Never throws: a variable missing from the
// scope (which the compiler's checks rule out) evaluates as 0, "" or false by use.
Value evaluate(const Expression& expression, const Scope& scope);
// The same, reading variables by the slots the expression was bound to. An unbound
// expression reads every variable as not set.
Value evaluate(const Expression& expression, SlotScope scope);

// Truthiness for conditions: booleans as they are, numbers != 0, strings non-empty.
bool is_true(const Value& value);

}  // namespace trellis::engine
