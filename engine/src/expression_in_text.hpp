#pragma once
// Internal to the engine: parsing an expression that sits inside a larger text
// (a template's {{ }} hole), so that "at column N" in messages counts from the
// start of that text, like the offset the caller reports.
#include "trellis/engine/expression.hpp"

namespace trellis::engine {

// Offsets in the error stay relative to `text`; columns named in messages are
// shifted by `column_base`.
tl::expected<Expression, ExpressionError> parse_expression_at(std::string_view text, std::size_t column_base);

}  // namespace trellis::engine
