#include "protocol.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace trellis::server::protocol {
namespace {

using nlohmann::json;

// Returns the error a frame is refused with; fails the test if it parses.
Error refusal(std::string_view frame, const Limits& limits = {}) {
  auto parsed = parse_client_frame(frame, limits);
  if (auto* error = std::get_if<Error>(&parsed)) return *error;
  ADD_FAILURE() << "parsed, but should have been refused: " << frame;
  return {};
}

template <typename Message>
Message parsed_as(std::string_view frame) {
  auto parsed = parse_client_frame(frame);
  if (auto* error = std::get_if<Error>(&parsed)) {
    ADD_FAILURE() << frame << " -> " << to_string(error->code) << ": " << error->message;
    return {};
  }
  const auto& message = std::get<ClientMessage>(parsed);
  if (!std::holds_alternative<Message>(message)) {
    ADD_FAILURE() << frame << " parsed as the wrong message type (index " << message.index() << ")";
    return {};
  }
  return std::get<Message>(message);
}

std::string repeat(char c, std::size_t n) { return std::string(n, c); }

// ---------------------------------------------------------------------------
// Malformed frames: one row each, the code expected and a word the message
// must contain (the field it names), so messages stay specific.

struct BadFrame {
  const char* name;
  std::string frame;
  ErrorCode code;
  const char* mentions;            // "" when any message will do
  std::optional<std::int64_t> seq;  // the seq the error should carry
};

std::vector<BadFrame> bad_frames() {
  const auto big_text = R"({"type":"input","seq":4,"text":")" + repeat('a', 4001) + R"("})";
  const auto long_session = R"({"type":"hello","session":")" + repeat('t', 101) + R"("})";
  const auto long_flow = R"({"type":"start","seq":1,"flow":")" + repeat('f', 101) + R"("})";
  return {
      {"not JSON", "hello", ErrorCode::BadJson, "byte", {}},
      {"empty frame", "", ErrorCode::BadJson, "JSON", {}},
      {"truncated object", R"({"type":"hello")", ErrorCode::BadJson, "byte", {}},
      {"truncated string", R"({"type":"inp)", ErrorCode::BadJson, "byte", {}},
      {"trailing garbage", R"({"type":"hello"} x)", ErrorCode::BadJson, "byte", {}},
      {"single quotes", R"({'type':'hello'})", ErrorCode::BadJson, "byte", {}},
      {"invalid UTF-8", "{\"type\":\"input\",\"seq\":1,\"text\":\"\xff\xfe\"}", ErrorCode::BadJson, "byte", {}},
      {"array", R"([{"type":"hello"}])", ErrorCode::BadMessage, "object", {}},
      {"number", "42", ErrorCode::BadMessage, "object", {}},
      {"string", R"("hello")", ErrorCode::BadMessage, "object", {}},
      {"null", "null", ErrorCode::BadMessage, "object", {}},
      {"empty object", "{}", ErrorCode::BadMessage, "'type'", {}},
      {"type null", R"({"type":null})", ErrorCode::BadMessage, "'type'", {}},
      {"type a number", R"({"type":1})", ErrorCode::BadMessage, "'type'", {}},
      {"unknown type", R"({"type":"chat","seq":1})", ErrorCode::UnknownType, "hello, start, input, command, forget", {}},
      {"type in capitals", R"({"type":"HELLO"})", ErrorCode::UnknownType, "known types", {}},
      {"seq a string", R"({"type":"input","seq":"1","text":"hi"})", ErrorCode::BadMessage, "'seq' must be a positive whole number", {}},
      {"seq a fraction", R"({"type":"input","seq":1.5,"text":"hi"})", ErrorCode::BadMessage, "'seq'", {}},
      {"seq written as 1.0", R"({"type":"input","seq":1.0,"text":"hi"})", ErrorCode::BadMessage, "'seq'", {}},
      {"seq negative", R"({"type":"input","seq":-1,"text":"hi"})", ErrorCode::BadMessage, "'seq'", {}},
      {"seq zero", R"({"type":"input","seq":0,"text":"hi"})", ErrorCode::BadMessage, "'seq'", {}},
      {"seq beyond int64", R"({"type":"input","seq":18446744073709551615,"text":"hi"})", ErrorCode::BadMessage, "'seq'", {}},
      {"seq a boolean", R"({"type":"command","seq":true,"name":"help"})", ErrorCode::BadMessage, "'seq'", {}},
      {"missing seq on input", R"({"type":"input","text":"hi"})", ErrorCode::BadMessage, "'seq' is required", {}},
      {"missing seq on start", R"({"type":"start","flow":"trust"})", ErrorCode::BadMessage, "'seq'", {}},
      {"missing seq on command", R"({"type":"command","name":"help"})", ErrorCode::BadMessage, "'seq'", {}},
      {"missing flow", R"({"type":"start","seq":1})", ErrorCode::BadMessage, "'flow'", 1},
      {"flow a number", R"({"type":"start","seq":1,"flow":7})", ErrorCode::BadMessage, "'flow'", 1},
      {"flow empty", R"({"type":"start","seq":1,"flow":""})", ErrorCode::BadMessage, "'flow'", 1},
      {"flow too long", long_flow, ErrorCode::BadMessage, "'flow'", 1},
      {"both text and choice", R"({"type":"input","seq":2,"text":"hi","choice":"yes"})", ErrorCode::BadMessage, "not both", 2},
      {"neither text nor choice", R"({"type":"input","seq":2})", ErrorCode::BadMessage, "'choice'", 2},
      {"text null, choice null", R"({"type":"input","seq":2,"text":null,"choice":null})", ErrorCode::BadMessage, "'text'", 2},
      {"text a number", R"({"type":"input","seq":2,"text":5})", ErrorCode::BadMessage, "'text' must be a string", 2},
      {"text an object", R"({"type":"input","seq":2,"text":{"a":1}})", ErrorCode::BadMessage, "'text'", 2},
      {"choice a number", R"({"type":"input","seq":2,"choice":1})", ErrorCode::BadMessage, "'choice'", 2},
      {"choice empty", R"({"type":"input","seq":2,"choice":""})", ErrorCode::BadMessage, "'choice'", 2},
      {"huge text", big_text, ErrorCode::TooLong, "4000 bytes", 4},
      {"unknown command", R"({"type":"command","seq":3,"name":"quit"})", ErrorCode::BadMessage, "help, pause, resume, restart, stop, skip", 3},
      {"command in capitals", R"({"type":"command","seq":3,"name":"HELP"})", ErrorCode::BadMessage, "allowed names", 3},
      {"command name missing", R"({"type":"command","seq":3})", ErrorCode::BadMessage, "'name'", 3},
      {"command name a number", R"({"type":"command","seq":3,"name":1})", ErrorCode::BadMessage, "'name'", 3},
      {"hello with a numeric session", R"({"type":"hello","session":12345})", ErrorCode::BadMessage, "'session'", {}},
      {"hello with an empty session", R"({"type":"hello","session":""})", ErrorCode::BadMessage, "'session'", {}},
      {"hello with a long session", long_session, ErrorCode::BadMessage, "at most 100 bytes", {}},
      {"hello with negative last_seen", R"({"type":"hello","last_seen":-1})", ErrorCode::BadMessage, "'last_seen'", {}},
      {"hello with fractional last_seen", R"({"type":"hello","last_seen":2.5})", ErrorCode::BadMessage, "'last_seen'", {}},
      {"hello with string last_seen", R"({"type":"hello","last_seen":"3"})", ErrorCode::BadMessage, "'last_seen'", {}},
      {"hello with an object client", R"({"type":"hello","client":{"name":"web"}})", ErrorCode::BadMessage, "'client'", {}},
  };
}

TEST(ParseClientFrame, RefusesEachMalformedFrameWithItsCode) {
  const auto rows = bad_frames();
  ASSERT_GE(rows.size(), 30u);
  for (const auto& row : rows) {
    SCOPED_TRACE(row.name);
    auto error = refusal(row.frame);
    EXPECT_EQ(to_string(error.code), to_string(row.code)) << error.message;
    EXPECT_NE(error.message.find(row.mentions), std::string::npos) << error.message;
    EXPECT_EQ(error.seq, row.seq);
  }
}

TEST(ParseClientFrame, RefusesAFrameOverTheFrameLimit) {
  Limits limits;
  limits.max_frame_bytes = 32;
  auto error = refusal(R"({"type":"input","seq":1,"text":"a bit more than 32 bytes"})", limits);
  EXPECT_EQ(error.code, ErrorCode::TooLarge);
  EXPECT_NE(error.message.find("32 bytes"), std::string::npos);
}

TEST(ParseClientFrame, TextLimitCountsBytesAndIsConfigurable) {
  Limits limits;
  limits.max_text_bytes = 4;
  // "é" is two bytes in UTF-8: two of them fit exactly, three do not.
  auto fits = parse_client_frame(R"({"type":"input","seq":1,"text":"éé"})", limits);
  EXPECT_TRUE(std::holds_alternative<ClientMessage>(fits));
  EXPECT_EQ(refusal(R"({"type":"input","seq":1,"text":"ééé"})", limits).code, ErrorCode::TooLong);
}

TEST(ParseClientFrame, BadJsonGivesThePositionOfTheError) {
  // Bytes count from 1: the second comma is byte 18.
  auto error = refusal(R"({"type": "hello",, })");
  EXPECT_EQ(error.code, ErrorCode::BadJson);
  EXPECT_NE(error.message.find("byte 18"), std::string::npos) << error.message;
}

// The person's words must never come back in an error, where they might be
// logged or shown out of context.
TEST(ParseClientFrame, ErrorMessagesNeverEchoTheClientsText) {
  const std::string secret = "my sister hurt me";
  const std::vector<std::string> frames = {
      R"({"type":"input","seq":1,"text":")" + secret,                             // truncated: bad_json
      R"({"type":"input","seq":1,"text":")" + secret + R"(",})",                  // trailing comma
      R"({"type":"input","seq":1,"text":")" + secret + R"(" "choice":"x"})",      // missing comma
      R"({"type":"input","seq":1,"text":")" + secret + R"(","choice":"x"})",      // both
      R"({"type":"input","seq":1,"text":")" + secret + repeat('!', 4000) + R"("})",  // too long
      R"({"type":")" + secret + R"("})",                                          // unknown type
      R"({"type":"command","seq":1,"name":")" + secret + R"("})",                 // unknown command
      R"({"type":"start","seq":1,"flow":")" + secret + repeat('x', 100) + R"("})",   // flow too long
      R"({"type":"hello","session":")" + secret + repeat('x', 100) + R"("})",     // session too long
      R"({"type":"hello","client":")" + secret + repeat('x', 100) + R"("})",      // client too long
      R"({"type":"input","seq":")" + secret + R"(","text":"x"})",                 // seq a string
      R"([")" + secret + R"("])",                                                 // an array
      "\"" + secret + "\"",                                                       // a string
      secret,                                                                     // not JSON
  };
  for (const auto& frame : frames) {
    SCOPED_TRACE(frame.substr(0, 80));
    auto error = refusal(frame);
    auto sent = error_frame(error);
    EXPECT_EQ(sent.find("sister"), std::string::npos) << sent;
    EXPECT_EQ(sent.find("hurt"), std::string::npos) << sent;
  }
}

// ---------------------------------------------------------------------------
// Good frames.

TEST(ParseClientFrame, HelloForANewSession) {
  auto hello = parsed_as<Hello>(R"({"type":"hello"})");
  EXPECT_FALSE(hello.session);
  EXPECT_FALSE(hello.last_seen);
  EXPECT_FALSE(hello.client);
}

TEST(ParseClientFrame, HelloToResume) {
  auto hello = parsed_as<Hello>(R"({"type":"hello","session":"tok_abc","last_seen":12,"client":"web/1.2"})");
  EXPECT_EQ(hello.session, "tok_abc");
  EXPECT_EQ(hello.last_seen, 12);
  EXPECT_EQ(hello.client, "web/1.2");
  EXPECT_EQ(parsed_as<Hello>(R"({"type":"hello","session":"t","last_seen":0})").last_seen, 0);
  EXPECT_EQ(parsed_as<Hello>(R"({"type":"hello","session":")" + repeat('t', 100) + R"("})").session,
            repeat('t', 100));
}

TEST(ParseClientFrame, NullOptionalFieldsCountAsAbsent) {
  auto hello = parsed_as<Hello>(R"({"type":"hello","session":null,"last_seen":null,"client":null})");
  EXPECT_FALSE(hello.session);
  EXPECT_FALSE(hello.last_seen);
  EXPECT_FALSE(hello.client);
  auto input = parsed_as<Input>(R"({"type":"input","seq":3,"text":null,"choice":"yes"})");
  EXPECT_EQ(input.choice, "yes");
  EXPECT_FALSE(input.text);
}

TEST(ParseClientFrame, Start) {
  auto start = parsed_as<Start>(R"({"type":"start","seq":1,"flow":"braving"})");
  EXPECT_EQ(start.seq, 1);
  EXPECT_EQ(start.flow, "braving");
}

TEST(ParseClientFrame, InputWithText) {
  auto input = parsed_as<Input>(R"({"type":"input","seq":7,"text":"I felt let down \u2014 again"})");
  EXPECT_EQ(input.seq, 7);
  EXPECT_EQ(input.text, "I felt let down \xE2\x80\x94 again");
  EXPECT_FALSE(input.choice);
  auto event = to_event(input);
  ASSERT_TRUE(std::holds_alternative<engine::TextEvent>(event));
  EXPECT_EQ(std::get<engine::TextEvent>(event).text, *input.text);
}

TEST(ParseClientFrame, InputWithEmptyTextIsOrdinaryInput) {
  EXPECT_EQ(parsed_as<Input>(R"({"type":"input","seq":1,"text":""})").text, "");
  EXPECT_EQ(parsed_as<Input>(R"({"type":"input","seq":1,"text":")" + repeat('a', 4000) + R"("})").text,
            repeat('a', 4000));
}

TEST(ParseClientFrame, InputWithChoice) {
  auto input = parsed_as<Input>(R"({"type":"input","seq":8,"choice":"walk"})");
  EXPECT_EQ(input.seq, 8);
  EXPECT_EQ(input.choice, "walk");
  EXPECT_FALSE(input.text);
  auto event = to_event(input);
  ASSERT_TRUE(std::holds_alternative<engine::ChoiceEvent>(event));
  EXPECT_EQ(std::get<engine::ChoiceEvent>(event).choice_id, "walk");
}

TEST(ParseClientFrame, EveryCommand) {
  const std::vector<std::pair<std::string, engine::CommandName>> commands = {
      {"help", engine::CommandName::Help},       {"pause", engine::CommandName::Pause},
      {"resume", engine::CommandName::Resume},   {"restart", engine::CommandName::Restart},
      {"stop", engine::CommandName::Stop},       {"skip", engine::CommandName::Skip},
  };
  for (const auto& [name, expected] : commands) {
    auto command = parsed_as<Command>(R"({"type":"command","seq":9,"name":")" + name + R"("})");
    EXPECT_EQ(command.seq, 9);
    EXPECT_EQ(command.name, expected) << name;
    auto event = to_event(command);
    ASSERT_TRUE(std::holds_alternative<engine::CommandEvent>(event));
    EXPECT_EQ(std::get<engine::CommandEvent>(event).name, expected);
  }
}

TEST(ParseClientFrame, Forget) {
  parsed_as<Forget>(R"({"type":"forget"})");
  parsed_as<Forget>(R"({"type":"forget","seq":"whatever"})");  // forget carries no seq; extras are ignored
}

TEST(ParseClientFrame, IgnoresUnknownExtraFields) {
  auto start = parsed_as<Start>(R"({"type":"start","seq":2,"flow":"trust","locale":"fr","v":{"x":[1]}})");
  EXPECT_EQ(start.flow, "trust");
  auto hello = parsed_as<Hello>(R"({"client":"cli/0.1","type":"hello","features":["safety"]})");
  EXPECT_EQ(hello.client, "cli/0.1");
}

TEST(ParseClientFrame, LargestSeq) {
  auto input = parsed_as<Input>(R"({"type":"input","seq":9223372036854775807,"choice":"a"})");
  EXPECT_EQ(input.seq, std::numeric_limits<std::int64_t>::max());
}

// ---------------------------------------------------------------------------
// Server frames.

std::vector<engine::Output> one_of_each() {
  engine::PromptOutput scale;
  scale.input = engine::InputKind::Scale;
  scale.choices = {{"1", "1"}, {"2", "2"}, {"3", "3"}};
  scale.min = 1;
  scale.max = 3;
  scale.commands = {"help", "skip"};
  scale.node = "mood";
  return {
      engine::MessageOutput{"Hi there.", "hello"},
      engine::PauseOutput{1000, "hello"},
      scale,
      engine::EndOutput{"checkin", "completed", json{{"mood", 7}, {"good", true}}},
  };
}

TEST(OutputFrames, MessageFieldByField) {
  auto frames = output_frames({engine::MessageOutput{"Hi \"there\".", "hello"}}, 5, 2);
  ASSERT_EQ(frames.size(), 1u);
  auto frame = json::parse(frames[0]);
  EXPECT_EQ(frame, (json{{"type", "message"}, {"id", 5}, {"seq", 2}, {"text", "Hi \"there\"."}}));
  EXPECT_EQ(frames[0].rfind(R"({"type":"message","id":5,"seq":2,)", 0), 0u) << frames[0];
}

TEST(OutputFrames, PromptWithChoicesAndRange) {
  auto frames = output_frames({one_of_each()[2]}, 1, 1);
  auto frame = json::parse(frames.at(0));
  EXPECT_EQ(frame["type"], "prompt");
  EXPECT_EQ(frame["id"], 1);
  EXPECT_EQ(frame["seq"], 1);
  EXPECT_EQ(frame["input"], "scale");
  EXPECT_EQ(frame["choices"], json::parse(R"([{"id":"1","label":"1"},{"id":"2","label":"2"},{"id":"3","label":"3"}])"));
  EXPECT_EQ(frame["min"], 1);
  EXPECT_EQ(frame["max"], 3);
  EXPECT_EQ(frame["commands"], json::parse(R"(["help","skip"])"));
  EXPECT_FALSE(frame.contains("node"));
  EXPECT_EQ(frame.size(), 8u);
}

TEST(OutputFrames, TextPromptOmitsMinMaxButKeepsEmptyChoicesAndCommands) {
  engine::PromptOutput text;
  text.input = engine::InputKind::Text;
  auto frame = json::parse(output_frames({text}, 3, 4).at(0));
  EXPECT_EQ(frame, (json{{"type", "prompt"}, {"id", 3}, {"seq", 4}, {"input", "text"},
                         {"choices", json::array()}, {"commands", json::array()}}));
  engine::PromptOutput number;
  number.input = engine::InputKind::Number;
  number.min = 0;  // present even when zero
  auto numeric = json::parse(output_frames({number}, 1, 1).at(0));
  EXPECT_EQ(numeric["input"], "number");
  EXPECT_EQ(numeric["min"], 0);
  EXPECT_FALSE(numeric.contains("max"));
}

TEST(OutputFrames, EveryInputKindHasItsWireName) {
  const std::vector<std::pair<engine::InputKind, std::string>> kinds = {
      {engine::InputKind::Choice, "choice"}, {engine::InputKind::YesNo, "yesno"},
      {engine::InputKind::Text, "text"},     {engine::InputKind::Number, "number"},
      {engine::InputKind::Scale, "scale"},
  };
  for (const auto& [kind, name] : kinds) {
    engine::PromptOutput prompt;
    prompt.input = kind;
    EXPECT_EQ(json::parse(output_frames({prompt}, 1, 1).at(0))["input"], name);
  }
}

TEST(OutputFrames, PauseFieldByField) {
  auto frame = json::parse(output_frames({engine::PauseOutput{1500, "n"}}, 9, 3).at(0));
  EXPECT_EQ(frame, (json{{"type", "pause"}, {"id", 9}, {"seq", 3}, {"ms", 1500}}));
}

TEST(OutputFrames, EndFieldByField) {
  auto frame = json::parse(output_frames({one_of_each()[3]}, 4, 6).at(0));
  EXPECT_EQ(frame, (json{{"type", "end"}, {"id", 4}, {"seq", 6}, {"flow", "checkin"}, {"reason", "completed"},
                         {"summary", {{"mood", 7}, {"good", true}}}}));
  // A missing summary is still an object on the wire.
  auto stopped = json::parse(output_frames({engine::EndOutput{"trust", "stopped", json()}}, 1, 1).at(0));
  EXPECT_EQ(stopped["reason"], "stopped");
  EXPECT_EQ(stopped["summary"], json::object());
}

TEST(OutputFrames, IdsAreConsecutiveAndSeqIsShared) {
  auto frames = output_frames(one_of_each(), 41, 17);
  ASSERT_EQ(frames.size(), 4u);
  for (std::size_t i = 0; i < frames.size(); ++i) {
    auto frame = json::parse(frames[i]);
    EXPECT_EQ(frame["id"], 41 + static_cast<std::int64_t>(i));
    EXPECT_EQ(frame["seq"], 17);
  }
  EXPECT_TRUE(output_frames({}, 1, 1).empty());
}

TEST(OutputFrames, BrokenUtf8IsReplacedNotThrown) {
  std::vector<std::string> frames;
  EXPECT_NO_THROW(frames = output_frames({engine::MessageOutput{"cut \xE2\x80", "n"}}, 1, 1));
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_TRUE(json::accept(frames[0]));
}

// output_frames() as it was written with nlohmann::ordered_json before the
// hand-written writer: the reference the writer must match byte for byte.
struct ReferenceFrame {
  nlohmann::ordered_json frame;
  using ordered_json = nlohmann::ordered_json;

  void operator()(const engine::MessageOutput& message) {
    frame["type"] = "message";
    frame["text"] = message.text;
  }
  void operator()(const engine::PromptOutput& prompt) {
    frame["type"] = "prompt";
    frame["input"] = engine::to_string(prompt.input);
    auto& choices = frame["choices"] = ordered_json::array();
    for (const auto& choice : prompt.choices) {
      ordered_json& item = choices.emplace_back(ordered_json::value_t::object);
      item["id"] = choice.id;
      item["label"] = choice.label;
    }
    if (prompt.min) frame["min"] = *prompt.min;
    if (prompt.max) frame["max"] = *prompt.max;
    frame["commands"] = prompt.commands;
  }
  void operator()(const engine::PauseOutput& pause) {
    frame["type"] = "pause";
    frame["ms"] = pause.ms;
  }
  void operator()(const engine::SafetyOutput& safety) {
    frame["type"] = "safety";
    frame["category"] = safety.category;
    frame["text"] = safety.text;
    frame["resources"] = ordered_json::array();
    for (const auto& resource : safety.resources) {
      ordered_json item{{"name", resource.name}};
      if (resource.phone) item["phone"] = *resource.phone;
      if (resource.sms) item["sms"] = *resource.sms;
      if (resource.url) item["url"] = *resource.url;
      if (resource.hours) item["hours"] = *resource.hours;
      frame["resources"].push_back(std::move(item));
    }
    frame["choices"] = ordered_json::array();
    for (const auto& choice : safety.choices) {
      frame["choices"].push_back({{"id", choice.id}, {"label", choice.label}});
    }
  }
  void operator()(const engine::EndOutput& end) {
    frame["type"] = "end";
    frame["flow"] = end.flow;
    frame["reason"] = end.reason;
    frame["summary"] = end.summary.is_object() ? ordered_json(end.summary) : ordered_json::object();
  }
};

std::string reference_frame(const engine::Output& output, std::int64_t id, std::int64_t seq) {
  ReferenceFrame builder{nlohmann::ordered_json(nlohmann::ordered_json::value_t::object)};
  builder.frame["type"] = nullptr;
  builder.frame["id"] = id;
  builder.frame["seq"] = seq;
  std::visit(builder, output);
  return builder.frame.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

// Strings that take every path of the escaping: quotes, backslashes, every
// control character, DEL, valid 2-, 3- and 4-byte UTF-8, and broken UTF-8 of
// every kind (stray continuation bytes, bytes that never start a sequence,
// overlong forms, surrogates, code points past U+10FFFF, sequences cut off in the
// middle or by the end of the string).
std::vector<std::string> tricky_strings() {
  std::vector<std::string> strings = {
      "", "plain", "Hi \"there\".", "back\\slash", "a/b", "tab\tnew\nline\r\nff\fbs\b",
      std::string("nul\0byte", 8), "\x7f del", "caf\xC3\xA9 \xE2\x80\x94 \xF0\x9F\x98\x80 \xE4\xB8\xAD",
      "cut \xE2\x80", "cut \xF0\x9F\x98", "cut \xC3", "\x80 stray", "\xBF\xBF", "\xC0\xAF overlong",
      "\xC1\x81", "\xE0\x80\xAF overlong", "\xE0\x9F\xBF", "\xED\xA0\x80 surrogate", "\xED\x9F\xBF ok",
      "\xF0\x8F\xBF\xBF overlong", "\xF4\x90\x80\x80 too big", "\xF4\x8F\xBF\xBF max", "\xF5\x80\x80\x80",
      "\xF8\x88\x80\x80\x80", "\xFE\xFF", "\xE2\x28\xA1", "\xE2\x82\x28", "\xF0\x28\x8C\xBC", "\xF0\x90\x28\xBC",
      "\xC3\x28", "\xC3\xC3\xA9", "\xE2\x80\xE2\x80\x94", "\"\xE2\x80\"", "end \xC3\xA9\xF0",
      std::string(300, 'x') + "\xE2\x80" + std::string(300, '\x01') + "\xC3\xA9",
      std::string(600, '\xC3'),
  };
  std::string controls;
  for (int c = 0; c < 0x20; ++c) controls += static_cast<char>(c);
  strings.push_back(controls);
  std::string high;
  for (int c = 0x80; c < 0x100; ++c) high += static_cast<char>(c);
  strings.push_back(high);
  return strings;
}

TEST(OutputFrames, AreByteForByteWhatNlohmannWrites) {
  std::vector<engine::Output> outputs = one_of_each();
  engine::PromptOutput text_prompt;
  text_prompt.input = engine::InputKind::Text;
  outputs.push_back(text_prompt);
  engine::PromptOutput number;
  number.input = engine::InputKind::Number;
  number.min = -5;
  number.max = 2147483647;
  outputs.push_back(number);
  outputs.push_back(engine::PauseOutput{0, "n"});
  outputs.push_back(engine::PauseOutput{-1, "n"});
  outputs.push_back(engine::EndOutput{"trust", "stopped", json()});
  outputs.push_back(engine::EndOutput{"trust", "stopped", json::array({1, 2})});
  outputs.push_back(engine::EndOutput{
      "trust", "completed", json{{"z", 1.5}, {"a", "caf\xC3\xA9 \xE2\x80"}, {"m", nullptr}, {"n", json::array({1, "x"})}}});
  engine::SafetyOutput safety;
  safety.category = "self_harm";
  safety.text = "If you are in danger, call now.";
  safety.resources = {{"988 Lifeline", "988", "988", "https://988lifeline.org", "24/7", {}},
                      {"Only a name", std::nullopt, std::nullopt, std::nullopt, std::nullopt, {}},
                      {"Web only", std::nullopt, std::nullopt, "https://example.org", std::nullopt, {}}};
  safety.choices = {{"talk", "Talk to someone"}, {"continue", "Continue"}, {"stop", "Stop"}};
  outputs.push_back(safety);
  outputs.push_back(engine::SafetyOutput{"x", "", {}, {}, "n"});
  for (const auto& tricky : tricky_strings()) {
    outputs.push_back(engine::MessageOutput{tricky, "n"});
    engine::PromptOutput prompt;
    prompt.input = engine::InputKind::Choice;
    prompt.choices = {{tricky, tricky}, {"b", "B"}};
    prompt.commands = {tricky, "help"};
    outputs.push_back(prompt);
    outputs.push_back(engine::EndOutput{tricky, tricky, json{{"k", tricky}}});
    outputs.push_back(engine::SafetyOutput{tricky, tricky, {{tricky, tricky, tricky, tricky, tricky, {}}}, {{tricky, tricky}}, "n"});
  }
  const std::int64_t first_id = 9007199254740993;  // past 2^53: written as an integer all the same
  const auto frames = output_frames(outputs, first_id, 123456789012);
  ASSERT_EQ(frames.size(), outputs.size());
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    EXPECT_EQ(frames[i], reference_frame(outputs[i], first_id + static_cast<std::int64_t>(i), 123456789012))
        << "output " << i;
  }
  EXPECT_EQ(output_frames({engine::MessageOutput{"x", "n"}}, -3, 0).at(0),
            reference_frame(engine::MessageOutput{"x", "n"}, -3, 0));
}

// Every string of up to three bytes over an alphabet of the bytes that matter to
// the UTF-8 decoder: the writer and nlohmann agree on each.
TEST(OutputFrames, EscapeLikeNlohmannForEveryShortByteString) {
  const unsigned char alphabet[] = {0x00, 0x1F, 0x20, '"',  '\\', 'a',  0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0,
                                    0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xE1, 0xEC, 0xED, 0xEE, 0xEF, 0xF0,
                                    0xF1, 0xF3, 0xF4, 0xF5, 0xFF};
  std::vector<std::string> strings = {""};
  for (std::size_t length = 1; length <= 3; ++length) {
    std::vector<std::string> longer;
    for (const auto& prefix : strings) {
      if (prefix.size() != length - 1) continue;
      for (unsigned char byte : alphabet) longer.push_back(prefix + static_cast<char>(byte));
    }
    strings.insert(strings.end(), longer.begin(), longer.end());
  }
  std::vector<engine::Output> outputs;
  for (const auto& text : strings) outputs.push_back(engine::MessageOutput{text, "n"});
  const auto frames = output_frames(outputs, 1, 1);
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    ASSERT_EQ(frames[i], reference_frame(outputs[i], 1 + static_cast<std::int64_t>(i), 1)) << "string " << i;
  }
}

TEST(WelcomeFrame, FieldByField) {
  auto frame = json::parse(welcome_frame("tok", true, 12, {{"trust", "TRUST", "Five lenses.", 15}}));
  EXPECT_EQ(frame, json::parse(R"({"type":"welcome","session":"tok","resumed":true,"last_seq":12,
      "flows":[{"id":"trust","title":"TRUST","description":"Five lenses.","minutes":15}]})"));
  auto fresh = json::parse(welcome_frame("new", false, 0, {}));
  EXPECT_EQ(fresh["resumed"], false);
  EXPECT_EQ(fresh["last_seq"], 0);
  EXPECT_EQ(fresh["flows"], json::array());
}

TEST(ErrorFrame, FieldByField) {
  auto frame = json::parse(error_frame({ErrorCode::SeqOutOfOrder, "expected seq 4", 6}));
  EXPECT_EQ(frame, (json{{"type", "error"}, {"code", "seq_out_of_order"}, {"message", "expected seq 4"}, {"seq", 6}}));
  auto without_seq = json::parse(error_frame({ErrorCode::HelloRequired, "send hello first", std::nullopt}));
  EXPECT_FALSE(without_seq.contains("seq"));
}

TEST(ErrorCodes, WireNames) {
  const std::vector<std::pair<ErrorCode, std::string>> codes = {
      {ErrorCode::BadJson, "bad_json"},          {ErrorCode::BadMessage, "bad_message"},
      {ErrorCode::UnknownType, "unknown_type"},  {ErrorCode::UnknownFlow, "unknown_flow"},
      {ErrorCode::NoActiveFlow, "no_active_flow"}, {ErrorCode::BadChoice, "bad_choice"},
      {ErrorCode::SeqOutOfOrder, "seq_out_of_order"}, {ErrorCode::TooLarge, "too_large"},
      {ErrorCode::RateLimited, "rate_limited"},  {ErrorCode::SessionNotFound, "session_not_found"},
      {ErrorCode::Superseded, "superseded"},     {ErrorCode::Busy, "busy"},
      {ErrorCode::Internal, "internal"},         {ErrorCode::HelloRequired, "hello_required"},
      {ErrorCode::TooLong, "too_long"},
  };
  for (const auto& [code, name] : codes) EXPECT_EQ(to_string(code), name);
}

std::shared_ptr<const engine::Flow> flow_titled(std::string id, std::string title, int minutes) {
  auto flow = std::make_shared<engine::Flow>();
  flow->info.id = std::move(id);
  flow->info.title = std::move(title);
  flow->info.description = "About " + flow->info.title;
  flow->info.minutes = minutes;
  return flow;
}

TEST(ListFlows, SortedByTitleThenId) {
  auto flows = list_flows({flow_titled("trust", "TRUST walk-through", 15), nullptr,
                           flow_titled("braving", "BRAVING check-in", 10),
                           flow_titled("b2", "BRAVING check-in", 5), flow_titled("compassion", "A kind break", 5)});
  ASSERT_EQ(flows.size(), 4u);
  EXPECT_EQ(flows[0].id, "compassion");
  EXPECT_EQ(flows[1].id, "b2");
  EXPECT_EQ(flows[2].id, "braving");
  EXPECT_EQ(flows[3].id, "trust");
  EXPECT_EQ(flows[3].description, "About TRUST walk-through");
  EXPECT_EQ(flows[3].minutes, 15);
  EXPECT_EQ(to_json(flows[3]),
            json::parse(R"({"id":"trust","title":"TRUST walk-through","description":"About TRUST walk-through","minutes":15})"));
}

// ---------------------------------------------------------------------------
// The schemas in docs/protocol/schemas describe exactly what the code sends and
// accepts. A small structural checker (type, const, enum, required, properties,
// items, minimum, maximum, minLength, maxLength, oneOf) is enough to keep them in step.

json load_schema(const std::string& direction, const std::string& type) {
  auto path = std::filesystem::path(TRELLIS_SOURCE_DIR) / "docs/protocol/schemas" / direction / (type + ".schema.json");
  std::ifstream in(path);
  if (!in) {
    ADD_FAILURE() << "no schema at " << path;
    return json::object();
  }
  std::stringstream text;
  text << in.rdbuf();
  return json::parse(text.str());
}

bool has_type(const json& value, const std::string& type) {
  if (type == "object") return value.is_object();
  if (type == "array") return value.is_array();
  if (type == "string") return value.is_string();
  if (type == "integer") return value.is_number_integer();
  if (type == "number") return value.is_number();
  if (type == "boolean") return value.is_boolean();
  if (type == "null") return value.is_null();
  return false;
}

// Returns every problem found; `closed` also refuses object keys the schema
// does not list (used for what the server sends, so nothing goes undocumented).
void check(const json& schema, const json& value, const std::string& where, bool closed,
           std::vector<std::string>& problems) {
  if (schema.contains("type")) {
    auto types = schema["type"].is_array() ? schema["type"] : json::array({schema["type"]});
    bool matched = false;
    for (const auto& type : types) matched = matched || has_type(value, type.get<std::string>());
    if (!matched) problems.push_back(where + ": wrong type, schema says " + schema["type"].dump());
  }
  if (schema.contains("const") && value != schema["const"]) problems.push_back(where + ": not " + schema["const"].dump());
  if (schema.contains("enum")) {
    const auto& options = schema["enum"];
    if (std::find(options.begin(), options.end(), value) == options.end()) {
      problems.push_back(where + ": " + value.dump() + " not in enum");
    }
  }
  if (value.is_number() && schema.contains("minimum") && value < schema["minimum"]) {
    problems.push_back(where + ": below minimum");
  }
  if (value.is_number() && schema.contains("maximum") && value > schema["maximum"]) {
    problems.push_back(where + ": above maximum");
  }
  if (value.is_string()) {
    auto size = value.get<std::string>().size();
    if (schema.contains("minLength") && size < schema["minLength"].get<std::size_t>()) problems.push_back(where + ": too short");
    if (schema.contains("maxLength") && size > schema["maxLength"].get<std::size_t>()) problems.push_back(where + ": too long");
  }
  if (value.is_object()) {
    for (const auto& name : schema.value("required", json::array())) {
      if (!value.contains(name.get<std::string>())) problems.push_back(where + ": missing required " + name.dump());
    }
    const auto properties = schema.value("properties", json::object());
    for (const auto& [key, item] : value.items()) {
      if (properties.contains(key)) {
        check(properties[key], item, where + "/" + key, closed, problems);
      } else if (closed && schema.contains("properties")) {
        problems.push_back(where + ": key \"" + key + "\" is not in the schema's properties");
      }
    }
  }
  if (value.is_array() && schema.contains("items")) {
    for (std::size_t i = 0; i < value.size(); ++i) {
      check(schema["items"], value[i], where + "/" + std::to_string(i), closed, problems);
    }
  }
  if (schema.contains("oneOf")) {
    int matches = 0;
    for (const auto& option : schema["oneOf"]) {
      std::vector<std::string> option_problems;
      check(option, value, where, false, option_problems);
      matches += option_problems.empty() ? 1 : 0;
    }
    if (matches != 1) problems.push_back(where + ": matches " + std::to_string(matches) + " of oneOf, not exactly 1");
  }
}

std::vector<std::string> problems_with(const std::string& direction, const json& frame, bool closed) {
  std::vector<std::string> problems;
  auto schema = load_schema(direction, frame.value("type", std::string("?")));
  EXPECT_EQ(schema.value("$schema", ""), "https://json-schema.org/draft/2020-12/schema");
  check(schema, frame, "", closed, problems);
  return problems;
}

std::string joined(const std::vector<std::string>& problems) {
  std::string all;
  for (const auto& problem : problems) all += problem + "\n";
  return all;
}

TEST(Schemas, EveryServerFrameMatchesItsSchema) {
  std::vector<std::string> frames = output_frames(one_of_each(), 1, 1);
  engine::PromptOutput text;
  frames.push_back(output_frames({text}, 5, 2).at(0));
  frames.push_back(output_frames({engine::EndOutput{"trust", "stopped", json()}}, 6, 3).at(0));
  frames.push_back(welcome_frame("tok", false, 0, {{"trust", "TRUST", "Five lenses.", 15}}));
  frames.push_back(welcome_frame("tok", true, 4, {}));
  frames.push_back(error_frame({ErrorCode::SeqOutOfOrder, "expected seq 4", 6}));
  for (int code = 0; code <= static_cast<int>(ErrorCode::TooLong); ++code) {
    frames.push_back(error_frame({static_cast<ErrorCode>(code), "m", std::nullopt}));
  }
  std::set<std::string> types_seen;
  for (const auto& text_frame : frames) {
    auto frame = json::parse(text_frame);
    types_seen.insert(frame["type"].get<std::string>());
    EXPECT_EQ(joined(problems_with("server", frame, true)), "") << text_frame;
  }
  EXPECT_EQ(types_seen, (std::set<std::string>{"welcome", "message", "prompt", "pause", "end", "error"}));
}

TEST(Schemas, CheckerCatchesDrift) {
  // The check must be able to fail: an extra key, a missing one, a wrong type.
  auto message = json::parse(output_frames({engine::MessageOutput{"hi", "n"}}, 1, 1).at(0));
  auto extra = message;
  extra["node"] = "n";
  EXPECT_NE(joined(problems_with("server", extra, true)), "");
  auto missing = message;
  missing.erase("seq");
  EXPECT_NE(joined(problems_with("server", missing, true)), "");
  auto mistyped = message;
  mistyped["id"] = "1";
  EXPECT_NE(joined(problems_with("server", mistyped, true)), "");
}

TEST(Schemas, GoodClientFramesMatchTheirSchemas) {
  const std::vector<std::string> frames = {
      R"({"type":"hello"})",
      R"({"type":"hello","session":"tok","last_seen":3,"client":"web/1.0"})",
      R"({"type":"hello","session":null})",
      R"({"type":"start","seq":1,"flow":"trust"})",
      R"({"type":"input","seq":2,"text":"hello"})",
      R"({"type":"input","seq":2,"text":""})",
      R"({"type":"input","seq":3,"choice":"yes"})",
      R"({"type":"input","seq":3,"text":null,"choice":"yes"})",
      R"({"type":"command","seq":4,"name":"skip"})",
      R"({"type":"forget"})",
  };
  for (const auto& frame : frames) {
    EXPECT_TRUE(std::holds_alternative<ClientMessage>(parse_client_frame(frame))) << frame;
    EXPECT_EQ(joined(problems_with("client", json::parse(frame), false)), "") << frame;
  }
}

TEST(Schemas, BadMessageFramesFailTheirSchemas) {
  // Every bad_message row whose type is known is also invalid by the schema.
  for (const auto& row : bad_frames()) {
    if (row.code != ErrorCode::BadMessage) continue;
    auto frame = json::parse(row.frame);
    if (!frame.is_object() || !frame.contains("type") || !frame["type"].is_string()) continue;
    EXPECT_NE(joined(problems_with("client", frame, false)), "") << row.name;
  }
}

// ---------------------------------------------------------------------------
// docs/protocol.md documents every error code.

std::string protocol_doc() {
  std::ifstream in(std::filesystem::path(TRELLIS_SOURCE_DIR) / "docs/protocol.md");
  EXPECT_TRUE(in) << "docs/protocol.md is missing";
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(ProtocolDoc, DocumentsEveryErrorCode) {
  const auto doc = protocol_doc();
  for (int code = 0; code <= static_cast<int>(ErrorCode::TooLong); ++code) {
    auto name = std::string(to_string(static_cast<ErrorCode>(code)));
    EXPECT_NE(doc.find("### `" + name + "`"), std::string::npos) << name << " has no section";
  }
}

// Every example line in the page ("→ {...}" sent by a client, "← {...}" by the
// server) is a valid frame: client lines parse and match their schema, server
// lines match theirs with no unlisted field.
TEST(ProtocolDoc, EveryExampleFrameIsValid) {
  const std::string client_arrow = "\xE2\x86\x92 ";  // →
  const std::string server_arrow = "\xE2\x86\x90 ";  // ←
  std::istringstream lines(protocol_doc());
  std::string line;
  int client_lines = 0, server_lines = 0;
  while (std::getline(lines, line)) {
    if (line.rfind(client_arrow, 0) == 0) {
      auto frame = line.substr(client_arrow.size());
      auto parsed = parse_client_frame(frame);
      EXPECT_TRUE(std::holds_alternative<ClientMessage>(parsed)) << frame;
      EXPECT_EQ(joined(problems_with("client", json::parse(frame), false)), "") << frame;
      ++client_lines;
    } else if (line.rfind(server_arrow, 0) == 0) {
      auto frame = line.substr(server_arrow.size());
      EXPECT_EQ(joined(problems_with("server", json::parse(frame), true)), "") << frame;
      ++server_lines;
    }
  }
  EXPECT_GE(client_lines, 10);
  EXPECT_GE(server_lines, 10);
}

// The doc's output examples are what output_frames writes, byte for byte.
TEST(ProtocolDoc, ExampleOutputsAreWhatTheCodeWrites) {
  const auto doc = protocol_doc();
  auto pause = output_frames({engine::PauseOutput{1200, "intro"}}, 2, 1).at(0);
  EXPECT_NE(doc.find("\xE2\x86\x90 " + pause + "\n"), std::string::npos) << pause;
  engine::PromptOutput text;
  text.commands = {"help", "stop"};
  auto prompt = output_frames({text}, 12, 5).at(0);
  EXPECT_NE(doc.find("\xE2\x86\x90 " + prompt + "\n"), std::string::npos) << prompt;
  auto end = output_frames({engine::EndOutput{"braving", "stopped", json{{"boundaries", 7}, {"reliability", 8}}}}, 10, 4);
  EXPECT_NE(doc.find("\xE2\x86\x90 " + end.at(0) + "\n"), std::string::npos) << end.at(0);
  auto welcome = welcome_frame(
      "s_4fQ9rT2mXcLw", false, 0,
      list_flows({flow_titled("compassion", "Self-compassion break", 5), flow_titled("braving", "BRAVING check-in", 10)}));
  EXPECT_NE(welcome.find(R"("title":"BRAVING check-in")"), std::string::npos);
  EXPECT_NE(doc.find(welcome.substr(0, welcome.find("\"flows\""))), std::string::npos) << welcome;
  auto error = error_frame(refusal(R"({"type":"input","seq":7,"text":")" + repeat('a', 4001) + R"("})"));
  EXPECT_NE(doc.find("\xE2\x86\x90 " + error + "\n"), std::string::npos) << error;
}

}  // namespace
}  // namespace trellis::server::protocol
