#pragma once
// The small, mutable part of a conversation: where it is and what was answered.
// Holds ids, never pointers into a Flow, so it serialises and survives restarts.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <tl/expected.hpp>

#include "trellis/engine/variables.hpp"

namespace trellis::engine {

enum class Phase {
  NotStarted,  // no Start event yet
  Waiting,     // waiting for an answer to the question at `at`
  Paused,      // the person paused at `at`; only resume, help, restart and stop act
  Ended,       // reached an end node or stopped
};

struct SessionState {
  std::string flow_id;
  int flow_version = 0;
  Phase phase = Phase::NotStarted;
  std::string at;                       // node id of the open question
  std::vector<std::string> call_stack;  // node ids to continue at after `return`
  Variables variables;                 // saved by name; see Variables
  int attempts = 0;                     // failed answers to the open question
  int turn = 0;                         // events applied
  // The safety layer (step with a SafetyPolicy). While safety_category is not
  // empty the flow is interrupted: `at` and `phase` still say where it was, and
  // only the person's choice (talk, continue, stop) or stop/restart moves on.
  std::string safety_category;          // "" when no safety response is open
  std::string region;                   // resources shown: "" means the policy's default_region

  friend bool operator==(const SessionState&, const SessionState&) = default;
};

// The saved form carries its own format number; older forms we can still read
// are upgraded on load.
// Format 2 added "safety" {category} and "region"; format 1 is still read.
inline constexpr int kSessionStateFormat = 2;

nlohmann::json to_json(const SessionState& state);
// The same JSON as to_json(state).dump(), written without building the tree
// (the server saves every turn's state this way).
std::string to_json_text(const SessionState& state);
tl::expected<SessionState, std::string> session_state_from_json(const nlohmann::json& json);

}  // namespace trellis::engine
