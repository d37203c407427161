#pragma once
// Reads flow files and transcripts from disk: the one place in engine/ that does I/O.
// Layout: dialogs/<flow>/flow.json (or any *.json flow file), transcripts beside it
// under dialogs/<flow>/transcripts/*.txt.
#include <filesystem>
#include <map>
#include <optional>
#include <memory>
#include <string>
#include <vector>

#include "trellis/engine/compile.hpp"
#include "trellis/engine/diagnostic.hpp"
#include "trellis/engine/flow.hpp"
#include "trellis/engine/safety.hpp"

namespace trellis::engine_io {

// Flow files under `paths` (files are taken as they are; folders are searched
// recursively for *.json, except *.schema.json and anything under a `safety` folder).
// A `safety` folder or its policy.json, given itself, holds no flows.
std::vector<std::filesystem::path> find_flow_files(const std::vector<std::filesystem::path>& paths);

// Transcript files (*.txt under a `transcripts` folder) under `paths`.
std::vector<std::filesystem::path> find_transcript_files(const std::vector<std::filesystem::path>& paths);

// Compiles one file; a read failure is reported as a diagnostic too.
engine::CompileResult load_flow_file(const std::filesystem::path& file,
                                     std::vector<engine::Diagnostic>* warnings = nullptr);

struct FlowSet {
  std::map<std::string, std::shared_ptr<const engine::Flow>> by_id;
  std::map<std::string, std::filesystem::path> file_by_id;
  std::vector<engine::Diagnostic> diagnostics;  // every error and warning, all files
  bool ok() const { return !engine::has_errors(diagnostics); }
};

// Compiles every flow under `paths`; two files with one flow id is an error too.
FlowSet load_flows(const std::vector<std::filesystem::path>& paths);

std::string read_file(const std::filesystem::path& file);  // throws std::runtime_error

// The deployment's safety policy: <dialogs>/safety/policy.json.
inline constexpr const char* kSafetyPolicyPath = "safety/policy.json";

// The policy file for `path`: the file itself when it is one named policy.json under a
// `safety` folder; <path>/policy.json for a `safety` folder; <path>/safety/policy.json
// for a dialogs folder. nullopt when there is none.
std::optional<std::filesystem::path> find_safety_policy(const std::filesystem::path& path);

// Compiles the policy file; a read failure is diagnostic S100.
tl::expected<std::shared_ptr<const engine::SafetyPolicy>, std::vector<engine::Diagnostic>> load_safety_policy(
    const std::filesystem::path& file, std::vector<engine::Diagnostic>* warnings = nullptr);

}  // namespace trellis::engine_io
