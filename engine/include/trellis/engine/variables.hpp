#pragma once
// A session's variables: what the person answered and what `set` computed.
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "trellis/engine/value.hpp"

namespace trellis::engine {

// How a compiled Flow numbers its variables (one namespace for the flow and its
// sub-flows). compile_flow builds it; Flows and sessions share it read-only.
struct VariableTable {
  std::vector<std::string> names;  // slot -> name
  SlotTable slot_of;               // name -> slot
  VariableSlot answer = kNoSlot;   // `answer`, which only a question's `check` reads
};

// While a flow runs, its variables sit in the slots of that flow's VariableTable,
// so a step reads, writes and copies them without hashing a name. They are saved,
// loaded and compared by name, so a saved session does not depend on how a flow
// numbered them: a state loaded from JSON holds names until step() binds it to a
// flow, and names that flow does not have are kept, by name, as they were.
class Variables {
 public:
  Variables() = default;

  // By name.
  const Value* find(std::string_view name) const;  // nullptr when not set
  const Value& at(std::string_view name) const;    // throws std::out_of_range when not set
  std::size_t count(std::string_view name) const { return find(name) != nullptr ? 1 : 0; }
  std::size_t size() const;
  void set(std::string_view name, Value value);
  // Calls visit(name, value) for every variable set, in no particular order.
  template <typename Visit>
  void for_each(Visit&& visit) const {
    for (std::size_t slot = 0; slot < slots_.size(); ++slot) {
      if (slots_[slot]) visit(table_->names[slot], *slots_[slot]);
    }
    for (const auto& [name, value] : unbound_) visit(name, value);
  }

  // By slot, for step(). Binding to the table the variables already use is free.
  void bind(const std::shared_ptr<const VariableTable>& table);
  SlotScope slots() const { return slots_; }
  void set(VariableSlot slot, Value value) { slots_[slot] = std::move(value); }
  void clear(VariableSlot slot) { slots_[slot].reset(); }

  friend bool operator==(const Variables& left, const Variables& right);

 private:
  Scope by_name() const;

  std::shared_ptr<const VariableTable> table_;  // null until bound
  std::vector<std::optional<Value>> slots_;     // one per table_->names
  Scope unbound_;                               // not bound yet, or not in table_
};

}  // namespace trellis::engine
