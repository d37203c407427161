#include "webhook_secret.hpp"

#include <algorithm>

#include "session_token.hpp"

namespace trellis::telegram {

bool is_valid_webhook_secret(std::string_view secret) {
  if (secret.empty() || secret.size() > 256) return false;
  return std::all_of(secret.begin(), secret.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

std::string new_webhook_secret() { return server::new_session_token(); }

}  // namespace trellis::telegram
