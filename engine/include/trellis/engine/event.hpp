#pragma once
// What can happen to a session: one event per step.
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace trellis::engine {

enum class CommandName { Help, Pause, Resume, Restart, Stop, Skip };
std::string_view to_string(CommandName name);  // "help", ...
std::optional<CommandName> command_from_string(std::string_view name);

struct StartEvent {};
struct TextEvent { std::string text; };
struct ChoiceEvent { std::string choice_id; };
struct CommandEvent { CommandName name; };

using Event = std::variant<StartEvent, TextEvent, ChoiceEvent, CommandEvent>;

}  // namespace trellis::engine
