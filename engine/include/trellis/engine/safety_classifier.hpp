#pragma once
// The trained half of the safety layer: a linear model (one-vs-rest logistic regression,
// trained by `trellis safety train`) that scores every text, with what the rules found
// in it as one more feature, and decides (see detect in safety.hpp). The
// model is data, dialogs/safety/classifier.json (format in docs/safety.md), named by
// the policy's "classifier" key and compiled and linted with it. Scoring is a dot
// product over named features of the same normalised text the rules see: no I/O, no
// globals, the same text always gives the same scores.
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <tl/expected.hpp>

#include "trellis/engine/diagnostic.hpp"

namespace trellis::engine {

inline constexpr int kSafetyClassifierFormat = 1;
inline constexpr std::size_t kMaxSafetyClassifierBytes = 8 << 20;

// The kinds of feature a model can use; a model lists the ones it was trained with.
//   "words"       every word of the normalised text:             "w:die"
//   "word_pairs"  two adjacent words in one clause:              "b:want die" ("want to die": "b:want to", "b:to die")
//   "char_ngrams" 3 to 5 letters inside a word, '<' '>' its ends: "c:<sui", "c:cidal", "c:al>"
//   "rule_matches" what the policy's rules found:                "r:self_harm" (the category a rule
//                  matched), "r:stood_down" (a rule matched, and the context stood every match down)
enum class SafetyFeatureKind { Words, WordPairs, CharNgrams, RuleMatches };
std::optional<SafetyFeatureKind> safety_feature_kind(std::string_view name);
std::string_view name_of(SafetyFeatureKind kind);

// What the rules found in a text, as the "rule_matches" feature: "r:<category>" when a
// rule matched, "r:stood_down" when every match was stood down, "" when none matched.
std::string rule_feature(std::string_view rule_category, bool stood_down);

// The words of a normalised text, marks (". , \"") not counted. The classifier does not answer
// a one-word text on its own (no rule matched): a single word carries too little to be
// confident on ("purple", "0"), and of about 20,000 corpus lines one crisis text was a word
// that no rule matched.
std::size_t safety_word_count(std::string_view normalised);
inline constexpr std::size_t kSafetyClassifierMinWords = 2;

// The features of an already normalised text (normalise_for_safety), sorted and without
// repeats: each counts once, whatever its frequency. `rules` is rule_feature's answer,
// used when `kinds` has RuleMatches.
std::vector<std::string> safety_features(std::string_view normalised, const std::vector<SafetyFeatureKind>& kinds,
                                         std::string_view rules = {});

struct SafetyClassifierCategory {
  std::string id;             // a category of the policy
  double bias = 0;
  double threshold = 0.5;     // a probability at or above this is a detection
  // For a text a rule of this category matched, in a model that weighs the rules
  // ("rule_matches"): the match is answered when the probability is at or above this
  // lower bar, and stood down below it, where the model gives the category a small chance.
  // Absent: every rule match of the category is answered.
  std::optional<double> rule_threshold;
  std::vector<float> weights; // by feature index (SafetyClassifier::feature_index); 0 where pruned
};

// Looks features up by string_view, so scoring builds no strings.
struct SafetyFeatureHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view feature) const { return std::hash<std::string_view>{}(feature); }
};

// Compiled once; immutable; shared by every session through the policy.
struct SafetyClassifier {
  std::string file;
  std::vector<SafetyFeatureKind> feature_kinds;
  // feature -> index into each category's weights
  std::unordered_map<std::string, std::size_t, SafetyFeatureHash, std::equal_to<>> feature_index;
  std::vector<SafetyClassifierCategory> categories;            // in the policy's order
  // Whether a text whose rule match was stood down (negation, idiom, quotation, resolved
  // past) is scored too. false: the rules' context judgement is final.
  bool scores_stood_down = false;
  // A text under every category's threshold whose categories' probabilities add up to at
  // least this is still a detection, answered as its most likely category: the evidence of
  // a crisis can be split between categories ("took a load of tablets, just wanted to be
  // sick, not dead"). Absent: each category's threshold alone decides.
  std::optional<double> crisis_threshold;

  // Trained with the "rule_matches" feature: the model decides on every text, the rules'
  // findings weighed with its words (detect in safety.hpp).
  bool weighs_rules() const;
};

// The classifier's answer among `categories` probabilities (probability(k), threshold(k)):
// the most likely category at or above its own threshold; else, when they add up to
// `crisis_threshold`, the most likely one; -1 for none. Ties go to the lower index (the
// policy's priority order). Shared by detection and training, so that the thresholds are
// chosen for the rule that applies them.
template <typename Probability, typename Threshold>
int classifier_verdict(std::size_t categories, Probability probability, Threshold threshold,
                       std::optional<double> crisis_threshold) {
  int best = -1, most_likely = -1;
  double total = 0;
  for (std::size_t k = 0; k < categories; ++k) {
    const double p = probability(k);
    const int index = static_cast<int>(k);
    if (p >= threshold(k) && (best < 0 || p > probability(static_cast<std::size_t>(best)))) best = index;
    if (most_likely < 0 || p > probability(static_cast<std::size_t>(most_likely))) most_likely = index;
    total += p;
  }
  if (best >= 0 || !crisis_threshold || total < *crisis_threshold) return best;
  return most_likely;
}

struct SafetyScore {
  std::string category;
  double probability = 0;  // sigmoid(w . x + bias), x the features scaled to unit length
  double threshold = 0;
};

// One score per category of the model, in its order; `normalised` as normalise_for_safety,
// `rules` as rule_feature (read only by a model that weighs_rules).
std::vector<SafetyScore> score_normalised(const SafetyClassifier& classifier, std::string_view normalised,
                                          std::string_view rules = {});

// Compiles classifier.json; every error at once, counselor-grade (codes S040-S049,
// docs/safety.md). `policy_categories` are the policy's category ids, in order: the
// model's categories must be among them (S046); one the model lacks is a warning (S047),
// since rules still cover it.
tl::expected<std::shared_ptr<const SafetyClassifier>, std::vector<Diagnostic>> compile_safety_classifier(
    std::string_view text, std::string_view file, const std::vector<std::string>& policy_categories,
    std::vector<Diagnostic>* warnings = nullptr);

}  // namespace trellis::engine
