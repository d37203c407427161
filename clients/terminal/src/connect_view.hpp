#pragma once
// How `trellis connect` shows protocol v1 frames (docs/protocol.md) as plain text,
// and which frame a typed line becomes. Pure: tests call these directly.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "trellis/engine/output.hpp"

namespace trellis::cli {

// The engine output a `message`, `prompt`, `pause` or `end` frame stands for, so
// that connect shows it exactly as `trellis chat` would (chat_view's render_output).
// nullopt for any other frame, or one missing the fields protocol v1 requires.
std::optional<engine::Output> output_from_frame(const nlohmann::json& frame);

// The text for one server frame, ending in a newline, or "" when there is nothing
// to show (a pause, a welcome, a type this client does not know):
//   message, prompt, end → as render_output in chat_view.hpp
//   error                → "(error bad_choice: 'choice' is not one of the open prompt's choices)\n"
std::string render_frame(const nlohmann::json& frame);

// The frame a typed line becomes, with this `seq`, at `open_prompt` (null when unknown):
//   a command word, alone, with or without "/", any case ("stop", "/Help")
//                                   → {"type":"command","seq":S,"name":"stop"}
//   on a choice or yes/no prompt, a number from 1 to the count of options
//                                   → {"type":"input","seq":S,"choice":ID of that option}
//   on a scale prompt, one of its values ("7")
//                                   → {"type":"input","seq":S,"choice":"7"}
//   anything else, as typed         → {"type":"input","seq":S,"text":LINE}
nlohmann::json frame_for_line(std::string_view line, const engine::PromptOutput* open_prompt, std::int64_t seq);

// The numbered list of welcome's `flows`:
//   "  1) BRAVING check-in (about 10 minutes)\n     Seven quick ratings of ...\n"
std::string render_flow_menu(const nlohmann::json& flows);
// The flow id a typed line picks from welcome's `flows`: its number in the menu or its id.
std::optional<std::string> pick_flow(std::string_view line, const nlohmann::json& flows);

}  // namespace trellis::cli
