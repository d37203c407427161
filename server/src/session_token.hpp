#pragma once
// Session tokens: 256 bits from the OS's CSPRNG, base64url; stored only as SHA-256.
#include <string>
#include <string_view>

namespace trellis::server {

std::string new_session_token();                   // 43 characters, [A-Za-z0-9_-]
std::string hash_token(std::string_view token);    // lower-case hex SHA-256
bool looks_like_token(std::string_view token);     // shape check before any lookup
std::string sha256_hex(std::string_view bytes);    // lower-case hex SHA-256 of any bytes (hash_token uses it)

}  // namespace trellis::server
