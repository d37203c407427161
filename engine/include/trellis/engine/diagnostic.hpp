#pragma once
// An author's mistake, located and explained for a counselor.
#include <string>
#include <string_view>
#include <vector>

namespace trellis::engine {

enum class Severity { Error, Warning };

struct Diagnostic {
  std::string code;       // "F021": each code is explained in docs/authoring.md
  Severity severity = Severity::Error;
  std::string file;       // dialogs/braving/flow.json
  std::string pointer;    // /nodes/reflect/next (JSON Pointer)
  int line = 0;           // 1-based; 0 when unknown
  int column = 0;
  std::string message;    // unknown node 'reflct'
  std::string hint;       // did you mean 'reflect'?
};

// "dialogs/braving/flow.json:12:5: error F021 at /nodes/x/next: unknown node 'reflct' (did you mean 'reflect'?)"
std::string format(const Diagnostic& diagnostic);

bool has_errors(const std::vector<Diagnostic>& diagnostics);

// An error about a whole file (too large, not JSON), at a position when one is known.
Diagnostic file_error(std::string_view file, std::string code, std::string message, std::string hint, int line = 0,
                      int column = 0);

}  // namespace trellis::engine
