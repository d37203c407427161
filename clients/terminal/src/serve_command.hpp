#pragma once
// `trellis serve`: the HTTP and WebSocket server (docs/operations.md).
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

namespace trellis::cli {

struct ServeCommand {
  std::optional<std::string> config_file;
  std::optional<std::string> host;
  std::optional<int> port;
  std::optional<std::string> dialogs;
  std::optional<std::string> web_root;
  std::optional<std::string> database;
  std::optional<int> threads;
  std::optional<std::string> allowed_origins;
};

CLI::App* add_serve_command(CLI::App& app, ServeCommand& command);
int run_serve_command(const ServeCommand& command);

}  // namespace trellis::cli
