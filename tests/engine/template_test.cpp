#include "trellis/engine/template.hpp"

#include <gtest/gtest.h>

namespace trellis::engine {
namespace {

const Scope kScope{{"boundaries", 7.0}, {"average", 7.456}, {"name", std::string("Ana")}, {"agreed", true}};

std::string rendered(std::string_view text) {
  auto message = parse_template(text);
  EXPECT_TRUE(message) << text << ": " << (message ? "" : message.error().message);
  return message ? render(*message, kScope) : "<error>";
}

TEST(TemplateTest, Renders) {
  struct Row {
    std::string text, shown;
  };
  const Row rows[] = {
      {"", ""},
      {"no holes", "no holes"},
      {"You rated {{ boundaries }}/10.", "You rated 7/10."},
      {"{{boundaries}}", "7"},
      {"avg {{ average }}", "avg 7.46"},
      {"half {{ boundaries / 2 }}", "half 3.5"},
      {"Agreed: {{agreed}}; not: {{ not agreed }}", "Agreed: yes; not: no"},
      {"Hi {{ name + '!' }}", "Hi Ana!"},
      {"{{ name }}{{ name }}", "AnaAna"},
      {"literal {{\"{{\"}} braces }}", "literal {{ braces }}"},
      {"quoted close {{ '}}' }}", "quoted close }}"},
      {"a stray }} stays", "a stray }} stays"},
      {"single { and } braces", "single { and } braces"},
      {"{{ if(agreed, 'yes, ' + name, 'no') }}", "yes, Ana"},
  };
  for (const auto& row : rows) EXPECT_EQ(rendered(row.text), row.shown) << row.text;
}

TEST(TemplateTest, PiecesAndVariables) {
  auto message = parse_template("{{ name }} rated {{ boundaries + average }} ({{ name }}) {{'{{'}}");
  ASSERT_TRUE(message);
  EXPECT_FALSE(message->is_literal());
  EXPECT_EQ(message->variables(), (std::vector<std::string>{"name", "boundaries", "average"}));
  ASSERT_EQ(message->pieces().size(), 6u);
  EXPECT_EQ(std::get<std::string>(message->pieces()[1]), " rated ");
  EXPECT_EQ(std::get<std::string>(message->pieces()[5]), ") {{");  // a constant hole becomes text

  auto literal = parse_template("just {{\"{{\"}} text");
  ASSERT_TRUE(literal);
  EXPECT_TRUE(literal->is_literal());
  EXPECT_TRUE(literal->variables().empty());
  EXPECT_TRUE(Template().is_literal());
}

TEST(TemplateTest, ConstantHoleWithATypeErrorStaysAHole) {
  auto message = parse_template("{{ 1 + true }}");
  ASSERT_TRUE(message);
  EXPECT_FALSE(message->is_literal());
}

TEST(TemplateTest, Errors) {
  struct Row {
    std::string text;
    std::size_t offset;
    std::string message;
  };
  const Row rows[] = {
      {"Hello {{ name", 6, "this '{{' is never closed with '}}'"},
      {"{{", 0, "this '{{' is never closed with '}}'"},
      {"ok {{ name }} then {{ oops", 19, "this '{{' is never closed with '}}'"},
      {"Hi {{ name + }}", 13, "expected a value after '+', found the end of the expression"},
      {"Hi {{ mx(1) }}", 6, "unknown function 'mx'"},
      {"Hi {{ }}", 5, "the expression is empty"},
      {"Hi {{ 'open }}", 6, "this string has no closing '"},
      // Offsets and columns count from the start of the whole text, not the hole.
      {"Hi {{ (1 + 2 }}", 13, "expected ')' to close the '(' at column 7, found the end of the expression"},
  };
  for (const auto& row : rows) {
    auto result = parse_template(row.text);
    ASSERT_FALSE(result) << row.text;
    EXPECT_EQ(result.error().offset, row.offset) << row.text;
    EXPECT_EQ(result.error().message, row.message) << row.text;
  }
  EXPECT_EQ(parse_template("{{").error().hint, "to show '{{' itself, write {{\"{{\"}}");
  EXPECT_EQ(parse_template("{{ mx(1) }}").error().hint, "did you mean 'max'?");
}

// Author text is hostile input as far as the parser is concerned.
TEST(TemplateTest, GarbageNeverCrashes) {
  const std::string alphabet = "{}{{}}\"'a1 +(),";
  std::uint32_t seed = 12345;
  for (int round = 0; round < 3000; ++round) {
    std::string text;
    const int length = static_cast<int>(seed % 24);
    for (int i = 0; i < length; ++i) {
      seed = seed * 1664525u + 1013904223u;
      text += alphabet[(seed >> 16) % alphabet.size()];
    }
    seed = seed * 1664525u + 1013904223u;
    auto message = parse_template(text);
    if (message) {
      (void)render(*message, kScope);
    } else {
      EXPECT_LE(message.error().offset, text.size()) << text;
    }
  }
}

}  // namespace
}  // namespace trellis::engine
