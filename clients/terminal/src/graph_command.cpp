#include "graph_command.hpp"

#include <iostream>

#include "flow_lookup.hpp"
#include "graph.hpp"

namespace trellis::cli {

CLI::App* add_graph_command(CLI::App& app, GraphCommand& command) {
  auto* graph = app.add_subcommand("graph", "Draw a flow as a diagram (Mermaid or Graphviz dot)");
  graph->add_option("FLOW", command.flow, "A flow id found under the dialogs folder, or the path of a flow file")
      ->type_name("ID|FILE")
      ->required();
  graph->add_option("--format", command.format, "mermaid (for Markdown) or dot (for Graphviz)")
      ->type_name("FORMAT")
      ->check(CLI::IsMember({"mermaid", "dot"}))
      ->capture_default_str();
  graph->add_option("--dialogs", command.dialogs,
                    "Where flow ids are looked up (default: $TRELLIS_DIALOGS, else ./dialogs)")
      ->type_name("DIR");
  graph->footer(R"(Boxes are nodes (id and kind); arrows say why the conversation moves on: next,
else, if <condition>, a choice's label, yes, no, fallback, skip, intent <id>,
call (into a sub-flow) and return (back from it). Sub-flows are drawn as groups.

Examples:
  trellis graph braving                        Mermaid text; paste into a ```mermaid block
  trellis graph braving --format dot | dot -Tsvg -o braving.svg)");
  return graph;
}

int run_graph_command(const GraphCommand& command) {
  auto flow = find_flow(command.flow, dialogs_folder(command.dialogs));
  if (!flow) {
    std::cerr << format_all(flow.error());
    return 1;
  }
  std::cout << render_graph(**flow, command.format == "dot" ? GraphFormat::Dot : GraphFormat::Mermaid);
  return 0;
}

}  // namespace trellis::cli
