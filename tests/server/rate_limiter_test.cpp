#include "rate_limiter.hpp"

#include <gtest/gtest.h>

namespace trellis::server {
namespace {

using namespace std::chrono_literals;
const TokenBucket::Clock::time_point kStart{1000s};

int take_all(TokenBucket& bucket, TokenBucket::Clock::time_point now) {
  int taken = 0;
  while (bucket.try_take(now) && taken < 1000) ++taken;
  return taken;
}

TEST(TokenBucket, StartsFullAndAllowsTheBurst) {
  TokenBucket bucket(5, 20, kStart);
  EXPECT_EQ(take_all(bucket, kStart), 20);
  EXPECT_FALSE(bucket.try_take(kStart));
}

TEST(TokenBucket, RefillsAtTheRate) {
  TokenBucket bucket(5, 20, kStart);
  take_all(bucket, kStart);
  EXPECT_FALSE(bucket.try_take(kStart + 100ms));  // half a token
  EXPECT_TRUE(bucket.try_take(kStart + 200ms));   // one token
  EXPECT_FALSE(bucket.try_take(kStart + 200ms));
  EXPECT_EQ(take_all(bucket, kStart + 1200ms), 5);  // one second later: five more
}

TEST(TokenBucket, NeverHoldsMoreThanTheBurst) {
  TokenBucket bucket(5, 20, kStart);
  take_all(bucket, kStart);
  EXPECT_EQ(take_all(bucket, kStart + 1h), 20);
  TokenBucket idle(5, 3, kStart);
  EXPECT_EQ(take_all(idle, kStart + 24h), 3);
}

TEST(TokenBucket, TimeGoingBackwardsIsHarmless) {
  TokenBucket bucket(5, 20, kStart);
  take_all(bucket, kStart + 10s);
  EXPECT_FALSE(bucket.try_take(kStart));        // the past mints nothing
  EXPECT_FALSE(bucket.try_take(kStart - 1h));
  EXPECT_TRUE(bucket.try_take(kStart + 10s + 200ms));  // and owes nothing: refill resumes from the latest time
  EXPECT_FALSE(bucket.try_take(kStart + 10s + 200ms));
}

TEST(TokenBucket, FractionalRatesAccumulate) {
  TokenBucket bucket(0.5, 1, kStart);
  EXPECT_TRUE(bucket.try_take(kStart));
  EXPECT_FALSE(bucket.try_take(kStart + 1s));
  EXPECT_TRUE(bucket.try_take(kStart + 2s));
}

}  // namespace
}  // namespace trellis::server
