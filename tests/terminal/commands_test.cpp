// Runs the built `trellis` binary on temporary folders, as a person would.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <string>

#include <gtest/gtest.h>

#include "run_trellis.hpp"
#include "test_flows.hpp"

namespace trellis::cli {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kBroken = R"({
  "trellis": 1, "id": "broken", "version": 1, "title": "Broken",
  "description": "Points at a node that is not there.", "minutes": 1,
  "credits": [{"author": "Trellis", "work": "Tests"}],
  "start": "hello",
  "nodes": {
    "hello": {"type": "message", "say": "Hello.", "next": "byee"},
    "bye": {"type": "end"}
  }
})";

class Commands : public testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("trellis_cli_" + std::to_string(::getpid()) + "_" +
             testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    write("good/cup/flow.json", testing_flows::kCup);
  }
  void TearDown() override { fs::remove_all(root_); }

  void write(const std::string& relative, std::string_view text) {
    auto file = root_ / relative;
    fs::create_directories(file.parent_path());
    std::ofstream(file) << text;
  }
  std::string path(const std::string& relative) const { return (root_ / relative).string(); }

  fs::path root_;
};

TEST_F(Commands, LintPassesAGoodFlow) {
  auto result = run("lint " + path("good"));
  EXPECT_EQ(result.status, 0) << result.output;
  EXPECT_EQ(result.output, "1 flow, 0 errors, 0 warnings\n");
}

TEST_F(Commands, LintReportsEveryErrorAndFails) {
  write("bad/broken/flow.json", kBroken);
  write("bad/cup/flow.json", testing_flows::kCup);
  auto result = run("lint " + path("bad"));
  EXPECT_EQ(result.status, 1) << result.output;
  EXPECT_NE(result.output.find(path("bad/broken/flow.json") + ":7:"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("byee"), std::string::npos) << result.output;
  EXPECT_TRUE(std::regex_search(result.output, std::regex("\n2 flows, [1-9][0-9]* errors?, [0-9]+ warnings?\n$")))
      << result.output;
}

TEST_F(Commands, LintReportsAMissingFolder) {
  auto result = run("lint " + path("nowhere"));
  EXPECT_EQ(result.status, 1) << result.output;
  EXPECT_NE(result.output.find("no such file or folder"), std::string::npos) << result.output;
}

TEST_F(Commands, LintReportsTwoFlowsWithOneId) {
  write("twice/a/flow.json", testing_flows::kCup);
  write("twice/b/flow.json", testing_flows::kCup);
  auto result = run("lint " + path("twice"));
  EXPECT_EQ(result.status, 1) << result.output;
  EXPECT_NE(result.output.find("flow id 'cup' is already used by " + path("twice/a/flow.json")), std::string::npos)
      << result.output;
  EXPECT_NE(result.output.find(path("twice/b/flow.json")), std::string::npos) << result.output;
}

// A counselor checking the safety policy alone names its folder or file; neither holds flows.
TEST_F(Commands, LintChecksTheSafetyFolderAsThePolicy) {
  const std::string safety = std::string(TRELLIS_SOURCE_DIR) + "/dialogs/safety";
  for (const auto& given : {safety, safety + "/", safety + "/policy.json"}) {
    auto result = run("lint " + given);
    EXPECT_EQ(result.status, 0) << given << "\n" << result.output;
    EXPECT_EQ(result.output, "0 flows, 1 safety policy, 0 errors, 0 warnings\n") << given;
  }
}

TEST_F(Commands, TestPassesAndFailsTranscripts) {
  write("good/cup/transcripts/yes.txt", "< Hello.\n< Let's begin.\n< Ready?\n> [Yes, go]\n...\n> 7\n"
                                        "< You said 7.\n= end completed {\"cup\": 7}\n");
  write("good/cup/transcripts/later.txt", "...\n> 2\n< Another time.\n= end completed\n");
  auto result = run("test " + path("good"));
  EXPECT_EQ(result.status, 0) << result.output;
  EXPECT_EQ(result.output, "PASS " + path("good/cup/transcripts/later.txt") + "\nPASS " +
                               path("good/cup/transcripts/yes.txt") + "\ntranscripts: 2 passed, 0 failed\n");

  write("good/cup/transcripts/wrong.txt", "< Hello.\n< Let's go.\n");
  result = run("test " + path("good"));
  EXPECT_EQ(result.status, 1) << result.output;
  auto wrong = path("good/cup/transcripts/wrong.txt");
  EXPECT_NE(result.output.find("FAIL " + wrong + "\n  " + wrong +
                               ":2: expected message \"Let's go.\", got message \"Let's begin.\"\n"),
            std::string::npos)
      << result.output;
  EXPECT_NE(result.output.find("\ntranscripts: 2 passed, 1 failed\n"), std::string::npos) << result.output;
}

TEST_F(Commands, TestFindsAFlowByItsId) {
  write("good/elsewhere/transcripts/by_id.txt", "flow: cup\n...\n> [Not now]\n< Another time.\n...\n");
  auto result = run("test " + path("good/elsewhere") + " --dialogs " + path("good"));
  EXPECT_EQ(result.status, 0) << result.output;
  EXPECT_NE(result.output.find("transcripts: 1 passed, 0 failed"), std::string::npos) << result.output;
}

TEST_F(Commands, TestFailsBadTranscriptsAndBrokenFlows) {
  write("bad/broken/flow.json", kBroken);
  write("bad/broken/transcripts/any.txt", "< Hello.\n");
  write("bad/cup/flow.json", testing_flows::kCup);
  write("bad/cup/transcripts/garbled.txt", "< Hello.\nwhat is this\n");
  auto result = run("test " + path("bad"));
  EXPECT_EQ(result.status, 1) << result.output;
  EXPECT_NE(result.output.find("FAIL " + path("bad/broken/transcripts/any.txt") + "\n  its flow does not compile"),
            std::string::npos)
      << result.output;
  EXPECT_NE(result.output.find(path("bad/cup/transcripts/garbled.txt") + ":2:1: error T001"), std::string::npos)
      << result.output;
  EXPECT_NE(result.output.find("transcripts: 0 passed, 2 failed\n"), std::string::npos) << result.output;
}

TEST_F(Commands, ChatTalksThroughPipedInput) {
  auto result = run("chat cup --fast --dialogs " + path("good"), "1\\n7\\n");
  EXPECT_EQ(result.status, 0) << result.output;
  EXPECT_NE(result.output.find("  1) Yes, go\n  2) Not now\n"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("You said 7.\n(end: completed)\n  cup: 7\n"), std::string::npos) << result.output;

  result = run("chat " + path("good/cup/flow.json") + " --fast", "2\\n");
  EXPECT_EQ(result.status, 0) << result.output;
  EXPECT_NE(result.output.find("Another time.\n"), std::string::npos) << result.output;
}

TEST_F(Commands, ChatNamesAFlowItCannotFind) {
  auto result = run("chat cop --dialogs " + path("good"));
  EXPECT_EQ(result.status, 1) << result.output;
  EXPECT_NE(result.output.find("no flow with id 'cop'"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("did you mean 'cup'?"), std::string::npos) << result.output;
}

TEST_F(Commands, GraphPrintsMermaidAndDot) {
  auto result = run("graph cup --dialogs " + path("good"));
  EXPECT_EQ(result.status, 0) << result.output;
  EXPECT_EQ(result.output.rfind("flowchart TD\n", 0), 0u) << result.output;
  result = run("graph " + path("good/cup") + " --format dot");
  EXPECT_EQ(result.status, 0) << result.output;
  EXPECT_EQ(result.output.rfind("digraph \"cup\" {\n", 0), 0u) << result.output;
  result = run("graph cup --format svg --dialogs " + path("good"));
  EXPECT_NE(result.status, 0) << result.output;
}

TEST_F(Commands, HelpDescribesEveryCommandWithExamples) {
  auto result = run("--help");
  EXPECT_EQ(result.status, 0) << result.output;
  for (const char* word : {"chat", "lint", "graph", "test", "Examples:"}) {
    EXPECT_NE(result.output.find(word), std::string::npos) << word << "\n" << result.output;
  }
  for (const char* command : {"chat", "lint", "graph", "test"}) {
    result = run(std::string(command) + " --help");
    EXPECT_EQ(result.status, 0) << result.output;
    EXPECT_NE(result.output.find("Examples:\n  trellis " + std::string(command)), std::string::npos)
        << result.output;
  }
}

}  // namespace
}  // namespace trellis::cli
