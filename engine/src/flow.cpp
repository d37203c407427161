#include "trellis/engine/flow.hpp"

namespace trellis::engine {

std::string_view to_string(InputKind kind) {
  switch (kind) {
    case InputKind::Choice: return "choice";
    case InputKind::YesNo: return "yesno";
    case InputKind::Text: return "text";
    case InputKind::Number: return "number";
    case InputKind::Scale: return "scale";
  }
  return "text";
}

std::optional<NodeIndex> Flow::find(std::string_view id) const {
  auto found = index_by_id.find(id);
  if (found == index_by_id.end()) return std::nullopt;
  return found->second;
}

}  // namespace trellis::engine
