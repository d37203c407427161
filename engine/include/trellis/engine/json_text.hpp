#pragma once
// JSON text written directly, without building an nlohmann tree first: for the
// hot paths that write the same shapes every turn (a session's saved state, the
// server's output frames). The bytes are what nlohmann's dump() writes for the
// same values with error_handler_t::replace and ensure_ascii off, so anything
// that reads them with nlohmann reads the same values.
#include <string>
#include <string_view>

namespace trellis::engine {

// `text` as a JSON string, quotes included. Invalid UTF-8 becomes U+FFFD.
void append_json_string(std::string& out, std::string_view text);

// A Value's number as to_json(Value) gives it: whole numbers up to 2^53 as
// integers ("7"), others in their shortest round-trip form, non-finite as null.
void append_json_number(std::string& out, double number);

}  // namespace trellis::engine
