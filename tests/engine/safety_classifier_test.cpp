#include "trellis/engine/safety_classifier.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <functional>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "trellis/engine/safety.hpp"

namespace trellis::engine {
namespace {

using nlohmann::json;

const std::vector<std::string> kCategories{"suicidal_thoughts", "self_harm", "harm_to_others", "abuse_or_danger"};

// ---------------------------------------------------------------------------
// Features
// ---------------------------------------------------------------------------

TEST(SafetyFeatures, WordsAndPairsWithinAClause) {
  auto features = safety_features(normalise_for_safety("I can't go on, the last train."),
                                  {SafetyFeatureKind::Words, SafetyFeatureKind::WordPairs});
  std::vector<std::string> expected{"b:can't go", "b:go on",  "b:i can't", "b:last train", "b:the last",
                                    "w:can't",    "w:go",     "w:i",       "w:last",       "w:on",
                                    "w:the",      "w:train"};
  EXPECT_EQ(features, expected);  // sorted; no pair across the comma ("on the")
}

TEST(SafetyFeatures, SeesTheNormalisedText) {
  // "kms" is spelled out and "diiie" squeezed before any feature is taken.
  auto features = safety_features(normalise_for_safety("KMS i wanna diiie"), {SafetyFeatureKind::Words});
  std::vector<std::string> expected{"w:die", "w:i", "w:kill", "w:myself", "w:to", "w:want"};
  EXPECT_EQ(features, expected);
}

TEST(SafetyFeatures, CharacterNgramsInsideWords) {
  auto features = safety_features("cut", {SafetyFeatureKind::CharNgrams});
  std::vector<std::string> expected{"c:<cu", "c:<cut", "c:<cut>", "c:cut", "c:cut>", "c:ut>"};
  EXPECT_EQ(features, expected);
}

TEST(SafetyFeatures, EachFeatureOnceAndNothingForEmptyText) {
  EXPECT_EQ(safety_features("no no no", {SafetyFeatureKind::Words}), std::vector<std::string>{"w:no"});
  EXPECT_TRUE(safety_features("", {SafetyFeatureKind::Words, SafetyFeatureKind::CharNgrams}).empty());
  EXPECT_TRUE(safety_features(" . , ", {SafetyFeatureKind::Words}).empty());
}

TEST(SafetyFeatures, KindNames) {
  for (auto kind : {SafetyFeatureKind::Words, SafetyFeatureKind::WordPairs, SafetyFeatureKind::CharNgrams}) {
    EXPECT_EQ(safety_feature_kind(name_of(kind)), kind);
  }
  EXPECT_FALSE(safety_feature_kind("trigrams"));
}

TEST(SafetyFeatures, WhatTheRulesFoundIsOneFeature) {
  EXPECT_EQ(rule_feature("self_harm", false), "r:self_harm");
  EXPECT_EQ(rule_feature("", true), "r:stood_down");
  EXPECT_EQ(rule_feature("", false), "");
  EXPECT_EQ(safety_features("cut", {SafetyFeatureKind::Words, SafetyFeatureKind::RuleMatches}, "r:self_harm"),
            (std::vector<std::string>{"r:self_harm", "w:cut"}));
  // Only a model trained with it is told.
  EXPECT_EQ(safety_features("cut", {SafetyFeatureKind::Words}, "r:self_harm"), std::vector<std::string>{"w:cut"});
}

// ---------------------------------------------------------------------------
// Loading
// ---------------------------------------------------------------------------

json small_classifier() {
  return json::parse(R"({
  "format": 1,
  "features": ["words", "word_pairs"],
  "scores_stood_down": false,
  "categories": [
    {"id": "suicidal_thoughts", "bias": -4, "threshold": 0.9, "weights": {"b:last train": 20, "w:train": 2}},
    {"id": "self_harm", "bias": -4, "threshold": 0.9, "weights": {"b:blood on": 20}},
    {"id": "harm_to_others", "bias": -4, "threshold": 0.9, "weights": {"b:his brakes": 20}},
    {"id": "abuse_or_danger", "bias": -4, "threshold": 0.9, "weights": {"b:locks me": 20}}
  ],
  "training": {"corpus": []}
})");
}

std::shared_ptr<const SafetyClassifier> compile_or_die(const json& model) {
  auto compiled = compile_safety_classifier(model.dump(2), "classifier.json", kCategories);
  if (!compiled) {
    for (const auto& d : compiled.error()) ADD_FAILURE() << format(d);
    return nullptr;
  }
  return *compiled;
}

TEST(SafetyClassifier, SmallModelCompiles) {
  auto classifier = compile_or_die(small_classifier());
  ASSERT_TRUE(classifier);
  EXPECT_EQ(classifier->categories.size(), 4u);
  EXPECT_EQ(classifier->feature_index.size(), 5u);
  EXPECT_FALSE(classifier->scores_stood_down);
}

TEST(SafetyClassifier, ScoreIsTheLogisticOfTheScaledDotProduct) {
  auto classifier = compile_or_die(small_classifier());
  ASSERT_TRUE(classifier);
  // "the last train": features b:last train, b:the last, w:last, w:the, w:train (5):
  // margin (20 + 2) / sqrt(5) - 4.
  auto scores = score_normalised(*classifier, "the last train");
  ASSERT_EQ(scores.size(), 4u);
  EXPECT_EQ(scores[0].category, "suicidal_thoughts");
  EXPECT_NEAR(scores[0].probability, 1 / (1 + std::exp(-(22 / std::sqrt(5.0) - 4))), 1e-6);
  EXPECT_NEAR(scores[1].probability, 1 / (1 + std::exp(4.0)), 1e-9);  // no feature it knows: the bias
  EXPECT_EQ(scores[0].threshold, 0.9);
  EXPECT_NEAR(score_normalised(*classifier, "")[0].probability, 1 / (1 + std::exp(4.0)), 1e-9);
}

struct LoadError {
  const char* name;
  std::function<void(json&)> edit;
  const char* code;
  const char* pointer;
};

class SafetyClassifierErrors : public testing::TestWithParam<LoadError> {};

TEST_P(SafetyClassifierErrors, ReportsCodeAndPointer) {
  json model = small_classifier();
  GetParam().edit(model);
  auto compiled = compile_safety_classifier(model.dump(2), "dialogs/safety/classifier.json", kCategories);
  ASSERT_FALSE(compiled) << GetParam().name;
  bool found = false;
  for (const auto& d : compiled.error()) {
    EXPECT_EQ(d.file, "dialogs/safety/classifier.json");
    EXPECT_GT(d.line, 0) << format(d);  // every diagnostic says where
    EXPECT_FALSE(d.hint.empty()) << format(d);
    if (d.code == GetParam().code && d.pointer == GetParam().pointer) found = true;
  }
  EXPECT_TRUE(found) << GetParam().name << ": got " << format(compiled.error().front());
}

INSTANTIATE_TEST_SUITE_P(
    Table, SafetyClassifierErrors,
    testing::Values(
        LoadError{"format", [](json& m) { m["format"] = 2; }, "S042", "/format"},
        LoadError{"unknown key", [](json& m) { m["featurs"] = json::array(); }, "S011", "/featurs"},
        LoadError{"unknown kind", [](json& m) { m["features"][1] = "word_pair"; }, "S043", "/features/1"},
        LoadError{"threshold", [](json& m) { m["categories"][0]["threshold"] = 1.5; }, "S044",
                  "/categories/0/threshold"},
        LoadError{"feature of a kind not listed", [](json& m) { m["categories"][1]["weights"]["c:<cu"] = 1; },
                  "S045", "/categories/1/weights/c:<cu"},
        LoadError{"category not in the policy", [](json& m) { m["categories"][2]["id"] = "harm_to_other"; }, "S046",
                  "/categories/2/id"},
        LoadError{"category twice", [](json& m) { m["categories"][3]["id"] = "self_harm"; }, "S021",
                  "/categories/3/id"},
        LoadError{"weight not a number", [](json& m) { m["categories"][0]["weights"]["w:train"] = "2"; }, "S010",
                  "/categories/0/weights/w:train"},
        LoadError{"missing bias", [](json& m) { m["categories"][0].erase("bias"); }, "S012", "/categories/0"},
        LoadError{"weights not an object", [](json& m) { m["categories"][0]["weights"] = json::array(); }, "S010",
                  "/categories/0/weights"},
        LoadError{"rule threshold without rule_matches", [](json& m) { m["categories"][2]["rule_threshold"] = 0.3; },
                  "S049", "/categories/2/rule_threshold"},
        LoadError{"rule threshold not a probability",
                  [](json& m) {
                    m["features"].push_back("rule_matches");
                    m["categories"][2]["rule_threshold"] = 0;
                  },
                  "S044", "/categories/2/rule_threshold"},
        LoadError{"crisis threshold over the number of categories", [](json& m) { m["crisis_threshold"] = 4.5; },
                  "S044", "/crisis_threshold"},
        LoadError{"crisis threshold not a number", [](json& m) { m["crisis_threshold"] = "1.2"; }, "S010",
                  "/crisis_threshold"},
        LoadError{"rule feature without rule_matches", [](json& m) { m["categories"][0]["weights"]["r:self_harm"] = 3; },
                  "S045", "/categories/0/weights/r:self_harm"}),
    [](const testing::TestParamInfo<LoadError>& info) {
      std::string name = info.param.name;
      for (char& c : name) {
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
      }
      return name;
    });

TEST(SafetyClassifier, EveryErrorAtOnce) {
  json model = small_classifier();
  model["format"] = 3;
  model["categories"][0]["threshold"] = 0;
  model["categories"][2]["id"] = "violence";
  auto compiled = compile_safety_classifier(model.dump(2), "classifier.json", kCategories);
  ASSERT_FALSE(compiled);
  std::vector<std::string> codes;
  for (const auto& d : compiled.error()) codes.push_back(d.code);
  EXPECT_NE(std::find(codes.begin(), codes.end(), "S042"), codes.end());
  EXPECT_NE(std::find(codes.begin(), codes.end(), "S044"), codes.end());
  EXPECT_NE(std::find(codes.begin(), codes.end(), "S046"), codes.end());
}

TEST(SafetyClassifier, NotJsonSaysWhere) {
  auto compiled = compile_safety_classifier("{\n  \"format\": 1,\n  oops\n}", "classifier.json", kCategories);
  ASSERT_FALSE(compiled);
  EXPECT_EQ(compiled.error().front().code, "S040");
  EXPECT_EQ(compiled.error().front().line, 3);
}

TEST(SafetyClassifier, TooLarge) {
  std::string huge(kMaxSafetyClassifierBytes + 1, ' ');
  auto compiled = compile_safety_classifier(huge, "classifier.json", kCategories);
  ASSERT_FALSE(compiled);
  EXPECT_EQ(compiled.error().front().code, "S041");
}

TEST(SafetyClassifier, ACategoryWithoutWeightsIsAWarning) {
  json model = small_classifier();
  model["categories"].erase(3);
  std::vector<Diagnostic> warnings;
  auto compiled = compile_safety_classifier(model.dump(2), "classifier.json", kCategories, &warnings);
  ASSERT_TRUE(compiled);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0].code, "S047");
  EXPECT_EQ(warnings[0].severity, Severity::Warning);
}

// ---------------------------------------------------------------------------
// Detection: rules first, then the classifier
// ---------------------------------------------------------------------------

std::shared_ptr<const SafetyPolicy> policy_with(const json& classifier_json) {
  auto policy = compile_safety_policy(R"({
  "format": 1, "default_region": "default",
  "choices": {"talk": "Talk", "continue": "Continue", "stop": "Stop"},
  "texts": {"talk": "t", "continue": "c", "stop": "s", "not_crisis": "n"},
  "categories": [
    {"id": "suicidal_thoughts", "response": "r", "patterns": [{"match": "\\bkill myself\\b", "examples": ["kms"]}]},
    {"id": "self_harm", "response": "r", "patterns": [{"match": "\\bhurt myself\\b", "examples": ["hurt myself"]}]},
    {"id": "harm_to_others", "response": "r", "patterns": [{"match": "\\bkill him\\b", "examples": ["kill him"]}]},
    {"id": "abuse_or_danger", "response": "r", "patterns": [{"match": "\\bhe hits me\\b", "examples": ["he hits me"]}]}
  ],
  "context": {"negation": {"match": "\\b(not|never)\\b", "examples": ["never"]}},
  "regions": [{"id": "default", "name": "Elsewhere", "resources": [{"name": "Emergency", "phone": "112"}]}]
})",
                                      "policy.json");
  EXPECT_TRUE(policy);
  if (!policy) return nullptr;
  auto with = std::make_shared<SafetyPolicy>(**policy);
  auto classifier = compile_or_die(classifier_json);
  with->classifier = classifier;
  return with;
}

TEST(SafetyDetectWithClassifier, RulesFirst) {
  auto policy = policy_with(small_classifier());
  ASSERT_TRUE(policy);
  // Both would fire; the rule's category and pattern win.
  auto match = detect(*policy, "I want to kill him, then the last train");
  ASSERT_TRUE(match);
  EXPECT_EQ(match->category, "harm_to_others");
  EXPECT_EQ(match->detector, SafetyDetector::Rules);
  EXPECT_EQ(match->pattern, "\\bkill him\\b");
}

TEST(SafetyDetectWithClassifier, ClassifierWhenNoRuleMatches) {
  auto policy = policy_with(small_classifier());
  ASSERT_TRUE(policy);
  auto match = detect(*policy, "thinking about the last train");
  ASSERT_TRUE(match);
  EXPECT_EQ(match->category, "suicidal_thoughts");
  EXPECT_EQ(match->detector, SafetyDetector::Classifier);
  EXPECT_EQ(match->pattern, "classifier");
  EXPECT_GT(match->probability, 0.9);
  EXPECT_EQ(name_of(match->detector), "classifier");
}

TEST(SafetyDetectWithClassifier, BelowTheThresholdIsNoMatch) {
  auto policy = policy_with(small_classifier());
  ASSERT_TRUE(policy);
  EXPECT_FALSE(detect(*policy, "the train was late"));  // (2 / sqrt(7)) - 4: far below 0.9
  json strict = small_classifier();
  strict["categories"][0]["threshold"] = 0.99999;
  auto strict_policy = policy_with(strict);
  ASSERT_TRUE(strict_policy);
  EXPECT_FALSE(detect(*strict_policy, "thinking about the last train"));
}

TEST(SafetyDetectWithClassifier, TheHighestProbabilityOverItsThresholdWins) {
  json model = small_classifier();
  model["categories"][3]["weights"]["b:locks me"] = 30;
  auto policy = policy_with(model);
  ASSERT_TRUE(policy);
  // Both pass (10 features: 22 / sqrt(10) - 4 and 30 / sqrt(10) - 4); abuse scores higher,
  // although suicidal thoughts comes first in the policy.
  auto match = detect(*policy, "he locks me in, last train");
  ASSERT_TRUE(match);
  EXPECT_EQ(match->category, "abuse_or_danger");
}

TEST(SafetyDetectWithClassifier, StoodDownTextIsScoredOnlyWhenTheModelSaysSo) {
  json model = small_classifier();
  model["categories"][1]["weights"]["b:myself last"] = 30;
  auto policy = policy_with(model);
  ASSERT_TRUE(policy);
  // The rule matches "hurt myself" but the negation stands it down; the rules' judgement is final.
  EXPECT_FALSE(detect(*policy, "i would never hurt myself last"));
  model["scores_stood_down"] = true;
  auto scoring = policy_with(model);
  ASSERT_TRUE(scoring);
  auto match = detect(*scoring, "i would never hurt myself last");
  ASSERT_TRUE(match);
  EXPECT_EQ(match->detector, SafetyDetector::Classifier);
  EXPECT_EQ(match->category, "self_harm");
}

TEST(SafetyDetectWithClassifier, WithoutAClassifierTheRulesAlone) {
  auto policy = policy_with(small_classifier());
  ASSERT_TRUE(policy);
  auto rules = std::make_shared<SafetyPolicy>(*policy);
  rules->classifier = nullptr;
  EXPECT_FALSE(detect(*rules, "thinking about the last train"));
  EXPECT_TRUE(detect(*rules, "kms"));
}

// ---------------------------------------------------------------------------
// Detection with a model that weighs the rules
// ---------------------------------------------------------------------------

// "r:<category>" weighs heavily, as in a trained model; "w:cliff" and "w:kids" pull a
// figure of speech down; "b:last train" finds what no rule does.
json weighing_classifier() {
  json model = small_classifier();
  model["features"] = {"words", "word_pairs", "rule_matches"};
  model["scores_stood_down"] = true;
  model["categories"][0]["weights"] = {{"r:suicidal_thoughts", 12}, {"b:last train", 20}, {"w:kids", -40}};
  model["categories"][1]["weights"] = {{"r:self_harm", 12}, {"b:myself again", 14}};
  model["categories"][2]["weights"] = {{"r:harm_to_others", 12}};
  model["categories"][3]["weights"] = {{"r:abuse_or_danger", 12}, {"r:suicidal_thoughts", 3}, {"w:leave", 25}};
  for (auto& category : model["categories"]) category["rule_threshold"] = 0.05;
  return model;
}

TEST(SafetyDetectWeighingRules, ARuleMatchTheModelKeepsIsTheRules) {
  auto policy = policy_with(weighing_classifier());
  ASSERT_TRUE(policy);
  ASSERT_TRUE(policy->classifier->weighs_rules());
  // 8 features (4 words, 3 pairs, r:suicidal_thoughts): 12 / sqrt(8) - 4, under the threshold (0.9) but
  // over the rule threshold.
  auto match = detect(*policy, "i will kill myself");
  ASSERT_TRUE(match);
  EXPECT_EQ(match->category, "suicidal_thoughts");
  EXPECT_EQ(match->detector, SafetyDetector::Rules);
  EXPECT_EQ(match->pattern, "\\bkill myself\\b");
  EXPECT_GT(match->probability, 0.05);
}

TEST(SafetyDetectWeighingRules, AMatchTheModelIsConfidentIsOrdinaryIsStoodDown) {
  auto policy = policy_with(weighing_classifier());
  ASSERT_TRUE(policy);
  EXPECT_FALSE(detect(*policy, "i would kill myself for my kids"));
  // Without its rule threshold the category's rule matches all stand.
  json model = weighing_classifier();
  model["categories"][0].erase("rule_threshold");
  auto floor = policy_with(model);
  ASSERT_TRUE(floor);
  EXPECT_TRUE(detect(*floor, "i would kill myself for my kids"));
}

TEST(SafetyDetectWeighingRules, TheModelFindsWhatNoRuleDoes) {
  auto policy = policy_with(weighing_classifier());
  ASSERT_TRUE(policy);
  auto match = detect(*policy, "the last train");
  ASSERT_TRUE(match);
  EXPECT_EQ(match->category, "suicidal_thoughts");
  EXPECT_EQ(match->detector, SafetyDetector::Classifier);
}

// "the pills" (3 features): suicidal thoughts 8 / sqrt(3) - 4 (0.65), self-harm 7 / sqrt(3) - 4
// (0.51), the other two their bias (0.018 each): under every 0.9, 1.196 together. The same for
// a model that adds to the rules and one that weighs them.
TEST(SafetyDetect, EvidenceSplitBetweenCategoriesReachesTheCrisisThreshold) {
  for (json model : {small_classifier(), weighing_classifier()}) {
    SCOPED_TRACE(model["features"].dump());
    model["categories"][0]["weights"]["b:the pills"] = 8;
    model["categories"][1]["weights"]["b:the pills"] = 7;
    auto each_alone = policy_with(model);
    ASSERT_TRUE(each_alone);
    EXPECT_FALSE(each_alone->classifier->crisis_threshold);
    EXPECT_FALSE(detect(*each_alone, "the pills"));

    model["crisis_threshold"] = 1.1;
    auto summed = policy_with(model);
    ASSERT_TRUE(summed);
    auto match = detect(*summed, "the pills");
    ASSERT_TRUE(match);
    EXPECT_EQ(match->category, "suicidal_thoughts");  // the most likely of the two
    EXPECT_EQ(match->detector, SafetyDetector::Classifier);
    EXPECT_NEAR(match->probability, 1 / (1 + std::exp(-(8 / std::sqrt(3.0) - 4))), 1e-6);

    model["crisis_threshold"] = 1.25;
    auto higher = policy_with(model);
    ASSERT_TRUE(higher);
    EXPECT_FALSE(detect(*higher, "the pills"));
  }
}

TEST(SafetyDetectWeighingRules, TheModelCanNameAnotherCategory) {
  auto policy = policy_with(weighing_classifier());
  ASSERT_TRUE(policy);
  // The rule reads a threat to kill himself; the model, told so, reads control.
  auto match = detect(*policy, "he says he will kill myself if i leave");
  ASSERT_TRUE(match);
  EXPECT_EQ(match->category, "abuse_or_danger");
  EXPECT_EQ(match->detector, SafetyDetector::Classifier);
}

TEST(SafetyDetectWeighingRules, OneWordAloneIsNotEnoughForTheModel) {
  EXPECT_EQ(safety_word_count("i . am , \" here"), 3u);
  EXPECT_EQ(safety_word_count(" . "), 0u);
  json model = weighing_classifier();
  model["categories"][0]["weights"]["w:goodbye"] = 40;
  for (bool weighs : {true, false}) {
    if (!weighs) {
      model["features"] = {"words", "word_pairs"};
      for (auto& category : model["categories"]) {
        category.erase("rule_threshold");
        for (const auto& rule : {"r:suicidal_thoughts", "r:self_harm", "r:harm_to_others", "r:abuse_or_danger"}) {
          category["weights"].erase(rule);
        }
      }
    }
    auto policy = policy_with(model);
    ASSERT_TRUE(policy);
    EXPECT_FALSE(detect(*policy, "Goodbye!")) << weighs;
    auto match = detect(*policy, "goodbye all");
    ASSERT_TRUE(match) << weighs;
    EXPECT_EQ(match->detector, SafetyDetector::Classifier);
    // A rule's match in one word ("kms" normalises to two) is the rules', whatever its length.
    EXPECT_TRUE(detect(*policy, "kms")) << weighs;
  }
}

TEST(SafetyDetectWeighingRules, StoodDownTextsAreScoredToo) {
  json model = weighing_classifier();
  model["categories"][1]["weights"]["r:stood_down"] = 10;
  auto policy = policy_with(model);
  ASSERT_TRUE(policy);
  auto verdict = match_safety_rules(*policy, "i will never hurt myself again");
  EXPECT_FALSE(verdict.match);
  EXPECT_TRUE(verdict.stood_down);
  auto match = detect(*policy, "i will never hurt myself again");
  ASSERT_TRUE(match);
  EXPECT_EQ(match->category, "self_harm");
  EXPECT_EQ(match->detector, SafetyDetector::Classifier);
}

}  // namespace
}  // namespace trellis::engine
