#include "trellis/engine/template.hpp"

#include <algorithm>

#include "expression_in_text.hpp"

namespace trellis::engine {
namespace {

// Where the hole that opens at `open` (just past "{{") closes: the first "}}"
// outside a quoted string, so {{"}}"}} works. If a quote never closes, the
// first plain "}}" is taken and the expression parser reports the open quote.
std::size_t find_hole_end(std::string_view text, std::size_t open) {
  char quote = 0;
  for (std::size_t i = open; i < text.size(); ++i) {
    const char c = text[i];
    if (quote != 0) {
      if (c == '\\') ++i;
      else if (c == quote) quote = 0;
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '}' && i + 1 < text.size() && text[i + 1] == '}') {
      return i;
    }
  }
  return text.find("}}", open);
}

}  // namespace

std::vector<std::string> Template::variables() const {
  std::vector<std::string> names;
  for (const auto& piece : pieces_) {
    const auto* hole = std::get_if<Expression>(&piece);
    if (hole == nullptr) continue;
    for (const auto& name : hole->variables()) {
      if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
    }
  }
  return names;
}

bool Template::is_literal() const {
  return std::none_of(pieces_.begin(), pieces_.end(),
                      [](const Piece& piece) { return std::holds_alternative<Expression>(piece); });
}

tl::expected<Template, ExpressionError> parse_template(std::string_view text) {
  std::vector<Template::Piece> pieces;
  std::string literal;
  std::size_t position = 0;
  while (position < text.size()) {
    const std::size_t open = text.find("{{", position);
    if (open == std::string_view::npos) {
      literal += text.substr(position);
      break;
    }
    literal += text.substr(position, open - position);
    const std::size_t close = find_hole_end(text, open + 2);
    if (close == std::string_view::npos) {
      return tl::unexpected(ExpressionError{"this '{{' is never closed with '}}'", open,
                                            "to show '{{' itself, write {{\"{{\"}}"});
    }
    auto hole = parse_expression_at(text.substr(open + 2, close - open - 2), open + 2);
    if (!hole) {
      ExpressionError error = hole.error();
      error.offset += open + 2;
      return tl::unexpected(std::move(error));
    }
    // A hole that reads no variable, like the {{"{{"}} escape, is literal text.
    // One with a type error stays a hole, so the compiler still reports it.
    if (hole->variables().empty() && check_types(*hole, nullptr)) {
      literal += to_display_string(evaluate(*hole, Scope{}));
    } else {
      if (!literal.empty()) pieces.emplace_back(std::move(literal));
      literal.clear();
      pieces.emplace_back(std::move(*hole));
    }
    position = close + 2;
  }
  if (!literal.empty()) pieces.emplace_back(std::move(literal));
  return Template(std::move(pieces));
}

void Template::bind(const SlotTable& table) {
  for (auto& piece : pieces_) {
    if (auto* hole = std::get_if<Expression>(&piece)) hole->bind(table);
  }
}

namespace {

void append(std::string& text, const Value& value) {
  if (const auto* string = std::get_if<std::string>(&value)) text += *string;
  else text += to_display_string(value);
}

// One allocation for most messages: the literal text plus room for a short value per hole.
template <typename AnyScope>
std::string render_with(const Template& message, const AnyScope& scope) {
  std::size_t size = 0;
  for (const auto& piece : message.pieces()) {
    const auto* literal = std::get_if<std::string>(&piece);
    size += literal ? literal->size() : 8;
  }
  std::string text;
  text.reserve(size);
  for (const auto& piece : message.pieces()) {
    if (const auto* literal = std::get_if<std::string>(&piece)) text += *literal;
    else append(text, evaluate(std::get<Expression>(piece), scope));
  }
  return text;
}

}  // namespace

std::string render(const Template& message, const Scope& scope) { return render_with(message, scope); }

std::string render(const Template& message, SlotScope scope) { return render_with(message, scope); }

}  // namespace trellis::engine
