#include "trellis/safety_training/safety_training.hpp"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "trellis/engine_io/flow_directory.hpp"

namespace trellis::safety_training {
namespace {

namespace fs = std::filesystem;

const fs::path kRoot = TRELLIS_SOURCE_DIR;

// The command that writes the shipped model; the test that it is current prints it.
const char* const kRetrainCommand =
    "trellis safety train "
    "--corpus tests/safety/train.tsv tests/safety/train2.tsv tests/safety/train3.tsv "
    "tests/safety/train4.tsv tests/safety/train5.tsv tests/safety/train6.tsv tests/safety/train7.tsv "
    "tests/safety/train8.tsv tests/safety/train9.tsv tests/safety/train10.tsv tests/safety/train13.tsv "
    "tests/safety/train14.tsv tests/safety/train18.tsv tests/safety/train19.tsv tests/safety/heldout.tsv "
    "tests/safety/heldout2.tsv tests/safety/heldout3.tsv tests/safety/heldout4.tsv "
    "tests/safety/heldout5.tsv tests/safety/heldout6.tsv tests/safety/heldout7.tsv "
    "tests/safety/heldout8.tsv tests/safety/heldout9.tsv tests/safety/heldout10.tsv "
    "tests/safety/heldout11.tsv tests/safety/heldout12.tsv tests/safety/heldout13.tsv "
    "tests/safety/heldout14.tsv tests/safety/heldout15.tsv tests/safety/heldout16.tsv "
    "tests/safety/heldout17.tsv tests/safety/heldout18.tsv tests/safety/heldout19.tsv "
    "tests/safety/heldout20.tsv tests/safety/heldout21.tsv tests/safety/heldout22.tsv "
    "tests/safety/heldout23.tsv tests/safety/heldout24.tsv tests/safety/heldout25.tsv "
    "tests/safety/heldout26.tsv tests/safety/heldout27.tsv tests/safety/heldout28.tsv "
    "tests/safety/heldout29.tsv tests/safety/heldout30.tsv tests/safety/heldout31.tsv "
    "tests/safety/heldout32.tsv tests/safety/heldout33.tsv tests/safety/heldout34.tsv "
    "tests/safety/heldout35.tsv tests/safety/heldout36.tsv tests/safety/heldout37.tsv "
    "tests/safety/heldout38.tsv tests/safety/heldout39.tsv tests/safety/heldout40.tsv "
    "tests/safety/heldout41.tsv tests/safety/heldout42.tsv tests/safety/heldout43.tsv "
    "tests/safety/heldout44.tsv tests/safety/heldout45.tsv tests/safety/heldout46.tsv "
    "tests/safety/heldout47.tsv tests/safety/heldout48.tsv tests/safety/heldout49.tsv "
    "tests/safety/heldout50.tsv tests/safety/heldout51.tsv tests/safety/heldout52.tsv "
    "tests/safety/heldout53.tsv tests/safety/heldout54.tsv tests/safety/heldout55.tsv "
    "tests/safety/heldout56.tsv tests/safety/heldout57.tsv tests/safety/heldout58.tsv "
    "tests/safety/heldout59.tsv tests/safety/heldout60.tsv tests/safety/train29.tsv tests/safety/train30.tsv "
    "tests/safety/train32.tsv "
    "--hard-cases tests/safety/train11.tsv tests/safety/train12.tsv tests/safety/train15.tsv "
    "tests/safety/train16.tsv tests/safety/train17.tsv tests/safety/train20.tsv tests/safety/train21.tsv "
    "tests/safety/train22.tsv tests/safety/train23.tsv tests/safety/train24.tsv tests/safety/train25.tsv "
    "tests/safety/train26.tsv tests/safety/train27.tsv tests/safety/train28.tsv tests/safety/train31.tsv "
    "--prose tests/safety/reflective_prose.txt tests/safety/reflective_prose2.txt "
    "tests/safety/reflective_prose4.txt tests/safety/reflective_prose5.txt "
    "tests/safety/reflective_prose6.txt tests/safety/reflective_prose7.txt "
    "tests/safety/reflective_prose8.txt tests/safety/reflective_prose9.txt "
    "tests/safety/reflective_prose10.txt tests/safety/reflective_prose11.txt "
    "tests/safety/reflective_prose12.txt tests/safety/reflective_prose13.txt "
    "tests/safety/reflective_prose14.txt tests/safety/reflective_prose15.txt "
    "tests/safety/reflective_prose16.txt tests/safety/reflective_prose17.txt "
    "tests/safety/reflective_prose18.txt tests/safety/reflective_prose19.txt "
    "tests/safety/reflective_prose20.txt tests/safety/reflective_prose21.txt "
    "tests/safety/reflective_prose22.txt tests/safety/reflective_prose23.txt "
    "tests/safety/reflective_prose24.txt tests/safety/reflective_prose25.txt "
    "tests/safety/reflective_prose26.txt tests/safety/reflective_prose27.txt "
    "tests/safety/reflective_prose28.txt tests/safety/reflective_prose29.txt "
    "tests/safety/reflective_prose30.txt tests/safety/reflective_prose31.txt "
    "tests/safety/reflective_prose32.txt tests/safety/reflective_prose33.txt "
    "tests/safety/reflective_prose34.txt tests/safety/reflective_prose35.txt "
    "tests/safety/reflective_prose36.txt tests/safety/reflective_prose37.txt "
    "tests/safety/reflective_prose38.txt tests/safety/reflective_prose39.txt "
    "tests/safety/reflective_prose40.txt tests/safety/reflective_prose41.txt "
    "tests/safety/reflective_prose42.txt tests/safety/reflective_prose43.txt "
    "tests/safety/reflective_prose44.txt tests/safety/reflective_prose45.txt "
    "tests/safety/reflective_prose46.txt tests/safety/reflective_prose47.txt "
    "tests/safety/reflective_prose48.txt tests/safety/reflective_prose49.txt "
    "--out dialogs/safety/classifier.json";

// Labelled files of tests/safety, by name.
std::vector<CorpusFile> labelled(std::initializer_list<const char*> files) {
  std::vector<CorpusFile> corpus;
  for (const char* file : files) corpus.push_back(read_corpus(kRoot / "tests/safety" / file, false));
  return corpus;
}

std::shared_ptr<const engine::SafetyPolicy> shipped_rules() {
  auto policy = engine::compile_safety_policy(engine_io::read_file(kRoot / "dialogs/safety/policy.json"),
                                              "policy.json");
  EXPECT_TRUE(policy);
  return policy ? rules_only(**policy) : nullptr;
}

fs::path scratch_file(const std::string& name, const std::string& text) {
  auto path = fs::temp_directory_path() / ("trellis-training-test-" + name);
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

TEST(SafetyTraining, Sha256) {
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(SafetyTraining, ReadsLabelledLinesAndProse) {
  auto labelled = read_corpus(scratch_file("labelled.tsv", "# a comment\nself_harm\tI cut again\n\nbenign\tfine\n"),
                              false);
  ASSERT_EQ(labelled.texts.size(), 2u);
  EXPECT_EQ(labelled.texts[0].label, "self_harm");
  EXPECT_EQ(labelled.texts[0].text, "I cut again");
  EXPECT_EQ(labelled.texts[0].line, 2);
  EXPECT_EQ(labelled.sha256, sha256_hex("# a comment\nself_harm\tI cut again\n\nbenign\tfine\n"));
  auto prose = read_corpus(scratch_file("prose.txt", "# comment\nOne line.\nAnother.\n"), true);
  ASSERT_EQ(prose.texts.size(), 2u);
  EXPECT_EQ(prose.texts[1].label, "benign");
  EXPECT_TRUE(prose.is_prose);
}

TEST(SafetyTraining, ALineWithoutATabSaysWhere) {
  auto path = scratch_file("bad.tsv", "benign\tfine\nself_harm I cut again\n");
  try {
    read_corpus(path, false);
    FAIL() << "no error";
  } catch (const std::runtime_error& error) {
    EXPECT_EQ(std::string(error.what()).rfind(path.string() + ":2: no tab", 0), 0u) << error.what();
  }
}

TEST(SafetyTraining, AnUnknownLabelIsAnError) {
  auto rules = shipped_rules();
  ASSERT_TRUE(rules);
  auto corpus = read_corpus(scratch_file("unknown.tsv", "benign\tfine\nsuicidal\tI want to die\n"), false);
  EXPECT_THROW(train_safety_classifier(*rules, {corpus}, {}), std::runtime_error);
}

TEST(SafetyTraining, SameInputSameBytes) {
  auto rules = shipped_rules();
  ASSERT_TRUE(rules);
  auto corpus = labelled({"heldout.tsv", "heldout2.tsv"});
  TrainingOptions options;
  options.c_grid = {4, 16};
  auto first = train_safety_classifier(*rules, corpus, options);
  auto second = train_safety_classifier(*rules, corpus, options);
  EXPECT_EQ(first.json, second.json);
  EXPECT_GT(first.features, 100u);
  // What it writes loads, and scores as training measured it.
  std::vector<std::string> ids;
  for (const auto& category : rules->categories) ids.push_back(category.id);
  auto classifier = engine::compile_safety_classifier(first.json, "classifier.json", ids);
  ASSERT_TRUE(classifier);
  EXPECT_EQ((*classifier)->categories.size(), 4u);
}

// Five labelled files or more: each fold holds whole files, so thresholds are set on writers
// the model has not seen; fewer: blocks of each file. Rule thresholds never pass their cap.
TEST(SafetyTraining, FoldsHoldWholeFilesAndRuleThresholdsAreCapped) {
  auto rules = shipped_rules();
  ASSERT_TRUE(rules);
  TrainingOptions options;
  options.c_grid = {16};
  options.max_rule_threshold = 0.1;
  auto five = train_safety_classifier(
      *rules, labelled({"heldout.tsv", "heldout2.tsv", "heldout3.tsv", "heldout4.tsv", "heldout5.tsv"}), options);
  auto model = nlohmann::json::parse(five.json);
  EXPECT_EQ(model["training"]["folds_hold"], "whole files");
  EXPECT_EQ(model["features"].back(), "rule_matches");
  for (const auto& category : model["categories"]) {
    ASSERT_TRUE(category.contains("rule_threshold")) << category["id"];
    EXPECT_LE(category["rule_threshold"].get<double>(), 0.1) << category["id"];
    EXPECT_GT(category["weights"].value("r:" + category["id"].get<std::string>(), 0.0), 1.0)
        << "a rule's finding should count for its category: " << category["id"];
  }
  // The crisis threshold (a sum of probabilities) only spends what the budgets leave.
  ASSERT_TRUE(five.chosen.crisis_threshold) << "the budgets left room on these files";
  EXPECT_EQ(model["crisis_threshold"].get<double>(), *five.chosen.crisis_threshold);
  EXPECT_GT(*five.chosen.crisis_threshold, 0.0);
  EXPECT_LE(*five.chosen.crisis_threshold, 4.0);
  EXPECT_LE(five.chosen.combined_false_positives, options.max_false_positives * five.chosen.benign);
  auto two = train_safety_classifier(*rules, labelled({"heldout.tsv", "heldout2.tsv"}), options);
  EXPECT_EQ(nlohmann::json::parse(two.json)["training"]["folds_hold"], "blocks of each file");
}

// Training on features scaled by their log-count ratios (NBSVM) writes weights for the
// unscaled features the engine scores: the model it writes fits the texts it was trained on.
TEST(SafetyTraining, LogCountRatiosAreFoldedIntoTheWeights) {
  auto rules = shipped_rules();
  ASSERT_TRUE(rules);
  auto corpus = labelled({"heldout.tsv", "heldout2.tsv", "heldout3.tsv", "heldout4.tsv", "heldout5.tsv"});
  TrainingOptions options;
  options.c_grid = {16};
  ASSERT_TRUE(options.log_count_ratios) << "the default";
  auto trained = train_safety_classifier(*rules, corpus, options);
  auto model = nlohmann::json::parse(trained.json);
  EXPECT_EQ(model["training"].value("features_scaled_by", ""), "log-count ratios (NBSVM), folded into the weights");
  std::vector<std::string> ids;
  for (const auto& category : rules->categories) ids.push_back(category.id);
  auto classifier = engine::compile_safety_classifier(trained.json, "classifier.json", ids);
  ASSERT_TRUE(classifier);
  int positives = 0, positives_fit = 0, benign = 0, benign_fit = 0;
  for (const auto& file : corpus) {
    for (const auto& text : file.texts) {
      auto found = engine::match_safety_rules(*rules, text.text);
      auto scores = engine::score_normalised(
          **classifier, engine::normalise_for_safety(text.text),
          engine::rule_feature(found.match ? found.match->category : "", found.stood_down));
      double own = 0, highest = 0;
      for (const auto& score : scores) {
        highest = std::max(highest, score.probability);
        if (score.category == text.label) own = score.probability;
      }
      if (text.label == "benign") {
        ++benign;
        benign_fit += highest < 0.5;
      } else {
        ++positives;
        positives_fit += own > 0.5;
      }
    }
  }
  EXPECT_GE(positives_fit, positives * 95 / 100) << positives_fit << " of " << positives;
  EXPECT_GE(benign_fit, benign * 98 / 100) << benign_fit << " of " << benign;

  EXPECT_EQ(model["training"].value("log_count_smoothing", 0.0), options.log_count_smoothing);
  options.log_count_smoothing = 0;
  EXPECT_THROW(train_safety_classifier(*rules, corpus, options), std::runtime_error);

  options.log_count_ratios = false;
  auto plain = nlohmann::json::parse(train_safety_classifier(*rules, corpus, options).json);
  EXPECT_FALSE(plain["training"].contains("features_scaled_by"));
  EXPECT_NE(plain["categories"], model["categories"]);
}

// classifier.json records the SHA-256 of every file it was trained on. Editing a corpus
// file (or the list of files) without retraining fails here.
TEST(SafetyTraining, HardCaseFilesAreTrainedOnButOutsideTheBudgets) {
  auto rules = shipped_rules();
  ASSERT_TRUE(rules);
  auto general = labelled({"heldout.tsv", "heldout2.tsv", "heldout3.tsv", "heldout4.tsv", "heldout5.tsv"});
  auto look_alikes = read_corpus(kRoot / "tests/safety/train27.tsv", false);  // everyday uses of "for good"
  look_alikes.hard_cases = true;
  auto corpus = general;
  corpus.push_back(look_alikes);
  TrainingOptions options;
  options.c_grid = {16};
  auto trained = train_safety_classifier(*rules, corpus, options);
  const auto& cv = trained.chosen;
  int general_benign = 0;
  for (const auto& file : general) {
    for (const auto& text : file.texts) general_benign += text.label == "benign";
  }
  EXPECT_EQ(cv.hard_cases, static_cast<int>(look_alikes.texts.size()));
  EXPECT_EQ(cv.benign, general_benign) << "the look-alikes are not in the budget";
  EXPECT_LE(cv.combined_false_positives, options.max_false_positives * cv.benign);
  auto model = nlohmann::json::parse(trained.json);
  int flagged = 0;
  for (const auto& file : model["training"]["corpus"]) flagged += file.value("hard_cases", false);
  EXPECT_EQ(flagged, 1);
  EXPECT_EQ(model["training"]["cross_validation"].value("hard_case_false_positives", ""),
            std::to_string(cv.hard_case_false_positives) + "/" + std::to_string(cv.hard_cases));

  // Trained on: the model that saw the look-alikes answers fewer of them than one that did not.
  std::vector<std::string> ids;
  for (const auto& category : rules->categories) ids.push_back(category.id);
  auto answered = [&](const std::string& json) {
    auto policy = std::make_shared<engine::SafetyPolicy>(*rules);
    auto classifier = engine::compile_safety_classifier(json, "classifier.json", ids);
    EXPECT_TRUE(classifier);
    policy->classifier = *classifier;
    int count = 0;
    for (const auto& text : look_alikes.texts) count += engine::detect(*policy, text.text).has_value();
    return count;
  };
  EXPECT_LT(answered(trained.json), answered(train_safety_classifier(*rules, general, options).json));
}

TEST(SafetyTraining, ThresholdsSpendTheBudgetsWhereTheyFindTheMost) {
  auto rules = shipped_rules();
  ASSERT_TRUE(rules);
  auto corpus = labelled({"heldout.tsv", "heldout2.tsv", "heldout3.tsv", "heldout4.tsv", "heldout5.tsv"});
  TrainingOptions options;
  options.c_grid = {16};
  auto greedy = train_safety_classifier(*rules, corpus, options);
  options.equal_rank_thresholds = true;
  auto equal_rank = train_safety_classifier(*rules, corpus, options);
  for (const auto* trained : {&greedy, &equal_rank}) {
    const auto& cv = trained->chosen;
    EXPECT_LE(cv.combined_false_positives, options.max_false_positives * cv.benign);
  }
  EXPECT_GT(greedy.chosen.mean_combined_recall(), equal_rank.chosen.mean_combined_recall());
  EXPECT_NE(greedy.chosen.thresholds, equal_rank.chosen.thresholds);
  EXPECT_EQ(nlohmann::json::parse(greedy.json)["training"].value("thresholds", ""), "the most recall per budget spent");
  EXPECT_EQ(nlohmann::json::parse(equal_rank.json)["training"].value("thresholds", ""),
            "the same number of benign texts above each");
}

TEST(SafetyTraining, TheShippedClassifierIsCurrent) {
  auto problems = stale_corpus_files(engine_io::read_file(kRoot / "dialogs/safety/classifier.json"), kRoot);
  std::string list;
  for (const auto& problem : problems) list += "  " + problem + "\n";
  EXPECT_TRUE(problems.empty()) << "dialogs/safety/classifier.json is out of date:\n"
                                << list << "retrain it from the repository root with:\n  " << kRetrainCommand
                                << "\nand commit the new file (docs/safety.md, \"Retraining\").";
}

TEST(SafetyTraining, ScoresCountAResponseUnderAnotherCategorySeparately) {
  auto rules = shipped_rules();
  ASSERT_TRUE(rules);
  CorpusFile file;
  file.path = "mislabelled.tsv";
  // Labelled self-harm on purpose: the rules answer it as suicidal thoughts.
  file.texts.push_back({"self_harm", "I want to kill myself"});
  file.texts.push_back({"self_harm", "I had a lovely walk"});
  auto scores = score_corpus(*rules, file);
  EXPECT_EQ(scores.recall["self_harm"], std::make_pair(0, 2));
  EXPECT_EQ(scores.responded["self_harm"], 1);
  ASSERT_EQ(scores.misses.size(), 2u);
  EXPECT_EQ(scores.misses[0], "[self_harm] I want to kill myself  (answered as suicidal_thoughts)");
  EXPECT_EQ(scores.misses[1], "[self_harm] I had a lovely walk");
}

// The honest measure (docs/safety.md): a model trained without heldout5.tsv, on the files
// and with the procedure that built the shipped one, scored on heldout5.tsv, which no rule
// was tuned on and which an independent writer wrote. The floors are that measurement
// (2026-11-25, log-count ratios smoothed by 0.1, C 16): 33, 34, 31 and 30 of 50 found (rules
// alone: 27, 30, 30, 27); 13 of 220 benign lines answered (rules alone 11). Without log-count
// ratios (C 128) it found 33, 32, 40 and 31, 9 answered: on five files that the rules were
// tuned on, the rules' finding is in nearly every positive text, its ratio dwarfs the words',
// and the model leans on the rules. On the full corpus the ratios win (SafetyCorpus.HeldOut19NeverTunedOn).
TEST(SafetyTraining, LeaveHeldOut5Out) {
  auto rules = shipped_rules();
  ASSERT_TRUE(rules);
  auto corpus = labelled({"train.tsv", "heldout.tsv", "heldout2.tsv", "heldout3.tsv", "heldout4.tsv"});
  corpus.push_back(read_corpus(kRoot / "tests/safety/reflective_prose.txt", true));
  TrainingOptions options;
  options.c_grid = {16};  // what cross-validation over the default grid chooses on these files
  auto started = std::chrono::steady_clock::now();
  auto trained = train_safety_classifier(*rules, corpus, options);
  std::cout << "  trained in "
            << std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count() << " s\n";
  std::vector<std::string> ids;
  for (const auto& category : rules->categories) ids.push_back(category.id);
  auto classifier = engine::compile_safety_classifier(trained.json, "classifier.json", ids);
  ASSERT_TRUE(classifier);
  auto combined = std::make_shared<engine::SafetyPolicy>(*rules);
  combined->classifier = *classifier;

  auto heldout5 = read_corpus(kRoot / "tests/safety/heldout5.tsv", false);
  auto alone = score_corpus(*rules, heldout5);
  auto both = score_corpus(*combined, heldout5);
  for (const auto& [id, counts] : both.recall) {
    std::cout << "  heldout5 " << id << ": rules " << alone.recall[id].first << "/" << counts.second
              << ", rules+classifier " << counts.first << "/" << counts.second << "\n";
  }
  std::cout << "  heldout5 false positives: rules " << alone.false_positives << "/" << alone.benign
            << ", rules+classifier " << both.false_positives << "/" << both.benign << "\n";
  EXPECT_GE(both.recall_of("suicidal_thoughts"), 0.64);
  EXPECT_GE(both.recall_of("self_harm"), 0.66);
  EXPECT_GE(both.recall_of("harm_to_others"), 0.60);
  EXPECT_GE(both.recall_of("abuse_or_danger"), 0.58);
  EXPECT_LE(both.false_positive_rate(), 0.06);
  // The model weighs the rules' matches rather than adding to them, but keeps nearly all of
  // the right ones.
  int right = 0, kept = 0;
  for (const auto& text : heldout5.texts) {
    auto rule = engine::detect(*rules, text.text);
    if (!rule || rule->category != text.label) continue;
    ++right;
    auto match = engine::detect(*combined, text.text);
    kept += match && match->category == text.label;
  }
  EXPECT_GE(kept, right * 95 / 100) << kept << " of the rules' " << right << " right matches kept";

  auto prose = read_corpus(kRoot / "tests/safety/reflective_prose.txt", true);
  EXPECT_LE(score_corpus(*combined, prose).false_positive_rate(), 0.01);
}

}  // namespace
}  // namespace trellis::safety_training
