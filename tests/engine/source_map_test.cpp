#include "trellis/engine/source_map.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace trellis::engine {
namespace {

// Line numbers below are the 1-based lines of this text.
constexpr std::string_view kFlow = R"({
  // a comment with "quotes", { braces } and [brackets]
  "id": "trust",
  /* a block comment
     over two lines */ "nodes": {
    "a/b": { "next": "c" },
    "x~y": 1,
    "start": {"say": ["one", /* inline */ 2, {"pause": 500}], "next": "end"}
  },
  "empty": {}, "list": [],
  "uni\u00e9": true,
  "id": "again"
})";

TEST(SourceMapTest, InputIsJsonThatNlohmannAccepts) {
  const auto json = nlohmann::json::parse(kFlow, nullptr, /*allow_exceptions=*/false, /*ignore_comments=*/true);
  ASSERT_TRUE(json.is_object());
  EXPECT_EQ(json["id"], "again");  // nlohmann keeps the later duplicate
}

TEST(SourceMapTest, PositionsByPointer) {
  const SourceMap map = SourceMap::scan(kFlow);
  struct Row {
    std::string pointer;
    int line, column;
  };
  const Row rows[] = {
      {"", 1, 1},
      {"/nodes", 5, 24},           // the key, after a block comment
      {"/nodes/a~1b", 6, 5},       // "/" escaped as ~1
      {"/nodes/a~1b/next", 6, 14},
      {"/nodes/x~0y", 7, 5},       // "~" escaped as ~0
      {"/nodes/start/say", 8, 15},
      {"/nodes/start/say/0", 8, 23},  // array elements: the value's position
      {"/nodes/start/say/1", 8, 43},
      {"/nodes/start/say/2", 8, 46},
      {"/nodes/start/say/2/pause", 8, 47},
      {"/nodes/start/next", 8, 63},
      {"/empty", 10, 3},
      {"/list", 10, 16},
      {"/uni\xC3\xA9", 11, 3},      // \u escapes decoded to UTF-8
      {"/id", 12, 3},                // a duplicate key: the later one, which nlohmann keeps
  };
  for (const auto& row : rows) {
    const SourcePosition position = map.find(row.pointer);
    EXPECT_EQ(position.line, row.line) << row.pointer;
    EXPECT_EQ(position.column, row.column) << row.pointer;
  }
}

TEST(SourceMapTest, FindFallsBackToNearestKnownAncestor) {
  const SourceMap map = SourceMap::scan(kFlow);
  const SourcePosition position = map.find("/nodes/start/say/7/text");
  EXPECT_EQ(position.line, 8);
  EXPECT_EQ(position.column, 15);
  EXPECT_EQ(map.find("/missing").line, 1);
  EXPECT_EQ(SourceMap::scan("").find("/x").line, 0);
}

TEST(SourceMapTest, DuplicateKeys) {
  const SourceMap map = SourceMap::scan(kFlow);
  ASSERT_EQ(map.duplicate_keys().size(), 1u);
  EXPECT_EQ(map.duplicate_keys()[0].pointer, "/id");
  EXPECT_EQ(map.duplicate_keys()[0].position.line, 12);
  EXPECT_EQ(map.duplicate_keys()[0].position.column, 3);

  const SourceMap nested = SourceMap::scan(R"({"a": {"k": 1, "k": 2}, "b": {"k": 3}})");
  ASSERT_EQ(nested.duplicate_keys().size(), 1u);  // the same key in different objects is fine
  EXPECT_EQ(nested.duplicate_keys()[0].pointer, "/a/k");
  EXPECT_EQ(nested.duplicate_keys()[0].position.column, 16);
}

TEST(SourceMapTest, NestedArrays) {
  const SourceMap map = SourceMap::scan("[[1, [2, 3]], {\"k\": [true, null]}]");
  EXPECT_EQ(map.find("/0").column, 2);
  EXPECT_EQ(map.find("/0/1").column, 6);
  EXPECT_EQ(map.find("/0/1/1").column, 10);
  EXPECT_EQ(map.find("/1").column, 15);
  EXPECT_EQ(map.find("/1/k/1").column, 28);
}

TEST(SourceMapTest, StringsWithEscapesAndCommentLookalikes) {
  const SourceMap map = SourceMap::scan(R"({"a": "x\"}//", "b": "/* not a comment */", "c": 1})");
  EXPECT_EQ(map.find("/b").column, 17);
  EXPECT_EQ(map.find("/c").column, 45);
}

TEST(SourceMapTest, SurvivesTruncatedAndDeepInput) {
  const SourceMap truncated = SourceMap::scan(R"({"a": [1, 2, {"b": )");
  EXPECT_EQ(truncated.find("/a/2/b").column, 15);

  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  const SourceMap map = SourceMap::scan(deep);
  EXPECT_EQ(map.find("/0/0").column, 3);
  EXPECT_GE(map.find("/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0").column, 1);
}

TEST(SourceMapTest, PositionOfOffset) {
  constexpr std::string_view text = "ab\ncd\n\nef";
  struct Row {
    std::size_t offset;
    int line, column;
  };
  const Row rows[] = {{0, 1, 1}, {2, 1, 3}, {3, 2, 1}, {4, 2, 2}, {6, 3, 1}, {7, 4, 1}, {9, 4, 3}, {99, 4, 3}};
  for (const auto& row : rows) {
    const SourcePosition position = SourceMap::position_of_offset(text, row.offset);
    EXPECT_EQ(position.line, row.line) << row.offset;
    EXPECT_EQ(position.column, row.column) << row.offset;
  }
}

}  // namespace
}  // namespace trellis::engine
