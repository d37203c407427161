#include "trellis/engine/suggest.hpp"

#include <algorithm>
#include <cstddef>

namespace trellis::engine {
namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// Optimal string alignment distance (Levenshtein plus adjacent transpositions,
// which are the commonest typo: "clsoe"), ignoring ASCII case.
std::size_t edit_distance(std::string_view a, std::string_view b) {
  const std::size_t n = a.size(), m = b.size();
  std::vector<std::size_t> before(m + 1), previous(m + 1), current(m + 1);
  for (std::size_t j = 0; j <= m; ++j) previous[j] = j;
  for (std::size_t i = 1; i <= n; ++i) {
    current[0] = i;
    for (std::size_t j = 1; j <= m; ++j) {
      const bool same = lower(a[i - 1]) == lower(b[j - 1]);
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (same ? 0 : 1)});
      if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) &&
          lower(a[i - 2]) == lower(b[j - 1])) {
        current[j] = std::min(current[j], before[j - 2] + 1);
      }
    }
    std::swap(before, previous);
    std::swap(previous, current);
  }
  return previous[m];
}

}  // namespace

std::optional<std::string> closest_match(std::string_view word,
                                         const std::vector<std::string>& candidates) {
  // About one typo per three letters. A change to every letter of the word
  // ("x" → "y") is a different word, not a typo.
  const std::size_t allowed = std::max<std::size_t>(1, word.size() / 3);
  const std::string* best = nullptr;
  std::size_t best_distance = 0;
  for (const auto& candidate : candidates) {
    if (candidate.empty()) continue;
    // Lengths alone can rule a candidate out before the quadratic work.
    const std::size_t gap = candidate.size() > word.size() ? candidate.size() - word.size()
                                                           : word.size() - candidate.size();
    if (gap > allowed) continue;
    const std::size_t distance = edit_distance(word, candidate);
    if (distance > allowed || (distance > 0 && distance >= word.size())) continue;
    if (best == nullptr || distance < best_distance) {
      best = &candidate;
      best_distance = distance;
    }
  }
  if (best == nullptr) return std::nullopt;
  return *best;
}

std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates) {
  auto match = closest_match(word, candidates);
  if (!match) return "";
  return "did you mean '" + *match + "'?";
}

std::string unknown_key_hint(std::string_view key, const std::vector<std::string>& allowed) {
  std::string hint = did_you_mean(key, allowed);
  if (!hint.empty()) return hint;
  std::string list;
  for (const auto& name : allowed) list += (list.empty() ? "" : ", ") + name;
  return "allowed here: " + list;
}

}  // namespace trellis::engine
