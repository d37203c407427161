#pragma once
// An RE2 pattern an author wrote, with the examples that are its tests, compiled
// and checked the one way flows ("F03x" codes) and the safety policy ("S03x")
// both use. Internal to the engine.
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>
#include <re2/re2.h>

#include "compile_context.hpp"

namespace trellis::engine::detail {

// How one kind of file reports its patterns' problems.
struct PatternChecks {
  char family;                                      // 'F' or 'S': codes F030-F033 or S030-S033
  std::string (*normalise)(std::string_view text);  // what the pattern is matched against
  std::string_view example_kind;                    // "an example answer", "an example text"
  bool show_normalised = false;                     // the hint shows the example as normalised
};

// Compiles `source` (case-insensitive, quiet, memory-capped) and checks it against
// `examples` (each must match) and `counter_examples` ("not": none may match),
// either of which may be null. Reports every problem under `pointer` (the pattern
// object); returns null if the pattern is too large, does not compile or fails
// one of its examples. Non-text examples are reported and skipped.
std::shared_ptr<const RE2> compile_checked_pattern(Reporter& report, const PatternChecks& checks,
                                                   const std::string& source, const std::string& pointer,
                                                   const nlohmann::ordered_json* examples,
                                                   const nlohmann::ordered_json* counter_examples);

}  // namespace trellis::engine::detail
