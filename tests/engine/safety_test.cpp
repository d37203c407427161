#include "trellis/engine/safety.hpp"

#include <fstream>
#include <functional>
#include <map>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "flow_fixtures.hpp"
#include "trellis/engine/compile.hpp"
#include "trellis/engine/session_state.hpp"
#include "trellis/engine/step.hpp"

namespace trellis::engine {
namespace {

using nlohmann::json;

json small_policy() {
  return json::parse(R"({
  "format": 1,
  "default_region": "default",
  "choices": {"talk": "Talk to someone now", "continue": "Continue the exercise", "stop": "Stop for now"},
  "texts": {"talk": "Here is how.", "continue": "Okay, back to it.", "stop": "Okay, stopping.",
            "not_crisis": "Thank you for telling me."},
  "categories": [
    {"id": "suicidal_thoughts", "response": "I'm glad you told me.",
     "patterns": [{"match": "\\bkill myself\\b", "examples": ["kms"], "not": ["I killed it"]}]},
    {"id": "self_harm", "response": "Thank you for trusting me.",
     "patterns": [{"match": "\\bhurt myself\\b", "examples": ["I want to hurt myself"]}]},
    {"id": "harm_to_others", "response": "Thank you for being honest.",
     "patterns": [{"match": "\\bkill him\\b", "examples": ["I want to kill him"]}]},
    {"id": "abuse_or_danger", "response": "You deserve to be safe.",
     "patterns": [{"match": "\\bhe hits me\\b", "examples": ["he hits me"]}]}
  ],
  "context": {"negation": {"match": "\\b(not|never)\\b", "examples": ["never"]}},
  "idioms": [{"match": "\\bkill myself laughing\\b", "examples": ["I'd kill myself laughing"]}],
  "regions": [
    {"id": "us", "name": "United States", "resources": [
      {"name": "988 Suicide & Crisis Lifeline", "phone": "988", "sms": "988", "hours": "24/7"},
      {"name": "Hotline", "phone": "1-800-799-7233", "only_for": ["abuse_or_danger"]}]},
    {"id": "default", "name": "Elsewhere", "resources": [{"name": "Emergency services", "phone": "112"}]}
  ]
})");
}

std::shared_ptr<const SafetyPolicy> compile_or_die(const json& policy) {
  auto compiled = compile_safety_policy(policy.dump(2), "policy.json");
  if (!compiled) {
    for (const auto& d : compiled.error()) ADD_FAILURE() << format(d);
    return nullptr;
  }
  return *compiled;
}

TEST(SafetyPolicy, SmallPolicyCompiles) {
  auto policy = compile_or_die(small_policy());
  ASSERT_TRUE(policy);
  EXPECT_EQ(policy->categories.size(), 4u);
  EXPECT_EQ(policy->region("us").id, "us");
  EXPECT_EQ(policy->region("mars").id, "default");
  EXPECT_EQ(policy->region("").id, "default");
}

TEST(SafetyPolicy, TheShippedPolicyCompilesWithoutWarnings) {
  std::ifstream in(std::string(TRELLIS_SOURCE_DIR) + "/dialogs/safety/policy.json");
  std::stringstream text;
  text << in.rdbuf();
  std::vector<Diagnostic> warnings;
  auto policy = compile_safety_policy(text.str(), "dialogs/safety/policy.json", &warnings);
  ASSERT_TRUE(policy) << format(policy.error().front());
  EXPECT_TRUE(warnings.empty());
  for (const char* region : {"us", "uk_ie", "default"}) EXPECT_EQ((*policy)->region(region).id, region);
}

struct ErrorCase {
  std::string name;
  std::function<void(json&)> change;
  std::string code;
  std::string pointer;
};

class SafetyPolicyErrors : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(SafetyPolicyErrors, ReportsCodePointerAndLine) {
  json policy = small_policy();
  GetParam().change(policy);
  auto compiled = compile_safety_policy(policy.dump(2), "policy.json");
  ASSERT_FALSE(compiled) << GetParam().name;
  bool found = false;
  for (const auto& d : compiled.error()) {
    EXPECT_EQ(d.file, "policy.json");
    EXPECT_GT(d.line, 0) << format(d);
    if (d.code == GetParam().code && d.pointer == GetParam().pointer) found = true;
  }
  std::string all;
  for (const auto& d : compiled.error()) all += format(d) + "\n";
  EXPECT_TRUE(found) << "wanted " << GetParam().code << " at " << GetParam().pointer << ", got:\n" << all;
}

INSTANTIATE_TEST_SUITE_P(
    Table, SafetyPolicyErrors,
    ::testing::Values(
        ErrorCase{"format", [](json& p) { p["format"] = 9; }, "S003", "/format"},
        ErrorCase{"wrong type", [](json& p) { p["categories"] = "all"; }, "S010", "/categories"},
        ErrorCase{"unknown key", [](json& p) { p["region"] = "us"; }, "S011", "/region"},
        ErrorCase{"missing", [](json& p) { p["texts"].erase("not_crisis"); }, "S012", "/texts"},
        ErrorCase{"empty", [](json& p) { p["categories"][0]["response"] = ""; }, "S013", "/categories/0/response"},
        ErrorCase{"duplicate category", [](json& p) { p["categories"][1]["id"] = "suicidal_thoughts"; }, "S021",
                  "/categories/1/id"},
        ErrorCase{"unknown default region", [](json& p) { p["default_region"] = "uk"; }, "S022", "/default_region"},
        ErrorCase{"region without resources", [](json& p) { p["regions"][1]["resources"] = json::array(); },
                  "S024", "/regions/1/resources"},
        ErrorCase{"unreachable resource", [](json& p) { p["regions"][1]["resources"][0].erase("phone"); }, "S025",
                  "/regions/1/resources/0"},
        ErrorCase{"only_for unknown", [](json& p) { p["regions"][0]["resources"][1]["only_for"][0] = "abuse"; },
                  "S026", "/regions/0/resources/1/only_for/0"},
        ErrorCase{"bad id", [](json& p) { p["regions"][0]["id"] = "U S"; }, "S027", "/regions/0/id"},
        ErrorCase{"bad pattern", [](json& p) { p["categories"][0]["patterns"][0]["match"] = "(kill"; }, "S030",
                  "/categories/0/patterns/0/match"},
        ErrorCase{"example not matched", [](json& p) { p["categories"][1]["patterns"][0]["examples"][0] = "hello"; },
                  "S031", "/categories/1/patterns/0/examples/0"},
        ErrorCase{"counter-example matched",
                  [](json& p) { p["categories"][0]["patterns"][0]["not"][0] = "I will kill myself"; }, "S032",
                  "/categories/0/patterns/0/not/0"},
        ErrorCase{"pattern too long",
                  [](json& p) { p["categories"][0]["patterns"][0]["match"] = std::string(1200, 'a'); }, "S033",
                  "/categories/0/patterns/0/match"}),
    [](const auto& info) {
      std::string name = info.param.name;
      for (char& c : name) if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
      return name;
    });

TEST(SafetyPolicy, EveryErrorAtOnce) {
  json policy = small_policy();
  policy["format"] = 2;
  policy["default_region"] = "nowhere";
  policy["categories"][0]["patterns"][0]["match"] = "(";
  auto compiled = compile_safety_policy(policy.dump(2), "policy.json");
  ASSERT_FALSE(compiled);
  EXPECT_GE(compiled.error().size(), 3u);
}

TEST(SafetyPolicy, NotJsonIsS001WithALine) {
  auto compiled = compile_safety_policy("{\n  \"format\": 1,\n  oops\n}", "policy.json");
  ASSERT_FALSE(compiled);
  EXPECT_EQ(compiled.error().front().code, "S001");
  EXPECT_EQ(compiled.error().front().line, 3);
}

TEST(SafetyPolicy, MissingStandardCategoryIsAWarning) {
  json policy = small_policy();
  policy["categories"].erase(3);
  policy["regions"][0]["resources"].erase(1);  // it was only for the removed category
  std::vector<Diagnostic> warnings;
  auto compiled = compile_safety_policy(policy.dump(2), "policy.json", &warnings);
  ASSERT_TRUE(compiled);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0].code, "S023");
}

TEST(SafetyNormalise, FoldsCaseQuotesRepeatsAndChatSpellings) {
  EXPECT_EQ(normalise_for_safety("I wanna DIIIIE"), "i want to die");
  EXPECT_EQ(normalise_for_safety("kms"), "kill myself");
  // Alone, "unaliving" is about oneself: "thinking about unaliving again".
  EXPECT_EQ(normalise_for_safety("thinking abt unaliving again"), "thinking about killing myself again");
  // "my self" in two words is "myself", except where "self" starts a compound.
  EXPECT_EQ(normalise_for_safety("I think about killing my self a lot"), "i think about killing myself a lot");
  EXPECT_EQ(normalise_for_safety("my self harm scars"), "my self harm scars");
  EXPECT_EQ(normalise_for_safety("my self esteem"), "my self esteem");
  EXPECT_EQ(normalise_for_safety("I\xE2\x80\x99m done"), "i'm done");
  EXPECT_EQ(normalise_for_safety("im gonna kiiill myslef!!"), "i'm going to kill myself .");
  EXPECT_EQ(normalise_for_safety("self-harm"), "self harm");
  EXPECT_EQ(normalise_for_safety("she said \xE2\x80\x9Cno\xE2\x80\x9D"), "she said \" no \"");
}

TEST(SafetyNormalise, ScotsIrishAndNorthernSpellings) {
  EXPECT_EQ(normalise_for_safety("I dinnae want tae be here"), "i don't want to be here");
  EXPECT_EQ(normalise_for_safety("been stockpilin tablets for masel"), "been stockpiling tablets for myself");
  EXPECT_EQ(normalise_for_safety("a'm hidin fae him"), "i'm hiding fae him");
  // "bleedin" stays: in "this bleedin bus" it swears, it does not bleed.
  EXPECT_EQ(normalise_for_safety("this bleedin bus"), "this bleedin bus");
}

class ShippedPolicy : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::ifstream in(std::string(TRELLIS_SOURCE_DIR) + "/dialogs/safety/policy.json");
    std::stringstream text;
    text << in.rdbuf();
    policy_ = *compile_safety_policy(text.str(), "policy.json");
  }
  static std::string category(const std::string& text) {
    auto match = detect(*policy_, text);
    return match ? match->category : "none";
  }
  static inline std::shared_ptr<const SafetyPolicy> policy_;
};

TEST_F(ShippedPolicy, DetectsDirectIndirectAndSlang) {
  EXPECT_EQ(category("I want to kill myself"), "suicidal_thoughts");
  EXPECT_EQ(category("kms"), "suicidal_thoughts");
  EXPECT_EQ(category("everyone would be better off without me"), "suicidal_thoughts");
  EXPECT_EQ(category("I've been stockpiling my pills"), "suicidal_thoughts");
  EXPECT_EQ(category("i cut again"), "self_harm");
  EXPECT_EQ(category("I want to hurt my sister"), "harm_to_others");
  EXPECT_EQ(category("my husband hits me"), "abuse_or_danger");
}

TEST_F(ShippedPolicy, NegationQuotationIdiomsAndResolvedPastStandDown) {
  EXPECT_EQ(category("I would never kill myself"), "none");
  EXPECT_EQ(category("I'm not suicidal"), "none");
  EXPECT_EQ(category("the song goes \"I want to die\""), "none");
  EXPECT_EQ(category("I killed myself laughing"), "none");
  EXPECT_EQ(category("this commute is killing me"), "none");
  EXPECT_EQ(category("I self harmed years ago, I've been well since"), "none");
  EXPECT_EQ(category("my friend lost her cousin to suicide, so I'm sponsoring her charity run"), "none");
  EXPECT_EQ(category("got the rope swing up on the oak, the kids are thrilled"), "none");
  EXPECT_EQ(category("dropped the whole pan of pasta and nearly lost the will to live"), "none");
  EXPECT_EQ(category("the anniversary of my brother's suicide is next month, I'll light a candle"), "none");
}

TEST_F(ShippedPolicy, NegationAndPastDoNotHideRealRisk) {
  // A negation in another clause, or a past event that is happening again, still responds.
  EXPECT_EQ(category("I'm not okay, I want to die"), "suicidal_thoughts");
  EXPECT_EQ(category("I can't stop thinking about killing myself"), "suicidal_thoughts");
  EXPECT_EQ(category("I self harmed years ago and it's coming back again"), "self_harm");
  EXPECT_EQ(category("I'm not going to kill myself. but I want to die"), "suicidal_thoughts");
  // Scots "I'm no" is "I'm not" just before the words it negates, and nowhere else.
  EXPECT_EQ(category("I'm no wantin to die, I'm wantin a holiday"), "none");
  EXPECT_EQ(category("I'm no good to anyone and I want to die"), "suicidal_thoughts");
  EXPECT_EQ(category("I've been stockpilin my pills"), "suicidal_thoughts");
  EXPECT_EQ(category("He said \"I want to die\" and I think he means it"), "suicidal_thoughts");
  // Hiding it, or holding it off, is not denying it.
  EXPECT_EQ(category("my mum doesn't know i sh. please don't tell her"), "self_harm");
  EXPECT_EQ(category("I'm too busy trying not to hurt myself right now to think about trust"), "self_harm");
}

TEST_F(ShippedPolicy, ARecoveryToldWithTheWordsOfTheActStandsDown) {
  EXPECT_EQ(category("I used to starve myself, these days I eat breakfast every morning"), "none");
  EXPECT_EQ(category("I once burned my hands on purpose to feel something, and now I make pottery"), "none");
  EXPECT_EQ(category("It's been eight years since my suicide attempt"), "none");
  EXPECT_EQ(category("I used to cut myself and I've started again"), "self_harm");
}

TEST_F(ShippedPolicy, AMeantActIsNotStoodDownByAnAccidentIdiom) {
  EXPECT_EQ(category("I burnt my hand on the hob making dinner"), "none");
  EXPECT_EQ(category("i burnt my hand on the hob on purpose"), "self_harm");
}

TEST_F(ShippedPolicy, SecondTierFamiliesGeneralise) {
  EXPECT_EQ(category("ive been cutting for weeks and nobodys noticed"), "self_harm");
  EXPECT_EQ(category("I've been cutting back on sugar for weeks"), "none");
  EXPECT_EQ(category("I've got his address and a hammer. Tonight"), "harm_to_others");
  EXPECT_EQ(category("I hit my wife last night and I think I'll do it again"), "harm_to_others");
  EXPECT_EQ(category("Mum's partner strangled me during an argument"), "abuse_or_danger");
  EXPECT_EQ(category("my sister is so annoying i could strangle her lol"), "none");
  EXPECT_EQ(category("the aunty I live with beats me with cable wire when I come home late"), "abuse_or_danger");
  EXPECT_EQ(category("I keep checking the train times, and not for going anywhere"), "suicidal_thoughts");
  EXPECT_EQ(category("is it bad that i want to see blood right now"), "self_harm");
  EXPECT_EQ(category("everyone at that school laughed at me. they'll all see on Friday what happens"),
            "harm_to_others");
}

TEST(SafetyNormalise, PossessivesOfTableWordsAndApostropheForms) {
  EXPECT_EQ(normalise_for_safety("Mum's partner"), "mom's partner");
  EXPECT_EQ(normalise_for_safety("i sh'd last night"), "i self harmed last night");
  EXPECT_EQ(normalise_for_safety("theres"), "there's");
}

// --- step -------------------------------------------------------------------

class SafetyStep : public ::testing::Test {
 protected:
  void SetUp() override {
    flow_ = *compile_flow(testing::kCheckIn, "checkin.json");
    policy_ = compile_or_die(small_policy());
    state_ = new_session(*flow_);
    go(StartEvent{});
  }
  StepResult go(const Event& event) {
    auto result = step(*flow_, *policy_, state_, event);
    state_ = result.state;
    return result;
  }
  static const SafetyOutput* safety_in(const StepResult& result) {
    for (const auto& output : result.outputs) {
      if (const auto* safety = std::get_if<SafetyOutput>(&output)) return safety;
    }
    return nullptr;
  }
  std::shared_ptr<const Flow> flow_;
  std::shared_ptr<const SafetyPolicy> policy_;
  SessionState state_;
};

TEST_F(SafetyStep, CrisisOnAYesNoQuestionInterruptsBeforeTheFlow) {
  auto result = go(TextEvent{"kms"});
  EXPECT_EQ(result.outcome, Outcome::Safety);
  EXPECT_EQ(result.matched, "safety:suicidal_thoughts");
  EXPECT_EQ(result.safety_detector, SafetyDetector::Rules);
  const auto* safety = safety_in(result);
  ASSERT_NE(safety, nullptr);
  EXPECT_EQ(safety->category, "suicidal_thoughts");
  EXPECT_EQ(safety->text, "I'm glad you told me.");
  ASSERT_EQ(safety->resources.size(), 1u);
  EXPECT_EQ(safety->resources[0].phone, "112");
  ASSERT_EQ(safety->choices.size(), 3u);
  EXPECT_EQ(safety->choices[1].id, kSafetyContinueChoice);
  EXPECT_EQ(safety->node, "ready");
  EXPECT_EQ(state_.safety_category, "suicidal_thoughts");
  EXPECT_EQ(state_.at, "ready");
}

TEST_F(SafetyStep, AClassifierDetectionIsMarkedAsSuch) {
  auto rules = compile_or_die(small_policy());
  ASSERT_TRUE(rules);
  auto classifier = compile_safety_classifier(R"({"format": 1, "features": ["word_pairs"], "categories": [
      {"id": "suicidal_thoughts", "bias": -4, "threshold": 0.9, "weights": {"b:last train": 20}}]})",
                                              "classifier.json", {"suicidal_thoughts", "self_harm"});
  ASSERT_TRUE(classifier);
  auto with = std::make_shared<SafetyPolicy>(*rules);
  with->classifier = *classifier;
  policy_ = with;
  auto result = go(TextEvent{"the last train"});
  EXPECT_EQ(result.outcome, Outcome::Safety);
  EXPECT_EQ(result.matched, "safety:suicidal_thoughts");  // the same outcome and output as a rule's
  EXPECT_EQ(result.safety_detector, SafetyDetector::Classifier);
  ASSERT_NE(safety_in(result), nullptr);
  EXPECT_FALSE(go(ChoiceEvent{std::string(kSafetyContinueChoice)}).safety_detector);
}

TEST_F(SafetyStep, TypedTextOnAScaleQuestionIsCheckedToo) {
  go(ChoiceEvent{"yes"});
  ASSERT_EQ(state_.at, "mood");
  auto result = go(TextEvent{"2, I want to hurt myself"});
  ASSERT_NE(safety_in(result), nullptr);
  EXPECT_EQ(safety_in(result)->category, "self_harm");
  EXPECT_FALSE(state_.variables.count("mood"));  // the flow never saw it
}

TEST_F(SafetyStep, RegionPicksResourcesAndOnlyForFiltersThem) {
  state_.region = "us";
  auto result = go(TextEvent{"he hits me"});
  ASSERT_NE(safety_in(result), nullptr);
  EXPECT_EQ(safety_in(result)->resources.size(), 2u);
  state_.safety_category.clear();
  result = go(TextEvent{"kms"});
  EXPECT_EQ(safety_in(result)->resources.size(), 1u);
}

TEST_F(SafetyStep, RegionSurvivesStartAndRestart) {
  state_ = new_session(*flow_);
  state_.region = "us";
  go(StartEvent{});
  go(CommandEvent{CommandName::Restart});
  EXPECT_EQ(state_.region, "us");
}

TEST_F(SafetyStep, YouMisunderstoodKeepsTheResourcesAndAsksAgain) {
  go(TextEvent{"kms"});
  auto result = go(TextEvent{"you misunderstood"});
  EXPECT_EQ(result.matched, "safety:ask_again");
  ASSERT_FALSE(result.outputs.empty());
  EXPECT_EQ(std::get<MessageOutput>(result.outputs[0]).text, "Thank you for telling me.");
  ASSERT_NE(safety_in(result), nullptr);
  EXPECT_FALSE(safety_in(result)->resources.empty());
  EXPECT_EQ(state_.safety_category, "suicidal_thoughts");
  // Commands other than stop and restart do not clear it either.
  go(CommandEvent{CommandName::Resume});
  go(CommandEvent{CommandName::Skip});
  EXPECT_EQ(state_.safety_category, "suicidal_thoughts");
}

TEST_F(SafetyStep, ContinueReturnsToTheExactQuestionWithItsPrompt) {
  go(ChoiceEvent{"yes"});
  go(TextEvent{"I want to hurt myself"});
  auto result = go(ChoiceEvent{std::string(kSafetyContinueChoice)});
  EXPECT_EQ(result.matched, "safety:continue");
  EXPECT_TRUE(state_.safety_category.empty());
  EXPECT_EQ(state_.at, "mood");
  ASSERT_EQ(result.outputs.size(), 3u);
  EXPECT_EQ(std::get<MessageOutput>(result.outputs[0]).text, "Okay, back to it.");
  EXPECT_EQ(std::get<MessageOutput>(result.outputs[1]).text, "How are you, 1 to 10?");
  EXPECT_EQ(std::get<PromptOutput>(result.outputs[2]).input, InputKind::Scale);
  go(TextEvent{"7"});
  EXPECT_EQ(state_.at, "pick");
}

TEST_F(SafetyStep, TypedChoiceWordsAndNumbersWork) {
  go(TextEvent{"kms"});
  auto talk = go(TextEvent{"1"});
  EXPECT_EQ(talk.matched, "safety:talk");
  EXPECT_EQ(state_.safety_category, "suicidal_thoughts");
  auto back = go(TextEvent{"carry on"});
  EXPECT_EQ(back.matched, "safety:continue");
  EXPECT_EQ(state_.at, "ready");
}

TEST_F(SafetyStep, StopEndsTheFlowGently) {
  go(TextEvent{"kms"});
  auto result = go(ChoiceEvent{std::string(kSafetyStopChoice)});
  EXPECT_EQ(state_.phase, Phase::Ended);
  EXPECT_TRUE(state_.safety_category.empty());
  EXPECT_EQ(std::get<MessageOutput>(result.outputs[0]).text, "Okay, stopping.");
  EXPECT_EQ(std::get<EndOutput>(result.outputs[1]).reason, "stopped");
}

TEST_F(SafetyStep, WhilePausedAndAfterTheEnd) {
  go(CommandEvent{CommandName::Pause});
  auto paused = go(TextEvent{"I want to kill him"});
  ASSERT_NE(safety_in(paused), nullptr);
  EXPECT_EQ(safety_in(paused)->category, "harm_to_others");
  auto resumed = go(ChoiceEvent{std::string(kSafetyContinueChoice)});
  EXPECT_EQ(state_.phase, Phase::Waiting);
  EXPECT_EQ(std::get<MessageOutput>(resumed.outputs[1]).text, "Ready?");

  go(CommandEvent{CommandName::Stop});
  auto after = go(TextEvent{"he hits me"});
  ASSERT_NE(safety_in(after), nullptr);
  EXPECT_EQ(safety_in(after)->choices.size(), 2u);  // no question to continue
  EXPECT_TRUE(safety_in(after)->node.empty());
}

TEST_F(SafetyStep, StateSurvivesARestartMidSafety) {
  go(TextEvent{"kms"});
  state_.region = "us";
  auto json = to_json(state_);
  EXPECT_EQ(json["format"], 2);
  EXPECT_EQ(json["safety"]["category"], "suicidal_thoughts");
  auto loaded = session_state_from_json(json);
  ASSERT_TRUE(loaded) << loaded.error();
  EXPECT_EQ(*loaded, state_);
  state_ = *loaded;
  auto result = go(TextEvent{"you misunderstood"});
  EXPECT_EQ(result.matched, "safety:ask_again");
}

TEST_F(SafetyStep, Format1StateStillReads) {
  auto json = to_json(state_);
  json["format"] = 1;
  json.erase("safety");
  json.erase("region");
  auto loaded = session_state_from_json(json);
  ASSERT_TRUE(loaded) << loaded.error();
  EXPECT_TRUE(loaded->safety_category.empty());
}

TEST_F(SafetyStep, Deterministic) {
  auto a = step(*flow_, *policy_, state_, TextEvent{"kms"});
  auto b = step(*flow_, *policy_, state_, TextEvent{"kms"});
  EXPECT_EQ(a.state, b.state);
  ASSERT_EQ(a.outputs.size(), b.outputs.size());
  for (std::size_t i = 0; i < a.outputs.size(); ++i) EXPECT_EQ(to_json(a.outputs[i]), to_json(b.outputs[i]));
}

TEST_F(SafetyStep, WithoutAPolicyTheFlowSeesTheText) {
  auto result = step(*flow_, state_, TextEvent{"kms"});
  EXPECT_NE(result.outcome, Outcome::Safety);
}

TEST(SafetyOutputJson, HasTheWireFields) {
  SafetyOutput output{"self_harm", "text", {SafetyResource{"Samaritans", "116 123", std::nullopt, std::nullopt, "24/7", {}}},
                      {{"safety_talk", "Talk"}}, "n"};
  auto json = to_json(Output{output});
  EXPECT_EQ(json["type"], "safety");
  EXPECT_EQ(json["resources"][0]["phone"], "116 123");
  EXPECT_FALSE(json["resources"][0].contains("sms"));
  EXPECT_EQ(json["choices"][0]["id"], "safety_talk");
}

}  // namespace
}  // namespace trellis::engine
