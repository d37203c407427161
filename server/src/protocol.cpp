#include "protocol.hpp"

#include "trellis/engine/json_text.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <limits>
#include <tuple>
#include <utility>

namespace trellis::server::protocol {

namespace {

using nlohmann::json;
using nlohmann::ordered_json;

constexpr std::array<std::pair<ErrorCode, std::string_view>, 15> kErrorCodes{{
    {ErrorCode::BadJson, "bad_json"},
    {ErrorCode::BadMessage, "bad_message"},
    {ErrorCode::UnknownType, "unknown_type"},
    {ErrorCode::UnknownFlow, "unknown_flow"},
    {ErrorCode::NoActiveFlow, "no_active_flow"},
    {ErrorCode::BadChoice, "bad_choice"},
    {ErrorCode::SeqOutOfOrder, "seq_out_of_order"},
    {ErrorCode::TooLarge, "too_large"},
    {ErrorCode::RateLimited, "rate_limited"},
    {ErrorCode::SessionNotFound, "session_not_found"},
    {ErrorCode::Superseded, "superseded"},
    {ErrorCode::Busy, "busy"},
    {ErrorCode::Internal, "internal"},
    {ErrorCode::HelloRequired, "hello_required"},
    {ErrorCode::TooLong, "too_long"},
}};

constexpr std::string_view kKnownTypes = "hello, start, input, command, forget";
constexpr std::string_view kCommandNames = "help, pause, resume, restart, stop, skip";

// Everything the client sends is untrusted and may be personal: messages built
// here name fields and limits, and never quote a value from the frame.
Error bad_message(std::string message, std::optional<std::int64_t> seq = std::nullopt) {
  return Error{ErrorCode::BadMessage, std::move(message), seq};
}

std::string_view json_kind(const json& value) {
  switch (value.type()) {
    case json::value_t::array: return "an array";
    case json::value_t::string: return "a string";
    case json::value_t::boolean: return "true or false";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float: return "a number";
    case json::value_t::null: return "null";
    default: return "something else";
  }
}

// A field set to null is treated as absent, so that clients which serialise
// "no value" as null (JSON.stringify of a null field) are not refused.
const json* field(const json& object, const char* name) {
  auto found = object.find(name);
  if (found == object.end() || found->is_null()) return nullptr;
  return &*found;
}

// Integers only: 1.0 and 1e3 parse as floating point and are refused, as are
// values beyond int64 (which nlohmann stores as unsigned).
std::optional<std::int64_t> whole_number(const json& value, std::int64_t minimum) {
  std::int64_t number = 0;
  if (value.is_number_integer() && !value.is_number_unsigned()) {
    number = value.get<std::int64_t>();
  } else if (value.is_number_unsigned()) {
    auto unsigned_number = value.get<std::uint64_t>();
    if (unsigned_number > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      return std::nullopt;
    }
    number = static_cast<std::int64_t>(unsigned_number);
  } else {
    return std::nullopt;
  }
  if (number < minimum) return std::nullopt;
  return number;
}

std::variant<std::int64_t, Error> read_seq(const json& frame) {
  const json* seq = field(frame, "seq");
  if (!seq) return bad_message("'seq' is required: a positive whole number, the last seq plus one");
  auto number = whole_number(*seq, 1);
  if (!number) return bad_message("'seq' must be a positive whole number (1, 2, 3, ...)");
  return *number;
}

// A required or optional id-like string: non-empty, at most max_bytes.
std::variant<std::optional<std::string>, Error> read_id(const json& frame, const char* name, bool required,
                                                        std::size_t max_bytes, std::string_view what,
                                                        std::optional<std::int64_t> seq) {
  const json* value = field(frame, name);
  std::string expected = "'";
  expected.append(name).append("' must be a non-empty string of at most ").append(std::to_string(max_bytes));
  expected.append(" bytes (").append(what).append(")");
  if (!value) {
    if (required) return bad_message(expected, seq);
    return std::optional<std::string>{};
  }
  if (!value->is_string()) return bad_message(expected + ", not " + std::string(json_kind(*value)), seq);
  const auto& text = value->get_ref<const std::string&>();
  if (text.empty() || text.size() > max_bytes) return bad_message(expected, seq);
  return std::optional<std::string>{text};
}

std::variant<ClientMessage, Error> parse_hello(const json& frame, const Limits& limits) {
  Hello hello;
  auto session = read_id(frame, "session", false, limits.max_id_bytes, "the token from an earlier welcome",
                         std::nullopt);
  if (auto* error = std::get_if<Error>(&session)) return std::move(*error);
  hello.session = std::get<0>(std::move(session));

  if (const json* last_seen = field(frame, "last_seen")) {
    hello.last_seen = whole_number(*last_seen, 0);
    if (!hello.last_seen) {
      return bad_message("'last_seen' must be a whole number, zero or more: the highest output id received");
    }
  }

  auto client = read_id(frame, "client", false, limits.max_id_bytes, "such as \"web/1.0\"", std::nullopt);
  if (auto* error = std::get_if<Error>(&client)) return std::move(*error);
  hello.client = std::get<0>(std::move(client));
  return hello;
}

std::variant<ClientMessage, Error> parse_start(const json& frame, const Limits& limits) {
  auto seq = read_seq(frame);
  if (auto* error = std::get_if<Error>(&seq)) return std::move(*error);
  Start start;
  start.seq = std::get<std::int64_t>(seq);
  auto flow = read_id(frame, "flow", true, limits.max_id_bytes, "a flow id from welcome's 'flows'", start.seq);
  if (auto* error = std::get_if<Error>(&flow)) return std::move(*error);
  start.flow = *std::get<0>(std::move(flow));
  return start;
}

std::variant<ClientMessage, Error> parse_input(const json& frame, const Limits& limits) {
  auto seq = read_seq(frame);
  if (auto* error = std::get_if<Error>(&seq)) return std::move(*error);
  Input input;
  input.seq = std::get<std::int64_t>(seq);

  const json* text = field(frame, "text");
  const json* choice = field(frame, "choice");
  if (text && choice) {
    return bad_message("an input carries exactly one of 'text' or 'choice', not both", input.seq);
  }
  if (!text && !choice) {
    return bad_message("an input needs 'text' (what the person typed) or 'choice' (a choice id from the prompt)",
                       input.seq);
  }
  if (text) {
    if (!text->is_string()) {
      return bad_message("'text' must be a string, not " + std::string(json_kind(*text)), input.seq);
    }
    // Empty text is ordinary input (the engine re-asks); only length is refused here.
    const auto& value = text->get_ref<const std::string&>();
    if (value.size() > limits.max_text_bytes) {
      return Error{ErrorCode::TooLong,
                   "'text' is longer than " + std::to_string(limits.max_text_bytes) +
                       " bytes; send a shorter answer",
                   input.seq};
    }
    input.text = value;
    return input;
  }
  auto choice_id = read_id(frame, "choice", true, limits.max_id_bytes, "a choice id from the prompt", input.seq);
  if (auto* error = std::get_if<Error>(&choice_id)) return std::move(*error);
  input.choice = std::get<0>(std::move(choice_id));
  return input;
}

std::variant<ClientMessage, Error> parse_command(const json& frame) {
  auto seq = read_seq(frame);
  if (auto* error = std::get_if<Error>(&seq)) return std::move(*error);
  Command command;
  command.seq = std::get<std::int64_t>(seq);
  const json* name = field(frame, "name");
  if (!name || !name->is_string()) {
    return bad_message("'name' must be a string, one of " + std::string(kCommandNames), command.seq);
  }
  auto known = engine::command_from_string(name->get_ref<const std::string&>());
  if (!known) return bad_message("unknown command 'name'; the allowed names are " + std::string(kCommandNames),
                                 command.seq);
  command.name = *known;
  return command;
}

// Strings from the engine may hold text cut by a byte limit; replace broken
// UTF-8 rather than throw while sending.
std::string dump(const ordered_json& frame) {
  return frame.dump(-1, ' ', false, ordered_json::error_handler_t::replace);
}

// Output frames are written by hand rather than built as an ordered_json and
// dumped: that was a quarter of a turn's CPU time (docs/performance.md). The
// bytes are exactly what dump() above writes (protocol_test.cpp compares them):
// keys in the same order, no spaces, strings escaped the same way.

void append_number(std::string& out, std::int64_t number) {
  char digits[24];
  const auto result = std::to_chars(digits, digits + sizeof digits, number);
  out.append(digits, static_cast<std::size_t>(result.ptr - digits));
}

// ,"key": (keys are plain ASCII literals here; nothing to escape)
void append_key(std::string& out, std::string_view key) {
  out += ",\"";
  out += key;
  out += "\":";
}

void append_field(std::string& out, std::string_view key, std::string_view text) {
  append_key(out, key);
  engine::append_json_string(out, text);
}

void append_choices(std::string& out, const std::vector<engine::ChoiceOutput>& choices) {
  append_key(out, "choices");
  out += '[';
  bool first = true;
  for (const auto& choice : choices) {
    if (!first) out += ',';
    first = false;
    out += "{\"id\":";
    engine::append_json_string(out, choice.id);
    out += ",\"label\":";
    engine::append_json_string(out, choice.label);
    out += '}';
  }
  out += ']';
}

struct OutputFrame {
  std::string& out;

  void operator()(const engine::MessageOutput& message) { append_field(out, "text", message.text); }
  void operator()(const engine::PromptOutput& prompt) {
    append_field(out, "input", engine::to_string(prompt.input));
    append_choices(out, prompt.choices);
    if (prompt.min) append_key(out, "min"), append_number(out, *prompt.min);
    if (prompt.max) append_key(out, "max"), append_number(out, *prompt.max);
    append_key(out, "commands");
    out += '[';
    for (std::size_t i = 0; i < prompt.commands.size(); ++i) {
      if (i > 0) out += ',';
      engine::append_json_string(out, prompt.commands[i]);
    }
    out += ']';
  }
  void operator()(const engine::PauseOutput& pause) {
    append_key(out, "ms");
    append_number(out, pause.ms);
  }
  void operator()(const engine::SafetyOutput& safety) {
    append_field(out, "category", safety.category);
    append_field(out, "text", safety.text);
    append_key(out, "resources");
    out += '[';
    for (std::size_t i = 0; i < safety.resources.size(); ++i) {
      const auto& resource = safety.resources[i];
      out += i > 0 ? ",{\"name\":" : "{\"name\":";
      engine::append_json_string(out, resource.name);
      if (resource.phone) append_field(out, "phone", *resource.phone);
      if (resource.sms) append_field(out, "sms", *resource.sms);
      if (resource.url) append_field(out, "url", *resource.url);
      if (resource.hours) append_field(out, "hours", *resource.hours);
      out += '}';
    }
    out += ']';
    append_choices(out, safety.choices);
  }
  void operator()(const engine::EndOutput& end) {
    append_field(out, "flow", end.flow);
    append_field(out, "reason", end.reason);
    append_key(out, "summary");
    // Rare (once per flow) and free-form: nlohmann writes it, as before.
    if (end.summary.is_object()) {
      out += end.summary.dump(-1, ' ', false, json::error_handler_t::replace);
    } else {
      out += "{}";
    }
  }
};

std::string_view type_of(const engine::Output& output) {
  struct Visitor {
    std::string_view operator()(const engine::MessageOutput&) const { return "message"; }
    std::string_view operator()(const engine::PromptOutput&) const { return "prompt"; }
    std::string_view operator()(const engine::PauseOutput&) const { return "pause"; }
    std::string_view operator()(const engine::SafetyOutput&) const { return "safety"; }
    std::string_view operator()(const engine::EndOutput&) const { return "end"; }
  };
  return std::visit(Visitor{}, output);
}

}  // namespace

std::string_view to_string(ErrorCode code) {
  for (const auto& [known, text] : kErrorCodes) {
    if (known == code) return text;
  }
  return "internal";
}

std::variant<ClientMessage, Error> parse_client_frame(std::string_view frame, const Limits& limits) {
  if (frame.size() > limits.max_frame_bytes) {
    return Error{ErrorCode::TooLarge,
                 "the frame is larger than " + std::to_string(limits.max_frame_bytes) + " bytes",
                 std::nullopt};
  }
  json parsed;
  try {
    parsed = json::parse(frame);
  } catch (const json::parse_error& error) {
    // error.what() quotes the bytes it last read, which may be the person's
    // words; report only the position.
    return Error{ErrorCode::BadJson,
                 "the frame is not valid JSON (error at byte " + std::to_string(error.byte) +
                     "); send one JSON object per frame, such as {\"type\":\"hello\"}",
                 std::nullopt};
  } catch (const json::exception&) {
    // Well-formed but unrepresentable, such as a number too large for a double (1e309).
    return Error{ErrorCode::BadJson, "the frame holds a value that cannot be read, such as a number too large",
                 std::nullopt};
  }
  if (!parsed.is_object()) {
    return bad_message("a frame must be a JSON object such as {\"type\":\"hello\"}, not " +
                       std::string(json_kind(parsed)));
  }
  const json* type = field(parsed, "type");
  if (!type) return bad_message("'type' is required: one of " + std::string(kKnownTypes));
  if (!type->is_string()) {
    return bad_message("'type' must be a string, one of " + std::string(kKnownTypes));
  }
  const auto& name = type->get_ref<const std::string&>();
  if (name == "hello") return parse_hello(parsed, limits);
  if (name == "start") return parse_start(parsed, limits);
  if (name == "input") return parse_input(parsed, limits);
  if (name == "command") return parse_command(parsed);
  if (name == "forget") return Forget{};
  return Error{ErrorCode::UnknownType, "unknown 'type'; the known types are " + std::string(kKnownTypes),
               std::nullopt};
}

engine::Event to_event(const Input& input) {
  if (input.choice) return engine::ChoiceEvent{*input.choice};
  return engine::TextEvent{input.text.value_or("")};
}

engine::Event to_event(const Command& command) { return engine::CommandEvent{command.name}; }

std::vector<FlowListing> list_flows(const std::vector<std::shared_ptr<const engine::Flow>>& flows) {
  std::vector<FlowListing> listings;
  listings.reserve(flows.size());
  for (const auto& flow : flows) {
    if (!flow) continue;
    listings.push_back({flow->info.id, flow->info.title, flow->info.description, flow->info.minutes});
  }
  std::sort(listings.begin(), listings.end(), [](const FlowListing& a, const FlowListing& b) {
    return std::tie(a.title, a.id) < std::tie(b.title, b.id);
  });
  return listings;
}

nlohmann::json to_json(const FlowListing& flow) {
  return {{"id", flow.id}, {"title", flow.title}, {"description", flow.description}, {"minutes", flow.minutes}};
}

std::string welcome_frame(std::string_view token, bool resumed, std::int64_t last_seq,
                          const std::vector<FlowListing>& flows) {
  ordered_json frame{{"type", "welcome"}, {"session", token}, {"resumed", resumed}, {"last_seq", last_seq}};
  frame["flows"] = ordered_json::array();
  for (const auto& flow : flows) {
    frame["flows"].push_back(ordered_json{
        {"id", flow.id}, {"title", flow.title}, {"description", flow.description}, {"minutes", flow.minutes}});
  }
  return dump(frame);
}

std::string error_frame(const Error& error) {
  ordered_json frame{{"type", "error"}, {"code", to_string(error.code)}, {"message", error.message}};
  if (error.seq) frame["seq"] = *error.seq;
  return dump(frame);
}

std::vector<std::string> output_frames(const std::vector<engine::Output>& outputs, std::int64_t first_id,
                                       std::int64_t seq) {
  std::vector<std::string> frames;
  frames.reserve(outputs.size());
  std::int64_t id = first_id;
  for (const auto& output : outputs) {
    // Every frame reads type, id, seq, then its own fields.
    std::string& out = frames.emplace_back();
    out.reserve(256);
    out += "{\"type\":\"";
    out += type_of(output);
    out += "\",\"id\":";
    append_number(out, id++);
    out += ",\"seq\":";
    append_number(out, seq);
    std::visit(OutputFrame{out}, output);
    out += '}';
  }
  return frames;
}

}  // namespace trellis::server::protocol
