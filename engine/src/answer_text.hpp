#pragma once
// How typed answers are read: normalised, then taken as numbers, yes/no or choices.
// Internal to the engine.
#include <optional>
#include <string>
#include <string_view>

namespace trellis::engine::detail {

// Lower-cased (ASCII), trimmed, inner whitespace folded to one space, typographic
// apostrophes and quotes folded to ASCII. Patterns are matched against this.
std::string normalise_answer(std::string_view text);

// An integer answer: "7", "7/10", "7 out of 10", "I'd say 7", "seven", "a seven".
// nullopt when there is no number, more than one, or a fraction ("7.5").
std::optional<long long> parse_integer_answer(std::string_view normalised);

// The built-in words for yes and no, as RE2 syntax (used by every yes/no question).
extern const char* const kBuiltinYesPattern;
extern const char* const kBuiltinNoPattern;

// Counts code points in UTF-8 text (invalid bytes count as one each).
std::size_t count_code_points(std::string_view text);

// A typed global command word ("help", "/stop", "Pause!"), if the text is exactly one.
std::optional<std::string> command_word(std::string_view normalised);

}  // namespace trellis::engine::detail
