#include "safety_command.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iomanip>
#include <ostream>
#include <sstream>

#include "flow_lookup.hpp"
#include "trellis/engine_io/flow_directory.hpp"
#include "trellis/safety_training/safety_training.hpp"

namespace trellis::cli {

namespace {

namespace training = safety_training;

std::filesystem::path policy_path(const SafetyCommand& command) {
  if (command.policy) return *command.policy;
  return dialogs_folder(std::nullopt) / engine_io::kSafetyPolicyPath;
}

// The policy's rules, whatever state its classifier is in: training replaces it.
std::shared_ptr<const engine::SafetyPolicy> rules_of(const std::filesystem::path& file, std::ostream& err) {
  std::string text;
  try {
    text = engine_io::read_file(file);
  } catch (const std::exception& error) {
    err << file.string() << ": cannot read the safety policy: " << error.what() << "\n";
    return nullptr;
  }
  auto policy = engine::compile_safety_policy(text, file.string());
  if (!policy) {
    err << format_all(policy.error());
    return nullptr;
  }
  return training::rules_only(**policy);
}

std::string ratio(int found, int total) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(2) << (total ? double(found) / total : 0.0) << " (" << found << "/" << total
      << ")";
  return out.str();
}

std::string percent(int found, int total) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(1) << (total ? 100.0 * found / total : 0.0) << " % (" << found << "/"
      << total << ")";
  return out.str();
}

void print_cross_validation(const training::CrossValidation& cv, std::ostream& out) {
  out << "  C " << cv.c << ":";
  for (const auto& [id, counts] : cv.combined_recall) {
    out << "  " << id << " " << cv.rules_recall.at(id).first << "->" << counts.first << "/" << counts.second
        << " (alone " << cv.classifier_recall.at(id).first << ")";
  }
  out << "  false positives " << cv.rules_false_positives << "->" << cv.combined_false_positives << "/" << cv.benign;
  if (cv.hard_cases > 0) out << " (hard cases " << cv.hard_case_false_positives << "/" << cv.hard_cases << ")";
  if (cv.prose > 0) {
    out << "  prose " << cv.rules_prose_false_positives << "->" << cv.combined_prose_false_positives << "/" << cv.prose;
  }
  out << "\n";
}

int run_train(const SafetyCommand& command, std::ostream& out, std::ostream& err) {
  auto policy = rules_of(policy_path(command), err);
  if (!policy) return 1;
  std::vector<training::CorpusFile> corpus;
  for (const auto& file : command.corpus) corpus.push_back(training::read_corpus(file, false));
  for (const auto& file : command.hard_cases) {
    if (std::find(command.corpus.begin(), command.corpus.end(), file) != command.corpus.end()) {
      err << file << ": given both to --corpus and to --hard-cases; name each file once\n";
      return 1;
    }
    corpus.push_back(training::read_corpus(file, false));
    corpus.back().hard_cases = true;
  }
  for (const auto& file : command.prose) corpus.push_back(training::read_corpus(file, true));
  training::TrainingOptions options;
  if (!command.c.empty()) options.c_grid = command.c;
  options.max_false_positives = command.max_false_positives;
  options.max_prose_false_positives = command.max_prose_false_positives;
  options.max_rule_matches_dropped = command.max_rule_matches_dropped;
  options.max_rule_threshold = command.max_rule_threshold;
  options.prune_below = command.prune;
  options.scores_stood_down = command.scores_stood_down;
  options.log_count_ratios = !command.no_log_count_ratios;
  options.log_count_smoothing = command.log_count_smoothing;
  options.equal_rank_thresholds = command.equal_rank_thresholds;
  if (!command.features.empty()) {
    options.feature_kinds.clear();
    for (const auto& name : command.features) {
      auto kind = engine::safety_feature_kind(name);
      if (!kind) {
        err << "--features: \"" << name
            << "\" is not a kind of feature (words, word_pairs, char_ngrams, rule_matches)\n";
        return 1;
      }
      options.feature_kinds.push_back(*kind);
    }
  }
  auto trained = training::train_safety_classifier(*policy, corpus, options);
  out << "cross-validation (" << options.folds
      << " folds; found by the rules -> by the rules and the classifier (by the classifier alone)):\n";
  // (the folds hold whole files when there are at least as many labelled files as folds)
  for (const auto& cv : trained.tried) print_cross_validation(cv, out);
  out << "chosen: C " << trained.chosen.c << "; thresholds";
  for (const auto& [id, threshold] : trained.chosen.thresholds) out << " " << id << " " << threshold;
  if (!trained.chosen.rule_thresholds.empty()) {
    out << "; rule thresholds";
    for (const auto& [id, threshold] : trained.chosen.rule_thresholds) out << " " << id << " " << threshold;
  }
  if (trained.chosen.crisis_threshold) out << "; crisis threshold " << *trained.chosen.crisis_threshold;
  out << "\n";
  // The thresholds cannot go higher than the highest benign score: past that, the budget is
  // the rules' to keep, and the model adds (almost) nothing. Say so rather than let it pass.
  const auto& chosen = trained.chosen;
  auto over = [](int answered, int total, double budget) { return total > 0 && answered > budget * total; };
  if (over(chosen.combined_false_positives, chosen.benign, options.max_false_positives) ||
      over(chosen.combined_prose_false_positives, chosen.prose, options.max_prose_false_positives)) {
    err << "warning: out of fold the detector answers " << chosen.combined_false_positives << " of " << chosen.benign
        << " benign texts and " << chosen.combined_prose_false_positives << " of " << chosen.prose
        << " prose lines, over --max-false-positives " << options.max_false_positives
        << " or --max-prose-false-positives " << options.max_prose_false_positives
        << " even with the thresholds as high as they go: the rules' own matches are over budget, so the "
           "model finds next to nothing. Hard benign texts belong in a labelled file (benign<TAB>text), not "
           "in --prose, or the budgets are too tight for these files.\n";
  }
  std::ofstream file(command.out, std::ios::binary | std::ios::trunc);
  file << trained.json;
  file.close();
  if (!file) {
    err << command.out << ": cannot write the classifier\n";
    return 1;
  }
  out << "wrote " << command.out << ": " << trained.features << " features, " << trained.json.size() << " bytes\n";
  return 0;
}

int run_score(const SafetyCommand& command, std::ostream& out, std::ostream& err) {
  auto path = policy_path(command);
  std::shared_ptr<const engine::SafetyPolicy> combined;
  if (command.classifier) {
    auto rules = rules_of(path, err);
    if (!rules) return 1;
    std::vector<std::string> ids;
    for (const auto& category : rules->categories) ids.push_back(category.id);
    std::string text;
    try {
      text = engine_io::read_file(*command.classifier);
    } catch (const std::exception& error) {
      err << *command.classifier << ": cannot read the classifier: " << error.what() << "\n";
      return 1;
    }
    auto classifier = engine::compile_safety_classifier(text, *command.classifier, ids);
    if (!classifier) {
      err << format_all(classifier.error());
      return 1;
    }
    auto with = std::make_shared<engine::SafetyPolicy>(*rules);
    with->classifier = *classifier;
    combined = with;
  } else {
    auto loaded = engine_io::load_safety_policy(path);
    if (!loaded) {
      err << format_all(loaded.error());
      return 1;
    }
    combined = *loaded;
  }
  auto rules = training::rules_only(*combined);
  std::vector<training::CorpusFile> files;
  for (const auto& file : command.corpus) files.push_back(training::read_corpus(file, false));
  for (const auto& file : command.prose) files.push_back(training::read_corpus(file, true));
  for (const auto& file : files) {
    auto alone = training::score_corpus(*rules, file);
    auto both = training::score_corpus(*combined, file);
    out << file.path << "\n";
    for (const auto& [id, counts] : alone.recall) {
      if (counts.second == 0) continue;
      out << "  " << std::left << std::setw(18) << id << " rules " << std::setw(14) << ratio(counts.first, counts.second)
          << " rules+classifier " << std::setw(14) << ratio(both.recall.at(id).first, counts.second)
          << " any category " << ratio(both.responded.at(id), counts.second) << "\n";
    }
    out << "  " << std::setw(18) << "false positives" << " rules " << std::setw(14)
        << percent(alone.false_positives, alone.benign) << " rules+classifier "
        << percent(both.false_positives, both.benign) << "\n";
    if (command.show_texts) {
      for (const auto& miss : both.misses) out << "    missed " << miss << "\n";
      for (const auto& text : both.false_positive_texts) out << "    answered " << text << "\n";
    }
  }
  return 0;
}

}  // namespace

CLI::App* add_safety_command(CLI::App& app, SafetyCommand& command) {
  auto* safety = app.add_subcommand("safety", "Train the safety classifier, or score the safety layer on a corpus");
  safety->require_subcommand(1);
  auto* train = safety->add_subcommand("train", "Train the classifier on labelled texts and write classifier.json");
  train->add_option("--corpus", command.corpus, "Labelled files, one \"label<TAB>text\" a line")
      ->required()
      ->check(CLI::ExistingFile);
  train->add_option("--prose", command.prose, "Plain-text files, one benign text a line")->check(CLI::ExistingFile);
  train->add_option("--hard-cases", command.hard_cases,
                    "Labelled files written to be full of look-alikes: trained on, but their benign texts are "
                    "not counted in --max-false-positives")
      ->check(CLI::ExistingFile);
  train->add_option("--out", command.out, "Where to write the model, e.g. dialogs/safety/classifier.json")->required();
  train->add_option("--policy", command.policy, "The policy whose categories and rules the model is trained with")
      ->check(CLI::ExistingFile);
  train->add_option("--c", command.c, "Regularisation C to try (default: 16 32 64 128 256, chosen by cross-validation)");
  train->add_option("--max-false-positives", command.max_false_positives,
                    "Share of benign labelled texts answered in cross-validation, rules and model together "
                    "(default 0.035)");
  train->add_option("--max-prose-false-positives", command.max_prose_false_positives,
                    "The same for prose lines (default 0.01)");
  train->add_option("--max-rule-matches-dropped", command.max_rule_matches_dropped,
                    "Share of the rules' right matches the model may stand down (default 0.02)");
  train->add_option("--max-rule-threshold", command.max_rule_threshold,
                    "The most a rule threshold may be: matches are stood down only below it (default 0.2)");
  train->add_option("--prune", command.prune, "Drop weights smaller than this (default 0.2)");
  train->add_option("--features", command.features,
                    "Kinds of feature: words word_pairs char_ngrams rule_matches (default: all)");
  train->add_flag("--score-stood-down", command.scores_stood_down,
                  "Without rule_matches: also score texts whose rule match the context stood down");
  train->add_flag("--equal-rank-thresholds", command.equal_rank_thresholds,
                  "Give every category the same number of benign texts above its threshold, rather than "
                  "spending the budgets where they find the most");
  train->add_flag("--no-log-count-ratios", command.no_log_count_ratios,
                  "Train on the features as they are, not scaled by their log-count ratios (NBSVM)");
  train->add_option("--log-count-smoothing", command.log_count_smoothing,
                    "Added to every feature's counts in the log-count ratios (default 0.1)")
      ->check(CLI::Validator(
          [](std::string& value) {
            char* end = nullptr;
            double number = std::strtod(value.c_str(), &end);
            return end != value.c_str() && *end == '\0' && number > 0 ? std::string()
                                                                      : "must be a number above 0, e.g. 0.1";
          },
          "POSITIVE"));
  train->footer(R"(Prints the cross-validation for each C and what it chose. The same files give the same bytes.

Examples:
  trellis safety train --corpus tests/safety/train.tsv tests/safety/heldout.tsv tests/safety/heldout2.tsv \
      tests/safety/heldout3.tsv tests/safety/heldout4.tsv tests/safety/heldout5.tsv \
      --prose tests/safety/reflective_prose.txt --out /tmp/classifier.json
                                     a model on some of the shipped files (the shipped model's
                                     command: docs/safety.md, "Retraining"), from the repository root)");
  auto* score = safety->add_subcommand("score", "Recall and false positives, rules alone and with the classifier");
  score->add_option("--corpus", command.corpus, "Labelled files, one \"label<TAB>text\" a line")->check(CLI::ExistingFile);
  score->add_option("--prose", command.prose, "Plain-text files, one benign text a line")->check(CLI::ExistingFile);
  score->add_option("--policy", command.policy, "The policy (default: ./dialogs/safety/policy.json)")
      ->check(CLI::ExistingFile);
  score->add_option("--classifier", command.classifier, "A classifier to use instead of the one the policy names")
      ->check(CLI::ExistingFile);
  score->add_flag("--texts", command.show_texts, "List the texts missed and the benign texts answered");
  score->footer(R"(Examples:
  trellis safety score --corpus tests/safety/heldout5.tsv --prose tests/safety/reflective_prose.txt
  trellis safety score --corpus kept-out.tsv --classifier /tmp/trained-without-it.json --texts)");
  safety->footer(R"(Examples:
  trellis safety train --corpus my-corpus.tsv --out dialogs/safety/classifier.json
  trellis safety score --corpus my-new-texts.tsv)");
  command.train_app = train;
  command.score_app = score;
  return safety;
}

int run_safety_command(const SafetyCommand& command, std::ostream& out, std::ostream& err) {
  try {
    if (command.train_app != nullptr && command.train_app->parsed()) return run_train(command, out, err);
    if (command.score_app != nullptr && command.score_app->parsed()) return run_score(command, out, err);
  } catch (const std::runtime_error& error) {
    err << error.what() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace trellis::cli
