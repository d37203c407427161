#pragma once
// `trellis chat [FLOW] [--fast] [--dialogs DIR] [--region ID]`: talk to a flow in this terminal.
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

namespace trellis::cli {

struct ChatCommand {
  std::string flow = "braving";
  bool fast = false;
  std::optional<std::string> dialogs;
  std::string region;  // safety resources; "" = the policy's default region
};

CLI::App* add_chat_command(CLI::App& app, ChatCommand& command);
int run_chat_command(const ChatCommand& command);

}  // namespace trellis::cli
