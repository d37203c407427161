#pragma once
// Training the safety classifier (`trellis safety train`) and scoring a labelled corpus
// (`trellis safety score`). Not part of the engine: this reads files and calls liblinear.
// What it writes is data the engine loads (dialogs/safety/classifier.json).
#include <cstddef>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "trellis/engine/safety.hpp"

namespace trellis::safety_training {

struct CorpusText {
  std::string label;  // a category id, or "benign"
  std::string text;
  int line = 0;       // in its file, for messages
};

struct CorpusFile {
  std::string path;     // as given (recorded in the model, so keep it relative to the repository)
  std::string sha256;   // of the file's bytes, lower-case hex
  bool is_prose = false;
  // Written to be full of look-alikes (every everyday use of a crisis word, say): trained
  // on, but its benign texts do not count towards the false-positive budgets, which measure
  // what a deployment meets, not the hardest cases a writer could find.
  bool hard_cases = false;
  std::vector<CorpusText> texts;
};

// A labelled file: "label<TAB>text" lines; empty lines and lines starting with '#' are
// skipped. Prose (`is_prose`): every other line is a benign text. Throws
// std::runtime_error ("FILE:LINE: ...") on a line without a tab or a file it cannot read.
CorpusFile read_corpus(const std::filesystem::path& path, bool is_prose);

std::string sha256_hex(std::string_view bytes);

struct TrainingOptions {
  // C values tried by cross-validation (one value: no search). 512 scored a little better on the
  // shipped corpus but made a 1.14 MB model; the grid stops at 256 to keep it under 1 MB.
  std::vector<double> c_grid{16, 32, 64, 128, 256};
  std::vector<engine::SafetyFeatureKind> feature_kinds{
      engine::SafetyFeatureKind::Words, engine::SafetyFeatureKind::WordPairs, engine::SafetyFeatureKind::CharNgrams,
      engine::SafetyFeatureKind::RuleMatches};
  int folds = 5;
  // Out of fold, the share of the labelled files' benign texts the detector (rules and model
  // together) may answer. The folds hold whole files, so this is measured on writers the
  // model was not trained on, as a deployment meets them. 4% came out at 0.5-3.6% on
  // held-out writers; 3.5% since the fourteenth retraining, whose first model at 4% answered
  // "Because I am scared", a browser test's ordinary TRUST answer (docs/safety.md).
  double max_false_positives = 0.035;
  double max_prose_false_positives = 0.01;   // the same for prose (36 of the 3,604 shipped lines)
  // With "rule_matches": the share of the rules' right matches (out of fold) that each
  // category's rule_threshold may stand down, and the most it may be: a rule's match is stood
  // down only where the model gives its category a small chance, never merely a lower one.
  double max_rule_matches_dropped = 0.02;
  double max_rule_threshold = 0.2;
  double prune_below = 0.2;                  // weights smaller than this (in magnitude) are dropped
  bool scores_stood_down = false;            // see SafetyClassifier::scores_stood_down
  // Give every category's threshold the same number of benign texts above it, rather than
  // spending the budgets where they find the most (see choose_thresholds).
  bool equal_rank_thresholds = false;
  // Train each category on features scaled by their log-count ratios (NBSVM, Wang and
  // Manning 2012), folded into the weights the model keeps: the engine scores as before.
  // On the eleventh retraining's files it found more of heldout19 and 20 (355 of 400, not
  // 348) with fewer false positives (12 of 440, not 15) and held-out prose (38 of 2,100, not
  // 48), in a smaller model (3.5 MB, not 4.9): docs/safety.md.
  bool log_count_ratios = true;
  // Added to each feature's counts in the ratios. Add-one (Wang and Manning's) let a word seen
  // in three crisis texts and no other count for little; with 0.1 cross-validation on the
  // twelfth retraining's files found 302 more crisis texts of 19,155 (suicidal thoughts 4,187
  // of 6,208 instead of 3,986) within the same budgets (docs/safety.md).
  double log_count_smoothing = 0.1;
};

struct CrossValidation {
  double c = 0;
  // Out-of-fold, with the thresholds chosen: texts found with the right category by the
  // rules alone and by the rules then the classifier, per category; benign texts answered.
  std::map<std::string, std::pair<int, int>> rules_recall, combined_recall;  // category -> (found, total)
  // The classifier alone, on every positive text. The rules were tuned on these files and
  // find nearly all of them, so the combined recall cannot tell one C from another; what
  // the classifier adds on a new writer's text depends on how well it finds texts alone.
  // C is chosen on this.
  std::map<std::string, std::pair<int, int>> classifier_recall;
  int classifier_false_positives = 0;  // benign texts the classifier alone would answer
  int rules_false_positives = 0, combined_false_positives = 0, benign = 0;
  int rules_prose_false_positives = 0, combined_prose_false_positives = 0, prose = 0;
  int hard_case_false_positives = 0, hard_cases = 0;  // benign texts of hard-case files, outside the budgets
  std::map<std::string, double> thresholds, rule_thresholds;
  std::optional<double> crisis_threshold;  // a model that weighs the rules, when the budgets leave room
  double mean_classifier_recall() const;
  double mean_combined_recall() const;
};

struct TrainedClassifier {
  std::string json;                    // classifier.json, byte for byte
  std::vector<CrossValidation> tried;  // one per C, in c_grid order
  CrossValidation chosen;
  std::size_t features = 0;            // kept after pruning, over all categories
};

// Trains one L2-regularised logistic regression per category of `policy` (one-vs-rest;
// liblinear's L2R_LR, whose trust-region Newton solver uses no randomness, on examples in
// file and line order), chooses C and the thresholds by `folds`-fold cross-validation,
// and trains the final model on everything. The folds hold whole labelled files (each
// written by one writer), so that the thresholds are set on writers the model has not
// seen; with fewer files than folds, and for prose, contiguous blocks of each file. The
// thresholds keep the detector's false positives within the given shares. The same input
// gives the same bytes. Labels must be "benign" or a category of the policy
// (std::runtime_error otherwise). `policy` should have no classifier: its rules are what
// the model is told (rule_matches) or what it adds to.
TrainedClassifier train_safety_classifier(const engine::SafetyPolicy& policy, const std::vector<CorpusFile>& corpus,
                                          const TrainingOptions& options);

struct CorpusScores {
  std::map<std::string, std::pair<int, int>> recall;  // category -> (detected as it, total)
  // category -> its texts that got the safety response under any category: the person still
  // sees the resources and the choice, only the first words differ.
  std::map<std::string, int> responded;
  int false_positives = 0, benign = 0;
  std::vector<std::string> misses, false_positive_texts;
  double recall_of(const std::string& category) const;
  double false_positive_rate() const;
};

// Detection (engine::detect) on every text of `file`: a positive counts as found only with
// the right category (`recall`); `responded` also counts it under another category, and a
// miss says which ("(answered as self_harm)").
CorpusScores score_corpus(const engine::SafetyPolicy& policy, const CorpusFile& file);

// The policy without its classifier: the rules alone.
std::shared_ptr<const engine::SafetyPolicy> rules_only(const engine::SafetyPolicy& policy);

// Whether the corpus files a model records (its "training" section) are the files as they
// are now: a list of "FILE: what is wrong" lines, empty when current. Paths are resolved
// against `root`.
std::vector<std::string> stale_corpus_files(std::string_view classifier_json, const std::filesystem::path& root);

}  // namespace trellis::safety_training
