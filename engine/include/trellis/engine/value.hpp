#pragma once
// A value in a session: what a person answered, or what an expression computed.
#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <string_view>
#include <unordered_map>
#include <optional>
#include <string>
#include <variant>

#include <nlohmann/json.hpp>

namespace trellis::engine {

// Numbers are doubles so that averages work; integral values print without a
// decimal point ("42", not "42.0").
using Value = std::variant<double, std::string, bool>;

enum class ValueType { Number, String, Boolean };

// Hashes names for Scope so lookups by std::string_view need no temporary string.
struct NameHash {
  using is_transparent = void;
  // FNV-1a: variable names are short, and this inlines where std::hash calls out.
  std::size_t operator()(std::string_view name) const noexcept {
    std::size_t hash = 14695981039346656037ull;
    for (unsigned char c : name) hash = (hash ^ c) * 1099511628211ull;
    return hash;
  }
};

// Variables by name: for evaluating outside a compiled flow, and for the names a
// session's Variables do not hold in slots. Nothing depends on its iteration order
// (saved state goes through a sorted JSON object).
using Scope = std::unordered_map<std::string, Value, NameHash, std::equal_to<>>;

// compile_flow numbers every variable a flow can read or write: its slot. While a
// step runs, the session's variables are read by slot (SlotScope: slot -> value,
// empty when not set), so an expression never hashes a name.
using VariableSlot = std::uint32_t;
inline constexpr VariableSlot kNoSlot = static_cast<VariableSlot>(-1);
using SlotTable = std::unordered_map<std::string, VariableSlot, NameHash, std::equal_to<>>;
using SlotScope = std::span<const std::optional<Value>>;

ValueType type_of(const Value& value);
std::string_view type_name(ValueType type);  // "number", "string", "boolean"

// How a value reads inside a message: 7, 7.5, "text" without quotes, yes/no for booleans.
std::string to_display_string(const Value& value);

nlohmann::json to_json(const Value& value);
// Numbers, strings and booleans only; anything else is nullopt.
std::optional<Value> value_from_json(const nlohmann::json& json);

}  // namespace trellis::engine
