#include "trellis/engine_io/flow_directory.hpp"

#include <filesystem>
#include <fstream>

#include <unistd.h>

#include <gtest/gtest.h>

namespace trellis::engine_io {
namespace {

namespace fs = std::filesystem;

// A safety folder of its own for each test, removed afterwards.
class SafetyPolicyLoading : public testing::Test {
 protected:
  void SetUp() override {
    folder_ = fs::temp_directory_path() /
              ("trellis-" + std::string(testing::UnitTest::GetInstance()->current_test_info()->name()) + "-" +
               std::to_string(::getpid())) /
              "safety";
    fs::create_directories(folder_);
  }
  void TearDown() override { fs::remove_all(folder_.parent_path()); }

  void write(const std::string& name, const std::string& text) { std::ofstream(folder_ / name) << text; }

  // The shipped policy, with its "classifier" line replaced by `classifier_line`.
  void write_policy(const std::string& classifier_line) {
    std::string text = read_file(fs::path(TRELLIS_SOURCE_DIR) / "dialogs/safety/policy.json");
    const std::string shipped = "\"classifier\": \"classifier.json\",";
    auto at = text.find(shipped);
    ASSERT_NE(at, std::string::npos);
    text.replace(at, shipped.size(), classifier_line);
    write("policy.json", text);
  }

  fs::path folder_;
};

TEST_F(SafetyPolicyLoading, TheShippedPolicyLoadsItsClassifier) {
  auto policy = load_safety_policy(fs::path(TRELLIS_SOURCE_DIR) / "dialogs/safety/policy.json");
  ASSERT_TRUE(policy);
  EXPECT_EQ((*policy)->classifier_file, "classifier.json");
  ASSERT_TRUE((*policy)->classifier);
  EXPECT_EQ((*policy)->classifier->categories.size(), (*policy)->categories.size());
}

TEST_F(SafetyPolicyLoading, WithoutTheKeyTheRulesAlone) {
  write_policy("");
  auto policy = load_safety_policy(folder_ / "policy.json");
  ASSERT_TRUE(policy);
  EXPECT_FALSE((*policy)->classifier);
}

TEST_F(SafetyPolicyLoading, AMissingClassifierFileSaysWhereAndWhatToDo) {
  write_policy("\"classifier\": \"classifier.json\",");
  auto policy = load_safety_policy(folder_ / "policy.json");
  ASSERT_FALSE(policy);
  const auto& diagnostic = policy.error().front();
  EXPECT_EQ(diagnostic.code, "S101");
  EXPECT_EQ(diagnostic.pointer, "/classifier");
  EXPECT_GT(diagnostic.line, 0);
  EXPECT_NE(diagnostic.hint.find("trellis safety train"), std::string::npos) << diagnostic.hint;
}

TEST_F(SafetyPolicyLoading, TheClassifierIsAFileBesideThePolicy) {
  write_policy("\"classifier\": \"../models/classifier.json\",");
  auto policy = load_safety_policy(folder_ / "policy.json");
  ASSERT_FALSE(policy);
  EXPECT_EQ(policy.error().front().code, "S048");
  EXPECT_EQ(policy.error().front().pointer, "/classifier");
}

TEST_F(SafetyPolicyLoading, TheClassifiersErrorsAreReportedWithItsFile) {
  write_policy("\"classifier\": \"model.json\",");
  write("model.json", R"({"format": 1, "features": ["words"], "categories": [
    {"id": "suicidal_thought", "bias": 0, "threshold": 0.5, "weights": {}}]})");
  auto policy = load_safety_policy(folder_ / "policy.json");
  ASSERT_FALSE(policy);
  const auto& diagnostic = policy.error().front();
  EXPECT_EQ(diagnostic.code, "S046");
  EXPECT_EQ(diagnostic.file, (folder_ / "model.json").string());
  EXPECT_EQ(diagnostic.line, 2);
  EXPECT_NE(diagnostic.hint.find("suicidal_thoughts"), std::string::npos) << diagnostic.hint;  // did you mean
}

}  // namespace
}  // namespace trellis::engine_io
