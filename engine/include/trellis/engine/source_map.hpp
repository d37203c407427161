#pragma once
// Where each value of a JSON text sits, by JSON Pointer, so that diagnostics name
// a line and column. nlohmann::json keeps no positions, so this is a second, small
// scan over text that has already parsed.
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace trellis::engine {

struct SourcePosition {
  int line = 0;    // 1-based
  int column = 0;  // 1-based, in bytes
};

class SourceMap {
 public:
  // `text` must be JSON (comments allowed) that nlohmann::json accepted.
  static SourceMap scan(std::string_view text);

  // The position of the value at `pointer` (or of its key, for object members);
  // falls back to the nearest enclosing value that is known.
  SourcePosition find(std::string_view pointer) const;

  // Object keys written twice in one object: JSON allows it, authors never mean it.
  struct DuplicateKey {
    std::string pointer;  // of the second occurrence
    SourcePosition position;
  };
  const std::vector<DuplicateKey>& duplicate_keys() const { return duplicates_; }

  static SourcePosition position_of_offset(std::string_view text, std::size_t offset);

 private:
  std::unordered_map<std::string, SourcePosition> positions_;
  std::vector<DuplicateKey> duplicates_;
};

}  // namespace trellis::engine
