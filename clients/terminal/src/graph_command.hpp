#pragma once
// `trellis graph FLOW [--format mermaid|dot]`: draw a flow's nodes and arrows.
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

namespace trellis::cli {

struct GraphCommand {
  std::string flow;
  std::string format = "mermaid";
  std::optional<std::string> dialogs;
};

CLI::App* add_graph_command(CLI::App& app, GraphCommand& command);
int run_graph_command(const GraphCommand& command);

}  // namespace trellis::cli
