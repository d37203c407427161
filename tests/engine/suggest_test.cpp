#include "trellis/engine/suggest.hpp"

#include <gtest/gtest.h>

namespace trellis::engine {
namespace {

const std::vector<std::string> kNodes{"start", "reflect", "close", "feelings", "max"};

TEST(SuggestTest, ClosestMatch) {
  struct Row {
    std::string word;
    std::optional<std::string> expected;
  };
  const Row rows[] = {
      {"reflct", "reflect"},   // deletion
      {"clsoe", "close"},      // transposition
      {"Close", "close"},      // case
      {"feelngs", "feelings"},
      {"mx", "max"},           // short words still get one edit
      {"strat", "start"},
      {"xyz", std::nullopt},   // nothing close
      {"q", std::nullopt},     // replacing the whole word is not a typo
      {"reflectionist", std::nullopt},
      {"", std::nullopt},
  };
  for (const auto& row : rows) EXPECT_EQ(closest_match(row.word, kNodes), row.expected) << row.word;
}

TEST(SuggestTest, ClosestWinsThenFirstInList) {
  EXPECT_EQ(closest_match("cat", {"cart", "cat"}), "cat");
  EXPECT_EQ(closest_match("cat", {"bat", "hat"}), "bat");
  EXPECT_EQ(closest_match("abcdef", {"abcxyf", "abcdxf"}), "abcdxf");
  EXPECT_EQ(closest_match("word", {}), std::nullopt);
}

TEST(SuggestTest, DidYouMean) {
  EXPECT_EQ(did_you_mean("reflct", kNodes), "did you mean 'reflect'?");
  EXPECT_EQ(did_you_mean("zzzz", kNodes), "");
}

}  // namespace
}  // namespace trellis::engine
