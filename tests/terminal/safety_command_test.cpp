// `trellis safety train` and `trellis safety score`, run as a person would.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "run_trellis.hpp"

namespace trellis::cli {
namespace {

namespace fs = std::filesystem;

class SafetyCommand : public testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("trellis_safety_cli_" + std::to_string(::getpid()) + "_" +
             testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }
  std::string write(const std::string& name, const std::string& text) {
    std::ofstream(root_ / name, std::ios::binary) << text;
    return (root_ / name).string();
  }
  static std::string read(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }
  const std::string policy_ = std::string(TRELLIS_SOURCE_DIR) + "/dialogs/safety/policy.json";
  fs::path root_;
};

TEST_F(SafetyCommand, TrainsScoresAndIsDeterministic) {
  auto corpus = write("corpus.tsv", std::string(R"(# label<TAB>text
suicidal_thoughts	I don't want to be here any more
self_harm	I hurt my arms when it gets too much
benign	I kept my word to a friend
harm_to_others	I want to hurt my neighbour
abuse_or_danger	my partner locks me in the house
benign	the meeting went well
suicidal_thoughts	nobody would miss me if I was gone
self_harm	I scratch my skin until it bleeds
benign	nobody came to the party
harm_to_others	I'm going to make him pay for this
abuse_or_danger	he takes my phone and reads everything
benign	I cut the grass today
)"));
  auto out = (root_ / "classifier.json").string();
  auto train = "safety train --policy " + policy_ + " --corpus " + corpus + " --c 4 --out " + out;
  auto first = run(train);
  ASSERT_EQ(first.status, 0) << first.output;
  EXPECT_NE(first.output.find("chosen: C 4"), std::string::npos) << first.output;
  auto bytes = read(out);
  EXPECT_NE(bytes.find("\"sha256\""), std::string::npos);
  ASSERT_EQ(run(train).status, 0);
  EXPECT_EQ(read(out), bytes);
  EXPECT_NE(bytes.find("\"log_count_smoothing\": 0.1"), std::string::npos);
  ASSERT_EQ(run(train + " --log-count-smoothing 1").status, 0);
  EXPECT_NE(read(out).find("\"log_count_smoothing\": 1.0"), std::string::npos);
  ASSERT_EQ(run(train + " --no-log-count-ratios").status, 0);
  EXPECT_EQ(read(out).find("features_scaled_by"), std::string::npos);
  ASSERT_EQ(run(train + " --equal-rank-thresholds").status, 0);
  EXPECT_NE(read(out).find("\"thresholds\": \"the same number of benign texts above each\""), std::string::npos);
  auto look_alikes = write("hard.tsv", "benign\tthis commute is killing me\nbenign\tI cut the cake for everyone\n");
  EXPECT_EQ(run(train + " --hard-cases " + corpus).status, 1) << "a file in --corpus and --hard-cases";
  auto hard = run(train + " --hard-cases " + look_alikes);
  ASSERT_EQ(hard.status, 0) << hard.output;
  EXPECT_NE(read(out).find("\"hard_cases\": true"), std::string::npos);
  EXPECT_NE(hard.output.find("(hard cases "), std::string::npos) << hard.output;
  ASSERT_EQ(run(train).status, 0);

  auto score = run("safety score --policy " + policy_ + " --corpus " + corpus + " --classifier " + out);
  ASSERT_EQ(score.status, 0) << score.output;
  EXPECT_NE(score.output.find("rules+classifier"), std::string::npos) << score.output;
  EXPECT_NE(score.output.find("false positives"), std::string::npos) << score.output;
}

// Prose that the rules themselves answer (here every line) leaves no budget for the model,
// whatever the thresholds: training says so instead of quietly writing a model that adds nothing.
TEST_F(SafetyCommand, RulesOverTheProseBudgetAreReported) {
  auto corpus = write("corpus.tsv", "suicidal_thoughts\tnobody would miss me\nbenign\tthe meeting went well\n"
                                    "suicidal_thoughts\tI don't want to wake up\nbenign\tI kept my word\n");
  auto prose = write("prose.txt", "The year I wanted to kill myself taught me to ask for help.\n"
                                  "I want to die laughing at eighty, surrounded by grandchildren who got my jokes.\n");
  auto result = run("safety train --policy " + policy_ + " --corpus " + corpus + " --prose " + prose + " --c 4 --out " +
                    (root_ / "out.json").string());
  ASSERT_EQ(result.status, 0) << result.output;
  EXPECT_NE(result.output.find("warning: out of fold the detector answers"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("not in --prose"), std::string::npos) << result.output;

  auto quiet = run("safety train --policy " + policy_ + " --corpus " + corpus + " --c 4 --out " +
                   (root_ / "out.json").string());
  ASSERT_EQ(quiet.status, 0) << quiet.output;
  EXPECT_EQ(quiet.output.find("warning:"), std::string::npos) << quiet.output;
}

TEST_F(SafetyCommand, BadCorpusLinesSayWhere) {
  auto no_tab = write("no_tab.tsv", "benign\tfine\nself_harm I cut again\n");
  auto result = run("safety train --policy " + policy_ + " --corpus " + no_tab + " --out " +
                    (root_ / "out.json").string());
  EXPECT_EQ(result.status, 1);
  EXPECT_NE(result.output.find(no_tab + ":2: no tab"), std::string::npos) << result.output;
  EXPECT_FALSE(fs::exists(root_ / "out.json"));

  auto unknown = write("unknown.tsv", "benign\tfine\nsuicidal\tI want to die\n");
  result = run("safety train --policy " + policy_ + " --corpus " + unknown + " --out " + (root_ / "out.json").string());
  EXPECT_EQ(result.status, 1);
  EXPECT_NE(result.output.find(unknown + ":2: \"suicidal\" is not a category"), std::string::npos) << result.output;
}

TEST_F(SafetyCommand, ASmoothingThatIsNotAboveZeroIsRefused) {
  auto corpus = write("corpus.tsv", "benign\tfine\nself_harm\tI cut again\n");
  for (const char* value : {"0", "-1", "abc"}) {
    auto result = run("safety train --policy " + policy_ + " --corpus " + corpus + " --log-count-smoothing " + value +
                      " --out " + (root_ / "out.json").string());
    EXPECT_NE(result.status, 0) << value;
    EXPECT_NE(result.output.find("--log-count-smoothing: must be a number above 0"), std::string::npos)
        << result.output;
    EXPECT_FALSE(fs::exists(root_ / "out.json")) << value;
  }
}

TEST_F(SafetyCommand, ABrokenClassifierIsReportedWithItsCode) {
  auto corpus = write("corpus.tsv", "benign\tfine\n");
  auto model = write("model.json", R"({"format": 2, "features": ["words"], "categories": []})");
  auto result = run("safety score --policy " + policy_ + " --corpus " + corpus + " --classifier " + model);
  EXPECT_EQ(result.status, 1);
  EXPECT_NE(result.output.find("S042"), std::string::npos) << result.output;
}

TEST_F(SafetyCommand, HelpHasExamples) {
  for (const char* command : {"safety", "safety train", "safety score"}) {
    auto result = run(std::string(command) + " --help");
    EXPECT_EQ(result.status, 0) << result.output;
    EXPECT_NE(result.output.find("Examples:\n  trellis safety"), std::string::npos) << result.output;
  }
}

}  // namespace
}  // namespace trellis::cli
