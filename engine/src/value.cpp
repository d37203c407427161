#include "trellis/engine/value.hpp"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <optional>

namespace trellis::engine {
namespace {

std::string format_number(const char* format, double number) {
  int size = std::snprintf(nullptr, 0, format, number);
  if (size <= 0) return "0";
  std::string text(static_cast<std::size_t>(size), '\0');
  std::snprintf(text.data(), text.size() + 1, format, number);
  return text;
}

std::string display_number(double number) {
  // Evaluation keeps numbers finite; this only guards values built elsewhere.
  if (std::isnan(number)) return "0";
  if (std::isinf(number)) return number > 0 ? "infinity" : "-infinity";
  // Beyond 1e15 a double has no hundredths left to show, and *100 could overflow.
  double shown = std::fabs(number) >= 1e15 ? std::round(number) : std::round(number * 100) / 100;
  if (shown == 0) return "0";  // also turns -0.001 into "0", not "-0"
  // Whole numbers are what messages show most ("You rated 7"): std::to_string is
  // several times faster than printf's floating-point path.
  if (shown == std::trunc(shown)) {
    return std::fabs(shown) < 1e15 ? std::to_string(static_cast<long long>(shown)) : format_number("%.0f", shown);
  }
  std::string text = format_number("%.2f", shown);
  while (!text.empty() && text.back() == '0') text.pop_back();
  if (!text.empty() && text.back() == '.') text.pop_back();
  return text;
}

}  // namespace

ValueType type_of(const Value& value) {
  switch (value.index()) {
    case 0: return ValueType::Number;
    case 1: return ValueType::String;
    default: return ValueType::Boolean;
  }
}

std::string_view type_name(ValueType type) {
  switch (type) {
    case ValueType::Number: return "number";
    case ValueType::String: return "string";
    case ValueType::Boolean: return "boolean";
  }
  return "value";
}

std::string to_display_string(const Value& value) {
  if (const auto* number = std::get_if<double>(&value)) return display_number(*number);
  if (const auto* text = std::get_if<std::string>(&value)) return *text;
  return std::get<bool>(value) ? "yes" : "no";
}

nlohmann::json to_json(const Value& value) {
  if (const auto* number = std::get_if<double>(&value)) {
    // Whole numbers go out as JSON integers, so a summary reads 7 rather than 7.0.
    constexpr double kExactIntegerLimit = 9007199254740992.0;  // 2^53
    if (std::isfinite(*number) && *number == std::trunc(*number) &&
        std::fabs(*number) <= kExactIntegerLimit) {
      return static_cast<std::int64_t>(*number);
    }
    return *number;
  }
  if (const auto* text = std::get_if<std::string>(&value)) return *text;
  return std::get<bool>(value);
}

std::optional<Value> value_from_json(const nlohmann::json& json) {
  if (json.is_boolean()) return Value{json.get<bool>()};
  if (json.is_number()) return Value{json.get<double>()};
  if (json.is_string()) return Value{json.get<std::string>()};
  return std::nullopt;
}

}  // namespace trellis::engine
