#include "callback_data.hpp"

#include <charconv>

namespace trellis::telegram {
namespace {
constexpr std::string_view kPrefix = "v1:";
}

std::optional<std::string> encode_flow(std::string_view flow_id) {
  std::string data = std::string(kPrefix) + "f:" + std::string(flow_id);
  if (flow_id.empty() || data.size() > kMaxCallbackBytes) return std::nullopt;
  return data;
}

std::string encode_choice(std::string_view key, std::size_t index) {
  return std::string(kPrefix) + std::string(key) + ":" + std::to_string(index);
}

std::string encode_command(std::string_view key, std::string_view command) {
  return std::string(kPrefix) + std::string(key) + ":c:" + std::string(command);
}

std::optional<CallbackData> decode_callback(std::string_view data) {
  if (data.size() > kMaxCallbackBytes || data.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  data.remove_prefix(kPrefix.size());
  auto colon = data.find(':');
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  auto key = data.substr(0, colon);
  auto rest = data.substr(colon + 1);
  CallbackData decoded;
  if (key == "f") {
    if (rest.empty()) return std::nullopt;
    decoded.kind = CallbackData::Kind::Flow;
    decoded.name = std::string(rest);
    return decoded;
  }
  decoded.key = std::string(key);
  if (rest.substr(0, 2) == "c:") {
    if (rest.size() == 2) return std::nullopt;
    decoded.kind = CallbackData::Kind::Command;
    decoded.name = std::string(rest.substr(2));
    return decoded;
  }
  auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), decoded.index);
  if (ec != std::errc() || end != rest.data() + rest.size() || rest.empty()) return std::nullopt;
  decoded.kind = CallbackData::Kind::Choice;
  return decoded;
}

}  // namespace trellis::telegram
