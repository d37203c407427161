#include "output_renderer.hpp"

#include <cctype>

#include "callback_data.hpp"
#include "message_split.hpp"

namespace trellis::telegram {
namespace {

using nlohmann::json;

constexpr std::chrono::milliseconds kTypingLasts{4000};  // Telegram shows "typing" for up to 5 s

std::string string_at(const json& object, const char* name) {
  auto it = object.find(name);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::int64_t int_at(const json& object, const char* name) {
  auto it = object.find(name);
  return it != object.end() && it->is_number_integer() ? it->get<std::int64_t>() : 0;
}

json button(const std::string& text, const std::string& data) { return {{"text", text}, {"callback_data", data}}; }

std::string command_label(const std::string& command) {
  if (command == "help") return "Help";
  if (command == "skip") return "Skip";
  if (command == "stop") return "Stop";
  if (command == "pause") return "Pause";
  if (command == "resume") return "Resume";
  if (command == "restart") return "Start again";
  return command;
}

// Short labels (a 1-10 scale) sit five to a row; longer ones one to a row.
json choice_rows(const json& choices, const std::string& key) {
  json rows = json::array();
  if (!choices.is_array()) return rows;
  bool all_short = true;
  for (const auto& choice : choices) all_short = all_short && utf16_length(string_at(choice, "label")) <= 4;
  const std::size_t per_row = all_short ? 5 : 1;
  json row = json::array();
  for (std::size_t i = 0; i < choices.size(); ++i) {
    row.push_back(button(string_at(choices[i], "label"), encode_choice(key, i)));
    if (row.size() == per_row) rows.push_back(std::exchange(row, json::array()));
  }
  if (!row.empty()) rows.push_back(row);
  return rows;
}

std::string humanize(std::string key) {
  for (auto& c : key) {
    if (c == '_') c = ' ';
  }
  if (!key.empty()) key[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(key[0])));
  return key;
}

std::string error_text(const std::string& code) {
  if (code == "bad_choice") return "That option isn't open any more. Please answer the latest question.";
  if (code == "no_active_flow") return "Nothing is running just now. Send /start to choose a reflection.";
  if (code == "too_long") return "That's longer than I can take in one go. Could you say it more briefly?";
  return "Something went wrong on my side. Please send that again in a moment.";
}

}  // namespace

Step send_message(std::int64_t chat_id, const std::string& text, json keyboard) {
  Step step;
  step.method = "sendMessage";
  // No parse_mode: the text is shown exactly as the flow wrote it. No link previews either.
  step.params = {{"chat_id", chat_id}, {"text", text}, {"link_preview_options", {{"is_disabled", true}}}};
  if (keyboard.is_array() && !keyboard.empty()) {
    step.params["reply_markup"] = {{"inline_keyboard", std::move(keyboard)}};
    step.has_keyboard = true;
  }
  return step;
}

Step remove_keyboard(std::int64_t chat_id, std::int64_t message_id) {
  Step step;
  step.method = "editMessageReplyMarkup";
  step.params = {{"chat_id", chat_id}, {"message_id", message_id}};  // no reply_markup: the keyboard goes
  return step;
}

Step answer_callback(const std::string& callback_query_id, const std::string& toast) {
  Step step;
  step.method = "answerCallbackQuery";
  step.params = {{"callback_query_id", callback_query_id}};
  if (!toast.empty()) step.params["text"] = toast;
  return step;
}

json flows_keyboard(const json& flows) {
  json rows = json::array();
  if (!flows.is_array()) return rows;
  for (const auto& flow : flows) {
    auto data = encode_flow(string_at(flow, "id"));
    if (!data) continue;  // an id over 59 bytes cannot ride on a button; /flows still names it
    std::string label = string_at(flow, "title");
    if (auto minutes = int_at(flow, "minutes"); minutes > 0) label += " (" + std::to_string(minutes) + " min)";
    rows.push_back(json::array({button(label, *data)}));
  }
  return rows;
}

std::string render_summary(const json& summary) {
  std::string out;
  if (!summary.is_object()) return out;
  for (const auto& [key, value] : summary.items()) {
    out += humanize(key) + ": " + (value.is_string() ? value.get<std::string>() : value.dump()) + "\n";
  }
  if (!out.empty()) out.pop_back();
  return out;
}

Step OutputRenderer::send_text(const std::string& text, std::int64_t delivers) const {
  auto step = send_message(chat_id_, text);
  step.delivers = delivers;
  return step;
}

std::vector<Step> OutputRenderer::flush() {
  std::vector<Step> steps;
  if (held_text_) steps.push_back(send_text(*held_text_, held_id_));
  held_text_.reset();
  return steps;
}

std::vector<Step> OutputRenderer::render(const json& frame, bool live) {
  std::vector<Step> steps;
  if (!frame.is_object()) return steps;
  const auto type = string_at(frame, "type");
  const auto id = int_at(frame, "id");

  if (type == "message") {
    steps = flush();
    auto pieces = split_message(string_at(frame, "text"));
    if (pieces.empty()) {  // nothing to show, but the output is seen
      Step seen;
      seen.kind = Step::Kind::Wait;
      seen.delivers = id;
      steps.push_back(seen);
      return steps;
    }
    for (std::size_t i = 0; i + 1 < pieces.size(); ++i) steps.push_back(send_text(pieces[i], 0));
    held_text_ = pieces.back();
    held_id_ = id;
    return steps;
  }

  if (type == "pause") {
    steps = flush();
    auto ms = std::chrono::milliseconds(int_at(frame, "ms"));
    if (!live) ms = std::chrono::milliseconds(0);
    do {
      if (live) {
        Step typing;
        typing.method = "sendChatAction";
        typing.params = {{"chat_id", chat_id_}, {"action", "typing"}};
        steps.push_back(std::move(typing));
      }
      Step wait;
      wait.kind = Step::Kind::Wait;
      wait.wait = std::min(ms, kTypingLasts);
      ms -= wait.wait;
      steps.push_back(std::move(wait));
    } while (ms > std::chrono::milliseconds(0));
    steps.back().delivers = id;
    return steps;
  }

  if (type == "prompt" || type == "safety") {
    OpenQuestion question;
    question.key = id > 0 ? std::to_string(id) : "s" + std::to_string(int_at(frame, "seq"));
    const json choices = frame.value("choices", json::array());
    for (const auto& choice : choices) question.choice_ids.push_back(string_at(choice, "id"));
    json rows = choice_rows(choices, question.key);
    if (type == "prompt") {
      json commands = json::array();
      for (const auto& command : frame.value("commands", json::array())) {
        if (command.is_string()) commands.push_back(button(command_label(command), encode_command(question.key, command.get<std::string>())));
      }
      if (!commands.empty()) rows.push_back(commands);
    }
    question_ = std::move(question);
    question_changed_ = true;

    std::string text;
    if (type == "safety") {
      steps = flush();
      // Set apart from the flow's words: a marker, the response, then each resource on its own lines.
      text = "\u2757 " + string_at(frame, "text");
      for (const auto& resource : frame.value("resources", json::array())) {
        if (!resource.is_object()) continue;
        text += "\n\n\u2022 " + string_at(resource, "name");
        if (auto phone = string_at(resource, "phone"); !phone.empty()) text += "\n  Call: " + phone;
        if (auto sms = string_at(resource, "sms"); !sms.empty()) text += "\n  Text: " + sms;
        if (auto url = string_at(resource, "url"); !url.empty()) text += "\n  " + url;
        if (auto hours = string_at(resource, "hours"); !hours.empty()) text += "\n  " + hours;
      }
    } else if (held_text_) {
      text = *held_text_;
      held_text_.reset();
    } else if (!rows.empty()) {
      text = "Choose below, or type your answer.";
    }
    if (text.empty()) {  // a text prompt with no commands and nothing held: nothing to send
      Step seen;
      seen.kind = Step::Kind::Wait;
      seen.delivers = id;
      steps.push_back(seen);
      return steps;
    }
    auto pieces = split_message(text);
    for (std::size_t i = 0; i + 1 < pieces.size(); ++i) steps.push_back(send_text(pieces[i], 0));
    auto last = send_message(chat_id_, pieces.back(), std::move(rows));
    last.delivers = std::max(id, held_id_);
    steps.push_back(std::move(last));
    return steps;
  }

  if (type == "end") {
    steps = flush();
    question_.reset();
    question_changed_ = true;
    std::string text = string_at(frame, "reason") == "stopped" ? "Stopped. " : "";
    auto summary = render_summary(frame.value("summary", json::object()));
    if (!summary.empty()) text += "Your summary:\n" + summary + "\n\n";
    text += "Send /start when you'd like another reflection.";
    steps.push_back(send_text(text, id));
    return steps;
  }

  if (type == "error") {
    steps = flush();
    steps.push_back(send_text(error_text(string_at(frame, "code")), 0));
  }
  return steps;
}

}  // namespace trellis::telegram
