#include "telegram_command.hpp"

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include "bridge.hpp"
#include "webhook_secret.hpp"

namespace trellis::telegram {

CLI::App* add_telegram_command(CLI::App& app, TelegramCommand& command) {
  auto* telegram = app.add_subcommand("telegram", "Connect a Telegram bot to a running trellis serve");
  telegram->add_option("--server", command.server, "The server's WebSocket address")
      ->type_name("ws://HOST:PORT/ws")
      ->capture_default_str();
  telegram->add_option("--database", command.database, "The bridge's own SQLite file (sessions and progress)")
      ->type_name("FILE")
      ->capture_default_str();
  telegram->add_option("--token-file", command.token_file,
                       "Read the bot token from this file (default: $TRELLIS_TELEGRAM_TOKEN)")
      ->type_name("FILE");
  telegram->add_option("--api-base", command.api_base, "The Bot API's address (http:// for tests)")
      ->type_name("URL")
      ->capture_default_str();
  telegram->add_option("--webhook-url", command.webhook_url,
                       "Webhook mode: the public https address Telegram posts updates to (default: long polling)")
      ->type_name("URL");
  telegram->add_option("--webhook-secret-file", command.webhook_secret_file,
                       "Webhook mode: read the secret_token from this file (default: "
                       "$TRELLIS_TELEGRAM_WEBHOOK_SECRET, else one made once and kept in --database)")
      ->type_name("FILE");
  telegram->add_option("--listen", command.listen, "Webhook mode: where to listen (behind a TLS proxy)")
      ->type_name("ADDRESS:PORT")
      ->capture_default_str();
  telegram->add_option("--poll-timeout", command.poll_timeout, "Long-poll time in seconds (1-50)")
      ->check(CLI::Range(1, 50))
      ->capture_default_str();
  // Hidden, for tests: shrinks every wait (a flow's pauses, the rate limits, the backoffs) by this factor.
  telegram->add_option("--time-scale", command.time_scale)->check(CLI::Range(0.0001, 1.0))->group("");
  telegram->footer(R"(The bot token comes from $TRELLIS_TELEGRAM_TOKEN or --token-file; it is never printed.
Webhook mode's secret comes from $TRELLIS_TELEGRAM_WEBHOOK_SECRET or --webhook-secret-file
(1-256 of A-Z a-z 0-9 _ -); without either, one is made once and kept in --database.
Examples:
  TRELLIS_TELEGRAM_TOKEN=123:ABC trellis telegram --server ws://127.0.0.1:8080/ws
  trellis telegram --token-file /run/secrets/bot --webhook-url https://bot.example.org/telegram)");
  return telegram;
}

namespace {

std::string trim(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
  while (!text.empty() && text.front() == ' ') text.erase(0, 1);
  return text;
}

// The contents of `file`, trimmed; nullopt when it cannot be read.
std::optional<std::string> read_secret_file(const std::string& file) {
  std::ifstream in(file);
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  return trim(text.str());
}

}  // namespace

int run_telegram_command(const TelegramCommand& command) {
  BridgeOptions options;
  if (command.token_file) {
    auto token = read_secret_file(*command.token_file);
    if (!token) {
      std::cerr << "trellis telegram: cannot read " << *command.token_file << "\n";
      return 2;
    }
    options.api.token = *token;
  } else if (const char* token = std::getenv("TRELLIS_TELEGRAM_TOKEN")) {
    options.api.token = trim(token);
  }
  if (options.api.token.empty()) {
    std::cerr << "trellis telegram: no bot token; set TRELLIS_TELEGRAM_TOKEN or pass --token-file\n";
    return 2;
  }
  options.api.api_base = command.api_base;
  options.server_url = command.server;
  options.database = command.database;
  options.poll_timeout_seconds = command.poll_timeout;
  options.api.pacer.scale = command.time_scale;
  options.log = [](const std::string& line) { std::cerr << "trellis telegram: " << line << "\n"; };
  if (command.webhook_url) {
    options.webhook_url = *command.webhook_url;
    // Given, or else (left empty) the one the bridge made once and keeps in its database.
    if (command.webhook_secret_file) {
      auto secret = read_secret_file(*command.webhook_secret_file);
      if (!secret) {
        std::cerr << "trellis telegram: cannot read " << *command.webhook_secret_file << "\n";
        return 2;
      }
      options.webhook_secret = *secret;
    } else if (const char* secret = std::getenv("TRELLIS_TELEGRAM_WEBHOOK_SECRET")) {
      options.webhook_secret = trim(secret);
    }
    if ((command.webhook_secret_file || std::getenv("TRELLIS_TELEGRAM_WEBHOOK_SECRET")) &&
        !is_valid_webhook_secret(options.webhook_secret)) {
      std::cerr << "trellis telegram: the webhook secret must be 1-256 characters of A-Z, a-z, 0-9, _ and -\n";
      return 2;
    }
    auto colon = command.listen.rfind(':');
    if (colon == std::string::npos) {
      std::cerr << "trellis telegram: --listen must be ADDRESS:PORT\n";
      return 2;
    }
    options.listen_address = command.listen.substr(0, colon);
    options.listen_port = static_cast<std::uint16_t>(std::stoi(command.listen.substr(colon + 1)));
  }

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // before any thread starts, so they all inherit it

  auto bridge = Bridge::create(std::move(options));
  if (!bridge) {
    std::cerr << "trellis telegram: " << bridge.error() << "\n";
    return 2;
  }
  if (auto started = (*bridge)->start(); !started) {
    std::cerr << "trellis telegram: " << started.error() << "\n";
    return 1;
  }
  std::cerr << "trellis telegram: running (" << (command.webhook_url ? "webhook" : "long polling")
            << "); Ctrl-C stops\n";
  int signal = 0;
  sigwait(&signals, &signal);
  std::cerr << "trellis telegram: stopping\n";
  (*bridge)->stop();
  return 0;
}

}  // namespace trellis::telegram
