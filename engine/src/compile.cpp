#include "trellis/engine/compile.hpp"

#include <algorithm>
#include <regex>
#include <set>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "answer_text.hpp"
#include "author_json.hpp"
#include "author_pattern.hpp"
#include "compile_context.hpp"
#include "trellis/engine/suggest.hpp"

namespace trellis::engine {

namespace detail {

void Reporter::add(Severity severity, std::string code, std::string pointer, std::string message,
                   std::string hint) {
  Diagnostic diagnostic;
  diagnostic.code = std::move(code);
  diagnostic.severity = severity;
  diagnostic.file = file_;
  if (map_ != nullptr) {
    auto position = map_->find(pointer);
    diagnostic.line = position.line;
    diagnostic.column = position.column;
  }
  diagnostic.pointer = std::move(pointer);
  diagnostic.message = std::move(message);
  diagnostic.hint = std::move(hint);
  diagnostics_.push_back(std::move(diagnostic));
}

void Reporter::error(std::string code, std::string pointer, std::string message, std::string hint) {
  add(Severity::Error, std::move(code), std::move(pointer), std::move(message), std::move(hint));
}

void Reporter::warning(std::string code, std::string pointer, std::string message, std::string hint) {
  add(Severity::Warning, std::move(code), std::move(pointer), std::move(message), std::move(hint));
}

}  // namespace detail

namespace {

using Json = nlohmann::ordered_json;
using detail::Reporter;

using detail::child;
using detail::json_type_name;

// The deepest nesting of [ and { outside strings and comments; checked before
// parsing so that a hostile file cannot make any later recursive walk overflow.
int nesting_depth(std::string_view text) {
  int depth = 0, deepest = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '"') {
      for (++i; i < text.size() && text[i] != '"'; ++i) {
        if (text[i] == '\\') ++i;
      }
    } else if (c == '/' && i + 1 < text.size() && text[i + 1] == '/') {
      while (i < text.size() && text[i] != '\n') ++i;
    } else if (c == '/' && i + 1 < text.size() && text[i + 1] == '*') {
      auto end = text.find("*/", i + 2);
      i = end == std::string_view::npos ? text.size() : end + 1;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return deepest;
}

const std::regex& flow_id_shape() {
  static const std::regex shape("[a-z][a-z0-9_-]{0,63}");
  return shape;
}
bool is_node_id(std::string_view id) {
  if (id.empty() || id.size() > 64 || !(id[0] >= 'a' && id[0] <= 'z')) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}
bool is_variable_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  if (!((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= 'A' && name[0] <= 'Z') || name[0] == '_')) {
    return false;
  }
  static const std::set<std::string_view> kReserved{"and", "or", "not", "true", "false", "answer"};
  if (kReserved.count(name)) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

// Reads one flow file's JSON into a Flow, reporting every problem it meets.
class FlowReader {
 public:
  FlowReader(Reporter& reporter, detail::ReadFlow& out) : report_(reporter), out_(out), flow_(out.flow) {}

  void read(const Json& root);

 private:
  struct Scope {
    std::string name;  // "" for the main flow
    std::string pointer;
    std::vector<std::string> local_ids;
  };

  // -- plumbing --
  void check_keys(const Json& object, const std::string& pointer,
                  const std::vector<std::string>& allowed);
  const Json* field(const Json& object, const std::string& key);
  std::optional<std::string> read_string(const Json& object, const std::string& key,
                                         const std::string& pointer, bool required,
                                         bool allow_empty = false);
  std::optional<long long> read_integer(const Json& object, const std::string& key,
                                        const std::string& pointer, bool required,
                                        long long min, long long max);
  void wrong_type(const std::string& pointer, std::string_view what, const Json& got);
  void missing(const std::string& pointer, const std::string& key, std::string_view what);

  std::optional<Template> read_template(const Json& json, const std::string& pointer, NodeIndex node);
  std::optional<Expression> read_expression(const Json& json, const std::string& pointer);
  std::vector<SayItem> read_say(const Json& json, const std::string& pointer, NodeIndex node);
  std::optional<Pattern> read_pattern(const Json& json, const std::string& pointer);
  std::vector<Pattern> read_patterns(const Json& json, const std::string& pointer);
  std::optional<NodeIndex> read_target(const Json& object, const std::string& key,
                                       const std::string& pointer, const Scope& scope,
                                       bool required);
  std::optional<NodeIndex> resolve(const Json& json, const std::string& pointer, const Scope& scope);

  void read_metadata(const Json& root);
  void collect_nodes(const Json& nodes, const std::string& pointer, Scope& scope);
  void read_nodes(const Json& nodes, const Scope& scope);
  void read_node(const Json& json, const std::string& pointer, NodeIndex index, const Scope& scope);
  void read_question(const Json& json, const std::string& pointer, NodeIndex index,
                     const Scope& scope, Node& node);
  void use(NodeIndex node, const std::string& pointer, const Template& text);
  void use(NodeIndex node, const std::string& pointer, const Expression& expression,
           detail::VariableUse::Want want, std::vector<std::string> also_defined = {},
           std::optional<ValueType> answer_type = std::nullopt);

  Reporter& report_;
  detail::ReadFlow& out_;
  Flow& flow_;
  std::vector<std::string> all_ids_;
  std::shared_ptr<const RE2> builtin_yes_;
  std::shared_ptr<const RE2> builtin_no_;
  // Templates and expressions live inside flow_.nodes; uses point at them, so
  // nodes are sized once up front and never reallocated while reading.
};

void FlowReader::wrong_type(const std::string& pointer, std::string_view what, const Json& got) {
  report_.error("F010", pointer,
                "this should be " + std::string(what) + ", not " + std::string(json_type_name(got)));
}

void FlowReader::missing(const std::string& pointer, const std::string& key, std::string_view what) {
  report_.error("F012", pointer, "missing \"" + key + "\" (" + std::string(what) + ")",
                "add \"" + key + "\"");
}

void FlowReader::check_keys(const Json& object, const std::string& pointer,
                            const std::vector<std::string>& allowed) {
  for (const auto& [key, value] : object.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
    report_.error("F011", child(pointer, key), "unknown key \"" + key + "\"", unknown_key_hint(key, allowed));
  }
}

const Json* FlowReader::field(const Json& object, const std::string& key) {
  auto found = object.find(key);
  return found == object.end() ? nullptr : &*found;
}

std::optional<std::string> FlowReader::read_string(const Json& object, const std::string& key,
                                                   const std::string& pointer, bool required,
                                                   bool allow_empty) {
  const Json* value = field(object, key);
  if (value == nullptr) {
    if (required) missing(pointer, key, "text");
    return std::nullopt;
  }
  if (!value->is_string()) {
    wrong_type(child(pointer, key), "text in quotes", *value);
    return std::nullopt;
  }
  auto text = value->get<std::string>();
  if (text.empty() && !allow_empty) {
    report_.error("F013", child(pointer, key), "\"" + key + "\" is empty", "write something here");
    return std::nullopt;
  }
  return text;
}

std::optional<long long> FlowReader::read_integer(const Json& object, const std::string& key,
                                                  const std::string& pointer, bool required,
                                                  long long min, long long max) {
  const Json* value = field(object, key);
  if (value == nullptr) {
    if (required) missing(pointer, key, "a whole number");
    return std::nullopt;
  }
  if (!value->is_number_integer()) {
    wrong_type(child(pointer, key), "a whole number", *value);
    return std::nullopt;
  }
  auto number = value->get<long long>();
  if (number < min || number > max) {
    report_.error("F013", child(pointer, key),
                  "\"" + key + "\" is " + std::to_string(number) + ", outside " +
                      std::to_string(min) + " to " + std::to_string(max),
                  "use a number from " + std::to_string(min) + " to " + std::to_string(max));
    return std::nullopt;
  }
  return number;
}

std::optional<Template> FlowReader::read_template(const Json& json, const std::string& pointer,
                                                  NodeIndex node) {
  if (!json.is_string()) {
    wrong_type(pointer, "text in quotes", json);
    return std::nullopt;
  }
  auto text = json.get<std::string>();
  auto parsed = parse_template(text);
  if (!parsed) {
    report_.error("F045", pointer,
                  "in the text at character " + std::to_string(parsed.error().offset + 1) + ": " +
                      parsed.error().message,
                  parsed.error().hint);
    return std::nullopt;
  }
  (void)node;
  return std::move(*parsed);
}

std::optional<Expression> FlowReader::read_expression(const Json& json, const std::string& pointer) {
  std::string text;
  if (json.is_string()) {
    text = json.get<std::string>();
  } else if (json.is_number() || json.is_boolean()) {
    text = json.dump();  // a literal written without quotes: `"total": 0`
  } else {
    wrong_type(pointer, "an expression in quotes", json);
    return std::nullopt;
  }
  auto parsed = parse_expression(text);
  if (!parsed) {
    report_.error("F040", pointer,
                  "expression \"" + text + "\" at character " +
                      std::to_string(parsed.error().offset + 1) + ": " + parsed.error().message,
                  parsed.error().hint);
    return std::nullopt;
  }
  return std::move(*parsed);
}

void FlowReader::use(NodeIndex node, const std::string& pointer, const Template& text) {
  auto variables = text.variables();
  if (variables.empty() && text.is_literal()) return;
  detail::VariableUse entry;
  entry.node = node;
  entry.pointer = pointer;
  entry.variables = std::move(variables);
  entry.text = &text;
  out_.uses.push_back(std::move(entry));
}

void FlowReader::use(NodeIndex node, const std::string& pointer, const Expression& expression,
                     detail::VariableUse::Want want, std::vector<std::string> also_defined,
                     std::optional<ValueType> answer_type) {
  detail::VariableUse entry;
  entry.node = node;
  entry.pointer = pointer;
  entry.variables = expression.variables();
  entry.also_defined = std::move(also_defined);
  entry.expression = &expression;
  entry.want = want;
  entry.answer_type = answer_type;
  out_.uses.push_back(std::move(entry));
}

std::vector<SayItem> FlowReader::read_say(const Json& json, const std::string& pointer, NodeIndex node) {
  std::vector<SayItem> items;
  auto read_item = [&](const Json& item, const std::string& item_pointer) {
    if (item.is_object()) {
      check_keys(item, item_pointer, {"pause"});
      auto ms = read_integer(item, "pause", item_pointer, true, 100, kMaxPauseMs);
      if (ms) items.push_back(SayItem{Template{}, static_cast<int>(*ms)});
      return;
    }
    if (!item.is_string()) {
      wrong_type(item_pointer, "a message in quotes or {\"pause\": milliseconds}", item);
      return;
    }
    if (item.get<std::string>().empty()) {
      report_.error("F013", item_pointer, "this message is empty", "write the message, or remove it");
      return;
    }
    if (auto text = read_template(item, item_pointer, node)) items.push_back(SayItem{std::move(*text), 0});
  };
  if (json.is_array()) {
    for (std::size_t i = 0; i < json.size(); ++i) read_item(json[i], child(pointer, i));
  } else {
    read_item(json, pointer);
  }
  return items;
}

std::optional<Pattern> FlowReader::read_pattern(const Json& json, const std::string& pointer) {
  if (!json.is_object()) {
    wrong_type(pointer, "a pattern {\"match\": ..., \"examples\": [...]}", json);
    return std::nullopt;
  }
  check_keys(json, pointer, {"match", "examples", "not"});
  auto source = read_string(json, "match", pointer, true);
  const Json* examples = field(json, "examples");
  if (examples == nullptr) {
    missing(pointer, "examples", "a list of answers this pattern must match; they are its tests");
  } else if (!examples->is_array() || examples->empty()) {
    report_.error("F010", child(pointer, "examples"),
                  "\"examples\" should be a list of at least one answer the pattern must match");
    examples = nullptr;
  }
  const Json* counter_examples = field(json, "not");
  if (counter_examples != nullptr && !counter_examples->is_array()) {
    wrong_type(child(pointer, "not"), "a list of answers the pattern must not match", *counter_examples);
    counter_examples = nullptr;
  }
  if (!source) return std::nullopt;
  static const detail::PatternChecks kFlowPattern{'F', detail::normalise_answer, "an example answer"};
  auto regex = detail::compile_checked_pattern(report_, kFlowPattern, *source, pointer, examples, counter_examples);
  if (!regex) return std::nullopt;
  return Pattern{std::move(regex), *source};
}

std::vector<Pattern> FlowReader::read_patterns(const Json& json, const std::string& pointer) {
  std::vector<Pattern> patterns;
  if (!json.is_array()) {
    wrong_type(pointer, "a list of patterns", json);
    return patterns;
  }
  for (std::size_t i = 0; i < json.size(); ++i) {
    if (auto pattern = read_pattern(json[i], child(pointer, i))) patterns.push_back(std::move(*pattern));
  }
  return patterns;
}

std::optional<NodeIndex> FlowReader::resolve(const Json& json, const std::string& pointer,
                                             const Scope& scope) {
  if (!json.is_string()) {
    wrong_type(pointer, "a node id in quotes", json);
    return std::nullopt;
  }
  auto id = json.get<std::string>();
  auto qualified = scope.name.empty() ? id : scope.name + "/" + id;
  if (auto found = flow_.find(qualified)) return found;
  std::string where = scope.name.empty() ? "" : " in sub-flow \"" + scope.name + "\"";
  report_.error("F021", pointer, "unknown node \"" + id + "\"" + where,
                did_you_mean(id, scope.local_ids));
  return std::nullopt;
}

std::optional<NodeIndex> FlowReader::read_target(const Json& object, const std::string& key,
                                                 const std::string& pointer, const Scope& scope,
                                                 bool required) {
  const Json* value = field(object, key);
  if (value == nullptr) {
    if (required) missing(pointer, key, "the id of the node to go to");
    return std::nullopt;
  }
  return resolve(*value, child(pointer, key), scope);
}

void FlowReader::read_metadata(const Json& root) {
  const std::string top;
  if (auto format = read_integer(root, "trellis", top, true, 1, 1000); format && *format != 1) {
    report_.error("F013", "/trellis", "this is flow format " + std::to_string(*format) +
                                          "; this version of Trellis reads format 1",
                  "set \"trellis\": 1");
  }
  if (auto id = read_string(root, "id", top, true)) {
    if (!std::regex_match(*id, flow_id_shape())) {
      report_.error("F013", "/id", "flow id \"" + *id + "\" has characters that are not allowed",
                    "use lower-case letters, digits, '-' and '_', starting with a letter");
    }
    flow_.info.id = *id;
  }
  if (auto version = read_integer(root, "version", top, true, 1, 1000000)) {
    flow_.info.version = static_cast<int>(*version);
  }
  if (auto title = read_string(root, "title", top, true)) flow_.info.title = *title;
  if (auto description = read_string(root, "description", top, true)) flow_.info.description = *description;
  if (auto minutes = read_integer(root, "minutes", top, true, 1, 240)) {
    flow_.info.minutes = static_cast<int>(*minutes);
  }
  if (const Json* tags = field(root, "tags")) {
    if (!tags->is_array()) {
      wrong_type("/tags", "a list of words", *tags);
    } else {
      for (std::size_t i = 0; i < tags->size(); ++i) {
        if ((*tags)[i].is_string()) flow_.info.tags.push_back((*tags)[i].get<std::string>());
        else wrong_type(child("/tags", i), "a word in quotes", (*tags)[i]);
      }
    }
  }
  const Json* credits = field(root, "credits");
  if (credits == nullptr) {
    missing(top, "credits", "who the exercise comes from: [{\"author\": ..., \"work\": ...}]");
  } else if (!credits->is_array() || credits->empty()) {
    report_.error("F010", "/credits",
                  "\"credits\" should be a list of at least one {\"author\": ..., \"work\": ...}",
                  "credit the authors of the framework this flow is based on");
  } else {
    for (std::size_t i = 0; i < credits->size(); ++i) {
      const Json& credit = (*credits)[i];
      auto pointer = child("/credits", i);
      if (!credit.is_object()) {
        wrong_type(pointer, "{\"author\": ..., \"work\": ...}", credit);
        continue;
      }
      check_keys(credit, pointer, {"author", "work", "note"});
      Credit entry;
      entry.author = read_string(credit, "author", pointer, true).value_or("");
      entry.work = read_string(credit, "work", pointer, true).value_or("");
      entry.note = read_string(credit, "note", pointer, false).value_or("");
      flow_.info.credits.push_back(std::move(entry));
    }
  }
}

void FlowReader::collect_nodes(const Json& nodes, const std::string& pointer, Scope& scope) {
  for (const auto& [id, node] : nodes.items()) {
    auto node_pointer = child(pointer, id);
    if (!is_node_id(id)) {
      report_.error("F013", node_pointer, "node id \"" + id + "\" has characters that are not allowed",
                    "use lower-case letters, digits and '_', starting with a letter");
      continue;
    }
    if (flow_.nodes.size() >= kMaxNodes) {
      report_.error("F025", node_pointer,
                    "this flow has more than " + std::to_string(kMaxNodes) + " nodes",
                    "split it into several flows");
      return;
    }
    auto qualified = scope.name.empty() ? id : scope.name + "/" + id;
    scope.local_ids.push_back(id);
    Node entry;
    entry.id = qualified;
    entry.pointer = node_pointer;
    flow_.index_by_id.emplace(qualified, static_cast<NodeIndex>(flow_.nodes.size()));
    flow_.nodes.push_back(std::move(entry));
    out_.subflow_of_node.push_back(scope.name);
    all_ids_.push_back(qualified);
  }
}

void FlowReader::read_nodes(const Json& nodes, const Scope& scope) {
  for (const auto& [id, json] : nodes.items()) {
    auto qualified = scope.name.empty() ? id : scope.name + "/" + id;
    auto index = flow_.find(qualified);
    if (!index) continue;  // reported by collect_nodes
    read_node(json, child(scope.pointer, id), *index, scope);
  }
}

void FlowReader::read_node(const Json& json, const std::string& pointer, NodeIndex index,
                           const Scope& scope) {
  Node& node = flow_.nodes[index];
  node.body = MessageNode{};
  if (!json.is_object()) {
    wrong_type(pointer, "a node {\"type\": ..., ...}", json);
    return;
  }
  static const std::vector<std::string> kTypes{"message", "question", "set", "branch", "call", "return", "end"};
  auto type = read_string(json, "type", pointer, true);
  if (!type) return;
  if (std::find(kTypes.begin(), kTypes.end(), *type) == kTypes.end()) {
    std::string hint = did_you_mean(*type, kTypes);
    report_.error("F013", child(pointer, "type"), "unknown node type \"" + *type + "\"",
                  hint.empty() ? "use one of: message, question, set, branch, call, return, end" : hint);
    return;
  }
  std::vector<std::string> allowed{"type", "say", "help"};
  auto allow = [&](std::initializer_list<const char*> keys) {
    for (const char* key : keys) allowed.emplace_back(key);
  };
  if (*type == "message") allow({"next"});
  if (*type == "question") {
    allow({"ask", "input", "store", "next", "choices", "yes", "no", "patterns", "min", "max",
           "intents", "max_length", "check", "retry", "skip"});
  }
  if (*type == "set") allow({"set", "next"});
  if (*type == "branch") allow({"branches", "else"});
  if (*type == "call") allow({"subflow", "next"});
  if (*type == "end") allow({"summary"});
  check_keys(json, pointer, allowed);

  if (const Json* say = field(json, "say")) node.say = read_say(*say, child(pointer, "say"), index);
  for (std::size_t i = 0; i < node.say.size(); ++i) {
    if (!node.say[i].is_pause()) use(index, child(pointer, "say"), node.say[i].text);
  }
  if (const Json* help = field(json, "help")) {
    node.help = read_template(*help, child(pointer, "help"), index);
  }

  if (*type == "message") {
    node.body = MessageNode{read_target(json, "next", pointer, scope, true).value_or(0)};
    if (node.say.empty()) {
      missing(pointer, "say", "a message node needs something to say");
    }
  } else if (*type == "question") {
    read_question(json, pointer, index, scope, node);
  } else if (*type == "set") {
    SetNode body;
    body.next = read_target(json, "next", pointer, scope, true).value_or(0);
    const Json* assignments = field(json, "set");
    if (assignments == nullptr) {
      missing(pointer, "set", "the variables to set: {\"total\": \"a + b\"}");
    } else if (!assignments->is_object() || assignments->empty()) {
      report_.error("F010", child(pointer, "set"),
                    "\"set\" should be an object of variable names and expressions");
    } else {
      for (const auto& [name, value] : assignments->items()) {
        auto assignment_pointer = child(child(pointer, "set"), name);
        if (!is_variable_name(name)) {
          report_.error("F013", assignment_pointer, "\"" + name + "\" cannot be a variable name",
                        "use letters, digits and '_', starting with a letter; not a keyword or 'answer'");
          continue;
        }
        if (auto expression = read_expression(value, assignment_pointer)) {
          body.assignments.push_back(Assignment{name, kNoSlot, std::move(*expression)});
        }
      }
    }
    node.body = std::move(body);
    auto& stored = std::get<SetNode>(node.body);
    std::vector<std::string> earlier;
    for (const auto& assignment : stored.assignments) {
      auto assignment_pointer = child(child(pointer, "set"), assignment.variable);
      use(index, assignment_pointer, assignment.value, detail::VariableUse::Want::Any, earlier);
      out_.writes.push_back({index, assignment_pointer, assignment.variable, std::nullopt, &assignment.value});
      earlier.push_back(assignment.variable);
    }
  } else if (*type == "branch") {
    BranchNode body;
    body.otherwise = read_target(json, "else", pointer, scope, true).value_or(0);
    const Json* arms = field(json, "branches");
    if (arms == nullptr) {
      missing(pointer, "branches", "a list of {\"if\": condition, \"next\": node}");
    } else if (!arms->is_array() || arms->empty()) {
      report_.error("F010", child(pointer, "branches"),
                    "\"branches\" should be a list of at least one {\"if\": ..., \"next\": ...}");
    } else {
      for (std::size_t i = 0; i < arms->size(); ++i) {
        const Json& arm = (*arms)[i];
        auto arm_pointer = child(child(pointer, "branches"), i);
        if (!arm.is_object()) {
          wrong_type(arm_pointer, "{\"if\": condition, \"next\": node}", arm);
          continue;
        }
        check_keys(arm, arm_pointer, {"if", "next"});
        auto target = read_target(arm, "next", arm_pointer, scope, true);
        std::optional<Expression> condition;
        if (const Json* when = field(arm, "if")) condition = read_expression(*when, child(arm_pointer, "if"));
        else missing(arm_pointer, "if", "the condition for this branch");
        if (condition && target) body.arms.push_back(BranchArm{std::move(*condition), *target});
      }
    }
    node.body = std::move(body);
    auto& stored = std::get<BranchNode>(node.body);
    for (std::size_t i = 0; i < stored.arms.size(); ++i) {
      use(index, child(child(child(pointer, "branches"), i), "if"), stored.arms[i].condition,
          detail::VariableUse::Want::Boolean);
    }
  } else if (*type == "call") {
    CallNode body;
    body.next = read_target(json, "next", pointer, scope, true).value_or(0);
    if (auto name = read_string(json, "subflow", pointer, true)) {
      body.subflow = *name;  // its start is resolved in read(), once every sub-flow is known
    }
    node.body = std::move(body);
  } else if (*type == "return") {
    node.body = ReturnNode{};
    if (scope.name.empty()) {
      report_.error("F026", pointer, "\"return\" is only allowed inside a sub-flow",
                    "use an \"end\" node to finish the flow");
    }
  } else if (*type == "end") {
    EndNode body;
    if (const Json* summary = field(json, "summary")) {
      if (!summary->is_object()) {
        wrong_type(child(pointer, "summary"), "an object of names and expressions", *summary);
      } else {
        for (const auto& [key, value] : summary->items()) {
          if (auto expression = read_expression(value, child(child(pointer, "summary"), key))) {
            body.summary.push_back(SummaryItem{key, std::move(*expression)});
          }
        }
      }
    }
    node.body = std::move(body);
    auto& stored = std::get<EndNode>(node.body);
    for (const auto& item : stored.summary) {
      use(index, child(child(pointer, "summary"), item.key), item.value, detail::VariableUse::Want::Any);
    }
    if (!scope.name.empty()) {
      report_.warning("W001", pointer, "an \"end\" inside a sub-flow ends the whole conversation",
                      "use \"return\" to go back to the caller");
    }
  }
}

void FlowReader::read_question(const Json& json, const std::string& pointer, NodeIndex index,
                               const Scope& scope, Node& node) {
  QuestionNode question;
  static const std::vector<std::string> kInputs{"choice", "yesno", "text", "number", "scale"};
  auto input = read_string(json, "input", pointer, true);
  bool input_ok = false;
  if (input) {
    for (auto kind : {InputKind::Choice, InputKind::YesNo, InputKind::Text, InputKind::Number, InputKind::Scale}) {
      if (*input == to_string(kind)) {
        question.input = kind;
        input_ok = true;
      }
    }
    if (!input_ok) {
      std::string hint = did_you_mean(*input, kInputs);
      report_.error("F013", child(pointer, "input"), "unknown input kind \"" + *input + "\"",
                    hint.empty() ? "use one of: choice, yesno, text, number, scale" : hint);
    }
  }
  if (const Json* ask = field(json, "ask")) {
    if (auto text = read_template(*ask, child(pointer, "ask"), index)) question.ask = std::move(*text);
  } else {
    missing(pointer, "ask", "the question to ask");
  }
  if (auto store = read_string(json, "store", pointer, false)) {
    if (is_variable_name(*store)) question.store = *store;
    else report_.error("F013", child(pointer, "store"), "\"" + *store + "\" cannot be a variable name",
                       "use letters, digits and '_', starting with a letter; not a keyword or 'answer'");
  }
  question.next = read_target(json, "next", pointer, scope, false);

  auto only_for = [&](const char* key, std::string_view kinds) {
    if (input_ok && field(json, key) != nullptr) {
      report_.error("F014", child(pointer, key),
                    "\"" + std::string(key) + "\" does not apply to " +
                        std::string(to_string(question.input)) + " questions",
                    "it is for " + std::string(kinds) + " questions; remove it");
      return false;
    }
    return true;
  };
  const InputKind kind = question.input;
  if (kind != InputKind::Choice) only_for("choices", "choice");
  if (kind != InputKind::YesNo) {
    only_for("yes", "yesno");
    only_for("no", "yesno");
    only_for("patterns", "yesno");
  }
  if (kind != InputKind::Number && kind != InputKind::Scale) {
    only_for("min", "number and scale");
    only_for("max", "number and scale");
  }
  if (kind != InputKind::Text) {
    only_for("intents", "text");
    only_for("max_length", "text");
  }

  if (input_ok && kind == InputKind::Choice) {
    const Json* choices = field(json, "choices");
    if (choices == nullptr) {
      missing(pointer, "choices", "the options: [{\"id\": ..., \"label\": ...}]");
    } else if (!choices->is_array() || choices->empty()) {
      report_.error("F010", child(pointer, "choices"), "\"choices\" should be a list of at least one option");
    } else {
      std::set<std::string> seen;
      for (std::size_t i = 0; i < choices->size(); ++i) {
        const Json& choice = (*choices)[i];
        auto choice_pointer = child(child(pointer, "choices"), i);
        if (!choice.is_object()) {
          wrong_type(choice_pointer, "{\"id\": ..., \"label\": ...}", choice);
          continue;
        }
        check_keys(choice, choice_pointer, {"id", "label", "next", "when", "patterns"});
        ChoiceSpec spec;
        auto id = read_string(choice, "id", choice_pointer, true);
        if (id && !seen.insert(*id).second) {
          report_.error("F050", child(choice_pointer, "id"), "choice id \"" + *id + "\" is used twice in this question",
                        "give each choice its own id");
        }
        if (id && id->size() > 32) {
          report_.error("F013", child(choice_pointer, "id"), "choice id is longer than 32 characters",
                        "use a short id such as \"rest\"");
        }
        spec.id = id.value_or("");
        if (const Json* label = field(choice, "label")) {
          if (auto text = read_template(*label, child(choice_pointer, "label"), index)) spec.label = std::move(*text);
        } else {
          missing(choice_pointer, "label", "the text on the button");
        }
        spec.next = read_target(choice, "next", choice_pointer, scope, false);
        if (const Json* when = field(choice, "when")) spec.when = read_expression(*when, child(choice_pointer, "when"));
        if (const Json* patterns = field(choice, "patterns")) {
          spec.patterns = read_patterns(*patterns, child(choice_pointer, "patterns"));
        }
        if (!spec.next && !question.next && field(choice, "next") == nullptr && field(json, "next") == nullptr) {
          report_.error("F015", choice_pointer, "choice \"" + spec.id + "\" leads nowhere",
                        "give the choice a \"next\", or the question a \"next\"");
        }
        question.choices.push_back(std::move(spec));
      }
      bool all_conditional = !question.choices.empty() &&
                             std::all_of(question.choices.begin(), question.choices.end(),
                                         [](const ChoiceSpec& c) { return c.when.has_value(); });
      if (all_conditional && field(json, "next") == nullptr) {
        report_.error("F016", child(pointer, "choices"),
                      "every choice has a \"when\", so at times none may be shown",
                      "add a \"next\" to the question for when no choice is shown");
      }
    }
  }
  if (input_ok && kind == InputKind::YesNo) {
    auto yes_target = read_target(json, "yes", pointer, scope, false);
    auto no_target = read_target(json, "no", pointer, scope, false);
    ChoiceSpec yes{"yes", Template({std::string("Yes")}), {Pattern{builtin_yes_, "(built-in yes words)"}}, yes_target, {}};
    ChoiceSpec no{"no", Template({std::string("No")}), {Pattern{builtin_no_, "(built-in no words)"}}, no_target, {}};
    if (const Json* patterns = field(json, "patterns")) {
      auto patterns_pointer = child(pointer, "patterns");
      if (!patterns->is_object()) {
        wrong_type(patterns_pointer, "{\"yes\": [patterns], \"no\": [patterns]}", *patterns);
      } else {
        check_keys(*patterns, patterns_pointer, {"yes", "no"});
        if (const Json* extra = field(*patterns, "yes")) {
          for (auto& pattern : read_patterns(*extra, child(patterns_pointer, "yes"))) yes.patterns.push_back(pattern);
        }
        if (const Json* extra = field(*patterns, "no")) {
          for (auto& pattern : read_patterns(*extra, child(patterns_pointer, "no"))) no.patterns.push_back(pattern);
        }
      }
    }
    bool yes_leads = yes_target || field(json, "yes") != nullptr;
    bool no_leads = no_target || field(json, "no") != nullptr;
    if (field(json, "next") == nullptr && (!yes_leads || !no_leads)) {
      report_.error("F015", pointer, "this yes/no question leads nowhere for \"" +
                                         std::string(yes_leads ? "no" : "yes") + "\"",
                    "add \"next\", or both \"yes\" and \"no\"");
    }
    question.choices.push_back(std::move(yes));
    question.choices.push_back(std::move(no));
  }
  if (input_ok && (kind == InputKind::Number || kind == InputKind::Scale)) {
    bool is_scale = kind == InputKind::Scale;
    auto min = read_integer(json, "min", pointer, !is_scale, -1000000000, 1000000000);
    auto max = read_integer(json, "max", pointer, !is_scale, -1000000000, 1000000000);
    question.min = static_cast<int>(min.value_or(is_scale ? 1 : 0));
    question.max = static_cast<int>(max.value_or(is_scale ? 10 : 0));
    if ((min || is_scale) && (max || is_scale) && question.min >= question.max) {
      report_.error("F013", child(pointer, "max"), "\"max\" must be larger than \"min\"");
    } else if (is_scale && question.max - question.min > 20) {
      report_.error("F013", child(pointer, "max"), "a scale can have at most 21 points",
                    "use a \"number\" question for wider ranges");
    } else if (is_scale) {
      for (int value = question.min; value <= question.max; ++value) {
        auto text = std::to_string(value);
        question.choices.push_back(ChoiceSpec{text, Template({text}), {}, std::nullopt, std::nullopt});
      }
    }
  }
  if (input_ok && kind == InputKind::Text) {
    if (auto max_length = read_integer(json, "max_length", pointer, false, 1, 10000)) {
      question.max_length = static_cast<int>(*max_length);
    }
    if (const Json* intents = field(json, "intents")) {
      auto intents_pointer = child(pointer, "intents");
      if (!intents->is_array()) {
        wrong_type(intents_pointer, "a list of {\"id\", \"patterns\", \"next\"}", *intents);
      } else {
        std::set<std::string> seen;
        for (std::size_t i = 0; i < intents->size(); ++i) {
          const Json& intent = (*intents)[i];
          auto intent_pointer = child(intents_pointer, i);
          if (!intent.is_object()) {
            wrong_type(intent_pointer, "{\"id\", \"patterns\", \"next\"}", intent);
            continue;
          }
          check_keys(intent, intent_pointer, {"id", "patterns", "next"});
          Intent entry;
          entry.id = read_string(intent, "id", intent_pointer, true).value_or("");
          if (!entry.id.empty() && !seen.insert(entry.id).second) {
            report_.error("F050", child(intent_pointer, "id"), "intent id \"" + entry.id + "\" is used twice",
                          "give each intent its own id");
          }
          auto target = read_target(intent, "next", intent_pointer, scope, true);
          if (const Json* patterns = field(intent, "patterns")) {
            entry.patterns = read_patterns(*patterns, child(intent_pointer, "patterns"));
          } else {
            missing(intent_pointer, "patterns", "the patterns that recognise this intent");
          }
          if (target) {
            entry.next = *target;
            question.intents.push_back(std::move(entry));
          }
        }
      }
    }
  }
  if (input_ok && (kind == InputKind::Text || kind == InputKind::Number) && field(json, "next") == nullptr) {
    missing(pointer, "next", "where to go after the answer");
  }
  if (input_ok && kind == InputKind::Scale && field(json, "next") == nullptr) {
    missing(pointer, "next", "where to go after the answer");
  }

  question.retry_limit = 2;
  if (const Json* retry = field(json, "retry")) {
    auto retry_pointer = child(pointer, "retry");
    if (!retry->is_object()) {
      wrong_type(retry_pointer, "{\"limit\": n, \"say\": ..., \"fallback\": node}", *retry);
    } else {
      check_keys(*retry, retry_pointer, {"limit", "say", "fallback"});
      question.retry_limit = -1;  // marker: take the flow default unless given here
      if (auto limit = read_integer(*retry, "limit", retry_pointer, false, 1, 10)) {
        question.retry_limit = static_cast<int>(*limit);
      }
      if (const Json* say = field(*retry, "say")) question.reprompt = read_say(*say, child(retry_pointer, "say"), index);
      question.fallback = read_target(*retry, "fallback", retry_pointer, scope, false);
    }
  } else {
    question.retry_limit = -1;
  }
  if (const Json* skip = field(json, "skip")) {
    if (skip->is_boolean()) {
      question.skippable = skip->get<bool>();
      if (question.skippable && !question.next) {
        report_.error("F015", child(pointer, "skip"), "skipping this question leads nowhere",
                      "give \"skip\" a node id, or the question a \"next\"");
      }
    } else if (skip->is_string()) {
      question.skippable = true;
      question.skip_to = resolve(*skip, child(pointer, "skip"), scope);
    } else {
      wrong_type(child(pointer, "skip"), "true, or the id of the node to skip to", *skip);
    }
  }

  std::optional<ValueType> answer_type;
  switch (kind) {
    case InputKind::Choice: case InputKind::Text: answer_type = ValueType::String; break;
    case InputKind::YesNo: answer_type = ValueType::Boolean; break;
    case InputKind::Number: case InputKind::Scale: answer_type = ValueType::Number; break;
  }
  if (const Json* checks = field(json, "check")) {
    auto checks_pointer = child(pointer, "check");
    if (!checks->is_array()) {
      wrong_type(checks_pointer, "a list of {\"if\": condition, \"say\": message}", *checks);
    } else {
      for (std::size_t i = 0; i < checks->size(); ++i) {
        const Json& check = (*checks)[i];
        auto check_pointer = child(checks_pointer, i);
        if (!check.is_object()) {
          wrong_type(check_pointer, "{\"if\": condition, \"say\": message}", check);
          continue;
        }
        check_keys(check, check_pointer, {"if", "say"});
        std::optional<Expression> condition;
        std::optional<Template> message;
        if (const Json* when = field(check, "if")) condition = read_expression(*when, child(check_pointer, "if"));
        else missing(check_pointer, "if", "the condition a good answer meets");
        if (const Json* say = field(check, "say")) message = read_template(*say, child(check_pointer, "say"), index);
        else missing(check_pointer, "say", "what to say when the answer does not meet it");
        if (condition && message) question.checks.push_back(Check{std::move(*condition), std::move(*message)});
      }
    }
  }

  node.body = std::move(question);
  auto& stored = std::get<QuestionNode>(node.body);
  use(index, child(pointer, "ask"), stored.ask);
  for (std::size_t i = 0; i < stored.choices.size() && kind == InputKind::Choice; ++i) {
    auto choice_pointer = child(child(pointer, "choices"), i);
    use(index, child(choice_pointer, "label"), stored.choices[i].label);
    if (stored.choices[i].when) {
      use(index, child(choice_pointer, "when"), *stored.choices[i].when, detail::VariableUse::Want::Boolean);
    }
  }
  for (const auto& item : stored.reprompt) {
    if (!item.is_pause()) use(index, child(child(pointer, "retry"), "say"), item.text);
  }
  for (std::size_t i = 0; i < stored.checks.size(); ++i) {
    auto check_pointer = child(child(pointer, "check"), i);
    use(index, child(check_pointer, "if"), stored.checks[i].condition, detail::VariableUse::Want::Boolean,
        {"answer"}, answer_type);
    use(index, child(check_pointer, "say"), stored.checks[i].message);
  }
  if (node.help) use(index, child(pointer, "help"), *node.help);
  if (stored.store) out_.writes.push_back({index, child(pointer, "store"), *stored.store, answer_type, nullptr});
}

void FlowReader::read(const Json& root) {
  if (!root.is_object()) {
    wrong_type("", "a flow object {\"trellis\": 1, \"id\": ..., ...}", root);
    return;
  }
  check_keys(root, "", {"$schema", "trellis", "id", "version", "title", "description", "minutes", "tags",
                        "credits", "help", "retry", "variables", "start", "nodes", "subflows"});
  read_metadata(root);

  RE2::Options options;
  options.set_log_errors(false);
  options.set_case_sensitive(false);
  builtin_yes_ = std::make_shared<const RE2>(detail::kBuiltinYesPattern, options);
  builtin_no_ = std::make_shared<const RE2>(detail::kBuiltinNoPattern, options);

  int default_retry_limit = 2;
  if (const Json* retry = field(root, "retry")) {
    if (!retry->is_object()) {
      wrong_type("/retry", "{\"limit\": n}", *retry);
    } else {
      check_keys(*retry, "/retry", {"limit"});
      if (auto limit = read_integer(*retry, "limit", "/retry", false, 1, 10)) {
        default_retry_limit = static_cast<int>(*limit);
      }
    }
  }

  if (const Json* variables = field(root, "variables")) {
    if (!variables->is_object()) {
      wrong_type("/variables", "an object of variable names and their first values", *variables);
    } else {
      for (const auto& [name, value] : variables->items()) {
        auto pointer = child("/variables", name);
        if (!is_variable_name(name)) {
          report_.error("F013", pointer, "\"" + name + "\" cannot be a variable name",
                        "use letters, digits and '_', starting with a letter; not a keyword or 'answer'");
          continue;
        }
        auto initial = value_from_json(nlohmann::json::parse(value.dump()));
        if (!initial) {
          wrong_type(pointer, "a number, text in quotes, or true/false", value);
          continue;
        }
        flow_.variable_types[name] = type_of(*initial);
        flow_.initial_variables.set(name, std::move(*initial));
        out_.declared.push_back(name);
      }
    }
  }

  // Pass 1: give every node an index, so that pass 2 can resolve any reference.
  Scope main_scope{"", "/nodes", {}};
  const Json* nodes = field(root, "nodes");
  if (nodes == nullptr) {
    missing("", "nodes", "the conversation's nodes");
  } else if (!nodes->is_object() || nodes->empty()) {
    report_.error("F010", "/nodes", "\"nodes\" should be an object of node ids and nodes");
    nodes = nullptr;
  } else {
    collect_nodes(*nodes, "/nodes", main_scope);
  }
  std::vector<std::pair<Scope, const Json*>> subflows;
  std::map<std::string, std::string> subflow_start_ids;
  if (const Json* subflow_json = field(root, "subflows")) {
    if (!subflow_json->is_object()) {
      wrong_type("/subflows", "an object of sub-flow names and {\"start\", \"nodes\"}", *subflow_json);
    } else {
      for (const auto& [name, subflow] : subflow_json->items()) {
        auto pointer = child("/subflows", name);
        if (!is_node_id(name)) {
          report_.error("F013", pointer, "sub-flow name \"" + name + "\" has characters that are not allowed",
                        "use lower-case letters, digits and '_', starting with a letter");
          continue;
        }
        if (!subflow.is_object()) {
          wrong_type(pointer, "{\"start\": node, \"nodes\": {...}}", subflow);
          continue;
        }
        check_keys(subflow, pointer, {"start", "nodes"});
        out_.subflow_names.push_back(name);
        Scope scope{name, child(pointer, "nodes"), {}};
        const Json* sub_nodes = field(subflow, "nodes");
        if (sub_nodes == nullptr || !sub_nodes->is_object() || sub_nodes->empty()) {
          report_.error("F012", pointer, "sub-flow \"" + name + "\" has no nodes",
                        "add \"nodes\": {...} with at least one node");
          continue;
        }
        collect_nodes(*sub_nodes, scope.pointer, scope);
        subflows.emplace_back(std::move(scope), sub_nodes);
        if (auto start = read_string(subflow, "start", pointer, true)) subflow_start_ids[name] = *start;
      }
    }
  }

  if (nodes != nullptr) {
    if (const Json* start = field(root, "start")) {
      if (auto index = resolve(*start, "/start", main_scope)) flow_.start = *index;
    } else {
      missing("", "start", "the id of the first node");
    }
  }

  // Pass 2: read every node.
  if (nodes != nullptr) read_nodes(*nodes, main_scope);
  std::map<std::string, NodeIndex> subflow_starts;
  for (const auto& [scope, sub_nodes] : subflows) {
    read_nodes(*sub_nodes, scope);
    if (auto start = subflow_start_ids.find(scope.name); start != subflow_start_ids.end()) {
      if (auto index = resolve(Json(start->second), child(child("/subflows", scope.name), "start"), scope)) {
        subflow_starts[scope.name] = *index;
      }
    }
  }
  for (std::size_t i = 0; i < flow_.nodes.size(); ++i) {
    Node& node = flow_.nodes[i];
    if (auto* call = std::get_if<CallNode>(&node.body)) {
      auto found = subflow_starts.find(call->subflow);
      if (found != subflow_starts.end()) {
        call->start = found->second;
      } else if (!call->subflow.empty() &&
                 std::find(out_.subflow_names.begin(), out_.subflow_names.end(), call->subflow) ==
                     out_.subflow_names.end()) {
        report_.error("F021", child(node.pointer, "subflow"), "unknown sub-flow \"" + call->subflow + "\"",
                      did_you_mean(call->subflow, out_.subflow_names));
      }
    }
    if (auto* question = std::get_if<QuestionNode>(&node.body); question && question->retry_limit < 0) {
      question->retry_limit = default_retry_limit;
    }
  }

  if (const Json* help = field(root, "help")) {
    if (auto text = read_template(*help, "/help", 0)) flow_.help = std::move(*text);
  }
}

}  // namespace

namespace {

// Numbers the flow's variables (sorted by name, so the numbering is stable) and
// points every expression and template at their slots.
void bind_variables(detail::ReadFlow& read) {
  Flow& flow = read.flow;
  std::set<std::string> names(read.declared.begin(), read.declared.end());
  for (const auto& [name, type] : flow.variable_types) names.insert(name);
  for (const auto& write : read.writes) names.insert(write.variable);
  auto variables = std::make_shared<VariableTable>();
  for (const auto& name : names) {
    variables->slot_of.emplace(name, static_cast<VariableSlot>(variables->names.size()));
    variables->names.push_back(name);
  }
  // `answer` is reserved, so it cannot clash with an author's variable.
  variables->answer = static_cast<VariableSlot>(variables->names.size());
  variables->slot_of.emplace("answer", variables->answer);
  variables->names.emplace_back("answer");
  flow.variable_table = std::move(variables);
  flow.initial_variables.bind(flow.variable_table);

  const SlotTable& table = flow.variable_table->slot_of;
  auto slot_of = [&](const std::string& name) {
    auto found = table.find(name);
    return found == table.end() ? kNoSlot : found->second;
  };
  auto bind_say = [&](std::vector<SayItem>& items) {
    for (auto& item : items) item.text.bind(table);
  };
  flow.help.bind(table);
  for (Node& node : flow.nodes) {
    bind_say(node.say);
    if (node.help) node.help->bind(table);
    std::visit(
        [&](auto& body) {
          using T = std::decay_t<decltype(body)>;
          if constexpr (std::is_same_v<T, QuestionNode>) {
            body.ask.bind(table);
            for (auto& choice : body.choices) {
              choice.label.bind(table);
              if (choice.when) choice.when->bind(table);
            }
            if (body.store) body.store_slot = slot_of(*body.store);
            for (auto& check : body.checks) {
              check.condition.bind(table);
              check.message.bind(table);
            }
            bind_say(body.reprompt);
          } else if constexpr (std::is_same_v<T, SetNode>) {
            for (auto& assignment : body.assignments) {
              assignment.slot = slot_of(assignment.variable);
              assignment.value.bind(table);
            }
          } else if constexpr (std::is_same_v<T, BranchNode>) {
            for (auto& arm : body.arms) arm.condition.bind(table);
          } else if constexpr (std::is_same_v<T, EndNode>) {
            for (auto& item : body.summary) item.value.bind(table);
          }
        },
        node.body);
  }
}

}  // namespace

CompileResult compile_flow(std::string_view text, std::string_view file, std::vector<Diagnostic>* warnings) {
  Reporter early(std::string(file), nullptr);
  if (text.size() > kMaxFlowFileBytes) {
    early.error("F002", "", "the file is " + std::to_string(text.size()) + " bytes; the limit is " +
                                std::to_string(kMaxFlowFileBytes),
                "split it into several flows");
    return tl::make_unexpected(std::move(early.diagnostics()));
  }
  if (nesting_depth(text) > kMaxJsonDepth) {
    early.error("F003", "", "the file nests more than " + std::to_string(kMaxJsonDepth) + " levels deep",
                "flatten the structure");
    return tl::make_unexpected(std::move(early.diagnostics()));
  }
  Json root;
  try {
    root = Json::parse(text, nullptr, /*allow_exceptions=*/true, /*ignore_comments=*/true);
  } catch (const nlohmann::json::parse_error& error) {
    std::string message = error.what();
    // "[json.exception.parse_error.101] parse error at line 3, column 5: syntax error ..."
    if (auto colon = message.find(": "); colon != std::string::npos) message = message.substr(colon + 2);
    Diagnostic diagnostic;
    diagnostic.code = "F001";
    diagnostic.file = std::string(file);
    auto position = SourceMap::position_of_offset(text, error.byte > 0 ? error.byte - 1 : 0);
    diagnostic.line = position.line;
    diagnostic.column = position.column;
    diagnostic.message = "this is not valid JSON: " + message;
    diagnostic.hint = "look for a missing comma, quote or bracket just before this point";
    return tl::make_unexpected(std::vector<Diagnostic>{std::move(diagnostic)});
  } catch (const nlohmann::json::exception& error) {
    // Well-formed but unrepresentable, such as a number too large for a double (1e309).
    std::string message = error.what();
    if (auto bracket = message.find("] "); bracket != std::string::npos) message = message.substr(bracket + 2);
    Diagnostic diagnostic;
    diagnostic.code = "F001";
    diagnostic.file = std::string(file);
    diagnostic.line = 1;
    diagnostic.message = "this JSON cannot be read: " + message;
    diagnostic.hint = "numbers must fit in a double; write a smaller number";
    return tl::make_unexpected(std::vector<Diagnostic>{std::move(diagnostic)});
  }

  SourceMap map = SourceMap::scan(text);
  Reporter reporter(std::string(file), &map);
  for (const auto& duplicate : map.duplicate_keys()) {
    reporter.error("F020", duplicate.pointer, "this key is written twice in the same object",
                   "keep one; JSON would silently use only the last");
  }
  detail::ReadFlow read;
  read.flow.file = std::string(file);
  FlowReader reader(reporter, read);
  reader.read(root);
  if (!has_errors(reporter.diagnostics())) detail::analyse_flow(read, reporter);

  auto& diagnostics = reporter.diagnostics();
  if (has_errors(diagnostics)) return tl::make_unexpected(std::move(diagnostics));
  bind_variables(read);
  if (warnings != nullptr) {
    for (auto& diagnostic : diagnostics) warnings->push_back(std::move(diagnostic));
  }
  return std::make_shared<const Flow>(std::move(read.flow));
}

}  // namespace trellis::engine
