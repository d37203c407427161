#include "trellis/engine/json_text.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>

namespace trellis::engine {

namespace {

// Bytes copied as they are, in runs: printable ASCII other than " and \.
// A table, since this loop is most of writing a turn's state and frames.
constexpr std::array<bool, 256> kPlainAscii = [] {
  std::array<bool, 256> plain{};
  for (int c = 0x20; c < 0x80; ++c) plain[c] = c != '"' && c != '\\';
  return plain;
}();

}  // namespace

// A string as nlohmann's dump() writes it with error_handler_t::replace and
// ensure_ascii off: ", \ and \b \f \n \r \t get short escapes, other control
// characters \u00xx (lower-case hex); valid UTF-8 (and 0x7f) is copied as is.
// A byte that cannot start a sequence becomes U+FFFD; a sequence broken off by a
// byte that cannot continue it becomes U+FFFD and that byte is read again; a
// sequence cut off by the end of the string becomes U+FFFD.
void append_json_string(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  static constexpr std::string_view kReplacement = "\xEF\xBF\xBD";
  out += '"';
  const std::size_t n = text.size();
  std::size_t i = 0;
  while (i < n) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      if (kPlainAscii[c]) {
        std::size_t j = i + 1;
        while (j < n && kPlainAscii[static_cast<unsigned char>(text[j])]) ++j;
        out.append(text.data() + i, j - i);
        i = j;
        continue;
      }
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default: {
          const char escaped[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
          out.append(escaped, 6);
        }
      }
      ++i;
      continue;
    }
    // The well-formed UTF-8 sequences (Unicode table 3-7), as nlohmann's decoder accepts them.
    std::size_t length = 0;
    unsigned char low = 0x80, high = 0xBF;  // the range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
      length = 2;
    } else if (c == 0xE0) {
      length = 3, low = 0xA0;
    } else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) {
      length = 3;
    } else if (c == 0xED) {
      length = 3, high = 0x9F;
    } else if (c == 0xF0) {
      length = 4, low = 0x90;
    } else if (c >= 0xF1 && c <= 0xF3) {
      length = 4;
    } else if (c == 0xF4) {
      length = 4, high = 0x8F;
    } else {
      out += kReplacement;  // 0x80-0xC1, 0xF5-0xFF: cannot start a sequence
      ++i;
      continue;
    }
    std::size_t k = 1;
    for (; k < length && i + k < n; ++k) {
      const auto b = static_cast<unsigned char>(text[i + k]);
      if (b < (k == 1 ? low : 0x80) || b > (k == 1 ? high : 0xBF)) break;
    }
    if (k == length) {
      out.append(text.data() + i, length);
    } else {
      out += kReplacement;
    }
    i += k;  // a byte that broke the sequence is read again as the start of the next
  }
  out += '"';
}

void append_json_number(std::string& out, double number) {
  if (!std::isfinite(number)) {
    out += "null";  // as nlohmann writes NaN and infinities
    return;
  }
  char digits[32];
  constexpr double kExactIntegerLimit = 9007199254740992.0;  // 2^53, as in to_json(Value)
  std::to_chars_result result{};
  if (number == std::trunc(number) && std::fabs(number) <= kExactIntegerLimit) {
    result = std::to_chars(digits, digits + sizeof digits, static_cast<std::int64_t>(number));
  } else {
    result = std::to_chars(digits, digits + sizeof digits, number);  // shortest form that reads back the same
  }
  out.append(digits, static_cast<std::size_t>(result.ptr - digits));
}

}  // namespace trellis::engine
