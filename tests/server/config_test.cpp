#include "config.hpp"

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

namespace trellis::server {
namespace {

using namespace std::chrono_literals;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

TEST(ConfigFile, EmptyObjectKeepsTheDefaults) {
  const auto config = apply_config_json({}, "{}");
  ASSERT_TRUE(config.has_value()) << config.error();
  const ServerConfig defaults;
  EXPECT_EQ(config->host, defaults.host);
  EXPECT_EQ(config->port, defaults.port);
  EXPECT_EQ(config->session_ttl, defaults.session_ttl);
  EXPECT_EQ(config->allowed_origins, defaults.allowed_origins);
}

TEST(ConfigFile, SetsEveryKeyAndAllowsComments) {
  const auto config = apply_config_json({}, R"({
    // a comment on its own line
    "host": "0.0.0.0",
    "port": 9090,                       /* and a block comment */
    "io_threads": 4,
    "dialogs": "/srv/trellis/dialogs",
    "web_root": "/srv/trellis/web",
    "database": "/var/lib/trellis/trellis.db",
    "max_frame_bytes": 32768,
    "max_text_bytes": 2000,
    "handshake_timeout_seconds": 5,
    "idle_timeout_seconds": 300,
    "session_ttl_seconds": 86400,
    "purge_interval_seconds": 30,
    "inputs_per_second": 2.5,
    "input_burst": 10,
    "max_connections": 1000,
    "max_connections_per_ip": 50,
    "allowed_origins": ["https://example.org", "https://www.example.org"],
    "group_commit_window_ms": 2,
    "shutdown_grace_seconds": 20
  })");
  ASSERT_TRUE(config.has_value()) << config.error();
  EXPECT_EQ(config->host, "0.0.0.0");
  EXPECT_EQ(config->port, 9090);
  EXPECT_EQ(config->io_threads, 4);
  EXPECT_EQ(config->dialogs, "/srv/trellis/dialogs");
  EXPECT_EQ(config->web_root, "/srv/trellis/web");
  EXPECT_EQ(config->database, "/var/lib/trellis/trellis.db");
  EXPECT_EQ(config->max_frame_bytes, 32768u);
  EXPECT_EQ(config->max_text_bytes, 2000u);
  EXPECT_EQ(config->handshake_timeout, 5s);
  EXPECT_EQ(config->idle_timeout, 300s);
  EXPECT_EQ(config->session_ttl, 86400s);
  EXPECT_EQ(config->purge_interval, 30s);
  EXPECT_EQ(config->inputs_per_second, 2.5);
  EXPECT_EQ(config->input_burst, 10);
  EXPECT_EQ(config->max_connections, 1000u);
  EXPECT_EQ(config->max_connections_per_ip, 50u);
  EXPECT_EQ(config->allowed_origins, (std::vector<std::string>{"https://example.org", "https://www.example.org"}));
  EXPECT_EQ(config->group_commit_window, 2ms);
  EXPECT_EQ(config->shutdown_grace, 20s);
}

TEST(ConfigLogLevel, DefaultsToInfoAndComesFromTheFileOrTheEnvironment) {
  EXPECT_EQ(ServerConfig{}.log_level, "info");
  const auto from_file = apply_config_json({}, R"({"log_level": "debug"})");
  ASSERT_TRUE(from_file.has_value()) << from_file.error();
  EXPECT_EQ(from_file->log_level, "debug");
  const auto from_environment = apply_environment({}, {{"TRELLIS_LOG_LEVEL", "warn"}});
  ASSERT_TRUE(from_environment.has_value()) << from_environment.error();
  EXPECT_EQ(from_environment->log_level, "warn");
  const auto bad = apply_environment({}, {{"TRELLIS_LOG_LEVEL", "loud"}});
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error(), R"(TRELLIS_LOG_LEVEL: expected one of debug, info, warn or error, got "loud")");
}

TEST(ConfigFile, KeepsValuesTheFileDoesNotMention) {
  ServerConfig start;
  start.port = 1234;
  start.host = "::1";
  const auto config = apply_config_json(start, R"({"port": 4321})");
  ASSERT_TRUE(config.has_value()) << config.error();
  EXPECT_EQ(config->port, 4321);
  EXPECT_EQ(config->host, "::1");
}

TEST(ConfigFile, EachBadValueNamesTheKeyAndWhatWasExpected) {
  struct Row {
    const char* json;
    const char* error;
  };
  const Row rows[] = {
      {R"({"port": 70000})", R"("port": expected an integer from 0 to 65535, got 70000)"},
      {R"({"port": -1})", R"("port": expected an integer from 0 to 65535, got -1)"},
      {R"({"port": "8080"})", R"("port": expected an integer from 0 to 65535, got "8080")"},
      {R"({"port": 80.5})", R"("port": expected an integer from 0 to 65535, got 80.5)"},
      {R"({"port": true})", R"("port": expected an integer from 0 to 65535, got true)"},
      {R"({"host": ""})", R"("host": expected a non-empty string, got "")"},
      {R"({"host": 127})", R"("host": expected a non-empty string, got 127)"},
      {R"({"database": null})", R"("database": expected a non-empty string, got null)"},
      {R"({"max_frame_bytes": 10})", R"("max_frame_bytes": expected an integer from 1024 to 16777216, got 10)"},
      {R"({"idle_timeout_seconds": 0})", R"("idle_timeout_seconds": expected an integer from 1 to 86400, got 0)"},
      {R"({"session_ttl_seconds": 1e30})",
       R"("session_ttl_seconds": expected an integer from 60 to 315360000, got 1e+30)"},
      {R"({"inputs_per_second": 0})", R"("inputs_per_second": expected a number from 0.01 to 100000, got 0)"},
      {R"({"input_burst": "lots"})", R"("input_burst": expected a number from 1 to 10000, got "lots")"},
      {R"({"allowed_origins": "https://a.example"})",
       R"("allowed_origins": expected a list of non-empty strings, got "https://a.example")"},
      {R"({"allowed_origins": ["https://a.example", 3]})",
       R"("allowed_origins": expected a list of non-empty strings, got ["https://a.example",3])"},
      {R"({"group_commit_window_ms": 5000})", R"("group_commit_window_ms": expected an integer from 0 to 1000, got 5000)"},
      {R"({"shutdown_grace_seconds": -5})", R"("shutdown_grace_seconds": expected an integer from 0 to 600, got -5)"},
      {R"({"log_level": "verbose"})", R"("log_level": expected one of debug, info, warn or error, got "verbose")"},
      {R"({"log_level": ""})", R"("log_level": expected one of debug, info, warn or error, got "")"},
      {R"({"prot": 80})", R"(unknown key "prot": did you mean 'port'?)"},
      {R"({"idle_timeout": 60})", R"(unknown key "idle_timeout": did you mean 'idle_timeout_seconds'?)"},
      {R"({"colour": "blue"})", R"(unknown key "colour")"},
      {R"([1, 2])", R"(expected a JSON object of settings, got [1,2])"},
  };
  for (const auto& row : rows) {
    const auto config = apply_config_json({}, row.json);
    ASSERT_FALSE(config.has_value()) << row.json;
    EXPECT_EQ(config.error(), row.error) << row.json;
  }
}

TEST(ConfigFile, ReportsEveryErrorTogetherOnePerLine) {
  const auto config = apply_config_json({}, R"({"port": "x", "hots": "a", "input_burst": 0, "host": "ok"})");
  ASSERT_FALSE(config.has_value());
  const std::vector<std::string> expected = {
      R"(unknown key "hots": did you mean 'host'?)",
      R"("input_burst": expected a number from 1 to 10000, got 0)",
      R"("port": expected an integer from 0 to 65535, got "x")",
  };
  EXPECT_EQ(lines_of(config.error()), expected);
}

TEST(ConfigFile, MalformedJsonIsAnError) {
  const auto config = apply_config_json({}, R"({"port": 80,})");
  ASSERT_FALSE(config.has_value());
  EXPECT_EQ(config.error().rfind("not valid JSON: ", 0), 0u) << config.error();
}

TEST(ConfigEnvironment, SetsEachSetting) {
  const std::map<std::string, std::string> environment = {
      {"TRELLIS_HOST", "0.0.0.0"},
      {"TRELLIS_PORT", "9000"},
      {"TRELLIS_IO_THREADS", "2"},
      {"TRELLIS_DIALOGS", "/srv/dialogs"},
      {"TRELLIS_WEB_ROOT", "/srv/web"},
      {"TRELLIS_DATABASE", "/srv/data/t.db"},
      {"TRELLIS_MAX_FRAME_BYTES", "2048"},
      {"TRELLIS_MAX_TEXT_BYTES", "100"},
      {"TRELLIS_HANDSHAKE_TIMEOUT_SECONDS", "3"},
      {"TRELLIS_IDLE_TIMEOUT_SECONDS", "45"},
      {"TRELLIS_SESSION_TTL_SECONDS", "3600"},
      {"TRELLIS_PURGE_INTERVAL_SECONDS", "15"},
      {"TRELLIS_INPUTS_PER_SECOND", "0.5"},
      {"TRELLIS_INPUT_BURST", "3"},
      {"TRELLIS_MAX_CONNECTIONS", "10"},
      {"TRELLIS_MAX_CONNECTIONS_PER_IP", "2"},
      {"TRELLIS_ALLOWED_ORIGINS", "https://a.example, https://b.example,,"},
      {"TRELLIS_GROUP_COMMIT_WINDOW_MS", "1"},
      {"TRELLIS_SHUTDOWN_GRACE_SECONDS", "0"},
      {"TRELLIS_SOMETHING_ELSE", "ignored"},
      {"PATH", "/usr/bin"},
  };
  const auto config = apply_environment({}, environment);
  ASSERT_TRUE(config.has_value()) << config.error();
  EXPECT_EQ(config->host, "0.0.0.0");
  EXPECT_EQ(config->port, 9000);
  EXPECT_EQ(config->io_threads, 2);
  EXPECT_EQ(config->dialogs, "/srv/dialogs");
  EXPECT_EQ(config->web_root, "/srv/web");
  EXPECT_EQ(config->database, "/srv/data/t.db");
  EXPECT_EQ(config->max_frame_bytes, 2048u);
  EXPECT_EQ(config->max_text_bytes, 100u);
  EXPECT_EQ(config->handshake_timeout, 3s);
  EXPECT_EQ(config->idle_timeout, 45s);
  EXPECT_EQ(config->session_ttl, 3600s);
  EXPECT_EQ(config->purge_interval, 15s);
  EXPECT_EQ(config->inputs_per_second, 0.5);
  EXPECT_EQ(config->input_burst, 3);
  EXPECT_EQ(config->max_connections, 10u);
  EXPECT_EQ(config->max_connections_per_ip, 2u);
  EXPECT_EQ(config->allowed_origins, (std::vector<std::string>{"https://a.example", "https://b.example"}));
  EXPECT_EQ(config->group_commit_window, 1ms);
  EXPECT_EQ(config->shutdown_grace, 0s);
}

TEST(ConfigEnvironment, EmptyOriginsMeansSameHostOnly) {
  ServerConfig start;
  start.allowed_origins = {"*"};
  const auto config = apply_environment(start, {{"TRELLIS_ALLOWED_ORIGINS", ""}});
  ASSERT_TRUE(config.has_value()) << config.error();
  EXPECT_TRUE(config->allowed_origins.empty());
}

TEST(ConfigEnvironment, OverridesTheFile) {
  auto config = apply_config_json({}, R"({"port": 9090, "host": "0.0.0.0"})");
  ASSERT_TRUE(config.has_value());
  config = apply_environment(*config, {{"TRELLIS_PORT", "9191"}});
  ASSERT_TRUE(config.has_value()) << config.error();
  EXPECT_EQ(config->port, 9191);
  EXPECT_EQ(config->host, "0.0.0.0");
}

TEST(ConfigEnvironment, EachBadValueNamesTheVariable) {
  struct Row {
    const char* name;
    const char* value;
    const char* error;
  };
  const Row rows[] = {
      {"TRELLIS_PORT", "http", R"(TRELLIS_PORT: expected an integer from 0 to 65535, got "http")"},
      {"TRELLIS_PORT", "80 ", R"(TRELLIS_PORT: expected an integer from 0 to 65535, got "80 ")"},
      {"TRELLIS_PORT", "", R"(TRELLIS_PORT: expected an integer from 0 to 65535, got "")"},
      {"TRELLIS_PORT", "65536", "TRELLIS_PORT: expected an integer from 0 to 65535, got 65536"},
      {"TRELLIS_PORT", "99999999999999999999", R"(TRELLIS_PORT: expected an integer from 0 to 65535, got "99999999999999999999")"},
      {"TRELLIS_IO_THREADS", "-1", "TRELLIS_IO_THREADS: expected an integer from 0 to 1024, got -1"},
      {"TRELLIS_HOST", "", R"(TRELLIS_HOST: expected a non-empty string, got "")"},
      {"TRELLIS_MAX_FRAME_BYTES", "1.5", R"(TRELLIS_MAX_FRAME_BYTES: expected an integer from 1024 to 16777216, got "1.5")"},
      {"TRELLIS_INPUTS_PER_SECOND", "fast", R"(TRELLIS_INPUTS_PER_SECOND: expected a number from 0.01 to 100000, got "fast")"},
      {"TRELLIS_INPUTS_PER_SECOND", "nan", R"(TRELLIS_INPUTS_PER_SECOND: expected a number from 0.01 to 100000, got null)"},
      {"TRELLIS_SESSION_TTL_SECONDS", "5", "TRELLIS_SESSION_TTL_SECONDS: expected an integer from 60 to 315360000, got 5"},
  };
  for (const auto& row : rows) {
    const auto config = apply_environment({}, {{row.name, row.value}});
    ASSERT_FALSE(config.has_value()) << row.name << '=' << row.value;
    EXPECT_EQ(config.error(), row.error) << row.name << '=' << row.value;
  }
}

TEST(ConfigEnvironment, ReportsEveryErrorTogether) {
  const auto config = apply_environment({}, {{"TRELLIS_PORT", "x"}, {"TRELLIS_HOST", ""}, {"TRELLIS_DIALOGS", "ok"}});
  ASSERT_FALSE(config.has_value());
  EXPECT_EQ(lines_of(config.error()).size(), 2u) << config.error();
}

TEST(DescribeSettings, HasOneRowPerKeyWithItsVariableAndDefault) {
  const std::string table = describe_settings();
  const char* keys[] = {"host", "port", "io_threads", "dialogs", "web_root", "database", "max_frame_bytes",
                        "max_text_bytes", "handshake_timeout_seconds", "idle_timeout_seconds", "session_ttl_seconds",
                        "purge_interval_seconds", "inputs_per_second", "input_burst", "max_connections",
                        "max_connections_per_ip", "allowed_origins", "group_commit_window_ms",
                        "shutdown_grace_seconds", "log_level", "safety_region", "safety_store_text", "alert_webhook_url",
                        "alert_webhook_secret", "alert_max_attempts", "alert_timeout_seconds"};
  EXPECT_EQ(lines_of(table).size(), std::size(keys) + 2);  // header and separator
  EXPECT_NE(table.find("| `port` | `TRELLIS_PORT` | `8080` |"), std::string::npos) << table;
  EXPECT_NE(table.find("| `allowed_origins` | `TRELLIS_ALLOWED_ORIGINS` | `[]` |"), std::string::npos) << table;
  for (const char* key : keys) {
    EXPECT_NE(table.find(std::string("| `") + key + "` |"), std::string::npos) << key;
    // Every documented key is accepted by the file reader.
    const auto config = apply_config_json({}, std::string("{\"") + key + "\": null}");
    ASSERT_FALSE(config.has_value());
    EXPECT_EQ(config.error().find("unknown key"), std::string::npos) << config.error();
  }
}

TEST(ConfigAlerts, AWebhookUrlNeedsASecret) {
  ServerConfig config;
  EXPECT_TRUE(check_settings_together(config)) << "no webhook, no secret needed";
  config.alert_webhook_url = "https://alerts.example.org/trellis";
  const auto refused = check_settings_together(config);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().find("TRELLIS_ALERT_WEBHOOK_SECRET"), std::string::npos) << refused.error();
  config.alert_webhook_secret = "s3cret";
  EXPECT_TRUE(check_settings_together(config));
}

TEST(ConfigAlerts, SettingsComeFromTheEnvironmentAndTheSecretIsNeverShown) {
  const auto config = apply_environment({}, {{"TRELLIS_ALERT_WEBHOOK_URL", "http://127.0.0.1:9/a"},
                                             {"TRELLIS_ALERT_WEBHOOK_SECRET", "s3cret"},
                                             {"TRELLIS_SAFETY_STORE_TEXT", "true"},
                                             {"TRELLIS_SAFETY_REGION", "uk"},
                                             {"TRELLIS_ALERT_MAX_ATTEMPTS", "3"}});
  ASSERT_TRUE(config) << config.error();
  EXPECT_EQ(config->alert_webhook_url, "http://127.0.0.1:9/a");
  EXPECT_EQ(config->alert_webhook_secret, "s3cret");
  EXPECT_TRUE(config->safety_store_text);
  EXPECT_EQ(config->safety_region, "uk");
  EXPECT_EQ(config->alert_max_attempts, 3);

  const ServerConfig defaults;
  EXPECT_FALSE(defaults.safety_store_text);
  EXPECT_EQ(defaults.safety_region, "default");
  EXPECT_EQ(defaults.alert_max_attempts, 6);
  EXPECT_TRUE(defaults.alert_webhook_url.empty());

  const auto bad = apply_environment({}, {{"TRELLIS_SAFETY_STORE_TEXT", "yes"}});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error(), R"(TRELLIS_SAFETY_STORE_TEXT: expected true or false, got "yes")");
  const auto hidden = apply_config_json({}, R"({"alert_webhook_secret": ["s3cret-in-a-list"]})");
  ASSERT_FALSE(hidden);
  EXPECT_EQ(hidden.error(), R"("alert_webhook_secret": expected a string, got a hidden value)");
  EXPECT_EQ(describe_settings().find("s3cret"), std::string::npos);
  // An empty URL (alerts off) is a valid value, unlike an empty host.
  EXPECT_TRUE(apply_config_json({}, R"({"alert_webhook_url": "", "safety_store_text": false})"));
}

// docs/operations.md carries the table by hand; this keeps it from drifting.
TEST(DescribeSettings, EveryRowAppearsInTheOperationsGuide) {
  std::ifstream file(std::string(TRELLIS_SOURCE_DIR) + "/docs/operations.md");
  ASSERT_TRUE(file) << "docs/operations.md is missing";
  const std::string docs((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  for (const auto& row : lines_of(describe_settings())) {
    EXPECT_NE(docs.find(row), std::string::npos)
        << "docs/operations.md lacks this row of describe_settings(); paste the current table:\n" << row;
  }
}

}  // namespace
}  // namespace trellis::server
