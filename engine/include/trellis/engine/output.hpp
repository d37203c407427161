#pragma once
// What a step asks the caller to show the person, in order.
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "trellis/engine/flow.hpp"

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

using Output = std::variant<MessageOutput, PromptOutput, PauseOutput, EndOutput>;

nlohmann::json to_json(const Output& output);

}  // namespace trellis::engine
