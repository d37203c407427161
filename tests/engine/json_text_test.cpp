// JSON written without nlohmann's tree must read back as the same values, and
// where the bytes are promised (strings, states) be nlohmann's bytes exactly.
#include "trellis/engine/json_text.hpp"

#include <cmath>
#include <limits>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "trellis/engine/session_state.hpp"

namespace trellis::engine {
namespace {

std::string as_json_string(std::string_view text) {
  std::string out;
  append_json_string(out, text);
  return out;
}

std::string as_json_number(double number) {
  std::string out;
  append_json_number(out, number);
  return out;
}

TEST(JsonText, StringsAreNlohmannsBytes) {
  const std::string cases[] = {
      "",
      "plain words",
      "quotes \" and \\ backslashes",
      "\b\f\n\r\t and \x01\x1f\x7f",
      "caf\xC3\xA9, \xE2\x80\x94 and \xF0\x9F\x8C\xB1",
      std::string("a\0b", 3),
      "broken \xC3 here, \xFF there, cut off at the end \xE2\x80",
      "surrogate \xED\xA0\x80 and overlong \xC0\xAF",
  };
  for (const auto& text : cases) {
    EXPECT_EQ(as_json_string(text), nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace))
        << text;
  }
}

TEST(JsonText, NumbersReadBackAsTheSameValue) {
  EXPECT_EQ(as_json_number(7), "7");
  EXPECT_EQ(as_json_number(-42), "-42");
  EXPECT_EQ(as_json_number(0), "0");
  EXPECT_EQ(as_json_number(7.5), "7.5");
  EXPECT_EQ(as_json_number(std::nan("")), "null");
  EXPECT_EQ(as_json_number(std::numeric_limits<double>::infinity()), "null");
  for (double number : {0.1, 1.0 / 3.0, -2.5e-7, 1e300, 9007199254740994.0, 123456.789}) {
    EXPECT_EQ(nlohmann::json::parse(as_json_number(number)).get<double>(), number) << as_json_number(number);
  }
}

SessionState busy_state() {
  SessionState state;
  state.flow_id = "braving";
  state.flow_version = 3;
  state.phase = Phase::Waiting;
  state.at = "vault";
  state.call_stack = {"after_intro", "reflect"};
  state.attempts = 2;
  state.turn = 17;
  state.safety_category = "self_harm";
  state.region = "uk_ie";
  state.variables.set("boundaries", Value{7.0});
  state.variables.set("average", Value{6.5});
  state.variables.set("agreed", Value{true});
  state.variables.set("note", Value{std::string("she said \"trust me\"\nand I did \xF0\x9F\x8C\xB1")});
  state.variables.set("Zeta", Value{false});
  return state;
}

TEST(SessionStateText, IsWhatNlohmannWouldWrite) {
  for (const SessionState& state : {SessionState{}, busy_state()}) {
    EXPECT_EQ(to_json_text(state), to_json(state).dump());
  }
}

TEST(SessionStateText, ReadsBackAsTheSameState) {
  const SessionState state = busy_state();
  auto back = session_state_from_json(nlohmann::json::parse(to_json_text(state)));
  ASSERT_TRUE(back) << back.error();
  EXPECT_EQ(*back, state);
}

TEST(SessionStateText, InvalidUtf8InAnAnswerIsReplacedNotThrown) {
  SessionState state;
  state.variables.set("answer_text", Value{std::string("bad \xFF byte")});
  auto back = session_state_from_json(nlohmann::json::parse(to_json_text(state)));
  ASSERT_TRUE(back) << back.error();
  EXPECT_EQ(std::get<std::string>(back->variables.at("answer_text")), "bad \xEF\xBF\xBD byte");
}

}  // namespace
}  // namespace trellis::engine
