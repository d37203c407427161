#pragma once
// What a step asks the caller to show the person, in order.
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "trellis/engine/flow.hpp"
#include "trellis/engine/safety.hpp"

namespace trellis::engine {

struct MessageOutput {
  std::string text;
  std::string node;  // which node said it (room for translation and tracing)
};

struct ChoiceOutput {
  std::string id;
  std::string label;
};

struct PromptOutput {
  InputKind input = InputKind::Text;
  std::vector<ChoiceOutput> choices;  // choice, yesno, scale
  std::optional<int> min, max;        // number, scale
  std::vector<std::string> commands;  // commands offered as buttons now: "help", "skip", ...
  std::string node;
};

// The caller waits this long before showing the next output; the engine never sleeps.
struct PauseOutput {
  int ms = 0;
  std::string node;
};

struct EndOutput {
  std::string flow;
  std::string reason;          // "completed" or "stopped"
  nlohmann::json summary;      // object: the answers worth keeping
};

// Crisis language was detected: the flow is paused until the person chooses.
// `text` is the category's response, `resources` those of the session's region,
// `choices` talk / continue / stop (ids kSafety*Choice; continue is left out when
// there is no question to return to). `node` is the interrupted question, if any.
struct SafetyOutput {
  std::string category;
  std::string text;
  std::vector<SafetyResource> resources;
  std::vector<ChoiceOutput> choices;
  std::string node;
};

using Output = std::variant<MessageOutput, PromptOutput, PauseOutput, EndOutput, SafetyOutput>;

nlohmann::json to_json(const Output& output);
// {name, phone?, sms?, url?, hours?}: absent fields are left out.
nlohmann::json to_json(const SafetyResource& resource);

}  // namespace trellis::engine
