#pragma once
// The webhook's secret_token: Telegram sends it back in the
// X-Telegram-Bot-Api-Secret-Token header of every update it posts, so the
// bridge can tell Telegram's posts from anyone else's. It is a secret: never
// logged, never printed, never put in an error message.
#include <string>
#include <string_view>

namespace trellis::telegram {

// What setWebhook accepts: 1-256 characters, each A-Z, a-z, 0-9, _ or -.
bool is_valid_webhook_secret(std::string_view secret);

// 256 bits from the OS's CSPRNG (as the server's session tokens), base64url: 43 valid characters.
std::string new_webhook_secret();

}  // namespace trellis::telegram
