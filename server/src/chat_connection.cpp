#include "chat_connection.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <typeinfo>

#include "log.hpp"
#include "safety_events.hpp"
#include "session_token.hpp"
#include "trellis/engine/compile.hpp"

namespace trellis::server {

namespace {
constexpr int kRefusalsBeforeClose = 50;  // sustained flooding after repeated rate_limited errors

double seconds_since(std::chrono::steady_clock::time_point began) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
}
}  // namespace

ChatConnection::ChatConnection(TcpStream&& stream, ServerContext& context, std::string peer_address)
    : ws_(std::move(stream)),
      context_(context),
      peer_(std::move(peer_address)),
      bucket_(context.config.inputs_per_second, context.config.input_burst, std::chrono::steady_clock::now()) {
  ++context_.metrics.open_connections;
}

ChatConnection::~ChatConnection() {
  --context_.metrics.open_connections;
  if (has_session_) {
    context_.hub.release(token_hash_, this);
    --context_.metrics.live_sessions;
  }
  context_.hub.remove(this);
  context_.limiter.release(peer_);
}

template <typename Handler>
void ChatConnection::post(Handler&& handler) {
  asio::post(ws_.get_executor(), [self = shared_from_this(), handler = std::forward<Handler>(handler)]() mutable {
    handler();
  });
}

void ChatConnection::run(http::request<http::string_body> upgrade) {
  context_.hub.add(shared_from_this());
  websocket::stream_base::timeout timeouts{};
  timeouts.handshake_timeout = context_.config.handshake_timeout;
  timeouts.idle_timeout = context_.config.idle_timeout;
  timeouts.keep_alive_pings = true;  // a ping at half the idle time keeps a quiet but live client
  ws_.set_option(timeouts);
  ws_.set_option(websocket::stream_base::decorator(
      [](websocket::response_type& response) { response.set(http::field::server, "trellis"); }));
  ws_.read_message_max(context_.config.max_frame_bytes);
  ws_.async_accept(upgrade, beast::bind_front_handler(&ChatConnection::on_accept, shared_from_this()));
}

void ChatConnection::on_accept(beast::error_code ec) {
  if (ec) return;  // the client went away during the handshake
  do_read();
}

void ChatConnection::do_read() {
  if (closing_ || busy_) return;
  ws_.async_read(buffer_, beast::bind_front_handler(&ChatConnection::on_read, shared_from_this()));
}

void ChatConnection::on_read(beast::error_code ec, std::size_t) {
  if (ec == websocket::error::closed) return;  // the person left: not a failure
  if (ec == websocket::error::message_too_big) {
    context_.metrics.errors_by_code.add("too_large");
    log::info("frame_too_large", {{"session", session_id_}});
    return;  // Beast has already closed the connection with 1009
  }
  if (ec) return;
  if (!ws_.got_text()) {
    buffer_.consume(buffer_.size());
    send_error(protocol::ErrorCode::BadJson, "frames must be text frames holding JSON");
    return do_read();
  }
  std::string frame = beast::buffers_to_string(buffer_.data());
  buffer_.consume(buffer_.size());
  try {
    handle_frame(frame);
  } catch (const std::exception& error) {
    // A bug must cost one frame, not the server: say so, keep the session.
    log::error("frame_failed", {{"session", session_id_}, {"what", log::sanitise(typeid(error).name())}});
    busy_ = false;
    send_error(protocol::ErrorCode::Internal, "the server could not handle that frame; nothing was applied");
    do_read();
  }
}

void ChatConnection::handle_frame(const std::string& frame) {
  protocol::Limits limits;
  limits.max_text_bytes = context_.config.max_text_bytes;
  auto parsed = protocol::parse_client_frame(frame, limits);
  if (auto* error = std::get_if<protocol::Error>(&parsed)) {
    send_error(error->code, error->message, error->seq);
    return do_read();
  }
  auto& message = std::get<protocol::ClientMessage>(parsed);
  if (const auto* hello = std::get_if<protocol::Hello>(&message)) return on_hello(*hello);
  if (!has_session_) {
    send_error(protocol::ErrorCode::HelloRequired, "send {\"type\":\"hello\"} first");
    return do_read();
  }
  if (std::holds_alternative<protocol::Forget>(message)) return on_forget();
  if (!bucket_.try_take(std::chrono::steady_clock::now())) {
    if (++refused_in_a_row_ >= kRefusalsBeforeClose) {
      log::warn("flooding", {{"session", session_id_}});
      return close(kCloseRateLimited, "rate limited");
    }
    std::optional<std::int64_t> seq;
    std::visit([&](const auto& m) {
      if constexpr (requires { m.seq; }) seq = m.seq;
    }, message);
    send_error(protocol::ErrorCode::RateLimited, "too many messages; wait a moment and send again", seq);
    return do_read();
  }
  refused_in_a_row_ = 0;
  std::int64_t seq = std::visit([](const auto& m) -> std::int64_t {
    if constexpr (requires { m.seq; }) return m.seq;
    else return 0;
  }, message);
  on_turn(seq, message);
}

void ChatConnection::on_hello(const protocol::Hello& hello) {
  if (has_session_) {
    send_error(protocol::ErrorCode::BadMessage, "this connection already has a session; hello is sent once");
    return do_read();
  }
  busy_ = true;
  if (hello.session) return resume_session(*hello.session, hello.last_seen.value_or(0));
  start_new_session();
}

void ChatConnection::start_new_session() {
  auto token = new_session_token();
  auto token_hash = hash_token(token);
  context_.store.create_session(token_hash, Clock::now(), [self = shared_from_this(), token, token_hash](StoreResult<StoredSession> created) mutable {
    self->post([self, created = std::move(created), token = std::move(token), token_hash = std::move(token_hash)]() mutable {
      if (!created) {
        log::error("store_failed", {{"op", "create_session"}});
        self->send_error(protocol::ErrorCode::Internal, "could not start a session just now; please try again");
        self->busy_ = false;
        return self->turn_done();
      }
      self->context_.hub.take_over(token_hash, self, [] {});
      self->adopt_session(*created, token, token_hash);
      ++self->context_.metrics.sessions_created;
      self->send(protocol::welcome_frame(token, false, self->last_seq_, self->context_.flows.listings()));
      log::info("session_started", {{"session", self->session_id_}});
      self->busy_ = false;
      self->turn_done();
    });
  });
}

void ChatConnection::resume_session(const std::string& token, std::int64_t last_seen) {
  if (!looks_like_token(token)) {
    send_error(protocol::ErrorCode::SessionNotFound, "no session has this token; send hello without a session to start a new one");
    busy_ = false;
    return turn_done();
  }
  auto token_hash = hash_token(token);
  // Take the session from any connection holding it first, so that its turn in
  // flight is committed before this connection reads the session back.
  context_.hub.take_over(token_hash, shared_from_this(), [self = shared_from_this(), token, token_hash, last_seen] {
    self->context_.store.load_session(token_hash, [self, token, token_hash, last_seen](StoreResult<std::optional<StoredSession>> loaded) {
      self->post([self, loaded = std::move(loaded), token, token_hash, last_seen]() mutable {
        if (!loaded || !*loaded) {
          self->context_.hub.release(token_hash, self.get());
          if (!loaded) log::error("store_failed", {{"op", "load_session"}});
          self->send_error(loaded ? protocol::ErrorCode::SessionNotFound : protocol::ErrorCode::Internal,
                           loaded ? "no session has this token (it may have expired or been forgotten); send hello without a session to start a new one"
                                  : "could not load the session just now; please try again");
          self->busy_ = false;
          return self->turn_done();
        }
        self->adopt_session(**loaded, token, token_hash);
        ++self->context_.metrics.sessions_resumed;
        if (self->state_ && !self->flow_) {
          // The session runs an older version of its flow: fetch the text kept for it.
          auto flow_id = self->state_->flow_id;
          auto version = self->state_->flow_version;
          self->context_.store.load_flow_version(flow_id, version, [self, token, last_seen](StoreResult<std::optional<std::string>> text) {
            self->post([self, text = std::move(text), token, last_seen]() mutable {
              if (text && *text) self->flow_ = self->context_.flows.add_version(**text);
              if (!self->flow_) log::warn("flow_version_missing", {{"session", self->session_id_}});
              self->finish_resume(token, last_seen);
            });
          });
          return;
        }
        self->finish_resume(token, last_seen);
      });
    });
  });
}

void ChatConnection::adopt_session(const StoredSession& stored, std::string token, std::string token_hash) {
  (void)token;
  has_session_ = true;
  ++context_.metrics.live_sessions;
  token_hash_ = std::move(token_hash);
  session_id_ = stored.id;
  last_seq_ = stored.last_seq;
  last_output_id_ = stored.last_output_id;
  state_.reset();
  flow_.reset();
  if (!stored.state_json.empty()) {
    auto json = nlohmann::json::parse(stored.state_json, nullptr, false);
    auto state = engine::session_state_from_json(json);
    if (state) {
      state_ = std::move(*state);
      flow_ = context_.flows.find(state_->flow_id, state_->flow_version);
    } else {
      log::error("state_unreadable", {{"session", session_id_}});
    }
  }
}

void ChatConnection::finish_resume(std::string token, std::int64_t last_seen) {
  send(protocol::welcome_frame(token, true, last_seq_, context_.flows.listings()));
  context_.store.outputs_after(session_id_, last_seen, [self = shared_from_this()](StoreResult<std::vector<StoredOutput>> missed) {
    self->post([self, missed = std::move(missed)] {
      if (!missed) {
        log::error("store_failed", {{"op", "outputs_after"}});
        self->send_error(protocol::ErrorCode::Internal, "could not re-send earlier messages; reconnect to try again");
      } else {
        self->hold_segments(missed->size());
        for (const auto& output : *missed) self->send(output.frame);
      }
      log::info("session_resumed", {{"session", self->session_id_}, {"replayed", missed ? missed->size() : 0}});
      self->busy_ = false;
      self->turn_done();
    });
  });
}

void ChatConnection::on_turn(std::int64_t seq, const protocol::ClientMessage& message) {
  auto began = std::chrono::steady_clock::now();
  if (seq <= last_seq_) return resend_turn(seq);
  if (seq != last_seq_ + 1) {
    send_error(protocol::ErrorCode::SeqOutOfOrder,
               "expected seq " + std::to_string(last_seq_ + 1) + ", got " + std::to_string(seq), seq);
    return do_read();
  }
  std::shared_ptr<const engine::Flow> flow = flow_;
  engine::StepResult result;
  if (const auto* start = std::get_if<protocol::Start>(&message)) {
    flow = context_.flows.current(start->flow);
    if (!flow) {
      send_error(protocol::ErrorCode::UnknownFlow, "there is no flow with id '" + log::sanitise(start->flow) + "'", seq);
      return do_read();
    }
    auto fresh = engine::new_session(*flow);
    fresh.region = context_.config.safety_region;
    result = engine::step(*flow, *context_.safety, fresh, engine::StartEvent{});
  } else {
    if (!state_ || !flow_) {
      send_error(protocol::ErrorCode::NoActiveFlow, "no flow is running; send {\"type\":\"start\",\"flow\":ID} first", seq);
      return do_read();
    }
    engine::Event event = std::holds_alternative<protocol::Input>(message)
                              ? protocol::to_event(std::get<protocol::Input>(message))
                              : protocol::to_event(std::get<protocol::Command>(message));
    result = engine::step(*flow_, *context_.safety, *state_, event);
    if (result.outcome == engine::Outcome::UnknownChoice) {
      send_error(protocol::ErrorCode::BadChoice, "that choice is not offered by the current question", seq);
      return do_read();
    }
    const auto* typed = std::get_if<engine::TextEvent>(&event);
    report_new_safety_event(result, *flow_, typed ? &typed->text : nullptr);
  }
  commit(seq, std::move(result), std::move(flow), began);
}

void ChatConnection::report_new_safety_event(const engine::StepResult& result, const engine::Flow& flow,
                                             const std::string* text) {
  if (result.outcome != engine::Outcome::Safety) return;
  for (const auto& output : result.outputs) {
    const auto* safety = std::get_if<engine::SafetyOutput>(&output);
    // Only a fresh detection is an event; choosing "talk" or "continue" is not.
    if (safety == nullptr || result.matched != "safety:" + safety->category) continue;
    report_safety_event(context_, session_id_, safety->category, flow.info.id, safety->node, text);
    // Which detector found it tells counselors how much the classifier adds to the rules.
    if (result.safety_detector) {
      context_.metrics.safety_events_by_detector.add(std::string(engine::name_of(*result.safety_detector)));
    }
  }
}

void ChatConnection::commit(std::int64_t seq, engine::StepResult result, std::shared_ptr<const engine::Flow> flow,
                            std::chrono::steady_clock::time_point began) {
  TurnRecord turn;
  turn.session_id = session_id_;
  turn.seq = seq;
  turn.state_json = engine::to_json_text(result.state);
  turn.flow_id = flow->info.id;
  turn.at = Clock::now();
  auto frames = protocol::output_frames(result.outputs, last_output_id_ + 1, seq);
  for (std::size_t i = 0; i < frames.size(); ++i) {
    turn.outputs.push_back(StoredOutput{last_output_id_ + 1 + static_cast<std::int64_t>(i), seq, std::move(frames[i])});
  }
  busy_ = true;
  auto outcome = engine::to_string(result.outcome);
  auto committing = std::chrono::steady_clock::now();
  auto state = std::make_shared<engine::SessionState>(std::move(result.state));
  // The safety response must reach the person even when the store is down: keep
  // it ready to send without an id (it is not durable, so it must not take one).
  auto emergency = std::make_shared<std::vector<std::string>>();
  for (const auto& output : result.outputs) {
    if (!std::holds_alternative<engine::SafetyOutput>(output)) continue;
    auto frame = nlohmann::json::parse(protocol::output_frames({output}, 0, seq).front());
    frame.erase("id");
    emergency->push_back(frame.dump());
  }
  // The callback runs once: it moves what it captured on to the I/O thread.
  context_.store.commit_turn(std::move(turn), [self = shared_from_this(), seq, state = std::move(state), emergency = std::move(emergency), flow = std::move(flow), began, committing, outcome](StoreResult<TurnRecord> committed) mutable {
    self->context_.metrics.commit_seconds.observe(seconds_since(committing));
    auto connection = self;
    // mutable: the committed turn's frames are moved into the outbox, not copied.
    connection->post([self = std::move(self), committed = std::move(committed), seq, state = std::move(state), emergency = std::move(emergency), flow = std::move(flow), began, outcome]() mutable {
      self->busy_ = false;
      if (!committed) {
        // Nothing was applied: the same seq can be sent again.
        log::error("commit_failed", {{"session", self->session_id_}, {"seq", seq}});
        for (auto& frame : *emergency) self->send(std::move(frame));
        self->send_error(protocol::ErrorCode::Internal, "could not save this turn; please send it again", seq);
        return self->turn_done();
      }
      ++self->context_.metrics.commits;
      self->state_ = std::move(*state);
      self->flow_ = flow;
      self->last_seq_ = seq;
      auto& outputs = committed->outputs;
      if (!outputs.empty()) self->last_output_id_ = outputs.back().id;
      // Durable first, then sent: every frame below is already on disk.
      self->hold_segments(outputs.size());
      for (auto& output : outputs) self->send(std::move(output.frame));
      double seconds = seconds_since(began);
      self->context_.metrics.turn_seconds.observe(seconds);
      self->context_.metrics.turns_by_flow.add(flow->info.id);
      if (log::enabled(log::Level::Debug)) {
        log::debug("turn", {{"session", self->session_id_}, {"seq", seq}, {"flow", flow->info.id},
                            {"outcome", std::string(outcome)}, {"us", static_cast<long long>(seconds * 1e6)}});
      }
      self->turn_done();
    });
  });
}

void ChatConnection::resend_turn(std::int64_t seq) {
  busy_ = true;
  context_.store.outputs_of_seq(session_id_, seq, [self = shared_from_this(), seq](StoreResult<std::vector<StoredOutput>> outputs) {
    self->post([self, outputs = std::move(outputs), seq] {
      self->busy_ = false;
      if (!outputs) {
        self->send_error(protocol::ErrorCode::Internal, "could not re-send that turn just now", seq);
      } else {
        self->hold_segments(outputs->size());
        for (const auto& output : *outputs) self->send(output.frame);
      }
      self->turn_done();
    });
  });
}

void ChatConnection::on_forget() {
  busy_ = true;
  context_.store.delete_session(session_id_, [self = shared_from_this()](StoreResult<void> deleted) {
    self->post([self, deleted = std::move(deleted)] {
      self->busy_ = false;
      if (!deleted) {
        log::error("store_failed", {{"op", "delete_session"}});
        self->send_error(protocol::ErrorCode::Internal, "could not forget the session just now; please try again");
        return self->turn_done();
      }
      ++self->context_.metrics.sessions_forgotten;
      log::info("session_forgotten", {{"session", self->session_id_}});
      self->context_.hub.release(self->token_hash_, self.get());
      self->has_session_ = false;
      --self->context_.metrics.live_sessions;
      self->state_.reset();
      self->close(static_cast<std::uint16_t>(websocket::close_code::normal), "forgotten");
    });
  });
}

void ChatConnection::turn_done() {
  if (on_idle_) {
    auto released = std::move(on_idle_);
    on_idle_ = nullptr;
    released();
  }
  if (superseded_) {
    send_error(protocol::ErrorCode::Superseded, "another connection has taken over this session");
    return close(kCloseSuperseded, "superseded");
  }
  if (context_.stopping) return close(static_cast<std::uint16_t>(websocket::close_code::going_away), "server shutting down");
  do_read();
}

void ChatConnection::supersede(std::function<void()> released) {
  post([self = shared_from_this(), released = std::move(released)]() mutable {
    self->superseded_ = true;
    if (self->busy_) {
      self->on_idle_ = std::move(released);  // turn_done() runs it after the commit
      return;
    }
    released();
    self->send_error(protocol::ErrorCode::Superseded, "another connection has taken over this session");
    self->close(kCloseSuperseded, "superseded");
  });
}

void ChatConnection::shut_down() {
  post([self = shared_from_this()] {
    if (self->busy_) return;  // turn_done() closes once the turn in flight is committed and sent
    self->close(static_cast<std::uint16_t>(websocket::close_code::going_away), "server shutting down");
  });
}

void ChatConnection::send_error(protocol::ErrorCode code, std::string message, std::optional<std::int64_t> seq) {
  context_.metrics.errors_by_code.add(std::string(protocol::to_string(code)));
  log::info("client_error", {{"session", session_id_}, {"code", std::string(protocol::to_string(code))}});
  send(protocol::error_frame(protocol::Error{code, std::move(message), seq}));
}

void ChatConnection::send(std::string frame) {
  if (closing_) return;
  outbox_.push_back(std::move(frame));
  if (!writing_) do_write();
}

// Frames written one by one with TCP_NODELAY would each go out as a segment of
// their own, and each segment costs the kernel a full transmit (on loopback, the
// receiver's side too): most of a turn's system time. Corked, the frames queue in
// the socket and leave together once the outbox drains.
void ChatConnection::hold_segments(std::size_t frames) {
  if (frames < 2 || corked_ || closing_) return;
  corked_ = set_cork(true);
}

bool ChatConnection::set_cork(bool on) {
  const int value = on ? 1 : 0;
  auto& socket = beast::get_lowest_layer(ws_).socket();
  return ::setsockopt(socket.native_handle(), IPPROTO_TCP, TCP_CORK, &value, sizeof value) == 0 && on;
}

void ChatConnection::do_write() {
  if (outbox_.empty()) {
    writing_ = false;
    if (corked_) corked_ = set_cork(false);
    if (close_when_written_) {
      auto reason = *close_when_written_;
      close_when_written_.reset();
      closing_ = true;
      ws_.async_close(reason, beast::bind_front_handler(&ChatConnection::on_close, shared_from_this()));
    }
    return;
  }
  writing_ = true;
  ws_.text(true);
  ws_.async_write(asio::buffer(outbox_.front()), beast::bind_front_handler(&ChatConnection::on_write, shared_from_this()));
}

void ChatConnection::on_write(beast::error_code ec, std::size_t) {
  if (ec) {
    writing_ = false;
    outbox_.clear();
    return;  // the connection is gone; the client resumes with last_seen
  }
  outbox_.pop_front();
  do_write();
}

void ChatConnection::close(std::uint16_t code, std::string reason) {
  if (closing_ || close_when_written_) return;
  close_when_written_ = websocket::close_reason(static_cast<websocket::close_code>(code), reason);
  if (!writing_) do_write();  // nothing queued: closes now
}

void ChatConnection::on_close(beast::error_code) {}

}  // namespace trellis::server
