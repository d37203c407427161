#include "chat_view.hpp"

#include <charconv>
#include <istream>
#include <ostream>

#include "trellis/engine/step.hpp"

namespace trellis::cli {

namespace {

std::string_view trim(std::string_view text) {
  constexpr std::string_view kSpace = " \t\r\n";
  auto first = text.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(kSpace) - first + 1);
}

std::string summary_value(const nlohmann::json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_boolean()) return value.get<bool>() ? "yes" : "no";
  return value.dump();
}

struct Render {
  std::string operator()(const engine::MessageOutput& message) const { return message.text + "\n"; }
  std::string operator()(const engine::PromptOutput& prompt) const {
    std::string out;
    switch (prompt.input) {
      case engine::InputKind::Choice:
      case engine::InputKind::YesNo:
        for (std::size_t i = 0; i < prompt.choices.size(); ++i) {
          out += "  " + std::to_string(i + 1) + ") " + prompt.choices[i].label + "\n";
        }
        break;
      case engine::InputKind::Scale:
        if (prompt.min && prompt.max) {
          out += "  " + std::to_string(*prompt.min) + "\u2013" + std::to_string(*prompt.max) + "\n";
        }
        break;
      case engine::InputKind::Number:
        if (prompt.min && prompt.max) {
          out += "  a number from " + std::to_string(*prompt.min) + " to " + std::to_string(*prompt.max) + "\n";
        }
        break;
      case engine::InputKind::Text: break;
    }
    if (!prompt.commands.empty()) {
      std::string words;
      for (const auto& command : prompt.commands) words += (words.empty() ? "" : ", ") + command;
      out += "  (type " + words + ")\n";
    }
    return out;
  }
  std::string operator()(const engine::PauseOutput&) const { return ""; }
  // Set apart from the flow's own messages, with every way to reach each resource.
  std::string operator()(const engine::SafetyOutput& safety) const {
    std::string out = "\n  ** " + safety.text + "\n";
    for (const auto& resource : safety.resources) {
      out += "  ** " + resource.name;
      if (resource.phone) out += " \u2014 call " + *resource.phone;
      if (resource.sms) out += (resource.phone ? ", text " : " \u2014 text ") + *resource.sms;
      if (resource.hours) out += " (" + *resource.hours + ")";
      if (resource.url) out += " " + *resource.url;
      out += "\n";
    }
    for (std::size_t i = 0; i < safety.choices.size(); ++i) {
      out += "  " + std::to_string(i + 1) + ") " + safety.choices[i].label + "\n";
    }
    return out;
  }
  std::string operator()(const engine::EndOutput& end) const {
    std::string out = "(end: " + end.reason + ")\n";
    if (end.summary.is_object()) {
      for (const auto& [key, value] : end.summary.items()) out += "  " + key + ": " + summary_value(value) + "\n";
    }
    return out;
  }
};

}  // namespace

std::string render_output(const engine::Output& output) { return std::visit(Render{}, output); }

engine::Event event_for_input(const std::string& line, const engine::PromptOutput* open_prompt) {
  auto text = trim(line);
  bool offers_options = open_prompt != nullptr && (open_prompt->input == engine::InputKind::Choice ||
                                                   open_prompt->input == engine::InputKind::YesNo);
  if (offers_options) {
    std::size_t number = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), number);
    if (error == std::errc{} && end == text.data() + text.size() && number >= 1 &&
        number <= open_prompt->choices.size()) {
      return engine::ChoiceEvent{open_prompt->choices[number - 1].id};
    }
  }
  return engine::TextEvent{line};
}

int run_chat(const engine::Flow& flow, std::istream& in, std::ostream& out, const ChatOptions& options) {
  engine::SessionState state = engine::new_session(flow);
  state.region = options.region;
  std::optional<engine::PromptOutput> open_prompt;
  auto apply = [&](const engine::Event& event) {
    auto result = options.policy != nullptr ? engine::step(flow, *options.policy, state, event)
                                            : engine::step(flow, state, event);
    state = std::move(result.state);
    for (const auto& output : result.outputs) {
      if (const auto* pause = std::get_if<engine::PauseOutput>(&output)) {
        out.flush();
        if (options.wait) options.wait(pause->ms);
        continue;
      }
      if (const auto* prompt = std::get_if<engine::PromptOutput>(&output)) open_prompt = *prompt;
      if (const auto* safety = std::get_if<engine::SafetyOutput>(&output)) {
        engine::PromptOutput choices;  // a typed number picks one of its choices
        choices.input = engine::InputKind::Choice;
        choices.choices = safety->choices;
        open_prompt = std::move(choices);
      }
      out << render_output(output);
    }
    out.flush();
  };
  apply(engine::StartEvent{});
  std::string line;
  while (state.phase != engine::Phase::Ended) {
    // A blank line sets the person's turn apart from the flow's on a terminal.
    if (options.show_prompt_marker) out << "\n> " << std::flush;
    if (!std::getline(in, line)) {
      if (options.show_prompt_marker) out << "\n";
      break;
    }
    apply(event_for_input(line, open_prompt ? &*open_prompt : nullptr));
  }
  return 0;
}

}  // namespace trellis::cli
