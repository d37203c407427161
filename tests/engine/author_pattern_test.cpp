#include "../../engine/src/author_pattern.hpp"

#include <gtest/gtest.h>

#include "../../engine/src/author_json.hpp"
#include "trellis/engine/compile.hpp"

namespace trellis::engine::detail {
namespace {

using Json = nlohmann::ordered_json;

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

const PatternChecks kLike{'S', lower, "an example text", true};

struct Checked {
  std::shared_ptr<const RE2> regex;
  std::vector<Diagnostic> diagnostics;
};

Checked check(const PatternChecks& checks, const std::string& source, const Json& examples, const Json& counter) {
  Reporter report("policy.json", nullptr);
  auto regex = compile_checked_pattern(report, checks, source, "/categories/0/patterns/2", &examples, &counter);
  return {regex, report.diagnostics()};
}

TEST(AuthorPattern, CompilesCaseInsensitiveAndPassesItsExamples) {
  auto checked = check(kLike, "\\bend it\\b", Json{"I want to END IT"}, Json{"the end of it"});
  ASSERT_TRUE(checked.regex);
  EXPECT_TRUE(checked.diagnostics.empty());
  EXPECT_TRUE(RE2::PartialMatch("END IT", *checked.regex));
}

TEST(AuthorPattern, ReportsEveryFailedExampleUnderItsFamilysCodes) {
  auto checked = check(kLike, "end it", Json{"finish it", 7, "end it"}, Json{"extend it"});
  EXPECT_FALSE(checked.regex);
  ASSERT_EQ(checked.diagnostics.size(), 3u);
  EXPECT_EQ(checked.diagnostics[0].code, "S031");
  EXPECT_EQ(checked.diagnostics[0].pointer, "/categories/0/patterns/2/examples/0");
  EXPECT_NE(checked.diagnostics[0].hint.find("matched as \"finish it\""), std::string::npos);
  EXPECT_EQ(checked.diagnostics[1].code, "S010");
  EXPECT_EQ(checked.diagnostics[1].message, "this should be an example text in quotes, not a whole number");
  EXPECT_EQ(checked.diagnostics[2].code, "S032");
  EXPECT_EQ(checked.diagnostics[2].pointer, "/categories/0/patterns/2/not/0");
}

TEST(AuthorPattern, FlowsUseTheirOwnCodesAndHints) {
  const PatternChecks flow{'F', lower, "an example answer"};
  auto checked = check(flow, "yes", Json{"no"}, Json::array());
  ASSERT_EQ(checked.diagnostics.size(), 1u);
  EXPECT_EQ(checked.diagnostics[0].code, "F031");
  EXPECT_EQ(checked.diagnostics[0].hint, "change the pattern, or remove the example");
}

TEST(AuthorPattern, RefusesPatternsThatAreTooLargeOrDoNotCompile) {
  auto large = check(kLike, std::string(kMaxPatternBytes + 1, 'a'), Json::array(), Json::array());
  EXPECT_FALSE(large.regex);
  ASSERT_EQ(large.diagnostics.size(), 1u);
  EXPECT_EQ(large.diagnostics[0].code, "S033");
  EXPECT_EQ(large.diagnostics[0].pointer, "/categories/0/patterns/2/match");
  auto broken = check(kLike, "(unclosed", Json{"unclosed"}, Json::array());
  EXPECT_FALSE(broken.regex);
  ASSERT_EQ(broken.diagnostics.size(), 1u);  // examples are not tried against a pattern that failed
  EXPECT_EQ(broken.diagnostics[0].code, "S030");
  EXPECT_NE(broken.diagnostics[0].message.find("does not compile"), std::string::npos);
}

TEST(AuthorJson, PointersEscapeTheirTokens) {
  EXPECT_EQ(child("/states", "a/b~c"), "/states/a~1b~0c");
  EXPECT_EQ(child("", std::size_t{3}), "/3");
  EXPECT_EQ(json_type_name(Json(2)), "a whole number");
  EXPECT_EQ(json_type_name(Json(2.5)), "a number");
  EXPECT_EQ(json_type_name(Json::object()), "an object {...}");
}

}  // namespace
}  // namespace trellis::engine::detail
