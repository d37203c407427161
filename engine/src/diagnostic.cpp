#include "trellis/engine/diagnostic.hpp"

#include <algorithm>

namespace trellis::engine {

std::string format(const Diagnostic& diagnostic) {
  std::string text = diagnostic.file;
  if (diagnostic.line > 0) {
    text += ':' + std::to_string(diagnostic.line);
    if (diagnostic.column > 0) text += ':' + std::to_string(diagnostic.column);
  }
  if (!text.empty()) text += ": ";
  text += diagnostic.severity == Severity::Error ? "error" : "warning";
  if (!diagnostic.code.empty()) text += ' ' + diagnostic.code;
  if (!diagnostic.pointer.empty()) text += " at " + diagnostic.pointer;
  text += ": " + diagnostic.message;
  if (!diagnostic.hint.empty()) text += " (" + diagnostic.hint + ')';
  return text;
}

bool has_errors(const std::vector<Diagnostic>& diagnostics) {
  return std::any_of(diagnostics.begin(), diagnostics.end(),
                     [](const Diagnostic& d) { return d.severity == Severity::Error; });
}

Diagnostic file_error(std::string_view file, std::string code, std::string message, std::string hint, int line,
                      int column) {
  Diagnostic diagnostic;
  diagnostic.code = std::move(code);
  diagnostic.file = std::string(file);
  diagnostic.line = line;
  diagnostic.column = column;
  diagnostic.message = std::move(message);
  diagnostic.hint = std::move(hint);
  return diagnostic;
}

}  // namespace trellis::engine
