#include "message_split.hpp"

#include <gtest/gtest.h>

namespace trellis::telegram {
namespace {

TEST(SplitMessage, ShortTextIsOnePiece) {
  EXPECT_EQ(split_message("Hello."), std::vector<std::string>{"Hello."});
  EXPECT_TRUE(split_message("").empty());
  EXPECT_TRUE(split_message(" \n ").empty());
}

TEST(SplitMessage, PrefersParagraphThenSentenceThenWord) {
  EXPECT_EQ(split_message("One two. Three four\n\nFive six", 22),
            (std::vector<std::string>{"One two. Three four", "Five six"}));
  EXPECT_EQ(split_message("One two. Three four five", 20), (std::vector<std::string>{"One two.", "Three four five"}));
  EXPECT_EQ(split_message("alpha beta gamma delta", 12), (std::vector<std::string>{"alpha beta", "gamma delta"}));
  EXPECT_EQ(split_message("abcdefghij", 4), (std::vector<std::string>{"abcd", "efgh", "ij"}));
}

TEST(SplitMessage, NeverCutsInsideACharacter) {
  std::string text;
  for (int i = 0; i < 10; ++i) text += "\xF0\x9F\x8C\xB1";  // 🌱: 4 bytes, 2 UTF-16 units
  auto pieces = split_message(text, 5);
  ASSERT_EQ(pieces.size(), 5u);
  for (const auto& piece : pieces) EXPECT_EQ(piece.size(), 8u);  // two seedlings each
  EXPECT_EQ(utf16_length("\xC3\xA9t\xC3\xA9"), 3u);
}

TEST(SplitMessage, LongTextStaysUnderTheLimit) {
  std::string text;
  while (text.size() < 10'000) text += "I kept my word to myself this week, mostly. ";
  auto pieces = split_message(text);
  ASSERT_EQ(pieces.size(), 3u);
  std::string joined;
  for (const auto& piece : pieces) {
    EXPECT_LE(utf16_length(piece), kMaxMessageUnits);
    EXPECT_EQ(piece.back(), '.');  // cut at sentence ends
    joined += piece + " ";
  }
  joined.pop_back();
  text.pop_back();
  EXPECT_EQ(joined, text);
}

}  // namespace
}  // namespace trellis::telegram
