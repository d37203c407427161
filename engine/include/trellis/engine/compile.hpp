#pragma once
// Turns a flow file's text into a Flow, or into every problem found in it.
#include <memory>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

#include "trellis/engine/diagnostic.hpp"
#include "trellis/engine/flow.hpp"

namespace trellis::engine {

// Limits against hostile or mistaken files.
inline constexpr std::size_t kMaxFlowFileBytes = 1 << 20;
inline constexpr int kMaxJsonDepth = 32;
inline constexpr std::size_t kMaxNodes = 2000;
inline constexpr std::size_t kMaxPatternBytes = 1000;
inline constexpr int kMaxPauseMs = 60000;

using CompileResult = tl::expected<std::shared_ptr<const Flow>, std::vector<Diagnostic>>;

// `text` is the file's contents (JSON with comments); `file` names it in diagnostics.
// On success there may still be warnings; they are returned through `warnings`.
CompileResult compile_flow(std::string_view text, std::string_view file,
                           std::vector<Diagnostic>* warnings = nullptr);

}  // namespace trellis::engine
