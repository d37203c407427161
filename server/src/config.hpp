#pragma once
// Server settings: defaults, then a JSON config file, then TRELLIS_* environment
// variables, then command-line flags (each overrides the one before).
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <tl/expected.hpp>

namespace trellis::server {

struct ServerConfig {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;
  int io_threads = 0;                                // 0: hardware concurrency
  std::filesystem::path dialogs = "dialogs";
  std::filesystem::path web_root = "clients/web";
  std::filesystem::path database = "data/trellis.db";
  std::size_t max_frame_bytes = 64 * 1024;
  std::size_t max_text_bytes = 4000;
  std::chrono::seconds handshake_timeout{10};
  std::chrono::seconds idle_timeout{120};            // no frames (pings count) for this long: close
  std::chrono::seconds session_ttl{7 * 24 * 3600};   // idle sessions are purged after this
  std::chrono::seconds purge_interval{60};
  double inputs_per_second = 5;                      // token bucket per connection
  double input_burst = 20;
  std::size_t max_connections = 20000;
  std::size_t max_connections_per_ip = 200;
  std::vector<std::string> allowed_origins;          // empty: same host only; "*": any
  std::chrono::milliseconds group_commit_window{0};  // extra wait to gather a batch
  std::chrono::seconds shutdown_grace{10};
  std::string log_level = "info";                    // debug adds one line per turn
  // Safety (docs/safety-alerts.md).
  std::string safety_region = "default";             // which crisis resources the safety layer offers
  bool safety_store_text = false;                    // keep (and send) the words that raised a safety event
  std::string alert_webhook_url;                     // empty: no webhook
  std::string alert_webhook_secret;                  // HMAC key; never logged
  int alert_max_attempts = 6;
  std::chrono::seconds alert_timeout{10};            // per attempt: connect, send, answer
};

// Parses a config file's JSON text; errors name the key and what was expected.
tl::expected<ServerConfig, std::string> apply_config_json(ServerConfig config, std::string_view json_text);
// Applies TRELLIS_HOST, TRELLIS_PORT, ... from `environment` (name -> value).
tl::expected<ServerConfig, std::string> apply_environment(ServerConfig config,
                                                          const std::map<std::string, std::string>& environment);
// Rules that tie settings together, checked once all sources are applied: a
// webhook URL needs a secret. Messages never include the secret.
tl::expected<void, std::string> check_settings_together(const ServerConfig& config);
// The documented keys, for `--help` and docs/operations.md.
std::string describe_settings();

}  // namespace trellis::server
