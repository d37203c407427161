#pragma once
// One WebSocket client speaking protocol v1. Runs on its own strand: frames are
// handled one at a time, and while a turn is being committed no further frame is
// read, so a session's turns are applied strictly in order.
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "beast.hpp"
#include "protocol.hpp"
#include "rate_limiter.hpp"
#include "server_context.hpp"
#include "session_store.hpp"
#include "trellis/engine/session_state.hpp"
#include "trellis/engine/step.hpp"

namespace trellis::server {

// Close codes (docs/protocol.md).
inline constexpr std::uint16_t kCloseSuperseded = 4001;
inline constexpr std::uint16_t kCloseRateLimited = 4002;

class ChatConnection : public std::enable_shared_from_this<ChatConnection> {
 public:
  ChatConnection(TcpStream&& stream, ServerContext& context, std::string peer_address);
  ~ChatConnection();

  // Completes the WebSocket handshake for `upgrade` and starts reading.
  void run(http::request<http::string_body> upgrade);
  // Another connection took this session: finish the turn in flight, run
  // `released`, close with 4001. Safe from any thread.
  void supersede(std::function<void()> released);
  // Server shutdown: finish the turn in flight, then close with 1001. Safe from any thread.
  void shut_down();

 private:
  void on_accept(beast::error_code ec);
  void do_read();
  void on_read(beast::error_code ec, std::size_t bytes);
  void handle_frame(const std::string& frame);
  void on_hello(const protocol::Hello& hello);
  void start_new_session();
  void resume_session(const std::string& token, std::int64_t last_seen);
  void adopt_session(const StoredSession& stored, std::string token, std::string token_hash);
  void finish_resume(std::string token, std::int64_t last_seen);
  void on_turn(std::int64_t seq, const protocol::ClientMessage& message);
  void resend_turn(std::int64_t seq);
  void on_forget();
  void commit(std::int64_t seq, engine::StepResult result, std::shared_ptr<const engine::Flow> flow,
              std::chrono::steady_clock::time_point began);
  void turn_done();  // the frame in hand is handled: read the next, or close
  void report_new_safety_event(const engine::StepResult& result, const engine::Flow& flow, const std::string* text);

  void send(std::string frame);
  void hold_segments(std::size_t frames);  // the next `frames` sends leave together
  bool set_cork(bool on);
  void send_error(protocol::ErrorCode code, std::string message, std::optional<std::int64_t> seq = {});
  void do_write();
  void on_write(beast::error_code ec, std::size_t bytes);
  void close(std::uint16_t code, std::string reason);
  void on_close(beast::error_code ec);
  template <typename Handler>
  void post(Handler&& handler);

  websocket::stream<TcpStream> ws_;
  ServerContext& context_;
  std::string peer_;
  beast::flat_buffer buffer_;
  std::deque<std::string> outbox_;
  bool writing_ = false;
  bool corked_ = false;
  std::optional<websocket::close_reason> close_when_written_;
  bool closing_ = false;
  bool busy_ = false;  // a hello, turn or forget is in flight; nothing more is read
  bool superseded_ = false;
  std::function<void()> on_idle_;  // a superseder waiting for the turn in flight
  TokenBucket bucket_;
  int refused_in_a_row_ = 0;

  // The session this connection holds, once hello has succeeded.
  bool has_session_ = false;
  std::string token_hash_;
  std::int64_t session_id_ = 0;
  std::int64_t last_seq_ = 0;
  std::int64_t last_output_id_ = 0;
  std::optional<engine::SessionState> state_;
  std::shared_ptr<const engine::Flow> flow_;
};

}  // namespace trellis::server
