// The "Done means" walk-through of docs/telegram.md, from outside: the real
// `trellis serve` and `trellis telegram` run as child processes, the fake Bot
// API runs here on 127.0.0.1, and a simulated person goes through the
// self-compassion break by pressing the buttons the bridge sent. Half-way, in
// the middle of a turn, the bridge is killed with SIGKILL and started again on
// the same SQLite file; the conversation must go on with no turn lost or
// repeated. Every wait is for an event (a request reaching the fake), never a
// fixed sleep; the bridge runs with --time-scale so the flow's pauses are short.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "child_process.hpp"
#include "documented_requests.hpp"
#include "fake_bot_api.hpp"
#include "server_process.hpp"

namespace trellis::telegram {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using std::chrono::milliseconds;
using test_support::ChildProcess;
using test_support::ServerProcess;
using testing::FakeBotApi;

constexpr std::int64_t kAlice = 111111111;
constexpr std::int64_t kBob = 222222222;
constexpr milliseconds kExitTimeout{10000};

std::string read_file(const fs::path& file) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// One `trellis telegram` child, talking to `server_url` and the fake Bot API.
class BridgeProcess {
 public:
  BridgeProcess(fs::path folder, std::string server_url, const FakeBotApi& api)
      : folder_(std::move(folder)), server_url_(std::move(server_url)), api_(api) {}

  bool start(const std::vector<std::string>& extra_args = {}, const std::vector<std::string>& extra_environment = {}) {
    std::vector<std::string> args{TRELLIS_BINARY, "telegram",
                                  "--server", server_url_,
                                  "--database", (folder_ / "telegram.db").string(),
                                  "--api-base", api_.base_url(),
                                  "--poll-timeout", "1",
                                  "--time-scale", "0.001"};  // a 4 s pause takes 4 ms, and so do the rate limits
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    auto environment = test_support::environment_without_trellis();
    environment.push_back("TRELLIS_TELEGRAM_TOKEN=" + api_.token());
    environment.insert(environment.end(), extra_environment.begin(), extra_environment.end());
    return process_.spawn(args, environment, log_file());
  }
  void kill_now() { process_.kill_now(); }
  std::optional<int> terminate() { return process_.terminate(kExitTimeout); }
  std::optional<int> wait_for_exit() { return process_.wait_for_exit(kExitTimeout); }
  fs::path log_file() const { return folder_ / "telegram.log"; }

 private:
  fs::path folder_;
  std::string server_url_;
  const FakeBotApi& api_;
  ChildProcess process_;
};

// A message the bridge sent with buttons.
struct Keyboard {
  std::int64_t message_id = 0;
  std::string text;
  json buttons = json::array();  // flattened rows
};

class TelegramProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::mt19937_64 names{std::random_device{}()};
    folder_ = fs::temp_directory_path() / ("trellis-telegram-process-" + std::to_string(names()));
    fs::create_directories(folder_ / "web");
    std::ofstream(folder_ / "web" / "index.html") << "<!doctype html><title>Trellis</title>";
    server_ = std::make_unique<ServerProcess>(test_support::ServerProcessOptions{
        TRELLIS_BINARY, fs::path(TRELLIS_SOURCE_DIR) / "dialogs", folder_, {}});
    ASSERT_TRUE(server_->start_anywhere()) << "the server did not start; see " << server_->log_file();
    api_ = std::make_unique<FakeBotApi>();
    bridge_ = std::make_unique<BridgeProcess>(folder_, server_->ws_url(), *api_);
  }
  void TearDown() override {
    bridge_.reset();  // kills the child if it still runs
    server_.reset();
    api_.reset();
    std::error_code ignored;
    if (HasFailure()) {
      std::cout << "telegram process test: kept " << folder_ << " (telegram.log, server.log)" << std::endl;
    } else if (!folder_.empty()) {
      fs::remove_all(folder_, ignored);
    }
  }

  std::vector<testing::BotRequest> sent_to(std::int64_t chat, const std::string& method) const {
    std::vector<testing::BotRequest> out;
    for (const auto& request : api_->requests(method)) {
      if (request.params.is_object() && request.params.value("chat_id", std::int64_t{0}) == chat) out.push_back(request);
    }
    return out;
  }
  // Every message to `chat`, in order, with its buttons' labels: "text [A|B|C]".
  std::vector<std::string> messages(std::int64_t chat) const {
    std::vector<std::string> out;
    for (const auto& request : sent_to(chat, "sendMessage")) {
      std::string line = request.params["text"];
      if (request.params.contains("reply_markup")) {
        line += " [";
        for (const auto& row : request.params["reply_markup"]["inline_keyboard"]) {
          for (const auto& button : row) line += button["text"].get<std::string>() + "|";
        }
        line += "]";
      }
      out.push_back(line);
    }
    return out;
  }
  std::vector<Keyboard> keyboards(std::int64_t chat) const {
    std::vector<Keyboard> out;
    for (const auto& request : sent_to(chat, "sendMessage")) {
      if (!request.params.contains("reply_markup")) continue;
      Keyboard keyboard{request.message_id, request.params["text"], json::array()};
      for (const auto& row : request.params["reply_markup"]["inline_keyboard"]) {
        for (const auto& button : row) keyboard.buttons.push_back(button);
      }
      out.push_back(std::move(keyboard));
    }
    return out;
  }
  // Waits until `chat` has been sent its `count`th keyboard, and returns it.
  Keyboard wait_for_keyboard(std::int64_t chat, std::size_t count) const {
    const bool arrived = api_->wait_until([&] { return keyboards(chat).size() >= count; });
    EXPECT_TRUE(arrived) << "keyboard " << count << " never came; messages so far: "
                         << ::testing::PrintToString(messages(chat)) << "; see " << bridge_->log_file();
    auto all = keyboards(chat);
    return all.size() >= count ? all[count - 1] : Keyboard{};
  }
  // Presses the button whose label begins with `label` on `keyboard`, as the person's app would.
  void press(std::int64_t chat, const Keyboard& keyboard, const std::string& label) {
    for (const auto& button : keyboard.buttons) {
      if (button["text"].get<std::string>().rfind(label, 0) == 0) {
        api_->push(testing::press_update(keyboard.message_id, button["callback_data"], chat));
        return;
      }
    }
    ADD_FAILURE() << "no button " << label << " under \"" << keyboard.text << "\": " << keyboard.buttons.dump();
  }

  // The self-compassion break by button presses. `before_skip` runs right after
  // "Skip" is pressed, while that long turn of breathing and pauses is under way.
  template <class Hook>
  void self_compassion_break(std::int64_t chat, Hook before_skip) {
    api_->push(testing::command_update("/start", chat));
    press(chat, wait_for_keyboard(chat, 1), "A self-compassion break");
    press(chat, wait_for_keyboard(chat, 2), "7");  // how hard, before
    press(chat, wait_for_keyboard(chat, 3), "Skip");  // what's hard: kept to oneself
    before_skip();
    press(chat, wait_for_keyboard(chat, 4), "May I be kind to myself");
    press(chat, wait_for_keyboard(chat, 5), "4");  // how hard, after
    EXPECT_TRUE(api_->wait_until([&] {
      auto all = messages(chat);
      return !all.empty() && all.back().find("Your summary:") != std::string::npos;
    })) << ::testing::PrintToString(messages(chat));
  }

  fs::path folder_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<FakeBotApi> api_;
  std::unique_ptr<BridgeProcess> bridge_;
};

TEST_F(TelegramProcessTest, SelfCompassionByButtonsSurvivesKillNineOfTheBridge) {
  ASSERT_TRUE(bridge_->start());
  // Bob's break, undisturbed: what a person should see, message for message.
  self_compassion_break(kBob, [] {});
  const auto reference = messages(kBob);
  ASSERT_FALSE(HasFailure());

  // Alice's, with the bridge killed half-way: it hangs in its third "typing" of
  // the breathing turn (after several of the turn's messages went out, before
  // the rest), and gets SIGKILL there.
  std::size_t messages_at_kill = 0;
  self_compassion_break(kAlice, [&] {
    api_->hold("sendChatAction", kAlice, 3);
    ASSERT_TRUE(api_->wait_until([&] { return api_->is_holding(); })) << "the bridge never reached the third pause";
    bridge_->kill_now();
    api_->release_held();
    messages_at_kill = messages(kAlice).size();
    ASSERT_TRUE(bridge_->start()) << "the bridge did not start again";
  });

  const auto seen = messages(kAlice);
  EXPECT_GT(messages_at_kill, 4u) << "killed before the breathing turn";
  EXPECT_LT(messages_at_kill, seen.size()) << "killed after the breathing turn";
  // Nothing lost, nothing repeated: Alice saw exactly what Bob saw, in the same order.
  EXPECT_EQ(seen, reference);
  // Said plainly: each question once, and the summary once.
  auto count = [&](const std::string& part) {
    return std::count_if(seen.begin(), seen.end(), [&](const std::string& text) { return text.find(part) != std::string::npos; });
  };
  EXPECT_EQ(count("how hard does this feel"), 1);
  EXPECT_EQ(count("say what's hard right now"), 1);
  EXPECT_EQ(count("Which words would you like to offer yourself?"), 1);
  EXPECT_EQ(count("Now, how hard does it feel"), 1);
  EXPECT_EQ(count("Your summary:"), 1);
  ASSERT_FALSE(seen.empty());
  for (const char* line : {"\nFeeling before: 7\n", "\nFeeling after: 4\n", "\nPhrase: May I be kind to myself\n"}) {
    EXPECT_NE(seen.back().find(line), std::string::npos) << seen.back();
  }
  // Every press was answered once (five each), and each keyboard removed once pressed.
  EXPECT_EQ(api_->requests("answerCallbackQuery").size(), 10u);
  EXPECT_EQ(sent_to(kAlice, "editMessageReplyMarkup").size(), sent_to(kBob, "editMessageReplyMarkup").size());
  testing::expect_documented(api_->requests());

  EXPECT_EQ(bridge_->terminate(), std::optional<int>(0)) << "SIGTERM stops the bridge cleanly";
  const auto log = read_file(bridge_->log_file());
  EXPECT_EQ(log.find(api_->token()), std::string::npos) << "the bot token was logged";
  EXPECT_EQ(log.find("Breathe in"), std::string::npos) << "a flow's words were logged";
}

TEST_F(TelegramProcessTest, WebhookSecretFromTheCommandLine) {
  const std::vector<std::string> webhook{"--webhook-url", "https://bot.example.org/telegram", "--listen", "127.0.0.1:0"};
  auto set_webhook_calls = [&] { return api_->requests("setWebhook"); };

  // Made once, kept in --database, the same after a restart; never logged.
  ASSERT_TRUE(bridge_->start(webhook));
  ASSERT_TRUE(api_->wait_until([&] { return set_webhook_calls().size() == 1; })) << read_file(bridge_->log_file());
  const std::string made = set_webhook_calls()[0].params["secret_token"];
  EXPECT_EQ(bridge_->terminate(), std::optional<int>(0));
  ASSERT_TRUE(bridge_->start(webhook));
  ASSERT_TRUE(api_->wait_until([&] { return set_webhook_calls().size() == 2; }));
  EXPECT_EQ(set_webhook_calls()[1].params["secret_token"], made);
  EXPECT_EQ(bridge_->terminate(), std::optional<int>(0));

  // From the environment: used as given; an invalid one stops the bridge before it calls Telegram.
  ASSERT_TRUE(bridge_->start(webhook, {"TRELLIS_TELEGRAM_WEBHOOK_SECRET=Given_secret-42"}));
  ASSERT_TRUE(api_->wait_until([&] { return set_webhook_calls().size() == 3; }));
  EXPECT_EQ(set_webhook_calls()[2].params["secret_token"], "Given_secret-42");
  EXPECT_EQ(bridge_->terminate(), std::optional<int>(0));
  ASSERT_TRUE(bridge_->start(webhook, {"TRELLIS_TELEGRAM_WEBHOOK_SECRET=not valid!"}));
  EXPECT_EQ(bridge_->wait_for_exit(), std::optional<int>(2));

  // From a file.
  std::ofstream(folder_ / "secret") << "From_a_file-7\n";
  auto with_file = webhook;
  with_file.insert(with_file.end(), {"--webhook-secret-file", (folder_ / "secret").string()});
  ASSERT_TRUE(bridge_->start(with_file));
  ASSERT_TRUE(api_->wait_until([&] { return set_webhook_calls().size() == 4; }));
  EXPECT_EQ(set_webhook_calls()[3].params["secret_token"], "From_a_file-7");
  EXPECT_EQ(bridge_->terminate(), std::optional<int>(0));

  const auto log = read_file(bridge_->log_file());
  for (const std::string& secret : {made, std::string("Given_secret-42"), std::string("not valid!"),
                                   std::string("From_a_file-7")}) {
    EXPECT_EQ(log.find(secret), std::string::npos) << "logged a secret: " << log;
  }
  EXPECT_NE(log.find("the webhook secret must be"), std::string::npos) << log;
  testing::expect_documented(api_->requests());
}

}  // namespace
}  // namespace trellis::telegram
