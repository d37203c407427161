#include "trellis/engine/safety_classifier.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <set>

#include <nlohmann/json.hpp>

#include "author_json.hpp"
#include "compile_context.hpp"
#include "trellis/engine/source_map.hpp"
#include "trellis/engine/suggest.hpp"

namespace trellis::engine {

namespace {

constexpr std::array<std::pair<SafetyFeatureKind, std::string_view>, 4> kKinds{{
    {SafetyFeatureKind::Words, "words"},
    {SafetyFeatureKind::WordPairs, "word_pairs"},
    {SafetyFeatureKind::CharNgrams, "char_ngrams"},
    {SafetyFeatureKind::RuleMatches, "rule_matches"},
}};

bool has_kind(const std::vector<SafetyFeatureKind>& kinds, SafetyFeatureKind kind) {
  return std::find(kinds.begin(), kinds.end(), kind) != kinds.end();
}

bool is_mark(std::string_view token) { return token == "." || token == "," || token == "\""; }

}  // namespace

std::optional<SafetyFeatureKind> safety_feature_kind(std::string_view name) {
  for (const auto& [kind, kind_name] : kKinds) {
    if (kind_name == name) return kind;
  }
  return std::nullopt;
}

std::string_view name_of(SafetyFeatureKind kind) {
  for (const auto& [candidate, name] : kKinds) {
    if (candidate == kind) return name;
  }
  return "";
}

std::string rule_feature(std::string_view rule_category, bool stood_down) {
  if (!rule_category.empty()) return "r:" + std::string(rule_category);
  return stood_down ? "r:stood_down" : "";
}

std::size_t safety_word_count(std::string_view normalised) {
  std::size_t words = 0, at = 0;
  while (at < normalised.size()) {
    auto space = normalised.find(' ', at);
    if (space == std::string_view::npos) space = normalised.size();
    auto token = normalised.substr(at, space - at);
    if (!token.empty() && !is_mark(token)) ++words;
    at = space + 1;
  }
  return words;
}

bool SafetyClassifier::weighs_rules() const { return has_kind(feature_kinds, SafetyFeatureKind::RuleMatches); }

namespace {

// Calls `take` with each feature of the normalised text, repeats included, built in one
// reused buffer: scoring runs on every typed text and should not allocate per feature.
template <typename Take>
void for_each_feature(std::string_view normalised, const std::vector<SafetyFeatureKind>& kinds,
                      std::string_view rules, Take take) {
  auto has = [&](SafetyFeatureKind kind) { return has_kind(kinds, kind); };
  const bool words = has(SafetyFeatureKind::Words), pairs = has(SafetyFeatureKind::WordPairs),
             chars = has(SafetyFeatureKind::CharNgrams);
  std::string feature;
  if (has(SafetyFeatureKind::RuleMatches) && !rules.empty()) take(feature.assign(rules));
  std::string_view previous;  // the word before, in the same clause; empty after a mark
  std::size_t at = 0;
  while (at < normalised.size()) {
    auto space = normalised.find(' ', at);
    if (space == std::string_view::npos) space = normalised.size();
    std::string_view token = normalised.substr(at, space - at);
    at = space + 1;
    if (token.empty()) continue;
    if (is_mark(token)) {
      previous = {};
      continue;
    }
    if (words) take(feature.assign("w:").append(token));
    if (pairs && !previous.empty()) take(feature.assign("b:").append(previous).append(" ").append(token));
    if (chars) {
      // n-grams of "<token>": the ends marked, so "<cut" differs from "cut" inside "execute".
      const std::size_t padded = token.size() + 2;
      auto letter = [&](std::size_t i) { return i == 0 ? '<' : i == padded - 1 ? '>' : token[i - 1]; };
      for (std::size_t n = 3; n <= 5; ++n) {
        for (std::size_t i = 0; i + n <= padded; ++i) {
          feature.assign("c:");
          for (std::size_t j = i; j < i + n; ++j) feature += letter(j);
          take(feature);
        }
      }
    }
    previous = token;
  }
}

}  // namespace

std::vector<std::string> safety_features(std::string_view normalised, const std::vector<SafetyFeatureKind>& kinds,
                                         std::string_view rules) {
  std::vector<std::string> features;
  for_each_feature(normalised, kinds, rules, [&](const std::string& feature) { features.push_back(feature); });
  std::sort(features.begin(), features.end());
  features.erase(std::unique(features.begin(), features.end()), features.end());
  return features;
}

std::vector<SafetyScore> score_normalised(const SafetyClassifier& classifier, std::string_view normalised,
                                          std::string_view rules) {
  // All features end to end in one string; each counts once however often it occurs.
  std::string arena;
  std::vector<std::pair<std::size_t, std::size_t>> spans;  // (offset, length) in arena
  for_each_feature(normalised, classifier.feature_kinds, rules, [&](const std::string& feature) {
    spans.emplace_back(arena.size(), feature.size());
    arena += feature;
  });
  std::vector<std::string_view> features;
  features.reserve(spans.size());
  for (auto [offset, length] : spans) features.emplace_back(arena.data() + offset, length);
  std::sort(features.begin(), features.end());
  features.erase(std::unique(features.begin(), features.end()), features.end());

  std::vector<double> sums(classifier.categories.size(), 0.0);
  for (std::string_view feature : features) {
    auto found = classifier.feature_index.find(feature);
    if (found == classifier.feature_index.end()) continue;
    for (std::size_t c = 0; c < classifier.categories.size(); ++c) sums[c] += classifier.categories[c].weights[found->second];
  }
  // Every feature counts 1 and the vector has unit length, as in training: features the
  // model does not know still make the text longer, and so weigh what it knows less.
  const double scale = features.empty() ? 0.0 : 1.0 / std::sqrt(static_cast<double>(features.size()));
  std::vector<SafetyScore> scores;
  scores.reserve(classifier.categories.size());
  for (std::size_t c = 0; c < classifier.categories.size(); ++c) {
    const auto& category = classifier.categories[c];
    double margin = sums[c] * scale + category.bias;
    scores.push_back({category.id, 1.0 / (1.0 + std::exp(-margin)), category.threshold});
  }
  return scores;
}

namespace {

// Not ordered_json: its objects find keys by a linear search, and parsing a model's
// weights (tens of thousands of keys per category) that way took seconds.
using Json = nlohmann::json;
using detail::Reporter;

using detail::child;
std::string_view type_name(const Json& json) { return detail::json_type_name(json); }

const char* const kRetrain = "retrain it with `trellis safety train` (docs/safety.md, \"The classifier\")";

class ClassifierReader {
 public:
  ClassifierReader(Reporter& report, SafetyClassifier& classifier, const std::vector<std::string>& policy_categories)
      : report_(report), classifier_(classifier), policy_categories_(policy_categories) {}

  void read(const Json& root) {
    if (!root.is_object()) {
      report_.error("S010", "", "the classifier should be an object {...}, not " + std::string(type_name(root)),
                    kRetrain);
      return;
    }
    check_keys(root, "",
               {"$schema", "format", "features", "scores_stood_down", "crisis_threshold", "categories", "training"});
    auto format = root.find("format");
    if (format == root.end()) {
      report_.error("S012", "", "missing \"format\" (the classifier format, 1)", "add \"format\": 1");
    } else if (!format->is_number_integer() || format->get<long long>() != kSafetyClassifierFormat) {
      report_.error("S042", "/format", "this version reads safety classifier format 1", kRetrain);
    }
    read_features(root);
    if (auto stood_down = root.find("scores_stood_down"); stood_down != root.end()) {
      if (!stood_down->is_boolean()) {
        report_.error("S010", "/scores_stood_down",
                      "this should be true or false, not " + std::string(type_name(*stood_down)));
      } else {
        classifier_.scores_stood_down = stood_down->get<bool>();
      }
    }
    if (auto training = root.find("training"); training != root.end() && !training->is_object()) {
      report_.error("S010", "/training", "this should be an object {...}, not " + std::string(type_name(*training)));
    }
    read_categories(root);
    read_crisis_threshold(root);
  }

 private:
  void check_keys(const Json& object, const std::string& pointer, const std::vector<std::string>& allowed) {
    for (const auto& [key, value] : object.items()) {
      if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
      report_.error("S011", child(pointer, key), "unknown key \"" + key + "\"", unknown_key_hint(key, allowed));
    }
  }

  void read_features(const Json& root) {
    auto features = root.find("features");
    if (features == root.end()) {
      report_.error("S012", "", "missing \"features\" (the kinds of feature the model was trained with)", kRetrain);
      return;
    }
    if (!features->is_array() || features->empty()) {
      report_.error("S010", "/features", "\"features\" should be a list of feature kinds, such as [\"words\"]",
                    kRetrain);
      return;
    }
    std::vector<std::string> known;
    for (const auto& [kind, name] : kKinds) known.emplace_back(name);
    for (std::size_t i = 0; i < features->size(); ++i) {
      const Json& name = (*features)[i];
      auto kind = name.is_string() ? safety_feature_kind(name.get<std::string>()) : std::nullopt;
      if (!kind) {
        std::string hint = name.is_string() ? did_you_mean(name.get<std::string>(), known) : "";
        report_.error("S043", "/features/" + std::to_string(i),
                      "\"" + (name.is_string() ? name.get<std::string>() : std::string(type_name(name))) +
                          "\" is not a kind of feature this version knows",
                      hint.empty() ? "known kinds: words, word_pairs, char_ngrams, rule_matches" : hint);
        continue;
      }
      classifier_.feature_kinds.push_back(*kind);
    }
  }

  // "w:die" needs "words" in "features", and so on; anything else can never occur.
  bool feature_is_possible(std::string_view feature) const {
    auto has = [&](SafetyFeatureKind kind) {
      return std::find(classifier_.feature_kinds.begin(), classifier_.feature_kinds.end(), kind) !=
             classifier_.feature_kinds.end();
    };
    if (feature.size() < 3 || feature[1] != ':') return false;
    switch (feature[0]) {
      case 'w': return has(SafetyFeatureKind::Words);
      case 'b': return has(SafetyFeatureKind::WordPairs);
      case 'c': return has(SafetyFeatureKind::CharNgrams);
      case 'r': return has(SafetyFeatureKind::RuleMatches);
      default: return false;
    }
  }

  std::optional<double> number(const Json& object, const std::string& key, const std::string& pointer) {
    auto value = object.find(key);
    if (value == object.end()) {
      report_.error("S012", pointer, "missing \"" + key + "\"", kRetrain);
      return std::nullopt;
    }
    if (!value->is_number()) {
      report_.error("S010", child(pointer, key), "this should be a number, not " + std::string(type_name(*value)),
                    kRetrain);
      return std::nullopt;
    }
    return value->get<double>();
  }

  void read_categories(const Json& root) {
    auto categories = root.find("categories");
    if (categories == root.end()) {
      report_.error("S012", "", "missing \"categories\" (a weight vector for each category)", kRetrain);
      return;
    }
    if (!categories->is_array() || categories->empty()) {
      report_.error("S010", "/categories", "\"categories\" should be a non-empty list [...]", kRetrain);
      return;
    }
    std::set<std::string> seen;
    for (std::size_t i = 0; i < categories->size(); ++i) {
      const Json& json = (*categories)[i];
      std::string pointer = "/categories/" + std::to_string(i);
      if (!json.is_object()) {
        report_.error("S010", pointer, "this should be a category {...}, not " + std::string(type_name(json)));
        continue;
      }
      check_keys(json, pointer, {"id", "bias", "threshold", "rule_threshold", "weights"});
      SafetyClassifierCategory category;
      auto id = json.find("id");
      if (id == json.end() || !id->is_string()) {
        report_.error(id == json.end() ? "S012" : "S010", id == json.end() ? pointer : pointer + "/id",
                      "each category needs an \"id\" in quotes", kRetrain);
      } else {
        category.id = id->get<std::string>();
        if (std::find(policy_categories_.begin(), policy_categories_.end(), category.id) ==
            policy_categories_.end()) {
          std::string hint = did_you_mean(category.id, policy_categories_);
          report_.error("S046", pointer + "/id",
                        "the classifier scores \"" + category.id + "\", which is not a category of the policy",
                        hint.empty() ? std::string("retrain the classifier for this policy's categories, or add the "
                                                   "category to policy.json")
                                     : hint);
        } else if (!seen.insert(category.id).second) {
          report_.error("S021", pointer + "/id", "the category \"" + category.id + "\" is listed twice", kRetrain);
        }
      }
      category.bias = number(json, "bias", pointer).value_or(0);
      if (auto threshold = probability(json, "threshold", pointer,
                                       "0.5 means \"more likely than not\"; the trained thresholds are chosen so "
                                       "that few ordinary texts pass")) {
        category.threshold = *threshold;
      }
      read_rule_threshold(json, pointer, category);
      read_weights(json, pointer, category);
      categories_read_.push_back(std::move(category));
    }
    for (const auto& id : policy_categories_) {
      if (!seen.count(id)) {
        report_.warning("S047", "/categories",
                        "the classifier has no weights for \"" + id + "\"; only the rules detect it",
                        "retrain the classifier on a corpus with examples of \"" + id + "\"");
      }
    }
    // Weights by feature index, in the policy's category order.
    for (const auto& policy_id : policy_categories_) {
      for (auto& category : categories_read_) {
        if (category.id != policy_id) continue;
        category.weights.resize(classifier_.feature_index.size(), 0.0f);
        for (const auto& [index, weight] : sparse_[&category - categories_read_.data()]) category.weights[index] = weight;
        classifier_.categories.push_back(std::move(category));
        break;
      }
    }
  }

  // A number above 0 and at most 1 (S044 otherwise).
  std::optional<double> probability(const Json& object, const std::string& key, const std::string& pointer,
                                    const std::string& hint) {
    auto value = number(object, key, pointer);
    if (value && !(*value > 0 && *value <= 1)) {
      report_.error("S044", child(pointer, key),
                    "a threshold is a probability above 0 and at most 1, not " + std::to_string(*value), hint);
      return std::nullopt;
    }
    return value;
  }

  // A sum of the categories' probabilities: above 0 and at most their number.
  void read_crisis_threshold(const Json& root) {
    if (!root.contains("crisis_threshold")) return;
    auto value = number(root, "crisis_threshold", "");
    if (!value) return;
    const auto most = static_cast<double>(classifier_.categories.size());
    if (!(*value > 0 && *value <= most)) {
      report_.error("S044", "/crisis_threshold",
                    "the crisis threshold is a sum of the categories' probabilities, above 0 and at most " +
                        std::to_string(classifier_.categories.size()) + ", not " + std::to_string(*value),
                    kRetrain);
      return;
    }
    classifier_.crisis_threshold = value;
  }

  void read_rule_threshold(const Json& json, const std::string& pointer, SafetyClassifierCategory& category) {
    if (!json.contains("rule_threshold")) return;
    if (!classifier_.weighs_rules()) {
      report_.error("S049", pointer + "/rule_threshold",
                    "a \"rule_threshold\" needs \"rule_matches\" in \"features\": this model does not see "
                    "what the rules found",
                    kRetrain);
      return;
    }
    category.rule_threshold = probability(json, "rule_threshold", pointer,
                                          "the trained rule thresholds are low (at most 0.2): a rule's match is "
                                          "stood down only where the model gives its category a small chance");
  }

  void read_weights(const Json& json, const std::string& pointer, const SafetyClassifierCategory&) {
    sparse_.emplace_back();
    auto weights = json.find("weights");
    if (weights == json.end()) {
      report_.error("S012", pointer, "missing \"weights\" (feature: weight)", kRetrain);
      return;
    }
    if (!weights->is_object()) {
      report_.error("S010", pointer + "/weights",
                    "\"weights\" should be an object {\"feature\": weight, ...}, not " +
                        std::string(type_name(*weights)),
                    kRetrain);
      return;
    }
    int bad = 0;
    for (const auto& [feature, weight] : weights->items()) {
      if (!weight.is_number() || !std::isfinite(weight.get<double>())) {
        report_.error("S010", child(pointer + "/weights", feature), "a weight should be a number", kRetrain);
        continue;
      }
      if (!feature_is_possible(feature)) {
        // One message per category: a model with the wrong "features" would give thousands.
        if (bad++ == 0) {
          report_.error("S045", child(pointer + "/weights", feature),
                        "the feature \"" + feature + "\" is not of a kind listed in \"features\"",
                        "features are \"w:word\", \"b:word word\", \"c:abc\" or \"r:category\", and their kind must be in "
                        "\"features\"; " + std::string(kRetrain));
        }
        continue;
      }
      auto [at, inserted] = classifier_.feature_index.try_emplace(feature, classifier_.feature_index.size());
      sparse_.back().emplace_back(at->second, static_cast<float>(weight.get<double>()));
    }
  }

  Reporter& report_;
  SafetyClassifier& classifier_;
  const std::vector<std::string>& policy_categories_;
  std::vector<SafetyClassifierCategory> categories_read_;
  std::vector<std::vector<std::pair<std::size_t, float>>> sparse_;  // by category read
};

}  // namespace

tl::expected<std::shared_ptr<const SafetyClassifier>, std::vector<Diagnostic>> compile_safety_classifier(
    std::string_view text, std::string_view file, const std::vector<std::string>& policy_categories,
    std::vector<Diagnostic>* warnings) {
  if (text.size() > kMaxSafetyClassifierBytes) {
    return tl::make_unexpected(std::vector{file_error(
        file, "S041", "the file is " + std::to_string(text.size()) + " bytes; the limit is " +
                          std::to_string(kMaxSafetyClassifierBytes),
        "retrain with a larger --prune value, which keeps fewer features")});
  }
  Json root;
  try {
    root = Json::parse(text);
  } catch (const nlohmann::json::parse_error& error) {
    std::string message = error.what();
    if (auto colon = message.find(": "); colon != std::string::npos) message = message.substr(colon + 2);
    auto position = SourceMap::position_of_offset(text, error.byte > 0 ? error.byte - 1 : 0);
    return tl::make_unexpected(std::vector{file_error(
        file, "S040", "this is not valid JSON: " + message,
        std::string("the file is written by `trellis safety train`; ") + kRetrain, position.line, position.column)});
  } catch (const nlohmann::json::exception& error) {
    return tl::make_unexpected(std::vector{
        file_error(file, "S040", std::string("this JSON cannot be read: ") + error.what(), kRetrain, 1)});
  }
  SourceMap map = SourceMap::scan(text);
  Reporter reporter(std::string(file), &map);
  for (const auto& duplicate : map.duplicate_keys()) {
    reporter.error("S020", duplicate.pointer, "this key is written twice in the same object",
                   "keep one; JSON would silently use only the last");
  }
  auto classifier = std::make_shared<SafetyClassifier>();
  classifier->file = std::string(file);
  ClassifierReader(reporter, *classifier, policy_categories).read(root);
  auto& diagnostics = reporter.diagnostics();
  if (has_errors(diagnostics)) return tl::make_unexpected(std::move(diagnostics));
  if (warnings != nullptr) {
    for (auto& diagnostic : diagnostics) warnings->push_back(std::move(diagnostic));
  }
  return std::shared_ptr<const SafetyClassifier>(std::move(classifier));
}

}  // namespace trellis::engine
