#pragma once
// How `trellis chat` shows a conversation as plain text, and how it reads what
// the person types. No terminal here: tests call these directly.
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>

#include "trellis/engine/event.hpp"
#include "trellis/engine/flow.hpp"
#include "trellis/engine/output.hpp"

namespace trellis::cli {

// The text for one output, ending in a newline, or "" for a pause.
//   message  → its text
//   choice   → "  1) Yes\n  2) Not now\n"
//   scale    → "  1–10\n";  number → "  a number from 0 to 120\n"
//   commands → "  (type help, pause, stop)\n" after the options
//   end      → "(end: completed)\n" and one "  key: value" line per summary item
std::string render_output(const engine::Output& output);

// What a typed line means at `open_prompt`: on a choice or yes/no prompt a number
// from 1 to the count of options presses that option; anything else (including
// "help" and other command words, which the engine recognises) goes as text.
engine::Event event_for_input(const std::string& line, const engine::PromptOutput* open_prompt);

struct ChatOptions {
  bool show_prompt_marker = false;              // print "> " before reading (a terminal)
  std::function<void(int ms)> wait;             // honours pauses; null skips them
  const engine::SafetyPolicy* policy = nullptr; // dialogs/safety/policy.json; null: no safety layer
  std::string region;                           // "" : the policy's default region
};

// Runs a whole conversation with `flow`, reading lines from `in` until the flow
// ends or the input does (Ctrl-D). Returns the process exit code.
int run_chat(const engine::Flow& flow, std::istream& in, std::ostream& out, const ChatOptions& options);

}  // namespace trellis::cli
