#pragma once
// Draws a compiled flow as a diagram: one box per node (its id and kind), one
// arrow per way the conversation can move on, labelled with why it moves
// (next, else, if <condition>, a choice's label, yes, no, fallback, skip,
// intent <id>, call, return). Sub-flows are drawn as groups.
#include <string>
#include <string_view>

#include "trellis/engine/flow.hpp"

namespace trellis::cli {

enum class GraphFormat { Mermaid, Dot };

// Mermaid `flowchart TD` text, for Markdown pages and mermaid.live.
std::string render_mermaid(const engine::Flow& flow);
// Graphviz text: `trellis graph braving --format dot | dot -Tsvg > braving.svg`.
std::string render_dot(const engine::Flow& flow);

std::string render_graph(const engine::Flow& flow, GraphFormat format);

// "question: scale", "branch", "end", ... (how a node is labelled in a graph).
std::string node_kind(const engine::Node& node);

// The author's text of a template, holes written back as {{ expression }}.
std::string template_source(const engine::Template& text);

}  // namespace trellis::cli
