#include "rate_limiter.hpp"

#include <algorithm>

namespace trellis::server {

TokenBucket::TokenBucket(double rate, double burst, Clock::time_point now)
    : rate_(rate), burst_(burst), tokens_(burst), last_(now) {}

bool TokenBucket::try_take(Clock::time_point now) {
  // A clock that steps backwards (or a caller passing an older time point) adds
  // nothing and does not move `last_` back, so it can neither mint tokens nor
  // owe them later.
  if (now > last_) {
    const double elapsed = std::chrono::duration<double>(now - last_).count();
    tokens_ = std::min(burst_, tokens_ + elapsed * rate_);
    last_ = now;
  }
  if (tokens_ < 1.0) return false;
  tokens_ -= 1.0;
  return true;
}

}  // namespace trellis::server
