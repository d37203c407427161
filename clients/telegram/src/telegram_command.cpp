#include "telegram_command.hpp"

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include "alert_webhook.hpp"  // new_delivery_id: a random secret
#include "bridge.hpp"

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
  telegram->add_option("--listen", command.listen, "Webhook mode: where to listen (behind a TLS proxy)")
      ->type_name("ADDRESS:PORT")
      ->capture_default_str();
  telegram->add_option("--poll-timeout", command.poll_timeout, "Long-poll time in seconds (1-50)")
      ->check(CLI::Range(1, 50))
      ->capture_default_str();
  telegram->footer(R"(The bot token comes from $TRELLIS_TELEGRAM_TOKEN or --token-file; it is never printed.
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

}  // namespace

int run_telegram_command(const TelegramCommand& command) {
  BridgeOptions options;
  if (command.token_file) {
    std::ifstream file(*command.token_file);
    if (!file) {
      std::cerr << "trellis telegram: cannot read " << *command.token_file << "\n";
      return 2;
    }
    std::stringstream text;
    text << file.rdbuf();
    options.api.token = trim(text.str());
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
  options.log = [](const std::string& line) { std::cerr << "trellis telegram: " << line << "\n"; };
  if (command.webhook_url) {
    options.webhook_url = *command.webhook_url;
    // A fresh secret each run: setWebhook hands it to Telegram at every start.
    options.webhook_secret = server::new_delivery_id();
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
