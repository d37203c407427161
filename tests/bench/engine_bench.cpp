// Engine benchmarks (Google Benchmark). tests/bench/run.sh builds Release and runs
// them with repetitions; read the median. What each one times:
//   BM_StepChoice            one step: a scale answer given as a ChoiceEvent, at the
//                            BRAVING flow's first scale question
//   BM_StepFreeTextPattern   one step: the free text "yeah sure" at a yesno question
//                            (matched against the yes/no patterns)
//   BM_StepExpressionBranch  one step: the answer to BRAVING's 7th scale question,
//                            which runs the flow's set and branch nodes
//   BM_CompileAllFlows       compile_flow() on every flow file in dialogs/
//   BM_SafetyDetect/...      the safety check alone on a number, a sentence and a
//                            paragraph, with the shipped dialogs/safety/policy.json as
//                            deployed: the rules, then (no rule matched) the classifier
//   BM_SafetyDetectRulesOnly/... the same texts with the rules alone (no classifier)
//   BM_SafetyClassifierScore/... the classifier's part alone: features and scores of the
//                            already normalised text
//   BM_SafetyDetectLongMessage the deployed check on a 17 KB message nothing matches
//   BM_StepFreeTextWithSafety one step as the server runs it: a typed "7" at BRAVING's
//                            first scale question, with the shipped safety policy
// Each step benchmark drives a session from the start to the question once, outside
// the timed loop, then times step() again and again on that same state.
#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "trellis/engine/compile.hpp"
#include "trellis/engine/diagnostic.hpp"
#include "trellis/engine/event.hpp"
#include "trellis/engine/output.hpp"
#include "trellis/engine/safety.hpp"
#include "trellis/engine/session_state.hpp"
#include "trellis/engine/step.hpp"
#include "trellis/engine_io/flow_directory.hpp"

namespace {

namespace fs = std::filesystem;
using namespace trellis::engine;
namespace io = trellis::engine_io;

const fs::path kDialogs = fs::path(TRELLIS_SOURCE_DIR) / "dialogs";

struct Loaded {
  std::shared_ptr<const Flow> flow;
  std::string error;  // set when the flow did not load
};

Loaded load(const fs::path& file) {
  auto result = io::load_flow_file(file);
  if (result) return {*result, {}};
  std::string error = "cannot load " + file.string() + ":";
  for (const Diagnostic& d : result.error()) error += "\n  " + format(d);
  return {nullptr, error};
}

const Loaded& braving() {
  static const Loaded loaded = load(kDialogs / "braving" / "flow.json");
  return loaded;
}

const PromptOutput* last_prompt(const std::vector<Output>& outputs) {
  for (auto it = outputs.rbegin(); it != outputs.rend(); ++it) {
    if (const auto* prompt = std::get_if<PromptOutput>(&*it)) return prompt;
  }
  return nullptr;
}

// A plausible answer to any prompt: the middle of a scale, "yes", the first choice.
Event answer_for(const PromptOutput& prompt) {
  switch (prompt.input) {
    case InputKind::Scale:
      if (!prompt.choices.empty()) return ChoiceEvent{prompt.choices[prompt.choices.size() / 2].id};
      return TextEvent{std::to_string((prompt.min.value_or(1) + prompt.max.value_or(10)) / 2)};
    case InputKind::YesNo:
      return ChoiceEvent{"yes"};
    case InputKind::Choice:
      if (!prompt.choices.empty()) return ChoiceEvent{prompt.choices.front().id};
      return TextEvent{"1"};
    case InputKind::Number:
      return TextEvent{std::to_string(prompt.min.value_or(1))};
    case InputKind::Text:
      break;
  }
  return TextEvent{"I kept my word to a friend this week, and it felt good."};
}

// The state of a session just before it answers the `nth` (1-based) prompt of
// kind `kind`, and that prompt; nullopt when the flow ends first.
struct AtQuestion {
  SessionState state;
  PromptOutput prompt;
};
std::optional<AtQuestion> drive_to(const Flow& flow, InputKind kind, int nth) {
  SessionState state = new_session(flow);
  Event event = StartEvent{};
  int seen = 0;
  for (int turn = 0; turn < 500; ++turn) {
    StepResult result = step(flow, state, event);
    state = std::move(result.state);
    const PromptOutput* prompt = last_prompt(result.outputs);
    if (prompt == nullptr || state.phase == Phase::Ended) return std::nullopt;
    if (prompt->input == kind && ++seen == nth) return AtQuestion{state, *prompt};
    event = answer_for(*prompt);
  }
  return std::nullopt;
}

// Times step(flow, at.state, event) and checks once that the answer is accepted.
void time_step(benchmark::State& bench, const Flow& flow, const SessionState& state,
               const Event& event) {
  const StepResult first = step(flow, state, event);
  if (first.outcome != Outcome::Answered) {
    bench.SkipWithError(("the answer was not accepted: outcome " +
                         std::string(to_string(first.outcome)))
                            .c_str());
    return;
  }
  for (auto _ : bench) {
    StepResult result = step(flow, state, event);
    benchmark::DoNotOptimize(result);
  }
  bench.SetItemsProcessed(bench.iterations());
}

void BM_StepChoice(benchmark::State& bench) {
  const Loaded& loaded = braving();
  if (!loaded.flow) return bench.SkipWithError(loaded.error.c_str());
  auto at = drive_to(*loaded.flow, InputKind::Scale, 1);
  if (!at) return bench.SkipWithError("BRAVING has no scale question");
  time_step(bench, *loaded.flow, at->state, answer_for(at->prompt));
}
BENCHMARK(BM_StepChoice);

void BM_StepFreeTextPattern(benchmark::State& bench) {
  // BRAVING's first yes/no question, else the first one in any flow in dialogs/.
  std::optional<AtQuestion> at;
  std::shared_ptr<const Flow> flow;
  if (braving().flow) {
    flow = braving().flow;
    at = drive_to(*flow, InputKind::YesNo, 1);
  }
  if (!at) {
    for (const fs::path& file : io::find_flow_files({kDialogs})) {
      const Loaded loaded = load(file);
      if (!loaded.flow) continue;
      at = drive_to(*loaded.flow, InputKind::YesNo, 1);
      if (at) {
        flow = loaded.flow;
        break;
      }
    }
  }
  if (!at) return bench.SkipWithError("no flow in dialogs/ reaches a yesno question");
  time_step(bench, *flow, at->state, TextEvent{"yeah sure"});
}
BENCHMARK(BM_StepFreeTextPattern);

void BM_StepExpressionBranch(benchmark::State& bench) {
  const Loaded& loaded = braving();
  if (!loaded.flow) return bench.SkipWithError(loaded.error.c_str());
  auto at = drive_to(*loaded.flow, InputKind::Scale, 7);
  if (!at) return bench.SkipWithError("BRAVING has fewer than 7 scale questions");
  time_step(bench, *loaded.flow, at->state, answer_for(at->prompt));
}
BENCHMARK(BM_StepExpressionBranch);

// The safety check every free-text turn gets in `trellis serve` (step with the
// shipped policy): what it adds to a turn depends on the text, so three kinds.
// As deployed: the rules and the classifier the policy names.
const SafetyPolicy* shipped_policy() {
  static const std::shared_ptr<const SafetyPolicy> policy = [] {
    auto loaded = io::load_safety_policy(kDialogs / "safety" / "policy.json");
    return loaded ? *loaded : nullptr;
  }();
  return policy.get();
}

const SafetyPolicy* shipped_rules() {
  static const std::shared_ptr<const SafetyPolicy> rules = []() -> std::shared_ptr<const SafetyPolicy> {
    if (shipped_policy() == nullptr) return nullptr;
    auto copy = std::make_shared<SafetyPolicy>(*shipped_policy());
    copy->classifier = nullptr;
    return copy;
  }();
  return rules.get();
}

void time_detect(benchmark::State& bench, const SafetyPolicy* policy, const char* text) {
  if (policy == nullptr) return bench.SkipWithError("dialogs/safety/policy.json does not load");
  for (auto _ : bench) {
    auto match = detect(*policy, text);
    benchmark::DoNotOptimize(match);
  }
  bench.SetItemsProcessed(bench.iterations());
}
void BM_SafetyDetect(benchmark::State& bench, const char* text) { time_detect(bench, shipped_policy(), text); }
void BM_SafetyDetectRulesOnly(benchmark::State& bench, const char* text) {
  time_detect(bench, shipped_rules(), text);
}
void BM_SafetyClassifierScore(benchmark::State& bench, const char* text) {
  const SafetyPolicy* policy = shipped_policy();
  if (policy == nullptr || !policy->classifier) return bench.SkipWithError("no classifier");
  const std::string normalised = normalise_for_safety(text);
  for (auto _ : bench) {
    auto scores = score_normalised(*policy->classifier, normalised);
    benchmark::DoNotOptimize(scores);
  }
  bench.SetItemsProcessed(bench.iterations());
}

constexpr const char* kSentence = "I kept my word to a friend this week, and it felt good.";
constexpr const char* kParagraph =
    "When my sister told my parents what I had said in confidence, I felt betrayed and I stopped "
    "telling her things for a long time. Looking back, I think she was worried about me, and I "
    "never gave her the chance to explain. This week we talked it through over coffee, and I "
    "told her what I need from her if I share something private. It felt awkward but honest.";
BENCHMARK_CAPTURE(BM_SafetyDetect, a_number, "7");
BENCHMARK_CAPTURE(BM_SafetyDetect, a_sentence, kSentence);
BENCHMARK_CAPTURE(BM_SafetyDetect, a_paragraph, kParagraph);
BENCHMARK_CAPTURE(BM_SafetyDetectRulesOnly, a_number, "7");
BENCHMARK_CAPTURE(BM_SafetyDetectRulesOnly, a_sentence, kSentence);
BENCHMARK_CAPTURE(BM_SafetyDetectRulesOnly, a_paragraph, kParagraph);
BENCHMARK_CAPTURE(BM_SafetyClassifierScore, a_sentence, kSentence);
BENCHMARK_CAPTURE(BM_SafetyClassifierScore, a_paragraph, kParagraph);

// A 17 KB message (the paragraph 45 times) with nothing for the rules: the classifier's worst
// ordinary case, since it reads every word.
void BM_SafetyDetectLongMessage(benchmark::State& bench) {
  std::string text;
  while (text.size() < 17000) text += std::string(kParagraph) + "\n";
  time_detect(bench, shipped_policy(), text.c_str());
}
BENCHMARK(BM_SafetyDetectLongMessage);

void BM_StepFreeTextWithSafety(benchmark::State& bench) {
  const SafetyPolicy* policy = shipped_policy();
  if (policy == nullptr) return bench.SkipWithError("dialogs/safety/policy.json does not compile");
  const Loaded& loaded = braving();
  if (!loaded.flow) return bench.SkipWithError(loaded.error.c_str());
  auto at = drive_to(*loaded.flow, InputKind::Scale, 1);
  if (!at) return bench.SkipWithError("BRAVING has no scale question");
  const Event typed = TextEvent{"7"};
  if (step(*loaded.flow, *policy, at->state, typed).outcome != Outcome::Answered) {
    return bench.SkipWithError("a typed 7 was not accepted");
  }
  for (auto _ : bench) {
    StepResult result = step(*loaded.flow, *policy, at->state, typed);
    benchmark::DoNotOptimize(result);
  }
  bench.SetItemsProcessed(bench.iterations());
}
BENCHMARK(BM_StepFreeTextWithSafety);

void BM_CompileAllFlows(benchmark::State& bench) {
  struct Text {
    std::string name;
    std::string text;
  };
  std::vector<Text> texts;
  std::size_t bytes = 0;
  for (const fs::path& file : io::find_flow_files({kDialogs})) {
    texts.push_back({file.string(), io::read_file(file)});
    bytes += texts.back().text.size();
  }
  if (texts.empty()) return bench.SkipWithError("no flow files under dialogs/");
  for (const Text& t : texts) {
    if (!compile_flow(t.text, t.name)) {
      return bench.SkipWithError(("does not compile: " + t.name).c_str());
    }
  }
  for (auto _ : bench) {
    for (const Text& t : texts) {
      CompileResult result = compile_flow(t.text, t.name);
      benchmark::DoNotOptimize(result);
    }
  }
  bench.counters["flows"] = static_cast<double>(texts.size());
  bench.SetBytesProcessed(static_cast<std::int64_t>(bytes) * bench.iterations());
}
BENCHMARK(BM_CompileAllFlows)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
