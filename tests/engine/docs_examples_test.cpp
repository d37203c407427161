// The examples in docs/authoring.md are tests: every ```json flow block must
// compile, every ```json broken CODE block must fail with CODE, and every
// ```transcript block must pass against the nearest ```json flow block above it.
// A ```text block right after a broken block that starts with "dialogs/" is the
// checker's output for it, and its first line must be exactly what lint prints.
#include "trellis/engine/compile.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "trellis/engine/transcript.hpp"

namespace trellis::engine {
namespace {

struct Block {
  std::string info;  // the fence's info string: "json flow", "transcript", ...
  std::string text;
  int line = 0;      // line of the opening fence in the page
};

const char* const kPage = "docs/authoring.md";

std::vector<Block> read_blocks() {
  std::ifstream in(std::string(TRELLIS_SOURCE_DIR) + "/" + kPage);
  std::vector<Block> blocks;
  std::string line;
  int number = 0;
  Block* open = nullptr;
  while (std::getline(in, line)) {
    ++number;
    if (line.rfind("```", 0) == 0) {
      if (open == nullptr) {
        blocks.push_back(Block{line.substr(3), "", number});
        open = &blocks.back();
      } else {
        open = nullptr;
      }
      continue;
    }
    if (open != nullptr) open->text += line + "\n";
  }
  return blocks;
}

std::string where(const Block& block) { return std::string(kPage) + ":" + std::to_string(block.line); }

std::string dump(const std::vector<Diagnostic>& diagnostics) {
  std::string out;
  for (const auto& d : diagnostics) out += "  " + format(d) + "\n";
  return out;
}

// "dialogs/<id>/flow.json", as lint names the file, taken from the block's "id".
std::string file_for(const std::string& text) {
  auto key = text.find("\"id\"");
  if (key == std::string::npos) return "flow.json";
  auto open = text.find('"', text.find(':', key) + 1);
  auto close = text.find('"', open + 1);
  return "dialogs/" + text.substr(open + 1, close - open - 1) + "/flow.json";
}

TEST(DocsExamples, PageHasExamplesOfEveryKind) {
  auto blocks = read_blocks();
  ASSERT_FALSE(blocks.empty()) << "cannot read " << kPage;
  auto count = [&](auto predicate) { return std::count_if(blocks.begin(), blocks.end(), predicate); };
  EXPECT_GE(count([](const Block& b) { return b.info == "json flow"; }), 15);
  EXPECT_GE(count([](const Block& b) { return b.info == "transcript"; }), 15);
  EXPECT_GE(count([](const Block& b) { return b.info.rfind("json broken ", 0) == 0; }), 5);
}

TEST(DocsExamples, EveryFlowCompiles) {
  for (const auto& block : read_blocks()) {
    if (block.info != "json flow") continue;
    std::vector<Diagnostic> warnings;
    auto flow = compile_flow(block.text, file_for(block.text), &warnings);
    EXPECT_TRUE(flow) << where(block) << " does not compile:\n" << (flow ? "" : dump(flow.error()));
    EXPECT_TRUE(warnings.empty()) << where(block) << " has warnings:\n" << dump(warnings);
  }
}

TEST(DocsExamples, EveryBrokenFlowFailsWithItsCode) {
  auto blocks = read_blocks();
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    const Block& block = blocks[i];
    if (block.info.rfind("json broken ", 0) != 0) continue;
    const std::string code = block.info.substr(std::string("json broken ").size());
    auto flow = compile_flow(block.text, file_for(block.text));
    ASSERT_FALSE(flow) << where(block) << " compiles, but should fail with " << code;
    const auto& errors = flow.error();
    auto found = std::find_if(errors.begin(), errors.end(), [&](const Diagnostic& d) { return d.code == code; });
    ASSERT_NE(found, errors.end()) << where(block) << " should fail with " << code << ", got:\n" << dump(errors);
    // The output shown under the example is what the checker really prints.
    if (i + 1 < blocks.size() && blocks[i + 1].info == "text" && blocks[i + 1].text.rfind("dialogs/", 0) == 0) {
      const std::string shown = blocks[i + 1].text.substr(0, blocks[i + 1].text.find('\n'));
      EXPECT_EQ(shown, format(*found)) << where(blocks[i + 1]);
    }
  }
}

TEST(DocsExamples, EveryTranscriptPasses) {
  const Block* flow_block = nullptr;
  int transcripts = 0;
  for (const auto& block : read_blocks()) {
    if (block.info == "json flow") flow_block = &block;
    if (block.info != "transcript") continue;
    ++transcripts;
    ASSERT_NE(flow_block, nullptr) << where(block) << " has no ```json flow block above it";
    auto flow = compile_flow(flow_block->text, file_for(flow_block->text));
    ASSERT_TRUE(flow) << where(*flow_block) << " does not compile";
    auto transcript = parse_transcript(block.text, where(block));
    ASSERT_TRUE(transcript) << where(block) << " cannot be read:\n" << dump(transcript.error());
    auto result = run_transcript(**flow, *transcript);
    // Transcript lines count from the block's first line, one below the fence.
    EXPECT_TRUE(result.passed) << where(block) << " (block line " << result.line << "): expected "
                               << result.expected << ", got " << result.got;
  }
  EXPECT_GT(transcripts, 0);
}

}  // namespace
}  // namespace trellis::engine
