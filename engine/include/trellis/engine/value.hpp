#pragma once
// A value in a session: what a person answered, or what an expression computed.
#include <functional>
#include <map>
#include <string_view>
#include <unordered_map>
#include <optional>
#include <string>
#include <variant>

#include <nlohmann/json.hpp>

#include "trellis/engine/scope.hpp"

namespace trellis::engine {

// Numbers are doubles so that averages work; integral values print without a
// decimal point ("42", not "42.0").
using Value = std::variant<double, std::string, bool>;

enum class ValueType { Number, String, Boolean };

// The variables a session has set, by name (scope.hpp says why it is a flat array).
using Scope = FlatScope<Value>;

ValueType type_of(const Value& value);
std::string_view type_name(ValueType type);  // "number", "string", "boolean"

// How a value reads inside a message: 7, 7.5, "text" without quotes, yes/no for booleans.
std::string to_display_string(const Value& value);

nlohmann::json to_json(const Value& value);
// Numbers, strings and booleans only; anything else is nullopt.
std::optional<Value> value_from_json(const nlohmann::json& json);

}  // namespace trellis::engine
