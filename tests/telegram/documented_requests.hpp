#pragma once
// The check every bridge test ends with: each request the bridge made to the
// (fake) Bot API names a documented method and carries its required parameters
// with the documented JSON types (api_methods.json in the fixtures), and nothing
// undocumented; plain text only; button data and toasts within Telegram's limits.
#include <vector>

#include "fake_bot_api.hpp"

namespace trellis::telegram::testing {

void expect_documented(const std::vector<BotRequest>& requests);

}  // namespace trellis::telegram::testing
