#pragma once
// Tells counselors about safety events: each alert is POSTed as JSON to one
// webhook, signed with a shared secret, and retried with exponential backoff.
// docs/safety-alerts.md is the receiver's side of this contract.
//
// send() never blocks and never fails: it puts the alert on a bounded queue and
// returns. One worker thread (its own io_context) delivers up to
// `max_in_flight` alerts at a time. Each attempt POSTs with these headers:
//
//   Content-Type: application/json
//   X-Trellis-Event: safety
//   X-Trellis-Delivery: <id>           the same on every attempt of one alert
//   X-Trellis-Attempt: <n>             1 for the first attempt
//   X-Trellis-Timestamp: <unix seconds when this attempt was signed>
//   X-Trellis-Signature: sha256=<lowercase hex HMAC-SHA256(secret, timestamp + "." + body)>
//
// The timestamp is inside the signed material, so a receiver that rejects
// timestamps older than a few minutes cannot be fed a recorded request later;
// X-Trellis-Delivery lets it drop the duplicates that retries can cause.
//
// An answer of 2xx is success. 429, 5xx, a connection failure and a timeout are
// retried after backoff_delay(); any other status (400, 401, 404, ...) says the
// request itself is wrong and is not retried. Either way the outcome is logged
// with the delivery id, the attempt and the status or error, never the body
// (it may hold what the person wrote) and never the secret.
//
// http:// and https:// URLs are supported; https verifies the certificate
// against the system's trust store and the URL's host name.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <tl/expected.hpp>

#include "metrics.hpp"

namespace trellis::server {

struct WebhookUrl {
  bool is_https = false;
  std::string host;    // name or address, without brackets
  std::string port;    // "80" or "443" when the URL names none
  std::string target;  // path and query, "/" when empty
};
// Accepts http://host[:port][/path][?query] and https://...; no user info, no fragment.
tl::expected<WebhookUrl, std::string> parse_webhook_url(std::string_view url);

// "sha256=" + lowercase hex HMAC-SHA256(secret, timestamp + "." + body): the
// value of X-Trellis-Signature.
std::string sign_alert(std::string_view secret, std::string_view timestamp, std::string_view body);

// 32 lowercase hex digits from a cryptographic random source.
std::string new_delivery_id();

// The wait after `failed_attempts` failures (1 after the first):
// min(cap, base * 2^(failed_attempts - 1)), scaled by 0.5 + jitter / 2 with
// jitter in [0, 1], so several alerts failing together do not retry in step.
std::chrono::milliseconds backoff_delay(int failed_attempts, std::chrono::milliseconds base,
                                        std::chrono::milliseconds cap, double jitter);

struct AlertWebhookOptions {
  std::string url;
  std::string secret;
  std::chrono::milliseconds timeout{10'000};  // one attempt: resolve, connect, TLS, send, answer
  int max_attempts = 6;                       // the first attempt included
  std::chrono::milliseconds backoff_base{1'000};
  std::chrono::milliseconds backoff_cap{60'000};
  std::size_t max_queue = 1000;  // alerts waiting for a slot; when full, the oldest is dropped
  std::size_t max_in_flight = 4;
  // Test hooks. `jitter` returns a number in [0, 1]; empty means random.
  std::function<double()> jitter;
  // The time put in X-Trellis-Timestamp; empty means the system clock.
  std::function<std::chrono::system_clock::time_point()> now;
};

class AlertWebhook {
 public:
  using Options = AlertWebhookOptions;

  // Fails when the URL does not parse or the secret is empty. Starts the worker thread.
  // `metrics` must outlive the AlertWebhook: alerts_sent, alerts_failed and
  // alerts_dropped are counted there.
  static tl::expected<std::unique_ptr<AlertWebhook>, std::string> create(Options options, Metrics& metrics);
  ~AlertWebhook();  // stop(0)

  AlertWebhook(const AlertWebhook&) = delete;
  AlertWebhook& operator=(const AlertWebhook&) = delete;

  // Queues one alert and returns at once, from any thread. `delivery_id` names
  // it in X-Trellis-Delivery and the logs; empty makes a new one. Returns the id.
  // After stop() the alert is dropped (and counted).
  std::string send(std::string json_body, std::string delivery_id = {});

  // Stops taking alerts, waits up to `grace` for those queued or in flight
  // (including their retries), then abandons the rest, counting each as
  // dropped. Idempotent; safe from any thread but the worker's.
  void stop(std::chrono::milliseconds grace);

  // Queued plus in flight, for tests and the shutdown log.
  std::size_t pending() const;

 private:
  class Worker;
  explicit AlertWebhook(std::unique_ptr<Worker> worker);
  std::unique_ptr<Worker> worker_;
};

}  // namespace trellis::server
