#pragma once
// Small flows the terminal tests share, written as an author would.
#include <memory>
#include <string_view>

#include <gtest/gtest.h>

#include "trellis/engine/compile.hpp"
#include "trellis/engine/diagnostic.hpp"

namespace trellis::cli::testing_flows {

// A greeting with a pause, a choice, a scale and an end with a summary.
inline constexpr std::string_view kCup = R"({
  "trellis": 1, "id": "cup", "version": 1, "title": "Cup",
  "description": "How full is your cup?", "minutes": 1,
  "credits": [{"author": "Trellis", "work": "Tests"}],
  "start": "hello",
  "nodes": {
    "hello": {"type": "message", "say": ["Hello.", {"pause": 1500}, "Let's begin."], "next": "ready"},
    "ready": {"type": "question", "ask": "Ready?", "input": "choice",
              "choices": [{"id": "go", "label": "Yes, go"}, {"id": "later", "label": "Not now", "next": "bye"}],
              "next": "rate"},
    "rate": {"type": "question", "ask": "How full is your cup?", "input": "scale", "store": "cup",
             "next": "done"},
    "done": {"type": "end", "say": "You said {{ cup }}.", "summary": {"cup": "cup"}},
    "bye": {"type": "end", "say": "Another time."}
  }
})";

// Every kind of node and edge a graph draws, with labels that need escaping.
inline constexpr std::string_view kShapes = R"({
  "trellis": 1, "id": "shapes", "version": 1, "title": "Shapes",
  "description": "Every kind of arrow.", "minutes": 1,
  "credits": [{"author": "Trellis", "work": "Tests"}],
  "start": "pick",
  "nodes": {
    "pick": {"type": "question", "ask": "Pick one", "input": "choice", "store": "picked",
             "choices": [{"id": "quote", "label": "Say \"hi\" <now>", "next": "agree"},
                         {"id": "plain", "label": "Plain"}],
             "next": "agree"},
    "agree": {"type": "question", "ask": "Agree?", "input": "yesno", "store": "agreed",
              "yes": "rate", "no": "breathe", "retry": {"limit": 1, "fallback": "breathe"}},
    "rate": {"type": "question", "ask": "Rate it", "input": "scale", "store": "score", "next": "route",
             "skip": "breathe"},
    "route": {"type": "branch", "branches": [{"if": "score > 5", "next": "breathe"}], "else": "talk"},
    "talk": {"type": "question", "ask": "Tell me", "input": "text",
             "intents": [{"id": "unsure", "patterns": [{"match": "not sure", "examples": ["I'm not sure"]}],
                          "next": "breathe"}],
             "next": "breathe"},
    "breathe": {"type": "call", "subflow": "calm", "next": "done"},
    "done": {"type": "end"}
  },
  "subflows": {
    "calm": {"start": "inhale", "nodes": {
      "inhale": {"type": "message", "say": "Breathe in.", "next": "back"},
      "back": {"type": "return"}
    }}
  }
})";

inline std::shared_ptr<const engine::Flow> compile_or_fail(std::string_view text, std::string_view file) {
  std::vector<engine::Diagnostic> warnings;
  auto flow = engine::compile_flow(text, file, &warnings);
  if (!flow) {
    for (const auto& diagnostic : flow.error()) ADD_FAILURE() << engine::format(diagnostic);
    return nullptr;
  }
  return *flow;
}

}  // namespace trellis::cli::testing_flows
