#pragma once
// What every reader of an author's JSON file (flows, the safety policy, the
// classifier) says the same way: where a value is (RFC 6901 JSON Pointers, which
// the source map turns into lines and columns) and what it was instead of what
// it should have been. Internal to the engine.
#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace trellis::engine::detail {

// RFC 6901: "~" is written "~0" and "/" is written "~1".
std::string escape_pointer_token(std::string_view key);

// The pointer to `key` or to item `index` inside the value at `pointer`.
std::string child(const std::string& pointer, std::string_view key);
std::string child(const std::string& pointer, std::size_t index);

// "a string", "a whole number", "a list [...]", ...: for "this should be X, not Y".
std::string_view json_type_name(const nlohmann::ordered_json& json);
std::string_view json_type_name(const nlohmann::json& json);

}  // namespace trellis::engine::detail
