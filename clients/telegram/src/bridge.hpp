#pragma once
// `trellis telegram`'s engine room: Telegram updates in, protocol v1 turns out
// to a running `trellis serve`, the server's outputs back as Bot API requests.
//
// - One Trellis session per private chat; its token and progress live in the
//   BridgeStore, so a restarted bridge resumes every conversation.
// - One worker thread and ordered queue per chat: a chat's updates are applied
//   in order, and a slow chat (a pause, a 429) never holds up another.
// - Updates are confirmed to Telegram (the getUpdates offset, or the webhook's
//   200) only once each has been handed to the server: the server has answered
//   its turn, so it is committed. Before a turn is sent, its frame and update_id
//   are saved; after a crash the frame is sent again with the same seq (the
//   server applies a seq once) and a re-delivered update is recognised by its
//   update_id. Nothing is lost and nothing is applied twice.
// - Server unreachable: the worker waits and reconnects, keeping the update.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>
#include <tl/expected.hpp>

#include "bot_api.hpp"

namespace trellis::telegram {

struct BridgeOptions {
  std::string server_url = "ws://127.0.0.1:8080/ws";
  std::filesystem::path database = "telegram.db";
  BotApiOptions api;  // its pacer scales every wait of the bridge too
  int poll_timeout_seconds = 30;
  // Webhook mode when webhook_url is set: setWebhook(webhook_url, secret_token =
  // webhook_secret) and an HTTP listener on listen_address:listen_port (put TLS
  // in front of it). Requests without the secret header get 403. An empty
  // webhook_secret means the one stored in the database, made (CSPRNG) on the
  // first start and kept, so it stays the same across restarts.
  std::string webhook_url;
  std::string webhook_secret;
  std::string listen_address = "127.0.0.1";
  std::uint16_t listen_port = 8081;  // 0: any free port (tests)
  // Events worth an operator's eye, one line each. Never a person's words or the token.
  std::function<void(const std::string&)> log;
};

class Bridge {
 public:
  static tl::expected<std::unique_ptr<Bridge>, std::string> create(BridgeOptions options);
  ~Bridge();  // stop()

  // Polling: deleteWebhook, then getUpdates in a thread. Webhook: listen, then
  // setWebhook. Either way, turns left in flight by a previous run are resent.
  tl::expected<void, std::string> start();
  // Stops taking updates, lets each chat finish the request in hand, joins every thread.
  // Updates not yet handed to the server stay unconfirmed, for the next run.
  void stop();

  std::uint16_t webhook_port() const;

  struct Impl;

 private:
  explicit Bridge(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace trellis::telegram
