#pragma once
// Protocol v1 (docs/protocol.md): the JSON frames a client and the server exchange
// over /ws. Pure functions: text in, values out, and values in, text out.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "trellis/engine/event.hpp"
#include "trellis/engine/flow.hpp"
#include "trellis/engine/output.hpp"

namespace trellis::server::protocol {

inline constexpr int kVersion = 1;

// Client -> server.
struct Hello {
  std::optional<std::string> session;  // token; absent: a new session
  std::optional<std::int64_t> last_seen;
  std::optional<std::string> client;
};
struct Start {
  std::int64_t seq = 0;
  std::string flow;
};
struct Input {  // exactly one of text or choice
  std::int64_t seq = 0;
  std::optional<std::string> text;
  std::optional<std::string> choice;
};
struct Command {
  std::int64_t seq = 0;
  engine::CommandName name = engine::CommandName::Help;
};
struct Forget {};

using ClientMessage = std::variant<Hello, Start, Input, Command, Forget>;

// Error codes, as they appear on the wire ("bad_json", ...).
enum class ErrorCode {
  BadJson, BadMessage, UnknownType, UnknownFlow, NoActiveFlow, BadChoice, SeqOutOfOrder,
  TooLarge, RateLimited, SessionNotFound, Superseded, Busy, Internal, HelloRequired, TooLong,
};
std::string_view to_string(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::Internal;
  std::string message;               // for people: says what was wrong and what to send instead
  std::optional<std::int64_t> seq;   // the input it refers to, when known
};

struct Limits {
  std::size_t max_text_bytes = 4000;  // longest `text` in an input
};

// Parses one text frame. Never throws; anything malformed is an Error with the
// specific code (bad_json, unknown_type, bad_message for missing or mistyped fields).
std::variant<ClientMessage, Error> parse_client_frame(std::string_view frame, const Limits& limits = {});

// The engine event an input or command stands for.
engine::Event to_event(const Input& input);
engine::Event to_event(const Command& command);

// Server -> client frames, serialised.
struct FlowListing {
  std::string id, title, description;
  int minutes = 0;
};
std::vector<FlowListing> list_flows(const std::vector<std::shared_ptr<const engine::Flow>>& flows);
nlohmann::json to_json(const FlowListing& flow);

std::string welcome_frame(std::string_view token, bool resumed, std::int64_t last_seq,
                          const std::vector<FlowListing>& flows);
std::string error_frame(const Error& error);
// One frame per output, ids first_id, first_id + 1, ...; every frame carries `seq`.
std::vector<std::string> output_frames(const std::vector<engine::Output>& outputs, std::int64_t first_id,
                                       std::int64_t seq);

}  // namespace trellis::server::protocol
