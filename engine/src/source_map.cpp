#include "trellis/engine/source_map.hpp"

#include <algorithm>
#include <cstdint>
#include <unordered_set>

#include "author_json.hpp"

namespace trellis::engine {
namespace {

using detail::escape_pointer_token;

void append_utf8(std::string& out, std::uint32_t code_point) {
  if (code_point < 0x80) {
    out += static_cast<char>(code_point);
  } else if (code_point < 0x800) {
    out += static_cast<char>(0xC0 | (code_point >> 6));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else if (code_point < 0x10000) {
    out += static_cast<char>(0xE0 | (code_point >> 12));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (code_point >> 18));
    out += static_cast<char>(0x80 | ((code_point >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  }
}

// A forgiving reader over text nlohmann::json has already accepted. It never
// reads past the end: on anything unexpected it stops, keeping what it found.
class Scanner {
 public:
  explicit Scanner(std::string_view text) : text_(text) {}

  std::size_t offset() const { return offset_; }
  bool at_end() const { return offset_ >= text_.size(); }
  char peek() const { return at_end() ? '\0' : text_[offset_]; }
  void advance() { ++offset_; }

  void skip_space_and_comments() {
    while (!at_end()) {
      const char c = text_[offset_];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        ++offset_;
      } else if (c == '/' && offset_ + 1 < text_.size() && text_[offset_ + 1] == '/') {
        while (!at_end() && text_[offset_] != '\n') ++offset_;
      } else if (c == '/' && offset_ + 1 < text_.size() && text_[offset_ + 1] == '*') {
        const auto close = text_.find("*/", offset_ + 2);
        offset_ = close == std::string_view::npos ? text_.size() : close + 2;
      } else {
        return;
      }
    }
  }

  // At an opening quote: returns the decoded string and moves past the closing quote.
  std::string read_string() {
    std::string decoded;
    ++offset_;
    while (!at_end()) {
      const char c = text_[offset_++];
      if (c == '"') return decoded;
      if (c != '\\') {
        decoded += c;
        continue;
      }
      if (at_end()) break;
      const char escaped = text_[offset_++];
      switch (escaped) {
        case 'b': decoded += '\b'; break;
        case 'f': decoded += '\f'; break;
        case 'n': decoded += '\n'; break;
        case 'r': decoded += '\r'; break;
        case 't': decoded += '\t'; break;
        case 'u': {
          std::uint32_t code_point = read_hex4();
          // A high surrogate followed by "\uDC00".."\uDFFF" is one code point.
          if (code_point >= 0xD800 && code_point <= 0xDBFF && offset_ + 1 < text_.size() &&
              text_[offset_] == '\\' && text_[offset_ + 1] == 'u') {
            offset_ += 2;
            const std::uint32_t low = read_hex4();
            if (low >= 0xDC00 && low <= 0xDFFF) {
              code_point = 0x10000 + ((code_point - 0xD800) << 10) + (low - 0xDC00);
            }
          }
          append_utf8(decoded, code_point);
          break;
        }
        default: decoded += escaped; break;  // \" \\ \/
      }
    }
    return decoded;
  }

  // Numbers, true, false, null: everything up to the next delimiter.
  void skip_scalar() {
    while (!at_end()) {
      const char c = text_[offset_];
      if (c == ',' || c == '}' || c == ']' || c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
          c == '/' || c == '"' || c == ':') {
        return;
      }
      ++offset_;
    }
  }

 private:
  std::uint32_t read_hex4() {
    std::uint32_t value = 0;
    for (int i = 0; i < 4 && !at_end(); ++i) {
      const char c = text_[offset_++];
      value <<= 4;
      if (c >= '0' && c <= '9') value |= static_cast<std::uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f') value |= static_cast<std::uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') value |= static_cast<std::uint32_t>(c - 'A' + 10);
    }
    return value;
  }

  std::string_view text_;
  std::size_t offset_ = 0;
};

// Deeper values (which the compiler rejects anyway) fall back to an ancestor's
// position; this keeps a hostile "[[[[..." from building megabytes of pointers.
constexpr std::size_t kMaxMappedDepth = 64;

struct Container {
  bool is_object = false;
  std::string pointer;
  std::size_t next_index = 0;  // arrays
  std::unordered_set<std::string> keys;  // objects
};

}  // namespace

SourceMap SourceMap::scan(std::string_view text) {
  SourceMap map;
  // Offsets only grow during the scan, so lines are counted once, incrementally.
  std::size_t counted_to = 0, line_start = 0;
  int line = 1;
  auto position_at = [&](std::size_t offset) {
    for (; counted_to < offset && counted_to < text.size(); ++counted_to) {
      if (text[counted_to] == '\n') {
        ++line;
        line_start = counted_to + 1;
      }
    }
    return SourcePosition{line, static_cast<int>(offset - line_start) + 1};
  };
  std::vector<Container> open;
  auto is_too_deep = [&] { return open.size() > kMaxMappedDepth; };
  auto record = [&](const std::string& pointer, std::size_t offset) {
    if (!is_too_deep()) map.positions_[pointer] = position_at(offset);
  };
  auto child_pointer = [&](const std::string& parent, std::string_view token) {
    return is_too_deep() ? parent : parent + "/" + std::string(token);
  };

  Scanner scanner(text);
  if (text.substr(0, 3) == "\xEF\xBB\xBF") {  // nlohmann skips a UTF-8 byte order mark
    for (int i = 0; i < 3; ++i) scanner.advance();
  }

  // Iterative, not recursive: the text may nest deeper than any limit we check later.
  std::string value_pointer;
  bool record_value = true;  // object members are recorded at their key instead
  enum class Expect { Value, Key, AfterValue } expect = Expect::Value;

  while (true) {
    scanner.skip_space_and_comments();
    if (scanner.at_end()) break;
    const char c = scanner.peek();

    if (expect == Expect::Value) {
      if (record_value) record(value_pointer, scanner.offset());
      if (c == '{' || c == '[') {
        scanner.advance();
        open.push_back(Container{c == '{', value_pointer, 0, {}});
        scanner.skip_space_and_comments();
        if (scanner.peek() == (c == '{' ? '}' : ']')) {
          scanner.advance();
          open.pop_back();
          expect = Expect::AfterValue;
        } else if (c == '{') {
          expect = Expect::Key;
        } else {
          value_pointer = child_pointer(open.back().pointer, "0");
          record_value = true;
        }
      } else if (c == '"') {
        scanner.read_string();
        expect = Expect::AfterValue;
      } else {
        const std::size_t before = scanner.offset();
        scanner.skip_scalar();
        if (scanner.offset() == before) break;  // not JSON after all
        expect = Expect::AfterValue;
      }
    } else if (expect == Expect::Key) {
      if (c != '"' || open.empty()) break;
      const std::size_t key_offset = scanner.offset();
      const std::string key = scanner.read_string();
      scanner.skip_space_and_comments();
      if (scanner.peek() != ':') break;
      scanner.advance();
      Container& object = open.back();
      value_pointer = child_pointer(object.pointer, escape_pointer_token(key));
      if (!is_too_deep() && !object.keys.insert(key).second) {
        map.duplicates_.push_back({value_pointer, position_at(key_offset)});
        // nlohmann keeps the later value; its positions overwrite the first one's below.
        // (Children only the first value had stay behind, but nothing can point at them.)
      }
      record(value_pointer, key_offset);
      record_value = false;
      expect = Expect::Value;
    } else {  // AfterValue
      if (open.empty()) break;
      Container& container = open.back();
      if (c == ',') {
        scanner.advance();
        if (container.is_object) {
          expect = Expect::Key;
        } else {
          value_pointer = child_pointer(container.pointer, std::to_string(++container.next_index));
          record_value = true;
          expect = Expect::Value;
        }
      } else if (c == (container.is_object ? '}' : ']')) {
        scanner.advance();
        open.pop_back();
      } else {
        break;
      }
    }
  }
  return map;
}

SourcePosition SourceMap::find(std::string_view pointer) const {
  std::string key(pointer);
  while (true) {
    if (auto it = positions_.find(key); it != positions_.end()) return it->second;
    if (key.empty()) return {};
    const auto slash = key.rfind('/');
    key.resize(slash == std::string::npos ? 0 : slash);
  }
}

SourcePosition SourceMap::position_of_offset(std::string_view text, std::size_t offset) {
  offset = std::min(offset, text.size());
  SourcePosition position{1, 1};
  std::size_t line_start = 0;
  for (std::size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++position.line;
      line_start = i + 1;
    }
  }
  position.column = static_cast<int>(offset - line_start) + 1;
  return position;
}

}  // namespace trellis::engine
