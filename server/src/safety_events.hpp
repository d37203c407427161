#pragma once
// What the server does when the safety layer sends a person to a safety route:
// count it, store it, and alert the counselors (docs/safety-alerts.md).
//
// None of it stands between the person and the safety response. The chat
// connection sends the response first, or at the same time, and calls
// report_safety_event, which returns at once: the store writes on its own
// thread and the webhook delivers from its own, and a failure of either is
// logged, never thrown and never shown to the person.
#include <cstdint>
#include <string>

#include "server_context.hpp"
#include "session_store.hpp"

namespace trellis::server {

// Counts the event in trellis_safety_events_total{category}, logs it (ids and
// the category only), stores it (with `text` only when safety_store_text is on)
// and, when alert_webhook_url is set, queues a signed alert. `text` may be null.
// Call from any thread; never blocks on disk or network and never throws.
void report_safety_event(ServerContext& context, std::int64_t session_id, const std::string& category,
                         const std::string& flow_id, const std::string& node, const std::string* text);

// The alert's JSON body (docs/safety-alerts.md): event, delivery, category,
// region, session, flow, node, at (RFC 3339 UTC with milliseconds), and text
// only when `event.text` holds a value.
std::string safety_alert_body(const SafetyEvent& event, const std::string& region, const std::string& delivery_id);

}  // namespace trellis::server
