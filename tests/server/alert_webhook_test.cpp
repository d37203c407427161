#include "alert_webhook.hpp"

#include <chrono>
#include <string>
#include <thread>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <gtest/gtest.h>

#include "fake_webhook.hpp"

namespace trellis::server {
namespace {

using namespace std::chrono_literals;
using testing::FakeWebhook;

const std::chrono::system_clock::time_point kSentAt = std::chrono::system_clock::time_point{} + 1'700'000'000s;

// Independent of sign_alert: what a receiver computes with OpenSSL.
std::string expected_signature(const std::string& secret, const std::string& timestamp, const std::string& body) {
  const std::string message = timestamp + "." + body;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), digest, &size);
  std::string hex;
  char pair[3];
  for (unsigned int i = 0; i < size; ++i) {
    std::snprintf(pair, sizeof pair, "%02x", digest[i]);
    hex += pair;
  }
  return "sha256=" + hex;
}

AlertWebhook::Options options_for(const FakeWebhook& receiver) {
  AlertWebhook::Options options;
  options.url = receiver.url();
  options.secret = "s3cret";
  options.timeout = 2s;
  options.max_attempts = 4;
  options.backoff_base = 20ms;  // milliseconds, so no test waits seconds
  options.jitter = [] { return 1.0; };
  options.now = [] { return kSentAt; };
  return options;
}

std::unique_ptr<AlertWebhook> make_webhook(AlertWebhook::Options options, Metrics& metrics) {
  auto webhook = AlertWebhook::create(std::move(options), metrics);
  if (!webhook) throw std::runtime_error(webhook.error());
  return std::move(*webhook);
}

// Polls a counter the worker thread moves (the receiver sees a request before
// the worker has read the answer).
bool eventually(const std::atomic<std::uint64_t>& counter, std::uint64_t value) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (counter.load() < value && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(1ms);
  return counter.load() == value;
}

TEST(AlertWebhook, DeliversASignedAlert) {
  FakeWebhook receiver;
  Metrics metrics;
  auto webhook = make_webhook(options_for(receiver), metrics);
  const std::string body = R"({"event":"safety","category":"self_harm"})";
  const std::string id = webhook->send(body);
  EXPECT_EQ(id.size(), 32u);

  ASSERT_TRUE(receiver.wait_for(1));
  ASSERT_TRUE(eventually(metrics.alerts_sent, 1));
  const auto request = receiver.requests().at(0);
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.target, "/alerts");
  EXPECT_EQ(request.body, body);
  EXPECT_EQ(request.header("content-type"), "application/json");
  EXPECT_EQ(request.header("x-trellis-event"), "safety");
  EXPECT_EQ(request.header("x-trellis-delivery"), id);
  EXPECT_EQ(request.header("x-trellis-attempt"), "1");
  EXPECT_EQ(request.header("x-trellis-timestamp"), "1700000000");
  EXPECT_EQ(request.header("x-trellis-signature"), expected_signature("s3cret", "1700000000", body));
  EXPECT_EQ(request.header("host"), "127.0.0.1:" + std::to_string(receiver.port()));
  EXPECT_EQ(metrics.alerts_failed, 0u);
  EXPECT_EQ(webhook->pending(), 0u);
}

TEST(AlertWebhook, SignatureMatchesTheDocumentedExample) {
  // docs/safety-alerts.md:
  //   printf '%s' '1700000000.{"event":"safety"}' | openssl dgst -sha256 -hmac s3cret
  EXPECT_EQ(sign_alert("s3cret", "1700000000", R"({"event":"safety"})"),
            "sha256=8f15704756118ea5cdfc2923924a50beba1346600894034abd77b7e55d7aac74");
}

TEST(AlertWebhook, RetriesAfter5xxAnd429WithGrowingDelays) {
  FakeWebhook receiver({500, 429, 503, 200});
  Metrics metrics;
  auto webhook = make_webhook(options_for(receiver), metrics);
  const std::string id = webhook->send(R"({"event":"safety"})", "delivery-1");
  EXPECT_EQ(id, "delivery-1");

  ASSERT_TRUE(receiver.wait_for(4));
  ASSERT_TRUE(eventually(metrics.alerts_sent, 1));
  const auto requests = receiver.requests();
  ASSERT_EQ(requests.size(), 4u);
  for (std::size_t i = 0; i < requests.size(); ++i) {
    EXPECT_EQ(requests[i].header("x-trellis-delivery"), "delivery-1");
    EXPECT_EQ(requests[i].header("x-trellis-attempt"), std::to_string(i + 1));
  }
  // base 20 ms, doubling, jitter pinned to the full delay: 20, 40, 80 ms.
  EXPECT_GE(requests[1].at - requests[0].at, 20ms);
  EXPECT_GE(requests[2].at - requests[1].at, 40ms);
  EXPECT_GE(requests[3].at - requests[2].at, 80ms);
  EXPECT_EQ(metrics.alerts_failed, 0u);
}

TEST(AlertWebhook, A4xxIsNotRetried) {
  for (unsigned status : {400u, 401u, 404u, 301u}) {
    FakeWebhook receiver({status});
    Metrics metrics;
    auto webhook = make_webhook(options_for(receiver), metrics);
    webhook->send("{}");
    ASSERT_TRUE(eventually(metrics.alerts_failed, 1)) << status;
    // Counted as failed means the delivery is over: no attempt can follow.
    EXPECT_EQ(receiver.requests().size(), 1u) << status;
    EXPECT_EQ(metrics.alerts_sent, 0u);
    EXPECT_EQ(webhook->pending(), 0u);
  }
}

TEST(AlertWebhook, GivesUpAfterMaxAttempts) {
  FakeWebhook receiver({}, 500);
  Metrics metrics;
  auto options = options_for(receiver);
  options.max_attempts = 3;
  options.backoff_base = 1ms;
  auto webhook = make_webhook(std::move(options), metrics);
  webhook->send("{}");
  ASSERT_TRUE(eventually(metrics.alerts_failed, 1));
  EXPECT_EQ(receiver.requests().size(), 3u);
  EXPECT_EQ(metrics.alerts_sent, 0u);
}

TEST(AlertWebhook, RetriesWhenNothingListens) {
  std::string url;
  {
    FakeWebhook gone;  // a port that was just free: connecting is refused
    url = gone.url();
  }
  Metrics metrics;
  AlertWebhook::Options options;
  options.url = url;
  options.secret = "s3cret";
  options.max_attempts = 2;
  options.backoff_base = 1ms;
  auto webhook = make_webhook(std::move(options), metrics);
  webhook->send("{}");
  ASSERT_TRUE(eventually(metrics.alerts_failed, 1));
}

TEST(AlertWebhook, SendReturnsAtOnceWhileTheReceiverHangs) {
  FakeWebhook receiver({0}, 200);  // the first request is never answered
  Metrics metrics;
  auto options = options_for(receiver);
  options.timeout = 200ms;
  auto webhook = make_webhook(std::move(options), metrics);

  const auto before = std::chrono::steady_clock::now();
  webhook->send("{}");
  const auto send_took = std::chrono::steady_clock::now() - before;
  EXPECT_LT(send_took, 50ms);
  ASSERT_TRUE(receiver.wait_for(1));
  // While the first attempt hangs, more alerts still queue at once.
  const auto again = std::chrono::steady_clock::now();
  for (int i = 0; i < 100; ++i) webhook->send("{}");
  EXPECT_LT(std::chrono::steady_clock::now() - again, 50ms);

  // The hung attempt times out and is retried; all 101 arrive.
  ASSERT_TRUE(eventually(metrics.alerts_sent, 101));
  const auto requests = receiver.requests();
  EXPECT_EQ(requests.size(), 102u);
  EXPECT_EQ(requests.at(0).header("x-trellis-attempt"), "1");
  int retried = 0;
  for (const auto& request : requests) {
    if (request.header("x-trellis-delivery") == requests.at(0).header("x-trellis-delivery")) ++retried;
  }
  EXPECT_EQ(retried, 2);
}

TEST(AlertWebhook, AFullQueueDropsTheOldestAndStopAbandonsTheRest) {
  FakeWebhook receiver({}, 0);  // never answers
  Metrics metrics;
  auto options = options_for(receiver);
  options.timeout = 10s;
  options.max_in_flight = 1;
  options.max_queue = 2;
  auto webhook = make_webhook(std::move(options), metrics);
  webhook->send("{}", "first");
  ASSERT_TRUE(receiver.wait_for(1));  // in flight, and hanging
  webhook->send("{}", "second");
  webhook->send("{}", "third");
  webhook->send("{}", "fourth");  // the queue holds two: "second" is pushed out
  EXPECT_EQ(metrics.alerts_dropped, 1u);
  EXPECT_EQ(webhook->pending(), 3u);

  const auto before = std::chrono::steady_clock::now();
  webhook->stop(100ms);
  const auto stop_took = std::chrono::steady_clock::now() - before;
  EXPECT_GE(stop_took, 100ms);
  EXPECT_LT(stop_took, 2s);
  EXPECT_EQ(metrics.alerts_dropped, 4u);  // + first (in flight), third, fourth
  EXPECT_EQ(metrics.alerts_sent, 0u);

  webhook->send("{}", "late");
  EXPECT_EQ(metrics.alerts_dropped, 5u);
  webhook->stop(100ms);  // idempotent
}

TEST(AlertWebhook, StopWaitsForAlertsInFlight) {
  FakeWebhook receiver({500}, 200);
  Metrics metrics;
  auto webhook = make_webhook(options_for(receiver), metrics);
  webhook->send("{}");
  webhook->stop(10s);  // returns once the retry has succeeded
  EXPECT_EQ(metrics.alerts_sent, 1u);
  EXPECT_EQ(metrics.alerts_dropped, 0u);
}

TEST(AlertWebhook, CreateRefusesABadUrlOrNoSecret) {
  Metrics metrics;
  AlertWebhook::Options options;
  options.url = "ftp://example.org/";
  options.secret = "s";
  EXPECT_FALSE(AlertWebhook::create(options, metrics));
  options.url = "http://example.org/";
  options.secret = "";
  EXPECT_FALSE(AlertWebhook::create(options, metrics));
}

TEST(WebhookUrl, ParsesHostPortAndTarget) {
  struct Row {
    const char* url;
    bool is_https;
    const char* host;
    const char* port;
    const char* target;
  };
  const Row rows[] = {
      {"http://example.org", false, "example.org", "80", "/"},
      {"https://example.org", true, "example.org", "443", "/"},
      {"HTTPS://example.org:8443/hooks/trellis?key=1", true, "example.org", "8443", "/hooks/trellis?key=1"},
      {"http://127.0.0.1:9000/a", false, "127.0.0.1", "9000", "/a"},
      {"http://[::1]:9000/a", false, "::1", "9000", "/a"},
      {"http://[::1]", false, "::1", "80", "/"},
      {"http://example.org?x=1", false, "example.org", "80", "/?x=1"},
  };
  for (const auto& row : rows) {
    const auto url = parse_webhook_url(row.url);
    ASSERT_TRUE(url) << row.url << ": " << url.error();
    EXPECT_EQ(url->is_https, row.is_https) << row.url;
    EXPECT_EQ(url->host, row.host) << row.url;
    EXPECT_EQ(url->port, row.port) << row.url;
    EXPECT_EQ(url->target, row.target) << row.url;
  }
}

TEST(WebhookUrl, RefusesWhatItCannotUse) {
  struct Row {
    const char* url;
    const char* error;
  };
  const Row rows[] = {
      {"", "the webhook URL must start with http:// or https://"},
      {"example.org/hook", "the webhook URL must start with http:// or https://"},
      {"http://", "the webhook URL has no host"},
      {"http://:80/", "the webhook URL has no host"},
      {"http://example.org:/", "the webhook URL has a ':' but no port"},
      {"http://example.org:0/", "the webhook URL's port must be a number from 1 to 65535"},
      {"http://example.org:99999/", "the webhook URL's port must be a number from 1 to 65535"},
      {"http://example.org:80x/", "the webhook URL's port must be a number from 1 to 65535"},
      {"http://user:pw@example.org/", "the webhook URL must not carry a user name or password (the secret signs each alert)"},
      {"http://example.org/#top", "the webhook URL must not have a #fragment"},
      {"http://example.org/a b", "the webhook URL holds a space or a control character"},
      {"http://[::1/", "the webhook URL has an unclosed [IPv6 address]"},
  };
  for (const auto& row : rows) {
    const auto url = parse_webhook_url(row.url);
    ASSERT_FALSE(url) << row.url;
    EXPECT_EQ(url.error(), row.error) << row.url;
  }
}

TEST(BackoffDelay, DoublesUpToTheCapAndJitterScalesFromHalfToFull) {
  struct Row {
    int failed_attempts;
    double jitter;
    long long expected_ms;
  };
  const Row rows[] = {
      {1, 1.0, 1000}, {2, 1.0, 2000}, {3, 1.0, 4000},  {5, 1.0, 16000},    {6, 1.0, 32000},
      {7, 1.0, 60000}, {1000, 1.0, 60000}, {1, 0.0, 500}, {3, 0.5, 3000}, {7, 0.0, 30000},
  };
  for (const auto& row : rows) {
    EXPECT_EQ(backoff_delay(row.failed_attempts, 1000ms, 60000ms, row.jitter).count(), row.expected_ms)
        << row.failed_attempts << " " << row.jitter;
  }
}

TEST(DeliveryId, IsThirtyTwoHexDigitsAndUnique) {
  const std::string a = new_delivery_id();
  const std::string b = new_delivery_id();
  EXPECT_EQ(a.size(), 32u);
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_NE(a, b);
}

}  // namespace
}  // namespace trellis::server
