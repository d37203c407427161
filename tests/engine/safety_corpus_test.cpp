// The labelled corpus in tests/safety/ (docs/safety.md, "How well it works"), scored with the
// shipped policy as deployed (rules, then the classifier) and with its rules alone.
#include "trellis/engine/safety.hpp"

#include <fstream>
#include <map>
#include <sstream>

#include <gtest/gtest.h>

#include "trellis/engine_io/flow_directory.hpp"

namespace trellis::engine {
namespace {

const std::string kDir = std::string(TRELLIS_SOURCE_DIR) + "/tests/safety/";

// As deployed: the rules, then dialogs/safety/classifier.json.
std::shared_ptr<const SafetyPolicy> shipped_policy() {
  auto policy = engine_io::load_safety_policy(std::string(TRELLIS_SOURCE_DIR) + "/dialogs/safety/policy.json");
  if (!policy) return nullptr;
  EXPECT_TRUE((*policy)->classifier);
  return *policy;
}

// The rules alone: the floor the classifier builds on.
std::shared_ptr<const SafetyPolicy> shipped_rules() {
  auto policy = shipped_policy();
  if (!policy) return nullptr;
  auto rules = std::make_shared<SafetyPolicy>(*policy);
  rules->classifier = nullptr;
  return rules;
}

struct Scores {
  std::map<std::string, std::pair<int, int>> recall;  // category -> (detected as it, total)
  int false_positives = 0, benign = 0;
  double recall_of(const std::string& category) const {
    auto [hit, total] = recall.at(category);
    return static_cast<double>(hit) / total;
  }
  double false_positive_rate() const { return static_cast<double>(false_positives) / benign; }
};

// Lines "label<TAB>text", or plain text lines (all benign) when `labelled` is false.
Scores score(const SafetyPolicy& policy, const std::string& file, bool labelled) {
  std::ifstream in(kDir + file);
  EXPECT_TRUE(in) << file;
  Scores scores;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::string label = "benign", text = line;
    if (labelled) {
      auto tab = line.find('\t');
      label = line.substr(0, tab);
      text = line.substr(tab + 1);
    }
    auto match = detect(policy, text);
    if (label == "benign") {
      ++scores.benign;
      if (match) {
        ++scores.false_positives;
        std::cout << "  false positive in " << file << ": " << text << "\n";
      }
    } else {
      auto& [hit, total] = scores.recall[label];
      ++total;
      if (match && match->category == label) ++hit;
      else std::cout << "  missed in " << file << " [" << label << "]: " << text << "\n";
    }
  }
  std::cout << file << ":";
  for (const auto& [category, counts] : scores.recall) {
    std::cout << " " << category << " " << counts.first << "/" << counts.second;
  }
  std::cout << " | false positives " << scores.false_positives << "/" << scores.benign << "\n";
  return scores;
}

const char* const kCategories[] = {"suicidal_thoughts", "self_harm", "harm_to_others", "abuse_or_danger"};

// A held-out set's floors: recall per category (in kCategories' order) and the most false
// positives allowed. Each set has 50 lines per category and 220 benign ones.
struct Floors {
  double suicidal, self_harm, harm_to_others, abuse, false_positives;
};

void expect_floors(const std::shared_ptr<const SafetyPolicy>& policy, const std::string& file, const Floors& floors) {
  ASSERT_TRUE(policy);
  auto scores = score(*policy, file, true);
  ASSERT_EQ(scores.benign, 220) << file;
  for (const char* category : kCategories) ASSERT_EQ(scores.recall[category].second, 50) << file << " " << category;
  EXPECT_GE(scores.recall_of("suicidal_thoughts"), floors.suicidal) << file;
  EXPECT_GE(scores.recall_of("self_harm"), floors.self_harm) << file;
  EXPECT_GE(scores.recall_of("harm_to_others"), floors.harm_to_others) << file;
  EXPECT_GE(scores.recall_of("abuse_or_danger"), floors.abuse) << file;
  EXPECT_LE(scores.false_positive_rate(), floors.false_positives) << file;
}

TEST(SafetyCorpus, SizesAreWhatTheDocsSay) {
  auto policy = shipped_policy();
  ASSERT_TRUE(policy);
  auto train = score(*policy, "train.tsv", true);
  auto test = score(*policy, "heldout.tsv", true);
  auto test2 = score(*policy, "heldout2.tsv", true);
  auto test3 = score(*policy, "heldout3.tsv", true);
  auto test4 = score(*policy, "heldout4.tsv", true);
  for (const char* category : kCategories) {
    EXPECT_GE(train.recall[category].second, 210) << category;
    EXPECT_EQ(test4.recall[category].second, 50) << category;
    EXPECT_GE(train.recall[category].second + test.recall[category].second + test2.recall[category].second +
                  test3.recall[category].second + test4.recall[category].second,
              340)
        << category;
  }
  EXPECT_GE(train.benign, 720);
  EXPECT_EQ(test4.benign, 220);
  EXPECT_GE(train.benign + test.benign + test2.benign + test3.benign + test4.benign, 1300);
}

// train.tsv and heldout.tsv to heldout4.tsv have all been tuned on by now (docs/safety.md,
// "How well it works"), and the classifier is trained on them: they must meet the bar, recall
// >= 0.95 in every category and at most 3 % false positives, with the rules alone (the floor)
// and with the classifier. Passing here says nothing about text nobody tuned on; only a set
// written before the tuning can say that. heldout4.tsv's one untuned run (0.70 / 0.66 / 0.58 /
// 0.72 recall, 2.3 % false positives) is recorded in docs/safety.md.
TEST(SafetyCorpus, TunedSetsMeetTheBar) {
  for (const auto& policy : {shipped_rules(), shipped_policy()}) {
    ASSERT_TRUE(policy);
    for (const char* file : {"train.tsv", "heldout.tsv", "heldout2.tsv", "heldout3.tsv", "heldout4.tsv"}) {
      auto scores = score(*policy, file, true);
      for (const char* category : kCategories) {
        EXPECT_GE(scores.recall_of(category), 0.95) << file << " " << category;
      }
      EXPECT_LE(scores.false_positive_rate(), 0.03) << file;
    }
  }
}

// heldout5.tsv was written by someone who had seen neither the rules nor the other corpora.
// No rule was ever tuned on it, so the rules alone keep the floors just under their first
// run (2026-11-24: 27, 30, 30 and 27 of 50 found; 11 of 220 benign lines answered), and a
// rule change that loses recall on unseen text fails here.
//
// The shipped classifier IS trained on it, so with the classifier this is a tuned-set check,
// not a measure: 41, 49, 50 and 50 of 50, 11 of 220 (the thresholds keep benign lines out, so
// even on its own training data the classifier does not find every veiled suicidal line, and
// it never removes the rules' false positives). The honest number for the classifier is the
// leave-heldout5-out run (SafetyTraining.LeaveHeldOut5Out); heldout6.tsv is the next one.
TEST(SafetyCorpus, HeldOut5) {
  expect_floors(shipped_rules(), "heldout5.tsv", {0.52, 0.58, 0.58, 0.52, 0.055});
  expect_floors(shipped_policy(), "heldout5.tsv", {0.80, 0.95, 0.95, 0.95, 0.055});
}

// heldout6.tsv: a sixth writer who had seen neither the rules nor the other corpora,
// committed before the classifier was trained and never read by that work (docs/safety.md).
// Run once each, untuned, 2026-11-25; the floors sit just under those first runs:
//   rules alone:           20, 30, 26 and 31 of 50 found; 6 of 220 benign lines answered;
//   rules + classifier:    25, 34, 40 and 38 of 50 found; 7 of 220 benign lines answered.
// The bar (0.95 per category, <= 3 % false positives) is not met on it. Since then
// the classifier has been retrained with heldout6.tsv among its files, so with the classifier
// this is a tuned-set check (its floors can only be passed more easily); with the rules alone
// it still measures text the rules were never tuned on.
TEST(SafetyCorpus, HeldOut6NeverTunedOn) {
  expect_floors(shipped_rules(), "heldout6.tsv", {0.38, 0.58, 0.50, 0.60, 0.032});
  expect_floors(shipped_policy(), "heldout6.tsv", {0.48, 0.66, 0.78, 0.74, 0.037});
}

// heldout7.tsv: a seventh writer who had seen neither the rules, the classifier nor any corpus,
// committed before the classifier was retrained on train2.tsv and heldout6.tsv and never read by
// that work. Run once each, untuned and untrained, 2026-11-25; floors just under those runs:
//   rules alone:                      24, 30, 30 and 33 of 50 found; 4 of 220 benign answered;
//   rules + the retrained classifier: 34, 37, 37 and 42 of 50 found; 5 of 220 benign answered.
// (The classifier before retraining, also run once: 31, 35, 34 and 40; 5 of 220.)
// The shipped classifier has since been retrained with heldout7.tsv among its files, so with the
// classifier this is now a tuned-set check; with the rules alone it still measures.
TEST(SafetyCorpus, HeldOut7NeverTunedOn) {
  expect_floors(shipped_rules(), "heldout7.tsv", {0.46, 0.58, 0.58, 0.64, 0.023});
  expect_floors(shipped_policy(), "heldout7.tsv", {0.66, 0.72, 0.72, 0.82, 0.028});
}

// heldout8.tsv: an eighth writer who had seen neither the rules, the classifier nor any corpus,
// committed before the second retraining (on train3.tsv and heldout7.tsv) and never read by it.
// Run once each, untuned and untrained, 2026-11-25; floors just under those runs:
//   rules alone:                 21, 32, 25 and 35 of 50 found; 2 of 220 benign answered;
//   rules + shipped classifier:  33, 41, 40 and 44 of 50 found; 4 of 220 benign answered.
// (The classifier before this retraining, also run once: 26, 40, 36 and 41; 3 of 220.)
// The shipped classifier has since been retrained with heldout8.tsv among its files, so with the
// classifier this is now a tuned-set check; with the rules alone it still measures.
TEST(SafetyCorpus, HeldOut8NeverTunedOn) {
  expect_floors(shipped_rules(), "heldout8.tsv", {0.40, 0.62, 0.48, 0.68, 0.014});
  expect_floors(shipped_policy(), "heldout8.tsv", {0.64, 0.80, 0.78, 0.86, 0.023});
}

// heldout9.tsv: a ninth writer who had seen neither the rules, the classifier nor any corpus,
// committed before the third retraining (on train4.tsv and heldout8.tsv) and never read by it.
// Run once each, untuned and untrained, 2026-11-25; floors just under those runs:
//   rules alone:                 19, 31, 24 and 35 of 50 found; 3 of 220 benign answered;
//   rules + the third retraining's classifier: 39, 44, 45 and 47 of 50 found; 5 of 220 answered.
// (The classifier before this retraining, also run once: 34, 44, 42 and 46; 5 of 220.)
// The shipped classifier has since been retrained with heldout9.tsv among its files, so with the
// classifier this is now a tuned-set check; with the rules alone it still measures.
TEST(SafetyCorpus, HeldOut9NeverTunedOn) {
  expect_floors(shipped_rules(), "heldout9.tsv", {0.36, 0.60, 0.46, 0.68, 0.014});
  expect_floors(shipped_policy(), "heldout9.tsv", {0.76, 0.86, 0.88, 0.92, 0.023});
}

// heldout10.tsv: a twelfth writer who had seen neither the rules, the classifier nor any corpus,
// committed before the fourth retraining (on train5.tsv, train6.tsv and heldout9.tsv) and never
// read by it. Run once each, untuned and untrained, 2026-11-25; floors just under those runs:
//   rules alone:                 20, 25, 20 and 24 of 50 found; 11 of 220 benign answered;
//   rules + shipped classifier:  38, 37, 32 and 41 of 50 found; 14 of 220 benign answered.
// (The classifier before this retraining, also run once: 33, 35, 34 and 40; 17 of 220.)
// The hardest set yet: its benign lines share many words with crisis statements, and the
// rules alone answer 5 % of them. The shipped classifier has since been retrained with
// heldout10.tsv among its files, so with the classifier this is now a tuned-set check.
TEST(SafetyCorpus, HeldOut10NeverTunedOn) {
  expect_floors(shipped_rules(), "heldout10.tsv", {0.38, 0.48, 0.38, 0.46, 0.051});
  expect_floors(shipped_policy(), "heldout10.tsv", {0.74, 0.72, 0.62, 0.80, 0.064});
}

// heldout11.tsv: a fifteenth writer who had seen neither the rules, the classifier nor any
// corpus, committed before the fifth retraining (on train7.tsv, train8.tsv and heldout10.tsv)
// and never read by it. Run once each, untuned and untrained, 2026-11-25; floors just under:
//   rules alone:                 14, 21, 21 and 22 of 50 found; 3 of 220 benign answered;
//   rules + shipped classifier:  34, 42, 46 and 42 of 50 found; 6 of 220 benign answered.
// (The classifier before this retraining, also run once: 35, 39, 45 and 43; 7 of 220.)
// The shipped classifier has since been retrained with heldout11.tsv among its files, so with
// the classifier this is now a tuned-set check; with the rules alone it still measures.
TEST(SafetyCorpus, HeldOut11NeverTunedOn) {
  expect_floors(shipped_rules(), "heldout11.tsv", {0.26, 0.40, 0.40, 0.42, 0.014});
  expect_floors(shipped_policy(), "heldout11.tsv", {0.66, 0.82, 0.90, 0.82, 0.028});
}

// heldout12.tsv: an eighteenth writer who had seen neither the rules, the classifier nor any
// corpus, committed before the sixth retraining (on train9.tsv, train10.tsv and heldout11.tsv)
// and never read by it. Run once each, untuned and untrained, 2026-11-25; floors just under:
//   rules alone:                  9, 17, 17 and 23 of 50 found; 12 of 220 benign answered;
//   rules + shipped classifier:  31, 40, 37 and 37 of 50 found; 14 of 220 benign answered.
// (The classifier before this retraining, also run once: 34, 36, 39 and 36; 14 of 220.)
// The shipped classifier has since been retrained with heldout12.tsv among its files, so with
// the classifier this is now a tuned-set check; with the rules alone it still measures.
TEST(SafetyCorpus, HeldOut12NeverTunedOn) {
  expect_floors(shipped_rules(), "heldout12.tsv", {0.16, 0.32, 0.32, 0.44, 0.055});
  expect_floors(shipped_policy(), "heldout12.tsv", {0.60, 0.78, 0.72, 0.72, 0.064});
}

// heldout13.tsv: a nineteenth writer who had seen neither the rules, the classifier nor any
// corpus, committed before the seventh retraining (the model that weighs the rules, on
// train11.tsv, train12.tsv and heldout12.tsv) and never read by it. Run untuned and
// untrained, 2026-11-25:
//   rules alone:                        19, 24, 14 and 25 of 50 found; 4 of 220 benign answered;
//   the seventh retraining, first run:  37, 45, 43 and 45 of 50 found; 1 of 220 benign answered;
//   after train13.tsv:                  38, 47, 43 and 46 of 50 found; 1 of 220 benign answered;
//   as shipped, rule thresholds capped: 38, 47, 43 and 46 of 50 found; 3 of 220 benign answered.
// (The classifier before this retraining, also run once: 34, 41, 36 and 40; 6 of 220.)
// train13.tsv (answers to the flows' own questions) was added because the first model
// answered "0" and "that I'll get injured" in the flows' transcripts, and the cap because it
// stood down a clear self-harm statement in heldout12.tsv, not for this file; the floors are
// just under that run. The shipped classifier has since been retrained with heldout13.tsv
// among its files, so with the classifier this is now a tuned-set check; with the rules alone
// it still measures.
TEST(SafetyCorpus, HeldOut13NeverTunedOn) {
  expect_floors(shipped_rules(), "heldout13.tsv", {0.36, 0.46, 0.26, 0.48, 0.019});
  expect_floors(shipped_policy(), "heldout13.tsv", {0.74, 0.92, 0.84, 0.90, 0.014});
}

// heldout14.tsv: a twenty-third writer who had seen neither the rules, the classifier nor any
// corpus, committed before the eighth retraining (on train14.tsv, train15.tsv and heldout13.tsv)
// and never read by it. Run once each, untuned and untrained, 2026-11-25; floors just under:
//   rules alone:                 16, 23, 18 and 19 of 50 found; 4 of 220 benign answered;
//   rules + shipped classifier:  34, 46, 44 and 47 of 50 found; 6 of 220 benign answered.
// (The classifier before this retraining, also run once: 33, 43, 42 and 43; 7 of 220.)
// The shipped classifier has since been retrained with heldout14.tsv among its files, so with
// the classifier this is now a tuned-set check; with the rules alone it still measures.
TEST(SafetyCorpus, HeldOut14NeverTunedOn) {
  expect_floors(shipped_rules(), "heldout14.tsv", {0.30, 0.44, 0.34, 0.36, 0.019});
  expect_floors(shipped_policy(), "heldout14.tsv", {0.66, 0.90, 0.86, 0.92, 0.028});
}

// heldout15.tsv: a twenty-fourth writer who had seen neither the rules, the classifier nor any
// corpus, committed before the ninth retraining (the eighth's files and heldout14.tsv) and
// never read by it. Run once each, untuned and untrained, 2026-11-25; floors just under:
//   rules alone:                 17, 21, 14 and 19 of 50 found; 5 of 220 benign answered;
//   rules + shipped classifier:  40, 44, 47 and 46 of 50 found; 4 of 220 benign answered.
// (The classifier of the eighth retraining, also run once: the same.)
// The shipped classifier has since been retrained with heldout15.tsv among its files, so with
// the classifier this is now a tuned-set check; with the rules alone it still measures.
TEST(SafetyCorpus, HeldOut15NeverTunedOn) {
  expect_floors(shipped_rules(), "heldout15.tsv", {0.32, 0.40, 0.26, 0.36, 0.023});
  expect_floors(shipped_policy(), "heldout15.tsv", {0.78, 0.86, 0.92, 0.90, 0.019});
}

// heldout16.tsv: a twenty-fifth writer who had seen neither the rules, the classifier nor any
// corpus, committed before the tenth retraining (train16.tsv to train20.tsv and heldout15.tsv)
// and never read by it. Run once each, untuned and untrained, 2026-11-25; floors just under:
//   rules alone:                           14, 24, 16 and 15 of 50 found; 4 of 220 benign answered;
//   the tenth retraining, first run:       36, 42, 44 and 43 of 50 found; 5 of 220 benign answered;
//   as shipped, with a crisis threshold:   39, 42, 44 and 44 of 50 found; 5 of 220 benign answered.
// (The classifier of the ninth retraining, also run once: 38, 42, 44 and 43; 5 of 220.)
// The crisis threshold (a sum of the categories' probabilities) came from cross-validation and
// from leaving heldout12-15 out in turn, not from this file; the floors are just under the
// shipped run. One of its crisis lines is also, word for word, in train5.tsv, written
// independently. Training or tuning on this file ends its use as a measure: write
// heldout17.tsv first. The shipped classifier (eleventh retraining) has since been trained
// with heldout16.tsv among its files, so with the classifier this is now a tuned-set check;
// with the rules alone it still measures.
TEST(SafetyCorpus, HeldOut16NeverTunedOn) {
  expect_floors(shipped_rules(), "heldout16.tsv", {0.26, 0.46, 0.30, 0.28, 0.019});
  expect_floors(shipped_policy(), "heldout16.tsv", {0.76, 0.82, 0.86, 0.86, 0.024});
}

// heldout17.tsv: a twenty-sixth writer who had seen neither the rules, the classifier nor any
// corpus, committed after the tenth retraining and its crisis threshold were final and scored
// once, 2026-11-25; floors just under:
//   rules alone:                          19, 17, 16 and 23 of 50 found; 4 of 220 benign answered;
//   rules + shipped classifier:           43, 46, 44 and 47 of 50 found; 3 of 220 benign answered.
// (Also run once: the tenth retraining's first model 40, 46, 45 and 47, 3 of 220; the ninth
// 40, 46, 45 and 48, 2 of 220.) Five of its crisis lines and seven benign ones are, word for
// word, in earlier files (the writers are independent, the phrasings common); without them the
// shipped model finds 42 of 49, 42 of 46, 44 of 50 and 47 of 50, 3 of 197 benign answered.
// heldout18.tsv was written before any further tuning. The shipped classifier (eleventh
// retraining) has since been trained with heldout17.tsv among its files, so with the
// classifier this is now a tuned-set check; with the rules alone it still measures.
TEST(SafetyCorpus, HeldOut17NeverTunedOn) {
  expect_floors(shipped_rules(), "heldout17.tsv", {0.36, 0.32, 0.30, 0.44, 0.019});
  expect_floors(shipped_policy(), "heldout17.tsv", {0.84, 0.90, 0.86, 0.92, 0.014});
}

// heldout18.tsv: a twenty-seventh writer who had seen neither the rules, the classifier nor any
// corpus, committed before the eleventh retraining (train21.tsv, heldout16.tsv and
// heldout17.tsv added) and never read by it. Run once each, untuned and untrained, 2026-11-25:
//   rules alone:                  8, 20, 20 and 23 of 50 found; 4 of 220 benign answered;
//   rules + the eleventh:        36, 46, 45 and 46 of 50 found; 3 of 220 benign answered.
// (The tenth retraining, with its crisis threshold, also run once: 38, 46, 44 and 46; 3 of 220.)
// The twelfth retraining (shipped) is trained with it, so with the classifier this is now a
// tuned-set check; with the rules alone it still measures.
TEST(SafetyCorpus, HeldOut18NeverTunedOn) {
  expect_floors(shipped_rules(), "heldout18.tsv", {0.14, 0.38, 0.38, 0.44, 0.019});
  expect_floors(shipped_policy(), "heldout18.tsv", {0.90, 0.98, 0.98, 0.98, 0.005});
}

// heldout19.tsv and heldout20.tsv: a twenty-ninth and thirtieth writer, neither of whom had
// seen the rules, the classifier or any corpus, committed before any use and scored once with
// the eleventh retraining, 2026-11-25:
//   rules alone, heldout19:   3, 21, 20 and 17 of 50 found; 6 of 220 benign answered;
//   the eleventh, heldout19: 33, 44, 49 and 43;                8 of 220;
//   rules alone, heldout20:  24, 26, 20 and 20;                7 of 220;
//   the eleventh, heldout20: 42, 48, 44 and 45;                7 of 220.
// Then the eleventh's files retrained with log-count ratios (once, to choose between the two):
// 36, 45, 45, 45 (7 of 220) and 44, 47, 44, 49 (5 of 220). The twelfth retraining is trained
// with both, so with the classifier they are tuned-set checks; the rules alone still measure.
TEST(SafetyCorpus, HeldOut19NeverTunedOn) {
  expect_floors(shipped_rules(), "heldout19.tsv", {0.04, 0.40, 0.38, 0.32, 0.028});
  expect_floors(shipped_policy(), "heldout19.tsv", {0.92, 0.98, 0.98, 0.98, 0.01});
}

TEST(SafetyCorpus, HeldOut20NeverTunedOn) {
  expect_floors(shipped_rules(), "heldout20.tsv", {0.46, 0.50, 0.38, 0.38, 0.032});
  expect_floors(shipped_policy(), "heldout20.tsv", {0.98, 0.98, 0.98, 0.98, 0.005});
}

// heldout21.tsv and heldout22.tsv: a thirty-first and thirty-second writer, neither of whom had
// seen the rules, the classifier or any corpus, committed before the twelfth retraining
// (log-count ratios; heldout18-20 and seven prose files added) and never read by it. That the
// twelfth would ship was decided before either was scored. Run once each, 2026-11-25; floors
// just under:
//   rules alone, heldout21:             10, 26, 13 and 16 of 50 found; 7 of 220 benign answered;
//   rules + shipped (twelfth), heldout21: 34, 42, 42 and 46;             3 of 220;
//   rules alone, heldout22:              9, 17, 14 and 18;             9 of 220;
//   rules + shipped (twelfth), heldout22: 32, 40, 46 and 42;             5 of 220.
// (The eleventh, also run once: 31, 44, 40, 46, 2 of 220; 30, 35, 42, 40, 8 of 220.)
// The thirteenth retraining (shipped) is trained with both, so with the classifier they are
// tuned-set checks; the rules alone still measure.
TEST(SafetyCorpus, HeldOut21NeverTunedOn) {
  expect_floors(shipped_rules(), "heldout21.tsv", {0.18, 0.50, 0.24, 0.30, 0.032});
  expect_floors(shipped_policy(), "heldout21.tsv", {0.98, 0.98, 0.98, 0.98, 0.005});
}

TEST(SafetyCorpus, HeldOut22NeverTunedOn) {
  expect_floors(shipped_rules(), "heldout22.tsv", {0.16, 0.32, 0.26, 0.34, 0.041});
  expect_floors(shipped_policy(), "heldout22.tsv", {0.92, 0.98, 0.98, 0.98, 0.005});
}

// heldout23.tsv and heldout24.tsv: a thirty-third and thirty-fourth writer, neither of whom
// had seen the rules, the classifier or any corpus, committed before the thirteenth
// retraining (smoothing 0.1; train22.tsv, train23.tsv, heldout21-22 and prose10-11 added) and
// never read by it. That the thirteenth would ship was decided before either was scored. Run
// once each, 2026-11-25; floors just under:
//   rules alone, heldout23:                  21, 27, 22 and 20 of 50 found; 5 of 220 benign answered;
//   rules + shipped (thirteenth), heldout23: 47, 48, 48 and 48;             1 of 220;
//   rules alone, heldout24:                  15, 24, 18 and 21;             6 of 220;
//   rules + shipped (thirteenth), heldout24: 42, 47, 47 and 45;             4 of 220.
// (The twelfth, also run once: 46, 47, 48, 48, 1 of 220; 36, 47, 49, 43, 5 of 220.)
// The fourteenth retraining (shipped) is trained with both, so with the classifier they are
// tuned-set checks; the rules alone still measure.
TEST(SafetyCorpus, HeldOut23NeverTunedOn) {
  expect_floors(shipped_rules(), "heldout23.tsv", {0.40, 0.52, 0.42, 0.38, 0.023});
  expect_floors(shipped_policy(), "heldout23.tsv", {0.94, 0.98, 0.98, 0.98, 0.005});
}

TEST(SafetyCorpus, HeldOut24NeverTunedOn) {
  expect_floors(shipped_rules(), "heldout24.tsv", {0.28, 0.46, 0.34, 0.40, 0.028});
  expect_floors(shipped_policy(), "heldout24.tsv", {0.94, 0.98, 0.98, 0.98, 0.005});
}

// heldout25.tsv to heldout28.tsv: four more writers (the thirty-fifth to the thirty-eighth),
// none of whom had seen the rules, the classifier or any corpus, committed before the
// fourteenth retraining (train24-27.tsv, heldout23-24 and prose12-13 added; a benign budget of
// 3.5 %) and never read by it. That the fourteenth would ship was decided before any was
// scored. Run once each, 2026-11-25 (suicidal, self-harm, harm to others, abuse; benign of 220):
//   rules alone:   19 27 18 25, 12;  14 24 14 21, 8;  13 24 18 20, 12;  13 22 18 16, 9;
//   as shipped:    43 47 43 49, 4;   40 50 43 48, 5;  40 46 46 48, 4;   41 47 43 43, 7.
// (The thirteenth, scored afterwards: 45 46 43 49, 5; 40 50 43 47, 4; 40 47 46 49, 3;
// 44 47 45 43, 5.) Floors just under. The rules pass of the fifteenth (the same training
// files) drew on their misses, so they no longer measure the rules; the model with the new
// rules finds 44 47 43 49, 4; 40 50 43 48, 5; 40 46 46 48, 4; 41 47 43 43, 7. The sixteenth
// (budgets measured without the hard-case files, the rules pass below) was chosen on them and
// heldout29, so they now check it: 48 47 47 49, 5; 44 50 44 48, 6; 44 46 45 49, 3; 45 47 45 43, 7.
TEST(SafetyCorpus, HeldOut25NeverTunedOn) {
  expect_floors(shipped_rules(), "heldout25.tsv", {0.36, 0.52, 0.34, 0.48, 0.055});
  expect_floors(shipped_policy(), "heldout25.tsv", {0.94, 0.92, 0.92, 0.96, 0.023});
}

TEST(SafetyCorpus, HeldOut26NeverTunedOn) {
  expect_floors(shipped_rules(), "heldout26.tsv", {0.26, 0.46, 0.26, 0.40, 0.037});
  expect_floors(shipped_policy(), "heldout26.tsv", {0.86, 0.98, 0.86, 0.94, 0.028});
}

TEST(SafetyCorpus, HeldOut27NeverTunedOn) {
  expect_floors(shipped_rules(), "heldout27.tsv", {0.24, 0.46, 0.34, 0.38, 0.055});
  expect_floors(shipped_policy(), "heldout27.tsv", {0.86, 0.90, 0.88, 0.96, 0.014});
}

TEST(SafetyCorpus, HeldOut28NeverTunedOn) {
  expect_floors(shipped_rules(), "heldout28.tsv", {0.24, 0.42, 0.34, 0.30, 0.041});
  expect_floors(shipped_policy(), "heldout28.tsv", {0.88, 0.92, 0.88, 0.84, 0.032});
}

// heldout29.tsv: a thirty-ninth writer who had seen neither the rules, the classifier nor any
// corpus, committed before the fifteenth (a rules pass on heldout25-28's misses and prose14-17's
// answered lines; the fourteenth's training files) and never read by it. That the fifteenth
// would ship was decided before it was scored. Run once, 2026-11-25; floors just under:
//   rules alone:                  17, 20, 24 and 24 of 50 found; 10 of 220 benign answered;
//   rules + shipped (fifteenth):  41, 47, 48 and 48 of 50 found; 0 of 220 benign answered.
// (The fourteenth with the rules before the pass, also run once: 43, 47, 48, 48; 0 of 220.)
// The sixteenth was chosen on it with heldout25-28, so it now checks: 49 46 48 48; 1 of 220.
TEST(SafetyCorpus, HeldOut29NeverTunedOn) {
  expect_floors(shipped_rules(), "heldout29.tsv", {0.32, 0.38, 0.46, 0.46, 0.046});
  expect_floors(shipped_policy(), "heldout29.tsv", {0.96, 0.90, 0.94, 0.94, 0.005});
}

// heldout30.tsv and heldout31.tsv: a fortieth and a forty-first writer who had seen neither the
// rules, the classifier nor any corpus, committed before the sixteenth (a rules pass on
// heldout25-29's misses and prose14-18's answered lines; the budgets measured without the
// hard-case files; thresholds that spend the budgets where they find the most) and never read
// by it. That the sixteenth would ship was decided before they were scored. Run once,
// 2026-11-25 (suicidal, self-harm, harm to others, abuse; benign of 220); floors just under:
//   rules alone:                 13 22 16 25, 3;  17 22 20 18, 4;
//   rules + shipped (sixteenth): 48 45 48 48, 0;  47 45 49 47, 1.
// (The fifteenth with its rules, scored afterwards: 46 46 48 48, 0; 45 46 49 47, 1.)
// Since the seventeenth, heldout25 to 31 are training files: their floors still hold, as checks.
TEST(SafetyCorpus, HeldOut30NeverTunedOn) {
  expect_floors(shipped_rules(), "heldout30.tsv", {0.24, 0.42, 0.30, 0.48, 0.014});
  expect_floors(shipped_policy(), "heldout30.tsv", {0.94, 0.88, 0.94, 0.94, 0.0});
}

TEST(SafetyCorpus, HeldOut31NeverTunedOn) {
  expect_floors(shipped_rules(), "heldout31.tsv", {0.32, 0.42, 0.38, 0.34, 0.019});
  expect_floors(shipped_policy(), "heldout31.tsv", {0.92, 0.88, 0.96, 0.92, 0.005});
}

// heldout32.tsv and heldout33.tsv: a forty-second and a forty-third writer who had seen neither
// the rules, the classifier nor any corpus, committed before the seventeenth (heldout25-31 and
// prose14-20 added to the training files; a rules pass on heldout30-31's misses: "doesn't know"
// and "trying not to" no longer negate, "slapping my own face", rope "not for the garden") and never read by
// it. That the seventeenth would ship was decided before they were scored. Run once,
// 2026-11-25 (suicidal, self-harm, harm to others, abuse; benign of 220); floors just under:
//   rules alone:                   20 26 22 28, 6;  17 18 23 24, 8;
//   rules + shipped (seventeenth): 49 49 45 48, 2;  44 46 50 44, 4.
// (The sixteenth, scored afterwards: 49 49 45 48, 2; 44 45 50 43, 5.) The eighteenth's rules
// pass drew on their misses, so they now check it: 49 50 47 48, 1; 47 46 50 47, 4.
TEST(SafetyCorpus, HeldOut32NeverTunedOn) {
  expect_floors(shipped_rules(), "heldout32.tsv", {0.38, 0.50, 0.42, 0.54, 0.028});
  expect_floors(shipped_policy(), "heldout32.tsv", {0.96, 0.98, 0.92, 0.94, 0.005});
}

TEST(SafetyCorpus, HeldOut33NeverTunedOn) {
  expect_floors(shipped_rules(), "heldout33.tsv", {0.32, 0.34, 0.44, 0.46, 0.037});
  expect_floors(shipped_policy(), "heldout33.tsv", {0.92, 0.90, 0.98, 0.92, 0.019});
}

// heldout34.tsv and heldout35.tsv: a forty-fourth and a forty-fifth writer who had seen neither
// the rules, the classifier nor any corpus, committed before the eighteenth (a rules pass on
// heldout32-33's misses: an ex who "found my new address", "said he'd break my arm", "promised he
// wouldn't hurt me again", "tell my mum I loved her", overdosing on "my antidepressants", pills
// "in her tea", "my self" read as "myself"; retrained on the seventeenth's files) and never read
// by it. That the eighteenth would ship was decided before they were scored (a prose budget of
// 0.7 % was tried on heldout32-33 and not kept: 7 fewer crisis lines of 400 for 3 fewer prose
// lines of 600). Run once, 2026-11-25 (suicidal, self-harm, harm to others, abuse; benign of
// 220); floors just under:
//   rules alone:                  10 19 26 28, 9;  21 26 17 25, 4;
//   rules + shipped (eighteenth): 46 47 48 49, 4;  48 49 49 48, 5.
// (The seventeenth with its rules, scored afterwards: 46 46 48 49, 4; 48 49 49 48, 5.)
// Since the nineteenth, heldout32 to 35 are training files and its rules pass drew on 34-35's
// misses: their floors still hold, as checks.
TEST(SafetyCorpus, HeldOut34NeverTunedOn) {
  expect_floors(shipped_rules(), "heldout34.tsv", {0.18, 0.36, 0.50, 0.54, 0.042});
  expect_floors(shipped_policy(), "heldout34.tsv", {0.90, 0.92, 0.94, 0.96, 0.019});
}

TEST(SafetyCorpus, HeldOut35NeverTunedOn) {
  expect_floors(shipped_rules(), "heldout35.tsv", {0.40, 0.50, 0.32, 0.48, 0.019});
  expect_floors(shipped_policy(), "heldout35.tsv", {0.94, 0.96, 0.96, 0.94, 0.023});
}

// heldout36.tsv and heldout37.tsv: a forty-sixth and a forty-seventh writer who had seen neither
// the rules, the classifier nor any corpus, committed before the nineteenth (heldout32-35 and
// prose21-24 added to the training files; a rules pass on heldout34-35's misses and answered
// lines: "train times, not for travelling", "doesn't want to be a bother any more", "burns her with
// cigarettes", "won't stop turning up"; "rope swing" and "lost ... to suicide" as figures) and
// never read by it. That the nineteenth would ship was decided before they were scored. Run
// once, 2026-11-25 (suicidal, self-harm, harm to others, abuse; benign of 220); floors just under:
//   rules alone:                  12 22 18 26, 5;  18 20 22 26, 6;
//   rules + shipped (nineteenth): 47 46 46 50, 3;  49 46 46 49, 7.
// (The eighteenth with its rules, scored afterwards: 46 46 46 50, 4; 49 47 47 49, 7.)
// Since the twentieth, heldout36 and 37 are training files and its rules pass drew on their
// misses: their floors still hold, as checks.
TEST(SafetyCorpus, HeldOut36NeverTunedOn) {
  expect_floors(shipped_rules(), "heldout36.tsv", {0.22, 0.42, 0.34, 0.50, 0.023});
  expect_floors(shipped_policy(), "heldout36.tsv", {0.92, 0.90, 0.90, 0.98, 0.014});
}

TEST(SafetyCorpus, HeldOut37NeverTunedOn) {
  expect_floors(shipped_rules(), "heldout37.tsv", {0.34, 0.38, 0.42, 0.50, 0.028});
  expect_floors(shipped_policy(), "heldout37.tsv", {0.96, 0.90, 0.90, 0.96, 0.032});
}

// heldout38.tsv and heldout39.tsv: a forty-eighth and a forty-ninth writer who had seen neither
// the rules, the classifier nor any corpus, committed before the twentieth (heldout36-37 and
// prose25-26 added to the training files, and train28, short ordinary answers that name a
// feeling, as hard cases; a rules pass on heldout36-37's misses: "need to see the blood",
// "comparing cuts", "banging my head off the door", "they'll all see on Friday what happens",
// "I tried and the only thing I regret is that it didn't work"; "lost the will to live" and "the
// anniversary of my brother's suicide" as figures) and never read by it. That the twentieth would
// ship was decided before they were scored. Run once, 2026-11-25 (suicidal, self-harm, harm to
// others, abuse; benign of 220); floors just under:
//   rules alone:                 16 26 24 21, 3;  15 24 18 22, 3;
//   rules + shipped (twentieth): 48 48 47 48, 5;  46 48 49 49, 4.
// (The nineteenth with its rules, scored afterwards: 47 48 47 49, 5; 47 45 48 49, 3.)
// Since the twenty-first, heldout38 and 39 are training files: their floors still hold, as checks.
TEST(SafetyCorpus, HeldOut38NeverTunedOn) {
  expect_floors(shipped_rules(), "heldout38.tsv", {0.30, 0.50, 0.46, 0.40, 0.014});
  expect_floors(shipped_policy(), "heldout38.tsv", {0.94, 0.94, 0.92, 0.94, 0.023});
}

TEST(SafetyCorpus, HeldOut39NeverTunedOn) {
  expect_floors(shipped_rules(), "heldout39.tsv", {0.28, 0.46, 0.34, 0.42, 0.014});
  expect_floors(shipped_policy(), "heldout39.tsv", {0.90, 0.94, 0.96, 0.96, 0.019});
}

// heldout40.tsv to heldout44.tsv: five more writers (the fiftieth to the fifty-fourth) who had
// seen neither the rules, the classifier nor any corpus, each given a voice the earlier sets had
// little of: Irish and northern English teenagers; older rural people in Australia, New Zealand
// and the US South; English as a second language; the most indirect messages a night text line
// sees; professionals and people in treatment. Committed before the twenty-first (heldout38-39
// and prose27-28 added to the training files, no rules pass) and never read by it. That the
// twenty-first would ship was decided before they were scored. Run once, 2026-11-25 (suicidal,
// self-harm, harm to others, abuse; benign of 220); floors just under:
//   rules alone:                     17 22 18 22, 4;  8 22 6 20, 7;  20 26 20 18, 2;  7 22 20 20, 7;  19 24 19 21, 3;
//   rules + shipped (twenty-first):  49 48 49 46, 6;  44 45 42 49, 6;  40 47 44 45, 2;  45 45 46 49, 9;  46 42 50 48, 3.
// (The twentieth, scored afterwards: 49 49 49 46, 5;  43 47 43 49, 6;  40 47 44 45, 3;  43 46 49 49, 8;  45 44 50 48, 2.)
// Over the five, 250 per category: 0.896, 0.908, 0.924, 0.948; false positives 2.4 % (26/1,100):
// the bar of 0.95 is not met on these voices. Since the twenty-second they are training files and
// its rules pass drew on their misses: their floors still hold, as checks.
TEST(SafetyCorpus, HeldOut40NeverTunedOn) {
  expect_floors(shipped_rules(), "heldout40.tsv", {0.32, 0.42, 0.34, 0.42, 0.019});
  expect_floors(shipped_policy(), "heldout40.tsv", {0.96, 0.94, 0.96, 0.90, 0.028});
}

TEST(SafetyCorpus, HeldOut41NeverTunedOn) {
  expect_floors(shipped_rules(), "heldout41.tsv", {0.14, 0.42, 0.10, 0.38, 0.032});
  expect_floors(shipped_policy(), "heldout41.tsv", {0.86, 0.88, 0.82, 0.96, 0.028});
}

TEST(SafetyCorpus, HeldOut42NeverTunedOn) {
  expect_floors(shipped_rules(), "heldout42.tsv", {0.38, 0.50, 0.38, 0.34, 0.010});
  expect_floors(shipped_policy(), "heldout42.tsv", {0.78, 0.92, 0.86, 0.88, 0.010});
}

TEST(SafetyCorpus, HeldOut43NeverTunedOn) {
  expect_floors(shipped_rules(), "heldout43.tsv", {0.12, 0.42, 0.38, 0.38, 0.032});
  expect_floors(shipped_policy(), "heldout43.tsv", {0.88, 0.88, 0.90, 0.96, 0.041});
}

TEST(SafetyCorpus, HeldOut44NeverTunedOn) {
  expect_floors(shipped_rules(), "heldout44.tsv", {0.36, 0.46, 0.36, 0.40, 0.014});
  expect_floors(shipped_policy(), "heldout44.tsv", {0.90, 0.82, 0.98, 0.94, 0.014});
}

// heldout45.tsv to heldout48.tsv: four more writers (the fifty-fifth to the fifty-eighth), each
// given one voice: South Asian, Caribbean and African families; LGBTQ+ students; men in trades,
// the military and veterans; parents and carers. Committed before the twenty-second (heldout40-44,
// prose29-33 and train29-32 added to the training files; a rules pass on heldout40-44's misses:
// "he's been choking me", "nobody'd miss me", "planning my own death", "not safe with the kids",
// "pour boiling water over my hands", "take no for an answer in bed", "said my brother's next")
// and never read by it. That the twenty-second would ship was decided before they were scored.
// Run once, 2026-11-25 (suicidal, self-harm, harm to others, abuse; benign of 220); floors just
// under:
//   rules alone:                      15 24 18 16, 6;  10 24 16 21, 5;  9 20 11 16, 3;  13 24 14 16, 5;
//   rules + shipped (twenty-second):  44 48 44 44, 2;  42 47 47 44, 5;  44 44 40 39, 1;  43 46 44 48, 4.
// (The twenty-first with its rules, afterwards: 44 48 45 44, 2; 43 47 46 45, 2; 41 42 40 40, 1;
// 43 45 44 50, 3.) Over the four, 200 per category: 0.865, 0.925, 0.875, 0.875; false positives
// 1.4 % (12/880): the bar of 0.95 is not met on these voices either. Since the twenty-third they
// are training files and its rules pass drew on their misses: their floors hold, as checks.
TEST(SafetyCorpus, HeldOut45NeverTunedOn) {
  expect_floors(shipped_rules(), "heldout45.tsv", {0.28, 0.46, 0.34, 0.30, 0.028});
  expect_floors(shipped_policy(), "heldout45.tsv", {0.86, 0.94, 0.86, 0.86, 0.010});
}

TEST(SafetyCorpus, HeldOut46NeverTunedOn) {
  expect_floors(shipped_rules(), "heldout46.tsv", {0.18, 0.46, 0.30, 0.40, 0.023});
  expect_floors(shipped_policy(), "heldout46.tsv", {0.82, 0.92, 0.92, 0.86, 0.023});
}

TEST(SafetyCorpus, HeldOut47NeverTunedOn) {
  expect_floors(shipped_rules(), "heldout47.tsv", {0.16, 0.38, 0.20, 0.30, 0.014});
  expect_floors(shipped_policy(), "heldout47.tsv", {0.86, 0.86, 0.78, 0.76, 0.005});
}

TEST(SafetyCorpus, HeldOut48NeverTunedOn) {
  expect_floors(shipped_rules(), "heldout48.tsv", {0.24, 0.46, 0.26, 0.30, 0.023});
  expect_floors(shipped_policy(), "heldout48.tsv", {0.84, 0.90, 0.86, 0.94, 0.019});
}

// heldout49.tsv to heldout52.tsv: four more writers (the fifty-ninth to the sixty-second), each
// given one voice: refugees, asylum seekers and migrant workers; disabled people, chronic illness
// and pain, neurodivergent writers; addiction, homelessness and prison; Gen Z irony. Committed
// before the twenty-third (heldout45-48 and prose34-37 added to the training files; a rules pass
// on heldout45-48's misses: "researching overdose amounts", "tidy before I go", "my own head",
// "open the old scars", "with him in it", "hands round his throat", "wouldn't stop when I said
// stop", "pin me down", forced marriage) and never read by it. That the twenty-third would ship
// was decided before they were scored. Run once, 2026-11-25 (suicidal, self-harm, harm to
// others, abuse; benign of 220); floors just under:
//   rules alone:                     9 30 17 21, 4;  13 26 14 21, 3;  9 28 11 17, 1;  16 25 20 19, 12;
//   rules + shipped (twenty-third):  40 48 42 44, 7;  43 48 46 46, 4;  41 47 43 44, 1;  45 50 47 47, 6.
// (The twenty-second with its rules, afterwards: 40 47 42 44, 7; 43 48 46 45, 4; 39 47 41 41, 1;
// 44 50 47 47, 5.) Over the four, 200 per category: 0.845, 0.965, 0.890, 0.905; false positives
// 2.0 % (18/880).
TEST(SafetyCorpus, HeldOut49NeverTunedOn) {
  expect_floors(shipped_rules(), "heldout49.tsv", {0.16, 0.58, 0.32, 0.40, 0.019});
  expect_floors(shipped_policy(), "heldout49.tsv", {0.78, 0.94, 0.82, 0.86, 0.032});
}

TEST(SafetyCorpus, HeldOut50NeverTunedOn) {
  expect_floors(shipped_rules(), "heldout50.tsv", {0.24, 0.50, 0.26, 0.40, 0.014});
  expect_floors(shipped_policy(), "heldout50.tsv", {0.84, 0.94, 0.90, 0.90, 0.019});
}

TEST(SafetyCorpus, HeldOut51NeverTunedOn) {
  expect_floors(shipped_rules(), "heldout51.tsv", {0.16, 0.54, 0.20, 0.32, 0.005});
  expect_floors(shipped_policy(), "heldout51.tsv", {0.80, 0.92, 0.84, 0.86, 0.005});
}

TEST(SafetyCorpus, HeldOut52NeverTunedOn) {
  expect_floors(shipped_rules(), "heldout52.tsv", {0.30, 0.48, 0.38, 0.36, 0.055});
  expect_floors(shipped_policy(), "heldout52.tsv", {0.88, 0.98, 0.92, 0.92, 0.028});
}

// heldout53.tsv to heldout56.tsv: four more writers (the sixty-third to the sixty-sixth), each
// given one voice: Scotland, Wales and Northern Ireland; people over seventy, the bereaved and
// care homes; rural and remote communities in Canada, Australia and New Zealand; shift and gig
// workers. Committed after the twenty-third shipped and never read by it; scored once with it,
// 2026-11-25 (suicidal, self-harm, harm to others, abuse; benign of 220); floors just under:
//   rules alone:                     5 14 11 14, 3;  11 25 18 8, 3;  13 21 19 22, 3;  9 23 17 20, 4;
//   rules + shipped (twenty-third):  36 46 46 42, 3;  43 48 43 44, 5;  44 44 47 48, 2;  41 46 47 47, 6.
// (The twenty-second with its rules, afterwards: 37 46 46 41, 4; 43 48 42 42, 6; 43 44 47 45, 3;
// 41 47 47 46, 5.) Over the four, 200 per category: 0.820, 0.920, 0.915, 0.905; false positives
// 1.8 % (16/880). Over heldout49-56, eight writers scored with the twenty-third: 0.833, 0.943,
// 0.903, 0.905; 1.9 % (34/1,760).
// Since the twenty-fourth, heldout49-56 are training files; its normaliser (heldout53's Scots
// spellings) and rules pass drew on them: their floors hold, as checks.
TEST(SafetyCorpus, HeldOut53NeverTunedOn) {
  expect_floors(shipped_rules(), "heldout53.tsv", {0.08, 0.26, 0.20, 0.26, 0.014});
  expect_floors(shipped_policy(), "heldout53.tsv", {0.70, 0.90, 0.90, 0.82, 0.014});
}

TEST(SafetyCorpus, HeldOut54NeverTunedOn) {
  expect_floors(shipped_rules(), "heldout54.tsv", {0.20, 0.48, 0.34, 0.14, 0.014});
  expect_floors(shipped_policy(), "heldout54.tsv", {0.84, 0.94, 0.84, 0.86, 0.023});
}

TEST(SafetyCorpus, HeldOut55NeverTunedOn) {
  expect_floors(shipped_rules(), "heldout55.tsv", {0.24, 0.40, 0.36, 0.42, 0.014});
  expect_floors(shipped_policy(), "heldout55.tsv", {0.86, 0.86, 0.92, 0.94, 0.010});
}

TEST(SafetyCorpus, HeldOut56NeverTunedOn) {
  expect_floors(shipped_rules(), "heldout56.tsv", {0.16, 0.44, 0.32, 0.38, 0.019});
  expect_floors(shipped_policy(), "heldout56.tsv", {0.80, 0.90, 0.92, 0.92, 0.028});
}

// heldout57.tsv to heldout60.tsv: four more writers (the sixty-seventh to the seventieth), each
// given one voice: Irish English; the American Midwest and South; English in South Asia,
// Nigeria, Kenya and the Philippines; very short messages. Committed before the twenty-fourth
// (heldout49-56 and prose38-45 added to the training files; Scots, Irish and northern English
// spellings in the normaliser; a rules pass on heldout49-56's misses) and never read by it. That
// the twenty-fourth would ship was decided before they were scored. Run once, 2026-11-25
// (suicidal, self-harm, harm to others, abuse; benign of 220); floors just under:
//   rules alone:                      21 26 18 23, 1;  13 26 10 17, 1;  12 29 20 21, 3;  19 16 24 19, 0;
//   rules + shipped (twenty-fourth):  49 49 46 50, 4;  46 47 44 48, 0;  38 48 44 47, 3;  45 47 47 48, 2.
// (The twenty-third with its rules and normaliser, afterwards: 49 49 47 50, 6; 46 47 44 48, 4;
// 39 48 44 47, 5; 46 47 48 48, 1.) Over the four, 200 per category: 0.890, 0.955, 0.905, 0.965;
// false positives 1.0 % (9/880). A set with no benign line answered is held to at most one.
// Since the twenty-fifth, heldout57-60 are training files and its rules pass drew on their
// misses: their floors hold, as checks.
TEST(SafetyCorpus, HeldOut57NeverTunedOn) {
  expect_floors(shipped_rules(), "heldout57.tsv", {0.40, 0.50, 0.34, 0.44, 0.005});
  expect_floors(shipped_policy(), "heldout57.tsv", {0.96, 0.96, 0.90, 0.98, 0.019});
}

TEST(SafetyCorpus, HeldOut58NeverTunedOn) {
  expect_floors(shipped_rules(), "heldout58.tsv", {0.24, 0.50, 0.18, 0.32, 0.005});
  expect_floors(shipped_policy(), "heldout58.tsv", {0.90, 0.92, 0.86, 0.94, 0.005});
}

TEST(SafetyCorpus, HeldOut59NeverTunedOn) {
  expect_floors(shipped_rules(), "heldout59.tsv", {0.22, 0.56, 0.38, 0.40, 0.014});
  expect_floors(shipped_policy(), "heldout59.tsv", {0.74, 0.94, 0.86, 0.92, 0.014});
}

TEST(SafetyCorpus, HeldOut60NeverTunedOn) {
  expect_floors(shipped_rules(), "heldout60.tsv", {0.36, 0.30, 0.46, 0.36, 0.005});
  expect_floors(shipped_policy(), "heldout60.tsv", {0.88, 0.92, 0.92, 0.94, 0.010});
}

// heldout61.tsv to heldout64.tsv: four more writers (the seventy-first to the seventy-fourth),
// each given one voice: typing drunk, high, exhausted or in a panic; people of faith; young men in
// gaming, gym and online culture; living with someone who controls or hurts them. Committed
// before the twenty-fifth (heldout57-60 and prose46-49 added to the training files; a rules pass
// on heldout57-60's misses: "tried to do it and it didn't work", "dead by morning hopefully",
// "make it look like an accident", "break my own wrist", "I'm strapped", "set me on fire", a few
// words of Swahili, Tagalog and Pidgin) and never read by it. That the twenty-fifth would ship
// was decided before they were scored. Run once, 2026-11-25 (suicidal, self-harm, harm to others,
// abuse; benign of 220); floors just under:
//   rules alone:                     15 26 15 22, 7;  13 26 19 17, 6;  15 26 13 19, 12;  21 26 29 18, 4;
//   rules + shipped (twenty-fifth):  43 49 48 48, 7;  40 46 42 39, 6;  38 47 48 45, 9;  45 47 49 47, 6.
// (The twenty-fourth with its rules, afterwards: 43 49 48 48, 8; 40 46 41 41, 6; 38 47 47 45, 8;
// 44 45 49 47, 6.) Over the four, 200 per category: 0.830, 0.945, 0.935, 0.895; false positives
// 3.2 % (28/880), most of them gaming hyperbole ("lost promos again, i'm going to end it all").
// Training or tuning on these files ends their use as a measure: write heldout65.tsv first.
TEST(SafetyCorpus, HeldOut61NeverTunedOn) {
  expect_floors(shipped_rules(), "heldout61.tsv", {0.28, 0.50, 0.28, 0.42, 0.032});
  expect_floors(shipped_policy(), "heldout61.tsv", {0.84, 0.96, 0.94, 0.94, 0.032});
}

TEST(SafetyCorpus, HeldOut62NeverTunedOn) {
  expect_floors(shipped_rules(), "heldout62.tsv", {0.24, 0.50, 0.36, 0.32, 0.028});
  expect_floors(shipped_policy(), "heldout62.tsv", {0.78, 0.90, 0.82, 0.76, 0.028});
}

TEST(SafetyCorpus, HeldOut63NeverTunedOn) {
  expect_floors(shipped_rules(), "heldout63.tsv", {0.28, 0.50, 0.24, 0.36, 0.055});
  expect_floors(shipped_policy(), "heldout63.tsv", {0.74, 0.92, 0.94, 0.88, 0.041});
}

TEST(SafetyCorpus, HeldOut64NeverTunedOn) {
  expect_floors(shipped_rules(), "heldout64.tsv", {0.40, 0.50, 0.56, 0.34, 0.019});
  expect_floors(shipped_policy(), "heldout64.tsv", {0.88, 0.92, 0.96, 0.92, 0.028});
}

// Reflective prose never trained on. reflective_prose14.txt to 17.txt, by the writers of
// heldout25.tsv to heldout28.tsv, were scored once with the fourteenth, 2026-11-25: the rules
// answered 18, 15, 12 and 14; rules + the fourteenth 5, 7, 6 and 4 (the thirteenth 3, 9, 8 and
// 4). The fifteenth's rules pass drew on the lines they answered (its resolved-past markers), so
// they now check, not measure: the rules answer 11, 9, 7 and 12, as shipped 5, 7, 7 and 3.
// reflective_prose18.txt, by the writer of heldout29.tsv, committed before that pass: run once
// with the fifteenth, the rules answer 9 and rules + the classifier 3 (1.0 %); the fourteenth
// with the old rules 10 and 4. The sixteenth's rules pass drew on all five: the rules now answer
// 8, 5, 6, 11 and 7, as shipped 3, 4, 9, 3 and 3. reflective_prose19.txt and 20.txt, by the
// writers of heldout30 and 31, run once with the sixteenth: the rules 7 and 13, as shipped 8 and 6
// (2.3 %; the fifteenth with its rules, afterwards, 5 and 5). All seven are training prose since
// the seventeenth (ReflectiveProseAboutTrustAndTrauma below). reflective_prose21.txt and 22.txt,
// by the writers of heldout32 and 33, run once with the seventeenth: the rules answer 8 and 10,
// as shipped 8 and 3 (1.8 %; the sixteenth, afterwards, 8 and 4); the eighteenth's rules pass
// did not change them. reflective_prose23.txt and 24.txt, by the writers of heldout34 and 35, run
// once with the eighteenth: the rules answer 2 and 16, as shipped 3 and 8 (1.8 %). All four are
// training prose since the nineteenth. reflective_prose25.txt and 26.txt, by the writers of
// heldout36 and 37, run once with the nineteenth: the rules answer 3 and 20, as shipped 3 and 1
// (0.7 %; the eighteenth with its rules, afterwards, 3 and 1). Both are training prose since the
// twentieth. reflective_prose27.txt and 28.txt, by the writers of heldout38 and 39, run once with
// the twentieth: the rules answer 2 and 13, as shipped 0 and 6 (1.0 %; the nineteenth with its
// rules, afterwards, 0 and 8). reflective_prose29.txt to 33.txt, by the writers of heldout40 to
// 44, run once with the twenty-first: the rules answer 10, 17, 14, 16 and 16, as shipped 2, 6,
// 3, 1 and 3 (1.0 %, 15/1,500; the twentieth, afterwards, 2, 3, 3, 2 and 2); training prose
// since the twenty-second. reflective_prose34.txt to 37.txt, by the writers of heldout45 to 48,
// run once with the twenty-second: the rules answer 14, 12, 9 and 11, as shipped 3, 0, 6 and 3
// (1.0 %, 12/1,200; the twenty-first with its rules, afterwards, 4, 1, 6 and 3); training prose
// since the twenty-third. reflective_prose38.txt to 41.txt, by the writers of heldout49 to 52, run
// once with the twenty-third: the rules answer 9, 14, 11 and 18, as shipped 6, 6, 3 and 10 (2.1 %,
// 25/1,200; the twenty-second with its rules, afterwards, 6, 7, 4 and 9). reflective_prose42.txt
// to 45.txt, by the writers of heldout53 to 56, run once with the twenty-third: the rules answer
// 19, 5, 13 and 10, as shipped 6, 2, 4 and 4 (1.3 %, 16/1,200; the twenty-second, afterwards, 6, 2,
// 5 and 4). Prose38 to 45 are training prose since the twenty-fourth. reflective_prose46.txt to
// 49.txt, by the writers of heldout57 to 60, run once with the twenty-fourth: the rules answer 6,
// 11, 9 and 14, as shipped 2, 6, 0 and 1 (0.75 %, 9/1,200; the twenty-third, afterwards, 2, 6, 0
// and 1). Training prose since the twenty-fifth. reflective_prose50.txt to 53.txt, by the
// writers of heldout61 to 64, run once with the twenty-fifth: the rules answer 12, 19, 20 and 11,
// as shipped 4, 4, 5 and 3 (1.3 %, 16/1,200; the twenty-fourth, afterwards, 4, 5, 5 and 3).
TEST(SafetyCorpus, HeldOutReflectiveProse) {
  struct HeldOutProse {
    const char* file;
    int rules_at_most;
    int shipped_at_most;
  };
  for (auto [file, rules_at_most, shipped_at_most] :
       {HeldOutProse{"reflective_prose50.txt", 12, 4}, HeldOutProse{"reflective_prose51.txt", 19, 4},
        HeldOutProse{"reflective_prose52.txt", 20, 5}, HeldOutProse{"reflective_prose53.txt", 11, 3}}) {
    auto rules = score(*shipped_rules(), file, false);
    auto both = score(*shipped_policy(), file, false);
    EXPECT_EQ(both.benign, 300) << file;
    EXPECT_LE(rules.false_positives, rules_at_most) << file;
    EXPECT_LE(both.false_positives, shipped_at_most) << file;
  }
}

// The prose the classifier is trained on. reflective_prose.txt was written with the rules;
// prose2 and 4 to 13 by writers who saw no detector, each scored once while it was held out
// (docs/safety.md: 1.0-5.3 % with the models of the time) and trained on since the twelfth
// retraining (10 and 11 since the thirteenth, 12 and 13 since the fourteenth, 14 to 20 since the
// seventeenth, 21 to 24 since the nineteenth, 25 and 26 since the twentieth, 27 and 28 since the
// twenty-first, 29 to 33 since the twenty-second, 34 to 37 since the
// twenty-third, 38 to 45 since the twenty-fourth,
// 46 to 49 since the twenty-fifth). The rules were never tuned on 2 to 13, so their counts still measure the rules:
// 5, 1, 8, 1, 2, 8, 3, 7, 4, 6 and 10 of 300 now; rules passes drew on 14 to 20 (8, 5, 6, 11,
// 7, 7 and 13).
TEST(SafetyCorpus, ReflectiveProseAboutTrustAndTrauma) {
  auto rules = shipped_rules();
  auto policy = shipped_policy();
  ASSERT_TRUE(rules && policy);
  struct TrainedProse {
    const char* file;
    int rules_at_most;
  };
  for (auto [file, rules_at_most] :
       {TrainedProse{"reflective_prose.txt", 0}, TrainedProse{"reflective_prose2.txt", 5},
        TrainedProse{"reflective_prose4.txt", 1}, TrainedProse{"reflective_prose5.txt", 11},
        TrainedProse{"reflective_prose6.txt", 3}, TrainedProse{"reflective_prose7.txt", 2},
        TrainedProse{"reflective_prose8.txt", 11}, TrainedProse{"reflective_prose9.txt", 8},
        TrainedProse{"reflective_prose10.txt", 8}, TrainedProse{"reflective_prose11.txt", 4},
        TrainedProse{"reflective_prose12.txt", 10}, TrainedProse{"reflective_prose13.txt", 16},
        TrainedProse{"reflective_prose14.txt", 8}, TrainedProse{"reflective_prose15.txt", 5},
        TrainedProse{"reflective_prose16.txt", 6}, TrainedProse{"reflective_prose17.txt", 11},
        TrainedProse{"reflective_prose18.txt", 7}, TrainedProse{"reflective_prose19.txt", 7},
        TrainedProse{"reflective_prose20.txt", 13}, TrainedProse{"reflective_prose21.txt", 8},
        TrainedProse{"reflective_prose22.txt", 10}, TrainedProse{"reflective_prose23.txt", 2},
        TrainedProse{"reflective_prose24.txt", 16}, TrainedProse{"reflective_prose25.txt", 3},
        TrainedProse{"reflective_prose26.txt", 20}, TrainedProse{"reflective_prose27.txt", 2},
        TrainedProse{"reflective_prose28.txt", 13}, TrainedProse{"reflective_prose29.txt", 10},
        TrainedProse{"reflective_prose30.txt", 17}, TrainedProse{"reflective_prose31.txt", 14},
        TrainedProse{"reflective_prose32.txt", 16}, TrainedProse{"reflective_prose33.txt", 16},
        TrainedProse{"reflective_prose34.txt", 14}, TrainedProse{"reflective_prose35.txt", 12},
        TrainedProse{"reflective_prose36.txt", 9}, TrainedProse{"reflective_prose37.txt", 11},
        TrainedProse{"reflective_prose38.txt", 9}, TrainedProse{"reflective_prose39.txt", 14},
        TrainedProse{"reflective_prose40.txt", 11}, TrainedProse{"reflective_prose41.txt", 18},
        TrainedProse{"reflective_prose42.txt", 19}, TrainedProse{"reflective_prose43.txt", 5},
        TrainedProse{"reflective_prose44.txt", 13}, TrainedProse{"reflective_prose45.txt", 10},
        TrainedProse{"reflective_prose46.txt", 6}, TrainedProse{"reflective_prose47.txt", 11},
        TrainedProse{"reflective_prose48.txt", 9}, TrainedProse{"reflective_prose49.txt", 14}}) {
    auto alone = score(*rules, file, false);
    auto both = score(*policy, file, false);
    EXPECT_GE(both.benign, 300) << file;
    EXPECT_LE(alone.false_positives, rules_at_most) << file;
    EXPECT_LE(both.false_positive_rate(), 0.01) << file;
  }
}

}  // namespace
}  // namespace trellis::engine
