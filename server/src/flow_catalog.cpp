#include "flow_catalog.hpp"

#include "trellis/engine/compile.hpp"

namespace trellis::server {

FlowCatalog::FlowCatalog(std::vector<Source> current) : sources_(std::move(current)) {
  std::vector<std::shared_ptr<const engine::Flow>> flows;
  for (const auto& source : sources_) {
    versions_[{source.flow->info.id, source.flow->info.version}] = source.flow;
    flows.push_back(source.flow);
  }
  listings_ = protocol::list_flows(flows);
}

std::shared_ptr<const engine::Flow> FlowCatalog::current(std::string_view id) const {
  for (const auto& source : sources_) {
    if (source.flow->info.id == id) return source.flow;
  }
  return nullptr;
}

std::shared_ptr<const engine::Flow> FlowCatalog::find(std::string_view id, int version) const {
  std::lock_guard lock(mutex_);
  auto found = versions_.find(std::make_pair(std::string(id), version));
  return found == versions_.end() ? nullptr : found->second;
}

std::shared_ptr<const engine::Flow> FlowCatalog::add_version(const std::string& text) {
  auto compiled = engine::compile_flow(text, "(saved flow version)");
  if (!compiled) return nullptr;
  std::lock_guard lock(mutex_);
  auto key = std::make_pair((*compiled)->info.id, (*compiled)->info.version);
  auto [it, inserted] = versions_.emplace(key, *compiled);
  return it->second;
}

}  // namespace trellis::server
