#pragma once
// The Telegram Bot API over HTTP(S): POST <api_base>/bot<token>/<method> with a
// JSON body. call() honours the rate limits (about one message a second per
// chat, 30 a second overall), waits out 429's retry_after, retries 5xx and
// network errors with backoff, and reports 403 (blocked, deactivated) apart.
// The token is part of every URL, so no URL, target or request is ever logged.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include <nlohmann/json.hpp>
#include <tl/expected.hpp>

namespace trellis::telegram {

using Milliseconds = std::chrono::milliseconds;

// Every wait the bridge makes goes through here, so tests can shrink them all.
struct Pacer {
  double scale = 1.0;                         // 0.001 in tests: a 1.2 s pause takes 1.2 ms
  std::function<void(Milliseconds)> sleep;    // null: std::this_thread::sleep_for
  Milliseconds scaled(Milliseconds wait) const;
  void wait(Milliseconds unscaled) const;
};

// What to do after one attempt. Pure.
struct Verdict {
  enum class Kind { Done, Retry, Blocked, Refused };
  Kind kind = Kind::Done;
  Milliseconds retry_after{0};  // Retry: unscaled
};
// `status` 0 means the request never got an answer (connection, timeout).
// `failed_attempts` counts this one.
Verdict verdict_for(unsigned status, const nlohmann::json& body, int failed_attempts);

// When the next message may go out, for one chat and overall. Pure: the time comes in.
class RateLimiter {
 public:
  // At most one message per `per_chat` in a chat, and `per_window` messages in any `window` overall.
  RateLimiter(Milliseconds per_chat = Milliseconds(1000), Milliseconds window = Milliseconds(1000),
              std::size_t per_window = 30)
      : per_chat_(per_chat), window_(window), per_window_(per_window) {}
  // Books the earliest slot at or after `now` and returns it.
  std::chrono::steady_clock::time_point reserve(std::int64_t chat_id, std::chrono::steady_clock::time_point now);

 private:
  Milliseconds per_chat_, window_;
  std::size_t per_window_;
  std::multiset<std::chrono::steady_clock::time_point> booked_;
  std::map<std::int64_t, std::chrono::steady_clock::time_point> next_for_chat_;
};

struct BotReply {
  enum class Outcome {
    Ok,       // `result` holds the method's result
    Blocked,  // 403: the person blocked the bot or is gone
    Failed,   // refused (4xx) or retries used up: `error_code` and `description`
  };
  Outcome outcome = Outcome::Failed;
  nlohmann::json result;
  int error_code = 0;
  std::string description;
  bool ok() const { return outcome == Outcome::Ok; }
};

struct BotApiOptions {
  std::string api_base = "https://api.telegram.org";
  std::string token;
  Milliseconds timeout{10'000};  // one attempt; getUpdates adds its long-poll time
  int max_attempts = 8;          // for one call, 429s not counted
  Pacer pacer;
};

class BotApi {
 public:
  static tl::expected<std::unique_ptr<BotApi>, std::string> create(BotApiOptions options);
  ~BotApi();

  // One method call, with retries. `chat_id` non-zero: the call sends to that
  // chat and counts against its rate limit. `keep_going` is asked between
  // retries: false gives up at once (shutting down).
  BotReply call(const std::string& method, const nlohmann::json& params, std::int64_t chat_id = 0,
                const std::function<bool()>& keep_going = {});

 private:
  struct Impl;
  explicit BotApi(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace trellis::telegram
