#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

#include "author_json.hpp"
#include "author_pattern.hpp"
#include "compile_context.hpp"
#include "trellis/engine/compile.hpp"
#include "trellis/engine/safety.hpp"
#include "trellis/engine/source_map.hpp"
#include "trellis/engine/suggest.hpp"

namespace trellis::engine {

namespace {

using Json = nlohmann::ordered_json;
using detail::Reporter;

const std::vector<std::string> kStandardCategories{"suicidal_thoughts", "self_harm", "harm_to_others",
                                                   "abuse_or_danger"};

using detail::child;
std::string_view type_name(const Json& json) { return detail::json_type_name(json); }

bool is_id(std::string_view id) {
  if (id.empty() || id.size() > 64 || id[0] < 'a' || id[0] > 'z') return false;
  return std::all_of(id.begin(), id.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; });
}

class PolicyReader {
 public:
  PolicyReader(Reporter& report, SafetyPolicy& policy) : report_(report), policy_(policy) {}

  void read(const Json& root) {
    if (!root.is_object()) {
      report_.error("S010", "", "the policy should be an object {...}, not " + std::string(type_name(root)));
      return;
    }
    check_keys(root, "", {"$schema", "format", "default_region", "choices", "texts", "categories", "context",
                          "idioms", "regions", "classifier"});
    if (const Json* format = field(root, "format", "", "the policy format, 1")) {
      if (!format->is_number_integer() || format->get<long long>() != kSafetyPolicyFormat) {
        report_.error("S003", "/format", "this version reads safety policy format 1",
                      "write \"format\": 1");
      }
    }
    read_texts(root);
    read_categories(root);
    read_context(root);
    read_regions(root);
    read_classifier(root);
  }

 private:
  const Json* field(const Json& object, const std::string& key, const std::string& pointer,
                    std::string_view what_if_missing = {}) {
    auto found = object.find(key);
    if (found != object.end()) return &*found;
    if (!what_if_missing.empty()) {
      report_.error("S012", pointer, "missing \"" + key + "\" (" + std::string(what_if_missing) + ")",
                    "add \"" + key + "\"");
    }
    return nullptr;
  }

  void check_keys(const Json& object, const std::string& pointer, const std::vector<std::string>& allowed) {
    for (const auto& [key, value] : object.items()) {
      if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
      report_.error("S011", child(pointer, key), "unknown key \"" + key + "\"", unknown_key_hint(key, allowed));
    }
  }

  std::optional<std::string> text(const Json& object, const std::string& key, const std::string& pointer,
                                  bool required) {
    const Json* value = field(object, key, pointer, required ? "text" : "");
    if (value == nullptr) return std::nullopt;
    if (!value->is_string()) {
      report_.error("S010", child(pointer, key),
                    "this should be text in quotes, not " + std::string(type_name(*value)));
      return std::nullopt;
    }
    auto out = value->get<std::string>();
    if (out.empty()) {
      report_.error("S013", child(pointer, key), "\"" + key + "\" is empty", "write something here");
      return std::nullopt;
    }
    return out;
  }

  const Json* object(const Json& parent, const std::string& key, const std::string& pointer,
                     std::string_view what) {
    const Json* value = field(parent, key, pointer, what);
    if (value != nullptr && !value->is_object()) {
      report_.error("S010", child(pointer, key),
                    "this should be an object {...}, not " + std::string(type_name(*value)));
      return nullptr;
    }
    return value;
  }

  const Json* list(const Json& parent, const std::string& key, const std::string& pointer,
                   std::string_view what) {
    const Json* value = field(parent, key, pointer, what);
    if (value != nullptr && !value->is_array()) {
      report_.error("S010", child(pointer, key),
                    "this should be a list [...], not " + std::string(type_name(*value)));
      return nullptr;
    }
    if (value != nullptr && value->empty() && !what.empty()) {
      report_.error("S013", child(pointer, key), "\"" + key + "\" is an empty list", "add at least one");
      return nullptr;
    }
    return value;
  }

  void read_texts(const Json& root) {
    if (const Json* choices = object(root, "choices", "", "the labels of the talk, continue and stop buttons")) {
      check_keys(*choices, "/choices", {"talk", "continue", "stop"});
      policy_.talk_label = text(*choices, "talk", "/choices", true).value_or("");
      policy_.continue_label = text(*choices, "continue", "/choices", true).value_or("");
      policy_.stop_label = text(*choices, "stop", "/choices", true).value_or("");
    }
    if (const Json* texts = object(root, "texts", "", "what is said after each choice")) {
      check_keys(*texts, "/texts", {"talk", "continue", "stop", "not_crisis"});
      policy_.talk_text = text(*texts, "talk", "/texts", true).value_or("");
      policy_.continue_text = text(*texts, "continue", "/texts", true).value_or("");
      policy_.stop_text = text(*texts, "stop", "/texts", true).value_or("");
      policy_.not_crisis_text = text(*texts, "not_crisis", "/texts", true).value_or("");
    }
  }

  std::optional<SafetyPattern> pattern(const Json& json, const std::string& pointer) {
    if (!json.is_object()) {
      report_.error("S010", pointer,
                    "this should be a pattern {\"match\": ..., \"examples\": [...]}, not " +
                        std::string(type_name(json)));
      return std::nullopt;
    }
    check_keys(json, pointer, {"match", "examples", "not"});
    auto source = text(json, "match", pointer, true);
    const Json* examples = list(json, "examples", pointer, "texts this pattern must match; they are its tests");
    const Json* counter = list(json, "not", pointer, "");
    if (!source) return std::nullopt;
    static const detail::PatternChecks kSafetyPattern{'S', normalise_for_safety, "an example text", true};
    auto regex = detail::compile_checked_pattern(report_, kSafetyPattern, *source, pointer, examples, counter);
    if (!regex) return std::nullopt;
    return SafetyPattern{std::move(regex), *source};
  }

  void read_categories(const Json& root) {
    const Json* categories = list(root, "categories", "", "what to detect, in priority order");
    if (categories == nullptr) return;
    std::set<std::string> seen;
    for (std::size_t i = 0; i < categories->size(); ++i) {
      const Json& json = (*categories)[i];
      auto pointer = child("/categories", i);
      if (!json.is_object()) {
        report_.error("S010", pointer, "this should be a category {...}, not " + std::string(type_name(json)));
        continue;
      }
      check_keys(json, pointer, {"id", "name", "response", "patterns"});
      SafetyCategory category;
      if (auto id = text(json, "id", pointer, true)) {
        if (!is_id(*id)) {
          report_.error("S027", child(pointer, "id"), "\"" + *id + "\" is not a valid id",
                        "use lower-case letters, digits and '_', starting with a letter");
        } else if (!seen.insert(*id).second) {
          report_.error("S021", child(pointer, "id"), "the category \"" + *id + "\" is listed twice",
                        "merge the two into one category");
        }
        category.id = *id;
      }
      text(json, "name", pointer, false);
      category.response = text(json, "response", pointer, true).value_or("");
      if (const Json* patterns = list(json, "patterns", pointer, "the phrasings that mean this category")) {
        for (std::size_t p = 0; p < patterns->size(); ++p) {
          if (auto read = pattern((*patterns)[p], child(child(pointer, "patterns"), p))) {
            category.patterns.push_back(std::move(*read));
          }
        }
      }
      policy_.categories.push_back(std::move(category));
    }
    for (const auto& standard : kStandardCategories) {
      if (!seen.count(standard)) {
        report_.warning("S023", "/categories", "the policy has no \"" + standard + "\" category",
                        "every deployment should detect suicidal_thoughts, self_harm, harm_to_others and "
                        "abuse_or_danger");
      }
    }
  }

  void read_context(const Json& root) {
    if (const Json* context = object(root, "context", "", "")) {
      check_keys(*context, "/context", {"negation", "not_negation", "resolved", "ongoing", "quoting", "deliberate"});
      auto one = [&](const char* key, std::shared_ptr<const RE2>& out) {
        if (const Json* json = field(*context, key, "/context")) {
          if (auto read = pattern(*json, child("/context", key))) out = read->regex;
        }
      };
      one("negation", policy_.negation);
      one("not_negation", policy_.not_negation);
      one("resolved", policy_.resolved);
      one("ongoing", policy_.ongoing);
      one("quoting", policy_.quoting);
      one("deliberate", policy_.deliberate);
    }
    if (const Json* idioms = list(root, "idioms", "", "")) {
      for (std::size_t i = 0; i < idioms->size(); ++i) {
        if (auto read = pattern((*idioms)[i], child("/idioms", i))) policy_.idioms.push_back(std::move(*read));
      }
    }
  }

  void read_regions(const Json& root) {
    auto default_region = text(root, "default_region", "", true);
    const Json* regions = list(root, "regions", "", "crisis resources for each region");
    std::vector<std::string> ids;
    if (regions != nullptr) {
      for (std::size_t i = 0; i < regions->size(); ++i) {
        const Json& json = (*regions)[i];
        auto pointer = child("/regions", i);
        if (!json.is_object()) {
          report_.error("S010", pointer, "this should be a region {...}, not " + std::string(type_name(json)));
          continue;
        }
        check_keys(json, pointer, {"id", "name", "resources"});
        SafetyRegion region;
        if (auto id = text(json, "id", pointer, true)) {
          if (!is_id(*id)) {
            report_.error("S027", child(pointer, "id"), "\"" + *id + "\" is not a valid id",
                          "use lower-case letters, digits and '_', starting with a letter");
          } else if (std::find(ids.begin(), ids.end(), *id) != ids.end()) {
            report_.error("S021", child(pointer, "id"), "the region \"" + *id + "\" is listed twice",
                          "merge the two into one region");
          }
          ids.push_back(*id);
          region.id = *id;
        }
        region.name = text(json, "name", pointer, true).value_or("");
        const Json* resources = field(json, "resources", pointer, "the helplines to show");
        if (resources != nullptr && (!resources->is_array() || resources->empty())) {
          report_.error("S024", child(pointer, "resources"), "a region needs at least one resource",
                        "add the local emergency number at least");
          resources = nullptr;
        }
        if (resources != nullptr) {
          for (std::size_t r = 0; r < resources->size(); ++r) {
            if (auto read = resource((*resources)[r], child(child(pointer, "resources"), r))) {
              region.resources.push_back(std::move(*read));
            }
          }
        }
        policy_.regions.push_back(std::move(region));
      }
    }
    if (default_region && regions != nullptr &&
        std::find(ids.begin(), ids.end(), *default_region) == ids.end()) {
      report_.error("S022", "/default_region", "there is no region \"" + *default_region + "\"",
                    did_you_mean(*default_region, ids));
    }
    if (default_region) policy_.default_region = *default_region;
  }

  // Only the name: the engine reads no files. engine_io::load_safety_policy compiles it.
  void read_classifier(const Json& root) {
    auto name = text(root, "classifier", "", false);
    if (!name) return;
    bool plain = name->find('/') == std::string::npos && name->find('\\') == std::string::npos &&
                 *name != "." && *name != ".." && name->size() > 5 && name->ends_with(".json") &&
                 *name != "policy.json";
    if (!plain) {
      report_.error("S048", "/classifier",
                    "\"" + *name + "\" is not the name of a .json file beside policy.json",
                    "write the file name only, such as \"classifier.json\", and keep the file in the same "
                    "folder as policy.json; remove the key to run the rules alone");
      return;
    }
    policy_.classifier_file = *name;
  }

  std::optional<SafetyResource> resource(const Json& json, const std::string& pointer) {
    if (!json.is_object()) {
      report_.error("S010", pointer, "this should be a resource {...}, not " + std::string(type_name(json)));
      return std::nullopt;
    }
    check_keys(json, pointer, {"name", "phone", "sms", "url", "hours", "only_for"});
    SafetyResource out;
    out.name = text(json, "name", pointer, true).value_or("");
    out.phone = text(json, "phone", pointer, false);
    out.sms = text(json, "sms", pointer, false);
    out.url = text(json, "url", pointer, false);
    out.hours = text(json, "hours", pointer, false);
    if (!json.contains("phone") && !json.contains("sms") && !json.contains("url")) {
      report_.error("S025", pointer, "this resource gives no way to reach it",
                    "add a \"phone\", \"sms\" or \"url\"");
    }
    if (const Json* only = list(json, "only_for", pointer, "")) {
      for (std::size_t i = 0; i < only->size(); ++i) {
        const Json& id = (*only)[i];
        std::vector<std::string> known;
        for (const auto& category : policy_.categories) known.push_back(category.id);
        if (!id.is_string() || std::find(known.begin(), known.end(), id.get<std::string>()) == known.end()) {
          report_.error("S026", child(child(pointer, "only_for"), i),
                        "\"only_for\" names " + (id.is_string() ? "\"" + id.get<std::string>() + "\"" : "something") +
                            ", which is not a category",
                        id.is_string() ? did_you_mean(id.get<std::string>(), known) : "");
        } else {
          out.only_for.push_back(id.get<std::string>());
        }
      }
    }
    return out;
  }

  Reporter& report_;
  SafetyPolicy& policy_;
};

}  // namespace

tl::expected<std::shared_ptr<const SafetyPolicy>, std::vector<Diagnostic>> compile_safety_policy(
    std::string_view text, std::string_view file, std::vector<Diagnostic>* warnings) {
  if (text.size() > kMaxSafetyPolicyBytes) {
    return tl::make_unexpected(std::vector{file_error(
        file, "S002", "the file is " + std::to_string(text.size()) + " bytes; the limit is " +
                          std::to_string(kMaxSafetyPolicyBytes),
        "keep the policy to patterns and resources")});
  }
  Json root;
  try {
    root = Json::parse(text, nullptr, /*allow_exceptions=*/true, /*ignore_comments=*/true);
  } catch (const nlohmann::json::parse_error& error) {
    std::string message = error.what();
    if (auto colon = message.find(": "); colon != std::string::npos) message = message.substr(colon + 2);
    auto position = SourceMap::position_of_offset(text, error.byte > 0 ? error.byte - 1 : 0);
    return tl::make_unexpected(std::vector{file_error(
        file, "S001", "this is not valid JSON: " + message,
        "look for a missing comma, quote or bracket just before this point", position.line, position.column)});
  } catch (const nlohmann::json::exception& error) {
    return tl::make_unexpected(std::vector{file_error(file, "S001", std::string("this JSON cannot be read: ") +
                                                                        error.what(),
                                                      "numbers must fit in a double", 1)});
  }
  // Depth is bounded by the parser's input here only through the file limit; the
  // reader below never recurses into author data, so no separate depth check.
  SourceMap map = SourceMap::scan(text);
  Reporter reporter(std::string(file), &map);
  for (const auto& duplicate : map.duplicate_keys()) {
    reporter.error("S020", duplicate.pointer, "this key is written twice in the same object",
                   "keep one; JSON would silently use only the last");
  }
  auto policy = std::make_shared<SafetyPolicy>();
  policy->file = std::string(file);
  PolicyReader(reporter, *policy).read(root);

  if (!has_errors(reporter.diagnostics())) {
    RE2::Options options;
    options.set_log_errors(false);
    options.set_case_sensitive(false);
    options.set_max_mem(64 << 20);
    auto set = std::make_shared<RE2::Set>(options, RE2::UNANCHORED);
    for (std::size_t c = 0; c < policy->categories.size(); ++c) {
      for (std::size_t p = 0; p < policy->categories[c].patterns.size(); ++p) {
        std::string error;
        if (set->Add(policy->categories[c].patterns[p].source, &error) < 0) {
          reporter.error("S030", "/categories/" + std::to_string(c) + "/patterns/" + std::to_string(p) + "/match",
                         "the pattern does not compile: " + error);
        }
        policy->category_of_pattern.push_back(c);
        policy->index_in_category.push_back(p);
      }
    }
    if (!set->Compile()) {
      reporter.error("S035", "/categories", "the patterns together are too large to match at once",
                     "remove or simplify some patterns");
    }
    policy->matcher = std::move(set);
    if (!policy->idioms.empty()) {
      auto idioms = std::make_shared<RE2::Set>(options, RE2::UNANCHORED);
      for (const auto& idiom : policy->idioms) {
        std::string error;
        if (idioms->Add(idiom.source, &error) < 0) reporter.error("S030", "/idioms", "an idiom does not compile: " + error);
      }
      if (!idioms->Compile()) {
        reporter.error("S035", "/idioms", "the idioms together are too large to match at once",
                       "remove or simplify some idioms");
      }
      policy->idiom_matcher = std::move(idioms);
    }
  }
  auto& diagnostics = reporter.diagnostics();
  if (has_errors(diagnostics)) return tl::make_unexpected(std::move(diagnostics));
  if (warnings != nullptr) {
    for (auto& diagnostic : diagnostics) warnings->push_back(std::move(diagnostic));
  }
  return std::shared_ptr<const SafetyPolicy>(std::move(policy));
}

}  // namespace trellis::engine
