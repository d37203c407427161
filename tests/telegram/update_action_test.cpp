#include "update_action.hpp"

#include <gtest/gtest.h>

#include "fake_bot_api.hpp"

namespace trellis::telegram {
namespace {

using Kind = UpdateAction::Kind;

TEST(UpdateActionTest, EachFixtureMapsToItsAction) {
  struct Row {
    const char* file;
    Kind kind;
    std::int64_t chat_id;
    const char* text;
  };
  for (const auto& row : {Row{"update.command_start.json", Kind::Command, 111111111, "start"},
                          Row{"update.text_message.json", Kind::Text, 111111111, nullptr},
                          Row{"update.callback_query.json", Kind::Press, 111111111, ""},
                          Row{"update.edited_message.json", Kind::Ignore, 111111111, ""},
                          Row{"update.photo_message.json", Kind::NotText, 111111111, ""},
                          Row{"update.group_command.json", Kind::GroupChat, -1001234567890, ""},
                          Row{"update.my_chat_member_blocked.json", Kind::Blocked, 111111111, ""}}) {
    auto update = testing::fixture(row.file);
    auto action = action_for_update(update);
    EXPECT_EQ(action.kind, row.kind) << row.file;
    EXPECT_EQ(action.chat_id, row.chat_id) << row.file;
    EXPECT_EQ(action.update_id, update["update_id"].get<std::int64_t>()) << row.file;
    if (row.text && *row.text) {
      EXPECT_EQ(action.text, row.text) << row.file;
    }
  }
}

TEST(UpdateActionTest, PressCarriesItsQueryMessageAndData) {
  auto action = action_for_update(testing::fixture("update.callback_query.json"));
  EXPECT_EQ(action.callback_query_id, "4760184316591271843");
  EXPECT_EQ(action.message_id, 42);
  EXPECT_EQ(action.data, "v1:t7Qk2:o2");
}

TEST(UpdateActionTest, CommandsLoseTheBotNameAndCase) {
  auto update = testing::command_update("/Forget@reflect_demo_bot now");
  auto action = action_for_update(update);
  EXPECT_EQ(action.kind, Kind::Command);
  EXPECT_EQ(action.text, "forget");
  // A slash typed without a command entity is just text.
  auto typed = testing::text_update("/ 7");
  EXPECT_EQ(action_for_update(typed).kind, Kind::Text);
}

TEST(UpdateAction, MalformedUpdatesAreIgnored) {
  EXPECT_EQ(action_for_update(nlohmann::json::array()).kind, Kind::Ignore);
  EXPECT_EQ(action_for_update(nlohmann::json::parse(R"({"update_id":1,"message":{"text":"hi"}})")).kind, Kind::Ignore);
  EXPECT_EQ(action_for_update(nlohmann::json::parse(R"({"update_id":1,"poll":{}})")).kind, Kind::Ignore);
}

}  // namespace
}  // namespace trellis::telegram
