#pragma once
// "Did you mean ...?" for misspelt keys, node ids and variable names.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace trellis::engine {

// The closest candidate by edit distance, if it is close enough to be a likely typo.
std::optional<std::string> closest_match(std::string_view word,
                                         const std::vector<std::string>& candidates);

// "did you mean 'x'?", ready to be a Diagnostic's hint, or "" when nothing is close.
std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates);

// The hint for a key that is not allowed: did_you_mean, or else "allowed here: a, b, c".
std::string unknown_key_hint(std::string_view key, const std::vector<std::string>& allowed);

}  // namespace trellis::engine
