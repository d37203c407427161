#pragma once
// `trellis lint [PATH...]`: check flow files and report every problem.
#include <iosfwd>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace trellis::cli {

struct LintCommand {
  std::vector<std::string> paths;  // empty: the dialogs folder
};

CLI::App* add_lint_command(CLI::App& app, LintCommand& command);
// Prints every diagnostic, then "N flows, E errors, W warnings"; 1 when any is an error.
int run_lint(const LintCommand& command, std::ostream& out);

}  // namespace trellis::cli
