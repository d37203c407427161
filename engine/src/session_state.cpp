#include "trellis/engine/session_state.hpp"

#include <algorithm>
#include <array>
#include <utility>
#include <vector>

#include "trellis/engine/json_text.hpp"

namespace trellis::engine {

namespace {
constexpr std::array<std::pair<Phase, std::string_view>, 4> kPhaseNames{{
    {Phase::NotStarted, "not_started"},
    {Phase::Waiting, "waiting"},
    {Phase::Paused, "paused"},
    {Phase::Ended, "ended"},
}};

std::string_view phase_name(Phase phase) {
  for (const auto& [value, name] : kPhaseNames) {
    if (value == phase) return name;
  }
  return "not_started";
}
}  // namespace

nlohmann::json to_json(const SessionState& state) {
  nlohmann::json variables = nlohmann::json::object();
  state.variables.for_each([&](const std::string& name, const Value& value) { variables[name] = to_json(value); });
  return {
      {"format", kSessionStateFormat},
      {"flow", state.flow_id},
      {"flow_version", state.flow_version},
      {"phase", phase_name(state.phase)},
      {"at", state.at},
      {"call_stack", state.call_stack},
      {"variables", std::move(variables)},
      {"attempts", state.attempts},
      {"turn", state.turn},
      {"safety", {{"category", state.safety_category}}},
      {"region", state.region},
  };
}

// Written in the order nlohmann's (sorted) objects dump, so the text is byte for
// byte to_json(state).dump() (session_state_test.cpp compares them).
std::string to_json_text(const SessionState& state) {
  std::vector<std::pair<const std::string*, const Value*>> variables;
  state.variables.for_each(
      [&](const std::string& name, const Value& value) { variables.emplace_back(&name, &value); });
  std::sort(variables.begin(), variables.end(), [](const auto& a, const auto& b) { return *a.first < *b.first; });

  std::string out;
  out.reserve(160 + state.at.size() + 24 * variables.size());
  auto key = [&](std::string_view name) {
    out += out.size() == 1 ? "\"" : ",\"";
    out += name;
    out += "\":";
  };
  auto integer = [&](int number) { append_json_number(out, number); };
  out += '{';
  key("at"), append_json_string(out, state.at);
  key("attempts"), integer(state.attempts);
  key("call_stack"), out += '[';
  for (std::size_t i = 0; i < state.call_stack.size(); ++i) {
    if (i > 0) out += ',';
    append_json_string(out, state.call_stack[i]);
  }
  out += ']';
  key("flow"), append_json_string(out, state.flow_id);
  key("flow_version"), integer(state.flow_version);
  key("format"), integer(kSessionStateFormat);
  key("phase"), append_json_string(out, phase_name(state.phase));
  key("region"), append_json_string(out, state.region);
  key("safety"), out += "{\"category\":", append_json_string(out, state.safety_category), out += '}';
  key("turn"), integer(state.turn);
  key("variables"), out += '{';
  for (std::size_t i = 0; i < variables.size(); ++i) {
    if (i > 0) out += ',';
    append_json_string(out, *variables[i].first);
    out += ':';
    const Value& value = *variables[i].second;
    if (const auto* number = std::get_if<double>(&value)) {
      append_json_number(out, *number);
    } else if (const auto* text = std::get_if<std::string>(&value)) {
      append_json_string(out, *text);
    } else {
      out += std::get<bool>(value) ? "true" : "false";
    }
  }
  out += "}}";
  return out;
}

tl::expected<SessionState, std::string> session_state_from_json(const nlohmann::json& json) {
  auto fail = [](std::string why) { return tl::make_unexpected("session state: " + std::move(why)); };
  if (!json.is_object()) return fail("not an object");
  auto format = json.find("format");
  if (format == json.end() || !format->is_number_integer()) return fail("missing 'format'");
  if (format->get<int>() < 1 || format->get<int>() > kSessionStateFormat) {
    return fail("format " + format->dump() + " is not one this version can read");
  }
  auto string_field = [&](const char* key, std::string& out) {
    auto it = json.find(key);
    if (it == json.end() || !it->is_string()) return false;
    out = it->get<std::string>();
    return true;
  };
  auto int_field = [&](const char* key, int& out) {
    auto it = json.find(key);
    if (it == json.end() || !it->is_number_integer()) return false;
    out = it->get<int>();
    return true;
  };
  SessionState state;
  std::string phase;
  if (!string_field("flow", state.flow_id)) return fail("'flow' must be a string");
  if (!int_field("flow_version", state.flow_version)) return fail("'flow_version' must be an integer");
  if (!string_field("phase", phase)) return fail("'phase' must be a string");
  bool known_phase = false;
  for (const auto& [value, name] : kPhaseNames) {
    if (name == phase) {
      state.phase = value;
      known_phase = true;
    }
  }
  if (!known_phase) return fail("unknown phase '" + phase + "'");
  if (!string_field("at", state.at)) return fail("'at' must be a string");
  if (!int_field("attempts", state.attempts)) return fail("'attempts' must be an integer");
  if (!int_field("turn", state.turn)) return fail("'turn' must be an integer");
  auto stack = json.find("call_stack");
  if (stack == json.end() || !stack->is_array()) return fail("'call_stack' must be an array");
  for (const auto& entry : *stack) {
    if (!entry.is_string()) return fail("'call_stack' entries must be strings");
    state.call_stack.push_back(entry.get<std::string>());
  }
  auto variables = json.find("variables");
  if (variables == json.end() || !variables->is_object()) return fail("'variables' must be an object");
  for (const auto& [name, value] : variables->items()) {
    auto parsed = value_from_json(value);
    if (!parsed) return fail("variable '" + name + "' is not a number, string or boolean");
    state.variables.set(name, std::move(*parsed));
  }
  if (format->get<int>() >= 2) {
    auto safety = json.find("safety");
    if (safety == json.end() || !safety->is_object()) return fail("'safety' must be an object");
    auto category = safety->find("category");
    if (category == safety->end() || !category->is_string()) return fail("'safety.category' must be a string");
    state.safety_category = category->get<std::string>();
    if (!string_field("region", state.region)) return fail("'region' must be a string");
  }
  return state;
}

}  // namespace trellis::engine
