#include "../../engine/src/answer_text.hpp"

#include <gtest/gtest.h>
#include <re2/re2.h>

namespace trellis::engine::detail {
namespace {

TEST(NormaliseAnswer, FoldsCaseSpaceAndTypography) {
  EXPECT_EQ(normalise_answer("  Don\xE2\x80\x99t   KNOW \n"), "don't know");
  EXPECT_EQ(normalise_answer("\xE2\x80\x9CYes\xE2\x80\x9D"), "\"yes\"");
  EXPECT_EQ(normalise_answer(""), "");
}

TEST(ParseIntegerAnswer, ReadsTheWaysPeopleWriteNumbers) {
  EXPECT_EQ(parse_integer_answer("7"), 7);
  EXPECT_EQ(parse_integer_answer("7/10"), 7);
  EXPECT_EQ(parse_integer_answer("7 / 10"), 7);
  EXPECT_EQ(parse_integer_answer("7 out of 10"), 7);
  EXPECT_EQ(parse_integer_answer("i'd say 4"), 4);
  EXPECT_EQ(parse_integer_answer("seven"), 7);
  EXPECT_EQ(parse_integer_answer("seven out of ten"), 7);
  EXPECT_EQ(parse_integer_answer("-3"), -3);
  EXPECT_EQ(parse_integer_answer("twenty"), 20);
}

TEST(ParseIntegerAnswer, RefusesWhatIsNotOneWholeNumber) {
  EXPECT_EQ(parse_integer_answer("7.5"), std::nullopt);
  EXPECT_EQ(parse_integer_answer("between 6 and 7"), std::nullopt);
  EXPECT_EQ(parse_integer_answer("six or seven"), std::nullopt);
  EXPECT_EQ(parse_integer_answer("banana"), std::nullopt);
  EXPECT_EQ(parse_integer_answer(""), std::nullopt);
  EXPECT_EQ(parse_integer_answer("99999999999999999999"), std::nullopt);
}

TEST(BuiltinYesNo, RecognisesCommonWordsAndNotTheirOpposites) {
  RE2::Options options;
  options.set_case_sensitive(false);
  RE2 yes(kBuiltinYesPattern, options), no(kBuiltinNoPattern, options);
  ASSERT_TRUE(yes.ok()) << yes.error();
  ASSERT_TRUE(no.ok()) << no.error();
  for (const char* text : {"yes", "yeah", "yep", "sure thing", "ok", "of course", "yes please", "sure, why not"}) {
    EXPECT_TRUE(RE2::PartialMatch(text, yes)) << text;
    EXPECT_FALSE(RE2::PartialMatch(text, no)) << text;
  }
  for (const char* text : {"no", "nope", "nah", "not really", "not now", "no thanks"}) {
    EXPECT_TRUE(RE2::PartialMatch(text, no)) << text;
    EXPECT_FALSE(RE2::PartialMatch(text, yes)) << text;
  }
  for (const char* text : {"not sure", "yesterday", "maybe", "know"}) {
    EXPECT_FALSE(RE2::PartialMatch(text, yes)) << text;
    EXPECT_FALSE(RE2::PartialMatch(text, no)) << text;
  }
}

TEST(CommandWord, OnlyAWholeCommandCounts) {
  EXPECT_EQ(command_word("help"), "help");
  EXPECT_EQ(command_word("/stop"), "stop");
  EXPECT_EQ(command_word("pause!"), "pause");
  EXPECT_EQ(command_word("please help"), std::nullopt);
  EXPECT_EQ(command_word("stopping"), std::nullopt);
}

TEST(CountCodePoints, CountsCharactersNotBytes) {
  EXPECT_EQ(count_code_points("héllo"), 5u);
  EXPECT_EQ(count_code_points("🙂"), 1u);
}

}  // namespace
}  // namespace trellis::engine::detail
