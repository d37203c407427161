// Checks that need the whole flow: where the conversation can go, whether it can
// always finish, and whether every variable is set, and of the right type, where read.
#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include "compile_context.hpp"
#include "trellis/engine/suggest.hpp"

namespace trellis::engine::detail {

namespace {

struct Edge {
  NodeIndex to = 0;
  std::vector<std::string> defines;  // variables set on the way
};

class Analysis {
 public:
  Analysis(ReadFlow& read, Reporter& reporter) : read_(read), flow_(read.flow), report_(reporter) {}

  void run() {
    build_edges();
    check_reachability();
    check_recursion();
    check_loops_without_question();
    infer_types();
    check_definite_assignment();
  }

 private:
  void build_edges();
  void check_reachability();
  void check_recursion();
  void check_loops_without_question();
  void infer_types();
  void check_definite_assignment();
  void check_use(const VariableUse& use, const std::vector<char>& defined);
  std::vector<std::vector<char>> must_sets(NodeIndex entry, const std::vector<char>& entry_set,
                                           const std::vector<std::vector<Edge>>& edges) const;
  std::vector<Edge> context_edges(NodeIndex node,
                                  const std::map<std::string, std::vector<std::string>>& sets_by_subflow) const;
  std::optional<ValueType> variable_type(std::string_view name) const;

  ReadFlow& read_;
  Flow& flow_;
  Reporter& report_;
  std::vector<std::vector<Edge>> edges_;
  std::vector<char> reachable_;
  std::vector<std::string> variables_;            // every variable written or declared
  std::map<std::string, std::size_t, std::less<>> variable_index_;
};

void Analysis::build_edges() {
  const std::size_t count = flow_.nodes.size();
  edges_.assign(count, {});
  std::map<std::string, std::vector<NodeIndex>> call_returns;  // sub-flow -> where its calls continue
  for (const auto& node : flow_.nodes) {
    if (const auto* call = std::get_if<CallNode>(&node.body)) call_returns[call->subflow].push_back(call->next);
  }
  for (NodeIndex i = 0; i < count; ++i) {
    const Node& node = flow_.nodes[i];
    auto& out = edges_[i];
    std::visit(
        [&](const auto& body) {
          using T = std::decay_t<decltype(body)>;
          if constexpr (std::is_same_v<T, MessageNode>) {
            out.push_back({body.next, {}});
          } else if constexpr (std::is_same_v<T, QuestionNode>) {
            std::vector<std::string> stored;
            if (body.store) stored.push_back(*body.store);
            if (body.next) out.push_back({*body.next, stored});
            for (const auto& choice : body.choices) {
              if (choice.next) out.push_back({*choice.next, stored});
            }
            for (const auto& intent : body.intents) out.push_back({intent.next, stored});
            if (body.fallback) out.push_back({*body.fallback, {}});
            // When every choice is hidden by its `when`, the question is passed by unanswered.
            bool all_conditional = !body.choices.empty() && std::all_of(body.choices.begin(), body.choices.end(),
                                               [](const ChoiceSpec& c) { return c.when.has_value(); });
            if (all_conditional && body.next) out.push_back({*body.next, {}});
            if (body.skippable) {
              if (body.skip_to) out.push_back({*body.skip_to, {}});
              else if (body.next) out.push_back({*body.next, {}});
            }
          } else if constexpr (std::is_same_v<T, SetNode>) {
            std::vector<std::string> assigned;
            for (const auto& assignment : body.assignments) assigned.push_back(assignment.variable);
            out.push_back({body.next, assigned});
          } else if constexpr (std::is_same_v<T, BranchNode>) {
            for (const auto& arm : body.arms) out.push_back({arm.next, {}});
            out.push_back({body.otherwise, {}});
          } else if constexpr (std::is_same_v<T, CallNode>) {
            out.push_back({body.start, {}});
          } else if constexpr (std::is_same_v<T, ReturnNode>) {
            // Calls are matched to returns without context: a return may go back
            // to any caller of its sub-flow, which keeps the checks conservative.
            for (NodeIndex back : call_returns[read_.subflow_of_node[i]]) out.push_back({back, {}});
          }
        },
        node.body);
  }
}

void Analysis::check_reachability() {
  const std::size_t count = flow_.nodes.size();
  reachable_.assign(count, 0);
  std::vector<NodeIndex> work{flow_.start};
  reachable_[flow_.start] = 1;
  while (!work.empty()) {
    NodeIndex at = work.back();
    work.pop_back();
    for (const auto& edge : edges_[at]) {
      if (!reachable_[edge.to]) {
        reachable_[edge.to] = 1;
        work.push_back(edge.to);
      }
    }
  }
  std::set<std::string> uncalled;
  for (NodeIndex i = 0; i < count; ++i) {
    if (reachable_[i]) continue;
    const std::string& subflow = read_.subflow_of_node[i];
    bool subflow_reached = false;
    for (NodeIndex j = 0; j < count; ++j) {
      if (reachable_[j] && read_.subflow_of_node[j] == subflow) subflow_reached = true;
    }
    if (!subflow.empty() && !subflow_reached) {
      if (uncalled.insert(subflow).second) {
        report_.error("F022", "/subflows/" + subflow, "sub-flow \"" + subflow + "\" is never called",
                      "call it from a \"call\" node, or remove it");
      }
      continue;
    }
    report_.error("F022", flow_.nodes[i].pointer,
                  "node \"" + flow_.nodes[i].id + "\" can never be reached from the start",
                  "point a \"next\" at it, or remove it");
  }

  // Which nodes can still get to an end? Walk the edges backwards from every end.
  std::vector<std::vector<NodeIndex>> incoming(count);
  for (NodeIndex i = 0; i < count; ++i) {
    for (const auto& edge : edges_[i]) incoming[edge.to].push_back(i);
  }
  std::vector<char> finishes(count, 0);
  std::vector<NodeIndex> work_back;
  bool any_end = false;
  for (NodeIndex i = 0; i < count; ++i) {
    if (std::holds_alternative<EndNode>(flow_.nodes[i].body)) {
      finishes[i] = 1;
      work_back.push_back(i);
      if (reachable_[i]) any_end = true;
    }
  }
  while (!work_back.empty()) {
    NodeIndex at = work_back.back();
    work_back.pop_back();
    for (NodeIndex from : incoming[at]) {
      if (!finishes[from]) {
        finishes[from] = 1;
        work_back.push_back(from);
      }
    }
  }
  if (!any_end) {
    report_.error("F024", "/start", "no \"end\" node can be reached from the start",
                  "add a node with \"type\": \"end\" and lead the conversation to it");
    return;
  }
  for (NodeIndex i = 0; i < count; ++i) {
    if (reachable_[i] && !finishes[i]) {
      report_.error("F023", flow_.nodes[i].pointer,
                    "from node \"" + flow_.nodes[i].id + "\" the conversation can never reach an end",
                    "give it a way forward to an \"end\" node");
    }
  }
}

void Analysis::check_recursion() {
  // Sub-flow call graph: a sub-flow that can call itself would grow the call stack forever.
  std::map<std::string, std::set<std::string>> calls;
  for (std::size_t i = 0; i < flow_.nodes.size(); ++i) {
    if (const auto* call = std::get_if<CallNode>(&flow_.nodes[i].body)) {
      calls[read_.subflow_of_node[i]].insert(call->subflow);
    }
  }
  for (const auto& name : read_.subflow_names) {
    std::set<std::string> seen;
    std::vector<std::string> work(calls[name].begin(), calls[name].end());
    while (!work.empty()) {
      auto next = work.back();
      work.pop_back();
      if (next == name) {
        report_.error("F052", "/subflows/" + name, "sub-flow \"" + name + "\" can end up calling itself",
                      "sub-flows cannot be recursive; use a question that loops back instead");
        break;
      }
      if (!seen.insert(next).second) continue;
      for (const auto& further : calls[next]) work.push_back(further);
    }
  }
}

void Analysis::check_loops_without_question() {
  // A cycle through message, set, branch, call and return nodes alone would never
  // stop to ask anything: the conversation would spin forever.
  const std::size_t count = flow_.nodes.size();
  enum : char { White, Grey, Black };
  std::vector<char> colour(count, White);
  auto waits = [&](NodeIndex i) {
    return std::holds_alternative<QuestionNode>(flow_.nodes[i].body) ||
           std::holds_alternative<EndNode>(flow_.nodes[i].body);
  };
  for (NodeIndex root = 0; root < count; ++root) {
    if (colour[root] != White || waits(root) || !reachable_[root]) continue;
    std::vector<std::pair<NodeIndex, std::size_t>> stack{{root, 0}};
    colour[root] = Grey;
    while (!stack.empty()) {
      auto& [at, next_edge] = stack.back();
      if (next_edge == edges_[at].size()) {
        colour[at] = Black;
        stack.pop_back();
        continue;
      }
      NodeIndex to = edges_[at][next_edge++].to;
      if (waits(to)) continue;
      if (colour[to] == Grey) {
        report_.error("F051", flow_.nodes[to].pointer,
                      "node \"" + flow_.nodes[to].id + "\" is on a loop that never asks a question",
                      "the conversation would go round forever; put a question on the loop or break it");
        return;
      }
      if (colour[to] == White) {
        colour[to] = Grey;
        stack.emplace_back(to, 0);
      }
    }
  }
}

std::optional<ValueType> Analysis::variable_type(std::string_view name) const {
  auto found = flow_.variable_types.find(std::string(name));
  if (found == flow_.variable_types.end()) return std::nullopt;
  return found->second;
}

void Analysis::infer_types() {
  std::map<std::string, std::string> first_written_at;
  auto record = [&](const VariableWrite& write, ValueType type) {
    auto [found, inserted] = flow_.variable_types.emplace(write.variable, type);
    if (inserted) {
      first_written_at[write.variable] = write.pointer;
    } else if (found->second != type) {
      std::string where = first_written_at.count(write.variable) ? " at " + first_written_at[write.variable]
                                                                   : " in \"variables\"";
      report_.error("F043", write.pointer,
                    "variable \"" + write.variable + "\" is given " + std::string(type_name(type)) +
                        " here but " + std::string(type_name(found->second)) + where,
                    "a variable keeps one type; use another name");
    }
  };
  for (const auto& name : read_.declared) first_written_at.erase(name);
  for (const auto& write : read_.writes) {
    if (write.type) record(write, *write.type);
  }
  // `set` assignments may depend on each other; settle their types in rounds.
  std::vector<const VariableWrite*> pending;
  for (const auto& write : read_.writes) {
    if (write.expression != nullptr) pending.push_back(&write);
  }
  for (int round = 0; round < 8 && !pending.empty(); ++round) {
    std::vector<const VariableWrite*> still;
    for (const VariableWrite* write : pending) {
      bool ready = std::all_of(write->expression->variables().begin(), write->expression->variables().end(),
                               [&](const std::string& name) { return variable_type(name).has_value(); });
      if (!ready) {
        still.push_back(write);
        continue;
      }
      auto type = check_types(*write->expression, [&](std::string_view name) { return variable_type(name); });
      if (type) record(*write, *type);  // errors are reported where the expression is used
    }
    if (still.size() == pending.size()) break;
    pending = std::move(still);
  }
  for (const auto& [name, type] : flow_.variable_types) {
    variable_index_.emplace(name, variables_.size());
    variables_.push_back(name);
  }
  for (const auto& write : read_.writes) {
    if (!variable_index_.count(write.variable)) {
      variable_index_.emplace(write.variable, variables_.size());
      variables_.push_back(write.variable);
    }
  }
}

std::vector<std::vector<char>> Analysis::must_sets(NodeIndex entry, const std::vector<char>& entry_set,
                                                   const std::vector<std::vector<Edge>>& edges) const {
  // A variable is set on entry to a node only if it is set on every path that
  // reaches it. Sets start at "everything" and only shrink, so sweeping until
  // nothing changes terminates.
  const std::size_t count = flow_.nodes.size();
  const std::size_t width = variables_.size();
  std::vector<char> reached(count, 0);
  std::vector<NodeIndex> work{entry};
  reached[entry] = 1;
  while (!work.empty()) {
    NodeIndex at = work.back();
    work.pop_back();
    for (const auto& edge : edges[at]) {
      if (!reached[edge.to]) {
        reached[edge.to] = 1;
        work.push_back(edge.to);
      }
    }
  }
  std::vector<std::vector<char>> in(count, std::vector<char>(width, 1));
  in[entry] = entry_set;
  bool changed = true;
  while (changed) {
    changed = false;
    for (NodeIndex at = 0; at < count; ++at) {
      if (!reached[at]) continue;
      for (const auto& edge : edges[at]) {
        std::vector<char> out = in[at];
        for (const auto& name : edge.defines) out[variable_index_.at(name)] = 1;
        for (std::size_t v = 0; v < width; ++v) {
          if (in[edge.to][v] && !out[v]) {
            in[edge.to][v] = 0;
            changed = true;
          }
        }
      }
    }
  }
  for (NodeIndex at = 0; at < count; ++at) {
    if (!reached[at]) in[at].assign(width, 1);  // not on any path from entry: nothing to say
  }
  return in;
}

void Analysis::check_definite_assignment() {
  const std::size_t count = flow_.nodes.size();
  const std::size_t width = variables_.size();
  // Calls are analysed in context: a call passes on to its `next` what its
  // sub-flow sets on every path to a `return` (sub-flows cannot recurse, F052).
  std::map<std::string, std::vector<std::string>> sets_by_subflow;
  std::vector<std::vector<Edge>> edges(count);
  std::function<void(const std::string&)> settle = [&](const std::string& subflow) {
    if (sets_by_subflow.count(subflow)) return;
    sets_by_subflow[subflow] = {};
    NodeIndex start = 0;
    bool found = false;
    for (NodeIndex i = 0; i < count; ++i) {
      if (const auto* call = std::get_if<CallNode>(&flow_.nodes[i].body); call && call->subflow == subflow) {
        start = call->start;
        found = true;
      }
    }
    if (!found) return;
    for (NodeIndex i = 0; i < count; ++i) {
      if (read_.subflow_of_node[i] != subflow) continue;
      if (const auto* call = std::get_if<CallNode>(&flow_.nodes[i].body)) settle(call->subflow);
    }
    std::vector<std::vector<Edge>> local(count);
    for (NodeIndex i = 0; i < count; ++i) local[i] = context_edges(i, sets_by_subflow);
    auto in = must_sets(start, std::vector<char>(width, 0), local);
    std::vector<char> at_return(width, 1);
    for (NodeIndex i = 0; i < count; ++i) {
      if (read_.subflow_of_node[i] == subflow && std::holds_alternative<ReturnNode>(flow_.nodes[i].body)) {
        for (std::size_t v = 0; v < width; ++v) at_return[v] = static_cast<char>(at_return[v] && in[i][v]);
      }
    }
    for (std::size_t v = 0; v < width; ++v) {
      if (at_return[v]) sets_by_subflow[subflow].push_back(variables_[v]);
    }
  };
  for (const auto& name : read_.subflow_names) settle(name);
  for (NodeIndex i = 0; i < count; ++i) edges[i] = context_edges(i, sets_by_subflow);

  std::vector<char> at_start(width, 0);
  for (const auto& name : read_.declared) {
    if (auto found = variable_index_.find(name); found != variable_index_.end()) at_start[found->second] = 1;
  }
  auto in = must_sets(flow_.start, at_start, edges);
  for (const auto& use : read_.uses) {
    if (!reachable_[use.node]) continue;
    check_use(use, in[use.node]);
  }
}

std::vector<Edge> Analysis::context_edges(
    NodeIndex node, const std::map<std::string, std::vector<std::string>>& sets_by_subflow) const {
  const auto& body = flow_.nodes[node].body;
  if (std::holds_alternative<ReturnNode>(body)) return {};
  if (const auto* call = std::get_if<CallNode>(&body)) {
    auto found = sets_by_subflow.find(call->subflow);
    std::vector<std::string> sets = found == sets_by_subflow.end() ? std::vector<std::string>{} : found->second;
    return {Edge{call->start, {}}, Edge{call->next, std::move(sets)}};
  }
  return edges_[node];
}

void Analysis::check_use(const VariableUse& use, const std::vector<char>& defined) {
  bool all_known = true;
  for (const auto& name : use.variables) {
    bool extra = std::find(use.also_defined.begin(), use.also_defined.end(), name) != use.also_defined.end();
    if (name == "answer" && use.answer_type) continue;
    auto found = variable_index_.find(name);
    if (found == variable_index_.end()) {
      all_known = false;
      auto candidates = variables_;
      if (use.answer_type) candidates.push_back("answer");
      std::string hint = did_you_mean(name, candidates);
      report_.error("F041", use.pointer, "unknown variable \"" + name + "\"",
                    hint.empty() ? "no question stores it and no \"set\" or \"variables\" gives it a value" : hint);
      continue;
    }
    if (!defined[found->second] && !extra) {
      report_.error("F042", use.pointer,
                    "variable \"" + name + "\" may not be set yet when the conversation gets here",
                    "make sure every path to this node sets it, or give it a first value under \"variables\"");
    }
  }
  if (!all_known) return;
  auto types = [&](std::string_view name) -> std::optional<ValueType> {
    if (name == "answer" && use.answer_type) return use.answer_type;
    return variable_type(name);
  };
  auto check_expression = [&](const Expression& expression) {
    auto type = check_types(expression, types);
    if (!type) {
      report_.error("F043", use.pointer, "in \"" + expression.text() + "\": " + type.error().message,
                    type.error().hint);
      return;
    }
    if (use.want == VariableUse::Want::Boolean && *type != ValueType::Boolean) {
      report_.error("F043", use.pointer,
                    "the condition \"" + expression.text() + "\" is " + std::string(type_name(*type)) +
                        ", not true or false",
                    "compare it, for example \"" + expression.text() + " >= 5\"");
    }
  };
  if (use.expression != nullptr) check_expression(*use.expression);
  if (use.text != nullptr) {
    for (const auto& piece : use.text->pieces()) {
      if (const auto* expression = std::get_if<Expression>(&piece)) check_expression(*expression);
    }
  }
}

}  // namespace

void analyse_flow(ReadFlow& read, Reporter& reporter) { Analysis(read, reporter).run(); }

}  // namespace trellis::engine::detail
