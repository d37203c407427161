#pragma once
// A protocol v1 client session (docs/protocol.md) over one WebSocket at a time:
// hello and welcome, seq and output ids, and resuming after the connection drops.
// The bookkeeping (SessionCursor) and the retry schedule (Backoff) are pure; only
// WsConnection and WsSession touch the network.
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>
#include <tl/expected.hpp>

namespace trellis::cli {

using Milliseconds = std::chrono::milliseconds;

// "ws://host:port/path". No wss:// (this client has no TLS): put it behind a
// tunnel, or connect to the server's plain port.
struct WsUrl {
  std::string host;
  std::string port;    // "80" when the URL has none
  std::string target;  // "/ws"
};
tl::expected<WsUrl, std::string> parse_ws_url(std::string_view url);

// When to try again after the connection dropped: `first`, doubling up to `most`,
// each delay drawn from [delay/2, delay] so that many clients do not retry in step,
// until the delays add up to more than `give_up_after`.
class Backoff {
 public:
  Backoff(Milliseconds first = Milliseconds(200), Milliseconds most = Milliseconds(5000),
          Milliseconds give_up_after = Milliseconds(60000));
  // The next wait; nullopt once the retries have used up `give_up_after`. `jitter` in [0, 1].
  std::optional<Milliseconds> next(double jitter);
  void reset();

 private:
  Milliseconds first_, most_, give_up_after_;
  Milliseconds delay_, waited_{0};
};

// What a client must remember to resume and to never show an output twice:
// the token, the highest output id received (last_seen), the session's last
// applied seq, and the one turn in flight. No I/O.
class SessionCursor {
 public:
  enum class Verdict {
    Show,       // a new output, or an error: show it
    Duplicate,  // an output already shown (id ≤ last_seen): drop it
    Ignore,     // welcome, or a type this client does not know
  };
  // Updates the cursor from one server frame and says what to do with it.
  Verdict accept(const nlohmann::json& frame);
  // After (re)connecting: the session's token and last_seq. True when the turn in
  // flight did not arrive (its seq is above last_seq) and must be sent again, same seq.
  bool on_welcome(const nlohmann::json& welcome);
  // A turn frame (start, input, command) about to be sent; it stays in flight until
  // its prompt, end or error arrives.
  void on_send(const nlohmann::json& frame);

  std::int64_t next_seq() const { return last_seq_ + 1; }
  std::int64_t last_seen() const { return last_seen_; }
  std::int64_t last_seq() const { return last_seq_; }
  const std::string& token() const { return token_; }
  const std::optional<nlohmann::json>& in_flight() const { return in_flight_; }
  bool has_turn_in_flight() const { return in_flight_.has_value(); }

  void resume_from(std::string token, std::int64_t last_seen) {
    token_ = std::move(token);
    last_seen_ = last_seen;
  }

 private:
  std::string token_;
  std::int64_t last_seen_ = 0;
  std::int64_t last_seq_ = 0;
  std::optional<nlohmann::json> in_flight_;
};

// One WebSocket connection, blocking with deadlines. Not thread-safe.
class WsConnection {
 public:
  static tl::expected<std::unique_ptr<WsConnection>, std::string> open(const WsUrl& url, Milliseconds timeout);
  ~WsConnection();

  // False when the connection is broken.
  bool send(const std::string& text, Milliseconds timeout = Milliseconds(5000));
  enum class ReadStatus { Frame, Timeout, Closed };
  // A read that times out stays pending and is picked up by the next read.
  ReadStatus read(std::string& text, Milliseconds timeout);
  // The close code the server sent, once closed (1006 when it just went away).
  std::optional<std::uint16_t> close_code() const { return close_code_; }
  void close();

 private:
  struct Impl;
  explicit WsConnection(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  std::optional<std::uint16_t> close_code_;
};

// The protocol client: says hello, keeps the SessionCursor, and when the
// connection drops reconnects (with Backoff), resumes with hello{session,
// last_seen} and re-sends the turn in flight with the same seq.
class WsSession {
 public:
  struct Options {
    WsUrl url;
    std::string client = "trellis-connect/0.1";
    std::function<Backoff()> backoff = [] { return Backoff(); };
    std::function<void(Milliseconds)> sleep;  // null: std::this_thread::sleep_for
    std::function<void()> on_reconnecting;    // the connection dropped; retrying
    std::function<void()> on_reconnected;
  };
  explicit WsSession(Options options);
  ~WsSession();

  // Connects and says hello: a new session without `token`, else resumes it
  // with `last_seen`. Returns the welcome frame, or what went wrong (including
  // an error frame's code and message).
  tl::expected<nlohmann::json, std::string> open(std::optional<std::string> token, std::int64_t last_seen);

  // Sends a turn frame (start, input, command; its seq from cursor().next_seq()).
  // A broken connection is found and mended by the next next().
  void send(const nlohmann::json& frame);

  struct Event {
    enum class Kind {
      Frame,       // `frame` is a new output (safety included) or an error, to show
      Quiet,       // nothing arrived within the timeout
      Superseded,  // another connection took the session (error superseded or close 4001)
      Lost,        // could not reconnect (`reason`); give up
    };
    Kind kind = Kind::Quiet;
    nlohmann::json frame;
    std::string reason;
  };
  // The next frame worth showing. Duplicates are dropped here; drops are mended here.
  Event next(Milliseconds timeout);
  // Sends `forget` and waits for the server to close with 1000: true when the session
  // is deleted. The session cannot be used afterwards.
  bool forget(Milliseconds timeout = Milliseconds(5000));
  void close();

  const SessionCursor& cursor() const { return cursor_; }

 private:
  tl::expected<std::unique_ptr<WsConnection>, std::string> hello(std::optional<nlohmann::json>* welcome,
                                                                 bool resuming);
  bool reconnect(std::string& reason);

  Options options_;
  SessionCursor cursor_;
  std::unique_ptr<WsConnection> connection_;
  std::mt19937_64 random_;
  bool fatal_ = false;       // session_not_found on resume: reconnecting cannot help
  bool superseded_ = false;  // another connection took the session: never reconnect
  std::deque<nlohmann::json> early_;  // frames read before a send, not yet handed out
};

}  // namespace trellis::cli
