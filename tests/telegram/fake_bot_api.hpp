#pragma once
// A fake Telegram Bot API on 127.0.0.1 for the bridge tests. It answers with the
// documented payloads in tests/telegram/fixtures (sendMessage returns the
// fixture Message with this chat, text and keyboard; other methods return
// {"ok":true,"result":true}), serves getUpdates from a list the test fills
// (dropping what an offset confirms, as Telegram does), records every request,
// and can be told to fail: a scripted error for a method, or a blocked chat.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "fake_http_server.hpp"

namespace trellis::telegram::testing {

// tests/telegram/fixtures: the Telegram Bot API wire examples from the workplace's shared
// fixtures (their README says where each comes from), kept with the tests so that they run
// on any clone. FixturesAreTheSharedOnes checks the copy when ../shared is next to the repository.
std::filesystem::path fixtures_folder();
nlohmann::json fixture(const std::string& name);

struct BotRequest {
  std::string method;
  std::string token;
  nlohmann::json params;
  std::int64_t message_id = 0;  // sendMessage: the id the fake gave the message
};

class FakeBotApi {
 public:
  explicit FakeBotApi(std::string token = "123456:TEST-token");
  ~FakeBotApi();

  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(server_.port()); }
  const std::string& token() const { return token_; }

  // Updates for getUpdates; update_id is filled in (increasing) and returned.
  std::int64_t push(nlohmann::json update);
  // An update delivered again with its own update_id (a confirmation that was lost).
  void push_again(nlohmann::json update);
  // The next call of `method` answers `status` with `body` (a fixture's JSON).
  void fail_next(const std::string& method, unsigned status, nlohmann::json body);
  // Every sendMessage and sendChatAction to this chat answers 403 "bot was blocked".
  void block(std::int64_t chat_id);
  // The `nth` next call of `method` to `chat_id` gets no answer until release_held()
  // (or the fake stops): the caller hangs in mid-request, where a test can kill it.
  void hold(const std::string& method, std::int64_t chat_id, int nth = 1);
  bool is_holding() const;
  void release_held();

  std::vector<BotRequest> requests() const;
  std::vector<BotRequest> requests(const std::string& method) const;
  // The highest offset getUpdates was called with.
  std::int64_t confirmed_offset() const;
  // Polls `done` until true or 15 s pass.
  template <class Done>
  bool wait_until(Done done) const {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (std::chrono::steady_clock::now() < deadline) {
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return done();
  }

 private:
  test_support::FakeHttpServer::Response handle(const test_support::FakeHttpServer::Request& request);
  std::pair<unsigned, nlohmann::json> answer(BotRequest& request);

  std::string token_;
  mutable std::mutex mutex_;
  std::condition_variable pushed_;
  std::vector<BotRequest> requests_;
  std::deque<nlohmann::json> updates_;
  std::int64_t next_update_id_ = 100000001;
  std::int64_t next_message_id_ = 42;
  std::int64_t confirmed_offset_ = 0;
  std::map<std::string, std::deque<std::pair<unsigned, nlohmann::json>>> failures_;
  std::set<std::int64_t> blocked_;
  struct Hold {
    std::string method;
    std::int64_t chat_id = 0;
    int calls_left = 0;   // the held call is the one that brings this to 0
    bool holding = false;
    bool released = false;
  };
  std::optional<Hold> hold_;
  std::condition_variable released_;
  bool stopping_ = false;
  // Last: its handlers use everything above, from its first connection until the
  // destructor has woken the ones waiting on pushed_ or released_ and stopped it.
  test_support::FakeHttpServer server_;
};

// Updates shaped like the fixtures, for Alice's private chat unless told otherwise.
nlohmann::json text_update(const std::string& text, std::int64_t chat_id = 111111111);
nlohmann::json command_update(const std::string& command, std::int64_t chat_id = 111111111);
nlohmann::json press_update(std::int64_t message_id, const std::string& data, std::int64_t chat_id = 111111111);

}  // namespace trellis::telegram::testing
