#pragma once
// Structured log lines on stderr: `ts=... level=info event=turn session=12 ms=0.41`.
// Callers pass ids, codes and timings; by design there is no way to log free text
// a person typed: values are checked to be short tokens.
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace trellis::server::log {

enum class Level { Debug, Info, Warn, Error };

struct Field {
  std::string_view key;
  std::string value;
  Field(std::string_view k, std::string_view v) : key(k), value(v) {}
  Field(std::string_view k, const char* v) : key(k), value(v) {}
  Field(std::string_view k, const std::string& v) : key(k), value(v) {}
  template <typename Number, typename = std::enable_if_t<std::is_arithmetic_v<Number>>>
  Field(std::string_view k, Number v) : key(k), value(std::to_string(v)) {}
};

void write(Level level, std::string_view event, std::initializer_list<Field> fields = {});
// Whether a line at `level` would be written; check it before building costly fields.
bool enabled(Level level);
inline void debug(std::string_view event, std::initializer_list<Field> fields = {}) { write(Level::Debug, event, fields); }
inline void info(std::string_view event, std::initializer_list<Field> fields = {}) { write(Level::Info, event, fields); }
inline void warn(std::string_view event, std::initializer_list<Field> fields = {}) { write(Level::Warn, event, fields); }
inline void error(std::string_view event, std::initializer_list<Field> fields = {}) { write(Level::Error, event, fields); }

void set_min_level(Level level);
// "debug", "info", "warn" or "error"; nullopt for anything else.
std::optional<Level> parse_level(std::string_view name);

// What a value looks like after the safety check: values longer than 80 bytes or
// with spaces or control characters are replaced, so a stray message can't leak.
std::string sanitise(std::string_view value);

}  // namespace trellis::server::log
