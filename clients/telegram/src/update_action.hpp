#pragma once
// What one Telegram Update asks the bridge to do. Pure: the JSON goes in, a
// value comes out; the bridge decides how to carry it out.
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace trellis::telegram {

struct UpdateAction {
  enum class Kind {
    Ignore,     // nothing to do (an edit, an update type we do not use, a malformed update)
    GroupChat,  // a message or button press outside a private chat: point to a private chat
    NotText,    // a photo, sticker, voice note...: say that only text works
    Text,       // `text`: what the person typed
    Command,    // `text`: the command name without "/" and "@bot", lower case
    Press,      // a button: `callback_query_id`, `message_id` of its message, `data`
    Blocked,    // the person blocked the bot
  };
  Kind kind = Kind::Ignore;
  std::int64_t update_id = 0;
  std::int64_t chat_id = 0;  // 0 when the update has no chat
  std::string text;
  std::string callback_query_id;
  std::int64_t message_id = 0;
  std::string data;
};

UpdateAction action_for_update(const nlohmann::json& update);

}  // namespace trellis::telegram
