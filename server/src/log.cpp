#include "log.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace trellis::server::log {

namespace {
std::atomic<int> g_min_level{static_cast<int>(Level::Info)};  // set once at start-up
std::mutex g_write_mutex;

std::string_view level_name(Level level) {
  switch (level) {
    case Level::Debug: return "debug";
    case Level::Info: return "info";
    case Level::Warn: return "warn";
    case Level::Error: return "error";
  }
  return "info";
}
}  // namespace

void set_min_level(Level level) { g_min_level = static_cast<int>(level); }

bool enabled(Level level) { return static_cast<int>(level) >= g_min_level.load(std::memory_order_relaxed); }

std::optional<Level> parse_level(std::string_view name) {
  for (Level level : {Level::Debug, Level::Info, Level::Warn, Level::Error}) {
    if (name == level_name(level)) return level;
  }
  return std::nullopt;
}

std::string sanitise(std::string_view value) {
  if (value.size() > 80) return "<redacted>";
  for (unsigned char c : value) {
    if (c <= ' ' || c == '"' || c >= 0x7f) return "<redacted>";
  }
  return std::string(value);
}

void write(Level level, std::string_view event, std::initializer_list<Field> fields) {
  if (!enabled(level)) return;
  auto now = std::chrono::system_clock::now();
  auto seconds = std::chrono::system_clock::to_time_t(now);
  auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char stamp[64];
  std::snprintf(stamp, sizeof stamp, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900, utc.tm_mon + 1,
                utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, static_cast<int>(millis));
  std::string line = "ts=" + std::string(stamp) + " level=" + std::string(level_name(level)) +
                     " event=" + sanitise(event);
  for (const auto& field : fields) {
    line += ' ';
    line += field.key;
    line += '=';
    line += sanitise(field.value);
  }
  line += '\n';
  std::lock_guard lock(g_write_mutex);
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace trellis::server::log
