#include "trellis/engine/transcript.hpp"

#include <gtest/gtest.h>

#include "trellis/engine/compile.hpp"

namespace trellis::engine {
namespace {

using Kind = TranscriptLine::Kind;

// --- Parsing ---------------------------------------------------------------

TEST(ParseTranscript, ReadsEveryKindOfLine) {
  auto transcript = parse_transcript(R"(# a comment
flow: braving

< ~ check in
< Exact text
< /total: \d+/
? scale 1-10
? choice [Yes] [Not now]
? text
= pause 4000
= end completed {"total": 42}
...
> I felt let down
> [Not now]
> !help
>
)",
                                     "happy.txt");
  ASSERT_TRUE(transcript) << format(transcript.error().front());
  EXPECT_EQ(transcript->file, "happy.txt");
  EXPECT_EQ(transcript->flow_id, "braving");
  struct Want {
    Kind kind;
    int line;
    std::string text;
  };
  std::vector<Want> want{
      {Kind::MessageHas, 4, "check in"},
      {Kind::MessageExact, 5, "Exact text"},
      {Kind::MessageRegex, 6, R"(total: \d+)"},
      {Kind::Prompt, 7, "scale 1-10"},
      {Kind::Prompt, 8, "choice [Yes] [Not now]"},
      {Kind::Prompt, 9, "text"},
      {Kind::Pause, 10, "4000"},
      {Kind::End, 11, R"(completed {"total": 42})"},
      {Kind::Skip, 12, ""},
      {Kind::Type, 13, "I felt let down"},
      {Kind::Press, 14, "Not now"},
      {Kind::Command, 15, "help"},
      {Kind::Type, 16, ""},
  };
  ASSERT_EQ(transcript->lines.size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    SCOPED_TRACE("line " + std::to_string(want[i].line));
    EXPECT_EQ(transcript->lines[i].kind, want[i].kind);
    EXPECT_EQ(transcript->lines[i].line, want[i].line);
    EXPECT_EQ(transcript->lines[i].text, want[i].text);
  }
}

TEST(ParseTranscript, WithoutFlowLineTheFlowIdIsEmpty) {
  auto transcript = parse_transcript("< Hello\r\n> hi\r\n", "t.txt");
  ASSERT_TRUE(transcript);
  EXPECT_EQ(transcript->flow_id, "");
  ASSERT_EQ(transcript->lines.size(), 2u);
  EXPECT_EQ(transcript->lines[0].text, "Hello");  // the \r is not part of the message
}

struct BadLine {
  std::string line;
  std::string code;
  std::string message_part;
};
void PrintTo(const BadLine& bad, std::ostream* out) { *out << bad.code << " " << bad.line; }

class ParseTranscriptErrors : public testing::TestWithParam<BadLine> {};

TEST_P(ParseTranscriptErrors, ReportsTheLineWithFileAndCode) {
  const auto& bad = GetParam();
  auto transcript = parse_transcript("< Hello\n" + bad.line + "\n", "dialogs/x/transcripts/t.txt");
  ASSERT_FALSE(transcript) << bad.line;
  ASSERT_EQ(transcript.error().size(), 1u);
  const auto& diagnostic = transcript.error().front();
  EXPECT_EQ(diagnostic.code, bad.code);
  EXPECT_EQ(diagnostic.file, "dialogs/x/transcripts/t.txt");
  EXPECT_EQ(diagnostic.line, 2);
  EXPECT_EQ(diagnostic.severity, Severity::Error);
  EXPECT_NE(diagnostic.message.find(bad.message_part), std::string::npos) << diagnostic.message;
}

INSTANTIATE_TEST_SUITE_P(
    Table, ParseTranscriptErrors,
    testing::Values(BadLine{"hello there", "T001", "cannot read this line: 'hello there'"},
                    BadLine{"<", "T002", "needs the message"}, BadLine{"< ~", "T002", "needs some text"},
                    BadLine{"> [Yes", "T003", "cannot read the button"},
                    BadLine{"> !dance", "T004", "unknown command 'dance'"},
                    BadLine{"< /(unclosed/", "T005", "is not valid"},
                    BadLine{"? colour", "T006", "unknown prompt kind 'colour'"},
                    BadLine{"? scale one to ten", "T006", "write a range like 1-10"},
                    BadLine{"? choice [Yes", "T006", "cannot read the labels"},
                    BadLine{"flow: Not An Id", "T007", "is not a flow id"},
                    BadLine{"= pause soon", "T009", "needs a number of milliseconds"},
                    BadLine{"= end", "T010", "needs a reason"},
                    BadLine{"= end completed {total: 1}", "T010", "is not a JSON object"},
                    BadLine{"= end completed [1]", "T010", "is not a JSON object"},
                    BadLine{"= finish", "T011", "unknown '=' line"}),
    [](const testing::TestParamInfo<BadLine>& info) {
      return info.param.code + "_" + std::to_string(info.index);
    });

TEST(ParseTranscript, ReportsEveryBadLineAtOnce) {
  auto transcript = parse_transcript("flow: one\nflow: two\n< fine\nnonsense\n? wat\n", "t.txt");
  ASSERT_FALSE(transcript);
  ASSERT_EQ(transcript.error().size(), 3u);
  EXPECT_EQ(transcript.error()[0].line, 2);
  EXPECT_EQ(transcript.error()[0].code, "T008");
  EXPECT_NE(transcript.error()[0].message.find("line 1"), std::string::npos);
  EXPECT_EQ(transcript.error()[1].line, 4);
  EXPECT_EQ(transcript.error()[2].line, 5);
}

// --- Running ---------------------------------------------------------------

constexpr std::string_view kMiniFlow = R"({
  "trellis": 1, "id": "mini", "version": 1, "title": "Mini",
  "description": "A tiny flow for transcript tests.", "minutes": 1,
  "credits": [{"author": "Trellis", "work": "Tests"}],
  "start": "hello",
  "nodes": {
    "hello": {"type": "message", "say": ["Hello, \u2018friend\u2019\u2026  welcome.", {"pause": 500}], "next": "ready"},
    "ready": {"type": "question", "ask": "Ready to start?", "input": "choice",
              "choices": [{"id": "yes", "label": "Yes"}, {"id": "later", "label": "Not now", "next": "bye"}],
              "next": "rate"},
    "rate": {"type": "question", "ask": "How full is your cup, 1 to 10?", "input": "scale",
             "store": "cup", "next": "done"},
    "done": {"type": "end", "say": "You said {{ cup }}.", "summary": {"cup": "cup", "name": "'mini'"}},
    "bye": {"type": "end", "say": "Another time."}
  }
})";

class RunTranscript : public testing::Test {
 protected:
  void SetUp() override {
    auto compiled = compile_flow(kMiniFlow, "mini/flow.json");
    ASSERT_TRUE(compiled) << format(compiled.error().front());
    flow_ = *compiled;
  }

  TranscriptResult run(std::string_view text) {
    auto transcript = parse_transcript(text, "mini/transcripts/t.txt");
    EXPECT_TRUE(transcript) << (transcript ? "" : format(transcript.error().front()));
    if (!transcript) return {};
    return run_transcript(*flow_, *transcript);
  }

  std::shared_ptr<const Flow> flow_;
};

TEST_F(RunTranscript, PassesWhenEveryMessageIsExpected) {
  auto result = run(R"(< ~ HELLO,   'friend'... welcome
< Ready to start?
> [yes]
< /How full.*10\?/
> 7
< You said 7.
= end completed {"cup": 7.0, "name": "mini"}
)");
  EXPECT_TRUE(result.passed) << result.describe("t.txt");
}

TEST_F(RunTranscript, ChecksPromptsAndPausesWhenNamed) {
  auto result = run(R"(< ~ hello
= pause 500
< Ready to start?
? choice [Yes] [Not now]
> [Not now]
< Another time.
= end completed
)");
  EXPECT_TRUE(result.passed) << result.describe("t.txt");
  result = run(R"(< ~ hello
< Ready to start?
> 1
< ~ how full
? scale 1-10
> 3
...
= end completed {"cup": 3}
)");
  EXPECT_TRUE(result.passed) << result.describe("t.txt");
}

TEST_F(RunTranscript, SkipPassesOverMessages) {
  auto result = run("...\n> [Not now]\n...\n");
  EXPECT_TRUE(result.passed) << result.describe("t.txt");
}

struct Failure {
  std::string name;
  std::string transcript;
  int line;
  std::string expected;
  std::string got;
};
void PrintTo(const Failure& failure, std::ostream* out) { *out << failure.name; }

class RunTranscriptFailures : public RunTranscript, public testing::WithParamInterface<Failure> {};

TEST_P(RunTranscriptFailures, ReportsLineExpectedAndGot) {
  const auto& want = GetParam();
  auto result = run(want.transcript);
  EXPECT_FALSE(result.passed);
  EXPECT_EQ(result.line, want.line);
  EXPECT_EQ(result.expected, want.expected);
  EXPECT_EQ(result.got, want.got);
  EXPECT_EQ(result.describe("t.txt"),
            "t.txt:" + std::to_string(want.line) + ": expected " + want.expected + ", got " + want.got);
}

const std::string kHello = "message \"Hello, \u2018friend\u2019\u2026  welcome.\"";

INSTANTIATE_TEST_SUITE_P(
    Table, RunTranscriptFailures,
    testing::Values(
        Failure{"WrongExactMessage", "< Hello\n", 1, "message \"Hello\"", kHello},
        Failure{"WrongLooseMessage", "< ~ goodbye\n", 1, "a message containing \"goodbye\"", kHello},
        Failure{"WrongPattern", "< /^Bye/\n", 1, "a message matching /^Bye/", kHello},
        Failure{"UnexpectedMessageBeforeAnswer", "< ~ hello\n> [Yes]\n", 2,
                "no more messages before the person's turn", "unexpected message \"Ready to start?\""},
        Failure{"UnexpectedMessageAtEnd", "< ~ hello\n# done\n", 1,
                "no more messages before the end of the transcript", "unexpected message \"Ready to start?\""},
        Failure{"UnknownButton", "...\n> [Maybe]\n", 2, "a button [Maybe] to press",
                "prompt choice [Yes] [Not now] with buttons [Yes] [Not now]"},
        Failure{"WrongPrompt", "...\n? choice [Yes] [No]\n", 2, "prompt choice [Yes] [No]",
                "nothing more (the flow is waiting for the person)"},
        Failure{"WrongPause", "< ~ hello\n= pause 400\n", 2, "pause 400", "pause 500"},
        Failure{"MessageWhenEndExpected", "...\n> [Not now]\n= end completed\n", 3, "end completed",
                "message \"Another time.\""},
        Failure{"WrongSummary", "...\n> [Yes]\n...\n> 4\n< You said 4.\n= end completed {\"cup\": 5}\n", 6,
                "end completed {\"cup\": 5}", "end completed {\"cup\":4,\"name\":\"mini\"}"},
        Failure{"NothingMore", "...\n> [Not now]\n< Another time.\n= end completed\n< More?\n", 5,
                "message \"More?\"", "nothing more (the conversation has ended)"}),
    [](const testing::TestParamInfo<Failure>& info) { return info.param.name; });

}  // namespace
}  // namespace trellis::engine
