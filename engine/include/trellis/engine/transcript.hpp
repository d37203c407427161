#pragma once
// Transcript tests: a plain-text conversation a counselor writes by hand, played
// against a flow. Format (docs/authoring.md, "Transcript tests"):
//
//   # a comment
//   flow: braving               optional; by default the flow in the folder above
//   < ~ check in                the next message contains this (case and spacing ignored)
//   < Exact text                the next message is exactly this
//   < /RE2 pattern/             the next message matches this pattern
//   ? scale 1-10                the next prompt: its kind, and a range or [Labels]
//   ? choice [Yes] [Not now]
//   = pause 4000                the next pause, in milliseconds
//   = end completed {"total": 42}   the end: its reason, and summary values it must include
//   = safety suicidal_thoughts  the next output is a safety response in this category
//   ...                         skip outputs until the next expectation matches
//   > I felt let down           the person types this
//   > [Not now]                 the person presses the button with this label or id
//   > !help                     the person presses the command button `help`
//
// The conversation starts by itself. Prompts and pauses are only checked when
// the transcript mentions them; every message and the end must be accounted for.
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <tl/expected.hpp>

#include "trellis/engine/diagnostic.hpp"
#include "trellis/engine/event.hpp"
#include "trellis/engine/flow.hpp"
#include "trellis/engine/safety.hpp"

namespace trellis::engine {

struct TranscriptLine {
  enum class Kind {
    Type,         // > text
    Press,        // > [label or id]
    Command,      // > !name
    MessageExact, // < text
    MessageHas,   // < ~ text
    MessageRegex, // < /re/
    Prompt,       // ? kind ...
    Pause,        // = pause N
    End,          // = end reason {json}
    Safety,       // = safety category
    Skip,         // ...
  };
  Kind kind;
  int line = 0;      // 1-based line in the transcript file
  std::string text;  // the argument as written
};

struct Transcript {
  std::string file;
  std::string flow_id;  // from "flow:", or empty for the default
  std::vector<TranscriptLine> lines;
};

tl::expected<Transcript, std::vector<Diagnostic>> parse_transcript(std::string_view text,
                                                                   std::string_view file);

struct TranscriptResult {
  bool passed = false;
  int line = 0;           // transcript line of the first difference
  std::string expected;   // what the transcript says
  std::string got;        // what the flow did
  // "braving/transcripts/happy.txt:14: expected a message containing "total", got message "Thanks""
  std::string describe(const std::string& file) const;
};

// With a policy, every step applies it (as production does); its safety outputs
// must then be expected with "= safety CATEGORY" like messages and ends.
TranscriptResult run_transcript(const Flow& flow, const Transcript& transcript,
                                const SafetyPolicy* policy = nullptr);

}  // namespace trellis::engine
