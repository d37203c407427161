#include "trellis/engine/value.hpp"

#include <gtest/gtest.h>

namespace trellis::engine {
namespace {

TEST(ValueTest, TypeOfAndName) {
  EXPECT_EQ(type_of(Value{1.0}), ValueType::Number);
  EXPECT_EQ(type_of(Value{std::string("x")}), ValueType::String);
  EXPECT_EQ(type_of(Value{true}), ValueType::Boolean);
  EXPECT_EQ(type_name(ValueType::Number), "number");
  EXPECT_EQ(type_name(ValueType::String), "string");
  EXPECT_EQ(type_name(ValueType::Boolean), "boolean");
}

TEST(ValueTest, DisplayString) {
  struct Row {
    Value value;
    std::string shown;
  };
  const Row rows[] = {
      {42.0, "42"},          {7.5, "7.5"},       {7.25, "7.25"},     {7.499, "7.5"},
      {1.0 / 3.0, "0.33"},   {-2.0, "-2"},       {-0.001, "0"},      {0.0, "0"},
      {2.999, "3"},          {1e15, "1000000000000000"},            {-7.5, "-7.5"},
      {std::string("text"), "text"},            {true, "yes"},      {false, "no"},
  };
  for (const auto& row : rows) EXPECT_EQ(to_display_string(row.value), row.shown) << row.shown;
}

TEST(ValueTest, JsonRoundTrip) {
  EXPECT_EQ(to_json(Value{7.0}).dump(), "7");
  EXPECT_EQ(to_json(Value{7.5}).dump(), "7.5");
  EXPECT_EQ(to_json(Value{std::string("a")}).dump(), "\"a\"");
  EXPECT_EQ(to_json(Value{false}).dump(), "false");

  EXPECT_EQ(value_from_json(nlohmann::json(3)), std::optional<Value>(3.0));
  EXPECT_EQ(value_from_json(nlohmann::json(2.5)), std::optional<Value>(2.5));
  EXPECT_EQ(value_from_json(nlohmann::json("hi")), std::optional<Value>(std::string("hi")));
  EXPECT_EQ(value_from_json(nlohmann::json(true)), std::optional<Value>(true));
  EXPECT_EQ(value_from_json(nlohmann::json(nullptr)), std::nullopt);
  EXPECT_EQ(value_from_json(nlohmann::json::array()), std::nullopt);
  EXPECT_EQ(value_from_json(nlohmann::json::object()), std::nullopt);
}

}  // namespace
}  // namespace trellis::engine
