#include "graph.hpp"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <unistd.h>

#include <gtest/gtest.h>

#include "test_flows.hpp"

namespace trellis::cli {
namespace {

class Graph : public testing::Test {
 protected:
  void SetUp() override {
    flow_ = testing_flows::compile_or_fail(testing_flows::kShapes, "shapes/flow.json");
    ASSERT_NE(flow_, nullptr);
  }
  std::string n(std::string_view id) const {
    auto index = flow_->find(id);
    EXPECT_TRUE(index) << id;
    return "n" + std::to_string(index.value_or(0));
  }
  static bool has(const std::string& text, const std::string& line) {
    return text.find(line + "\n") != std::string::npos;
  }

  std::shared_ptr<const engine::Flow> flow_;
};

TEST_F(Graph, MermaidHasEveryNodeAndLabelledEdge) {
  auto text = render_mermaid(*flow_);
  EXPECT_EQ(text.rfind("flowchart TD\n", 0), 0u) << text;
  std::vector<std::string> lines{
      "  start((start)) --> " + n("pick"),
      "  " + n("pick") + "(\"pick<br/>question: choice\")",
      "  " + n("route") + "{\"route<br/>branch\"}",
      "  " + n("done") + "([\"done<br/>end\"])",
      "  " + n("breathe") + "[\"breathe<br/>call calm\"]",
      "    " + n("calm/inhale") + "[\"calm/inhale<br/>message\"]",
      "    " + n("calm/back") + "[\"calm/back<br/>return\"]",
      "  " + n("pick") + " -->|\"Say #quot;hi#quot; #lt;now#gt;\"| " + n("agree"),
      "  " + n("pick") + " -->|\"next\"| " + n("agree"),
      "  " + n("agree") + " -->|\"yes\"| " + n("rate"),
      "  " + n("agree") + " -->|\"no\"| " + n("breathe"),
      "  " + n("agree") + " -->|\"fallback\"| " + n("breathe"),
      "  " + n("rate") + " -->|\"skip\"| " + n("breathe"),
      "  " + n("route") + " -->|\"if score #gt; 5\"| " + n("breathe"),
      "  " + n("route") + " -->|\"else\"| " + n("talk"),
      "  " + n("talk") + " -->|\"intent unsure\"| " + n("breathe"),
      "  " + n("breathe") + " -->|\"call\"| " + n("calm/inhale"),
      "  " + n("breathe") + " -->|\"return\"| " + n("done"),
      "  end",
  };
  for (const auto& line : lines) EXPECT_TRUE(has(text, line)) << "missing: " << line << "\nin:\n" << text;
  EXPECT_NE(text.find("  subgraph sub_"), std::string::npos);
  EXPECT_NE(text.find(" [\"calm\"]\n"), std::string::npos);
}

TEST_F(Graph, DotHasClustersAndEscapedLabels) {
  auto text = render_dot(*flow_);
  EXPECT_EQ(text.rfind("digraph \"shapes\" {\n", 0), 0u) << text;
  std::vector<std::string> lines{
      "  \"start\" -> \"" + n("pick") + "\";",
      "  \"" + n("pick") + "\" [label=\"pick\\nquestion: choice\", shape=box, style=rounded];",
      "  \"" + n("route") + "\" [label=\"route\\nbranch\", shape=diamond];",
      "  subgraph \"cluster_calm\" {",
      "    label=\"calm\";",
      "    \"" + n("calm/back") + "\" [label=\"calm/back\\nreturn\", shape=box];",
      "  \"" + n("pick") + "\" -> \"" + n("agree") + "\" [label=\"Say \\\"hi\\\" <now>\"];",
      "  \"" + n("route") + "\" -> \"" + n("breathe") + "\" [label=\"if score > 5\"];",
      "  \"" + n("breathe") + "\" -> \"" + n("calm/inhale") + "\" [label=\"call\"];",
  };
  for (const auto& line : lines) EXPECT_TRUE(has(text, line)) << "missing: " << line << "\nin:\n" << text;
  EXPECT_EQ(text.substr(text.size() - 2), "}\n");
}

// Graphviz itself is the judge of valid dot, when it is installed.
TEST_F(Graph, DotIsAcceptedByGraphviz) {
  if (std::system("command -v dot >/dev/null 2>&1") != 0) GTEST_SKIP() << "Graphviz is not installed";
  auto file = std::filesystem::temp_directory_path() / ("trellis_graph_" + std::to_string(::getpid()) + ".dot");
  std::ofstream(file) << render_dot(*flow_);
  int status = std::system(("dot -Tsvg -o /dev/null " + file.string()).c_str());
  std::filesystem::remove(file);
  EXPECT_EQ(status, 0);
}

TEST(NodeKind, NamesTheInputOfQuestions) {
  engine::Node node;
  node.body = engine::QuestionNode{.input = engine::InputKind::Scale};
  EXPECT_EQ(node_kind(node), "question: scale");
  node.body = engine::SetNode{};
  EXPECT_EQ(node_kind(node), "set");
}

}  // namespace
}  // namespace trellis::cli
