#pragma once
// `trellis safety train`: train the safety classifier on a labelled corpus.
// `trellis safety score`: recall and false positives of the rules, and of the rules with
// the classifier, on labelled files (docs/safety.md, "The classifier").
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "trellis/safety_training/safety_training.hpp"

namespace trellis::cli {

struct SafetyCommand {
  std::optional<std::string> policy;      // default: <dialogs>/safety/policy.json
  std::vector<std::string> corpus;        // labelled files, "label<TAB>text"
  std::vector<std::string> prose;         // plain text, one benign text a line
  // train
  std::vector<std::string> hard_cases;    // labelled files of look-alikes, outside the budgets
  std::string out;
  std::vector<double> c;                  // empty: the default grid
  double max_false_positives = safety_training::TrainingOptions{}.max_false_positives;
  double max_prose_false_positives = safety_training::TrainingOptions{}.max_prose_false_positives;
  double max_rule_matches_dropped = safety_training::TrainingOptions{}.max_rule_matches_dropped;
  double max_rule_threshold = safety_training::TrainingOptions{}.max_rule_threshold;
  double prune = 0.2;
  std::vector<std::string> features;      // empty: every kind
  bool scores_stood_down = false;
  bool no_log_count_ratios = false;
  bool equal_rank_thresholds = false;
  double log_count_smoothing = safety_training::TrainingOptions{}.log_count_smoothing;
  // score
  std::optional<std::string> classifier;  // default: the one the policy names
  bool show_texts = false;
  CLI::App* train_app = nullptr;
  CLI::App* score_app = nullptr;
};

CLI::App* add_safety_command(CLI::App& app, SafetyCommand& command);
// 0 on success, 1 when a file is bad (the reason on `err`).
int run_safety_command(const SafetyCommand& command, std::ostream& out, std::ostream& err);

}  // namespace trellis::cli
