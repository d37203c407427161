#include "session_token.hpp"

#include <set>
#include <string>

#include <gtest/gtest.h>

namespace trellis::server {
namespace {

TEST(SessionToken, Has43Base64UrlCharacters) {
  for (int i = 0; i < 100; ++i) {
    const std::string token = new_session_token();
    ASSERT_EQ(token.size(), 43u) << token;
    for (char c : token) {
      const bool allowed = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                           c == '-' || c == '_';
      EXPECT_TRUE(allowed) << "character '" << c << "' in " << token;
    }
    EXPECT_TRUE(looks_like_token(token)) << token;
  }
}

TEST(SessionToken, ThousandTokensAreDistinct) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) seen.insert(new_session_token());
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(SessionToken, HashIsSha256InLowerCaseHex) {
  EXPECT_EQ(hash_token("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(hash_token(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(SessionToken, HashDiffersFromTokenAndIsStable) {
  const std::string token = new_session_token();
  const std::string hash = hash_token(token);
  EXPECT_NE(hash, token);
  EXPECT_EQ(hash.size(), 64u);
  EXPECT_EQ(hash, hash_token(token));
  EXPECT_NE(hash, hash_token(new_session_token()));
}

TEST(SessionToken, LooksLikeTokenRejectsWrongShapes) {
  const std::string good(43, 'A');
  EXPECT_TRUE(looks_like_token(good));
  const std::string rows[] = {
      "",
      std::string(42, 'A'),
      std::string(44, 'A'),
      std::string(42, 'A') + "=",
      std::string(42, 'A') + "+",
      std::string(42, 'A') + "/",
      std::string(42, 'A') + " ",
      std::string(42, 'A') + std::string(1, '\0'),
      std::string(42, 'A') + "\xC3",
  };
  for (const auto& row : rows) EXPECT_FALSE(looks_like_token(row)) << '"' << row << '"';
}

}  // namespace
}  // namespace trellis::server
