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
  nlohmann::json operator()(const SafetyOutput& safety) const {
    nlohmann::json json{{"type", "safety"}, {"category", safety.category}, {"text", safety.text}};
    json["resources"] = nlohmann::json::array();
    for (const auto& resource : safety.resources) json["resources"].push_back(to_json(resource));
    json["choices"] = nlohmann::json::array();
    for (const auto& choice : safety.choices) json["choices"].push_back({{"id", choice.id}, {"label", choice.label}});
    json["node"] = safety.node;
    return json;
  }
  nlohmann::json operator()(const EndOutput& end) const {
    return {{"type", "end"}, {"flow", end.flow}, {"reason", end.reason}, {"summary", end.summary}};
  }
};
}  // namespace

nlohmann::json to_json(const SafetyResource& resource) {
  nlohmann::json json{{"name", resource.name}};
  if (resource.phone) json["phone"] = *resource.phone;
  if (resource.sms) json["sms"] = *resource.sms;
  if (resource.url) json["url"] = *resource.url;
  if (resource.hours) json["hours"] = *resource.hours;
  return json;
}

nlohmann::json to_json(const Output& output) { return std::visit(ToJson{}, output); }

}  // namespace trellis::engine
