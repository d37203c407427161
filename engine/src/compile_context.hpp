#pragma once
// Shared between the flow reader (compile.cpp) and the checks that run on what it
// read (flow_analysis.cpp). Internal to the engine.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "trellis/engine/diagnostic.hpp"
#include "trellis/engine/flow.hpp"
#include "trellis/engine/source_map.hpp"

namespace trellis::engine::detail {

class Reporter {
 public:
  Reporter(std::string file, const SourceMap* map) : file_(std::move(file)), map_(map) {}

  void error(std::string code, std::string pointer, std::string message, std::string hint = {});
  void warning(std::string code, std::string pointer, std::string message, std::string hint = {});

  std::vector<Diagnostic>& diagnostics() { return diagnostics_; }
  const std::string& file() const { return file_; }

 private:
  void add(Severity severity, std::string code, std::string pointer, std::string message,
           std::string hint);
  std::string file_;
  const SourceMap* map_;
  std::vector<Diagnostic> diagnostics_;
};

// Where an expression or template reads variables, for the definite-assignment
// and type checks that can only run once the whole flow is read.
struct VariableUse {
  NodeIndex node = 0;
  std::string pointer;
  std::vector<std::string> variables;
  std::vector<std::string> also_defined;  // set earlier in the same `set` node, or `answer`
  const Expression* expression = nullptr; // null for template holes (checked separately)
  const Template* text = nullptr;
  enum class Want { Any, Boolean } want = Want::Any;
  std::optional<ValueType> answer_type;   // inside `check`: the type of `answer`
};

// Variables a node writes, and where, for type inference.
struct VariableWrite {
  NodeIndex node = 0;
  std::string pointer;
  std::string variable;
  std::optional<ValueType> type;          // known from the question kind
  const Expression* expression = nullptr; // a `set` assignment
};

struct ReadFlow {
  Flow flow;
  std::vector<VariableUse> uses;
  std::vector<VariableWrite> writes;
  std::vector<std::string> declared;  // top-level `variables`
  std::vector<std::string> subflow_of_node;  // "" for the main flow
  std::vector<std::string> subflow_names;
};

// Graph and variable checks on a fully read flow; adds diagnostics to `reporter`.
void analyse_flow(ReadFlow& read, Reporter& reporter);

}  // namespace trellis::engine::detail
