#pragma once
// The safety layer: crisis language in any free-text answer, in any flow, is met
// with care and real resources before the flow sees the answer. The policy is the
// deployment's data (dialogs/safety/policy.json, format in docs/safety.md), compiled
// and linted like a flow. step(flow, policy, state, event) applies it.
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <re2/re2.h>
#include <re2/set.h>
#include <tl/expected.hpp>

#include "trellis/engine/diagnostic.hpp"
#include "trellis/engine/safety_classifier.hpp"

namespace trellis::engine {

inline constexpr int kSafetyPolicyFormat = 1;
inline constexpr std::size_t kMaxSafetyPolicyBytes = 1 << 20;

// The ids of the choices offered after a safety response. Clients send these back.
inline constexpr std::string_view kSafetyTalkChoice = "safety_talk";
inline constexpr std::string_view kSafetyContinueChoice = "safety_continue";
inline constexpr std::string_view kSafetyStopChoice = "safety_stop";

struct SafetyResource {
  std::string name;                  // "988 Suicide & Crisis Lifeline"
  std::optional<std::string> phone;  // "988"
  std::optional<std::string> sms;    // "988"
  std::optional<std::string> url;
  std::optional<std::string> hours;  // "24/7"
  std::vector<std::string> only_for; // category ids; empty: shown for every category
};

struct SafetyPattern {
  std::shared_ptr<const RE2> regex;
  std::string source;
};

struct SafetyCategory {
  std::string id;        // "suicidal_thoughts", "self_harm", "harm_to_others", "abuse_or_danger"
  std::string response;  // the short, warm message for this category
  std::vector<SafetyPattern> patterns;
};

struct SafetyRegion {
  std::string id;    // "us", "uk_ie", "default"
  std::string name;  // "United States"
  std::vector<SafetyResource> resources;
};

// Compiled once; immutable; shared by every session.
struct SafetyPolicy {
  std::string file;
  std::vector<SafetyCategory> categories;  // in priority order: the first that matches wins
  std::vector<SafetyRegion> regions;
  std::string default_region;
  std::string talk_label, continue_label, stop_label;  // the three choices
  std::string talk_text;        // how to reach someone now (the resources follow)
  std::string continue_text;    // said before the interrupted question is asked again
  std::string stop_text;        // said before the flow ends
  std::string not_crisis_text;  // any other reply: thanked, resources stay, choice asked again

  // Context that can stand a match down (see detect). Null when the policy has none.
  std::shared_ptr<const RE2> negation;      // just before the match: "not", "never", ...
  std::shared_ptr<const RE2> not_negation;  // ends in a negation but is not one: "can't stop"
  std::shared_ptr<const RE2> resolved;      // in the same sentence: "years ago", "when i was 15"
  std::shared_ptr<const RE2> ongoing;       // in the same sentence, overrides resolved: "again", "still"
  std::shared_ptr<const RE2> quoting;       // in the same sentence as a quoted match: "song", "lyrics"
  std::shared_ptr<const RE2> deliberate;    // in the same sentence, overrides idioms: "on purpose"
  std::vector<SafetyPattern> idioms;        // a match inside one is not a match: "killed myself laughing"

  // Every category pattern in one RE2::Set; pattern i belongs to categories[category_of_pattern[i]]
  // and is categories[...].patterns[index_in_category[i]].
  std::shared_ptr<const RE2::Set> matcher;
  std::shared_ptr<const RE2::Set> idiom_matcher;  // all idioms at once; only those found are scanned for spans
  std::vector<std::size_t> category_of_pattern;
  std::vector<std::size_t> index_in_category;

  // The trained classifier that scores what no rule matched (safety_classifier.hpp).
  // `classifier_file` is the policy's "classifier" key: a file name beside policy.json,
  // empty when the deployment runs rules only. compile_safety_policy only records the
  // name; engine_io::load_safety_policy reads and compiles the file and sets `classifier`.
  std::string classifier_file;
  std::shared_ptr<const SafetyClassifier> classifier;

  const SafetyRegion& region(std::string_view id) const;  // unknown or empty id: default_region
  const SafetyCategory* category(std::string_view id) const;
};

// Compiles the policy file's text; every error at once, counselor-grade (codes S0xx,
// docs/safety.md). Warnings (such as a missing standard category) go to `warnings`.
tl::expected<std::shared_ptr<const SafetyPolicy>, std::vector<Diagnostic>> compile_safety_policy(
    std::string_view text, std::string_view file, std::vector<Diagnostic>* warnings = nullptr);

// What detection works on: lower case; typographic apostrophes and quotes folded to
// ASCII; letters repeated for emphasis squeezed ("diiiie" -> "die"); common
// misspellings and chat abbreviations spelled out ("kms" -> "kill myself",
// "wanna" -> "want to", "im" -> "i'm"); other punctuation becomes a space, except
// sentence ends (". "), commas (", ") and quotes, which the context rules read.
std::string normalise_for_safety(std::string_view text);

enum class SafetyDetector { Rules, Classifier };
std::string_view name_of(SafetyDetector detector);  // "rules", "classifier"

struct SafetyMatch {
  std::string category;
  std::string pattern;  // the source of the pattern that matched, for tracing (never the text);
                        // "classifier" when the classifier found it
  SafetyDetector detector = SafetyDetector::Rules;
  double probability = 0;  // the classifier's for the category, when a classifier scored the text
};

// Matches every category at once on the normalised text. A match is stood down
// only when the context clearly says so: a negation just before it ("I would never
// hurt myself"), a quotation of media ("the lyrics go 'I want to die'"), an idiom
// ("killed myself laughing"), or a past event clearly resolved in the same sentence
// ("years ago ..., I've been well since") with no sign it is happening again. Any
// other match, anywhere in the text, responds: when unsure, respond.
//
// With a classifier that weighs the rules (SafetyClassifier::weighs_rules, the shipped
// one), the model then scores the same normalised text, told what the rules found, and
// decides: a category at or above its threshold is a match (detector Classifier, or Rules
// when a rule found the same category), and so is the most likely category when the
// probabilities add up to the model's crisis_threshold; otherwise a rule's match stands
// unless the model gives its category only a small chance (under the category's
// rule_threshold, at most 0.2 as trained). The rules' findings weigh heavily: the model
// keeps nearly all of their right matches and stands down about half of the figures of
// speech they cannot tell. Alone, without a rule's match, it does not answer one word.
//
// With an older classifier the rules are the floor: when no rule matched, the classifier
// scores the text, and the category with the highest probability at or above its
// threshold is a match. A text whose rule match was stood down is scored only when the
// model says so (SafetyClassifier::scores_stood_down).
std::optional<SafetyMatch> detect(const SafetyPolicy& policy, std::string_view text);

// What the rules alone find (detect without a classifier), and whether patterns matched
// but the context stood every match down: what a model that weighs the rules is told.
struct SafetyRuleVerdict {
  std::optional<SafetyMatch> match;
  bool stood_down = false;
};
SafetyRuleVerdict match_safety_rules(const SafetyPolicy& policy, std::string_view text);

}  // namespace trellis::engine
