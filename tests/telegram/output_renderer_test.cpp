#include "output_renderer.hpp"

#include <gtest/gtest.h>

#include "callback_data.hpp"
#include "message_split.hpp"

namespace trellis::telegram {
namespace {

using nlohmann::json;
constexpr std::int64_t kChat = 111111111;

const char* kScale =
    R"({"type":"prompt","id":4,"seq":1,"input":"scale","choices":[{"id":"1","label":"1"},{"id":"2","label":"2"},{"id":"3","label":"3"},{"id":"4","label":"4"},{"id":"5","label":"5"},{"id":"6","label":"6"},{"id":"7","label":"7"},{"id":"8","label":"8"},{"id":"9","label":"9"},{"id":"10","label":"10"}],"min":1,"max":10,"commands":["help","skip","stop"]})";

TEST(OutputRenderer, PromptButtonsRideOnTheLastMessage) {
  OutputRenderer renderer(kChat);
  auto steps = renderer.render(json::parse(R"({"type":"message","id":3,"seq":1,"text":"Boundaries?"})"), true);
  EXPECT_TRUE(steps.empty());  // held for the prompt
  steps = renderer.render(json::parse(kScale), true);
  ASSERT_EQ(steps.size(), 1u);
  EXPECT_EQ(steps[0].method, "sendMessage");
  EXPECT_EQ(steps[0].params["text"], "Boundaries?");
  EXPECT_FALSE(steps[0].params.contains("parse_mode"));
  EXPECT_TRUE(steps[0].has_keyboard);
  EXPECT_EQ(steps[0].delivers, 4);
  const auto& rows = steps[0].params["reply_markup"]["inline_keyboard"];
  ASSERT_EQ(rows.size(), 3u);  // 1-5, 6-10, commands
  EXPECT_EQ(rows[0].size(), 5u);
  EXPECT_EQ(rows[1][1]["callback_data"], encode_choice("4", 6));
  EXPECT_EQ(rows[2][0]["callback_data"], encode_command("4", "help"));
  ASSERT_TRUE(renderer.question());
  EXPECT_EQ(renderer.question()->key, "4");
  EXPECT_EQ(renderer.question()->choice_ids.size(), 10u);
}

TEST(OutputRenderer, PauseIsTypingAndARealWait) {
  OutputRenderer renderer(kChat);
  auto steps = renderer.render(json::parse(R"({"type":"pause","id":2,"seq":1,"ms":9000})"), true);
  ASSERT_EQ(steps.size(), 6u);  // typing renewed every 4 s: 4 + 4 + 1
  EXPECT_EQ(steps[0].method, "sendChatAction");
  EXPECT_EQ(steps[0].params, json::parse(R"({"chat_id":111111111,"action":"typing"})"));
  EXPECT_EQ(steps[1].kind, Step::Kind::Wait);
  EXPECT_EQ(steps[1].wait, std::chrono::milliseconds(4000));
  EXPECT_EQ(steps[5].wait, std::chrono::milliseconds(1000));
  EXPECT_EQ(steps[5].delivers, 2);
  // Re-sent on resume: no typing, no wait.
  steps = renderer.render(json::parse(R"({"type":"pause","id":2,"seq":1,"ms":9000})"), false);
  ASSERT_EQ(steps.size(), 1u);
  EXPECT_EQ(steps[0].wait, std::chrono::milliseconds(0));
}

TEST(OutputRenderer, LongMessageIsSplit) {
  std::string text;
  while (text.size() < 9000) text += "A sentence about the week. ";
  OutputRenderer renderer(kChat);
  auto steps = renderer.render(json{{"type", "message"}, {"id", 1}, {"seq", 1}, {"text", text}}, true);
  auto rest = renderer.flush();
  steps.insert(steps.end(), rest.begin(), rest.end());
  ASSERT_EQ(steps.size(), 3u);
  for (const auto& step : steps) EXPECT_LE(utf16_length(step.params["text"].get<std::string>()), 4096u);
  EXPECT_EQ(steps.back().delivers, 1);
  EXPECT_EQ(steps.front().delivers, 0);
}

TEST(OutputRenderer, EndIsAReadableSummary) {
  OutputRenderer renderer(kChat);
  renderer.render(json::parse(kScale), true);
  auto steps = renderer.render(
      json::parse(R"({"type":"end","id":10,"seq":4,"flow":"braving","reason":"completed","summary":{"boundaries":7,"non_judgment":3}})"),
      true);
  ASSERT_EQ(steps.size(), 1u);
  EXPECT_EQ(steps[0].params["text"],
            "Your summary:\nBoundaries: 7\nNon judgment: 3\n\nSend /start when you'd like another reflection.");
  EXPECT_FALSE(renderer.question());
}

TEST(OutputRenderer, SafetyStandsOutWithResourcesAndButtons) {
  OutputRenderer renderer(kChat);
  auto steps = renderer.render(
      json::parse(R"({"type":"safety","id":7,"seq":3,"category":"self_harm","text":"Thank you for trusting me with that.","resources":[{"name":"Samaritans","phone":"116 123","url":"https://www.samaritans.org","hours":"24/7, free"}],"choices":[{"id":"safety_talk","label":"Talk to someone now"},{"id":"safety_continue","label":"Continue the exercise"},{"id":"safety_stop","label":"Stop for now"}]})"),
      true);
  ASSERT_EQ(steps.size(), 1u);
  auto text = steps[0].params["text"].get<std::string>();
  EXPECT_EQ(text.rfind("\u2757 Thank you", 0), 0u);
  EXPECT_NE(text.find("Samaritans\n  Call: 116 123\n  https://www.samaritans.org\n  24/7, free"), std::string::npos);
  EXPECT_EQ(steps[0].params["reply_markup"]["inline_keyboard"].size(), 3u);
  EXPECT_EQ(renderer.question()->choice_ids[1], "safety_continue");
  // Without an id (not stored), the key comes from the seq.
  renderer.render(json::parse(R"({"type":"safety","seq":5,"category":"self_harm","text":"x","resources":[],"choices":[]})"), true);
  EXPECT_EQ(renderer.question()->key, "s5");
}

TEST(OutputRenderer, FlowsKeyboardHasOneButtonPerFlow) {
  auto rows = flows_keyboard(json::parse(
      R"([{"id":"braving","title":"BRAVING check-in","description":"","minutes":10},{"id":"compassion","title":"Self-compassion break","description":"","minutes":5}])"));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0][0]["text"], "BRAVING check-in (10 min)");
  EXPECT_EQ(rows[1][0]["callback_data"], "v1:f:compassion");
}

}  // namespace
}  // namespace trellis::telegram
