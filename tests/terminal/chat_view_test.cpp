#include "chat_view.hpp"

#include <sstream>

#include <gtest/gtest.h>

#include "test_flows.hpp"

namespace trellis::cli {
namespace {

using namespace engine;

PromptOutput choice_prompt() {
  PromptOutput prompt;
  prompt.input = InputKind::Choice;
  prompt.choices = {{"go", "Yes, go"}, {"later", "Not now"}};
  prompt.commands = {"help", "pause", "stop"};
  return prompt;
}

TEST(RenderOutput, ShowsEachKindOfOutput) {
  EXPECT_EQ(render_output(MessageOutput{"Hello.", "hello"}), "Hello.\n");
  EXPECT_EQ(render_output(choice_prompt()), "  1) Yes, go\n  2) Not now\n  (type help, pause, stop)\n");

  PromptOutput scale;
  scale.input = InputKind::Scale;
  scale.min = 1;
  scale.max = 10;
  EXPECT_EQ(render_output(scale), "  1\u201310\n");

  PromptOutput number;
  number.input = InputKind::Number;
  number.min = 0;
  number.max = 120;
  number.commands = {"skip"};
  EXPECT_EQ(render_output(number), "  a number from 0 to 120\n  (type skip)\n");

  EXPECT_EQ(render_output(PromptOutput{}), "");
  EXPECT_EQ(render_output(PauseOutput{2000, "hello"}), "");
  EXPECT_EQ(render_output(EndOutput{"cup", "completed", {{"cup", 7}, {"note", "calm"}, {"ok", true}}}),
            "(end: completed)\n  cup: 7\n  note: calm\n  ok: yes\n");
}

TEST(EventForInput, NumbersPressOptionsOnChoicePrompts) {
  auto prompt = choice_prompt();
  auto pressed = [&](const std::string& line) -> std::string {
    auto event = event_for_input(line, &prompt);
    if (auto* choice = std::get_if<ChoiceEvent>(&event)) return "choice " + choice->choice_id;
    return "text " + std::get<TextEvent>(event).text;
  };
  EXPECT_EQ(pressed("1"), "choice go");
  EXPECT_EQ(pressed(" 2 "), "choice later");
  EXPECT_EQ(pressed("3"), "text 3");  // not an option: the engine answers it
  EXPECT_EQ(pressed("0"), "text 0");
  EXPECT_EQ(pressed("2nd"), "text 2nd");
  EXPECT_EQ(pressed("not now"), "text not now");
  EXPECT_EQ(pressed("help"), "text help");  // command words go as text; the engine knows them
}

TEST(EventForInput, NumbersStayTextOnScalesAndWithoutAPrompt) {
  PromptOutput scale;
  scale.input = InputKind::Scale;
  scale.min = 0;
  scale.max = 10;
  for (int i = 0; i <= 10; ++i) scale.choices.push_back({std::to_string(i), std::to_string(i)});
  EXPECT_TRUE(std::holds_alternative<TextEvent>(event_for_input("7", &scale)));
  EXPECT_TRUE(std::holds_alternative<TextEvent>(event_for_input("1", nullptr)));
}

TEST(RunChat, PlaysAConversationFromPipedInput) {
  auto flow = testing_flows::compile_or_fail(testing_flows::kCup, "cup/flow.json");
  ASSERT_NE(flow, nullptr);
  std::istringstream in("1\n7\n");
  std::ostringstream out;
  std::vector<int> waits;
  ChatOptions options;
  options.wait = [&](int ms) { waits.push_back(ms); };
  EXPECT_EQ(run_chat(*flow, in, out, options), 0);
  EXPECT_EQ(out.str(),
            "Hello.\n"
            "Let's begin.\n"
            "Ready?\n"
            "  1) Yes, go\n"
            "  2) Not now\n"
            "  (type help, pause, restart, stop)\n"
            "How full is your cup?\n"
            "  1\u201310\n"
            "  (type help, pause, restart, stop)\n"
            "You said 7.\n"
            "(end: completed)\n"
            "  cup: 7\n");
  EXPECT_EQ(waits, std::vector<int>{1500});
}

TEST(RunChat, EndOfInputLeavesCleanly) {
  auto flow = testing_flows::compile_or_fail(testing_flows::kCup, "cup/flow.json");
  ASSERT_NE(flow, nullptr);
  std::istringstream in("");
  std::ostringstream out;
  EXPECT_EQ(run_chat(*flow, in, out, ChatOptions{}), 0);
  EXPECT_EQ(out.str().substr(out.str().size() - std::string("(type help, pause, restart, stop)\n").size()),
            "(type help, pause, restart, stop)\n");
}

}  // namespace
}  // namespace trellis::cli
