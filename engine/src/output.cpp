#include "trellis/engine/output.hpp"

namespace trellis::engine {

namespace {
struct ToJson {
  nlohmann::json operator()(const MessageOutput& message) const {
    return {{"type", "message"}, {"text", message.text}, {"node", message.node}};
  }
  nlohmann::json operator()(const PromptOutput& prompt) const {
    nlohmann::json json{{"type", "prompt"}, {"input", to_string(prompt.input)}, {"node", prompt.node}};
    json["choices"] = nlohmann::json::array();
    for (const auto& choice : prompt.choices) {
      json["choices"].push_back({{"id", choice.id}, {"label", choice.label}});
    }
    if (prompt.min) json["min"] = *prompt.min;
    if (prompt.max) json["max"] = *prompt.max;
    json["commands"] = prompt.commands;
    return json;
  }
  nlohmann::json operator()(const PauseOutput& pause) const {
    return {{"type", "pause"}, {"ms", pause.ms}, {"node", pause.node}};
  }
  nlohmann::json operator()(const EndOutput& end) const {
    return {{"type", "end"}, {"flow", end.flow}, {"reason", end.reason}, {"summary", end.summary}};
  }
};
}  // namespace

nlohmann::json to_json(const Output& output) { return std::visit(ToJson{}, output); }

}  // namespace trellis::engine
