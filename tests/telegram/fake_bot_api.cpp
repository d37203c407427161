#include "fake_bot_api.hpp"

#include <fstream>

namespace trellis::telegram::testing {

namespace http = server::http;
using nlohmann::json;

std::filesystem::path fixtures_folder() {
  return std::filesystem::path(TRELLIS_SOURCE_DIR) / "tests" / "telegram" / "fixtures";
}

json fixture(const std::string& name) {
  std::ifstream file(fixtures_folder() / name);
  return json::parse(file);
}

FakeBotApi::FakeBotApi(std::string token)
    : token_(std::move(token)), server_([this](const auto& request) { return handle(request); }) {}

FakeBotApi::~FakeBotApi() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  pushed_.notify_all();
  released_.notify_all();
  server_.stop();
}

std::int64_t FakeBotApi::push(json update) {
  std::lock_guard lock(mutex_);
  auto id = next_update_id_++;
  update["update_id"] = id;
  updates_.push_back(std::move(update));
  pushed_.notify_all();
  return id;
}

void FakeBotApi::push_again(json update) {
  std::lock_guard lock(mutex_);
  updates_.push_back(std::move(update));
  pushed_.notify_all();
}

void FakeBotApi::fail_next(const std::string& method, unsigned status, json body) {
  std::lock_guard lock(mutex_);
  failures_[method].emplace_back(status, std::move(body));
}

void FakeBotApi::block(std::int64_t chat_id) {
  std::lock_guard lock(mutex_);
  blocked_.insert(chat_id);
}

void FakeBotApi::hold(const std::string& method, std::int64_t chat_id, int nth) {
  std::lock_guard lock(mutex_);
  hold_ = Hold{method, chat_id, nth, false, false};
}

bool FakeBotApi::is_holding() const {
  std::lock_guard lock(mutex_);
  return hold_ && hold_->holding;
}

void FakeBotApi::release_held() {
  {
    std::lock_guard lock(mutex_);
    if (hold_) hold_->released = true;
  }
  released_.notify_all();
}

std::vector<BotRequest> FakeBotApi::requests() const {
  std::lock_guard lock(mutex_);
  return requests_;
}

std::vector<BotRequest> FakeBotApi::requests(const std::string& method) const {
  std::vector<BotRequest> matching;
  for (auto& request : requests()) {
    if (request.method == method) matching.push_back(request);
  }
  return matching;
}

std::int64_t FakeBotApi::confirmed_offset() const {
  std::lock_guard lock(mutex_);
  return confirmed_offset_;
}

std::pair<unsigned, json> FakeBotApi::answer(BotRequest& request) {
  std::unique_lock lock(mutex_);
  if (auto& queued = failures_[request.method]; !queued.empty()) {
    auto failure = std::move(queued.front());
    queued.pop_front();
    return failure;
  }
  const auto chat_id = request.params.is_object() ? request.params.value("chat_id", std::int64_t{0}) : 0;
  if (hold_ && !hold_->released && hold_->method == request.method && hold_->chat_id == chat_id &&
      hold_->calls_left > 0 && --hold_->calls_left == 0) {
    hold_->holding = true;
    released_.wait(lock, [&] { return stopping_ || hold_->released; });
    hold_->holding = false;
  }
  if ((request.method == "sendMessage" || request.method == "sendChatAction") && blocked_.count(chat_id)) {
    lock.unlock();
    return {403, fixture("error.403.bot_blocked.json")};
  }
  if (request.method == "getUpdates") {
    auto offset = request.params.value("offset", std::int64_t{0});
    confirmed_offset_ = std::max(confirmed_offset_, offset);
    // Confirmed updates are gone for good, as on Telegram's side.
    while (!updates_.empty() && updates_.front()["update_id"].get<std::int64_t>() < offset) updates_.pop_front();
    if (updates_.empty()) {
      // A short long-poll, whatever timeout was asked: tests need no waiting.
      pushed_.wait_for(lock, std::chrono::milliseconds(100), [&] { return stopping_ || !updates_.empty(); });
    }
    json result = json::array();
    for (const auto& update : updates_) result.push_back(update);
    return {200, json{{"ok", true}, {"result", result}}};
  }
  if (request.method == "sendMessage") {
    request.message_id = next_message_id_++;
    lock.unlock();
    auto reply = fixture("sendMessage.response.ok.json");
    auto& message = reply["result"];
    message["message_id"] = request.message_id;
    message["chat"]["id"] = chat_id;
    message["text"] = request.params.value("text", "");
    if (request.params.contains("reply_markup")) message["reply_markup"] = request.params["reply_markup"];
    else message.erase("reply_markup");
    return {200, reply};
  }
  lock.unlock();
  if (request.method == "setWebhook") return {200, fixture("setWebhook.response.ok.json")};
  if (request.method == "deleteWebhook") return {200, fixture("deleteWebhook.response.ok.json")};
  return {200, fixture("response.ok_true.json")};
}

test_support::FakeHttpServer::Response FakeBotApi::handle(const test_support::FakeHttpServer::Request& request) {
  BotRequest recorded;
  std::string target(request.target());
  // /bot<token>/<method>
  if (target.rfind("/bot", 0) == 0) {
    auto slash = target.find('/', 4);
    recorded.token = target.substr(4, slash - 4);
    if (slash != std::string::npos) recorded.method = target.substr(slash + 1);
  }
  recorded.params = json::parse(request.body(), nullptr, false);
  auto [status, body] = recorded.token == token_ ? answer(recorded)
                                                 : std::pair<unsigned, json>{401, fixture("error.401.unauthorized.json")};
  {
    std::lock_guard lock(mutex_);
    requests_.push_back(recorded);
  }
  test_support::FakeHttpServer::Response response{static_cast<http::status>(status), 11};
  response.set(http::field::content_type, "application/json");
  if (status == 429) response.set(http::field::retry_after, std::to_string(body["parameters"]["retry_after"].get<int>()));
  response.body() = body.dump();
  return response;
}

json text_update(const std::string& text, std::int64_t chat_id) {
  auto update = fixture("update.text_message.json");
  update["message"]["text"] = text;
  update["message"]["chat"]["id"] = chat_id;
  update["message"]["from"]["id"] = chat_id;
  return update;
}

json command_update(const std::string& command, std::int64_t chat_id) {
  auto update = fixture("update.command_start.json");
  update["message"]["text"] = command;
  update["message"]["chat"]["id"] = chat_id;
  update["message"]["from"]["id"] = chat_id;
  update["message"]["entities"][0]["length"] = command.size();
  return update;
}

json press_update(std::int64_t message_id, const std::string& data, std::int64_t chat_id) {
  auto update = fixture("update.callback_query.json");
  auto& query = update["callback_query"];
  query["message"]["message_id"] = message_id;
  query["message"]["chat"]["id"] = chat_id;
  query["from"]["id"] = chat_id;
  query["data"] = data;
  return update;
}

}  // namespace trellis::telegram::testing
