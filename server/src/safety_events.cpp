#include "safety_events.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <exception>
#include <typeinfo>

#include <nlohmann/json.hpp>

#include "alert_webhook.hpp"
#include "log.hpp"

namespace trellis::server {
namespace {

std::string rfc3339_utc(Clock::time_point at) {
  const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch()).count();
  const std::time_t seconds = static_cast<std::time_t>(millis / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[80];  // what -Wformat-truncation assumes the widest ints need
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900, utc.tm_mon + 1,
                utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, static_cast<int>(millis % 1000));
  return text;
}

}  // namespace

std::string safety_alert_body(const SafetyEvent& event, const std::string& region, const std::string& delivery_id) {
  nlohmann::json body = {
      {"event", "safety"},
      {"delivery", delivery_id},
      {"category", event.category},
      {"region", region},
      {"session", event.session_id},
      {"flow", event.flow_id},
      {"node", event.node},
      {"at", rfc3339_utc(event.at)},
  };
  if (event.text) body["text"] = *event.text;
  // Invalid UTF-8 in what a person typed is replaced, not a reason to lose the alert.
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void report_safety_event(ServerContext& context, std::int64_t session_id, const std::string& category,
                         const std::string& flow_id, const std::string& node, const std::string* text) {
  // The safety response has been (or is being) sent; nothing here may stop it.
  try {
    context.metrics.safety_events_by_category.add(category);
    log::warn("safety_event", {{"session", session_id}, {"category", category}, {"flow", flow_id}, {"node", node}});

    SafetyEvent event;
    event.session_id = session_id;
    event.category = category;
    event.flow_id = flow_id;
    event.node = node;
    if (text != nullptr && context.config.safety_store_text) event.text = *text;
    event.at = Clock::now();

    // The alert does not wait for the store: a full disk must not silence it.
    if (context.alerts != nullptr) {
      const std::string delivery = new_delivery_id();
      context.alerts->send(safety_alert_body(event, context.config.safety_region, delivery), delivery);
    }
    context.store.record_safety_event(std::move(event), [session_id, category](StoreResult<std::int64_t> stored) {
      if (!stored) {
        log::error("store_failed", {{"op", "record_safety_event"}, {"session", session_id}, {"category", category}});
      }
    });
  } catch (const std::exception& error) {
    log::error("safety_event_failed", {{"session", session_id}, {"what", log::sanitise(typeid(error).name())}});
  }
}

}  // namespace trellis::server
