#include "trellis/engine/transcript.hpp"

#include "answer_text.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <optional>
#include <utility>

#include <re2/re2.h>

#include "trellis/engine/output.hpp"
#include "trellis/engine/session_state.hpp"
#include "trellis/engine/step.hpp"

namespace trellis::engine {

namespace {

using Kind = TranscriptLine::Kind;

constexpr std::string_view kSpace = " \t\r\n\f\v";

std::string_view trim(std::string_view text) {
  auto first = text.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  auto last = text.find_last_not_of(kSpace);
  return text.substr(first, last - first + 1);
}

std::string lower_ascii(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  return lower_ascii(a) == lower_ascii(b);
}

bool is_flow_id(std::string_view id) {
  if (id.empty() || id.size() > 64 || id[0] < 'a' || id[0] > 'z') return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

// "1-10" → {1, 10}; anything else → nullopt.
std::optional<std::pair<int, int>> parse_range(std::string_view text) {
  static const RE2 kRange(R"(^(-?\d{1,6})\s*-\s*(-?\d{1,6})$)");
  int low = 0, high = 0;
  if (!RE2::FullMatch(std::string(text), kRange, &low, &high)) return std::nullopt;
  return std::pair{low, high};
}

// "[Yes] [Not now]" → {"Yes", "Not now"}; nullopt if it is not a list of brackets.
std::optional<std::vector<std::string>> parse_labels(std::string_view text) {
  std::vector<std::string> labels;
  text = trim(text);
  while (!text.empty()) {
    if (text.front() != '[') return std::nullopt;
    auto close = text.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    labels.emplace_back(text.substr(1, close - 1));
    text = trim(text.substr(close + 1));
  }
  if (labels.empty()) return std::nullopt;
  return labels;
}

struct PromptSpec {
  std::string kind;
  std::optional<std::pair<int, int>> range;
  std::optional<std::vector<std::string>> labels;
};

// The argument of "? kind ..." split up, or an error message.
tl::expected<PromptSpec, std::string> parse_prompt(std::string_view text) {
  text = trim(text);
  auto space = text.find_first_of(kSpace);
  PromptSpec spec;
  spec.kind = std::string(text.substr(0, space));
  std::string_view rest = space == std::string_view::npos ? std::string_view{} : trim(text.substr(space));
  static constexpr std::array<std::string_view, 5> kKinds{"choice", "yesno", "text", "number", "scale"};
  if (std::find(kKinds.begin(), kKinds.end(), spec.kind) == kKinds.end()) {
    return tl::make_unexpected("unknown prompt kind '" + spec.kind +
                               "'; use choice, yesno, text, number or scale");
  }
  if (rest.empty()) return spec;
  if (rest.front() == '[') {
    spec.labels = parse_labels(rest);
    if (!spec.labels) {
      return tl::make_unexpected("cannot read the labels '" + std::string(rest) +
                                 "'; write each one in brackets: [Yes] [Not now]");
    }
    return spec;
  }
  spec.range = parse_range(rest);
  if (!spec.range) {
    return tl::make_unexpected("cannot read '" + std::string(rest) +
                               "' after the prompt kind; write a range like 1-10 or labels like [Yes] [No]");
  }
  return spec;
}

struct EndSpec {
  std::string reason;
  nlohmann::json summary = nlohmann::json::object();
};

tl::expected<EndSpec, std::string> parse_end(std::string_view text) {
  text = trim(text);
  auto space = text.find_first_of(kSpace);
  EndSpec spec;
  spec.reason = std::string(text.substr(0, space));
  if (spec.reason.empty()) {
    return tl::make_unexpected(std::string("'= end' needs a reason, like '= end completed'"));
  }
  if (spec.reason.front() == '{') {
    return tl::make_unexpected(std::string("'= end' needs a reason before the summary, like '= end completed {...}'"));
  }
  if (space == std::string_view::npos) return spec;
  auto rest = trim(text.substr(space));
  if (rest.empty()) return spec;
  auto json = nlohmann::json::parse(rest, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) {
    return tl::make_unexpected("the summary '" + std::string(rest) +
                               "' is not a JSON object; write it like {\"total\": 42}");
  }
  spec.summary = std::move(json);
  return spec;
}

// --- Loose matching ---------------------------------------------------------

// Loose matching reads text the way typed answers are read: lower-cased, spacing
// folded, typographic quotes and the ellipsis in ASCII, so that an author typing on
// a plain keyboard can match what a flow says.
std::string normalise_loosely(std::string_view text) { return detail::normalise_answer(text); }

bool json_equal(const nlohmann::json& expected, const nlohmann::json& actual) {
  if (expected.is_number() && actual.is_number()) {
    return expected.get<double>() == actual.get<double>();
  }
  return expected == actual;
}

// --- Describing outputs ----------------------------------------------------

std::string in_quotes(std::string_view text) { return std::string("\"").append(text).append("\""); }

std::string describe_prompt(const PromptOutput& prompt) {
  std::string out = "prompt " + std::string(to_string(prompt.input));
  if (prompt.input == InputKind::Number || prompt.input == InputKind::Scale) {
    if (prompt.min && prompt.max) out += " " + std::to_string(*prompt.min) + "-" + std::to_string(*prompt.max);
  }
  if (prompt.input == InputKind::Choice || prompt.input == InputKind::YesNo) {
    for (const auto& choice : prompt.choices) out += " [" + choice.label + "]";
  }
  return out;
}

std::string describe_output(const Output& output) {
  struct Describe {
    std::string operator()(const MessageOutput& message) const { return "message " + in_quotes(message.text); }
    std::string operator()(const PromptOutput& prompt) const { return describe_prompt(prompt); }
    std::string operator()(const PauseOutput& pause) const { return "pause " + std::to_string(pause.ms); }
    std::string operator()(const EndOutput& end) const {
      return "end " + end.reason + " " + end.summary.dump();
    }
    std::string operator()(const SafetyOutput& safety) const { return "safety " + safety.category; }
  };
  return std::visit(Describe{}, output);
}

std::string describe_expectation(const TranscriptLine& line) {
  switch (line.kind) {
    case Kind::MessageExact: return "message " + in_quotes(line.text);
    case Kind::MessageHas: return "a message containing " + in_quotes(line.text);
    case Kind::MessageRegex: return "a message matching /" + line.text + "/";
    case Kind::Prompt: return "prompt " + line.text;
    case Kind::Pause: return "pause " + line.text;
    case Kind::End: return "end " + line.text;
    case Kind::Safety: return "safety " + line.text;
    default: return line.text;
  }
}

// --- Running ---------------------------------------------------------------

bool is_expectation(Kind kind) {
  return kind == Kind::MessageExact || kind == Kind::MessageHas || kind == Kind::MessageRegex ||
         kind == Kind::Prompt || kind == Kind::Pause || kind == Kind::End || kind == Kind::Safety;
}

// Whether `output` is the sort of output `line` talks about (not whether it matches).
bool is_same_sort(const TranscriptLine& line, const Output& output) {
  switch (line.kind) {
    case Kind::MessageExact:
    case Kind::MessageHas:
    case Kind::MessageRegex: return std::holds_alternative<MessageOutput>(output);
    case Kind::Prompt: return std::holds_alternative<PromptOutput>(output);
    case Kind::Pause: return std::holds_alternative<PauseOutput>(output);
    case Kind::End: return std::holds_alternative<EndOutput>(output);
    case Kind::Safety: return std::holds_alternative<SafetyOutput>(output);
    default: return false;
  }
}

bool matches(const TranscriptLine& line, const Output& output) {
  switch (line.kind) {
    case Kind::MessageExact: return std::get<MessageOutput>(output).text == line.text;
    case Kind::MessageHas:
      return normalise_loosely(std::get<MessageOutput>(output).text).find(normalise_loosely(line.text)) !=
             std::string::npos;
    case Kind::MessageRegex: {
      RE2 pattern(line.text, RE2::Quiet);
      return pattern.ok() && RE2::PartialMatch(std::get<MessageOutput>(output).text, pattern);
    }
    case Kind::Prompt: {
      const auto& prompt = std::get<PromptOutput>(output);
      auto spec = parse_prompt(line.text);
      if (!spec || spec->kind != to_string(prompt.input)) return false;
      if (spec->range) {
        int low = prompt.min.value_or(prompt.choices.empty() ? 0 : std::atoi(prompt.choices.front().id.c_str()));
        int high = prompt.max.value_or(prompt.choices.empty() ? 0 : std::atoi(prompt.choices.back().id.c_str()));
        if (low != spec->range->first || high != spec->range->second) return false;
      }
      if (spec->labels) {
        if (spec->labels->size() != prompt.choices.size()) return false;
        for (std::size_t i = 0; i < prompt.choices.size(); ++i) {
          if ((*spec->labels)[i] != prompt.choices[i].label) return false;
        }
      }
      return true;
    }
    case Kind::Pause: return std::to_string(std::get<PauseOutput>(output).ms) == trim(line.text);
    case Kind::End: {
      const auto& end = std::get<EndOutput>(output);
      auto spec = parse_end(line.text);
      if (!spec || spec->reason != end.reason) return false;
      for (const auto& [key, value] : spec->summary.items()) {
        if (!end.summary.is_object() || !end.summary.contains(key)) return false;
        if (!json_equal(value, end.summary.at(key))) return false;
      }
      return true;
    }
    case Kind::Safety: return std::get<SafetyOutput>(output).category == trim(line.text);
    default: return false;
  }
}

bool needs_accounting(const Output& output) {
  return std::holds_alternative<MessageOutput>(output) || std::holds_alternative<EndOutput>(output) ||
         std::holds_alternative<SafetyOutput>(output);
}

TranscriptResult failure(int line, std::string expected, std::string got) {
  TranscriptResult result;
  result.passed = false;
  result.line = line;
  result.expected = std::move(expected);
  result.got = std::move(got);
  return result;
}

std::string describe_buttons(const PromptOutput& prompt) {
  std::string out;
  for (const auto& choice : prompt.choices) {
    if (!out.empty()) out += " ";
    out += "[" + choice.label + "]";
  }
  return out.empty() ? "no buttons" : "buttons " + out;
}

class Runner {
 public:
  Runner(const Flow& flow, const SafetyPolicy* policy)
      : flow_(flow), policy_(policy), state_(new_session(flow)) {}

  TranscriptResult run(const Transcript& transcript) {
    apply(StartEvent{});
    int last_line = 0;
    for (const auto& line : transcript.lines) {
      last_line = line.line;
      if (line.kind == Kind::Skip) {
        skipping_ = true;
        continue;
      }
      if (is_expectation(line.kind)) {
        if (auto failed = expect(line)) return *failed;
        continue;
      }
      if (auto failed = check_accounted(line.line, "the person's turn")) return *failed;
      auto event = event_for(line);
      if (!event) return event.error();
      apply(*event);
    }
    if (auto failed = check_accounted(last_line, "the end of the transcript")) return *failed;
    TranscriptResult passed;
    passed.passed = true;
    return passed;
  }

 private:
  void apply(const Event& event) {
    auto result = policy_ != nullptr ? step(flow_, *policy_, state_, event) : step(flow_, state_, event);
    state_ = std::move(result.state);
    pending_ = std::move(result.outputs);
    next_ = 0;
    skipping_ = false;
    for (const auto& output : pending_) {
      if (const auto* prompt = std::get_if<PromptOutput>(&output)) open_prompt_ = *prompt;
      if (std::holds_alternative<EndOutput>(output)) open_prompt_.reset();
      if (const auto* safety = std::get_if<SafetyOutput>(&output)) {
        // Its choices are pressed like a prompt's buttons: > [Continue the exercise]
        PromptOutput choices;
        choices.input = InputKind::Choice;
        choices.choices = safety->choices;
        open_prompt_ = std::move(choices);
      }
    }
  }

  std::string nothing_left() const {
    if (state_.phase == Phase::Ended) return "nothing more (the conversation has ended)";
    return "nothing more (the flow is waiting for the person)";
  }

  std::optional<TranscriptResult> expect(const TranscriptLine& line) {
    for (std::size_t i = next_; i < pending_.size(); ++i) {
      const auto& output = pending_[i];
      if (is_same_sort(line, output)) {
        if (matches(line, output)) {
          next_ = i + 1;
          skipping_ = false;
          return std::nullopt;
        }
        if (!skipping_) return failure(line.line, describe_expectation(line), describe_output(output));
        continue;
      }
      if (needs_accounting(output) && !skipping_) {
        return failure(line.line, describe_expectation(line), describe_output(output));
      }
    }
    return failure(line.line, describe_expectation(line), nothing_left());
  }

  // Every message and end the flow produced must have been expected by now.
  std::optional<TranscriptResult> check_accounted(int line, std::string_view when) {
    if (skipping_) {
      next_ = pending_.size();
      return std::nullopt;
    }
    for (std::size_t i = next_; i < pending_.size(); ++i) {
      if (!needs_accounting(pending_[i])) continue;
      return failure(line, "no more messages before " + std::string(when),
                     "unexpected " + describe_output(pending_[i]));
    }
    next_ = pending_.size();
    return std::nullopt;
  }

  tl::expected<Event, TranscriptResult> event_for(const TranscriptLine& line) const {
    switch (line.kind) {
      case Kind::Type: return TextEvent{line.text};
      case Kind::Command: {
        auto name = command_from_string(lower_ascii(line.text));
        if (!name) return tl::make_unexpected(failure(line.line, "a command", "'" + line.text + "'"));
        return CommandEvent{*name};
      }
      case Kind::Press: {
        if (!open_prompt_) {
          return tl::make_unexpected(
              failure(line.line, "a button [" + line.text + "] to press", "no open prompt"));
        }
        for (const auto& choice : open_prompt_->choices) {
          if (equals_ignoring_case(choice.label, line.text) || equals_ignoring_case(choice.id, line.text)) {
            return ChoiceEvent{choice.id};
          }
        }
        return tl::make_unexpected(failure(line.line, "a button [" + line.text + "] to press",
                                           describe_prompt(*open_prompt_) + " with " +
                                               describe_buttons(*open_prompt_)));
      }
      default: return TextEvent{line.text};
    }
  }

  const Flow& flow_;
  const SafetyPolicy* policy_;
  SessionState state_;
  std::vector<Output> pending_;
  std::size_t next_ = 0;
  bool skipping_ = false;
  std::optional<PromptOutput> open_prompt_;
};

// --- Parsing ---------------------------------------------------------------

Diagnostic transcript_error(std::string_view file, int line, std::string code, std::string message,
                            std::string hint = {}) {
  Diagnostic diagnostic;
  diagnostic.code = std::move(code);
  diagnostic.severity = Severity::Error;
  diagnostic.file = std::string(file);
  diagnostic.line = line;
  diagnostic.column = 1;
  diagnostic.message = std::move(message);
  diagnostic.hint = std::move(hint);
  return diagnostic;
}

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

}  // namespace

tl::expected<Transcript, std::vector<Diagnostic>> parse_transcript(std::string_view text,
                                                                   std::string_view file) {
  Transcript transcript;
  transcript.file = std::string(file);
  std::vector<Diagnostic> errors;
  int flow_line = 0;
  int number = 0;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    auto raw = text.substr(start, end - start);
    start = end + 1;
    ++number;
    auto line = trim(raw);
    if (line.empty() || line.front() == '#') {
      if (end == text.size()) break;
      continue;
    }
    auto add = [&](Kind kind, std::string_view argument) {
      transcript.lines.push_back(TranscriptLine{kind, number, std::string(argument)});
    };
    auto error = [&](std::string code, std::string message, std::string hint = {}) {
      errors.push_back(transcript_error(file, number, std::move(code), std::move(message), std::move(hint)));
    };

    if (starts_with(line, "flow:")) {
      auto id = trim(line.substr(5));
      if (flow_line != 0) {
        error("T008", "a second 'flow:' line; the first is on line " + std::to_string(flow_line),
              "keep one 'flow:' line");
      } else if (!is_flow_id(id)) {
        error("T007", "'" + std::string(id) + "' is not a flow id",
              "flow ids are lower-case letters, digits, '_' and '-', starting with a letter");
      } else {
        transcript.flow_id = std::string(id);
      }
      flow_line = number;
    } else if (line == "...") {
      add(Kind::Skip, "");
    } else if (line.front() == '>') {
      auto said = trim(line.substr(1));
      if (!said.empty() && said.front() == '[') {
        if (said.back() != ']' || said.size() < 3) {
          error("T003", "cannot read the button '" + std::string(said) + "'",
                "write the label or id in brackets, like '> [Not now]'");
        } else {
          add(Kind::Press, trim(said.substr(1, said.size() - 2)));
        }
      } else if (!said.empty() && said.front() == '!') {
        auto name = trim(said.substr(1));
        if (!command_from_string(lower_ascii(name))) {
          error("T004", "unknown command '" + std::string(name) + "'",
                "the commands are help, pause, resume, restart, stop and skip");
        } else {
          add(Kind::Command, lower_ascii(name));
        }
      } else {
        add(Kind::Type, said);
      }
    } else if (line.front() == '<') {
      auto said = trim(line.substr(1));
      if (!said.empty() && said.front() == '~') {
        auto part = trim(said.substr(1));
        if (part.empty()) {
          error("T002", "'< ~' needs some text to look for", "write it like '< ~ check in'");
        } else {
          add(Kind::MessageHas, part);
        }
      } else if (said.size() >= 2 && said.front() == '/' && said.back() == '/') {
        auto pattern = said.substr(1, said.size() - 2);
        RE2 regex(std::string(pattern), RE2::Quiet);
        if (!regex.ok()) {
          error("T005", "the pattern /" + std::string(pattern) + "/ is not valid: " + regex.error(),
                regex.error_arg().empty() ? std::string{} : "look at '" + regex.error_arg() + "'");
        } else {
          add(Kind::MessageRegex, pattern);
        }
      } else if (said.empty()) {
        error("T002", "'<' needs the message it expects", "write it like '< Welcome back.'");
      } else {
        add(Kind::MessageExact, said);
      }
    } else if (line.front() == '?') {
      auto argument = trim(line.substr(1));
      if (auto spec = parse_prompt(argument); !spec) {
        error("T006", spec.error());
      } else {
        add(Kind::Prompt, argument);
      }
    } else if (line.front() == '=') {
      auto argument = trim(line.substr(1));
      auto space = argument.find_first_of(kSpace);
      auto word = argument.substr(0, space);
      auto rest = space == std::string_view::npos ? std::string_view{} : trim(argument.substr(space));
      if (word == "pause") {
        int ms = 0;
        if (!RE2::FullMatch(std::string(rest), R"((\d{1,6}))", &ms)) {
          error("T009", "'= pause' needs a number of milliseconds, got '" + std::string(rest) + "'",
                "write it like '= pause 4000'");
        } else {
          add(Kind::Pause, std::to_string(ms));
        }
      } else if (word == "end") {
        if (auto spec = parse_end(rest); !spec) {
          error("T010", spec.error());
        } else {
          add(Kind::End, rest);
        }
      } else if (word == "safety") {
        if (rest.empty()) {
          error("T012", "'= safety' needs a category", "write it like '= safety suicidal_thoughts'");
        } else {
          add(Kind::Safety, rest);
        }
      } else {
        error("T011", "unknown '=' line '" + std::string(line) + "'",
              "use '= pause N', '= end REASON {...}' or '= safety CATEGORY'");
      }
    } else {
      error("T001", "cannot read this line: '" + std::string(line) + "'",
            "start it with '>' (the person), '<' (a message), '?' (a prompt), '=' (pause or end), "
            "'...', '#' or 'flow:'");
    }
    if (end == text.size()) break;
  }
  if (!errors.empty()) return tl::make_unexpected(std::move(errors));
  return transcript;
}

std::string TranscriptResult::describe(const std::string& file) const {
  if (passed) return file + ": passed";
  return file + ":" + std::to_string(line) + ": expected " + expected + ", got " + got;
}

TranscriptResult run_transcript(const Flow& flow, const Transcript& transcript, const SafetyPolicy* policy) {
  return Runner(flow, policy).run(transcript);
}

}  // namespace trellis::engine
