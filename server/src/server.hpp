#pragma once
// A whole `trellis serve`: flows loaded, store open, listening, and a graceful stop.
// Tests start one in-process on port 0; the CLI starts one and waits for a signal.
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <tl/expected.hpp>

#include "alert_webhook.hpp"
#include "beast.hpp"
#include "config.hpp"
#include "flow_catalog.hpp"
#include "server_context.hpp"
#include "session_store.hpp"

namespace trellis::server {

class Server {
 public:
  // Loads the flows (a broken flow is an error carrying every diagnostic) and opens the store.
  static tl::expected<std::unique_ptr<Server>, std::string> create(ServerConfig config);
  ~Server();

  // Binds, listens and starts the I/O threads. Returns at once.
  tl::expected<void, std::string> start();
  std::uint16_t port() const { return port_; }

  // SIGINT and SIGTERM begin a graceful stop.
  void stop_on_signals();
  // Stop accepting, let turns in flight finish, close every WebSocket with 1001,
  // flush the store. Safe from any thread; returns at once.
  void begin_stop();
  // Blocks until stopped, then closes the store. Returns the process exit code.
  int wait();

  ServerContext& context() { return *context_; }

 private:
  Server() = default;
  void do_accept();
  void on_accept(beast::error_code ec, TcpSocket socket);
  void schedule_purge();
  void check_drained(std::chrono::steady_clock::time_point deadline);

  std::unique_ptr<SessionStore> store_;
  std::unique_ptr<FlowCatalog> flows_;
  std::unique_ptr<ServerContext> context_;
  std::unique_ptr<AlertWebhook> alerts_;  // after context_: destroyed first, as it counts into its metrics
  std::unique_ptr<asio::io_context> io_;
  std::unique_ptr<tcp::acceptor> acceptor_;
  std::unique_ptr<asio::signal_set> signals_;
  std::unique_ptr<asio::steady_timer> purge_timer_;
  std::unique_ptr<asio::steady_timer> drain_timer_;
  std::vector<std::thread> threads_;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_begun_{false};
  bool waited_ = false;
};

}  // namespace trellis::server
