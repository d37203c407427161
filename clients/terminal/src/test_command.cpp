#include "test_command.hpp"

#include <map>
#include <ostream>

#include "flow_lookup.hpp"
#include "trellis/engine/transcript.hpp"
#include "trellis/engine_io/flow_directory.hpp"

namespace trellis::cli {

namespace fs = std::filesystem;

namespace {

// Several transcripts share a flow: compile each file once.
class FlowCache {
 public:
  const engine::CompileResult& load(const fs::path& file) {
    std::error_code error;
    auto key = fs::weakly_canonical(file, error).string();
    if (error) key = file.string();
    auto found = flows_.find(key);
    if (found == flows_.end()) found = flows_.emplace(key, engine_io::load_flow_file(file)).first;
    return found->second;
  }

 private:
  std::map<std::string, engine::CompileResult> flows_;
};

struct Located {
  std::shared_ptr<const engine::Flow> flow;
  std::string problem;  // why there is no flow, when flow is null
};

class FlowFinder {
 public:
  FlowFinder(std::vector<fs::path> search, FlowCache& cache) : search_(std::move(search)), cache_(cache) {}

  Located for_transcript(const fs::path& transcript_file, const std::string& flow_id) {
    auto local = default_flow_file(transcript_file);
    if (flow_id.empty()) {
      if (!local) {
        return {nullptr, "no flow file found for it in " + flow_folder(transcript_file).string() +
                             "; add a 'flow: <id>' line"};
      }
      return compiled(*local);
    }
    if (local) {
      const auto& flow = cache_.load(*local);
      if (flow && (*flow)->info.id == flow_id) return {*flow, {}};
    }
    for (const auto& root : search_) {
      auto usual = root / flow_id / "flow.json";
      std::error_code error;
      if (!fs::is_regular_file(usual, error)) continue;
      const auto& flow = cache_.load(usual);
      if (!flow) return compiled(usual);
      if ((*flow)->info.id == flow_id) return {*flow, {}};
    }
    for (const auto& file : engine_io::find_flow_files(search_)) {
      const auto& flow = cache_.load(file);
      if (flow && (*flow)->info.id == flow_id) return {*flow, {}};
    }
    return {nullptr, "no flow with id '" + flow_id + "' (named by its 'flow:' line)"};
  }

 private:
  static fs::path flow_folder(const fs::path& transcript) { return transcript.parent_path().parent_path(); }

  Located compiled(const fs::path& file) {
    const auto& flow = cache_.load(file);
    if (flow) return {*flow, {}};
    return {nullptr, "its flow does not compile:\n" + format_all(flow.error())};
  }

  std::vector<fs::path> search_;
  FlowCache& cache_;
};

std::string indent(const std::string& text) {
  std::string out = "  ";
  for (std::size_t i = 0; i < text.size(); ++i) {
    out += text[i];
    if (text[i] == '\n' && i + 1 < text.size()) out += "  ";
  }
  if (!out.empty() && out.back() != '\n') out += '\n';
  return out;
}

}  // namespace

std::optional<fs::path> default_flow_file(const fs::path& transcript) {
  auto folder = transcript.parent_path().parent_path();
  std::error_code error;
  if (folder.empty()) folder = ".";
  if (fs::is_regular_file(folder / "flow.json", error)) return folder / "flow.json";
  std::optional<fs::path> only;
  for (fs::directory_iterator it(folder, error), end; !error && it != end; it.increment(error)) {
    auto name = it->path().filename().string();
    bool is_flow = it->is_regular_file(error) && name.size() > 5 && name.ends_with(".json") &&
                   !name.ends_with(".schema.json");
    if (!is_flow) continue;
    if (only) return std::nullopt;  // more than one: the transcript must say which
    only = it->path();
  }
  return only;
}

CLI::App* add_test_command(CLI::App& app, TestCommand& command) {
  auto* test = app.add_subcommand("test", "Play transcript tests against their flows");
  test->add_option("PATH", command.paths,
                   "Transcript files, or folders searched for transcripts/*.txt "
                   "(default: $TRELLIS_DIALOGS, else ./dialogs)")
      ->type_name("FILE|DIR");
  test->add_option("--dialogs", command.dialogs,
                   "Where a transcript's 'flow: <id>' is looked up (default: $TRELLIS_DIALOGS, else ./dialogs)")
      ->type_name("DIR");
  test->footer(R"(A transcript is a conversation written by hand, in
dialogs/<flow>/transcripts/*.txt. Lines starting with '>' are what the person
types, '<' the messages the flow must say, '?' a prompt, '=' a pause or the end:

  < ~ welcome
  ? choice [Yes] [Not now]
  > [Yes]
  < ~ how are you feeling
  > 7
  = end completed {"feeling": 7}

It is played against the flow in the folder above (or the one its 'flow: <id>'
line names). Each prints PASS or FAIL (with the line and what differed), then a
line like "transcripts: 12 passed, 0 failed". The exit status is 1 if any failed.

Examples:
  trellis test                                      every transcript under ./dialogs
  trellis test dialogs/braving                      one flow's transcripts
  trellis test dialogs/braving/transcripts/happy.txt)");
  return test;
}

int run_test(const TestCommand& command, std::ostream& out) {
  auto dialogs = dialogs_folder(command.dialogs);
  std::vector<fs::path> paths(command.paths.begin(), command.paths.end());
  if (paths.empty()) paths.push_back(dialogs);
  std::vector<fs::path> search{dialogs};
  search.insert(search.end(), paths.begin(), paths.end());

  int passed = 0, failed = 0;
  for (const auto& path : paths) {
    std::error_code error;
    if (!fs::exists(path, error)) {
      out << "FAIL " << path.string() << "\n  no such file or folder\n";
      ++failed;
    }
  }
  // Transcripts are played as production plays them: with the deployment's safety policy.
  std::shared_ptr<const engine::SafetyPolicy> policy;
  std::optional<fs::path> policy_file = engine_io::find_safety_policy(dialogs);
  for (const auto& path : paths) {
    if (!policy_file) policy_file = engine_io::find_safety_policy(path);
  }
  if (policy_file) {
    auto loaded = engine_io::load_safety_policy(*policy_file);
    if (!loaded) {
      out << "FAIL " << policy_file->string() << "\n" << indent(format_all(loaded.error()));
      ++failed;
    } else {
      policy = *loaded;
    }
  }
  FlowCache cache;
  FlowFinder finder(search, cache);
  for (const auto& file : engine_io::find_transcript_files(paths)) {
    std::error_code error;
    if (!fs::exists(file, error)) continue;  // reported above
    auto name = file.string();
    auto fail = [&](const std::string& why) {
      out << "FAIL " << name << "\n" << indent(why);
      ++failed;
    };
    std::string text;
    try {
      text = engine_io::read_file(file);
    } catch (const std::exception& problem) {
      fail(std::string("cannot read it: ") + problem.what());
      continue;
    }
    auto transcript = engine::parse_transcript(text, name);
    if (!transcript) {
      fail(format_all(transcript.error()));
      continue;
    }
    auto located = finder.for_transcript(file, transcript->flow_id);
    if (!located.flow) {
      fail(located.problem);
      continue;
    }
    auto result = engine::run_transcript(*located.flow, *transcript, policy.get());
    if (result.passed) {
      out << "PASS " << name << "\n";
      ++passed;
    } else {
      fail(result.describe(name));
    }
  }
  out << "transcripts: " << passed << " passed, " << failed << " failed\n";
  return failed > 0 ? 1 : 0;
}

}  // namespace trellis::cli
