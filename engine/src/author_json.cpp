#include "author_json.hpp"

namespace trellis::engine::detail {

std::string escape_pointer_token(std::string_view key) {
  std::string token;
  token.reserve(key.size());
  for (char c : key) {
    if (c == '~') token += "~0";
    else if (c == '/') token += "~1";
    else token += c;
  }
  return token;
}

std::string child(const std::string& pointer, std::string_view key) {
  return pointer + "/" + escape_pointer_token(key);
}

std::string child(const std::string& pointer, std::size_t index) {
  return pointer + "/" + std::to_string(index);
}

namespace {

template <typename AnyJson>
std::string_view type_name_of(const AnyJson& json) {
  if (json.is_string()) return "a string";
  if (json.is_boolean()) return "true/false";
  if (json.is_number_integer()) return "a whole number";
  if (json.is_number()) return "a number";
  if (json.is_array()) return "a list [...]";
  if (json.is_object()) return "an object {...}";
  return "null";
}

}  // namespace

std::string_view json_type_name(const nlohmann::ordered_json& json) { return type_name_of(json); }
std::string_view json_type_name(const nlohmann::json& json) { return type_name_of(json); }

}  // namespace trellis::engine::detail
