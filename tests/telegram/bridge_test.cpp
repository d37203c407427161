#include "bridge.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>

#include <gtest/gtest.h>

#include "bridge_store.hpp"
#include "documented_requests.hpp"
#include "fake_bot_api.hpp"
#include "message_split.hpp"
#include "server.hpp"
#include "webhook_secret.hpp"

namespace trellis::telegram {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::expect_documented;
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

class BridgeTest : public ::testing::Test {
 protected:
  void SetUp() override {
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
    config.dialogs = dialogs_;
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

  // Waits the bridge made (through its pacer), each with how many requests the
  // fake had recorded when it began: everything before that index came first, and
  // whatever the waiting chat sends next comes at or after it.
  struct Waited {
    std::size_t after_requests;
    Milliseconds wait;
  };
  std::vector<Waited> waits() const {
    std::lock_guard lock(waits_mutex_);
    return waits_;
  }
  // Options whose pacer records every wait and then really waits it.
  BridgeOptions recording_options() {
    auto opts = options();
    opts.api.pacer.sleep = [this](Milliseconds wait) {
      {
        std::lock_guard lock(waits_mutex_);
        waits_.push_back({api_->requests().size(), wait});
      }
      std::this_thread::sleep_for(wait);
    };
    return opts;
  }
  // One chat's story in order: "say:<text>" (with " [buttons]" when it has a keyboard),
  // "typing" for sendChatAction, and "wait:<ms>" for the waits recorded above.
  std::vector<std::string> timeline(std::int64_t chat = kAlice) const {
    const auto requests = api_->requests();
    const auto recorded_waits = waits();
    std::vector<std::string> story;
    std::size_t next_wait = 0;
    for (std::size_t i = 0; i <= requests.size(); ++i) {
      while (next_wait < recorded_waits.size() && recorded_waits[next_wait].after_requests <= i) {
        story.push_back("wait:" + std::to_string(recorded_waits[next_wait++].wait.count()));
      }
      if (i == requests.size()) break;
      const auto& request = requests[i];
      if (!request.params.is_object() || request.params.value("chat_id", std::int64_t{0}) != chat) continue;
      if (request.method == "sendMessage") {
        story.push_back("say:" + request.params["text"].get<std::string>() +
                        (request.params.contains("reply_markup") ? " [buttons]" : ""));
      } else if (request.method == "sendChatAction") {
        story.push_back(request.params.value("action", "") == "typing" ? "typing" : "action?");
      }
    }
    return story;
  }
  // The webhook listener's answer to one request shaped like the fixture `envelope`.
  unsigned post_webhook(const json& envelope) {
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
  }
  unsigned post_webhook_with_secret(const std::string& secret) {
    auto envelope = testing::fixture("webhook.incoming_request.json");
    envelope["headers"]["X-Telegram-Bot-Api-Secret-Token"] = secret;
    return post_webhook(envelope);
  }
  BridgeOptions webhook_options() {
    auto opts = options();
    opts.webhook_url = "https://bot.example.org/telegram/webhook";
    opts.listen_port = 0;
    opts.log = [this](const std::string& line) {
      std::lock_guard lock(waits_mutex_);
      log_.push_back(line);
    };
    return opts;
  }
  std::vector<std::string> log_lines() const {
    std::lock_guard lock(waits_mutex_);
    return log_;
  }
  // The flow's button on /start's keyboard whose label begins with `title`.
  void press_flow(const std::string& title) {
    for (const auto& button : last_keyboard().second) {
      if (button["text"].get<std::string>().rfind(title, 0) == 0) return press(button["text"]);
    }
    ADD_FAILURE() << "no flow button for " << title << " in " << last_keyboard().second.dump();
  }

  fs::path folder_;
  fs::path dialogs_ = fs::path(TRELLIS_SOURCE_DIR) / "dialogs";
  mutable std::mutex waits_mutex_;
  std::vector<Waited> waits_;
  std::vector<std::string> log_;
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

  auto post = [&](const json& envelope) { return post_webhook(envelope); };
  auto bad = testing::fixture("webhook.incoming_request.bad_secret.json");
  EXPECT_EQ(post(bad), 403u);
  EXPECT_TRUE(texts().empty());
  auto good = testing::fixture("webhook.incoming_request.json");
  EXPECT_EQ(post(good), 200u);
  settle();
  EXPECT_EQ(texts().back(), "Nothing is running just now. Send /start to choose a reflection.");
}

// Counted apart from message_split.cpp, the way Telegram counts a message's length: UTF-16 code units.
std::size_t utf16_units(const std::string& text) {
  std::size_t units = 0;
  for (unsigned char byte : text) {
    if ((byte & 0xC0) != 0x80) ++units;  // a code point begins
    if (byte >= 0xF0) ++units;           // outside the BMP: a surrogate pair
  }
  return units;
}
std::size_t code_points(const std::string& text) {
  std::size_t count = 0;
  for (unsigned char byte : text) count += (byte & 0xC0) != 0x80;
  return count;
}
std::string join(const std::vector<std::string>& parts, std::size_t from, std::size_t to, const std::string& glue) {
  std::string out;
  for (std::size_t i = from; i < to; ++i) out += (i > from ? glue : "") + parts[i];
  return out;
}

// Eight paragraphs of 1,168 UTF-16 units (1,003 code points: each 🌱 counts twice).
// Counting code points, four would fit in one message; counting as Telegram does, only three.
std::vector<std::string> long_letter_paragraphs() {
  std::vector<std::string> paragraphs;
  for (int i = 1; i <= 8; ++i) {
    std::string paragraph = "Paragraph " + std::to_string(i) + ":";
    for (int word = 0; word < 165; ++word) paragraph += " calm\U0001F331";
    paragraphs.push_back(paragraph);
  }
  return paragraphs;
}

// A one-message flow in a dialogs folder of its own (with the real safety policy).
void write_long_letter_flow(const fs::path& dialogs, const std::string& text) {
  fs::create_directories(dialogs / "long-letter");
  fs::create_directories(dialogs / "safety");
  for (const char* file : {"policy.json", "classifier.json"}) {  // the policy names its classifier
    fs::copy_file(fs::path(TRELLIS_SOURCE_DIR) / "dialogs" / "safety" / file, dialogs / "safety" / file);
  }
  json flow{{"trellis", 1},
            {"id", "long-letter"},
            {"version", 1},
            {"title", "A long letter"},
            {"description", "One long message, for the Telegram bridge's tests."},
            {"minutes", 1},
            {"credits", json::array({{{"author", "Trellis"}, {"work", "tests/telegram/bridge_test.cpp"}}})},
            {"start", "letter"},
            {"nodes",
             {{"letter", {{"type", "message"}, {"say", text}, {"next", "close"}}},
              {"close", {{"type", "end"}, {"say", "That is the whole letter."}}}}}};
  std::ofstream(dialogs / "long-letter" / "flow.json") << flow.dump(2);
}

TEST_F(BridgeTest, LongMessageArrivesInParagraphPiecesUnderTheLimit) {
  const auto paragraphs = long_letter_paragraphs();
  const std::string letter = join(paragraphs, 0, paragraphs.size(), "\n\n");
  ASSERT_GT(utf16_units(letter), 9000u);
  ASSERT_LE(code_points(join(paragraphs, 0, 4, "\n\n")), kMaxMessageUnits);  // the test means something
  ASSERT_GT(utf16_units(join(paragraphs, 0, 4, "\n\n")), kMaxMessageUnits);
  dialogs_ = folder_ / "dialogs";
  write_long_letter_flow(dialogs_, letter);
  stop_server();
  start_server(0);
  start_bridge();
  send(testing::command_update("/start"));
  press_flow("A long letter");
  ASSERT_TRUE(said("That is the whole letter.")) << ::testing::PrintToString(texts());

  // The letter's pieces: what came between the /start welcome and the end's own words.
  auto all = texts();
  auto first = std::find_if(all.begin(), all.end(), [](const std::string& text) { return text.rfind("Paragraph 1:", 0) == 0; });
  auto last = std::find(all.begin(), all.end(), "That is the whole letter.");
  ASSERT_NE(first, all.end());
  ASSERT_LT(first, last);
  const std::vector<std::string> pieces(first, last);
  ASSERT_EQ(pieces.size(), 3u) << "greedy, in UTF-16 units: 3 + 3 + 2 paragraphs";

  std::size_t paragraph = 0;
  for (const auto& piece : pieces) {
    EXPECT_LE(utf16_units(piece), kMaxMessageUnits);
    // Whole paragraphs, in order, as many as fit.
    std::size_t end = paragraph;
    while (end < paragraphs.size() && join(paragraphs, paragraph, end + 1, "\n\n").size() <= piece.size()) ++end;
    EXPECT_EQ(piece, join(paragraphs, paragraph, end, "\n\n")) << "piece " << (&piece - pieces.data());
    if (end < paragraphs.size()) {
      EXPECT_GT(utf16_units(join(paragraphs, paragraph, end + 1, "\n\n")), kMaxMessageUnits) << "the next paragraph fitted";
    }
    paragraph = end;
  }
  EXPECT_EQ(paragraph, paragraphs.size());
  EXPECT_EQ(join(pieces, 0, pieces.size(), "\n\n"), letter);  // nothing lost but the whitespace at the cuts
  expect_documented(api_->requests());
}

// The flow's says from `node` on, as timeline() shows them: a pause is "typing"
// then the pause's length scaled by `scale`.
void append_says(const json& node, double scale, std::vector<std::string>& story) {
  json says = node["say"].is_array() ? node["say"] : json::array({node["say"]});
  for (const auto& say : says) {
    if (say.is_string()) {
      story.push_back("say:" + say.get<std::string>());
    } else {
      story.push_back("typing");
      story.push_back("wait:" + std::to_string(static_cast<long>(say["pause"].get<double>() * scale)));
    }
  }
}

TEST_F(BridgeTest, PausesShowTypingAndWaitBeforeTheNextMessage) {
  start_bridge(recording_options());
  send(testing::command_update("/start"));
  press_flow("A self-compassion break");
  press("7");
  press("Skip");  // what's hard: kept to oneself; then breathing, with a pause after every line
  ASSERT_TRUE(said("Which words would you like to offer yourself?")) << ::testing::PrintToString(texts());

  std::ifstream file(fs::path(TRELLIS_SOURCE_DIR) / "dialogs" / "self-compassion" / "flow.json");
  const json flow = json::parse(file);
  std::vector<std::string> expected;
  append_says(flow["nodes"]["unnamed"], 0.001, expected);
  append_says(flow["subflows"]["breathe"]["nodes"]["breaths"], 0.001, expected);
  for (const char* node : {"mindfulness", "humanity", "kindness"}) append_says(flow["nodes"][node], 0.001, expected);
  expected.push_back("say:" + flow["nodes"]["choose_phrase"]["ask"].get<std::string>() + " [buttons]");
  ASSERT_GE(std::count(expected.begin(), expected.end(), "typing"), 10);

  const auto story = timeline();
  auto from = std::find(story.begin(), story.end(), expected.front());
  ASSERT_NE(from, story.end()) << ::testing::PrintToString(story);
  // Every pause: "typing" first, then the wait (4 s, scaled), and only then the next message.
  EXPECT_EQ(std::vector<std::string>(from, story.end()), expected);
  expect_documented(api_->requests());
}

TEST_F(BridgeTest, WebhookSecretIsMadeOnceAndKeptAcrossRestarts) {
  start_bridge(webhook_options());
  auto first = api_->requests("setWebhook");
  ASSERT_EQ(first.size(), 1u);
  const std::string secret = first[0].params["secret_token"];
  EXPECT_TRUE(is_valid_webhook_secret(secret)) << "a secret setWebhook accepts";
  EXPECT_EQ(secret.size(), 43u) << "256 random bits, base64url";
  EXPECT_EQ(post_webhook_with_secret(secret), 200u);
  EXPECT_EQ(post_webhook_with_secret(secret + "x"), 403u);

  bridge_->stop();
  bridge_.reset();
  start_bridge(webhook_options());  // the same database
  auto again = api_->requests("setWebhook");
  ASSERT_EQ(again.size(), 2u);
  EXPECT_EQ(again[1].params["secret_token"], secret) << "a restart keeps the secret Telegram holds";
  EXPECT_EQ(post_webhook_with_secret(secret), 200u);
  EXPECT_EQ(post_webhook_with_secret("rB7x_Wq2-Lk9Tz4mN8vC1sD6"), 403u);
  bridge_->stop();
  bridge_.reset();

  auto other = webhook_options();
  other.database = folder_ / "other.db";
  start_bridge(other);
  auto third = api_->requests("setWebhook");
  ASSERT_EQ(third.size(), 3u);
  EXPECT_NE(third[2].params["secret_token"], secret) << "each bridge database makes its own";
  for (const auto& line : log_lines()) EXPECT_EQ(line.find(secret), std::string::npos) << "logged: " << line;
  expect_documented(api_->requests());
}

TEST_F(BridgeTest, GivenWebhookSecretIsValidatedAndUsed) {
  for (const std::string& bad : {std::string("has space"), std::string("dots.are.out"), std::string("caf\u00e9"),
                          std::string(257, 'a'), std::string("slash/plus+")}) {
    auto opts = webhook_options();
    opts.webhook_secret = bad;
    auto created = Bridge::create(opts);
    ASSERT_FALSE(created) << bad;
    EXPECT_EQ(created.error().find(bad), std::string::npos) << "the error quotes the secret";
  }
  EXPECT_TRUE(api_->requests("setWebhook").empty());

  // A stored secret exists; a given one wins over it, and is not stored in its place.
  start_bridge(webhook_options());
  const std::string stored = api_->requests("setWebhook").at(0).params["secret_token"];
  bridge_->stop();
  bridge_.reset();
  auto opts = webhook_options();
  const std::string given = std::string(200, 'A') + "az09_-" + std::string(50, 'z');
  ASSERT_EQ(given.size(), 256u);
  opts.webhook_secret = given;
  start_bridge(opts);
  EXPECT_EQ(api_->requests("setWebhook").at(1).params["secret_token"], given);
  EXPECT_EQ(post_webhook_with_secret(given), 200u);
  EXPECT_EQ(post_webhook_with_secret(stored), 403u);
  bridge_->stop();
  bridge_.reset();
  start_bridge(webhook_options());
  EXPECT_EQ(api_->requests("setWebhook").at(2).params["secret_token"], stored);
  expect_documented(api_->requests());
}

}  // namespace
}  // namespace trellis::telegram
