// The safety layer end to end: a crisis statement mid-flow interrupts it over the
// wire, the counselors' webhook receives a correctly signed alert, and choosing to
// continue returns to the exact question that was interrupted.
#include "server.hpp"

#include <filesystem>
#include <fstream>
#include <random>

#include <gtest/gtest.h>
#include <openssl/hmac.h>

#include "fake_webhook.hpp"
#include "test_client.hpp"

namespace trellis::server {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string hmac_hex(const std::string& secret, const std::string& message) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), digest, &length);
  static const char* kHex = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 15];
  }
  return hex;
}

TEST(SafetyOverTheWire, CrisisInterruptsAlertsAndContinueReturnsToTheQuestion) {
  testing::FakeWebhook webhook;
  auto folder = fs::temp_directory_path() / ("trellis-safety-" + std::to_string(std::random_device{}()));
  fs::create_directories(folder / "web");
  ServerConfig config;
  config.port = 0;
  config.io_threads = 2;
  config.dialogs = fs::path(TRELLIS_SOURCE_DIR) / "dialogs";
  config.web_root = folder / "web";
  config.database = folder / "trellis.db";
  config.safety_region = "us";
  config.alert_webhook_url = webhook.url();
  config.alert_webhook_secret = "counselor-secret";
  auto created = Server::create(config);
  ASSERT_TRUE(created) << created.error();
  auto& server = **created;
  ASSERT_TRUE(server.start());
  {
    testing::TestClient client(server.port());
    client.send({{"type", "hello"}});
    client.read_until("welcome");
    client.send({{"type", "start"}, {"seq", 1}, {"flow", "trust"}});
    auto first = client.read_turn();
    ASSERT_EQ(first.back()["type"], "prompt");
    std::string question;
    for (const auto& frame : first) {
      if (frame["type"] == "message") question = frame["text"];
    }
    client.send({{"type", "input"}, {"seq", 2}, {"text", "honestly i just want to kill myself"}});
    auto safety = client.read_until("safety");
    EXPECT_EQ(safety["category"], "suicidal_thoughts");
    EXPECT_EQ(safety["seq"], 2);
    EXPECT_TRUE(safety.contains("id"));
    bool has_988 = false;
    for (const auto& resource : safety["resources"]) has_988 |= resource.value("phone", "") == "988";
    EXPECT_TRUE(has_988) << safety.dump();
    std::vector<std::string> choices;
    for (const auto& choice : safety["choices"]) choices.push_back(choice["id"]);
    EXPECT_EQ(choices, (std::vector<std::string>{"safety_talk", "safety_continue", "safety_stop"}));

    // The alert arrives, signed over "timestamp.body", without the person's words.
    ASSERT_TRUE(webhook.wait_for(1));
    auto request = webhook.requests().front();
    EXPECT_EQ(request.header("x-trellis-signature"),
              "sha256=" + hmac_hex("counselor-secret", request.header("x-trellis-timestamp") + "." + request.body));
    auto body = json::parse(request.body);
    EXPECT_EQ(body["category"], "suicidal_thoughts");
    EXPECT_EQ(body["flow"], "trust");
    EXPECT_FALSE(body.contains("text"));
    EXPECT_EQ(request.body.find("kill myself"), std::string::npos);

    // "You misunderstood" keeps the resources and asks again.
    client.send({{"type", "input"}, {"seq", 3}, {"text", "you misunderstood me"}});
    auto again = client.read_until("safety");
    EXPECT_FALSE(again["resources"].empty());
    // Continue: the interrupted question is asked again, exactly.
    client.send({{"type", "input"}, {"seq", 4}, {"choice", "safety_continue"}});
    auto resumed = client.read_turn();
    ASSERT_EQ(resumed.back()["type"], "prompt");
    bool asked_again = false;
    for (const auto& frame : resumed) asked_again |= frame["type"] == "message" && frame["text"] == question;
    EXPECT_TRUE(asked_again) << "the interrupted question: " << question;
    EXPECT_EQ(resumed.back()["input"], first.back()["input"]);
  }
  auto metrics = testing::http_get(server.port(), "/metrics");
  EXPECT_NE(metrics.body.find("trellis_safety_events_total{category=\"suicidal_thoughts\"} 1"), std::string::npos);
  EXPECT_NE(metrics.body.find("trellis_safety_detections_total{detector=\"rules\"} 1"), std::string::npos)
      << metrics.body;
  server.begin_stop();
  EXPECT_EQ(server.wait(), 0);
  created->reset();
  std::error_code ignored;
  fs::remove_all(folder, ignored);
}

}  // namespace
}  // namespace trellis::server
