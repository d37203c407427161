#pragma once
// Finding the flow a command names: an id under the dialogs folder, or a path.
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "trellis/engine/compile.hpp"

namespace trellis::cli {

// The dialogs folder: `option` when given, else $TRELLIS_DIALOGS, else "dialogs".
std::filesystem::path dialogs_folder(const std::optional<std::string>& option);

// `name` is a path when it names an existing file or folder, or looks like one
// (contains '/' or ends in ".json"); otherwise it is a flow id, looked up first
// as <dialogs>/<id>/flow.json and then among every flow under `dialogs`.
// Errors are diagnostics: the flow's own compile errors, or one that says what
// was not found (with "did you mean" when an id is close to a known one).
engine::CompileResult find_flow(const std::string& name, const std::filesystem::path& dialogs);

// Prints each diagnostic with engine::format, one a line.
std::string format_all(const std::vector<engine::Diagnostic>& diagnostics);

}  // namespace trellis::cli
