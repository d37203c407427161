// libFuzzer target: arbitrary bytes as an expression and as a message template.
// parse -> check_types (every variable a number) -> evaluate with an empty scope and
// with every variable set; parse_template -> check every hole -> render.
// A crash, sanitizer report, uncaught exception or an error located outside the text
// is a finding.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "trellis/engine/expression.hpp"
#include "trellis/engine/template.hpp"
#include "trellis/engine/value.hpp"

using namespace trellis::engine;

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "expression_fuzz: %s\n", what);
  std::abort();
}

const VariableTypes kAllNumbers = [](std::string_view) -> std::optional<ValueType> {
  return ValueType::Number;
};

void check_error(const ExpressionError& error, std::string_view text) {
  if (error.offset > text.size()) fail("error offset past the end of the text");
  if (error.message.empty()) fail("error without a message");
}

void exercise_value(const Value& value) {
  (void)is_true(value);
  (void)to_display_string(value);
  (void)type_name(type_of(value));
  (void)to_json(value);
}

void fuzz_expression(std::string_view text) {
  auto parsed = parse_expression(text);
  if (!parsed) {
    check_error(parsed.error(), text);
    return;
  }
  const Expression& expression = *parsed;
  (void)expression.variables();

  auto type = check_types(expression, kAllNumbers);
  if (!type) {
    check_error(type.error(), text);
    return;
  }

  const Value empty_scope_value = evaluate(expression, Scope{});
  exercise_value(empty_scope_value);

  Scope scope;
  double n = -2.5;
  for (const std::string& name : expression.variables()) {
    scope.emplace(name, n);
    n = n * -3 + 1;
  }
  const Value value = evaluate(expression, scope);
  exercise_value(value);
  if (type_of(value) != *type) fail("evaluate() gave a value of another type than check_types()");
}

void fuzz_template(std::string_view text) {
  auto parsed = parse_template(text);
  if (!parsed) {
    check_error(parsed.error(), text);
    return;
  }
  const Template& message = *parsed;
  (void)message.variables();
  (void)message.is_literal();
  for (const Template::Piece& piece : message.pieces()) {
    if (const auto* hole = std::get_if<Expression>(&piece)) {
      if (!check_types(*hole, kAllNumbers)) return;  // the compiler would reject it
    }
  }
  (void)render(message, Scope{});
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  fuzz_expression(text);
  fuzz_template(text);
  return 0;
}
