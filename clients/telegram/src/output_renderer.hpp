#pragma once
// Turns protocol v1 server frames (docs/protocol.md) into Bot API requests for
// one chat. Pure: no I/O, no clock. The bridge sends the requests in order,
// waits out each Step::Kind::Wait, and records what each request delivered.
//
// - message: plain text (no parse_mode), split under 4,096 characters. The last
//   message before a prompt is held back so the prompt's buttons can ride on it.
// - prompt: an inline keyboard, one button per choice (callback_data from
//   callback_data.hpp) and a row for the prompt's commands.
// - pause: sendChatAction "typing" (renewed every 4 s), then a real wait.
// - end: the summary as readable lines.
// - safety: the response and every resource in a message that stands out, with
//   its choices as buttons.
// - error: a short, kind sentence for the codes a person can meet.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace trellis::telegram {

struct Step {
  enum class Kind { Request, Wait };
  Kind kind = Kind::Request;
  std::string method;             // Request: "sendMessage", "sendChatAction", ...
  nlohmann::json params;          // Request: the JSON body
  std::chrono::milliseconds wait{0};  // Wait
  std::int64_t delivers = 0;      // the highest output id this step completes (0: none)
  bool has_keyboard = false;      // Request: remember the sent message's id to remove the keyboard later
};

// The question the person can answer now, by buttons or typing.
struct OpenQuestion {
  std::string key;                        // callback_data.hpp's <key>
  std::vector<std::string> choice_ids;    // by button index
  friend bool operator==(const OpenQuestion&, const OpenQuestion&) = default;
};

class OutputRenderer {
 public:
  explicit OutputRenderer(std::int64_t chat_id) : chat_id_(chat_id) {}

  // The steps for one frame. `live`: part of the turn just answered (false for
  // outputs re-sent on resume, whose pauses were already waited out).
  std::vector<Step> render(const nlohmann::json& frame, bool live);
  // The held-back message, if any: call at the end of a turn.
  std::vector<Step> flush();

  // After the frames rendered so far: the open question (nullopt after an end),
  // or unchanged when no prompt, safety or end was seen.
  bool question_changed() const { return question_changed_; }
  const std::optional<OpenQuestion>& question() const { return question_; }

 private:
  Step send_text(const std::string& text, std::int64_t delivers) const;

  std::int64_t chat_id_;
  std::optional<std::string> held_text_;  // the last piece of the latest message
  std::int64_t held_id_ = 0;
  bool question_changed_ = false;
  std::optional<OpenQuestion> question_;
};

// Requests that are not outputs, shared by the bridge.
Step send_message(std::int64_t chat_id, const std::string& text, nlohmann::json keyboard = nullptr);
Step remove_keyboard(std::int64_t chat_id, std::int64_t message_id);
Step answer_callback(const std::string& callback_query_id, const std::string& toast = {});
// /start and /flows: one button per flow of welcome's "flows".
nlohmann::json flows_keyboard(const nlohmann::json& flows);
// The end summary, readable: "Boundaries: 8" per line. Empty for an empty summary.
std::string render_summary(const nlohmann::json& summary);

}  // namespace trellis::telegram
