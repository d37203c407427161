#include "trellis/engine_io/flow_directory.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>

#include "trellis/engine/source_map.hpp"

namespace trellis::engine_io {

namespace fs = std::filesystem;

namespace {

bool ends_with(const std::string& text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool is_flow_file_name(const fs::path& file) {
  auto name = file.filename().string();
  return ends_with(name, ".json") && !ends_with(name, ".schema.json");
}

// Walks `folder` in a stable order, calling `take` on each regular file. Folders
// whose name starts with '.' are never entered (.git, editor folders), and
// `skip_folder` can rule out more.
template <typename SkipFolder, typename Take>
void walk(const fs::path& folder, SkipFolder skip_folder, Take take) {
  std::error_code error;
  std::vector<fs::directory_entry> entries;
  for (fs::directory_iterator it(folder, error), end; !error && it != end; it.increment(error)) {
    entries.push_back(*it);
  }
  std::sort(entries.begin(), entries.end(),
            [](const auto& a, const auto& b) { return a.path().filename() < b.path().filename(); });
  for (const auto& entry : entries) {
    auto name = entry.path().filename().string();
    std::error_code kind_error;
    if (entry.is_directory(kind_error)) {
      if (!name.empty() && name.front() == '.') continue;
      if (skip_folder(entry.path())) continue;
      walk(entry.path(), skip_folder, take);
    } else if (entry.is_regular_file(kind_error)) {
      take(entry.path());
    }
  }
}

engine::Diagnostic file_error(const fs::path& file, std::string code, std::string message,
                              std::string hint = {}) {
  engine::Diagnostic diagnostic;
  diagnostic.code = std::move(code);
  diagnostic.severity = engine::Severity::Error;
  diagnostic.file = file.string();
  diagnostic.message = std::move(message);
  diagnostic.hint = std::move(hint);
  return diagnostic;
}

// "dialogs/safety/" names the folder "safety", as "dialogs/safety" does.
fs::path without_trailing_separator(const fs::path& path) {
  return path.has_filename() ? path : path.parent_path();
}

// The safety policy's own file or folder, named itself: checked as the policy, never as flows.
bool names_the_safety_policy(const fs::path& given) {
  auto path = without_trailing_separator(given);
  auto policy = find_safety_policy(path);
  return policy && (*policy == path || policy->parent_path() == path);
}

}  // namespace

std::vector<fs::path> find_flow_files(const std::vector<fs::path>& paths) {
  std::vector<fs::path> files;
  for (const auto& path : paths) {
    if (names_the_safety_policy(path)) continue;
    std::error_code error;
    if (fs::is_directory(path, error)) {
      walk(
          path, [](const fs::path& folder) { return folder.filename() == "safety"; },
          [&](const fs::path& file) {
            if (is_flow_file_name(file)) files.push_back(file);
          });
    } else {
      files.push_back(path);
    }
  }
  return files;
}

std::vector<fs::path> find_transcript_files(const std::vector<fs::path>& paths) {
  std::vector<fs::path> files;
  for (const auto& path : paths) {
    std::error_code error;
    if (fs::is_directory(path, error)) {
      walk(
          path, [](const fs::path&) { return false; },
          [&](const fs::path& file) {
            if (file.extension() == ".txt" && file.parent_path().filename() == "transcripts") {
              files.push_back(file);
            }
          });
    } else {
      files.push_back(path);
    }
  }
  return files;
}

std::string read_file(const fs::path& file) {
  std::error_code error;
  if (fs::is_directory(file, error)) throw std::runtime_error("it is a folder, not a file");
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    throw std::runtime_error(errno != 0 ? std::strerror(errno) : "cannot open the file");
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw std::runtime_error("cannot read the file");
  return std::move(text).str();
}

engine::CompileResult load_flow_file(const fs::path& file, std::vector<engine::Diagnostic>* warnings) {
  std::string text;
  try {
    text = read_file(file);
  } catch (const std::exception& error) {
    return tl::make_unexpected(std::vector<engine::Diagnostic>{
        file_error(file, "F100", std::string("cannot read the flow file: ") + error.what(),
                   "check the path and the file's permissions")});
  }
  return engine::compile_flow(text, file.string(), warnings);
}

FlowSet load_flows(const std::vector<fs::path>& paths) {
  FlowSet set;
  for (const auto& path : paths) {
    std::error_code error;
    if (!fs::exists(path, error)) {
      set.diagnostics.push_back(file_error(path, "F102", "no such file or folder",
                                           "check the path; flows live in dialogs/<id>/flow.json"));
    }
  }
  for (const auto& file : find_flow_files(paths)) {
    std::error_code error;
    if (!fs::exists(file, error)) continue;  // reported above
    std::vector<engine::Diagnostic> warnings;
    auto flow = load_flow_file(file, &warnings);
    set.diagnostics.insert(set.diagnostics.end(), warnings.begin(), warnings.end());
    if (!flow) {
      set.diagnostics.insert(set.diagnostics.end(), flow.error().begin(), flow.error().end());
      continue;
    }
    const auto& id = (*flow)->info.id;
    if (auto previous = set.file_by_id.find(id); previous != set.file_by_id.end()) {
      auto diagnostic = file_error(
          file, "F101",
          "flow id '" + id + "' is already used by " + previous->second.string(),
          "give one of the two flows a different \"id\"");
      diagnostic.pointer = "/id";
      try {
        auto position = engine::SourceMap::scan(read_file(file)).find("/id");
        diagnostic.line = position.line;
        diagnostic.column = position.column;
      } catch (const std::exception&) {
        // It compiled a moment ago; without its text the file alone still says where.
      }
      set.diagnostics.push_back(std::move(diagnostic));
      continue;
    }
    set.by_id.emplace(id, *flow);
    set.file_by_id.emplace(id, file);
  }
  return set;
}

std::optional<fs::path> find_safety_policy(const fs::path& given) {
  auto path = without_trailing_separator(given);
  std::error_code error;
  if (fs::is_regular_file(path, error)) {
    if (path.filename() == "policy.json" && path.parent_path().filename() == "safety") return path;
    return std::nullopt;
  }
  if (path.filename() == "safety" && fs::is_regular_file(path / "policy.json", error)) return path / "policy.json";
  if (fs::is_regular_file(path / kSafetyPolicyPath, error)) return path / kSafetyPolicyPath;
  return std::nullopt;
}

tl::expected<std::shared_ptr<const engine::SafetyPolicy>, std::vector<engine::Diagnostic>> load_safety_policy(
    const fs::path& file, std::vector<engine::Diagnostic>* warnings) {
  std::string text;
  try {
    text = read_file(file);
  } catch (const std::exception& error) {
    return tl::make_unexpected(std::vector<engine::Diagnostic>{
        file_error(file, "S100", std::string("cannot read the safety policy: ") + error.what(),
                   "check the path and the file's permissions")});
  }
  auto policy = engine::compile_safety_policy(text, file.string(), warnings);
  if (!policy || (*policy)->classifier_file.empty()) return policy;

  // The classifier the policy names, beside it; its problems are the policy's problems.
  auto classifier_path = file.parent_path() / (*policy)->classifier_file;
  std::string classifier_text;
  try {
    classifier_text = read_file(classifier_path);
  } catch (const std::exception& error) {
    auto diagnostic = file_error(file, "S101",
                                 "cannot read the classifier \"" + (*policy)->classifier_file + "\" (" +
                                     classifier_path.string() + "): " + error.what(),
                                 "train one with `trellis safety train --out " + classifier_path.string() +
                                     "`, or remove \"classifier\" to run the rules alone");
    diagnostic.pointer = "/classifier";
    auto position = engine::SourceMap::scan(text).find("/classifier");
    diagnostic.line = position.line;
    diagnostic.column = position.column;
    return tl::make_unexpected(std::vector<engine::Diagnostic>{std::move(diagnostic)});
  }
  std::vector<std::string> categories;
  for (const auto& category : (*policy)->categories) categories.push_back(category.id);
  auto classifier = engine::compile_safety_classifier(classifier_text, classifier_path.string(), categories, warnings);
  if (!classifier) return tl::make_unexpected(std::move(classifier.error()));
  auto with_classifier = std::make_shared<engine::SafetyPolicy>(**policy);
  with_classifier->classifier = std::move(*classifier);
  return std::shared_ptr<const engine::SafetyPolicy>(std::move(with_classifier));
}

}  // namespace trellis::engine_io
