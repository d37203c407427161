// docs/cli.md shows real output: its files are written to a temporary folder, each
// `$ trellis ...` block in a ```console fence is run there, and the output must be
// what the page shows.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "run_trellis.hpp"

namespace trellis::cli {
namespace {

namespace fs = std::filesystem;

struct Example {
  int line = 0;
  std::string command;   // after "$ "
  std::string expected;  // the rest of the block
};

struct Page {
  std::vector<std::pair<std::string, std::string>> files;  // path, contents
  std::vector<Example> examples;
};

Page read_page(const fs::path& file) {
  std::ifstream in(file);
  Page page;
  std::string line, pending_file, fence;
  std::string block;
  int number = 0, block_line = 0;
  bool in_block = false;
  while (std::getline(in, line)) {
    ++number;
    if (!in_block) {
      if (line.rfind("<!-- file: ", 0) == 0) {
        pending_file = line.substr(11, line.find(" -->") - 11);
      } else if (line.rfind("```", 0) == 0) {
        in_block = true;
        fence = line.substr(3);
        block.clear();
        block_line = number;
      }
      continue;
    }
    if (line == "```") {
      in_block = false;
      if (!pending_file.empty()) {
        page.files.emplace_back(pending_file, block);
        pending_file.clear();
      } else if (fence == "console" && block.rfind("$ ", 0) == 0) {
        auto end = block.find('\n');
        page.examples.push_back({block_line, block.substr(2, end - 2), block.substr(end + 1)});
      }
      continue;
    }
    block += line + "\n";
  }
  return page;
}

std::string run_in(const fs::path& folder, const std::string& command) {
  auto bin = fs::path(TRELLIS_BINARY).parent_path().string();
  auto ran = run_shell("cd '" + folder.string() + "' && PATH='" + bin + "':\"$PATH\" && unset TRELLIS_DIALOGS && (" +
                                command + " 2>&1) </dev/null");
  return ran.status == -1 && ran.output.empty() ? "could not run the example" : ran.output;
}

TEST(CliDocs, ExamplesShowRealOutput) {
  auto page = read_page(fs::path(TRELLIS_SOURCE_DIR) / "docs" / "cli.md");
  ASSERT_FALSE(page.files.empty());
  ASSERT_GE(page.examples.size(), 4u);
  auto folder = fs::temp_directory_path() / ("trellis_docs_" + std::to_string(::getpid()));
  fs::remove_all(folder);
  for (const auto& [path, contents] : page.files) {
    fs::create_directories((folder / path).parent_path());
    std::ofstream(folder / path) << contents;
  }
  for (const auto& example : page.examples) {
    EXPECT_EQ(run_in(folder, example.command), example.expected)
        << "docs/cli.md:" << example.line << ": $ " << example.command;
  }
  fs::remove_all(folder);
}

}  // namespace
}  // namespace trellis::cli
