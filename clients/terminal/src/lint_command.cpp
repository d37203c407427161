#include "lint_command.hpp"

#include <filesystem>
#include <ostream>

#include "flow_lookup.hpp"
#include "trellis/engine_io/flow_directory.hpp"

namespace trellis::cli {

namespace {
std::string count(std::size_t n, std::string_view noun) {
  return std::to_string(n) + " " + std::string(noun) + (n == 1 ? "" : "s");
}
}  // namespace

CLI::App* add_lint_command(CLI::App& app, LintCommand& command) {
  auto* lint = app.add_subcommand("lint", "Check flow files and list every problem found");
  lint->add_option("PATH", command.paths,
                   "Flow files or folders to check; folders are searched for *.json "
                   "(default: $TRELLIS_DIALOGS, else ./dialogs)")
      ->type_name("FILE|DIR");
  lint->footer(R"(Each problem is printed as FILE:LINE:COLUMN: error|warning CODE at POINTER: message,
followed by a summary line. The exit status is 1 when there is any error.

Examples:
  trellis lint                                 every flow under ./dialogs
  trellis lint dialogs/braving/flow.json       one file
  trellis lint dialogs/braving my-flows        several places)");
  return lint;
}

int run_lint(const LintCommand& command, std::ostream& out) {
  std::vector<std::filesystem::path> paths(command.paths.begin(), command.paths.end());
  if (paths.empty()) paths.push_back(dialogs_folder(std::nullopt));
  auto flows = engine_io::find_flow_files(paths);
  auto set = engine_io::load_flows(paths);
  std::size_t errors = 0, warnings = 0;
  for (const auto& diagnostic : set.diagnostics) {
    out << engine::format(diagnostic) << "\n";
    (diagnostic.severity == engine::Severity::Error ? errors : warnings) += 1;
  }
  // The safety policy is linted with the flows it protects.
  std::size_t policy_count = 0;
  for (const auto& path : paths) {
    auto policy_file = engine_io::find_safety_policy(path);
    if (!policy_file) continue;
    ++policy_count;
    std::vector<engine::Diagnostic> policy_warnings;
    auto policy = engine_io::load_safety_policy(*policy_file, &policy_warnings);
    if (!policy) policy_warnings.insert(policy_warnings.end(), policy.error().begin(), policy.error().end());
    for (const auto& diagnostic : policy_warnings) {
      out << engine::format(diagnostic) << "\n";
      (diagnostic.severity == engine::Severity::Error ? errors : warnings) += 1;
    }
  }
  std::size_t flow_count = 0;
  for (const auto& file : flows) {
    std::error_code error;
    if (std::filesystem::exists(file, error)) ++flow_count;
  }
  out << count(flow_count, "flow") << (policy_count == 0   ? std::string()
                                                   : policy_count == 1 ? std::string(", 1 safety policy")
                                                                       : ", " + std::to_string(policy_count) + " safety policies")
      << ", " << count(errors, "error") << ", " << count(warnings, "warning")
      << "\n";
  return errors > 0 ? 1 : 0;
}

}  // namespace trellis::cli
