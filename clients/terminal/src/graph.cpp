#include "graph.hpp"

#include <map>
#include <sstream>
#include <vector>

namespace trellis::cli {

namespace {

using engine::NodeIndex;

struct Edge {
  NodeIndex from = 0;
  NodeIndex to = 0;
  std::string label;
};

struct EdgeCollector {
  NodeIndex from;
  std::vector<Edge>& edges;

  void add(NodeIndex to, std::string label) const { edges.push_back({from, to, std::move(label)}); }

  void operator()(const engine::MessageNode& node) const { add(node.next, "next"); }
  void operator()(const engine::QuestionNode& node) const {
    for (const auto& choice : node.choices) {
      if (!choice.next) continue;
      bool is_yes_no = node.input == engine::InputKind::YesNo;
      add(*choice.next, is_yes_no ? choice.id : template_source(choice.label));
    }
    for (const auto& intent : node.intents) add(intent.next, "intent " + intent.id);
    if (node.next) add(*node.next, "next");
    if (node.skippable) {
      if (auto to = node.skip_to ? node.skip_to : node.next) add(*to, "skip");
    }
    if (node.fallback) add(*node.fallback, "fallback");
  }
  void operator()(const engine::SetNode& node) const { add(node.next, "next"); }
  void operator()(const engine::BranchNode& node) const {
    for (const auto& arm : node.arms) add(arm.next, "if " + arm.condition.text());
    add(node.otherwise, "else");
  }
  void operator()(const engine::CallNode& node) const {
    add(node.start, "call");
    add(node.next, "return");
  }
  void operator()(const engine::ReturnNode&) const {}
  void operator()(const engine::EndNode&) const {}
};

std::vector<Edge> edges_of(const engine::Flow& flow) {
  std::vector<Edge> edges;
  for (NodeIndex index = 0; index < flow.nodes.size(); ++index) {
    std::visit(EdgeCollector{index, edges}, flow.node(index).body);
  }
  return edges;
}

// Nodes of the main flow under "", sub-flow nodes ("breathe/inhale") under their sub-flow.
std::map<std::string, std::vector<NodeIndex>> nodes_by_group(const engine::Flow& flow) {
  std::map<std::string, std::vector<NodeIndex>> groups;
  for (NodeIndex index = 0; index < flow.nodes.size(); ++index) {
    const auto& id = flow.node(index).id;
    auto slash = id.find('/');
    groups[slash == std::string::npos ? std::string{} : id.substr(0, slash)].push_back(index);
  }
  return groups;
}

// Mermaid reads labels as HTML inside quotes; entity codes keep quotes, angle
// brackets and '#' from ending the label or turning into markup.
std::string mermaid_text(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '"': out += "#quot;"; break;
      case '<': out += "#lt;"; break;
      case '>': out += "#gt;"; break;
      case '#': out += "#35;"; break;
      case '&': out += "#amp;"; break;
      case '|': out += "#124;"; break;
      case '\n': out += ' '; break;
      case '\r': break;
      default: out += c;
    }
  }
  return out;
}

std::string dot_text(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': break;
      default: out += c;
    }
  }
  return out;
}

std::string node_name(NodeIndex index) { return std::string("n").append(std::to_string(index)); }

// Shapes tell kinds apart at a glance: questions are rounded, branches diamonds,
// ends stadiums, everything else a plain box.
std::string mermaid_node(const engine::Flow& flow, NodeIndex index) {
  const auto& node = flow.node(index);
  std::string label = std::string("\"").append(mermaid_text(node.id)).append("<br/>");
  label.append(mermaid_text(node_kind(node))).append("\"");
  std::string name = node_name(index);
  if (std::holds_alternative<engine::QuestionNode>(node.body)) return name + "(" + label + ")";
  if (std::holds_alternative<engine::BranchNode>(node.body)) return name + "{" + label + "}";
  if (std::holds_alternative<engine::EndNode>(node.body)) return name + "([" + label + "])";
  return name + "[" + label + "]";
}

std::string dot_node(const engine::Flow& flow, NodeIndex index) {
  const auto& node = flow.node(index);
  std::string shape = "box";
  if (std::holds_alternative<engine::QuestionNode>(node.body)) shape = "box, style=rounded";
  if (std::holds_alternative<engine::BranchNode>(node.body)) shape = "diamond";
  if (std::holds_alternative<engine::EndNode>(node.body)) shape = "doubleoctagon";
  std::string line = std::string("\"").append(node_name(index)).append("\" [label=\"").append(dot_text(node.id));
  return line.append("\\n").append(dot_text(node_kind(node))).append("\", shape=").append(shape).append("];");
}

}  // namespace

std::string template_source(const engine::Template& text) {
  std::string out;
  for (const auto& piece : text.pieces()) {
    if (const auto* literal = std::get_if<std::string>(&piece)) {
      out += *literal;
    } else {
      out += "{{ " + std::get<engine::Expression>(piece).text() + " }}";
    }
  }
  return out;
}

std::string node_kind(const engine::Node& node) {
  struct Kind {
    std::string operator()(const engine::MessageNode&) const { return "message"; }
    std::string operator()(const engine::QuestionNode& question) const {
      return "question: " + std::string(engine::to_string(question.input));
    }
    std::string operator()(const engine::SetNode&) const { return "set"; }
    std::string operator()(const engine::BranchNode&) const { return "branch"; }
    std::string operator()(const engine::CallNode& call) const { return "call " + call.subflow; }
    std::string operator()(const engine::ReturnNode&) const { return "return"; }
    std::string operator()(const engine::EndNode&) const { return "end"; }
  };
  return std::visit(Kind{}, node.body);
}

std::string render_mermaid(const engine::Flow& flow) {
  std::ostringstream out;
  out << "flowchart TD\n";
  out << "  start((start)) --> " << node_name(flow.start) << "\n";
  for (const auto& [group, members] : nodes_by_group(flow)) {
    std::string indent = "  ";
    if (!group.empty()) {
      out << "  subgraph sub_" << members.front() << " [\"" << mermaid_text(group) << "\"]\n";
      indent = "    ";
    }
    for (auto index : members) out << indent << mermaid_node(flow, index) << "\n";
    if (!group.empty()) out << "  end\n";
  }
  for (const auto& edge : edges_of(flow)) {
    out << "  " << node_name(edge.from) << " -->|\"" << mermaid_text(edge.label) << "\"| " << node_name(edge.to)
        << "\n";
  }
  return out.str();
}

std::string render_dot(const engine::Flow& flow) {
  std::ostringstream out;
  out << "digraph \"" << dot_text(flow.info.id) << "\" {\n";
  out << "  rankdir=TB;\n";
  out << "  node [fontname=\"Helvetica\"];\n";
  out << "  edge [fontname=\"Helvetica\", fontsize=10];\n";
  out << "  \"start\" [shape=circle, label=\"start\"];\n";
  for (const auto& [group, members] : nodes_by_group(flow)) {
    std::string indent = "  ";
    if (!group.empty()) {
      out << "  subgraph \"cluster_" << dot_text(group) << "\" {\n";
      out << "    label=\"" << dot_text(group) << "\";\n";
      indent = "    ";
    }
    for (auto index : members) out << indent << dot_node(flow, index) << "\n";
    if (!group.empty()) out << "  }\n";
  }
  out << "  \"start\" -> \"" << node_name(flow.start) << "\";\n";
  for (const auto& edge : edges_of(flow)) {
    out << "  \"" << node_name(edge.from) << "\" -> \"" << node_name(edge.to) << "\" [label=\""
        << dot_text(edge.label) << "\"];\n";
  }
  out << "}\n";
  return out.str();
}

std::string render_graph(const engine::Flow& flow, GraphFormat format) {
  return format == GraphFormat::Dot ? render_dot(flow) : render_mermaid(flow);
}

}  // namespace trellis::cli
