#pragma once
// `trellis telegram`: connect a Telegram bot to a running `trellis serve` (docs/telegram.md).
#include <cstdint>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

namespace trellis::telegram {

struct TelegramCommand {
  std::string server = "ws://127.0.0.1:8080/ws";
  std::string database = "telegram.db";
  std::string api_base = "https://api.telegram.org";
  std::optional<std::string> token_file;
  std::optional<std::string> webhook_url;
  std::optional<std::string> webhook_secret_file;
  std::string listen = "127.0.0.1:8081";
  int poll_timeout = 30;
  double time_scale = 1.0;  // hidden, for tests: every wait (pauses, rate limits, backoff) times this
};

CLI::App* add_telegram_command(CLI::App& app, TelegramCommand& command);
int run_telegram_command(const TelegramCommand& command);

}  // namespace trellis::telegram
