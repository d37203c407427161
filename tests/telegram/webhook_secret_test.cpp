#include "webhook_secret.hpp"

#include <filesystem>
#include <random>

#include <gtest/gtest.h>

#include "bridge_store.hpp"

namespace trellis::telegram {
namespace {

TEST(WebhookSecret, AcceptsWhatSetWebhookAccepts) {
  EXPECT_TRUE(is_valid_webhook_secret("a"));
  EXPECT_TRUE(is_valid_webhook_secret("AZaz09_-"));
  EXPECT_TRUE(is_valid_webhook_secret(std::string(256, 'x')));
  EXPECT_FALSE(is_valid_webhook_secret(""));
  EXPECT_FALSE(is_valid_webhook_secret(std::string(257, 'x')));
  for (const char* bad : {"with space", "dot.", "plus+", "slash/", "equals=", "caf\u00e9", "tab\t", "new\nline"}) {
    EXPECT_FALSE(is_valid_webhook_secret(bad)) << bad;
  }
}

TEST(WebhookSecret, NewOnesAreValidAndDiffer) {
  auto first = new_webhook_secret();
  auto second = new_webhook_secret();
  EXPECT_TRUE(is_valid_webhook_secret(first));
  EXPECT_EQ(first.size(), 43u);
  EXPECT_NE(first, second);
}

TEST(WebhookSecret, StoredOnceAndReadBackAsText) {
  static std::mt19937_64 names{std::random_device{}()};
  auto file = std::filesystem::temp_directory_path() / ("trellis-telegram-secret-" + std::to_string(names()) + ".db");
  {
    auto store = BridgeStore::open(file);
    ASSERT_TRUE(store);
    // Digits with leading zeros stay text (an INTEGER column would make this 12).
    EXPECT_EQ((*store)->webhook_secret_or("0012"), "0012");
    EXPECT_EQ((*store)->webhook_secret_or("another"), "0012");
  }
  {
    auto store = BridgeStore::open(file);
    ASSERT_TRUE(store);
    EXPECT_EQ((*store)->webhook_secret_or("another"), "0012");
  }
  std::error_code ignored;
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(file.string() + suffix, ignored);
}

}  // namespace
}  // namespace trellis::telegram
