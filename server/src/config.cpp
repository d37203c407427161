#include "config.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <functional>
#include <optional>
#include <sstream>

#include <nlohmann/json.hpp>

#include "trellis/engine/suggest.hpp"

namespace trellis::server {
namespace {

using Json = nlohmann::json;

// What a setting holds decides how its value is checked and how an environment
// variable's text is read.
enum class Kind { Text, Integer, Number, Boolean, TextList };

// One documented setting. The config-file key, the environment variable, the
// checks and the docs table all come from this one row, so they cannot drift.
struct Setting {
  const char* key;
  Kind kind;
  double min = 0, max = 0;  // inclusive; Integer and Number only
  const char* meaning;
  std::function<Json(const ServerConfig&)> read;         // the current value, as JSON
  std::function<void(ServerConfig&, const Json&)> write;  // a value that passed check()
  bool may_be_empty = false;  // Text only: "" is a valid value (it turns something off)
  bool is_secret = false;     // its value never appears in a message
  std::vector<std::string> choices = {};  // Text only: when not empty, the value must be one of these
};

template <typename T>
Setting integer(const char* key, T ServerConfig::*member, double min, double max, const char* meaning) {
  return {key, Kind::Integer, min, max, meaning, [member](const ServerConfig& c) { return Json(c.*member); },
          [member](ServerConfig& c, const Json& v) { c.*member = static_cast<T>(v.get<std::int64_t>()); }};
}

template <typename Duration>
Setting duration(const char* key, Duration ServerConfig::*member, double min, double max, const char* meaning) {
  return {key, Kind::Integer, min, max, meaning,
          [member](const ServerConfig& c) { return Json((c.*member).count()); },
          [member](ServerConfig& c, const Json& v) { c.*member = Duration(v.get<std::int64_t>()); }};
}

Setting number(const char* key, double ServerConfig::*member, double min, double max, const char* meaning) {
  return {key, Kind::Number, min, max, meaning, [member](const ServerConfig& c) { return Json(c.*member); },
          [member](ServerConfig& c, const Json& v) { c.*member = v.get<double>(); }};
}

Setting text(const char* key, std::string ServerConfig::*member, const char* meaning) {
  return {key, Kind::Text, 0, 0, meaning, [member](const ServerConfig& c) { return Json(c.*member); },
          [member](ServerConfig& c, const Json& v) { c.*member = v.get<std::string>(); }};
}

Setting optional_text(const char* key, std::string ServerConfig::*member, const char* meaning, bool is_secret = false) {
  Setting setting = text(key, member, meaning);
  setting.may_be_empty = true;
  setting.is_secret = is_secret;
  return setting;
}

Setting boolean(const char* key, bool ServerConfig::*member, const char* meaning) {
  return {key, Kind::Boolean, 0, 0, meaning, [member](const ServerConfig& c) { return Json(c.*member); },
          [member](ServerConfig& c, const Json& v) { c.*member = v.get<bool>(); }};
}

Setting path(const char* key, std::filesystem::path ServerConfig::*member, const char* meaning) {
  return {key, Kind::Text, 0, 0, meaning, [member](const ServerConfig& c) { return Json((c.*member).string()); },
          [member](ServerConfig& c, const Json& v) { c.*member = v.get<std::string>(); }};
}

Setting choice(const char* key, std::string ServerConfig::*member, std::vector<std::string> choices,
               const char* meaning) {
  Setting setting = text(key, member, meaning);
  setting.choices = std::move(choices);
  return setting;
}

const std::vector<Setting>& settings() {
  static const std::vector<Setting> kSettings = {
      text("host", &ServerConfig::host, "Address to listen on; 0.0.0.0 for every interface."),
      integer("port", &ServerConfig::port, 0, 65535, "TCP port to listen on; 0 picks a free one."),
      integer("io_threads", &ServerConfig::io_threads, 0, 1024, "Threads running network I/O; 0 means one per CPU."),
      path("dialogs", &ServerConfig::dialogs, "Folder of flows to serve."),
      path("web_root", &ServerConfig::web_root, "Folder of static files served over HTTP, read once at start-up."),
      path("database", &ServerConfig::database, "SQLite file holding sessions; created if missing."),
      integer("max_frame_bytes", &ServerConfig::max_frame_bytes, 1024, 16 * 1024 * 1024,
              "Largest WebSocket message accepted."),
      integer("max_text_bytes", &ServerConfig::max_text_bytes, 1, 1024 * 1024,
              "Longest answer text accepted, in bytes."),
      duration("handshake_timeout_seconds", &ServerConfig::handshake_timeout, 1, 3600,
               "Time allowed for the HTTP request and WebSocket upgrade."),
      duration("idle_timeout_seconds", &ServerConfig::idle_timeout, 1, 86400,
               "A connection with no frames (pings count) for this long is closed."),
      duration("session_ttl_seconds", &ServerConfig::session_ttl, 60, 10 * 365 * 86400.0,
               "Sessions untouched for this long are deleted."),
      duration("purge_interval_seconds", &ServerConfig::purge_interval, 1, 86400,
               "How often expired sessions are looked for."),
      number("inputs_per_second", &ServerConfig::inputs_per_second, 0.01, 100000,
             "Steady rate of inputs allowed per connection."),
      number("input_burst", &ServerConfig::input_burst, 1, 10000,
             "Inputs a connection may send at once before the rate applies."),
      integer("max_connections", &ServerConfig::max_connections, 1, 1000000,
              "Open connections allowed in all; more are refused."),
      integer("max_connections_per_ip", &ServerConfig::max_connections_per_ip, 1, 1000000,
              "Open connections allowed from one address; more are refused."),
      {"allowed_origins", Kind::TextList, 0, 0,
       "Origins allowed to open a WebSocket; empty means the server's own host only, \"*\" any. "
       "The environment variable is comma-separated.",
       [](const ServerConfig& c) { return Json(c.allowed_origins); },
       [](ServerConfig& c, const Json& v) { c.allowed_origins = v.get<std::vector<std::string>>(); }},
      duration("group_commit_window_ms", &ServerConfig::group_commit_window, 0, 1000,
               "Extra wait to gather more turns into one commit; 0 commits as soon as possible."),
      duration("shutdown_grace_seconds", &ServerConfig::shutdown_grace, 0, 600,
               "On SIGTERM, time allowed for turns in flight before sockets close."),
      choice("log_level", &ServerConfig::log_level, {"debug", "info", "warn", "error"},
             "Least severe log lines written; debug adds one line per turn."),
      text("safety_region", &ServerConfig::safety_region,
           "Region whose crisis resources the safety layer offers."),
      boolean("safety_store_text", &ServerConfig::safety_store_text,
              "Keep the words that raised a safety event in the database and the alert; off keeps only the category."),
      optional_text("alert_webhook_url", &ServerConfig::alert_webhook_url,
                    "http:// or https:// URL that receives a signed POST for each safety event; empty turns alerts off."),
      optional_text("alert_webhook_secret", &ServerConfig::alert_webhook_secret,
                    "Shared secret for the alerts' HMAC-SHA256 signature; required with a webhook URL. Never logged.",
                    /*is_secret=*/true),
      integer("alert_max_attempts", &ServerConfig::alert_max_attempts, 1, 20,
              "Tries per alert, the first included, before it is given up."),
      duration("alert_timeout_seconds", &ServerConfig::alert_timeout, 1, 300,
               "Time allowed for one alert attempt: connect, send and answer."),
  };
  return kSettings;
}

std::string environment_name(const char* key) {
  std::string name = "TRELLIS_";
  for (const char* c = key; *c != '\0'; ++c) name += static_cast<char>(*c >= 'a' && *c <= 'z' ? *c - 'a' + 'A' : *c);
  return name;
}

std::string format_bound(const Setting& setting, double bound) {
  if (setting.kind == Kind::Integer) return std::to_string(static_cast<long long>(bound));
  std::ostringstream out;
  out << bound;
  return out.str();
}

std::string expectation(const Setting& setting) {
  switch (setting.kind) {
    case Kind::Text:
      if (!setting.choices.empty()) {
        std::string out = "one of";
        for (std::size_t i = 0; i < setting.choices.size(); ++i) {
          out += (i == 0 ? " " : i + 1 == setting.choices.size() ? " or " : ", ");
          out += setting.choices[i];
        }
        return out;
      }
      return setting.may_be_empty ? "a string" : "a non-empty string";
    case Kind::Boolean: return "true or false";
    case Kind::TextList: return "a list of non-empty strings";
    case Kind::Integer:
      return "an integer from " + format_bound(setting, setting.min) + " to " + format_bound(setting, setting.max);
    case Kind::Number:
      return "a number from " + format_bound(setting, setting.min) + " to " + format_bound(setting, setting.max);
  }
  return "";
}

// The offending value, shortened so one wrong value cannot flood the message.
std::string shown(const Json& value) {
  std::string text = value.dump();
  if (text.size() > 60) text = text.substr(0, 57) + "...";
  return text;
}

bool in_range(const Setting& setting, const Json& value) {
  // Unsigned values beyond 2^53 round, but every bound is far below that.
  const double v = value.get<double>();
  return std::isfinite(v) && v >= setting.min && v <= setting.max;
}

// "" when `value` suits `setting`, else what was wrong.
std::string check(const Setting& setting, const Json& value) {
  bool ok = false;
  switch (setting.kind) {
    case Kind::Text:
      ok = value.is_string() && (setting.may_be_empty || !value.get_ref<const std::string&>().empty());
      if (ok && !setting.choices.empty()) {
        ok = std::find(setting.choices.begin(), setting.choices.end(), value.get_ref<const std::string&>()) !=
             setting.choices.end();
      }
      break;
    case Kind::Boolean: ok = value.is_boolean(); break;
    case Kind::Integer: ok = value.is_number_integer() && in_range(setting, value); break;
    case Kind::Number: ok = value.is_number() && in_range(setting, value); break;
    case Kind::TextList:
      ok = value.is_array();
      for (const auto& item : value) ok = ok && item.is_string() && !item.get_ref<const std::string&>().empty();
      break;
  }
  if (ok) return "";
  return "expected " + expectation(setting) + ", got " + (setting.is_secret ? std::string("a hidden value") : shown(value));
}

// Reads an environment variable's text as the JSON value a config file would
// hold. Numbers must be the whole text ("8080", not "8080 " or "8080x").
std::optional<Json> from_environment(const Setting& setting, const std::string& text) {
  switch (setting.kind) {
    case Kind::Text: return Json(text);
    case Kind::Boolean:
      if (text == "true" || text == "1") return Json(true);
      if (text == "false" || text == "0") return Json(false);
      return std::nullopt;
    case Kind::Integer: {
      std::int64_t value = 0;
      const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
      if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
      return Json(value);
    }
    case Kind::Number: {
      double value = 0;
      const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
      if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
      return Json(value);
    }
    case Kind::TextList: {
      // "https://a.example, https://b.example": spaces around commas and empty
      // items are dropped, so an empty variable means an empty list.
      Json list = Json::array();
      std::size_t start = 0;
      while (start <= text.size()) {
        const std::size_t end = std::min(text.find(',', start), text.size());
        std::string item = text.substr(start, end - start);
        const auto first = item.find_first_not_of(" \t");
        const auto last = item.find_last_not_of(" \t");
        if (first != std::string::npos) list.push_back(item.substr(first, last - first + 1));
        start = end + 1;
      }
      return list;
    }
  }
  return std::nullopt;
}

std::string join_lines(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& line : lines) {
    if (!out.empty()) out += '\n';
    out += line;
  }
  return out;
}

}  // namespace

tl::expected<ServerConfig, std::string> apply_config_json(ServerConfig config, std::string_view json_text) {
  Json root;
  try {
    root = Json::parse(json_text, nullptr, /*allow_exceptions=*/true, /*ignore_comments=*/true);
  } catch (const Json::parse_error& error) {
    return tl::make_unexpected(std::string("not valid JSON: ") + error.what());
  }
  if (!root.is_object()) return tl::make_unexpected("expected a JSON object of settings, got " + shown(root));

  std::vector<std::string> keys;
  for (const auto& setting : settings()) keys.emplace_back(setting.key);
  // Every problem is reported at once, so an operator fixes the file in one pass.
  std::vector<std::string> errors;
  for (const auto& [key, value] : root.items()) {
    const Setting* setting = nullptr;
    for (const auto& candidate : settings()) {
      if (key == candidate.key) setting = &candidate;
    }
    if (setting == nullptr) {
      std::string hint = engine::did_you_mean(key, keys);
      // ServerConfig's members lack the unit ("idle_timeout"); the keys carry it.
      for (const char* unit : {"_seconds", "_ms"}) {
        if (hint.empty() && std::find(keys.begin(), keys.end(), key + unit) != keys.end()) {
          hint = "did you mean '" + key + unit + "'?";
        }
      }
      errors.push_back("unknown key \"" + key + "\"" + (hint.empty() ? "" : ": " + hint));
      continue;
    }
    if (auto problem = check(*setting, value); !problem.empty()) {
      errors.push_back("\"" + key + "\": " + problem);
      continue;
    }
    setting->write(config, value);
  }
  if (!errors.empty()) return tl::make_unexpected(join_lines(errors));
  return config;
}

tl::expected<ServerConfig, std::string> apply_environment(ServerConfig config,
                                                          const std::map<std::string, std::string>& environment) {
  // Only the documented names are read. Other TRELLIS_* variables are left
  // alone: tools around the server may use the prefix too.
  std::vector<std::string> errors;
  for (const auto& setting : settings()) {
    const std::string name = environment_name(setting.key);
    const auto found = environment.find(name);
    if (found == environment.end()) continue;
    const auto value = from_environment(setting, found->second);
    if (!value) {
      errors.push_back(name + ": expected " + expectation(setting) + ", got " +
                       (setting.is_secret ? std::string("a hidden value") : Json(found->second).dump()));
      continue;
    }
    if (auto problem = check(setting, *value); !problem.empty()) {
      errors.push_back(name + ": " + problem);
      continue;
    }
    setting.write(config, *value);
  }
  if (!errors.empty()) return tl::make_unexpected(join_lines(errors));
  return config;
}

tl::expected<void, std::string> check_settings_together(const ServerConfig& config) {
  if (!config.alert_webhook_url.empty() && config.alert_webhook_secret.empty()) {
    return tl::make_unexpected(
        "alert_webhook_url is set but alert_webhook_secret is empty: set TRELLIS_ALERT_WEBHOOK_SECRET "
        "(receivers check every alert's signature with it)");
  }
  return {};
}

std::string describe_settings() {
  const ServerConfig defaults;
  std::string out = "| key | environment | default | meaning |\n|---|---|---|---|\n";
  for (const auto& setting : settings()) {
    out += "| `";
    out += setting.key;
    out += "` | `" + environment_name(setting.key) + "` | `" + setting.read(defaults).dump() + "` | ";
    out += setting.meaning;
    out += " (" + expectation(setting) + ")";
    out += " |\n";
  }
  return out;
}

}  // namespace trellis::server
