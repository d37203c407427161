#pragma once
// Advances one session by one event. Pure and deterministic: the same flow, state
// and event always give the same result. No clocks, I/O, threads or globals.
#include <optional>
#include <string>
#include <vector>

#include "trellis/engine/event.hpp"
#include "trellis/engine/flow.hpp"
#include "trellis/engine/output.hpp"
#include "trellis/engine/safety.hpp"
#include "trellis/engine/session_state.hpp"

namespace trellis::engine {

// How the step treated the event, for metrics and tracing (never the person's text).
enum class Outcome {
  Started,      // a Start event began the flow
  Answered,     // the answer was accepted and the flow moved on
  Reprompted,   // the answer did not fit; asked again
  FellBack,     // the retry limit was reached; went to the fallback
  Command,      // a global command acted
  Ignored,      // nothing to act on (input after the end, before the start)
  UnknownChoice,// a choice id that the open prompt does not offer (a client bug)
  Safety,       // the safety layer acted: crisis language, or a reply while its choice is open
};
std::string_view to_string(Outcome outcome);

struct StepResult {
  SessionState state;           // the next state; the caller saves it
  std::vector<Output> outputs;  // what to show the person, in order
  Outcome outcome = Outcome::Ignored;
  std::string matched;          // which rule matched, e.g. "choice:yes" or "intent:unsure"
  // When this step detected crisis language ("safety:<category>"): which detector found it,
  // SafetyDetector::Rules or ::Classifier, so that events and alerts can tell. Unset otherwise.
  std::optional<SafetyDetector> safety_detector;
};

// Without safety: for tests of flows alone. Every production caller uses the overload below.
StepResult step(const Flow& flow, const SessionState& state, const Event& event);

// With the deployment's safety policy. Every typed text, in every phase, is checked
// before the flow sees it; on a match the flow pauses and a SafetyOutput offers
// talk / continue / stop (docs/safety.md). state.region picks the resources.
StepResult step(const Flow& flow, const SafetyPolicy& policy, const SessionState& state, const Event& event);

// A new session for `flow`, not yet started.
SessionState new_session(const Flow& flow);

}  // namespace trellis::engine
