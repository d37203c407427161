#include "bridge.hpp"

#include <filesystem>
#include <fstream>
#include <random>

#include <gtest/gtest.h>

#include "bridge_store.hpp"
#include "fake_bot_api.hpp"
#include "server.hpp"

namespace trellis::telegram {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::FakeBotApi;

constexpr std::int64_t kAlice = 111111111;
constexpr std::int64_t kBob = 222222222;

fs::path fresh_folder() {
  static std::mt19937_64 random{std::random_device{}()};
  auto folder = fs::temp_directory_path() / ("trellis-telegram-" + std::to_string(random()));
  fs::create_directories(folder / "web");
  std::ofstream(folder / "web" / "index.html") << "<!doctype html><title>Trellis</title>";
  return folder;
}

// Every request names a documented method and carries its required parameters
// with the documented JSON types (api_methods.json), and nothing undocumented.
void expect_documented(const std::vector<testing::BotRequest>& requests) {
  static const json methods = testing::fixture("api_methods.json")["methods"];
  for (const auto& request : requests) {
    ASSERT_TRUE(methods.contains(request.method)) << request.method;
    const auto& spec = methods[request.method];
    ASSERT_TRUE(request.params.is_object()) << request.method;
    for (const auto& [name, type] : spec.items()) {
      const std::string types = type.get<std::string>();
      if (types.front() == '!') {
        EXPECT_TRUE(request.params.contains(name)) << request.method << " lacks " << name;
      }
    }
    for (const auto& [name, value] : request.params.items()) {
      ASSERT_TRUE(spec.contains(name)) << request.method << " has undocumented " << name;
      const std::string types = spec[name].get<std::string>();
      bool fits = (types.find("Integer") != std::string::npos && value.is_number_integer()) ||
                  (types.find("String") != std::string::npos && value.is_string()) ||
                  (types.find("Boolean") != std::string::npos && value.is_boolean()) ||
                  (types.find("Array") != std::string::npos && value.is_array()) ||
                  (types.find("Markup") != std::string::npos && value.is_object()) ||
                  (types.find("Options") != std::string::npos && value.is_object());
      EXPECT_TRUE(fits) << request.method << "." << name << " is " << value.dump() << ", documented " << types;
    }
    EXPECT_FALSE(request.params.contains("parse_mode")) << "plain text only";
    if (request.method == "sendMessage") {
      EXPECT_FALSE(request.params["text"].get<std::string>().empty());
      for (const auto& row : request.params.value("reply_markup", json::object()).value("inline_keyboard", json::array())) {
        for (const auto& button : row) {
          auto data = button["callback_data"].get<std::string>();
          EXPECT_GE(data.size(), 1u);
          EXPECT_LE(data.size(), 64u);
        }
      }
    }
    if (request.method == "answerCallbackQuery" && request.params.contains("text")) {
      EXPECT_LE(request.params["text"].get<std::string>().size(), 200u);
    }
  }
}

class BridgeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (testing::fixtures_folder().empty()) {
      GTEST_SKIP() << "the Telegram fixtures are not at " << TRELLIS_SOURCE_DIR
                   << "/../shared/fixtures/telegram; these tests need them";
    }
    folder_ = fresh_folder();
    start_server(0);
    api_ = std::make_unique<FakeBotApi>();
  }
  void TearDown() override {
    if (bridge_) bridge_->stop();
    bridge_.reset();
    api_.reset();
    stop_server();
    std::error_code ignored;
    if (!folder_.empty()) fs::remove_all(folder_, ignored);
  }

  void start_server(std::uint16_t port) {
    server::ServerConfig config;
    config.port = port;
    config.io_threads = 2;
    config.dialogs = fs::path(TRELLIS_SOURCE_DIR) / "dialogs";
    config.web_root = folder_ / "web";
    config.database = folder_ / "trellis.db";
    config.shutdown_grace = std::chrono::seconds(5);
    auto created = server::Server::create(std::move(config));
    ASSERT_TRUE(created) << created.error();
    server_ = std::move(*created);
    auto started = server_->start();
    ASSERT_TRUE(started) << started.error();
    port_ = server_->port();
  }
  void stop_server() {
    if (!server_) return;
    server_->begin_stop();
    server_->wait();
    server_.reset();
  }

  BridgeOptions options() {
    BridgeOptions options;
    options.server_url = "ws://127.0.0.1:" + std::to_string(port_) + "/ws";
    options.database = folder_ / "telegram.db";
    options.api.api_base = api_->base_url();
    options.api.token = api_->token();
    options.api.pacer.scale = 0.001;  // a 1.2 s pause takes 1.2 ms; retry_after 7 s takes 7 ms
    options.poll_timeout_seconds = 1;
    return options;
  }
  void start_bridge(BridgeOptions options) {
    auto created = Bridge::create(std::move(options));
    ASSERT_TRUE(created) << created.error();
    bridge_ = std::move(*created);
    auto started = bridge_->start();
    ASSERT_TRUE(started) << started.error();
  }
  void start_bridge() { start_bridge(options()); }

  std::vector<std::string> texts(std::int64_t chat = kAlice) const {
    std::vector<std::string> out;
    for (const auto& request : api_->requests("sendMessage")) {
      if (request.params["chat_id"] == chat) out.push_back(request.params["text"]);
    }
    return out;
  }
  bool said(const std::string& part, std::int64_t chat = kAlice) const {
    for (const auto& text : texts(chat)) {
      if (text.find(part) != std::string::npos) return true;
    }
    return false;
  }
  std::size_t keyboards() const {
    std::size_t count = 0;
    for (const auto& request : api_->requests("sendMessage")) count += request.params.contains("reply_markup");
    return count;
  }
  // The latest message with buttons: its id and its buttons.
  std::pair<std::int64_t, json> last_keyboard() const {
    std::pair<std::int64_t, json> found{0, json::array()};
    for (const auto& request : api_->requests("sendMessage")) {
      if (!request.params.contains("reply_markup")) continue;
      found.first = request.message_id;
      found.second = json::array();
      for (const auto& row : request.params["reply_markup"]["inline_keyboard"]) {
        for (const auto& button : row) found.second.push_back(button);
      }
    }
    return found;
  }
  std::string button_data(const json& buttons, const std::string& label) const {
    for (const auto& button : buttons) {
      if (button["text"] == label) return button["callback_data"];
    }
    ADD_FAILURE() << "no button " << label << " in " << buttons.dump();
    return "";
  }
  // Pushes an update and waits until it is confirmed and the bridge is quiet.
  void send(json update) {
    auto id = api_->push(std::move(update));
    ASSERT_TRUE(api_->wait_until([&] { return api_->confirmed_offset() > id; })) << "update " << id << " not confirmed";
    settle();
  }
  std::size_t sent_count() const {
    std::size_t count = 0;
    for (const auto& request : api_->requests()) count += request.method != "getUpdates";
    return count;
  }
  // The bridge has sent nothing new (polling aside) for a while.
  void settle() {
    std::size_t seen = sent_count();
    for (int quiet = 0; quiet < 40;) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      auto now = sent_count();
      quiet = now == seen ? quiet + 1 : 0;
      seen = now;
    }
  }
  void press(const std::string& label) {
    auto [message_id, buttons] = last_keyboard();
    send(testing::press_update(message_id, button_data(buttons, label)));
  }
  void start_braving() {
    send(testing::command_update("/start"));
    press(flow_button_label());
  }
  std::string flow_button_label() const {
    for (const auto& button : last_keyboard().second) {
      if (button["text"].get<std::string>().rfind("BRAVING", 0) == 0) return button["text"];
    }
    return "";
  }

  fs::path folder_;
  std::unique_ptr<server::Server> server_;
  std::uint16_t port_ = 0;
  std::unique_ptr<FakeBotApi> api_;
  std::unique_ptr<Bridge> bridge_;
};

const std::vector<std::string> kScores = {"8", "6", "7", "9", "7", "3", "6"};

TEST_F(BridgeTest, BravingByButtonPresses) {
  start_bridge();
  send(testing::command_update("/start"));
  ASSERT_TRUE(said("Choose one below"));
  press(flow_button_label());
  ASSERT_TRUE(said("ready to begin") || keyboards() >= 2) << ::testing::PrintToString(texts());
  press("Yes");
  for (const auto& score : kScores) press(score);
  send(testing::text_update("Asking for a quiet evening without apologising"));
  EXPECT_TRUE(said("Boundaries: 8")) << ::testing::PrintToString(texts());
  EXPECT_TRUE(said("Non judgment: 3"));
  EXPECT_TRUE(said("Send /start when you'd like another reflection."));
  // Every press was answered, and its keyboard removed.
  EXPECT_EQ(api_->requests("answerCallbackQuery").size(), 9u);
  EXPECT_GE(api_->requests("editMessageReplyMarkup").size(), 9u);
  expect_documented(api_->requests());
}

TEST_F(BridgeTest, BravingByTypedAnswers) {
  start_bridge();
  start_braving();
  send(testing::text_update("yes"));
  for (const auto& score : kScores) send(testing::text_update(score));
  send(testing::text_update("Asking for a quiet evening without apologising"));
  EXPECT_TRUE(said("Boundaries: 8")) << ::testing::PrintToString(texts());
  EXPECT_TRUE(said("Generosity: 6"));
  expect_documented(api_->requests());
}

TEST_F(BridgeTest, StaleButtonGetsAToastAndIsNotApplied) {
  start_bridge();
  start_braving();
  auto [old_message, old_buttons] = last_keyboard();
  press("Yes");
  auto before = texts().size();
  send(testing::press_update(old_message, button_data(old_buttons, "No")));
  auto answers = api_->requests("answerCallbackQuery");
  ASSERT_FALSE(answers.empty());
  EXPECT_EQ(answers.back().params.value("text", ""), "That question has already passed. Please answer the latest one.");
  EXPECT_EQ(texts().size(), before);  // nothing sent to the flow
  expect_documented(api_->requests());
}

TEST_F(BridgeTest, ForgetDeletesTheConversationEverywhere) {
  start_bridge();
  start_braving();
  press("Yes");
  send(testing::command_update("/forget"));
  EXPECT_TRUE(said("this conversation is deleted"));
  // The old question is gone: a typed answer finds nothing running.
  send(testing::text_update("7"));
  EXPECT_EQ(texts().back(), "Nothing is running just now. Send /start to choose a reflection.");
  expect_documented(api_->requests());
}

TEST_F(BridgeTest, PhotoEditAndGroupGetKindRepliesOnly) {
  start_bridge();
  send(testing::fixture("update.photo_message.json"));
  EXPECT_EQ(texts().back(), "I can only read text messages here. Please type your answer.");
  auto count = api_->requests().size();
  send(testing::fixture("update.edited_message.json"));
  EXPECT_EQ(api_->requests("sendMessage").size(), texts().size());  // nothing for the edit
  (void)count;
  send(testing::fixture("update.group_command.json"));
  EXPECT_EQ(texts(-1001234567890).size(), 1u);
  EXPECT_NE(texts(-1001234567890).back().find("private chat"), std::string::npos);
  expect_documented(api_->requests());
}

TEST_F(BridgeTest, TooManyRequestsWaitsForRetryAfter) {
  start_bridge();
  api_->fail_next("sendMessage", 429, testing::fixture("error.429.too_many_requests.json"));
  send(testing::command_update("/start"));
  EXPECT_TRUE(said("Choose one below"));
  auto sends = api_->requests("sendMessage");
  ASSERT_EQ(sends.size(), 2u);  // the refused one, then the same request again
  EXPECT_EQ(sends[0].params, sends[1].params);
}

TEST_F(BridgeTest, BlockedUserEndsTheChatsSession) {
  start_bridge();
  start_braving();
  api_->block(kAlice);
  send(testing::text_update("yes"));
  auto after_block = api_->requests("sendMessage").size();
  send(testing::text_update("8"));
  // The 403 closed the chat: nothing more is sent after the first refused message...
  EXPECT_LE(api_->requests("sendMessage").size(), after_block + 1);
  // ...and Bob is unaffected.
  send(testing::command_update("/start", kBob));
  EXPECT_TRUE(said("Choose one below", kBob));
}

TEST_F(BridgeTest, BridgeRestartMidFlowLosesAndRepeatsNothing) {
  start_bridge();
  start_braving();
  press("Yes");
  press("8");
  bridge_->stop();
  bridge_.reset();
  start_bridge();
  press("6");
  for (std::size_t i = 2; i < kScores.size(); ++i) press(kScores[i]);
  send(testing::text_update("Asking for a quiet evening without apologising"));
  EXPECT_TRUE(said("Boundaries: 8\n"));
  EXPECT_TRUE(said("Reliability: 6"));
  // No message of the flow was sent twice.
  auto all = texts();
  std::size_t boundaries = 0;
  for (const auto& text : all) boundaries += text.find("B is for boundaries") != std::string::npos;
  EXPECT_LE(boundaries, 1u);
}

TEST_F(BridgeTest, RedeliveredUpdateIsNotAppliedTwice) {
  start_bridge();
  start_braving();
  auto [message_id, buttons] = last_keyboard();
  auto update = testing::press_update(message_id, button_data(buttons, "Yes"));
  update["update_id"] = api_->push(update);
  ASSERT_TRUE(api_->wait_until([&] { return api_->confirmed_offset() > update["update_id"].get<std::int64_t>(); }));
  settle();
  auto applied = texts().size();
  // A crash after the press reached the server but before its offset was saved:
  // Telegram delivers the same update (same update_id) again.
  bridge_->stop();
  bridge_.reset();
  const auto id = update["update_id"].get<std::int64_t>();
  {
    auto store = BridgeStore::open(folder_ / "telegram.db");
    ASSERT_TRUE(store);
    (*store)->set_offset(id);
  }
  api_->push_again(update);
  start_bridge();
  ASSERT_TRUE(api_->wait_until([&] { return api_->confirmed_offset() > id; }));
  settle();
  EXPECT_EQ(texts().size(), applied);
  press("8");
  EXPECT_TRUE(said("eliability"));
}

TEST_F(BridgeTest, ServerRestartMidFlow) {
  start_bridge();
  start_braving();
  press("Yes");
  auto port = port_;
  stop_server();
  auto [message_id, buttons] = last_keyboard();
  api_->push(testing::press_update(message_id, button_data(buttons, "8")));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  start_server(port);
  ASSERT_TRUE(api_->wait_until([&] { return said("R is for reliability") || said("eliability"); }))
      << ::testing::PrintToString(texts());
  settle();
  press("6");
  EXPECT_TRUE(said("ccountability"));
}

TEST_F(BridgeTest, WebhookChecksTheSecret) {
  auto opts = options();
  opts.webhook_url = "https://bot.example.org/telegram/webhook";
  opts.webhook_secret = "rB7x_Wq2-Lk9Tz4mN8vC1sD6";
  opts.listen_port = 0;
  start_bridge(opts);
  auto set = api_->requests("setWebhook");
  ASSERT_EQ(set.size(), 1u);
  EXPECT_EQ(set[0].params["secret_token"], "rB7x_Wq2-Lk9Tz4mN8vC1sD6");
  expect_documented(set);

  auto post = [&](const json& envelope) {
    namespace http = server::http;
    server::asio::io_context io;
    server::tcp::socket socket(io);
    socket.connect({server::asio::ip::make_address("127.0.0.1"), bridge_->webhook_port()});
    http::request<http::string_body> request{http::verb::post, envelope["path"].get<std::string>(), 11};
    for (const auto& [name, value] : envelope["headers"].items()) request.set(name, value.get<std::string>());
    request.body() = envelope["body"].dump();
    request.prepare_payload();
    http::write(socket, request);
    server::beast::flat_buffer buffer;
    http::response<http::string_body> response;
    http::read(socket, buffer, response);
    return response.result_int();
  };
  auto bad = testing::fixture("webhook.incoming_request.bad_secret.json");
  EXPECT_EQ(post(bad), 403u);
  EXPECT_TRUE(texts().empty());
  auto good = testing::fixture("webhook.incoming_request.json");
  EXPECT_EQ(post(good), 200u);
  settle();
  EXPECT_EQ(texts().back(), "Nothing is running just now. Send /start to choose a reflection.");
}

}  // namespace
}  // namespace trellis::telegram
