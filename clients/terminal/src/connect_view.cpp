#include "connect_view.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "chat_view.hpp"
#include "trellis/engine/event.hpp"

namespace trellis::cli {

namespace {

using nlohmann::json;

std::string_view trim(std::string_view text) {
  constexpr std::string_view kSpace = " \t\r\n";
  auto first = text.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(kSpace) - first + 1);
}

std::string string_field(const json& frame, const char* name) {
  auto it = frame.find(name);
  return it != frame.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::optional<int> int_field(const json& frame, const char* name) {
  auto it = frame.find(name);
  if (it == frame.end() || !it->is_number_integer()) return std::nullopt;
  return it->get<int>();
}

std::optional<engine::InputKind> input_kind(std::string_view name) {
  for (auto kind : {engine::InputKind::Choice, engine::InputKind::YesNo, engine::InputKind::Text,
                    engine::InputKind::Number, engine::InputKind::Scale}) {
    if (engine::to_string(kind) == name) return kind;
  }
  return std::nullopt;
}

std::optional<std::size_t> whole_number(std::string_view text) {
  std::size_t number = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (text.empty() || error != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return number;
}

}  // namespace

std::optional<engine::Output> output_from_frame(const json& frame) {
  if (!frame.is_object()) return std::nullopt;
  auto type = string_field(frame, "type");
  if (type == "message") {
    if (!frame.contains("text") || !frame["text"].is_string()) return std::nullopt;
    return engine::MessageOutput{frame["text"].get<std::string>(), ""};
  }
  if (type == "pause") {
    auto ms = int_field(frame, "ms");
    if (!ms) return std::nullopt;
    return engine::PauseOutput{*ms, ""};
  }
  if (type == "end") {
    auto summary = frame.contains("summary") && frame["summary"].is_object() ? frame["summary"] : json::object();
    return engine::EndOutput{string_field(frame, "flow"), string_field(frame, "reason"), summary};
  }
  if (type == "prompt") {
    auto kind = input_kind(string_field(frame, "input"));
    if (!kind) return std::nullopt;
    engine::PromptOutput prompt;
    prompt.input = *kind;
    if (auto choices = frame.find("choices"); choices != frame.end() && choices->is_array()) {
      for (const auto& choice : *choices) {
        if (choice.is_object()) prompt.choices.push_back({string_field(choice, "id"), string_field(choice, "label")});
      }
    }
    prompt.min = int_field(frame, "min");
    prompt.max = int_field(frame, "max");
    if (auto commands = frame.find("commands"); commands != frame.end() && commands->is_array()) {
      for (const auto& command : *commands) {
        if (command.is_string()) prompt.commands.push_back(command.get<std::string>());
      }
    }
    return prompt;
  }
  if (type == "safety") {
    engine::SafetyOutput safety;
    safety.category = string_field(frame, "category");
    safety.text = string_field(frame, "text");
    auto optional_text = [](const json& object, const char* key) -> std::optional<std::string> {
      auto found = object.find(key);
      if (found == object.end() || !found->is_string()) return std::nullopt;
      return found->get<std::string>();
    };
    if (auto resources = frame.find("resources"); resources != frame.end() && resources->is_array()) {
      for (const auto& resource : *resources) {
        if (!resource.is_object()) continue;
        safety.resources.push_back({string_field(resource, "name"), optional_text(resource, "phone"),
                                    optional_text(resource, "sms"), optional_text(resource, "url"),
                                    optional_text(resource, "hours"), {}});
      }
    }
    if (auto choices = frame.find("choices"); choices != frame.end() && choices->is_array()) {
      for (const auto& choice : *choices) {
        if (choice.is_object()) safety.choices.push_back({string_field(choice, "id"), string_field(choice, "label")});
      }
    }
    return safety;
  }
  return std::nullopt;
}

std::string render_frame(const json& frame) {
  if (auto output = output_from_frame(frame)) return render_output(*output);
  if (frame.is_object() && string_field(frame, "type") == "error") {
    return "(error " + string_field(frame, "code") + ": " + string_field(frame, "message") + ")\n";
  }
  return "";
}

json frame_for_line(std::string_view line, const engine::PromptOutput* open_prompt, std::int64_t seq) {
  auto text = trim(line);
  std::string word(text.substr(!text.empty() && text.front() == '/' ? 1 : 0));
  std::transform(word.begin(), word.end(), word.begin(), [](unsigned char c) { return std::tolower(c); });
  if (auto command = engine::command_from_string(word)) {
    return {{"type", "command"}, {"seq", seq}, {"name", std::string(engine::to_string(*command))}};
  }
  if (open_prompt != nullptr) {
    switch (open_prompt->input) {
      case engine::InputKind::Choice:
      case engine::InputKind::YesNo:
        if (auto number = whole_number(text); number && *number >= 1 && *number <= open_prompt->choices.size()) {
          return {{"type", "input"}, {"seq", seq}, {"choice", open_prompt->choices[*number - 1].id}};
        }
        break;
      case engine::InputKind::Scale:
        for (const auto& choice : open_prompt->choices) {
          if (whole_number(text) && choice.id == text) return {{"type", "input"}, {"seq", seq}, {"choice", choice.id}};
        }
        break;
      case engine::InputKind::Text:
      case engine::InputKind::Number: break;
    }
  }
  return {{"type", "input"}, {"seq", seq}, {"text", std::string(line)}};
}

std::string render_flow_menu(const json& flows) {
  std::string out;
  if (!flows.is_array()) return out;
  for (std::size_t i = 0; i < flows.size(); ++i) {
    const auto& flow = flows[i];
    out += "  " + std::to_string(i + 1) + ") " + string_field(flow, "title");
    if (auto minutes = int_field(flow, "minutes"); minutes && *minutes > 0) {
      out += " (about " + std::to_string(*minutes) + (*minutes == 1 ? " minute)" : " minutes)");
    }
    out += "\n";
    if (auto description = string_field(flow, "description"); !description.empty()) out += "     " + description + "\n";
  }
  return out;
}

std::optional<std::string> pick_flow(std::string_view line, const json& flows) {
  auto text = trim(line);
  if (!flows.is_array() || text.empty()) return std::nullopt;
  if (auto number = whole_number(text); number && *number >= 1 && *number <= flows.size()) {
    return string_field(flows[*number - 1], "id");
  }
  for (const auto& flow : flows) {
    if (string_field(flow, "id") == text) return std::string(text);
  }
  return std::nullopt;
}

}  // namespace trellis::cli
