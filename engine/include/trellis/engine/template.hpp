#pragma once
// Message text with {{ expression }} holes: "You rated {{boundaries}} out of 10."
// `{{` can be written literally as `{{"{{"}}`.
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <tl/expected.hpp>

#include "trellis/engine/expression.hpp"

namespace trellis::engine {

class Template {
 public:
  using Piece = std::variant<std::string, Expression>;  // literal text or a hole

  Template() = default;
  explicit Template(std::vector<Piece> pieces) : pieces_(std::move(pieces)) {}

  const std::vector<Piece>& pieces() const { return pieces_; }
  // Every variable any hole reads, without repeats.
  std::vector<std::string> variables() const;
  bool is_literal() const;  // no holes
  void bind(const SlotTable& table);  // binds every hole (Expression::bind)

 private:
  std::vector<Piece> pieces_;
};

// Errors carry the byte offset into `text` (an unclosed "{{", an expression error).
tl::expected<Template, ExpressionError> parse_template(std::string_view text);

std::string render(const Template& message, const Scope& scope);
std::string render(const Template& message, SlotScope scope);  // holes bound to slots

}  // namespace trellis::engine
