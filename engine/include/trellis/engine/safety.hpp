#pragma once
// The safety layer: crisis language in any free-text answer, in any flow, is met
// with care and real resources before the flow sees the answer. The policy is the
// deployment's data (dialogs/safety/policy.json), compiled and linted like a flow.
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <re2/set.h>
#include <tl/expected.hpp>

#include "trellis/engine/diagnostic.hpp"

namespace trellis::engine {

struct SafetyResource {
  std::string name;                 // "988 Suicide & Crisis Lifeline"
  std::optional<std::string> phone; // "988"
  std::optional<std::string> sms;   // "988"
  std::optional<std::string> url;
  std::optional<std::string> hours; // "24/7"
};

struct SafetyCategory {
  std::string id;        // "suicidal_thoughts", "self_harm", "harm_to_others", "abuse_or_danger"
  std::string response;  // the short, warm message for this category
};

struct SafetyRegion {
  std::string id;  // "us", "uk_ie", "default"
  std::vector<SafetyResource> resources;
};

// Compiled once; immutable; shared by every session.
struct SafetyPolicy {
  std::string file;
  std::vector<SafetyCategory> categories;
  std::vector<SafetyRegion> regions;
  std::string default_region;
  // Texts for the choices after a safety response, and for what follows each.
  std::string choice_talk_label, choice_continue_label, choice_stop_label;
  std::string talk_text;       // how to reach someone now (resources follow)
  std::string continue_text;   // said before returning to the interrupted question
  std::string not_crisis_text; // "you misunderstood": thanked, resources stay, choice asked again
  // Internal: patterns of all categories in one RE2::Set, and which category each belongs to.
  std::shared_ptr<const RE2::Set> matcher;
  std::vector<std::size_t> category_of_pattern;
  // ...further internal matching data (negation, quotation) as the implementation needs.

  const SafetyRegion& region(std::string_view id) const;  // falls back to default_region
};

// Compiles dialogs/safety/policy.json; every error at once, counselor-grade (codes S0xx).
tl::expected<std::shared_ptr<const SafetyPolicy>, std::vector<Diagnostic>> compile_safety_policy(
    std::string_view text, std::string_view file);

struct SafetyMatch {
  std::string category;
};

// Normalises (case, Unicode apostrophes and quotes, repeated letters, misspellings,
// chat abbreviations such as "kms") and matches every category at once. When unsure,
// it responds: negation and quotation never hide a direct statement of risk.
std::optional<SafetyMatch> detect(const SafetyPolicy& policy, std::string_view text);

}  // namespace trellis::engine
