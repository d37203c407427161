#pragma once
// A compiled flow: built once by compile_flow(), then shared read-only by every
// session that runs it. Names are resolved to indices, patterns compiled and
// expressions parsed here, so step() never parses anything.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>
#include <re2/re2.h>

#include "trellis/engine/expression.hpp"
#include "trellis/engine/template.hpp"
#include "trellis/engine/variables.hpp"

namespace trellis::engine {

using NodeIndex = std::uint32_t;

enum class InputKind { Choice, YesNo, Text, Number, Scale };
std::string_view to_string(InputKind kind);  // "choice", "yesno", "text", "number", "scale"

// One entry of a node's `say`: a message, or a paced pause between messages.
struct SayItem {
  Template text;     // empty when this is a pause
  int pause_ms = 0;  // > 0 for a pause
  bool is_pause() const { return pause_ms > 0; }
};

// An RE2 pattern an author wrote, with where it came from for tracing.
struct Pattern {
  std::shared_ptr<const RE2> regex;
  std::string source;
};

struct ChoiceSpec {
  std::string id;                  // stable: clients send it back
  Template label;
  std::vector<Pattern> patterns;   // free text that also picks this choice
  std::optional<NodeIndex> next;   // overrides the question's next
  std::optional<Expression> when;  // shown only while this is true
};

// A free-text answer that matches one of these goes to `next` (after storing).
struct Intent {
  std::string id;
  std::vector<Pattern> patterns;
  NodeIndex next = 0;
};

// An answer must satisfy `condition` (which may read `answer`), else `message` and a retry.
struct Check {
  Expression condition;
  Template message;
};

struct QuestionNode {
  InputKind input = InputKind::Text;
  Template ask;
  std::vector<ChoiceSpec> choices;  // choice, yesno (always "yes", "no"), scale ("1".."10")
  int min = 0, max = 0;             // number and scale
  std::optional<std::string> store; // variable the answer is stored in
  VariableSlot store_slot = kNoSlot; // and its slot
  std::optional<NodeIndex> next;
  std::vector<Intent> intents;      // text only
  std::vector<Check> checks;
  int retry_limit = 2;              // the failed answer that leads to the fallback (1..10)
  std::vector<SayItem> reprompt;    // empty: the input kind's default re-prompt
  std::optional<NodeIndex> fallback;
  bool skippable = false;
  std::optional<NodeIndex> skip_to; // defaults to next
  int max_length = 2000;            // text: longer answers are re-prompted
};

struct MessageNode { NodeIndex next = 0; };

struct Assignment {
  std::string variable;
  VariableSlot slot = kNoSlot;
  Expression value;
};
struct SetNode {
  std::vector<Assignment> assignments;  // applied in order
  NodeIndex next = 0;
};

struct BranchArm {
  Expression condition;
  NodeIndex next = 0;
};
struct BranchNode {
  std::vector<BranchArm> arms;  // the first true arm wins
  NodeIndex otherwise = 0;
};

struct CallNode {
  std::string subflow;
  NodeIndex start = 0;  // the sub-flow's first node
  NodeIndex next = 0;   // where its `return` comes back to
};

struct ReturnNode {};

struct SummaryItem {
  std::string key;
  Expression value;
};
struct EndNode {
  std::vector<SummaryItem> summary;
};

using NodeBody =
    std::variant<MessageNode, QuestionNode, SetNode, BranchNode, CallNode, ReturnNode, EndNode>;

struct Node {
  std::string id;       // "reflect", or "breathe/inhale" inside sub-flow "breathe"
  std::string pointer;  // where the author wrote it: /nodes/reflect
  std::vector<SayItem> say;
  std::optional<Template> help;  // node-specific help; else the flow's
  NodeBody body;
};

struct Credit {
  std::string author;
  std::string work;
  std::string note;
};

struct FlowInfo {
  std::string id;
  int version = 1;
  std::string title;
  std::string description;
  int minutes = 0;
  std::vector<std::string> tags;
  std::vector<Credit> credits;
};

struct Flow {
  FlowInfo info;
  std::string file;                      // for messages; never read again
  std::vector<Node> nodes;               // a NodeIndex indexes this
  std::unordered_map<std::string, NodeIndex, NameHash, std::equal_to<>> index_by_id;
  NodeIndex start = 0;
  Template help;                         // the flow's help text
  Variables initial_variables;           // declared `variables` with their values
  std::unordered_map<std::string, ValueType> variable_types;
  // Every variable the flow's nodes and sub-flows read or write (they share one
  // namespace), numbered; expressions and templates are bound to these slots.
  std::shared_ptr<const VariableTable> variable_table;

  const Node& node(NodeIndex index) const { return nodes[index]; }
  std::optional<NodeIndex> find(std::string_view id) const;
};

}  // namespace trellis::engine
