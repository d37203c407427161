#include "trellis/engine/step.hpp"

#include <gtest/gtest.h>

#include "flow_fixtures.hpp"
#include "trellis/engine/compile.hpp"

namespace trellis::engine {
namespace {

std::shared_ptr<const Flow> compile_or_die(const std::string& text) {
  auto flow = compile_flow(text, "test.json");
  if (!flow) {
    std::string all;
    for (const auto& d : flow.error()) all += format(d) + "\n";
    ADD_FAILURE() << all;
    return nullptr;
  }
  return *flow;
}

// Drives one session and keeps the last step's outputs for assertions.
class Conversation {
 public:
  explicit Conversation(std::shared_ptr<const Flow> flow) : flow_(std::move(flow)), state_(new_session(*flow_)) {}

  Conversation& send(const Event& event) {
    auto result = step(*flow_, state_, event);
    state_ = result.state;
    outputs_ = result.outputs;
    outcome_ = result.outcome;
    matched_ = result.matched;
    return *this;
  }
  Conversation& start() { return send(StartEvent{}); }
  Conversation& type(const std::string& text) { return send(TextEvent{text}); }
  Conversation& press(const std::string& id) { return send(ChoiceEvent{id}); }
  Conversation& command(CommandName name) { return send(CommandEvent{name}); }

  std::vector<std::string> messages() const {
    std::vector<std::string> texts;
    for (const auto& output : outputs_) {
      if (const auto* message = std::get_if<MessageOutput>(&output)) texts.push_back(message->text);
    }
    return texts;
  }
  const PromptOutput* prompt() const {
    for (auto it = outputs_.rbegin(); it != outputs_.rend(); ++it) {
      if (const auto* prompt = std::get_if<PromptOutput>(&*it)) return prompt;
    }
    return nullptr;
  }
  const EndOutput* end() const {
    for (const auto& output : outputs_) {
      if (const auto* end = std::get_if<EndOutput>(&output)) return end;
    }
    return nullptr;
  }

  const SessionState& state() const { return state_; }
  const std::vector<Output>& outputs() const { return outputs_; }
  Outcome outcome() const { return outcome_; }
  const std::string& matched() const { return matched_; }

 private:
  std::shared_ptr<const Flow> flow_;
  SessionState state_;
  std::vector<Output> outputs_;
  Outcome outcome_ = Outcome::Ignored;
  std::string matched_;
};

class StepTest : public ::testing::Test {
 protected:
  std::shared_ptr<const Flow> flow_ = compile_or_die(testing::kCheckIn);
};

TEST_F(StepTest, StartSaysMessagesPausesAndAsks) {
  Conversation c(flow_);
  c.start();
  EXPECT_EQ(c.outcome(), Outcome::Started);
  ASSERT_EQ(c.outputs().size(), 5u);
  EXPECT_EQ(std::get<MessageOutput>(c.outputs()[0]).text, "Hi there.");
  EXPECT_EQ(std::get<PauseOutput>(c.outputs()[1]).ms, 1000);
  EXPECT_EQ(std::get<MessageOutput>(c.outputs()[3]).text, "Ready?");
  ASSERT_NE(c.prompt(), nullptr);
  EXPECT_EQ(c.prompt()->input, InputKind::YesNo);
  ASSERT_EQ(c.prompt()->choices.size(), 2u);
  EXPECT_EQ(c.prompt()->choices[0].id, "yes");
  EXPECT_EQ(c.state().phase, Phase::Waiting);
  EXPECT_EQ(c.state().at, "ready");
}

TEST_F(StepTest, YesNoUnderstandsEverydayWords) {
  for (const char* yes : {"yes", "Yeah", "yep!", "sure thing", "let's do this", "ok"}) {
    Conversation c(flow_);
    c.start().type(yes);
    EXPECT_EQ(c.state().at, "mood") << yes;
  }
  for (const char* no : {"no", "nope", "Nah", "not now"}) {
    Conversation c(flow_);
    c.start().type(no);
    EXPECT_EQ(c.state().phase, Phase::Ended) << no;
  }
  Conversation c(flow_);
  c.start().type("banana");
  EXPECT_EQ(c.outcome(), Outcome::Reprompted);
  EXPECT_EQ(c.state().at, "ready");
}

TEST_F(StepTest, ScaleAcceptsNumbersInManyForms) {
  for (auto [text, value] : std::vector<std::pair<std::string, double>>{
           {"7", 7}, {"7/10", 7}, {"seven", 7}, {"I'd say 3 out of 10", 3}, {"10", 10}}) {
    Conversation c(flow_);
    c.start().press("yes").type(text);
    EXPECT_EQ(c.state().at, "pick") << text;
    EXPECT_EQ(std::get<double>(c.state().variables.at("mood")), value) << text;
  }
}

TEST_F(StepTest, BadAnswerRepromptsThenFallsBack) {
  Conversation c(flow_);
  c.start().press("yes").type("eleven");
  EXPECT_EQ(c.outcome(), Outcome::Reprompted);
  EXPECT_EQ(c.messages(), std::vector<std::string>{"A number from 1 to 10, please."});
  ASSERT_NE(c.prompt(), nullptr);
  EXPECT_EQ(c.prompt()->min, 1);
  EXPECT_EQ(c.state().attempts, 1);
  c.type("11");  // limit 2: the second failure goes to the fallback
  EXPECT_EQ(c.outcome(), Outcome::FellBack);
  EXPECT_EQ(c.state().phase, Phase::Ended);
  EXPECT_EQ(c.messages(), std::vector<std::string>{"Come back any time."});
}

TEST_F(StepTest, ChoiceByButtonNumberLabelOrPattern) {
  auto at_pick = [&] {
    Conversation c(flow_);
    c.start().press("yes").press("5");
    EXPECT_EQ(c.state().at, "pick");
    return c;
  };
  EXPECT_EQ(at_pick().press("walk").state().at, "note");
  EXPECT_EQ(at_pick().type("1").state().at, "note");
  EXPECT_EQ(at_pick().type("a walk").state().at, "note");
  auto by_pattern = at_pick().type("maybe a nap");
  EXPECT_EQ(by_pattern.state().phase, Phase::Ended);
  EXPECT_EQ(std::get<std::string>(by_pattern.state().variables.at("pick")), "rest");
  EXPECT_EQ(at_pick().type("3").outcome(), Outcome::Reprompted);
  auto forged = at_pick().press("fly");
  EXPECT_EQ(forged.outcome(), Outcome::UnknownChoice);
  EXPECT_EQ(forged.state().attempts, 0);
}

TEST_F(StepTest, EndCarriesTheSummary) {
  Conversation c(flow_);
  c.start().press("yes").type("8").press("walk").type("Along the river");
  ASSERT_NE(c.end(), nullptr);
  EXPECT_EQ(c.end()->reason, "completed");
  EXPECT_EQ(c.end()->summary["mood"], 8);
  EXPECT_EQ(c.end()->summary["good"], true);
  EXPECT_EQ(c.end()->summary["note"], "Along the river");
  auto messages = c.messages();
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0], "Glad you're doing well.");
  EXPECT_EQ(messages[1], "You said 8; doubled that's 16.");
}

TEST_F(StepTest, IntentRoutesFreeText) {
  Conversation c(flow_);
  c.start().press("yes").press("3").press("walk").type("Not sure");
  EXPECT_EQ(c.matched(), "intent:unsure");
  EXPECT_EQ(c.state().phase, Phase::Ended);
}

TEST_F(StepTest, EmptyAnswerIsRepromptedNotAccepted) {
  Conversation c(flow_);
  c.start().press("yes").press("3").press("walk").type("   ");
  EXPECT_EQ(c.outcome(), Outcome::Reprompted);
  EXPECT_EQ(c.state().at, "note");
}

TEST_F(StepTest, HelpShowsFlowHelpThenThePromptAgain) {
  Conversation c(flow_);
  c.start().type("help");
  EXPECT_EQ(c.messages(), std::vector<std::string>{"Answer as you like."});
  ASSERT_NE(c.prompt(), nullptr);
  EXPECT_EQ(c.prompt()->input, InputKind::YesNo);
  EXPECT_EQ(c.state().at, "ready");
}

TEST_F(StepTest, PauseHoldsAnswersUntilResume) {
  Conversation c(flow_);
  c.start().command(CommandName::Pause);
  EXPECT_EQ(c.state().phase, Phase::Paused);
  EXPECT_EQ(c.prompt()->commands, (std::vector<std::string>{"resume", "help", "stop"}));
  c.type("yes");
  EXPECT_EQ(c.state().at, "ready") << "an answer while paused must not advance";
  EXPECT_EQ(c.state().phase, Phase::Paused);
  c.type("/resume");
  EXPECT_EQ(c.state().phase, Phase::Waiting);
  EXPECT_EQ(c.messages().back(), "Ready?");
  c.type("yes");
  EXPECT_EQ(c.state().at, "mood");
}

TEST_F(StepTest, RestartClearsAnswers) {
  Conversation c(flow_);
  c.start().press("yes").press("9").command(CommandName::Restart);
  EXPECT_EQ(c.state().at, "ready");
  EXPECT_EQ(c.state().variables.count("mood"), 0u);
  EXPECT_EQ(c.state().variables.at("note"), Value{std::string()});
}

TEST_F(StepTest, StopEndsWithReasonStopped) {
  Conversation c(flow_);
  c.start().type("Stop!");
  ASSERT_NE(c.end(), nullptr);
  EXPECT_EQ(c.end()->reason, "stopped");
  EXPECT_EQ(c.state().phase, Phase::Ended);
  c.type("hello?");
  EXPECT_EQ(c.outcome(), Outcome::Ignored);
  EXPECT_EQ(c.state().phase, Phase::Ended);
}

TEST_F(StepTest, SkipOnlyWhereAllowed) {
  Conversation c(flow_);
  c.start().command(CommandName::Skip);
  EXPECT_EQ(c.state().at, "ready");
  EXPECT_EQ(c.messages().front(), "This one can't be skipped, but you can type stop to end here.");
  c.press("yes").press("2");
  ASSERT_EQ(c.state().at, "pick");
  EXPECT_EQ(c.prompt()->commands, (std::vector<std::string>{"help", "skip", "pause", "restart", "stop"}));
  c.command(CommandName::Skip);
  EXPECT_EQ(c.state().phase, Phase::Ended);
  EXPECT_EQ(c.state().variables.count("pick"), 0u);
}

TEST_F(StepTest, InputBeforeStartIsIgnored) {
  Conversation c(flow_);
  c.type("hello");
  EXPECT_EQ(c.outcome(), Outcome::Ignored);
  EXPECT_TRUE(c.outputs().empty());
  EXPECT_EQ(c.state().phase, Phase::NotStarted);
}

TEST_F(StepTest, SameEventsGiveSameResults) {
  std::vector<Event> events{StartEvent{}, TextEvent{"yeah"}, TextEvent{"banana"}, TextEvent{"6"},
                            ChoiceEvent{"walk"}, TextEvent{"to the park"}};
  auto run = [&] {
    SessionState state = new_session(*flow_);
    std::vector<nlohmann::json> all;
    for (const auto& event : events) {
      auto result = step(*flow_, state, event);
      state = result.state;
      for (const auto& output : result.outputs) all.push_back(to_json(output));
    }
    return std::make_pair(state, all);
  };
  auto first = run();
  auto second = run();
  EXPECT_EQ(first.first, second.first);
  EXPECT_EQ(first.second, second.second);
}

TEST_F(StepTest, StateRoundTripsThroughJsonMidConversation) {
  Conversation c(flow_);
  c.start().press("yes").type("7").press("walk");
  auto json = to_json(c.state());
  auto back = session_state_from_json(nlohmann::json::parse(json.dump()));
  ASSERT_TRUE(back) << back.error();
  EXPECT_EQ(*back, c.state());
  EXPECT_EQ(json["flow"], "checkin");
  EXPECT_EQ(json["flow_version"], 2);
  // The restored state carries on exactly as the original would.
  auto from_original = step(*flow_, c.state(), TextEvent{"the hills"});
  auto from_restored = step(*flow_, *back, TextEvent{"the hills"});
  EXPECT_EQ(from_original.state, from_restored.state);
}

TEST(SessionStateJson, RejectsBrokenForms) {
  EXPECT_FALSE(session_state_from_json(nlohmann::json::array()));
  EXPECT_FALSE(session_state_from_json({{"format", 99}}));
  auto good = to_json(SessionState{});
  auto broken = good;
  broken["phase"] = "dancing";
  EXPECT_FALSE(session_state_from_json(broken));
  broken = good;
  broken["variables"] = {{"x", nlohmann::json::array()}};
  EXPECT_FALSE(session_state_from_json(broken));
  EXPECT_TRUE(session_state_from_json(good));
}

const char* const kSubflowFlow = R"({
  "trellis": 1, "id": "sub", "version": 1, "title": "Sub", "description": "Sub-flows.", "minutes": 1,
  "credits": [{"author": "T", "work": "T"}],
  "start": "first",
  "nodes": {
    "first": {"type": "call", "subflow": "breathe", "next": "middle"},
    "middle": {"type": "question", "input": "yesno", "ask": "Again?", "yes": "second", "no": "done"},
    "second": {"type": "call", "subflow": "breathe", "next": "done"},
    "done": {"type": "end", "say": "Done."}
  },
  "subflows": {
    "breathe": {"start": "in", "nodes": {
      "in": {"type": "message", "say": ["Breathe in.", {"pause": 4000}, "And out.", {"pause": 4000}], "next": "check"},
      "check": {"type": "question", "input": "yesno", "ask": "Calmer?", "yes": "back", "no": "in"},
      "back": {"type": "return"}
    }}
  }
})";

TEST(StepSubflows, CallAndReturnToEachCaller) {
  auto flow = compile_or_die(kSubflowFlow);
  ASSERT_TRUE(flow);
  Conversation c(flow);
  c.start();
  EXPECT_EQ(c.state().at, "breathe/check");
  EXPECT_EQ(c.state().call_stack, std::vector<std::string>{"middle"});
  int pauses = 0;
  for (const auto& output : c.outputs()) pauses += std::holds_alternative<PauseOutput>(output);
  EXPECT_EQ(pauses, 2);
  c.type("no");  // breathe again inside the sub-flow
  EXPECT_EQ(c.state().at, "breathe/check");
  c.type("yes");
  EXPECT_EQ(c.state().at, "middle");
  EXPECT_TRUE(c.state().call_stack.empty());
  c.type("yes").type("yes");
  EXPECT_EQ(c.state().phase, Phase::Ended);
  EXPECT_EQ(c.messages(), std::vector<std::string>{"Done."});
}

TEST(StepChecks, CheckFailureSaysWhyAndAsksAgain) {
  auto flow = compile_or_die(testing::flow_with(R"("start": "q", "nodes": {
    "q": {"type": "question", "input": "number", "ask": "How many hours?", "min": 0, "max": 24, "store": "hours",
          "check": [{"if": "answer >= 4", "say": "Under 4 hours is very little — is that right? Try again."}],
          "next": "e"},
    "e": {"type": "end", "say": "{{hours}} hours."}})"));
  ASSERT_TRUE(flow);
  Conversation c(flow);
  c.start().type("2");
  EXPECT_EQ(c.outcome(), Outcome::Reprompted);
  EXPECT_EQ(c.messages().front(), "Under 4 hours is very little — is that right? Try again.");
  c.type("25");
  EXPECT_EQ(c.outcome(), Outcome::Reprompted);
  c.type("6");
  EXPECT_EQ(c.messages(), std::vector<std::string>{"6 hours."});
}

TEST(StepChoices, HiddenChoicesAreNotOfferedOrAccepted) {
  auto flow = compile_or_die(testing::flow_with(R"("start": "n", "nodes": {
    "n": {"type": "question", "input": "number", "ask": "?", "min": 0, "max": 10, "store": "n", "next": "pick"},
    "pick": {"type": "question", "input": "choice", "ask": "Pick", "store": "p", "next": "e",
             "choices": [{"id": "low", "label": "Low", "when": "n < 5"}, {"id": "high", "label": "High", "when": "n >= 5"}]},
    "e": {"type": "end"}})"));
  ASSERT_TRUE(flow);
  Conversation c(flow);
  c.start().type("3");
  ASSERT_NE(c.prompt(), nullptr);
  ASSERT_EQ(c.prompt()->choices.size(), 1u);
  EXPECT_EQ(c.prompt()->choices[0].id, "low");
  c.press("high");
  EXPECT_EQ(c.outcome(), Outcome::UnknownChoice);
  c.type("1");
  EXPECT_EQ(std::get<std::string>(c.state().variables.at("p")), "low");
}

TEST(StepText, OverlongAnswerIsRepromptedWithTheLimit) {
  auto flow = compile_or_die(testing::flow_with(R"("start": "q", "nodes": {
    "q": {"type": "question", "input": "text", "ask": "?", "max_length": 10, "next": "e"},
    "e": {"type": "end"}})"));
  ASSERT_TRUE(flow);
  Conversation c(flow);
  c.start().type("this is far too long");
  EXPECT_EQ(c.outcome(), Outcome::Reprompted);
  EXPECT_NE(c.messages().front().find("10 characters"), std::string::npos);
  c.type("héllo wörld");  // 11 code points
  EXPECT_EQ(c.outcome(), Outcome::Reprompted);
  c.type("héllo wör");
  EXPECT_EQ(c.outcome(), Outcome::Answered);
}

}  // namespace
}  // namespace trellis::engine
