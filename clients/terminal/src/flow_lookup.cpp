#include "flow_lookup.hpp"

#include <cstdlib>

#include "trellis/engine/suggest.hpp"
#include "trellis/engine_io/flow_directory.hpp"

namespace trellis::cli {

namespace fs = std::filesystem;

namespace {

bool looks_like_path(const std::string& name) {
  return name.find('/') != std::string::npos || name.find('\\') != std::string::npos ||
         (name.size() > 5 && name.compare(name.size() - 5, 5, ".json") == 0);
}

engine::CompileResult not_found(std::string message, std::string hint, const fs::path& where) {
  engine::Diagnostic diagnostic;
  diagnostic.code = "F102";
  diagnostic.file = where.string();
  diagnostic.message = std::move(message);
  diagnostic.hint = std::move(hint);
  return tl::make_unexpected(std::vector<engine::Diagnostic>{std::move(diagnostic)});
}

}  // namespace

fs::path dialogs_folder(const std::optional<std::string>& option) {
  if (option && !option->empty()) return *option;
  if (const char* from_environment = std::getenv("TRELLIS_DIALOGS"); from_environment && *from_environment) {
    return from_environment;
  }
  return "dialogs";
}

engine::CompileResult find_flow(const std::string& name, const fs::path& dialogs) {
  std::error_code error;
  fs::path as_path(name);
  if (fs::is_regular_file(as_path, error)) return engine_io::load_flow_file(as_path);
  if (fs::is_directory(as_path, error) && fs::exists(as_path / "flow.json", error)) {
    return engine_io::load_flow_file(as_path / "flow.json");
  }
  if (looks_like_path(name)) {
    return not_found("no flow file at '" + name + "'", "check the path, or give a flow id like 'braving'", as_path);
  }
  fs::path usual = dialogs / name / "flow.json";
  if (fs::is_regular_file(usual, error)) return engine_io::load_flow_file(usual);

  if (!fs::is_directory(dialogs, error)) {
    return not_found("no flow '" + name + "': the dialogs folder '" + dialogs.string() + "' does not exist",
                     "run trellis from the project folder, or pass --dialogs DIR (or set TRELLIS_DIALOGS)",
                     dialogs);
  }
  // The id may differ from its folder's name: compile every flow file and look.
  std::vector<std::string> known;
  for (const auto& file : engine_io::find_flow_files({dialogs})) {
    auto flow = engine_io::load_flow_file(file);
    if (!flow) continue;
    if ((*flow)->info.id == name) return flow;
    known.push_back((*flow)->info.id);
  }
  std::string hint;
  if (auto closest = engine::closest_match(name, known)) {
    hint = "did you mean '" + *closest + "'?";
  } else {
    std::string list;
    for (const auto& id : known) list += (list.empty() ? "" : ", ") + id;
    hint = list.empty() ? "there are no working flows there" : "the flows there are: " + list;
  }
  return not_found("no flow with id '" + name + "' under " + dialogs.string(), hint, dialogs);
}

std::string format_all(const std::vector<engine::Diagnostic>& diagnostics) {
  std::string out;
  for (const auto& diagnostic : diagnostics) out += engine::format(diagnostic) + "\n";
  return out;
}

}  // namespace trellis::cli
