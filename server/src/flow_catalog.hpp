#pragma once
// The flows a server offers, and every older version a running session still needs.
// Current versions come from dialogs/ at start-up; older ones are compiled on
// demand from the text the store kept when a session started on them.
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "protocol.hpp"
#include "trellis/engine/flow.hpp"

namespace trellis::server {

class FlowCatalog {
 public:
  struct Source {
    std::shared_ptr<const engine::Flow> flow;
    std::string text;  // the file's text, kept so the store can save this version
  };
  explicit FlowCatalog(std::vector<Source> current);

  std::shared_ptr<const engine::Flow> current(std::string_view id) const;
  // The flow at exactly this version, if this process has it.
  std::shared_ptr<const engine::Flow> find(std::string_view id, int version) const;
  // Compiles and remembers an older version from its saved text; nullptr if it no longer compiles.
  std::shared_ptr<const engine::Flow> add_version(const std::string& text);

  const std::vector<Source>& sources() const { return sources_; }
  const std::vector<protocol::FlowListing>& listings() const { return listings_; }
  bool empty() const { return sources_.empty(); }

 private:
  std::vector<Source> sources_;
  std::vector<protocol::FlowListing> listings_;
  mutable std::mutex mutex_;  // guards versions_: sessions resume on many threads
  std::map<std::pair<std::string, int>, std::shared_ptr<const engine::Flow>, std::less<>> versions_;
};

}  // namespace trellis::server
