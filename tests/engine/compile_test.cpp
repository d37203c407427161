#include "trellis/engine/compile.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "flow_fixtures.hpp"

namespace trellis::engine {
namespace {

using testing::flow_with;

std::vector<Diagnostic> errors_of(const std::string& text) {
  auto result = compile_flow(text, "dialogs/test/flow.json");
  if (result) return {};
  return result.error();
}

bool has(const std::vector<Diagnostic>& diagnostics, const std::string& code, const std::string& pointer) {
  return std::any_of(diagnostics.begin(), diagnostics.end(), [&](const Diagnostic& d) {
    return d.code == code && d.pointer == pointer;
  });
}

std::string dump(const std::vector<Diagnostic>& diagnostics) {
  std::string out;
  for (const auto& d : diagnostics) out += format(d) + "\n";
  return out;
}

TEST(CompileFlow, CompilesAGoodFlow) {
  auto flow = compile_flow(testing::kCheckIn, "checkin.json");
  ASSERT_TRUE(flow) << dump(flow.error());
  EXPECT_EQ((*flow)->info.id, "checkin");
  EXPECT_EQ((*flow)->info.version, 2);
  EXPECT_EQ((*flow)->info.credits.size(), 1u);
  EXPECT_EQ((*flow)->nodes.size(), 10u);
  EXPECT_EQ((*flow)->node((*flow)->start).id, "hello");
  EXPECT_EQ((*flow)->variable_types.at("mood"), ValueType::Number);
  EXPECT_EQ((*flow)->variable_types.at("good"), ValueType::Boolean);
  EXPECT_EQ((*flow)->variable_types.at("pick"), ValueType::String);
}

TEST(CompileFlow, AcceptsComments) {
  std::string text = std::string("// a comment first\n/* and a block */\n") + testing::kCheckIn;
  EXPECT_TRUE(compile_flow(text, "x.json"));
}

TEST(CompileFlow, MalformedJsonNamesLineAndColumn) {
  auto errors = errors_of("{\n  \"id\": \"x\",\n  \"title\" \"missing colon\"\n}");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].code, "F001");
  EXPECT_EQ(errors[0].line, 3);
  EXPECT_GT(errors[0].column, 1);
  EXPECT_EQ(errors[0].file, "dialogs/test/flow.json");
}

TEST(CompileFlow, NumberTooLargeIsAnErrorNotACrash) {
  // Found by the flow loader fuzzer: nlohmann throws out_of_range, not parse_error.
  auto errors = errors_of(testing::flow_with(R"("start": "a", "nodes": {"a": {"type": "end", "say": [{"pause": 1e309}]}})"));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].code, "F001");
  EXPECT_NE(errors[0].message.find("1e309"), std::string::npos) << errors[0].message;
}

TEST(CompileFlow, RejectsOversizedAndDeepFiles) {
  EXPECT_EQ(errors_of(std::string(kMaxFlowFileBytes + 1, ' '))[0].code, "F002");
  EXPECT_EQ(errors_of(std::string(100, '[') + std::string(100, ']'))[0].code, "F003");
}

// One row per mistake: a fragment, the code it must produce, and where.
struct BadFlow {
  const char* name;
  std::string text;
  const char* code;
  const char* pointer;
};

const char* const kEnd = R"("end": {"type": "end"})";

std::vector<BadFlow> bad_flows() {
  return {
      {"wrong_type", flow_with(R"("start": "a", "nodes": {"a": {"type": "end", "say": 5}})"), "F010", "/nodes/a/say"},
      {"unknown_key", flow_with(R"("start": "a", "nodes": {"a": {"type": "end", "sya": "hi"}})"), "F011", "/nodes/a/sya"},
      {"unknown_top_key", flow_with(R"("strat": "a", "start": "a", "nodes": {"a": {"type": "end"}})"), "F011", "/strat"},
      {"missing_key", flow_with(R"("start": "a", "nodes": {"a": {"type": "message", "say": "hi"}})"), "F012", "/nodes/a"},
      {"bad_input_kind", flow_with(R"("start": "a", "nodes": {"a": {"type": "question", "input": "slider", "ask": "?", "next": "end"}, )" + std::string(kEnd) + "}"), "F013", "/nodes/a/input"},
      {"misplaced_key", flow_with(R"("start": "a", "nodes": {"a": {"type": "question", "input": "text", "ask": "?", "min": 1, "next": "end"}, )" + std::string(kEnd) + "}"), "F014", "/nodes/a/min"},
      {"leads_nowhere", flow_with(R"("start": "a", "nodes": {"a": {"type": "question", "input": "choice", "ask": "?", "choices": [{"id": "x", "label": "X"}]}, )" + std::string(kEnd) + "}"), "F015", "/nodes/a/choices/0"},
      {"duplicate_key", flow_with(R"("start": "a", "nodes": {"a": {"type": "end"}, "a": {"type": "end"}})"), "F020", "/nodes/a"},
      {"unknown_node", flow_with(R"("start": "a", "nodes": {"a": {"type": "message", "say": "hi", "next": "edn"}, )" + std::string(kEnd) + "}"), "F021", "/nodes/a/next"},
      {"unknown_subflow", flow_with(R"("start": "a", "nodes": {"a": {"type": "call", "subflow": "breath", "next": "end"}, )" + std::string(kEnd) + R"(}, "subflows": {"breathe": {"start": "r", "nodes": {"r": {"type": "return"}}}})"), "F021", "/nodes/a/subflow"},
      {"unreachable", flow_with(R"("start": "a", "nodes": {"a": {"type": "end"}, "b": {"type": "message", "say": "hi", "next": "a"}})"), "F022", "/nodes/b"},
      {"no_way_out", flow_with(R"("start": "a", "nodes": {"a": {"type": "question", "input": "yesno", "ask": "?", "yes": "b", "no": "end"}, "b": {"type": "question", "input": "text", "ask": "?", "next": "b"}, )" + std::string(kEnd) + "}"), "F023", "/nodes/b"},
      {"no_end", flow_with(R"("start": "a", "nodes": {"a": {"type": "question", "input": "text", "ask": "?", "next": "a"}})"), "F024", "/start"},
      {"return_outside_subflow", flow_with(R"("start": "a", "nodes": {"a": {"type": "return"}, )" + std::string(kEnd) + "}"), "F026", "/nodes/a"},
      {"bad_pattern", flow_with(R"("start": "a", "nodes": {"a": {"type": "question", "input": "text", "ask": "?", "next": "end", "intents": [{"id": "x", "next": "end", "patterns": [{"match": "(unclosed", "examples": ["x"]}]}]}, )" + std::string(kEnd) + "}"), "F030", "/nodes/a/intents/0/patterns/0/match"},
      {"example_not_matched", flow_with(R"("start": "a", "nodes": {"a": {"type": "question", "input": "text", "ask": "?", "next": "end", "intents": [{"id": "x", "next": "end", "patterns": [{"match": "^yes$", "examples": ["yes please"]}]}]}, )" + std::string(kEnd) + "}"), "F031", "/nodes/a/intents/0/patterns/0/examples/0"},
      {"counter_example_matched", flow_with(R"("start": "a", "nodes": {"a": {"type": "question", "input": "text", "ask": "?", "next": "end", "intents": [{"id": "x", "next": "end", "patterns": [{"match": "nap", "examples": ["nap"], "not": ["snap"]}]}]}, )" + std::string(kEnd) + "}"), "F032", "/nodes/a/intents/0/patterns/0/not/0"},
      {"pattern_too_large", flow_with(R"("start": "a", "nodes": {"a": {"type": "question", "input": "text", "ask": "?", "next": "end", "intents": [{"id": "x", "next": "end", "patterns": [{"match": ")" + std::string(1200, 'a') + R"(", "examples": ["a"]}]}]}, )" + std::string(kEnd) + "}"), "F033", "/nodes/a/intents/0/patterns/0/match"},
      {"expression_syntax", flow_with(R"("start": "a", "nodes": {"a": {"type": "set", "set": {"x": "1 +"}, "next": "end"}, )" + std::string(kEnd) + "}"), "F040", "/nodes/a/set/x"},
      {"unknown_variable", flow_with(R"("variables": {"mood": 1}, "start": "a", "nodes": {"a": {"type": "message", "say": "{{ mod }}", "next": "end"}, )" + std::string(kEnd) + "}"), "F041", "/nodes/a/say"},
      {"maybe_unset", flow_with(R"("start": "a", "nodes": {"a": {"type": "question", "input": "text", "ask": "?", "store": "t", "skip": true, "next": "b"}, "b": {"type": "message", "say": "You said {{t}}", "next": "end"}, )" + std::string(kEnd) + "}"), "F042", "/nodes/b/say"},
      {"type_error", flow_with(R"("variables": {"name": "x"}, "start": "a", "nodes": {"a": {"type": "set", "set": {"y": "name * 2"}, "next": "end"}, )" + std::string(kEnd) + "}"), "F043", "/nodes/a/set/y"},
      {"condition_not_boolean", flow_with(R"("variables": {"n": 1}, "start": "a", "nodes": {"a": {"type": "branch", "branches": [{"if": "n", "next": "end"}], "else": "end"}, )" + std::string(kEnd) + "}"), "F043", "/nodes/a/branches/0/if"},
      {"conflicting_types", flow_with(R"("variables": {"n": 1}, "start": "a", "nodes": {"a": {"type": "question", "input": "text", "ask": "?", "store": "n", "next": "end"}, )" + std::string(kEnd) + "}"), "F043", "/nodes/a/store"},
      {"bad_template", flow_with(R"("start": "a", "nodes": {"a": {"type": "message", "say": "Hi {{ name", "next": "end"}, )" + std::string(kEnd) + "}"), "F045", "/nodes/a/say"},
      {"duplicate_choice", flow_with(R"("start": "a", "nodes": {"a": {"type": "question", "input": "choice", "ask": "?", "next": "end", "choices": [{"id": "x", "label": "X"}, {"id": "x", "label": "Y"}]}, )" + std::string(kEnd) + "}"), "F050", "/nodes/a/choices/1/id"},
      {"loop_without_question", flow_with(R"("start": "a", "nodes": {"a": {"type": "message", "say": "hi", "next": "b"}, "b": {"type": "branch", "branches": [{"if": "true", "next": "a"}], "else": "end"}, )" + std::string(kEnd) + "}"), "F051", "/nodes/a"},
      {"recursive_subflow", flow_with(R"("start": "a", "nodes": {"a": {"type": "call", "subflow": "s", "next": "end"}, )" + std::string(kEnd) + R"(}, "subflows": {"s": {"start": "q", "nodes": {"q": {"type": "question", "input": "yesno", "ask": "?", "yes": "again", "no": "r"}, "again": {"type": "call", "subflow": "s", "next": "r"}, "r": {"type": "return"}}}})"), "F052", "/subflows/s"},
      {"no_credits", R"({"trellis": 1, "id": "x", "version": 1, "title": "T", "description": "D", "minutes": 1, "start": "a", "nodes": {"a": {"type": "end"}}})", "F012", ""},
      {"bad_flow_id", R"({"trellis": 1, "id": "Not OK", "version": 1, "title": "T", "description": "D", "minutes": 1, "credits": [{"author": "a", "work": "w"}], "start": "a", "nodes": {"a": {"type": "end"}}})", "F013", "/id"},
      {"pause_out_of_range", flow_with(R"("start": "a", "nodes": {"a": {"type": "end", "say": [{"pause": 999999}]}})"), "F013", "/nodes/a/say/0/pause"},
  };
}

class BadFlowTest : public ::testing::TestWithParam<BadFlow> {};

TEST_P(BadFlowTest, IsRejectedWithCodeAndLocation) {
  const BadFlow& row = GetParam();
  auto errors = errors_of(row.text);
  ASSERT_FALSE(errors.empty()) << row.name << " compiled but should not";
  EXPECT_TRUE(has(errors, row.code, row.pointer))
      << row.name << ": wanted " << row.code << " at '" << row.pointer << "', got:\n" << dump(errors);
  for (const auto& error : errors) {
    EXPECT_FALSE(error.message.empty());
    if (error.code != "F002" && error.code != "F003") {
      EXPECT_GT(error.line, 0) << row.name << ": " << format(error);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(EveryKind, BadFlowTest, ::testing::ValuesIn(bad_flows()),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(CompileFlow, SuggestsTheNodeMeant) {
  auto errors = errors_of(flow_with(
      R"("start": "a", "nodes": {"a": {"type": "message", "say": "hi", "next": "reflct"}, "reflect": {"type": "end"}})"));
  ASSERT_TRUE(has(errors, "F021", "/nodes/a/next")) << dump(errors);
  auto it = std::find_if(errors.begin(), errors.end(), [](const Diagnostic& d) { return d.code == "F021"; });
  EXPECT_NE(it->hint.find("reflect"), std::string::npos) << it->hint;
  EXPECT_NE(it->message.find("reflct"), std::string::npos);
}

TEST(CompileFlow, SuggestsTheKeyMeant) {
  auto errors = errors_of(flow_with(R"("start": "a", "nodes": {"a": {"type": "end", "sumary": {}}})"));
  ASSERT_FALSE(errors.empty());
  EXPECT_NE(errors[0].hint.find("summary"), std::string::npos) << dump(errors);
}

TEST(CompileFlow, ReportsEveryErrorAtOnce) {
  auto errors = errors_of(flow_with(R"("start": "a", "nodes": {
      "a": {"type": "message", "say": "hi", "next": "nowhere"},
      "b": {"type": "question", "input": "scale", "ask": "?", "min": "one", "next": "gone"},
      "c": {"type": "end", "colour": "red"}})"));
  EXPECT_TRUE(has(errors, "F021", "/nodes/a/next")) << dump(errors);
  EXPECT_TRUE(has(errors, "F010", "/nodes/b/min")) << dump(errors);
  EXPECT_TRUE(has(errors, "F021", "/nodes/b/next")) << dump(errors);
  EXPECT_TRUE(has(errors, "F011", "/nodes/c/colour")) << dump(errors);
}

TEST(CompileFlow, InvalidPatternCarriesRe2Message) {
  auto errors = errors_of(flow_with(R"("start": "a", "nodes": {"a": {"type": "question", "input": "text", "ask": "?", "next": "e", "intents": [{"id": "x", "next": "e", "patterns": [{"match": "a)b", "examples": ["ab"]}]}]}, "e": {"type": "end"}})"));
  ASSERT_FALSE(errors.empty());
  EXPECT_NE(errors[0].message.find("unexpected )"), std::string::npos) << dump(errors);
}

TEST(CompileFlow, DiagnosticLineMatchesTheFile) {
  std::string text = flow_with("\"start\": \"a\",\n\"nodes\": {\n  \"a\": {\"type\": \"message\", \"say\": \"hi\",\n    \"next\": \"zzz\"}\n}");
  auto errors = errors_of(text);
  ASSERT_TRUE(has(errors, "F021", "/nodes/a/next"));
  // "next" is on the 4th line of the body, which starts after 4 lines of metadata.
  std::istringstream lines(text);
  std::string line;
  int number = 0, expected = 0;
  while (std::getline(lines, line)) {
    ++number;
    if (line.find("\"next\": \"zzz\"") != std::string::npos) expected = number;
  }
  EXPECT_EQ(errors[0].line, expected);
}

TEST(CompileFlow, SkippedAnswerIsSetOnlyWhereEveryPathSetsIt) {
  // The variable is read after a question that stores it but cannot be skipped.
  EXPECT_TRUE(compile_flow(flow_with(R"("start": "a", "nodes": {"a": {"type": "question", "input": "text", "ask": "?", "store": "t", "next": "b"}, "b": {"type": "end", "say": "You said {{t}}"}})"), "x"));
  // A declared first value makes it always set.
  EXPECT_TRUE(compile_flow(flow_with(R"("variables": {"t": ""}, "start": "a", "nodes": {"a": {"type": "question", "input": "text", "ask": "?", "store": "t", "skip": true, "next": "b"}, "b": {"type": "end", "say": "You said {{t}}"}})"), "x"));
}

TEST(CompileFlow, EveryBadFlowFileFailsWithLocations) {
  namespace fs = std::filesystem;
  fs::path folder = fs::path(TRELLIS_SOURCE_DIR) / "tests/engine/bad_flows";
  int files = 0;
  for (const auto& entry : fs::directory_iterator(folder)) {
    if (entry.path().extension() != ".json") continue;
    ++files;
    std::ifstream in(entry.path());
    std::stringstream text;
    text << in.rdbuf();
    auto result = compile_flow(text.str(), entry.path().filename().string());
    ASSERT_FALSE(result) << entry.path() << " compiled";
    for (const auto& d : result.error()) {
      EXPECT_GT(d.line, 0) << format(d);
      EXPECT_FALSE(d.message.empty());
    }
  }
  EXPECT_GE(files, 3);
}

}  // namespace
}  // namespace trellis::engine

namespace trellis::engine {
namespace {

TEST(CompileFlow, CallsAreAnalysedInContext) {
  // The sub-flow is called before and after `t` is set; the second call's return
  // must not be confused with the first, or `t` would look unset at the end.
  const std::string body = R"("start": "first", "nodes": {
      "first": {"type": "call", "subflow": "calm", "next": "ask"},
      "ask": {"type": "question", "input": "text", "ask": "?", "store": "t", "next": "second"},
      "second": {"type": "call", "subflow": "calm", "next": "done"},
      "done": {"type": "end", "say": "{{t}}"}},
    "subflows": {"calm": {"start": "m", "nodes": {
      "m": {"type": "message", "say": "Breathe.", "next": "r"}, "r": {"type": "return"}}}})";
  auto flow = compile_flow(testing::flow_with(body), "x.json");
  EXPECT_TRUE(flow) << (flow ? "" : format(flow.error()[0]));
  // What a sub-flow sets on every path is set after the call.
  const std::string sets = R"("start": "first", "nodes": {
      "first": {"type": "call", "subflow": "ask", "next": "done"},
      "done": {"type": "end", "say": "{{t}}"}},
    "subflows": {"ask": {"start": "q", "nodes": {
      "q": {"type": "question", "input": "text", "ask": "?", "store": "t", "next": "r"}, "r": {"type": "return"}}}})";
  EXPECT_TRUE(compile_flow(testing::flow_with(sets), "x.json"));
}

}  // namespace
}  // namespace trellis::engine
