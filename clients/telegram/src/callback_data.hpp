#pragma once
// What an inline button carries back (callback_data, 1-64 bytes of UTF-8).
//
//   v1:f:<flow id>          start a flow (from /start or /flows)
//   v1:<key>:<index>        choice number <index> (from 0) of the prompt <key>
//   v1:<key>:c:<command>    a command button under the prompt <key>
//
// <key> names the question the buttons belong to: the prompt's (or safety
// frame's) output id in decimal, or "s<seq>" for a safety frame without an id.
// A press whose key is not the open question's is stale: it is answered with
// a toast and never sent to the server.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace trellis::telegram {

inline constexpr std::size_t kMaxCallbackBytes = 64;

struct CallbackData {
  enum class Kind { Flow, Choice, Command };
  Kind kind = Kind::Choice;
  std::string key;   // Choice, Command: the question's key
  std::string name;  // Flow: the flow id; Command: the command name
  std::size_t index = 0;  // Choice
  friend bool operator==(const CallbackData&, const CallbackData&) = default;
};

// nullopt when the result would be longer than 64 bytes (a flow id that long).
std::optional<std::string> encode_flow(std::string_view flow_id);
std::string encode_choice(std::string_view key, std::size_t index);
std::string encode_command(std::string_view key, std::string_view command);

// nullopt for anything this bridge did not write (an old version's buttons included).
std::optional<CallbackData> decode_callback(std::string_view data);

}  // namespace trellis::telegram
