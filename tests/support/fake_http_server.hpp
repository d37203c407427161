#pragma once
// A fake HTTP service on 127.0.0.1 for tests that stand in for someone else's
// server (tests/server/fake_webhook.hpp, tests/telegram/fake_bot_api.hpp): one
// request per connection, each connection on its own thread, so a handler that
// blocks (a held call) does not stop the others from being answered.
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "beast.hpp"

namespace trellis::test_support {

class FakeHttpServer {
 public:
  using Request = server::http::request<server::http::string_body>;
  using Response = server::http::response<server::http::string_body>;
  // Called on the connection's thread, from the first connection on: whatever it
  // uses must exist before the server does. The response goes out with
  // Connection: close. std::nullopt is no answer at all: the connection is held
  // open until stop(), for a client that must hang in mid-request.
  using Handler = std::function<std::optional<Response>(const Request&)>;

  explicit FakeHttpServer(Handler handler);
  ~FakeHttpServer() { stop(); }
  FakeHttpServer(const FakeHttpServer&) = delete;
  FakeHttpServer& operator=(const FakeHttpServer&) = delete;

  std::uint16_t port() const { return port_; }
  // Stops accepting and joins every connection's thread. It waits for handlers to
  // return, so an owner whose handler can block on the owner's own state wakes it
  // first, then calls this before that state is destroyed.
  void stop();

 private:
  void accept_loop();
  void serve(server::tcp::socket socket);

  Handler handler_;
  server::asio::io_context io_;
  server::tcp::acceptor acceptor_;
  std::uint16_t port_ = 0;
  std::mutex mutex_;
  bool stopping_ = false;                  // guarded by mutex_
  std::vector<std::thread> connections_;   // guarded by mutex_
  std::vector<server::tcp::socket> held_;  // guarded by mutex_
  std::thread acceptor_thread_;
};

}  // namespace trellis::test_support
