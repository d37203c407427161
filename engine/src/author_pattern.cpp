#include "author_pattern.hpp"

#include "author_json.hpp"
#include "trellis/engine/compile.hpp"

namespace trellis::engine::detail {

namespace {

std::string code(char family, const char* number) { return std::string(1, family) + number; }

}  // namespace

std::shared_ptr<const RE2> compile_checked_pattern(Reporter& report, const PatternChecks& checks,
                                                   const std::string& source, const std::string& pointer,
                                                   const nlohmann::ordered_json* examples,
                                                   const nlohmann::ordered_json* counter_examples) {
  const auto where = child(pointer, "match");
  if (source.size() > kMaxPatternBytes) {
    report.error(code(checks.family, "033"), where,
                 "this pattern is " + std::to_string(source.size()) + " bytes; the limit is " +
                     std::to_string(kMaxPatternBytes),
                 "split it into several smaller patterns");
    return nullptr;
  }
  RE2::Options options;
  options.set_log_errors(false);
  options.set_case_sensitive(false);
  options.set_max_mem(1 << 20);
  auto regex = std::make_shared<const RE2>(source, options);
  if (!regex->ok()) {
    report.error(code(checks.family, "030"), where, "the pattern does not compile: " + regex->error(),
                 regex->error_arg().empty() ? "" : "look at \"" + regex->error_arg() + "\"");
    return nullptr;
  }
  bool ok = true;
  auto check = [&](const nlohmann::ordered_json* list, const char* key, bool should_match) {
    if (list == nullptr) return;
    for (std::size_t i = 0; i < list->size(); ++i) {
      const auto& example = (*list)[i];
      const auto example_pointer = child(child(pointer, key), i);
      if (!example.is_string()) {
        report.error(code(checks.family, "010"), example_pointer,
                     "this should be " + std::string(checks.example_kind) + " in quotes, not " +
                         std::string(json_type_name(example)));
        continue;
      }
      const auto& said = example.get_ref<const std::string&>();
      const auto normalised = checks.normalise(said);
      if (RE2::PartialMatch(normalised, *regex) == should_match) continue;
      ok = false;
      if (should_match) {
        report.error(code(checks.family, "031"), example_pointer,
                     "the pattern does not match its example \"" + said + "\"",
                     checks.show_normalised
                         ? "change the pattern, or remove the example (it is matched as \"" + normalised + "\")"
                         : "change the pattern, or remove the example");
      } else {
        report.error(code(checks.family, "032"), example_pointer,
                     "the pattern matches \"" + said + "\", which it must not",
                     "make the pattern stricter, or remove the example");
      }
    }
  };
  check(examples, "examples", true);
  check(counter_examples, "not", false);
  return ok ? regex : nullptr;
}

}  // namespace trellis::engine::detail
