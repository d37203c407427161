#include "trellis/engine/diagnostic.hpp"

#include <gtest/gtest.h>

namespace trellis::engine {
namespace {

Diagnostic full() {
  return Diagnostic{"F021", Severity::Error, "dialogs/braving/flow.json", "/nodes/x/next", 12, 5,
                    "unknown node 'reflct'", "did you mean 'reflect'?"};
}

TEST(DiagnosticTest, Format) {
  struct Row {
    Diagnostic diagnostic;
    std::string text;
  };
  std::vector<Row> rows;
  rows.push_back({full(),
                  "dialogs/braving/flow.json:12:5: error F021 at /nodes/x/next: unknown node 'reflct' "
                  "(did you mean 'reflect'?)"});
  {
    Diagnostic d = full();
    d.line = 0;
    d.column = 0;
    rows.push_back({d, "dialogs/braving/flow.json: error F021 at /nodes/x/next: unknown node 'reflct' "
                       "(did you mean 'reflect'?)"});
  }
  {
    Diagnostic d = full();
    d.severity = Severity::Warning;
    d.pointer.clear();
    d.hint.clear();
    rows.push_back({d, "dialogs/braving/flow.json:12:5: warning F021: unknown node 'reflct'"});
  }
  for (const auto& row : rows) EXPECT_EQ(format(row.diagnostic), row.text);
}

TEST(DiagnosticTest, HasErrors) {
  Diagnostic warning = full();
  warning.severity = Severity::Warning;
  EXPECT_FALSE(has_errors({}));
  EXPECT_FALSE(has_errors({warning}));
  EXPECT_TRUE(has_errors({warning, full()}));
}

}  // namespace
}  // namespace trellis::engine
