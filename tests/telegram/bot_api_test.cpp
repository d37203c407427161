#include "bot_api.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "fake_bot_api.hpp"

namespace trellis::telegram {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

std::string file_text(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

// The copy in tests/telegram/fixtures must stay the workplace's shared fixtures, byte for byte.
TEST(TelegramFixtures, AreTheSharedOnes) {
  const auto shared = std::filesystem::path(TRELLIS_SOURCE_DIR) / ".." / "shared" / "fixtures" / "telegram";
  if (!std::filesystem::exists(shared)) GTEST_SKIP() << "no shared fixtures next to the repository to compare with";
  std::size_t compared = 0;
  for (const auto& entry : std::filesystem::directory_iterator(shared)) {
    const auto copy = testing::fixtures_folder() / entry.path().filename();
    ASSERT_TRUE(std::filesystem::exists(copy)) << "copy " << entry.path() << " into tests/telegram/fixtures";
    EXPECT_EQ(file_text(copy), file_text(entry.path())) << copy << " differs from " << entry.path();
    ++compared;
  }
  EXPECT_EQ(compared, static_cast<std::size_t>(std::distance(
                          std::filesystem::directory_iterator(testing::fixtures_folder()), {})));
}

TEST(BotApiVerdict, FollowsStatusAndParameters) {
  EXPECT_EQ(verdict_for(200, json::parse(R"({"ok":true,"result":true})"), 1).kind, Verdict::Kind::Done);
  auto flood = verdict_for(429, json::parse(R"({"ok":false,"error_code":429,"description":"x","parameters":{"retry_after":7}})"), 1);
  EXPECT_EQ(flood.kind, Verdict::Kind::Retry);
  EXPECT_EQ(flood.retry_after, milliseconds(7000));
  EXPECT_EQ(verdict_for(403, json::object(), 1).kind, Verdict::Kind::Blocked);
  EXPECT_EQ(verdict_for(400, json::object(), 1).kind, Verdict::Kind::Refused);
  EXPECT_EQ(verdict_for(502, json::object(), 1).retry_after, milliseconds(500));
  EXPECT_EQ(verdict_for(0, json::object(), 3).retry_after, milliseconds(2000));
  EXPECT_EQ(verdict_for(503, json::object(), 20).retry_after, milliseconds(30'000));
}

TEST(RateLimiter, OneASecondPerChatAndThirtyOverall) {
  RateLimiter limiter;
  const auto start = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
  EXPECT_EQ(limiter.reserve(1, start), start);
  EXPECT_EQ(limiter.reserve(1, start), start + milliseconds(1000));
  EXPECT_EQ(limiter.reserve(2, start), start);  // Alice's wait holds nobody else up
  std::chrono::steady_clock::time_point last;
  for (std::int64_t chat = 3; chat < 33; ++chat) last = limiter.reserve(chat, start);
  EXPECT_GE(last - start, milliseconds(1000));  // 33 messages need a second
}

TEST(BotApi, RetriesServerErrorsAndNeverPutsTheTokenInErrors) {
  testing::FakeBotApi fake;
  BotApiOptions options;
  options.api_base = fake.base_url();
  options.token = fake.token();
  options.pacer.scale = 0.001;
  auto api = BotApi::create(options);
  ASSERT_TRUE(api);
  fake.fail_next("sendChatAction", 502, json{{"ok", false}, {"error_code", 502}, {"description", "Bad Gateway"}});
  auto reply = (*api)->call("sendChatAction", testing::fixture("sendChatAction.request.typing.json"), 111111111);
  EXPECT_TRUE(reply.ok());
  EXPECT_EQ(fake.requests("sendChatAction").size(), 2u);
  fake.fail_next("sendMessage", 400, testing::fixture("error.400.chat_not_found.json"));
  reply = (*api)->call("sendMessage", json{{"chat_id", 1}, {"text", "x"}}, 1);
  EXPECT_EQ(reply.outcome, BotReply::Outcome::Failed);
  EXPECT_EQ(reply.error_code, 400);
  EXPECT_EQ(reply.description.find(fake.token()), std::string::npos);
}

}  // namespace
}  // namespace trellis::telegram
