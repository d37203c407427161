#pragma once
// A blocking WebSocket client for tests: connects to a server on loopback, sends
// frames and reads them back as JSON, with a deadline on every read.
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "beast.hpp"

namespace trellis::server::testing {

class TestClient {
 public:
  explicit TestClient(std::uint16_t port, std::string origin = "");
  ~TestClient();
  // Connects and completes the handshake within `timeout`; nullptr when the
  // server refuses, drops or does not answer in time (it may be restarting).
  static std::unique_ptr<TestClient> connect_within(std::uint16_t port, std::chrono::milliseconds timeout);

  void send(const nlohmann::json& frame);
  void send_text(const std::string& text);
  // The next frame, or nullopt if none arrives within `timeout` or the socket closed.
  std::optional<nlohmann::json> read(std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));
  // The same, as the exact text of the frame.
  std::optional<std::string> read_text(std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));
  // Reads frames until one has this type (returned); the others are kept in `skipped`.
  nlohmann::json read_until(const std::string& type, std::vector<nlohmann::json>* skipped = nullptr);
  // Reads every frame of one turn: frames until a prompt or end (inclusive), or an error.
  std::vector<nlohmann::json> read_turn();
  // The close code the server sent, once the connection has closed.
  std::optional<std::uint16_t> close_code() const { return close_code_; }
  bool is_open() const;
  void close();

 private:
  struct Unconnected {};
  explicit TestClient(Unconnected);

  asio::io_context io_;
  websocket::stream<beast::tcp_stream> ws_;
  beast::flat_buffer buffer_;
  std::optional<std::uint16_t> close_code_;
  // A read that timed out stays pending (cancelling would break the stream) and
  // is picked up by the next read().
  bool read_pending_ = false;
  beast::error_code read_result_;
public:
  beast::error_code last_error;
};

// Plain HTTP GET for tests: returns status and body.
struct HttpReply {
  int status = 0;
  std::string body;
  std::string content_type;
  std::string cache_control;
  std::string etag;
  std::string content_length;  // the header as sent; "" when absent
};
HttpReply http_get(std::uint16_t port, const std::string& target);
// GET or HEAD, with an If-None-Match header when `if_none_match` is not empty.
HttpReply http_request(std::uint16_t port, http::verb method, const std::string& target,
                       const std::string& if_none_match = "");

}  // namespace trellis::server::testing
