#pragma once
// What every connection of one server shares.
#include <atomic>

#include "config.hpp"
#include "flow_catalog.hpp"
#include "metrics.hpp"
#include "session_hub.hpp"
#include "session_store.hpp"
#include "static_site.hpp"
#include "trellis/engine/safety.hpp"

namespace trellis::server {

class AlertWebhook;

struct ServerContext {
  ServerConfig config;
  FlowCatalog& flows;
  SessionStore& store;
  Metrics metrics;
  SessionHub hub;
  ConnectionLimiter limiter;
  std::atomic<bool> stopping{false};
  AlertWebhook* alerts = nullptr;  // owned by Server; null when alert_webhook_url is empty
  // The deployment's safety policy: every turn is checked against it (a server
  // without one does not start).
  std::shared_ptr<const engine::SafetyPolicy> safety;
  // The web root, read once before the server accepts; I/O threads only look up.
  std::shared_ptr<const StaticSite> site = std::make_shared<const StaticSite>();

  ServerContext(ServerConfig c, FlowCatalog& f, SessionStore& s)
      : config(std::move(c)), flows(f), store(s),
        limiter(config.max_connections, config.max_connections_per_ip) {}
};

}  // namespace trellis::server
