#pragma once
// One real `trellis serve` child for tests (tests/server/crash_test.cpp,
// tests/telegram/telegram_process_test.cpp): its database, web root and log in
// the test's folder, the destructor kills it.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "child_process.hpp"

namespace trellis::test_support {

struct ServerProcessOptions {
  std::filesystem::path binary;   // the trellis executable
  std::filesystem::path dialogs;  // --dialogs
  std::filesystem::path folder;   // trellis.db, web/ and server.log live here
  // Added to the environment after the defaults (input rate limits opened up for
  // test clients, a 5 s shutdown grace).
  std::vector<std::string> environment;
};

// GET /healthz answers 200 within `timeout`.
bool answers_healthz(std::uint16_t port, std::chrono::milliseconds timeout);

class ServerProcess {
 public:
  explicit ServerProcess(ServerProcessOptions options) : options_(std::move(options)) {}

  // Spawns the server on `port` and waits for /healthz. False if it exited
  // (the port was taken, say) or did not become healthy in time; it is not running then.
  bool start(std::uint16_t port);
  // Starts on a free port, trying a few in case one is taken between picking and binding.
  bool start_anywhere();
  // Starts again on the same port (the clients know only that one).
  bool restart();
  void kill_now() { process_.kill_now(); }
  std::optional<int> terminate(std::chrono::milliseconds timeout) { return process_.terminate(timeout); }

  std::uint16_t port() const { return port_; }
  std::string ws_url() const { return "ws://127.0.0.1:" + std::to_string(port_) + "/ws"; }
  int starts() const { return starts_; }
  std::filesystem::path log_file() const { return options_.folder / "server.log"; }

 private:
  ServerProcessOptions options_;
  ChildProcess process_;
  std::uint16_t port_ = 0;
  int starts_ = 0;
};

}  // namespace trellis::test_support
