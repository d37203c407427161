#pragma once
// A token bucket: `rate` tokens a second, holding at most `burst`. Time is passed
// in, so tests need no sleeping.
#include <chrono>

namespace trellis::server {

class TokenBucket {
 public:
  using Clock = std::chrono::steady_clock;
  TokenBucket(double rate, double burst, Clock::time_point now);
  bool try_take(Clock::time_point now);  // false: over the rate, drop or refuse

 private:
  double rate_, burst_, tokens_;
  Clock::time_point last_;
};

}  // namespace trellis::server
