#include "message_split.hpp"

#include <algorithm>

namespace trellis::telegram {
namespace {

// Bytes in the UTF-8 sequence that starts with `lead` (1 for a stray byte).
std::size_t sequence_length(unsigned char lead) {
  if (lead >= 0xF0 && lead <= 0xF4) return 4;
  if (lead >= 0xE0) return lead <= 0xEF ? 3 : 1;
  if (lead >= 0xC2) return 2;
  return 1;
}

bool is_space(char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; }

std::string_view trim(std::string_view text) {
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}

// The largest byte count of `text` holding at most `limit` UTF-16 units, on a code point boundary.
std::size_t prefix_within(std::string_view text, std::size_t limit) {
  std::size_t bytes = 0, units = 0;
  while (bytes < text.size()) {
    auto length = std::min(sequence_length(static_cast<unsigned char>(text[bytes])), text.size() - bytes);
    std::size_t cost = length == 4 ? 2 : 1;
    if (units + cost > limit) break;
    units += cost;
    bytes += length;
  }
  return bytes;
}

// Where to cut `window` (which is followed by more text): after the last paragraph
// break, else after the last sentence end, else at the last space; 0 when none.
std::size_t best_cut(std::string_view window) {
  if (auto at = window.rfind("\n\n"); at != std::string_view::npos && at > 0) return at;
  for (std::size_t i = window.size(); i-- > 1;) {
    char c = window[i - 1];
    if ((c == '.' || c == '!' || c == '?' || c == ':' || c == ';') && is_space(window[i])) return i;
  }
  for (std::size_t i = window.size(); i-- > 1;) {
    if (is_space(window[i])) return i;
  }
  return 0;
}

}  // namespace

std::size_t utf16_length(std::string_view text) {
  std::size_t units = 0;
  for (std::size_t i = 0; i < text.size();) {
    auto length = std::min(sequence_length(static_cast<unsigned char>(text[i])), text.size() - i);
    units += length == 4 ? 2 : 1;
    i += length;
  }
  return units;
}

std::vector<std::string> split_message(std::string_view text, std::size_t limit) {
  std::vector<std::string> pieces;
  text = trim(text);
  while (!text.empty()) {
    if (utf16_length(text) <= limit) {
      pieces.emplace_back(text);
      break;
    }
    auto window = prefix_within(text, limit);
    // One more byte, so that a break right after the window counts too; every cut stays ≤ window.
    std::size_t cut = best_cut(text.substr(0, std::min(window + 1, text.size())));
    if (cut == 0) cut = window;  // one unbroken word longer than the limit
    if (cut == 0) cut = 1;       // limit 0: never loop forever
    if (auto piece = trim(text.substr(0, cut)); !piece.empty()) pieces.emplace_back(piece);
    text = trim(text.substr(cut));
  }
  return pieces;
}

}  // namespace trellis::telegram
