#include "ws_session.hpp"

#include <algorithm>
#include <thread>

#include "beast.hpp"

namespace trellis::cli {

namespace asio = server::asio;
namespace beast = server::beast;
namespace websocket = server::websocket;
using server::tcp;
using nlohmann::json;

namespace {

constexpr std::uint16_t kCloseSuperseded = 4001;
constexpr std::uint16_t kCloseAbnormal = 1006;  // no close frame: the server just went away

std::string string_field(const json& frame, const char* name) {
  auto it = frame.find(name);
  return it != frame.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::optional<std::int64_t> int_field(const json& frame, const char* name) {
  auto it = frame.find(name);
  if (it == frame.end() || !it->is_number_integer()) return std::nullopt;
  return it->get<std::int64_t>();
}

bool is_output(std::string_view type) {
  return type == "message" || type == "prompt" || type == "pause" || type == "end" || type == "safety";
}

}  // namespace

tl::expected<WsUrl, std::string> parse_ws_url(std::string_view url) {
  constexpr std::string_view kScheme = "ws://";
  if (url.substr(0, 6) == "wss://") {
    return tl::unexpected(std::string("wss:// is not supported (no TLS in this client); use the server's ws:// address"));
  }
  if (url.substr(0, kScheme.size()) != kScheme) {
    return tl::unexpected(std::string("the URL must start with ws:// (like ws://127.0.0.1:8080/ws)"));
  }
  auto rest = url.substr(kScheme.size());
  auto slash = rest.find('/');
  auto authority = rest.substr(0, slash);
  WsUrl parsed;
  parsed.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  auto colon = authority.rfind(':');
  if (!authority.empty() && authority.front() == '[') {  // [::1]:8080
    auto close = authority.find(']');
    if (close == std::string_view::npos) return tl::unexpected(std::string("the URL's host has no closing ']'"));
    parsed.host = std::string(authority.substr(1, close - 1));
    colon = authority.find(':', close);
  } else {
    parsed.host = std::string(authority.substr(0, colon));
  }
  parsed.port = colon == std::string_view::npos ? "80" : std::string(authority.substr(colon + 1));
  if (parsed.host.empty()) return tl::unexpected(std::string("the URL has no host"));
  if (parsed.port.empty() || parsed.port.size() > 5 ||
      !std::all_of(parsed.port.begin(), parsed.port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return tl::unexpected(std::string("the URL's port must be a number"));
  }
  return parsed;
}

Backoff::Backoff(Milliseconds first, Milliseconds most, Milliseconds give_up_after)
    : first_(first), most_(most), give_up_after_(give_up_after), delay_(first) {}

std::optional<Milliseconds> Backoff::next(double jitter) {
  if (waited_ >= give_up_after_) return std::nullopt;
  jitter = std::clamp(jitter, 0.0, 1.0);
  auto wait = Milliseconds(static_cast<Milliseconds::rep>(static_cast<double>(delay_.count()) * (0.5 + 0.5 * jitter)));
  waited_ += wait;
  delay_ = std::min(delay_ * 2, most_);
  return wait;
}

void Backoff::reset() {
  delay_ = first_;
  waited_ = Milliseconds(0);
}

SessionCursor::Verdict SessionCursor::accept(const json& frame) {
  if (!frame.is_object()) return Verdict::Ignore;
  auto type = string_field(frame, "type");
  auto seq = int_field(frame, "seq");
  if (type == "error") {
    // A refused frame does not use up its seq: the next one goes out with the same.
    if (in_flight_ && (!seq || seq == int_field(*in_flight_, "seq"))) in_flight_.reset();
    return Verdict::Show;
  }
  auto id = int_field(frame, "id");
  if (!is_output(type)) return Verdict::Ignore;
  // A safety frame the store could not keep comes without an id: show it, count nothing.
  if (!id) return type == "safety" ? Verdict::Show : Verdict::Ignore;
  if (*id <= last_seen_) return Verdict::Duplicate;
  last_seen_ = *id;
  if (seq) last_seq_ = std::max(last_seq_, *seq);
  if ((type == "prompt" || type == "end") && in_flight_ && seq && *seq >= int_field(*in_flight_, "seq").value_or(0)) {
    in_flight_.reset();
  }
  return Verdict::Show;
}

bool SessionCursor::on_welcome(const json& welcome) {
  token_ = string_field(welcome, "session");
  last_seq_ = int_field(welcome, "last_seq").value_or(0);
  return in_flight_ && int_field(*in_flight_, "seq").value_or(0) > last_seq_;
}

void SessionCursor::on_send(const json& frame) { in_flight_ = frame; }

// ---------------------------------------------------------------------------

struct WsConnection::Impl {
  asio::io_context io;
  websocket::stream<beast::tcp_stream> ws{io};
  beast::flat_buffer buffer;
  bool read_pending = false;
  beast::error_code read_result;
  bool write_pending = false;
  beast::error_code write_result;
  std::string write_text;  // alive until the write completes

  // Runs handlers until `done` or the deadline; with no time left, only what is ready.
  template <class Done>
  void run_until(Done done, Milliseconds timeout) {
    io.restart();
    if (timeout <= Milliseconds(0)) {
      io.poll();
      return;
    }
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done() && io.run_one_until(deadline) > 0) {
    }
  }
};

WsConnection::WsConnection(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

WsConnection::~WsConnection() {
  beast::error_code ignored;
  beast::get_lowest_layer(impl_->ws).socket().close(ignored);
}

tl::expected<std::unique_ptr<WsConnection>, std::string> WsConnection::open(const WsUrl& url, Milliseconds timeout) {
  auto impl = std::make_unique<Impl>();
  tcp::resolver resolver(impl->io);
  beast::error_code ec;
  auto endpoints = resolver.resolve(url.host, url.port, ec);
  if (ec) return tl::unexpected("cannot find " + url.host + ": " + ec.message());

  auto& socket = beast::get_lowest_layer(impl->ws);
  bool done = false;
  socket.expires_after(timeout);
  socket.async_connect(endpoints, [&](beast::error_code result, const tcp::endpoint&) {
    ec = result;
    done = true;
  });
  impl->io.run();
  if (!done || ec) return tl::unexpected("cannot connect: " + ec.message());
  socket.expires_never();  // from here the websocket's own timeouts apply

  websocket::stream_base::timeout timeouts{};
  timeouts.handshake_timeout = timeout;
  timeouts.idle_timeout = websocket::stream_base::none();
  timeouts.keep_alive_pings = false;
  impl->ws.set_option(timeouts);
  impl->ws.set_option(websocket::stream_base::decorator([](websocket::request_type& request) {
    request.set(beast::http::field::user_agent, "trellis-connect/0.1");
  }));
  done = false;
  impl->io.restart();
  impl->ws.async_handshake(url.host + ":" + url.port, url.target, [&](beast::error_code result) {
    ec = result;
    done = true;
  });
  impl->io.run();
  if (!done || ec) return tl::unexpected("the WebSocket upgrade failed: " + ec.message());
  impl->ws.text(true);
  return std::unique_ptr<WsConnection>(new WsConnection(std::move(impl)));
}

bool WsConnection::send(const std::string& text, Milliseconds timeout) {
  if (close_code_ || impl_->write_pending) return false;
  impl_->write_text = text;
  impl_->write_pending = true;
  impl_->ws.async_write(asio::buffer(impl_->write_text), [impl = impl_.get()](beast::error_code ec, std::size_t) {
    impl->write_result = ec;
    impl->write_pending = false;
  });
  impl_->run_until([impl = impl_.get()] { return !impl->write_pending; }, timeout);
  return !impl_->write_pending && !impl_->write_result;
}

WsConnection::ReadStatus WsConnection::read(std::string& text, Milliseconds timeout) {
  if (close_code_) return ReadStatus::Closed;
  if (!impl_->read_pending) {
    impl_->read_pending = true;
    impl_->ws.async_read(impl_->buffer, [impl = impl_.get()](beast::error_code ec, std::size_t) {
      impl->read_result = ec;
      impl->read_pending = false;
    });
  }
  impl_->run_until([impl = impl_.get()] { return !impl->read_pending; }, timeout);
  if (impl_->read_pending) return ReadStatus::Timeout;
  if (impl_->read_result) {
    bool sent_close = impl_->read_result == websocket::error::closed || impl_->ws.reason().code != 0;
    close_code_ = sent_close ? static_cast<std::uint16_t>(impl_->ws.reason().code) : kCloseAbnormal;
    return ReadStatus::Closed;
  }
  text = beast::buffers_to_string(impl_->buffer.data());
  impl_->buffer.consume(impl_->buffer.size());
  return ReadStatus::Frame;
}

void WsConnection::close() {
  if (close_code_ || !impl_->ws.is_open()) return;
  bool done = false;
  impl_->ws.async_close(websocket::close_code::normal, [&done](beast::error_code) { done = true; });
  // The pending read, if any, sees the server's answering close frame and ends too.
  impl_->run_until([&done, impl = impl_.get()] { return done && !impl->read_pending; }, Milliseconds(1000));
  close_code_ = static_cast<std::uint16_t>(websocket::close_code::normal);
}

// ---------------------------------------------------------------------------

WsSession::WsSession(Options options) : options_(std::move(options)), random_(std::random_device{}()) {}

WsSession::~WsSession() = default;

tl::expected<std::unique_ptr<WsConnection>, std::string> WsSession::hello(std::optional<json>* welcome,
                                                                          bool resuming) {
  auto connection = WsConnection::open(options_.url, Milliseconds(5000));
  if (!connection) return connection;
  json hello{{"type", "hello"}, {"client", options_.client}};
  if (resuming) {
    hello["session"] = cursor_.token();
    hello["last_seen"] = cursor_.last_seen();
  }
  if (!(*connection)->send(hello.dump())) return tl::unexpected(std::string("the connection closed"));
  for (;;) {
    std::string text;
    auto status = (*connection)->read(text, Milliseconds(10000));
    if (status == WsConnection::ReadStatus::Timeout) return tl::unexpected(std::string("no welcome within 10 s"));
    if (status == WsConnection::ReadStatus::Closed) return tl::unexpected(std::string("the connection closed"));
    auto frame = json::parse(text, nullptr, false);
    auto type = frame.is_object() ? string_field(frame, "type") : std::string();
    if (type == "welcome") {
      *welcome = std::move(frame);
      return connection;
    }
    if (type == "error") {
      auto code = string_field(frame, "code");
      if (code == "session_not_found") fatal_ = true;
      return tl::unexpected(code + ": " + string_field(frame, "message"));
    }
  }
}

tl::expected<json, std::string> WsSession::open(std::optional<std::string> token, std::int64_t last_seen) {
  if (token) cursor_.resume_from(*token, last_seen);
  std::optional<json> welcome;
  auto connection = hello(&welcome, token.has_value());
  if (!connection) return tl::unexpected(connection.error());
  cursor_.on_welcome(*welcome);
  connection_ = std::move(*connection);
  return *welcome;
}

bool WsSession::reconnect(std::string& reason) {
  if (options_.on_reconnecting) options_.on_reconnecting();
  auto backoff = options_.backoff();
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::string last_problem = "the server did not answer";
  for (;;) {
    auto delay = backoff.next(unit(random_));
    if (!delay) {
      reason = "gave up reconnecting (" + last_problem + ")";
      return false;
    }
    if (options_.sleep) options_.sleep(*delay);
    else std::this_thread::sleep_for(*delay);
    std::optional<json> welcome;
    auto connection = hello(&welcome, true);
    if (!connection) {
      last_problem = connection.error();
      if (fatal_) {
        reason = connection.error();
        return false;
      }
      continue;
    }
    // The turn in flight never reached the store: send it again with the same seq.
    // (If it did, last_seq says so and its outputs are being re-sent already.)
    if (cursor_.on_welcome(*welcome) && !(*connection)->send(cursor_.in_flight()->dump())) continue;
    connection_ = std::move(*connection);
    if (options_.on_reconnected) options_.on_reconnected();
    return true;
  }
}

void WsSession::send(const json& frame) {
  // Frames that arrived while the person was typing come first: a superseded
  // error or an idle close must be known before this frame goes out.
  while (connection_ && !superseded_) {
    std::string text;
    auto status = connection_->read(text, Milliseconds(0));
    if (status == WsConnection::ReadStatus::Timeout) break;
    if (status == WsConnection::ReadStatus::Closed) {
      if (connection_->close_code() == kCloseSuperseded) superseded_ = true;
      else connection_.reset();
      break;
    }
    auto early = json::parse(text, nullptr, false);
    if (early.is_object() && string_field(early, "type") == "error" && string_field(early, "code") == "superseded") {
      superseded_ = true;
    } else {
      early_.push_back(std::move(early));
    }
  }
  cursor_.on_send(frame);
  if (superseded_ || !connection_) return;
  if (!connection_->send(frame.dump())) connection_.reset();
}

WsSession::Event WsSession::next(Milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (superseded_) {
      if (connection_) connection_->close();
      return {Event::Kind::Superseded, {}, "another connection took this session"};
    }
    json frame;
    if (!early_.empty()) {
      frame = std::move(early_.front());
      early_.pop_front();
    } else {
      if (fatal_) return {Event::Kind::Lost, {}, "the session is gone"};
      if (!connection_) {
        std::string reason;
        if (!reconnect(reason)) return {Event::Kind::Lost, {}, reason};
      }
      auto left = std::chrono::duration_cast<Milliseconds>(deadline - std::chrono::steady_clock::now());
      std::string text;
      auto status = connection_->read(text, std::max(left, Milliseconds(0)));
      if (status == WsConnection::ReadStatus::Timeout) return {Event::Kind::Quiet, {}, {}};
      if (status == WsConnection::ReadStatus::Closed) {
        if (connection_->close_code() == kCloseSuperseded) superseded_ = true;
        else connection_.reset();  // 1001 server going away, 4003 idle, or just gone: resume
        continue;
      }
      frame = json::parse(text, nullptr, false);
    }
    if (frame.is_object() && string_field(frame, "type") == "error" && string_field(frame, "code") == "superseded") {
      superseded_ = true;
      continue;
    }
    if (cursor_.accept(frame) == SessionCursor::Verdict::Show) return {Event::Kind::Frame, std::move(frame), {}};
  }
}

bool WsSession::forget(Milliseconds timeout) {
  if (!connection_) {
    std::string reason;
    if (!reconnect(reason)) return false;
  }
  if (!connection_->send(json{{"type", "forget"}}.dump())) return false;
  // The server deletes the session, then closes with 1000; an error frame means it did not.
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<Milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left <= Milliseconds(0)) return false;
    std::string text;
    auto status = connection_->read(text, left);
    if (status == WsConnection::ReadStatus::Timeout) return false;
    if (status == WsConnection::ReadStatus::Closed) {
      bool deleted = connection_->close_code() == static_cast<std::uint16_t>(websocket::close_code::normal);
      connection_.reset();
      fatal_ = true;  // the token is gone: never resume it
      return deleted;
    }
  }
}

void WsSession::close() {
  if (connection_) connection_->close();
  connection_.reset();
}

}  // namespace trellis::cli
