#include "bridge.hpp"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <openssl/crypto.h>

#include "alert_webhook.hpp"  // parse_webhook_url
#include "beast.hpp"
#include "bridge_store.hpp"
#include "callback_data.hpp"
#include "output_renderer.hpp"
#include "update_action.hpp"
#include "webhook_secret.hpp"
#include "ws_session.hpp"

namespace trellis::telegram {

namespace asio = server::asio;
namespace beast = server::beast;
namespace http = server::http;
using server::tcp;
using nlohmann::json;
using Kind = UpdateAction::Kind;

namespace {

constexpr const char* kWelcome =
    "Hello. I guide short, private reflections: a few questions, answered with the buttons or in your own words. "
    "Choose one below to begin.";
constexpr const char* kHelp =
    "/start - choose a reflection\n/flows - the reflections I offer\n/help - this list (during a reflection: help "
    "with the current question)\n/pause - step away for a while\n/stop - end the current reflection\n/forget - delete "
    "this conversation, here and on the server\n\nAnswer with the buttons, or type your answer.";
constexpr const char* kOnlyText = "I can only read text messages here. Please type your answer.";
constexpr const char* kPrivateOnly =
    "I only hold conversations one to one. Please open a private chat with me and send /start there.";
constexpr const char* kNothingRunning = "Nothing is running just now. Send /start to choose a reflection.";
constexpr const char* kStaleToast = "That question has already passed. Please answer the latest one.";
const json kAllowedUpdates = json::array({"message", "edited_message", "callback_query", "my_chat_member"});

std::int64_t seq_of(const json& frame) {
  auto it = frame.find("seq");
  return it != frame.end() && it->is_number_integer() ? it->get<std::int64_t>() : 0;
}

bool is_server_command(const std::string& name) {
  return name == "help" || name == "pause" || name == "resume" || name == "restart" || name == "stop" ||
         name == "skip";
}

// Set once; the waiting side gives up when the bridge stops.
struct Handover {
  std::mutex mutex;
  std::condition_variable cv;
  bool done = false;
  void signal() {
    {
      std::lock_guard lock(mutex);
      done = true;
    }
    cv.notify_all();
  }
  bool wait(const std::atomic<bool>& stopping) {
    std::unique_lock lock(mutex);
    while (!done) {
      if (stopping) return false;
      cv.wait_for(lock, std::chrono::milliseconds(50));
    }
    return true;
  }
};

}  // namespace

class ChatWorker;

struct Bridge::Impl {
  BridgeOptions options;
  cli::WsUrl ws_url;
  std::unique_ptr<BotApi> api;
  std::unique_ptr<BridgeStore> store;
  std::atomic<bool> stopping{false};
  std::mutex workers_mutex;
  std::map<std::int64_t, std::unique_ptr<ChatWorker>> workers;
  std::thread poller;
  // Webhook mode.
  std::optional<asio::io_context> io;
  std::optional<tcp::acceptor> acceptor;
  std::string webhook_path;
  std::thread listener;
  std::mutex connections_mutex;
  std::vector<std::thread> connections;

  const Pacer& pacer() const { return options.api.pacer; }
  void log(const std::string& line) const {
    if (options.log) options.log(line);
  }
  ChatWorker& worker(std::int64_t chat_id);
  // Queues one update on its chat; the handover is signalled once it reached the server.
  std::shared_ptr<Handover> dispatch(const json& update);
  void poll();
  void listen();
  void serve_webhook(tcp::socket socket);
};

class ChatWorker {
 public:
  ChatWorker(Bridge::Impl& bridge, std::int64_t chat_id) : bridge_(bridge), chat_id_(chat_id) {
    record_ = bridge_.store->load(chat_id).value_or(ChatRecord{});
    record_.chat_id = chat_id;
    thread_ = std::thread([this] { run(); });
  }
  ~ChatWorker() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

  void push(UpdateAction action, std::shared_ptr<Handover> handover) {
    {
      std::lock_guard lock(mutex_);
      queue_.emplace_back(std::move(action), std::move(handover));
    }
    cv_.notify_all();
  }

 private:
  bool stopping() const { return bridge_.stopping || stopping_; }

  void run() {
    for (;;) {
      std::pair<UpdateAction, std::shared_ptr<Handover>> item;
      {
        std::unique_lock lock(mutex_);
        cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (stopping_) break;
        item = std::move(queue_.front());
        queue_.pop_front();
      }
      try {
        handle(item.first, *item.second);
      } catch (const std::exception& error) {
        // A broken invariant or a failed store: logged, and the update is let go
        // rather than holding up every chat's confirmations forever.
        bridge_.log("chat " + std::to_string(chat_id_) + ": " + error.what());
      }
      if (record_.blocked && session_) {
        session_->close();
        session_.reset();
      }
      // Stopping mid-way leaves the update unconfirmed, for the next run; otherwise it is done.
      if (!stopping()) item.second->signal();
    }
    if (session_) session_->close();
  }

  void save() { bridge_.store->save(record_); }

  // Sends one request; false when the chat is blocked (nothing more goes to it).
  bool deliver(const Step& step, BotReply* reply_out = nullptr) {
    if (step.kind == Step::Kind::Wait) {
      bridge_.pacer().wait(step.wait);
    } else {
      const bool counts = step.method == "sendMessage" || step.method == "sendChatAction";
      auto reply = bridge_.api->call(step.method, step.params, counts ? chat_id_ : 0, [this] { return !stopping(); });
      if (reply.outcome == BotReply::Outcome::Blocked) {
        block();
        return false;
      }
      if (reply.outcome == BotReply::Outcome::Failed) {
        bridge_.log("chat " + std::to_string(chat_id_) + ": " + step.method + " failed: " +
                    std::to_string(reply.error_code) + " " + reply.description);
      }
      if (reply.ok() && step.has_keyboard && reply.result.is_object()) {
        record_.keyboard_message_id = reply.result.value("message_id", std::int64_t{0});
      }
      if (reply_out) *reply_out = std::move(reply);
    }
    if (step.delivers > record_.last_seen) record_.last_seen = step.delivers;
    if (step.delivers > 0 || step.has_keyboard) save();
    return true;
  }

  bool deliver_all(const std::vector<Step>& steps) {
    for (const auto& step : steps) {
      if (record_.blocked || !deliver(step)) return false;
    }
    return true;
  }

  void say(const std::string& text, json keyboard = nullptr) { deliver(send_message(chat_id_, text, std::move(keyboard))); }

  void block() {
    // 403: the person blocked the bot. Their session ends here; nothing more is sent.
    bridge_.log("chat " + std::to_string(chat_id_) + ": blocked the bot; session closed");
    record_.blocked = true;
    record_.pending_frame.clear();
    save();
    // The connection is closed by run() once this update is done: callers up the stack still hold session_.
  }

  void show(OutputRenderer& renderer, const json& frame, bool live) {
    auto steps = renderer.render(frame, live);
    if (renderer.question_changed()) {
      const auto& question = renderer.question();
      record_.question_key = question ? question->key : "";
      record_.question_choices = question ? json(question->choice_ids).dump() : "[]";
    }
    if (!deliver_all(steps)) return;
    // A typed answer or an end leaves the last keyboard showing: the next
    // keyboard replaces it, so remove the old one as soon as a new one is sent.
  }

  void finish(OutputRenderer& renderer) {
    auto steps = renderer.flush();
    if (!record_.blocked) deliver_all(steps);
  }

  // Connects (or resumes) the chat's session; shows what the chat missed; resends
  // a turn that did not arrive. False while the server cannot be reached.
  bool open_session() {
    if (session_) return true;
    cli::WsSession::Options options;
    options.url = bridge_.ws_url;
    options.client = "telegram/0.1";
    const Pacer pacer = bridge_.pacer();
    options.backoff = [pacer] {
      return cli::Backoff(std::max(Milliseconds(1), pacer.scaled(Milliseconds(200))),
                          std::max(Milliseconds(1), pacer.scaled(Milliseconds(5000))),
                          std::max(Milliseconds(10), pacer.scaled(Milliseconds(60000))));
    };
    options.sleep = [](Milliseconds wait) { std::this_thread::sleep_for(wait); };
    auto session = std::make_unique<cli::WsSession>(options);
    std::optional<std::string> token;
    if (!record_.token.empty()) token = record_.token;
    auto welcome = session->open(token, record_.last_seen);
    if (!welcome && token && welcome.error().rfind("session_not_found", 0) == 0) {
      // Forgotten or expired on the server: begin again with a new session.
      bridge_.log("chat " + std::to_string(chat_id_) + ": session expired on the server; starting afresh");
      record_.token.clear();
      record_.last_seen = 0;
      record_.pending_frame.clear();
      record_.question_key.clear();
      record_.question_choices = "[]";
      session = std::make_unique<cli::WsSession>(options);
      welcome = session->open(std::nullopt, 0);
    }
    if (!welcome) return false;
    record_.token = session->cursor().token();
    flows_ = welcome->value("flows", json::array());
    save();
    session_ = std::move(session);
    if (welcome->value("resumed", false)) {
      // What the chat has not been shown yet (a crash between the server's answer and Telegram).
      OutputRenderer renderer(chat_id_);
      while (!record_.blocked) {
        auto event = session_->next(Milliseconds(300));
        if (event.kind != cli::WsSession::Event::Kind::Frame) break;
        show(renderer, event.frame, false);
      }
      finish(renderer);
    }
    if (!record_.pending_frame.empty() && !record_.blocked) {
      auto pending = json::parse(record_.pending_frame, nullptr, false);
      if (!pending.is_object() || seq_of(pending) <= session_->cursor().last_seq()) {
        record_.pending_frame.clear();  // it arrived; its outputs were among those just re-sent
        save();
      } else {
        session_->send(pending);  // same seq: applied once, however often it is sent
      }
    }
    return true;
  }

  bool wait_for_session() {
    int failures = 0;
    while (!open_session()) {
      if (stopping()) return false;
      if (failures++ == 0) bridge_.log("chat " + std::to_string(chat_id_) + ": server unreachable; waiting");
      bridge_.pacer().wait(server::backoff_delay(failures, Milliseconds(500), Milliseconds(30'000), 1.0));
      if (stopping()) return false;
    }
    return true;
  }

  // Reads the outputs of the turn in flight (record_.pending_frame) and shows them.
  void finish_turn(Handover* handover) {
    OutputRenderer renderer(chat_id_);
    bool has_output = false;
    auto last_frame = std::chrono::steady_clock::now();
    while (!record_.pending_frame.empty() && !stopping()) {
      auto event = session_->next(Milliseconds(200));
      using EventKind = cli::WsSession::Event::Kind;
      if (event.kind == EventKind::Frame) {
        if (handover) handover->signal();  // the server answered: the turn is committed
        has_output = true;
        last_frame = std::chrono::steady_clock::now();
        show(renderer, event.frame, true);
        if (record_.blocked) return;
        continue;
      }
      if (event.kind == EventKind::Quiet) {
        // A turn's outputs come together: done once the turn is answered and the line is quiet.
        if (has_output && (!session_->cursor().has_turn_in_flight() ||
                           std::chrono::steady_clock::now() - last_frame > Milliseconds(500))) {
          break;
        }
        continue;
      }
      if (event.kind == EventKind::Superseded) {
        bridge_.log("chat " + std::to_string(chat_id_) + ": another client took this session");
        session_.reset();
        break;
      }
      // Lost: the server stayed away longer than the session's backoff. Keep waiting.
      session_.reset();
      if (!wait_for_session()) return;
    }
    finish(renderer);
    if (stopping()) return;
    record_.pending_frame.clear();
    save();
  }

  void turn(json frame, const UpdateAction& action, Handover& handover) {
    if (!wait_for_session()) return;
    if (!record_.pending_frame.empty()) finish_turn(nullptr);  // an earlier turn resent by open_session
    if (record_.blocked || !session_) return;
    if (record_.keyboard_message_id != 0) {
      // The question is being answered (maybe by typing): its buttons go.
      deliver(remove_keyboard(chat_id_, record_.keyboard_message_id));
      record_.keyboard_message_id = 0;
    }
    frame["seq"] = session_->cursor().next_seq();
    record_.pending_frame = frame.dump();
    if (action.update_id > record_.last_update_id) record_.last_update_id = action.update_id;
    save();  // before sending: after a crash, this frame is resent and the update recognised
    session_->send(frame);
    finish_turn(&handover);
  }

  void answered(const UpdateAction& action, Handover& handover) {
    if (action.update_id > record_.last_update_id) record_.last_update_id = action.update_id;
    save();
    handover.signal();
  }

  void handle(const UpdateAction& action, Handover& handover) {
    if (action.update_id != 0 && action.update_id <= record_.last_update_id) {
      handover.signal();  // re-delivered after a crash: already handed to the server
      return;
    }
    if (!record_.pending_frame.empty() && !record_.blocked) {
      // A turn the previous run sent but never saw answered: resend it (same seq) first.
      if (!wait_for_session()) return;
      if (!record_.pending_frame.empty()) finish_turn(nullptr);
    }
    if (action.kind == Kind::Blocked) {
      block();
      return answered(action, handover);
    }
    if (record_.blocked) {
      record_.blocked = false;  // they unblocked the bot and wrote again
      save();
    }
    switch (action.kind) {
      case Kind::Ignore:
      case Kind::Blocked: return answered(action, handover);
      case Kind::GroupChat:
        if (!action.callback_query_id.empty()) deliver(answer_callback(action.callback_query_id));
        say(kPrivateOnly);
        return answered(action, handover);
      case Kind::NotText:
        say(kOnlyText);
        return answered(action, handover);
      case Kind::Text:
        if (record_.question_key.empty()) {
          say(kNothingRunning);
          return answered(action, handover);
        }
        return turn({{"type", "input"}, {"text", action.text}}, action, handover);
      case Kind::Command: return command(action, handover);
      case Kind::Press: return press(action, handover);
    }
  }

  void command(const UpdateAction& action, Handover& handover) {
    const auto& name = action.text;
    if (name == "start" || name == "flows") {
      if (!wait_for_session()) return;
      say(name == "start" ? kWelcome : "The reflections I offer:", flows_keyboard(flows_));
      return answered(action, handover);
    }
    if (name == "forget") {
      if (!record_.token.empty()) {
        if (!wait_for_session()) return;
        if (!session_->forget()) {
          say("I couldn't delete the conversation just now. Please send /forget again in a moment.");
          return answered(action, handover);
        }
      }
      session_.reset();
      if (record_.keyboard_message_id != 0) deliver(remove_keyboard(chat_id_, record_.keyboard_message_id));
      bridge_.store->erase(chat_id_);
      record_ = ChatRecord{};
      record_.chat_id = chat_id_;
      say("Done: this conversation is deleted, here and on the server. Send /start whenever you'd like to begin "
          "afresh.");
      return answered(action, handover);  // keeps only the update id, so a re-delivery is not applied again
    }
    if (is_server_command(name) && !record_.question_key.empty()) {
      return turn({{"type", "command"}, {"name", name}}, action, handover);
    }
    if (name == "help") say(kHelp);
    else if (is_server_command(name)) say(kNothingRunning);
    else say("I don't know that command. Send /help to see the ones I know.");
    answered(action, handover);
  }

  void press(const UpdateAction& action, Handover& handover) {
    auto data = decode_callback(action.data);
    const auto choices = json::parse(record_.question_choices, nullptr, false);
    bool is_current = data && data->kind != CallbackData::Kind::Flow && data->key == record_.question_key &&
                      !record_.question_key.empty();
    if (data && data->kind == CallbackData::Kind::Choice) {
      is_current = is_current && choices.is_array() && data->index < choices.size();
    }
    if (!data || (data->kind != CallbackData::Kind::Flow && !is_current)) {
      // Answer first, always: the person's app shows a spinner until we do.
      deliver(answer_callback(action.callback_query_id, kStaleToast));
      return answered(action, handover);
    }
    deliver(answer_callback(action.callback_query_id));
    deliver(remove_keyboard(chat_id_, action.message_id));
    if (action.message_id == record_.keyboard_message_id) record_.keyboard_message_id = 0;
    switch (data->kind) {
      case CallbackData::Kind::Flow:
        return turn({{"type", "start"}, {"flow", data->name}}, action, handover);
      case CallbackData::Kind::Choice:
        return turn({{"type", "input"}, {"choice", choices[data->index]}}, action, handover);
      case CallbackData::Kind::Command:
        return turn({{"type", "command"}, {"name", data->name}}, action, handover);
    }
  }

 public:
  // At start: a turn left in flight by the previous run.
  void resume_pending() {
    auto handover = std::make_shared<Handover>();
    UpdateAction resume;  // no update: handle() resends the pending turn, then ignores this
    {
      std::lock_guard lock(mutex_);
      queue_.emplace_front(resume, handover);
    }
    cv_.notify_all();
  }

 private:
  Bridge::Impl& bridge_;
  const std::int64_t chat_id_;
  ChatRecord record_;
  std::unique_ptr<cli::WsSession> session_;
  json flows_ = json::array();
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::pair<UpdateAction, std::shared_ptr<Handover>>> queue_;
  bool stopping_ = false;
  std::thread thread_;

  friend struct Bridge::Impl;
};

ChatWorker& Bridge::Impl::worker(std::int64_t chat_id) {
  std::lock_guard lock(workers_mutex);
  auto& slot = workers[chat_id];
  if (!slot) slot = std::make_unique<ChatWorker>(*this, chat_id);
  return *slot;
}

std::shared_ptr<Handover> Bridge::Impl::dispatch(const json& update) {
  auto handover = std::make_shared<Handover>();
  auto action = action_for_update(update);
  if (action.chat_id == 0) {
    handover->signal();
    return handover;
  }
  worker(action.chat_id).push(std::move(action), handover);
  return handover;
}

void Bridge::Impl::poll() {
  std::int64_t offset = store->offset();
  int failures = 0;
  while (!stopping) {
    json params{{"timeout", options.poll_timeout_seconds}, {"allowed_updates", kAllowedUpdates}};
    if (offset != 0) params["offset"] = offset;
    auto reply = api->call("getUpdates", params, 0, [this] { return !stopping; });
    if (stopping) break;
    if (!reply.ok() || !reply.result.is_array()) {
      if (failures++ == 0) log("getUpdates failed: " + std::to_string(reply.error_code) + " " + reply.description);
      pacer().wait(server::backoff_delay(failures, Milliseconds(1000), Milliseconds(30'000), 1.0));
      continue;
    }
    failures = 0;
    std::vector<std::shared_ptr<Handover>> handovers;
    std::int64_t highest = offset - 1;
    for (const auto& update : reply.result) {
      auto id = update.is_object() ? update.value("update_id", std::int64_t{0}) : 0;
      highest = std::max(highest, id);
      handovers.push_back(dispatch(update));
    }
    bool all_handed = true;
    for (auto& handover : handovers) all_handed = handover->wait(stopping) && all_handed;
    // Only now is the offset moved past them: the next getUpdates confirms them to Telegram.
    if (all_handed && highest + 1 > offset) {
      offset = highest + 1;
      store->set_offset(offset);
    }
  }
}

void Bridge::Impl::listen() {
  for (;;) {
    beast::error_code ec;
    tcp::socket socket(*io);
    acceptor->accept(socket, ec);
    if (stopping) return;
    if (ec) continue;
    std::lock_guard lock(connections_mutex);
    connections.emplace_back([this, s = std::move(socket)]() mutable { serve_webhook(std::move(s)); });
  }
}

void Bridge::Impl::serve_webhook(tcp::socket socket) {
  beast::error_code ec;
  beast::flat_buffer buffer;
  http::request_parser<http::string_body> parser;
  parser.body_limit(1 << 20);
  http::read(socket, buffer, parser, ec);
  if (ec) return;
  const auto& request = parser.get();
  auto respond = [&](http::status status, std::string body) {
    http::response<http::string_body> response{status, request.version()};
    response.set(http::field::content_type, "application/json");
    response.keep_alive(false);
    response.body() = std::move(body);
    response.prepare_payload();
    http::write(socket, response, ec);
    socket.shutdown(tcp::socket::shutdown_both, ec);
  };
  auto secret = request["X-Telegram-Bot-Api-Secret-Token"];
  const auto& expected = options.webhook_secret;
  const bool secret_ok = secret.size() == expected.size() &&
                         CRYPTO_memcmp(secret.data(), expected.data(), expected.size()) == 0;
  if (!secret_ok) return respond(http::status::forbidden, R"({"ok":false})");  // the body is not read into anything
  if (request.method() != http::verb::post || request.target() != webhook_path) {
    return respond(http::status::not_found, R"({"ok":false})");
  }
  auto update = json::parse(request.body(), nullptr, false);
  if (!update.is_object()) return respond(http::status::bad_request, R"({"ok":false})");
  // 200 only once the update reached the server; otherwise Telegram delivers it again.
  if (!dispatch(update)->wait(stopping)) return respond(http::status::service_unavailable, R"({"ok":false})");
  respond(http::status::ok, "{}");
}

Bridge::Bridge(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Bridge::~Bridge() { stop(); }

tl::expected<std::unique_ptr<Bridge>, std::string> Bridge::create(BridgeOptions options) {
  auto impl = std::make_unique<Impl>();
  auto url = cli::parse_ws_url(options.server_url);
  if (!url) return tl::unexpected("--server: " + url.error());
  impl->ws_url = *url;
  if (!options.webhook_url.empty()) {
    auto hook = server::parse_webhook_url(options.webhook_url);
    if (!hook) return tl::unexpected("--webhook-url: " + hook.error());
    impl->webhook_path = hook->target;
    // Never quote the secret back: an error message may end up in a log.
    if (!options.webhook_secret.empty() && !is_valid_webhook_secret(options.webhook_secret)) {
      return tl::unexpected(std::string("the webhook secret must be 1-256 characters of A-Z, a-z, 0-9, _ and -"));
    }
  }
  auto api = BotApi::create(options.api);
  if (!api) return tl::unexpected(api.error());
  impl->api = std::move(*api);
  auto store = BridgeStore::open(options.database);
  if (!store) return tl::unexpected(store.error());
  impl->store = std::move(*store);
  if (!options.webhook_url.empty() && options.webhook_secret.empty()) {
    // Made once and kept: the secret Telegram holds stays valid across restarts.
    try {
      options.webhook_secret = impl->store->webhook_secret_or(new_webhook_secret());
    } catch (const std::exception& error) {
      return tl::unexpected(std::string(error.what()));
    }
  }
  impl->options = std::move(options);
  return std::unique_ptr<Bridge>(new Bridge(std::move(impl)));
}

tl::expected<void, std::string> Bridge::start() {
  auto& impl = *impl_;
  for (const auto& record : impl.store->chats_with_pending_turns()) impl.worker(record.chat_id).resume_pending();
  if (impl.options.webhook_url.empty()) {
    // getUpdates answers 409 while a webhook is set.
    impl.api->call("deleteWebhook", {{"drop_pending_updates", false}});
    impl.poller = std::thread([&impl] { impl.poll(); });
    return {};
  }
  impl.io.emplace();
  beast::error_code ec;
  auto address = asio::ip::make_address(impl.options.listen_address, ec);
  if (ec) return tl::unexpected(std::string("--listen: not an IP address"));
  impl.acceptor.emplace(*impl.io);
  tcp::endpoint endpoint(address, impl.options.listen_port);
  impl.acceptor->open(endpoint.protocol(), ec);
  if (!ec) impl.acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl.acceptor->bind(endpoint, ec);
  if (!ec) impl.acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return tl::unexpected("cannot listen on " + impl.options.listen_address + ": " + ec.message());
  impl.listener = std::thread([&impl] { impl.listen(); });
  auto reply = impl.api->call("setWebhook", {{"url", impl.options.webhook_url},
                                             {"secret_token", impl.options.webhook_secret},
                                             {"allowed_updates", kAllowedUpdates},
                                             {"max_connections", 40}});
  if (!reply.ok()) {
    stop();
    return tl::unexpected("setWebhook failed: " + std::to_string(reply.error_code) + " " + reply.description);
  }
  return {};
}

void Bridge::stop() {
  auto& impl = *impl_;
  if (impl.stopping.exchange(true)) return;
  if (impl.acceptor) {
    beast::error_code ignored;
    tcp::socket wake(*impl.io);  // a blocking accept() returns only for a connection: make one
    wake.connect(impl.acceptor->local_endpoint(), ignored);
  }
  if (impl.listener.joinable()) impl.listener.join();
  if (impl.poller.joinable()) impl.poller.join();
  {
    std::lock_guard lock(impl.connections_mutex);
    for (auto& connection : impl.connections) connection.join();
    impl.connections.clear();
  }
  std::lock_guard lock(impl.workers_mutex);
  impl.workers.clear();  // each worker finishes the request in hand and joins
}

std::uint16_t Bridge::webhook_port() const {
  return impl_->acceptor ? impl_->acceptor->local_endpoint().port() : 0;
}

}  // namespace trellis::telegram
