#pragma once
// `trellis test [PATH...]`: play transcript tests against their flows.
#include <filesystem>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace trellis::cli {

struct TestCommand {
  std::vector<std::string> paths;  // empty: the dialogs folder
  std::optional<std::string> dialogs;
};

CLI::App* add_test_command(CLI::App& app, TestCommand& command);
// Prints "PASS file" or "FAIL file" and why, for each transcript, then
// "transcripts: P passed, F failed"; returns 1 when any failed.
int run_test(const TestCommand& command, std::ostream& out);

// The flow file a transcript without a `flow:` line belongs to: flow.json in the
// folder above its `transcripts` folder, else the only flow file there.
std::optional<std::filesystem::path> default_flow_file(const std::filesystem::path& transcript);

}  // namespace trellis::cli
