#pragma once
// Telegram takes at most 4,096 characters per message. split_message() cuts a
// plain text into pieces under that limit, preferring a paragraph break, then
// the end of a sentence, then a space, and never cutting inside a UTF-8 sequence.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace trellis::telegram {

// The Bot API counts "characters"; counting UTF-16 code units is always safe
// (a code point outside the BMP counts twice).
inline constexpr std::size_t kMaxMessageUnits = 4096;

// UTF-16 code units in `text` (invalid bytes count one each).
std::size_t utf16_length(std::string_view text);

// Pieces of `text`, each 1..`limit` UTF-16 units, whitespace at the cuts dropped.
// An empty or all-whitespace text gives no pieces (Telegram refuses empty messages).
std::vector<std::string> split_message(std::string_view text, std::size_t limit = kMaxMessageUnits);

}  // namespace trellis::telegram
