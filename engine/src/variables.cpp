#include "trellis/engine/variables.hpp"

#include <stdexcept>

namespace trellis::engine {

const Value* Variables::find(std::string_view name) const {
  if (table_) {
    if (auto slot = table_->slot_of.find(name); slot != table_->slot_of.end()) {
      const auto& value = slots_[slot->second];
      return value ? &*value : nullptr;
    }
  }
  auto found = unbound_.find(name);
  return found == unbound_.end() ? nullptr : &found->second;
}

const Value& Variables::at(std::string_view name) const {
  const Value* value = find(name);
  if (value == nullptr) throw std::out_of_range("no variable '" + std::string(name) + "'");
  return *value;
}

std::size_t Variables::size() const {
  std::size_t size = unbound_.size();
  for (const auto& value : slots_) size += value ? 1 : 0;
  return size;
}

void Variables::set(std::string_view name, Value value) {
  if (table_) {
    if (auto slot = table_->slot_of.find(name); slot != table_->slot_of.end()) {
      slots_[slot->second] = std::move(value);
      return;
    }
  }
  unbound_.insert_or_assign(std::string(name), std::move(value));
}

void Variables::bind(const std::shared_ptr<const VariableTable>& table) {
  if (table == table_ || !table) return;
  // Another flow (or version) numbered them differently: move everything back to
  // names, then into the new slots.
  Scope all = by_name();
  table_ = table;
  slots_.assign(table_->names.size(), std::nullopt);
  unbound_.clear();
  for (auto& [name, value] : all) set(name, std::move(value));
}

Scope Variables::by_name() const {
  Scope all;
  for_each([&](const std::string& name, const Value& value) { all.emplace(name, value); });
  return all;
}

bool operator==(const Variables& left, const Variables& right) {
  if (left.table_ == right.table_) return left.slots_ == right.slots_ && left.unbound_ == right.unbound_;
  return left.by_name() == right.by_name();
}

}  // namespace trellis::engine
