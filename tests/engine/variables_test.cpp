#include "trellis/engine/variables.hpp"

#include <gtest/gtest.h>

#include <map>

namespace trellis::engine {
namespace {

std::shared_ptr<const VariableTable> table_of(std::vector<std::string> names) {
  auto table = std::make_shared<VariableTable>();
  for (auto& name : names) {
    table->slot_of.emplace(name, static_cast<VariableSlot>(table->names.size()));
    table->names.push_back(std::move(name));
  }
  return table;
}

std::map<std::string, Value> all_of(const Variables& variables) {
  std::map<std::string, Value> all;
  variables.for_each([&](const std::string& name, const Value& value) { all.emplace(name, value); });
  return all;
}

TEST(Variables, BindingMovesValuesIntoSlotsAndKeepsUnknownNames) {
  Variables variables;  // as loaded from JSON: names only
  variables.set("mood", 7.0);
  variables.set("retired", std::string("from an older version"));
  auto table = table_of({"mood", "pick"});
  variables.bind(table);
  ASSERT_TRUE(variables.slots()[0].has_value());
  EXPECT_EQ(*variables.slots()[0], Value{7.0});
  EXPECT_FALSE(variables.slots()[1].has_value());
  EXPECT_EQ(variables.at("retired"), Value{std::string("from an older version")});
  EXPECT_EQ(variables.size(), 2u);
  EXPECT_EQ(variables.count("pick"), 0u);
  EXPECT_THROW((void)variables.at("pick"), std::out_of_range);

  variables.set(table->slot_of.at("pick"), std::string("walk"));
  EXPECT_EQ(all_of(variables), (std::map<std::string, Value>{{"mood", 7.0},
                                                              {"pick", std::string("walk")},
                                                              {"retired", std::string("from an older version")}}));
}

TEST(Variables, RebindingToAnotherNumberingKeepsEveryValueByName) {
  Variables variables;
  variables.bind(table_of({"a", "b"}));
  variables.set("a", 1.0);
  variables.set("b", true);
  variables.bind(table_of({"b", "c"}));  // a new version of the flow dropped "a"
  EXPECT_EQ(*variables.slots()[0], Value{true});
  EXPECT_EQ(variables.at("a"), Value{1.0});
  EXPECT_EQ(variables.size(), 2u);
}

TEST(Variables, CompareByNameHoweverTheyAreStored) {
  Variables by_name;
  by_name.set("mood", 7.0);
  Variables by_slot;
  by_slot.bind(table_of({"pick", "mood"}));
  by_slot.set("mood", 7.0);
  EXPECT_EQ(by_name, by_slot);
  by_slot.set("pick", std::string("walk"));
  EXPECT_NE(by_name, by_slot);
}

}  // namespace
}  // namespace trellis::engine
