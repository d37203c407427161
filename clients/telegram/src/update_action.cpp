#include "update_action.hpp"

#include <algorithm>
#include <cctype>

namespace trellis::telegram {
namespace {

using nlohmann::json;

std::int64_t int_at(const json& object, const char* name) {
  auto it = object.find(name);
  return it != object.end() && it->is_number_integer() ? it->get<std::int64_t>() : 0;
}

std::string string_at(const json& object, const char* name) {
  auto it = object.find(name);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

const json* object_at(const json& object, const char* name) {
  auto it = object.find(name);
  return it != object.end() && it->is_object() ? &*it : nullptr;
}

// "/start@reflect_demo_bot extra" -> "start". Empty when `text` is not a command.
std::string command_name(const std::string& text, const json& message) {
  if (text.empty() || text.front() != '/') return {};
  // Telegram marks commands with a bot_command entity at offset 0; "/ 5" typed by hand has none.
  bool marked = false;
  if (auto it = message.find("entities"); it != message.end() && it->is_array()) {
    for (const auto& entity : *it) {
      if (entity.is_object() && string_at(entity, "type") == "bot_command" && int_at(entity, "offset") == 0) marked = true;
    }
  }
  if (!marked) return {};
  auto end = text.find_first_of(" \n@", 1);
  std::string name = text.substr(1, end == std::string::npos ? std::string::npos : end - 1);
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  return name;
}

}  // namespace

UpdateAction action_for_update(const json& update) {
  UpdateAction action;
  if (!update.is_object()) return action;
  action.update_id = int_at(update, "update_id");

  if (const auto* member = object_at(update, "my_chat_member")) {
    const auto* chat = object_at(*member, "chat");
    const auto* now = object_at(*member, "new_chat_member");
    if (chat && now && string_at(*chat, "type") == "private") {
      action.chat_id = int_at(*chat, "id");
      auto status = string_at(*now, "status");
      if (status == "kicked") action.kind = UpdateAction::Kind::Blocked;
    }
    return action;
  }

  if (const auto* edited = object_at(update, "edited_message")) {
    // A guided conversation has moved on: an edit is never applied as a new answer.
    if (const auto* chat = object_at(*edited, "chat")) action.chat_id = int_at(*chat, "id");
    return action;
  }

  if (const auto* query = object_at(update, "callback_query")) {
    action.callback_query_id = string_at(*query, "id");
    action.data = string_at(*query, "data");
    const auto* message = object_at(*query, "message");
    const auto* chat = message ? object_at(*message, "chat") : nullptr;
    if (!chat) return action;  // an inline-mode button: not ours
    action.chat_id = int_at(*chat, "id");
    action.message_id = int_at(*message, "message_id");
    action.kind = string_at(*chat, "type") == "private" ? UpdateAction::Kind::Press : UpdateAction::Kind::GroupChat;
    return action;
  }

  const auto* message = object_at(update, "message");
  if (!message) return action;
  const auto* chat = object_at(*message, "chat");
  if (!chat) return action;
  action.chat_id = int_at(*chat, "id");
  if (string_at(*chat, "type") != "private") {
    action.kind = UpdateAction::Kind::GroupChat;
    return action;
  }
  auto text_it = message->find("text");
  if (text_it == message->end() || !text_it->is_string()) {
    action.kind = UpdateAction::Kind::NotText;
    return action;
  }
  action.text = text_it->get<std::string>();
  if (auto name = command_name(action.text, *message); !name.empty()) {
    action.kind = UpdateAction::Kind::Command;
    action.text = name;
    return action;
  }
  action.kind = UpdateAction::Kind::Text;
  return action;
}

}  // namespace trellis::telegram
