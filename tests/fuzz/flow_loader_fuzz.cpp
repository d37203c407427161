// libFuzzer target: arbitrary bytes as a flow file. Whatever compiles is then run for
// a few steps with events chosen by the input's bytes, so the runtime is exercised on
// flows no author would write. A crash, sanitizer report, uncaught exception or a
// broken invariant (step() not deterministic) is a finding.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <iterator>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "trellis/engine/compile.hpp"
#include "trellis/engine/event.hpp"
#include "trellis/engine/output.hpp"
#include "trellis/engine/session_state.hpp"
#include "trellis/engine/step.hpp"

using namespace trellis::engine;

namespace {

constexpr int kMaxSteps = 24;

// Answers a person might type, including the awkward ones.
constexpr std::string_view kTexts[] = {
    "",    "yes", "no",  "yeah sure", "nope", "7", "7/10", "seven", "7 out of 10", "11",
    "-3",  "0",   "2",   "help",      "/skip", "stop", "I don't know", "  YES  ", "\xff\xfe",
    "1e308",
};

constexpr CommandName kCommands[] = {CommandName::Help,    CommandName::Pause,
                                     CommandName::Resume,  CommandName::Restart,
                                     CommandName::Stop,    CommandName::Skip};

// Reads bytes that pick the events: from the end of the input backwards, so the
// front of the input (the JSON text) and the choice of events mutate fairly freely.
class ByteSource {
 public:
  ByteSource(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  std::uint8_t next() {
    if (size_ == 0) return 0;
    std::uint8_t b = data_[size_ - 1 - (pos_ % size_)];
    ++pos_;
    return static_cast<std::uint8_t>(b + pos_ / size_);  // vary when wrapping around
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
};

const PromptOutput* last_prompt(const std::vector<Output>& outputs) {
  for (auto it = outputs.rbegin(); it != outputs.rend(); ++it) {
    if (const auto* prompt = std::get_if<PromptOutput>(&*it)) return prompt;
  }
  return nullptr;
}

Event pick_event(ByteSource& bytes, const PromptOutput* prompt, std::string_view input) {
  const std::uint8_t kind = bytes.next() % 8;
  switch (kind) {
    case 0:
    case 1:
    case 2: {  // a choice the prompt offers (or a bogus one)
      if (prompt != nullptr && !prompt->choices.empty()) {
        return ChoiceEvent{prompt->choices[bytes.next() % prompt->choices.size()].id};
      }
      return ChoiceEvent{"no-such-choice"};
    }
    case 3:
    case 4:
      return TextEvent{std::string(kTexts[bytes.next() % std::size(kTexts)])};
    case 5: {  // a slice of the input itself as free text
      if (input.empty()) return TextEvent{""};
      const std::size_t start = bytes.next() % input.size();
      const std::size_t length = bytes.next() % 64;
      return TextEvent{std::string(input.substr(start, length))};
    }
    case 6:
      return CommandEvent{kCommands[bytes.next() % std::size(kCommands)]};
    default:
      return StartEvent{};
  }
}

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "flow_loader_fuzz: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  std::vector<Diagnostic> warnings;
  CompileResult compiled = compile_flow(text, "fuzz.json", &warnings);
  if (!compiled) {
    for (const Diagnostic& d : compiled.error()) (void)format(d);
    if (!has_errors(compiled.error())) fail("compile failed without an error diagnostic");
    return 0;
  }
  for (const Diagnostic& d : warnings) (void)format(d);
  const Flow& flow = **compiled;

  ByteSource bytes(data, size);
  SessionState state = new_session(flow);
  Event event = StartEvent{};
  for (int i = 0; i < kMaxSteps; ++i) {
    StepResult result = step(flow, state, event);

    // step() is pure: the same flow, state and event give the same result.
    StepResult again = step(flow, state, event);
    if (again.outcome != result.outcome || again.matched != result.matched ||
        again.outputs.size() != result.outputs.size() || again.state.at != result.state.at ||
        again.state.phase != result.state.phase || again.state.turn != result.state.turn) {
      fail("step() gave two different results for the same input");
    }

    for (const Output& output : result.outputs) (void)to_json(output);
    (void)to_string(result.outcome);
    // The saved form must load again.
    if (!session_state_from_json(to_json(result.state))) {
      fail("a state written by to_json() did not load with session_state_from_json()");
    }

    state = std::move(result.state);
    event = pick_event(bytes, last_prompt(result.outputs), text);
  }
  return 0;
}
