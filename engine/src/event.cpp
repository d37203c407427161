#include "trellis/engine/event.hpp"

#include <array>

namespace trellis::engine {

namespace {
constexpr std::array<std::pair<CommandName, std::string_view>, 6> kCommandNames{{
    {CommandName::Help, "help"},
    {CommandName::Pause, "pause"},
    {CommandName::Resume, "resume"},
    {CommandName::Restart, "restart"},
    {CommandName::Stop, "stop"},
    {CommandName::Skip, "skip"},
}};
}  // namespace

std::string_view to_string(CommandName name) {
  for (const auto& [command, text] : kCommandNames) {
    if (command == name) return text;
  }
  return "help";
}

std::optional<CommandName> command_from_string(std::string_view name) {
  for (const auto& [command, text] : kCommandNames) {
    if (text == name) return command;
  }
  return std::nullopt;
}

}  // namespace trellis::engine
