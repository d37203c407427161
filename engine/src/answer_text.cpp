#include "answer_text.hpp"

#include <array>
#include <cctype>
#include <vector>

namespace trellis::engine::detail {

namespace {

bool is_space(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

// Typographic characters people's phones insert, folded so that "don’t" matches "don't".
struct Fold {
  std::string_view from;
  std::string_view to;
};
constexpr std::array kFolds{
    Fold{"\xE2\x80\x98", "'"}, Fold{"\xE2\x80\x99", "'"}, Fold{"\xE2\x80\x9A", "'"},
    Fold{"\xE2\x80\x9B", "'"}, Fold{"\xE2\x80\x9C", "\""}, Fold{"\xE2\x80\x9D", "\""},
    Fold{"\xE2\x80\x9E", "\""}, Fold{"\xE2\x80\x9F", "\""}, Fold{"\xE2\x80\xA6", "..."},
    Fold{"\xC2\xA0", " "}, Fold{"\xE2\x80\x93", "-"}, Fold{"\xE2\x80\x94", "-"},
};

constexpr std::array<std::string_view, 21> kNumberWords{
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
    "nineteen", "twenty"};

std::vector<std::string_view> words_of(std::string_view text) {
  std::vector<std::string_view> words;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && !std::isalnum(static_cast<unsigned char>(text[i]))) ++i;
    std::size_t start = i;
    while (i < text.size() && std::isalnum(static_cast<unsigned char>(text[i]))) ++i;
    if (i > start) words.push_back(text.substr(start, i - start));
  }
  return words;
}

}  // namespace

std::string normalise_answer(std::string_view text) {
  std::string folded;
  folded.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    bool replaced = false;
    if (static_cast<unsigned char>(text[i]) >= 0x80) {
      for (const auto& fold : kFolds) {
        if (text.substr(i, fold.from.size()) == fold.from) {
          folded += fold.to;
          i += fold.from.size();
          replaced = true;
          break;
        }
      }
    }
    if (!replaced) {
      folded += static_cast<char>(std::tolower(static_cast<unsigned char>(text[i])));
      ++i;
    }
  }
  std::string out;
  out.reserve(folded.size());
  bool pending_space = false;
  for (char c : folded) {
    if (is_space(static_cast<unsigned char>(c))) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    out += c;
  }
  return out;
}

std::optional<long long> parse_integer_answer(std::string_view text) {
  // Digits first: exactly one integer, optionally followed by "/N" or "out of N".
  std::vector<std::pair<std::size_t, std::size_t>> numbers;  // [start, end)
  for (std::size_t i = 0; i < text.size();) {
    if (std::isdigit(static_cast<unsigned char>(text[i]))) {
      std::size_t start = i;
      while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
      if (i < text.size() && (text[i] == '.' || text[i] == ',') && i + 1 < text.size() &&
          std::isdigit(static_cast<unsigned char>(text[i + 1]))) {
        return std::nullopt;  // a fraction: not an integer answer
      }
      numbers.emplace_back(start, i);
    } else {
      ++i;
    }
  }
  auto is_scale_suffix = [&](std::size_t after_first) {
    std::string_view rest = text.substr(after_first);
    std::size_t k = 0;
    while (k < rest.size() && rest[k] == ' ') ++k;
    if (rest.substr(k, 1) == "/") return true;
    return rest.substr(k, 6) == "out of";
  };
  auto to_integer = [&](std::pair<std::size_t, std::size_t> span) -> std::optional<long long> {
    if (span.second - span.first > 9) return std::nullopt;  // absurdly long: not an answer
    long long value = std::stoll(std::string(text.substr(span.first, span.second - span.first)));
    bool negative = span.first > 0 && text[span.first - 1] == '-' &&
                    (span.first == 1 || !std::isalnum(static_cast<unsigned char>(text[span.first - 2])));
    return negative ? -value : value;
  };
  if (numbers.size() == 1) return to_integer(numbers[0]);
  if (numbers.size() == 2 && is_scale_suffix(numbers[0].second)) return to_integer(numbers[0]);
  if (!numbers.empty()) return std::nullopt;

  // Then words: exactly one number word ("seven", "seven out of ten" counts once).
  std::optional<long long> found;
  auto words = words_of(text);
  for (std::size_t w = 0; w < words.size(); ++w) {
    for (std::size_t n = 0; n < kNumberWords.size(); ++n) {
      if (words[w] != kNumberWords[n]) continue;
      bool is_denominator = w >= 2 && words[w - 2] == "out" && words[w - 1] == "of";
      if (is_denominator) continue;
      if (found) return std::nullopt;
      found = static_cast<long long>(n);
    }
  }
  return found;
}

const char* const kBuiltinYesPattern =
    R"(^(y|ya|yah|yes|yess+|yeah|yea|yep|yup|ok|okay|k|sure|sure thing|of course|definitely|)"
    R"(absolutely|certainly|i am|i do|i'm ready|im ready|ready|let's go|lets go|go ahead|uh huh|)"
    R"(aye|yes please|please|why not|alright|all right|sounds good|i guess so|i think so|)"
    R"(i'd like that|i would|let's do it|lets do it)\b[ .!,]*$|^(yes|yeah|yep|sure|ok|okay)\b)";
const char* const kBuiltinNoPattern =
    R"(^(n|no|nope|nah|naw|not really|not now|not yet|no thanks|no thank you|never|i don't|)"
    R"(i dont|i'm not|im not|not today|rather not|i'd rather not|maybe later|later|nope\.?)\b[ .!,]*$|)"
    R"(^(no|nope|nah)\b)";

std::size_t count_code_points(std::string_view text) {
  std::size_t count = 0;
  for (unsigned char c : text) {
    if ((c & 0xC0) != 0x80) ++count;
  }
  return count;
}

std::optional<std::string> command_word(std::string_view text) {
  std::size_t begin = 0, end = text.size();
  if (begin < end && text[begin] == '/') ++begin;
  while (end > begin && (text[end - 1] == '.' || text[end - 1] == '!' || text[end - 1] == ' ')) --end;
  std::string word(text.substr(begin, end - begin));
  static constexpr std::array<std::string_view, 6> kWords{"help", "pause", "resume", "restart",
                                                          "stop", "skip"};
  for (auto candidate : kWords) {
    if (word == candidate) return word;
  }
  return std::nullopt;
}

}  // namespace trellis::engine::detail
