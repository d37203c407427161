#pragma once
// The variables a session has set, by name: a small map kept as one sorted array.
// A session holds a dozen or two variables and every step copies them, so one
// allocation for the copy (names fit the short-string buffer) and a binary search
// of neighbouring entries beat a node-based map on both counts.
#include <algorithm>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace trellis::engine {

template <typename Value>
class FlatScope {
 public:
  using value_type = std::pair<std::string, Value>;
  using const_iterator = typename std::vector<value_type>::const_iterator;
  using iterator = typename std::vector<value_type>::iterator;

  FlatScope() = default;
  FlatScope(std::initializer_list<value_type> entries) {
    for (const auto& [name, value] : entries) insert_or_assign(name, value);
  }

  const_iterator begin() const { return entries_.begin(); }
  const_iterator end() const { return entries_.end(); }
  std::size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }

  const_iterator find(std::string_view name) const {
    auto at = lower_bound(name);
    return at != entries_.end() && at->first == name ? at : entries_.end();
  }
  std::size_t count(std::string_view name) const { return find(name) == end() ? 0 : 1; }
  const Value& at(std::string_view name) const {
    auto found = find(name);
    if (found == end()) throw std::out_of_range("no variable named " + std::string(name));
    return found->second;
  }

  void insert_or_assign(std::string_view name, Value value) {
    auto at = lower_bound(name);
    if (at != entries_.end() && at->first == name) {
      at->second = std::move(value);
    } else {
      entries_.emplace(at, std::string(name), std::move(value));
    }
  }
  // Like std::map::emplace: keeps an existing value.
  void emplace(std::string_view name, Value value) {
    auto at = lower_bound(name);
    if (at == entries_.end() || at->first != name) entries_.emplace(at, std::string(name), std::move(value));
  }
  void erase(std::string_view name) {
    auto at = lower_bound(name);
    if (at != entries_.end() && at->first == name) entries_.erase(at);
  }

  friend bool operator==(const FlatScope&, const FlatScope&) = default;

 private:
  const_iterator lower_bound(std::string_view name) const {
    return std::lower_bound(entries_.begin(), entries_.end(), name,
                            [](const value_type& entry, std::string_view key) { return entry.first < key; });
  }
  iterator lower_bound(std::string_view name) {
    return std::lower_bound(entries_.begin(), entries_.end(), name,
                            [](const value_type& entry, std::string_view key) { return entry.first < key; });
  }

  std::vector<value_type> entries_;
};

}  // namespace trellis::engine
