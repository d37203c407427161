#include "trellis/engine/step.hpp"

#include <algorithm>
#include <optional>
#include <utility>

#include "answer_text.hpp"

namespace trellis::engine {

namespace {

// Texts the engine says on its own. Flows can add their own help; the rest will
// move into per-flow text tables when flows are localised.
constexpr const char* kDefaultHelp =
    "You can answer in your own words or with the buttons. Type pause to take a break, "
    "resume to carry on, restart to begin again, or stop to end here.";
constexpr const char* kPaused =
    "Paused. Take all the time you need — type resume when you're ready to carry on.";
constexpr const char* kStillPaused = "We're paused. Type resume to carry on, or stop to end here.";
constexpr const char* kResumed = "Welcome back. Here's where we were:";
constexpr const char* kRestarting = "Let's start again from the beginning.";
constexpr const char* kStopped = "Okay, we'll stop here. Thank you for taking this time — you can come back whenever you like.";
constexpr const char* kEnded = "This conversation has ended. Type restart to go through it again.";
constexpr const char* kCannotSkip = "This one can't be skipped, but you can type stop to end here.";
constexpr const char* kNothingToResume = "We're not paused — let's carry on.";
constexpr const char* kLostPlace =
    "This exercise has changed since we started, and I've lost our place. Type restart to begin again.";
constexpr const char* kSafetyWaiting = "Whenever you're ready, choose one of the options below.";
constexpr int kMaxAutoSteps = 10000;   // guards against a loop the compiler could not see
constexpr std::size_t kMaxCallDepth = 32;

std::string default_reprompt(const QuestionNode& question, bool too_long, bool empty) {
  switch (question.input) {
    case InputKind::Choice: return "Please choose one of the options — you can also type its number.";
    case InputKind::YesNo: return "Please answer yes or no.";
    case InputKind::Number:
    case InputKind::Scale:
      return "Please choose a whole number from " + std::to_string(question.min) + " to " +
             std::to_string(question.max) + ".";
    case InputKind::Text:
      if (empty) return "Take your time — write a few words whenever you're ready.";
      if (too_long) {
        return "That's a lot for one answer. Could you say it in fewer than " +
               std::to_string(question.max_length) + " characters?";
      }
      return "Could you say that another way?";
  }
  return "Could you say that another way?";
}

class Turn {
 public:
  Turn(const Flow& flow, const SafetyPolicy* policy, const SessionState& state) : flow_(flow), policy_(policy) {
    result_.state = state;
    result_.state.variables.bind(flow_.variable_table);  // free unless the state was just loaded
    result_.outputs.reserve(8);  // most steps say a few messages and a prompt: one allocation
  }

  // The safety layer sees every event first. True when it has dealt with it.
  bool on_safety(const Event& event) {
    if (policy_ == nullptr) return false;
    SessionState& state = result_.state;
    if (const auto* text = std::get_if<TextEvent>(&event)) {
      if (auto match = detect(*policy_, text->text)) {
        state.safety_category = match->category;
        result_.outcome = Outcome::Safety;
        result_.matched = "safety:" + match->category;
        result_.safety_detector = match->detector;
        emit_safety();
        return true;
      }
    }
    if (state.safety_category.empty()) return false;
    result_.outcome = Outcome::Safety;
    if (const auto* choice = std::get_if<ChoiceEvent>(&event)) {
      on_safety_choice(choice->choice_id);
      return true;
    }
    if (const auto* text = std::get_if<TextEvent>(&event)) {
      auto typed = detail::normalise_answer(text->text);
      if (auto word = detail::command_word(typed)) {
        return on_safety_command(*command_from_string(*word));
      }
      if (auto choice = typed_safety_choice(typed)) {
        on_safety_choice(*choice);
        return true;
      }
      // "You misunderstood", "I'm fine", anything else: thanked, the resources stay, asked again.
      result_.matched = "safety:ask_again";
      say(policy_->not_crisis_text, state.at);
      emit_safety();
      return true;
    }
    if (const auto* command = std::get_if<CommandEvent>(&event)) return on_safety_command(command->name);
    result_.matched = "safety:waiting";
    say(kSafetyWaiting, state.at);
    emit_safety();
    return true;
  }

  StepResult finish() && {
    ++result_.state.turn;
    return std::move(result_);
  }

  void on_start() {
    begin();
    result_.outcome = Outcome::Started;
  }

  void on_text(const std::string& text) {
    auto normalised = detail::normalise_answer(text);
    if (auto word = detail::command_word(normalised)) {
      on_command(*command_from_string(*word));
      return;
    }
    if (!ready_for_answer()) return;
    const QuestionNode& question = open_question();
    switch (question.input) {
      case InputKind::Choice:
      case InputKind::YesNo: {
        auto matches = matching_choices(question, normalised);
        if (matches.size() == 1) return accept_choice(question, *matches.front(), "typed");
        return reprompt(question, std::nullopt, normalised.empty(), false);
      }
      case InputKind::Number:
      case InputKind::Scale: {
        auto number = detail::parse_integer_answer(normalised);
        if (!number || *number < question.min || *number > question.max) {
          return reprompt(question, std::nullopt, normalised.empty(), false);
        }
        return accept(question, Value{static_cast<double>(*number)}, question.next, "number");
      }
      case InputKind::Text: {
        std::string trimmed = trim(text);
        if (trimmed.empty()) return reprompt(question, std::nullopt, true, false);
        if (detail::count_code_points(trimmed) > static_cast<std::size_t>(question.max_length)) {
          return reprompt(question, std::nullopt, false, true);
        }
        for (const auto& intent : question.intents) {
          for (const auto& pattern : intent.patterns) {
            if (RE2::PartialMatch(normalised, *pattern.regex)) {
              return accept(question, Value{trimmed}, intent.next, "intent:" + intent.id);
            }
          }
        }
        return accept(question, Value{trimmed}, question.next, "text");
      }
    }
  }

  void on_choice(const std::string& choice_id) {
    if (!ready_for_answer()) return;
    const QuestionNode& question = open_question();
    for (const ChoiceSpec* choice : visible_choices(question)) {
      if (choice->id == choice_id) return accept_choice(question, *choice, "pressed");
    }
    // Not one of the buttons on offer: a stale or forged press. Ask again without
    // counting it against the person.
    emit_prompt(question);
    result_.outcome = Outcome::UnknownChoice;
  }

  void on_command(CommandName name) {
    result_.outcome = Outcome::Command;
    result_.matched = "command:" + std::string(to_string(name));
    SessionState& state = result_.state;
    if (name == CommandName::Restart) {
      if (state.phase != Phase::NotStarted) say(kRestarting, "");
      begin();
      return;
    }
    if (state.phase == Phase::NotStarted) {
      result_.outcome = Outcome::Ignored;
      return;
    }
    if (state.phase == Phase::Ended) {
      if (name == CommandName::Help) say(flow_.help.pieces().empty() ? std::string(kDefaultHelp) : render(flow_.help), "");
      say(kEnded, "");
      result_.outcome = Outcome::Ignored;
      return;
    }
    auto at = flow_.find(state.at);
    if (!at || !std::holds_alternative<QuestionNode>(flow_.node(*at).body)) return lost_place();
    const Node& node = flow_.node(*at);
    const auto& question = std::get<QuestionNode>(node.body);
    switch (name) {
      case CommandName::Help: {
        const Template& help = node.help ? *node.help : flow_.help;
        say(help.pieces().empty() ? std::string(kDefaultHelp) : render(help), node.id);
        if (state.phase == Phase::Paused) return emit_paused_prompt(node.id);
        return emit_prompt(question);
      }
      case CommandName::Pause:
        if (state.phase == Phase::Paused) {
          say(kStillPaused, node.id);
        } else {
          state.phase = Phase::Paused;
          say(kPaused, node.id);
        }
        return emit_paused_prompt(node.id);
      case CommandName::Resume:
        if (state.phase != Phase::Paused) {
          say(kNothingToResume, node.id);
          return emit_prompt(question);
        }
        state.phase = Phase::Waiting;
        say(kResumed, node.id);
        return ask(question, node.id);
      case CommandName::Stop: return stop();
      case CommandName::Skip:
        if (state.phase == Phase::Paused) {
          say(kStillPaused, node.id);
          return emit_paused_prompt(node.id);
        }
        if (!question.skippable) {
          say(kCannotSkip, node.id);
          return emit_prompt(question);
        }
        state.attempts = 0;
        return enter(question.skip_to ? *question.skip_to : *question.next);
      case CommandName::Restart: break;  // handled above
    }
  }

 private:
  bool has_open_question() const {
    const SessionState& state = result_.state;
    if (state.phase != Phase::Waiting && state.phase != Phase::Paused) return false;
    auto at = flow_.find(state.at);
    return at && std::holds_alternative<QuestionNode>(flow_.node(*at).body);
  }

  void emit_safety() {
    const SessionState& state = result_.state;
    SafetyOutput output;
    output.category = state.safety_category;
    const SafetyCategory* category = policy_->category(state.safety_category);
    if (category != nullptr) output.text = category->response;
    for (const auto& resource : policy_->region(state.region).resources) {
      bool shown = resource.only_for.empty() || std::find(resource.only_for.begin(), resource.only_for.end(),
                                                          state.safety_category) != resource.only_for.end();
      if (shown) output.resources.push_back(resource);
    }
    output.choices.push_back(ChoiceOutput{std::string(kSafetyTalkChoice), policy_->talk_label});
    if (has_open_question()) {
      output.choices.push_back(ChoiceOutput{std::string(kSafetyContinueChoice), policy_->continue_label});
    }
    output.choices.push_back(ChoiceOutput{std::string(kSafetyStopChoice), policy_->stop_label});
    output.node = has_open_question() ? state.at : std::string();
    result_.outputs.emplace_back(std::move(output));
  }

  // A typed reply that picks one of the safety choices: its number, its label, or its plain word.
  std::optional<std::string> typed_safety_choice(const std::string& typed) const {
    std::vector<std::pair<std::string, std::string>> offered{{std::string(kSafetyTalkChoice), policy_->talk_label}};
    if (has_open_question()) offered.emplace_back(std::string(kSafetyContinueChoice), policy_->continue_label);
    offered.emplace_back(std::string(kSafetyStopChoice), policy_->stop_label);
    for (std::size_t i = 0; i < offered.size(); ++i) {
      if (typed == std::to_string(i + 1) || typed == detail::normalise_answer(offered[i].second) ||
          typed == offered[i].first) {
        return offered[i].first;
      }
    }
    static const RE2 kTalk(R"(^(talk|talk to someone|talk to someone now|someone)[ .!]*$)");
    static const RE2 kContinue(R"(^(continue|carry on|keep going|go on|go back|continue the exercise)[ .!]*$)");
    if (RE2::FullMatch(typed, kTalk)) return std::string(kSafetyTalkChoice);
    if (has_open_question() && RE2::FullMatch(typed, kContinue)) return std::string(kSafetyContinueChoice);
    return std::nullopt;
  }

  void on_safety_choice(const std::string& id) {
    SessionState& state = result_.state;
    if (id == kSafetyTalkChoice) {
      result_.matched = "safety:talk";
      say(policy_->talk_text, state.at);
      emit_safety();
    } else if (id == kSafetyContinueChoice && has_open_question()) {
      result_.matched = "safety:continue";
      state.safety_category.clear();
      state.phase = Phase::Waiting;
      say(policy_->continue_text, state.at);
      const Node& node = flow_.node(*flow_.find(state.at));
      ask(std::get<QuestionNode>(node.body), node.id);
    } else if (id == kSafetyStopChoice) {
      stop_from_safety();
    } else {
      result_.matched = "safety:unknown_choice";
      say(kSafetyWaiting, state.at);
      emit_safety();
    }
  }

  // Stop and restart act as they always do; other commands wait for the choice.
  bool on_safety_command(CommandName name) {
    SessionState& state = result_.state;
    if (name == CommandName::Stop) {
      stop_from_safety();
      return true;
    }
    if (name == CommandName::Restart) {
      state.safety_category.clear();
      return false;
    }
    result_.matched = "safety:waiting";
    say(kSafetyWaiting, state.at);
    emit_safety();
    return true;
  }

  void stop_from_safety() {
    SessionState& state = result_.state;
    result_.matched = "safety:stop";
    state.safety_category.clear();
    say(policy_->stop_text, state.at);
    if (state.phase == Phase::Ended) return;
    state.phase = Phase::Ended;
    state.call_stack.clear();
    result_.outputs.emplace_back(EndOutput{flow_.info.id, "stopped", nlohmann::json::object()});
  }

  static std::string trim(const std::string& text) {
    auto begin = text.find_first_not_of(" \t\r\n");
    if (begin == std::string::npos) return {};
    auto end = text.find_last_not_of(" \t\r\n");
    return text.substr(begin, end - begin + 1);
  }

  std::string render(const Template& text) const { return engine::render(text, scope()); }

  SlotScope scope() const { return result_.state.variables.slots(); }

  void set_variable(VariableSlot slot, const std::string& name, Value value) {
    Variables& variables = result_.state.variables;
    if (slot < variables.slots().size()) variables.set(slot, std::move(value));
    else variables.set(name, std::move(value));  // only for a flow not built by compile_flow
  }

  void say(std::string text, const std::string& node) {
    result_.outputs.emplace_back(MessageOutput{std::move(text), node});
  }

  void begin() {
    SessionState fresh;
    fresh.flow_id = flow_.info.id;
    fresh.flow_version = flow_.info.version;
    fresh.phase = Phase::Waiting;
    fresh.variables = flow_.initial_variables;
    fresh.turn = result_.state.turn;
    fresh.region = result_.state.region;  // where the person is does not change on restart
    result_.state = std::move(fresh);
    enter(flow_.start);
  }

  // True when there is an open question to answer; otherwise says why not.
  bool ready_for_answer() {
    SessionState& state = result_.state;
    if (state.phase == Phase::NotStarted) {
      result_.outcome = Outcome::Ignored;
      return false;
    }
    if (state.phase == Phase::Ended) {
      say(kEnded, "");
      result_.outcome = Outcome::Ignored;
      return false;
    }
    auto at = flow_.find(state.at);
    if (!at || !std::holds_alternative<QuestionNode>(flow_.node(*at).body)) {
      lost_place();
      return false;
    }
    if (state.phase == Phase::Paused) {
      say(kStillPaused, state.at);
      emit_paused_prompt(state.at);
      result_.outcome = Outcome::Ignored;
      return false;
    }
    return true;
  }

  const QuestionNode& open_question() const {
    return std::get<QuestionNode>(flow_.node(*flow_.find(result_.state.at)).body);
  }

  void lost_place() {
    say(kLostPlace, "");
    result_.state.phase = Phase::Ended;
    result_.outputs.emplace_back(EndOutput{flow_.info.id, "stopped", nlohmann::json::object()});
    result_.outcome = Outcome::Ignored;
  }

  void stop() {
    result_.state.phase = Phase::Ended;
    result_.state.call_stack.clear();
    say(kStopped, result_.state.at);
    result_.outputs.emplace_back(EndOutput{flow_.info.id, "stopped", nlohmann::json::object()});
  }

  std::vector<const ChoiceSpec*> visible_choices(const QuestionNode& question) const {
    std::vector<const ChoiceSpec*> visible;
    for (const auto& choice : question.choices) {
      if (!choice.when || is_true(evaluate(*choice.when, scope()))) visible.push_back(&choice);
    }
    return visible;
  }

  std::vector<const ChoiceSpec*> matching_choices(const QuestionNode& question, const std::string& answer) const {
    auto visible = visible_choices(question);
    // A typed number picks a button by position, except on scales, where the
    // number is the answer itself and is handled by the caller.
    if (question.input == InputKind::Choice && !answer.empty() &&
        std::all_of(answer.begin(), answer.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
        answer.size() <= 3) {
      std::size_t position = std::stoul(answer);
      if (position >= 1 && position <= visible.size()) return {visible[position - 1]};
      return {};
    }
    std::vector<const ChoiceSpec*> by_name;
    for (const ChoiceSpec* choice : visible) {
      if (detail::normalise_answer(render(choice->label)) == answer || choice->id == answer) by_name.push_back(choice);
    }
    if (!by_name.empty()) return by_name;
    std::vector<const ChoiceSpec*> by_pattern;
    for (const ChoiceSpec* choice : visible) {
      for (const auto& pattern : choice->patterns) {
        if (RE2::PartialMatch(answer, *pattern.regex)) {
          by_pattern.push_back(choice);
          break;
        }
      }
    }
    return by_pattern;
  }

  void accept_choice(const QuestionNode& question, const ChoiceSpec& choice, const char* how) {
    Value value;
    switch (question.input) {
      case InputKind::YesNo: value = choice.id == "yes"; break;
      case InputKind::Scale:
      case InputKind::Number: value = std::stod(choice.id); break;
      default: value = choice.id; break;
    }
    result_.matched = std::string("choice:") + choice.id + " (" + how + ")";
    accept(question, std::move(value), choice.next ? choice.next : question.next, result_.matched);
  }

  void accept(const QuestionNode& question, Value answer, std::optional<NodeIndex> target,
              std::string matched) {
    if (!question.checks.empty()) {
      // `answer` is readable only while the checks run, before it is stored, and
      // its slot is never left set (so it is never saved).
      Variables& variables = result_.state.variables;
      const VariableSlot answer_slot = flow_.variable_table ? flow_.variable_table->answer : kNoSlot;
      const bool has_answer_slot = answer_slot < variables.slots().size();
      if (has_answer_slot) variables.set(answer_slot, answer);
      std::optional<std::string> why;
      for (const auto& check : question.checks) {
        if (!is_true(evaluate(check.condition, scope()))) {
          why = render(check.message);
          break;
        }
      }
      if (has_answer_slot) variables.clear(answer_slot);
      if (why) return reprompt(question, std::move(why), false, false);
    }
    if (question.store) set_variable(question.store_slot, *question.store, std::move(answer));
    result_.state.attempts = 0;
    result_.outcome = Outcome::Answered;
    result_.matched = std::move(matched);
    if (!target) {
      // Only when every conditional choice is hidden and no next exists, which
      // the compiler rules out; stay on the question rather than guess.
      return emit_prompt(question);
    }
    enter(*target);
  }

  void reprompt(const QuestionNode& question, std::optional<std::string> why, bool empty, bool too_long) {
    SessionState& state = result_.state;
    ++state.attempts;
    if (state.attempts >= question.retry_limit && question.fallback) {
      state.attempts = 0;
      result_.outcome = Outcome::FellBack;
      result_.matched = "fallback";
      return enter(*question.fallback);
    }
    result_.outcome = Outcome::Reprompted;
    if (why) {
      say(std::move(*why), state.at);
    } else if (!question.reprompt.empty()) {
      emit_say(question.reprompt, state.at);
    } else {
      say(default_reprompt(question, too_long, empty), state.at);
    }
    emit_prompt(question);
  }

  void emit_say(const std::vector<SayItem>& items, const std::string& node) {
    for (const auto& item : items) {
      if (item.is_pause()) result_.outputs.emplace_back(PauseOutput{item.pause_ms, node});
      else say(render(item.text), node);
    }
  }

  void ask(const QuestionNode& question, const std::string& node) {
    say(render(question.ask), node);
    emit_prompt(question);
  }

  void emit_prompt(const QuestionNode& question) { emit_prompt(question, visible_choices(question)); }

  void emit_prompt(const QuestionNode& question, const std::vector<const ChoiceSpec*>& visible) {
    PromptOutput prompt;
    prompt.input = question.input;
    prompt.node = result_.state.at;
    prompt.choices.reserve(visible.size());
    for (const ChoiceSpec* choice : visible) {
      prompt.choices.push_back(ChoiceOutput{choice->id, render(choice->label)});
    }
    if (question.input == InputKind::Number || question.input == InputKind::Scale) {
      prompt.min = question.min;
      prompt.max = question.max;
    }
    prompt.commands = {"help", "pause", "restart", "stop"};
    if (question.skippable) prompt.commands.insert(prompt.commands.begin() + 1, "skip");
    result_.outputs.emplace_back(std::move(prompt));
  }

  void emit_paused_prompt(const std::string& node) {
    PromptOutput prompt;
    prompt.input = InputKind::Text;
    prompt.node = node;
    prompt.commands = {"resume", "help", "stop"};
    result_.outputs.emplace_back(std::move(prompt));
  }

  // Runs nodes from `index` until one waits for the person or the flow ends.
  void enter(NodeIndex index) {
    SessionState& state = result_.state;
    for (int steps = 0; steps < kMaxAutoSteps; ++steps) {
      const Node& node = flow_.node(index);
      emit_say(node.say, node.id);
      std::optional<NodeIndex> next = std::visit(
          [&](const auto& body) -> std::optional<NodeIndex> {
            using T = std::decay_t<decltype(body)>;
            if constexpr (std::is_same_v<T, MessageNode>) {
              return body.next;
            } else if constexpr (std::is_same_v<T, QuestionNode>) {
              state.phase = Phase::Waiting;
              state.at = node.id;
              state.attempts = 0;
              // The `when` conditions are evaluated once, for both the pass-by and the prompt.
              const auto visible = visible_choices(body);
              if (body.input == InputKind::Choice && visible.empty() && body.next) return body.next;
              say(render(body.ask), node.id);
              emit_prompt(body, visible);
              return std::nullopt;
            } else if constexpr (std::is_same_v<T, SetNode>) {
              for (const auto& assignment : body.assignments) {
                set_variable(assignment.slot, assignment.variable, evaluate(assignment.value, scope()));
              }
              return body.next;
            } else if constexpr (std::is_same_v<T, BranchNode>) {
              for (const auto& arm : body.arms) {
                if (is_true(evaluate(arm.condition, scope()))) return arm.next;
              }
              return body.otherwise;
            } else if constexpr (std::is_same_v<T, CallNode>) {
              if (state.call_stack.size() >= kMaxCallDepth) {
                stop();
                return std::nullopt;
              }
              state.call_stack.push_back(flow_.node(body.next).id);
              return body.start;
            } else if constexpr (std::is_same_v<T, ReturnNode>) {
              if (state.call_stack.empty()) {
                lost_place();
                return std::nullopt;
              }
              auto back = flow_.find(state.call_stack.back());
              state.call_stack.pop_back();
              if (!back) lost_place();
              return back;
            } else {
              static_assert(std::is_same_v<T, EndNode>);
              nlohmann::json summary = nlohmann::json::object();
              for (const auto& item : body.summary) {
                summary[item.key] = to_json(evaluate(item.value, scope()));
              }
              state.phase = Phase::Ended;
              state.at = node.id;
              state.call_stack.clear();
              result_.outputs.emplace_back(EndOutput{flow_.info.id, "completed", std::move(summary)});
              return std::nullopt;
            }
          },
          node.body);
      if (!next) return;
      index = *next;
    }
    lost_place();
  }

  const Flow& flow_;
  const SafetyPolicy* policy_;
  StepResult result_;
};

}  // namespace

std::string_view to_string(Outcome outcome) {
  switch (outcome) {
    case Outcome::Started: return "started";
    case Outcome::Answered: return "answered";
    case Outcome::Reprompted: return "reprompted";
    case Outcome::FellBack: return "fell_back";
    case Outcome::Command: return "command";
    case Outcome::Ignored: return "ignored";
    case Outcome::UnknownChoice: return "unknown_choice";
    case Outcome::Safety: return "safety";
  }
  return "ignored";
}

SessionState new_session(const Flow& flow) {
  SessionState state;
  state.flow_id = flow.info.id;
  state.flow_version = flow.info.version;
  return state;
}

namespace {
StepResult run_step(const Flow& flow, const SafetyPolicy* policy, const SessionState& state, const Event& event) {
  Turn turn(flow, policy, state);
  if (turn.on_safety(event)) return std::move(turn).finish();
  std::visit(
      [&](const auto& e) {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, StartEvent>) turn.on_start();
        else if constexpr (std::is_same_v<T, TextEvent>) turn.on_text(e.text);
        else if constexpr (std::is_same_v<T, ChoiceEvent>) turn.on_choice(e.choice_id);
        else turn.on_command(e.name);
      },
      event);
  return std::move(turn).finish();
}
}  // namespace

StepResult step(const Flow& flow, const SessionState& state, const Event& event) {
  return run_step(flow, nullptr, state, event);
}

StepResult step(const Flow& flow, const SafetyPolicy& policy, const SessionState& state, const Event& event) {
  return run_step(flow, &policy, state, event);
}

}  // namespace trellis::engine
