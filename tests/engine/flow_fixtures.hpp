#pragma once
// Small flows shared by the engine tests.
#include <string>

namespace trellis::engine::testing {

// Metadata every test flow needs; `body` supplies start, nodes and the rest.
inline std::string flow_with(const std::string& body) {
  return R"({
  "trellis": 1, "id": "test", "version": 1, "title": "Test", "description": "A test flow.",
  "minutes": 1, "credits": [{"author": "Tester", "work": "Tests"}],
)" + body + "\n}";
}

// A three-question flow touching most node kinds.
inline const char* const kCheckIn = R"({
  "trellis": 1, "id": "checkin", "version": 2, "title": "Check-in", "description": "A short check-in.",
  "minutes": 2, "tags": ["test"], "credits": [{"author": "Tester", "work": "Tests"}],
  "help": "Answer as you like.",
  "variables": {"note": ""},
  "start": "hello",
  "nodes": {
    "hello": {"type": "message", "say": ["Hi there.", {"pause": 1000}, "Let's begin."], "next": "ready"},
    "ready": {"type": "question", "input": "yesno", "ask": "Ready?", "yes": "mood", "no": "later",
              "patterns": {"yes": [{"match": "^let'?s do (it|this)$", "examples": ["let's do this"]}]}},
    "later": {"type": "end", "say": "Come back any time."},
    "mood": {"type": "question", "input": "scale", "ask": "How are you, 1 to 10?", "store": "mood",
             "next": "pick", "retry": {"limit": 2, "say": "A number from 1 to 10, please.", "fallback": "later"}},
    "pick": {"type": "question", "input": "choice", "ask": "What next?", "store": "pick", "skip": "wrap",
             "choices": [
               {"id": "walk", "label": "A walk", "next": "note"},
               {"id": "rest", "label": "Rest", "patterns": [{"match": "\\b(sleep|nap)\\b", "examples": ["a nap"], "not": ["snap"]}]}
             ],
             "next": "wrap"},
    "note": {"type": "question", "input": "text", "ask": "Where will you walk?", "store": "note", "next": "wrap",
             "intents": [{"id": "unsure", "patterns": [{"match": "^(i don't know|not sure)$", "examples": ["not sure"]}], "next": "wrap"}]},
    "wrap": {"type": "set", "set": {"doubled": "mood * 2", "good": "mood >= 7"}, "next": "decide"},
    "decide": {"type": "branch", "branches": [{"if": "good", "next": "glad"}], "else": "done"},
    "glad": {"type": "message", "say": "Glad you're doing well.", "next": "done"},
    "done": {"type": "end", "say": "You said {{mood}}; doubled that's {{doubled}}.",
             "summary": {"mood": "mood", "good": "good", "note": "note"}}
  }
})";

}  // namespace trellis::engine::testing
