#include "server.hpp"

#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include <gtest/gtest.h>

#include "fake_webhook.hpp"
#include "safety_events.hpp"
#include "test_client.hpp"

namespace trellis::server {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::TestClient;

fs::path fresh_folder(const std::string& name) {
  static std::mt19937_64 random{std::random_device{}()};
  auto folder = fs::temp_directory_path() / ("trellis-" + name + "-" + std::to_string(random()));
  fs::create_directories(folder / "web");
  std::ofstream(folder / "web" / "index.html") << "<!doctype html><title>Trellis</title>";
  return folder;
}

ServerConfig test_config(const fs::path& folder) {
  ServerConfig config;
  config.port = 0;
  config.io_threads = 2;
  config.dialogs = fs::path(TRELLIS_SOURCE_DIR) / "dialogs";
  config.web_root = folder / "web";
  config.database = folder / "trellis.db";
  config.shutdown_grace = std::chrono::seconds(5);
  return config;
}

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override { folder_ = fresh_folder("server"); }
  void TearDown() override {
    stop();
    std::error_code ignored;
    fs::remove_all(folder_, ignored);
  }
  void start(ServerConfig config) {
    auto created = Server::create(std::move(config));
    ASSERT_TRUE(created) << created.error();
    server_ = std::move(*created);
    auto started = server_->start();
    ASSERT_TRUE(started) << started.error();
  }
  void start() { start(test_config(folder_)); }
  void stop() {
    if (!server_) return;
    server_->begin_stop();
    server_->wait();
    server_.reset();
  }
  std::uint16_t port() const { return server_->port(); }

  // hello; returns the welcome frame.
  static json hello(TestClient& client, std::optional<std::string> session = {}, std::optional<std::int64_t> last_seen = {}) {
    json frame{{"type", "hello"}, {"client", "tests/1"}};
    if (session) frame["session"] = *session;
    if (last_seen) frame["last_seen"] = *last_seen;
    client.send(frame);
    return client.read_until("welcome");
  }

  // An answer any prompt accepts: the first choice, a number in range, or some words.
  static json answer_for(const json& prompt, std::int64_t seq) {
    const std::string input = prompt["input"];
    if (input == "text") return {{"type", "input"}, {"seq", seq}, {"text", "a few honest words"}};
    if (input == "number") return {{"type", "input"}, {"seq", seq}, {"text", std::to_string(prompt["min"].get<int>())}};
    if (input == "scale") return {{"type", "input"}, {"seq", seq}, {"choice", "7"}};
    if (input == "yesno") return {{"type", "input"}, {"seq", seq}, {"choice", "yes"}};
    return {{"type", "input"}, {"seq", seq}, {"choice", prompt["choices"][0]["id"]}};
  }

  fs::path folder_;
  std::unique_ptr<Server> server_;
};

TEST_F(ServerTest, HttpEndpointsAnswer) {
  start();
  auto health = testing::http_get(port(), "/healthz");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.body, "ok\n");
  EXPECT_EQ(testing::http_get(port(), "/readyz").status, 200);
  auto flows = testing::http_get(port(), "/api/flows");
  EXPECT_EQ(flows.status, 200);
  auto listing = json::parse(flows.body);
  EXPECT_EQ(listing["flows"].size(), 3u);
  auto page = testing::http_get(port(), "/");
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.content_type, "text/html; charset=utf-8");
  EXPECT_EQ(page.cache_control, "no-cache");
  EXPECT_EQ(testing::http_get(port(), "/missing.js").status, 404);
  auto metrics = testing::http_get(port(), "/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("trellis_open_connections"), std::string::npos);
}

TEST_F(ServerTest, StaticFilesRefuseTraversal) {
  start();
  std::ofstream(folder_ / "secret.txt") << "outside the web root";
  for (const char* target : {"/../secret.txt", "/%2e%2e/secret.txt", "/..%2fsecret.txt", "/a/../../secret.txt",
                             "/%2e%2e%2fsecret.txt", "/..\\secret.txt"}) {
    auto reply = testing::http_get(port(), target);
    EXPECT_EQ(reply.status, 404) << target;
    EXPECT_EQ(reply.body.find("outside"), std::string::npos) << target;
  }
}

TEST_F(ServerTest, StaticFilesAreReadOnceAtStart) {
  start();
  // Changed on disk after start: the server still sends what it loaded, as it
  // never reads the disk to answer.
  std::ofstream(folder_ / "web" / "index.html") << "changed after start";
  std::ofstream(folder_ / "web" / "late.js") << "//added after start";
  auto page = testing::http_get(port(), "/");
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.body, "<!doctype html><title>Trellis</title>");
  EXPECT_EQ(testing::http_get(port(), "/late.js").status, 404);
}

TEST_F(ServerTest, StaticFilesAnswerHeadAndIfNoneMatch) {
  std::ofstream(folder_ / "web" / "widget.js") << "//widget";
  start();
  auto full = testing::http_get(port(), "/widget.js");
  ASSERT_EQ(full.status, 200);
  EXPECT_EQ(full.body, "//widget");
  EXPECT_EQ(full.content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(full.cache_control, "public, max-age=3600");
  ASSERT_EQ(full.etag.size(), 66u) << full.etag;  // a quoted SHA-256
  EXPECT_EQ(testing::http_get(port(), "/widget.js").etag, full.etag);

  auto head = testing::http_request(port(), http::verb::head, "/widget.js");
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.body, "");
  EXPECT_EQ(head.content_length, "8");
  EXPECT_EQ(head.etag, full.etag);
  EXPECT_EQ(head.content_type, full.content_type);

  auto unchanged = testing::http_request(port(), http::verb::get, "/widget.js", full.etag);
  EXPECT_EQ(unchanged.status, 304);
  EXPECT_EQ(unchanged.body, "");
  EXPECT_EQ(unchanged.etag, full.etag);
  EXPECT_EQ(unchanged.cache_control, "public, max-age=3600");
  EXPECT_EQ(testing::http_request(port(), http::verb::head, "/widget.js", "W/" + full.etag).status, 304);
  EXPECT_EQ(testing::http_request(port(), http::verb::get, "/widget.js", "\"stale\"").status, 200);
}

TEST_F(ServerTest, RefusesToStartWithAnOversizedStaticFile) {
  const auto big = folder_ / "web" / "huge.png";
  std::ofstream(big, std::ios::binary) << std::string((std::size_t{8} << 20) + 1, 'x');
  auto created = Server::create(test_config(folder_));
  ASSERT_FALSE(created);
  EXPECT_NE(created.error().find(big.string()), std::string::npos) << created.error();
  EXPECT_NE(created.error().find("over the limit of 8 MiB"), std::string::npos) << created.error();
}

TEST_F(ServerTest, StartsWithoutAWebRoot) {
  fs::remove_all(folder_ / "web");
  start();
  EXPECT_EQ(testing::http_get(port(), "/").status, 404);
  EXPECT_EQ(testing::http_get(port(), "/healthz").status, 200);
}

TEST_F(ServerTest, EveryFlowCompletesOverTheWire) {
  start();
  for (const char* flow : {"braving", "trust", "self-compassion"}) {
    TestClient client(port());
    auto welcome = hello(client);
    EXPECT_EQ(welcome["resumed"], false);
    EXPECT_EQ(welcome["last_seq"], 0);
    EXPECT_EQ(welcome["session"].get<std::string>().size(), 43u);
    client.send({{"type", "start"}, {"seq", 1}, {"flow", flow}});
    std::int64_t seq = 1, last_id = 0;
    bool ended = false;
    for (int turn = 0; turn < 80 && !ended; ++turn) {
      auto frames = client.read_turn();
      ASSERT_FALSE(frames.empty()) << flow << " turn " << turn;
      for (const auto& frame : frames) {
        ASSERT_NE(frame["type"], "error") << frame.dump();
        EXPECT_EQ(frame["seq"], seq) << frame.dump();
        EXPECT_EQ(frame["id"].get<std::int64_t>(), last_id + 1) << "ids must be consecutive";
        last_id = frame["id"];
        if (frame["type"] == "end") {
          ended = true;
          EXPECT_EQ(frame["flow"], flow);
          EXPECT_EQ(frame["reason"], "completed");
        }
      }
      if (!ended) client.send(answer_for(frames.back(), ++seq));
    }
    EXPECT_TRUE(ended) << flow;
  }
}

TEST_F(ServerTest, ResumeReplaysWhatTheClientMissedOnce) {
  start();
  std::string token;
  std::vector<json> seen;
  {
    TestClient client(port());
    token = hello(client)["session"];
    client.send({{"type", "start"}, {"seq", 1}, {"flow", "braving"}});
    for (auto& frame : client.read_turn()) seen.push_back(frame);
    client.send(answer_for(seen.back(), 2));
    for (auto& frame : client.read_turn()) seen.push_back(frame);
  }
  ASSERT_GE(seen.size(), 4u);
  // Pretend the last two frames never arrived.
  std::int64_t last_seen = seen[seen.size() - 3]["id"];
  TestClient again(port());
  auto welcome = hello(again, token, last_seen);
  EXPECT_EQ(welcome["resumed"], true);
  EXPECT_EQ(welcome["last_seq"], 2);
  auto first = again.read();
  auto second = again.read();
  ASSERT_TRUE(first && second);
  EXPECT_EQ(*first, seen[seen.size() - 2]);
  EXPECT_EQ(*second, seen[seen.size() - 1]);
  EXPECT_FALSE(again.read(std::chrono::milliseconds(200))) << "nothing is replayed twice";
  // And the conversation carries on from there.
  again.send(answer_for(seen.back(), 3));
  auto next = again.read_turn();
  ASSERT_FALSE(next.empty());
  EXPECT_EQ(next.front()["id"].get<std::int64_t>(), seen.back()["id"].get<std::int64_t>() + 1);
}

TEST_F(ServerTest, ARepeatedSeqIsAnsweredNotApplied) {
  start();
  TestClient client(port());
  hello(client);
  client.send({{"type", "start"}, {"seq", 1}, {"flow", "braving"}});
  auto first = client.read_turn();
  auto answer = answer_for(first.back(), 2);
  client.send(answer);
  auto applied = client.read_turn();
  client.send(answer);  // the same input again, e.g. after a lost acknowledgement
  auto repeated = client.read_turn();
  EXPECT_EQ(applied, repeated);
  client.send(answer_for(applied.back(), 3));
  auto next = client.read_turn();
  ASSERT_FALSE(next.empty());
  EXPECT_EQ(next.front()["seq"], 3);
  EXPECT_EQ(next.front()["id"].get<std::int64_t>(), applied.back()["id"].get<std::int64_t>() + 1);
}

TEST_F(ServerTest, SecondHelloSupersedesTheFirstConnection) {
  start();
  TestClient first(port());
  std::string token = hello(first)["session"];
  TestClient second(port());
  auto welcome = hello(second, token);
  EXPECT_EQ(welcome["resumed"], true);
  auto notice = first.read(std::chrono::milliseconds(2000));
  ASSERT_TRUE(notice);
  EXPECT_EQ((*notice)["code"], "superseded");
  EXPECT_FALSE(first.read(std::chrono::milliseconds(2000)));
  EXPECT_EQ(first.close_code(), 4001);
  second.send({{"type", "start"}, {"seq", 1}, {"flow", "trust"}});
  EXPECT_EQ(second.read_turn().back()["type"], "prompt");
}

TEST_F(ServerTest, ForgetDeletesTheSession) {
  start();
  TestClient client(port());
  std::string token = hello(client)["session"];
  client.send({{"type", "start"}, {"seq", 1}, {"flow", "braving"}});
  client.read_turn();
  client.send({{"type", "forget"}});
  EXPECT_FALSE(client.read(std::chrono::milliseconds(2000)));
  EXPECT_EQ(client.close_code(), 1000);
  TestClient again(port());
  again.send({{"type", "hello"}, {"session", token}});
  auto reply = again.read();
  ASSERT_TRUE(reply);
  EXPECT_EQ((*reply)["type"], "error");
  EXPECT_EQ((*reply)["code"], "session_not_found");
}

struct BadFrame {
  std::string text;
  std::string code;
};

TEST_F(ServerTest, BadFramesGetTheirCodeAndTheConnectionStaysUsable) {
  start();
  TestClient client(port());
  client.send({{"type", "start"}, {"seq", 1}, {"flow", "braving"}});
  auto before_hello = client.read();
  ASSERT_TRUE(before_hello);
  EXPECT_EQ((*before_hello)["code"], "hello_required");
  hello(client);
  std::vector<BadFrame> rows{
      {"not json", "bad_json"},
      {"{\"type\":", "bad_json"},
      {"[1,2]", "bad_message"},
      {"{\"type\":\"dance\"}", "unknown_type"},
      {"{\"type\":\"start\",\"seq\":1e309,\"flow\":\"braving\"}", "bad_json"},
      {"{\"type\":\"start\",\"seq\":\"1\",\"flow\":\"braving\"}", "bad_message"},
      {"{\"type\":\"start\",\"seq\":1,\"flow\":\"nope\"}", "unknown_flow"},
      {"{\"type\":\"input\",\"seq\":1,\"text\":\"hi\"}", "no_active_flow"},
      {"{\"type\":\"start\",\"seq\":5,\"flow\":\"braving\"}", "seq_out_of_order"},
      {"{\"type\":\"command\",\"seq\":1,\"name\":\"dance\"}", "bad_message"},
      {"{\"type\":\"input\",\"seq\":1,\"text\":\"" + std::string(5000, 'a') + "\"}", "too_long"},
  };
  for (const auto& row : rows) {
    client.send_text(row.text);
    auto reply = client.read();
    ASSERT_TRUE(reply) << row.text.substr(0, 60);
    EXPECT_EQ((*reply)["type"], "error") << row.text.substr(0, 60);
    EXPECT_EQ((*reply)["code"], row.code) << row.text.substr(0, 60);
    EXPECT_EQ(reply->dump().find("aaaa"), std::string::npos) << "errors never echo user text";
  }
  // None of those used up seq 1.
  client.send({{"type", "start"}, {"seq", 1}, {"flow", "braving"}});
  auto turn = client.read_turn();
  ASSERT_FALSE(turn.empty());
  EXPECT_EQ(turn.back()["type"], "prompt");
  client.send({{"type", "input"}, {"seq", 2}, {"choice", "not-a-choice"}});
  auto bad_choice = client.read();
  ASSERT_TRUE(bad_choice);
  EXPECT_EQ((*bad_choice)["code"], "bad_choice");
  EXPECT_EQ((*bad_choice)["seq"], 2);
}

TEST_F(ServerTest, OversizedFrameClosesWith1009) {
  auto config = test_config(folder_);
  config.max_frame_bytes = 1024;
  start(config);
  TestClient client(port());
  hello(client);
  try {
    client.send_text("{\"type\":\"input\",\"seq\":1,\"text\":\"" + std::string(4096, 'x') + "\"}");
  } catch (const beast::system_error&) {
    // The server may refuse the frame and close before the client finishes writing it.
  }
  EXPECT_FALSE(client.read(std::chrono::milliseconds(2000)));
  ASSERT_TRUE(client.close_code().has_value()) << "the connection must be closed";
  // The server sends close 1009; when the client is still writing the rest of the
  // frame, TCP may reset the connection before the close frame is read (1006).
  EXPECT_TRUE(*client.close_code() == 1009 || *client.close_code() == 1006)
      << *client.close_code() << " " << client.last_error.message();
  auto metrics = testing::http_get(port(), "/metrics");
  EXPECT_NE(metrics.body.find("trellis_errors_total{code=\"too_large\"} 1"), std::string::npos);
}

TEST_F(ServerTest, ForeignOriginIsRefused) {
  start();
  try {
    TestClient refused(port(), "http://evil.example");
    ADD_FAILURE() << "a foreign origin was let in";
  } catch (const beast::system_error& error) {
    EXPECT_EQ(error.code(), websocket::error::upgrade_declined) << error.what();
  }
  try {
    TestClient allowed(port(), "http://127.0.0.1:" + std::to_string(port()));
  } catch (const std::exception& error) {
    ADD_FAILURE() << "the server's own origin was refused: " << error.what();
  }
  auto metrics = testing::http_get(port(), "/metrics");
  EXPECT_NE(metrics.body.find("trellis_errors_total{code=\"origin_refused\"} 1"), std::string::npos);
}

TEST_F(ServerTest, FloodingIsRateLimited) {
  auto config = test_config(folder_);
  config.inputs_per_second = 1;
  config.input_burst = 2;
  start(config);
  TestClient client(port());
  hello(client);
  int limited = 0;
  for (int i = 0; i < 10; ++i) client.send({{"type", "start"}, {"seq", 99}, {"flow", "braving"}});
  for (int i = 0; i < 10; ++i) {
    auto reply = client.read();
    if (reply && (*reply)["code"] == "rate_limited") ++limited;
  }
  EXPECT_GE(limited, 7);
}

TEST_F(ServerTest, GracefulStopClosesWith1001AndKeepsTurns) {
  start();
  std::string token;
  std::int64_t last_id = 0;
  {
    TestClient client(port());
    token = hello(client)["session"];
    client.send({{"type", "start"}, {"seq", 1}, {"flow", "braving"}});
    last_id = client.read_turn().back()["id"];
    server_->begin_stop();
    EXPECT_FALSE(client.read(std::chrono::milliseconds(3000)));
    EXPECT_EQ(client.close_code(), 1001);
  }
  EXPECT_EQ(server_->wait(), 0);
  server_.reset();
  // A new server on the same database carries the conversation on.
  start();
  TestClient client(port());
  auto welcome = hello(client, token, last_id);
  EXPECT_EQ(welcome["resumed"], true);
  EXPECT_EQ(welcome["last_seq"], 1);
  client.send({{"type", "input"}, {"seq", 2}, {"choice", "yes"}});
  auto turn = client.read_turn();
  ASSERT_FALSE(turn.empty());
  EXPECT_EQ(turn.front()["id"].get<std::int64_t>(), last_id + 1);
}

TEST_F(ServerTest, IdleSessionsArePurged) {
  auto config = test_config(folder_);
  config.session_ttl = std::chrono::seconds(0);
  config.purge_interval = std::chrono::seconds(1);
  start(config);
  std::string token;
  {
    TestClient client(port());
    token = hello(client)["session"];
  }
  // Poll (not a fixed sleep) until the purge has run.
  for (int attempt = 0; attempt < 50; ++attempt) {
    TestClient client(port());
    client.send({{"type", "hello"}, {"session", token}});
    auto reply = client.read();
    ASSERT_TRUE(reply);
    if ((*reply)["type"] == "error") {
      EXPECT_EQ((*reply)["code"], "session_not_found");
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  FAIL() << "the idle session was never purged";
}

}  // namespace
}  // namespace trellis::server

namespace trellis::server {
namespace {

TEST_F(ServerTest, AWebhookUrlWithoutASecretOrUnusableIsRefusedBeforeListening) {
  auto config = test_config(folder_);
  config.alert_webhook_url = "https://alerts.example.org/trellis";
  auto created = Server::create(config);
  ASSERT_FALSE(created);
  EXPECT_NE(created.error().find("alert_webhook_secret"), std::string::npos) << created.error();
  config.alert_webhook_secret = "s3cret";
  config.alert_webhook_url = "ftp://alerts.example.org/";
  created = Server::create(config);
  ASSERT_FALSE(created);
  EXPECT_EQ(created.error(), "alert_webhook_url: the webhook URL must start with http:// or https://");
}

TEST_F(ServerTest, ARunningServerAlertsTheWebhookAndStopsCleanly) {
  testing::FakeWebhook receiver;
  auto config = test_config(folder_);
  config.alert_webhook_url = receiver.url();
  config.alert_webhook_secret = "s3cret";
  start(config);
  ASSERT_NE(server_->context().alerts, nullptr);
  report_safety_event(server_->context(), 1, "self_harm", "trust", "start", nullptr);
  ASSERT_TRUE(receiver.wait_for(1));
  EXPECT_EQ(server_->context().metrics.safety_events_by_category.get("self_harm"), 1u);
  EXPECT_EQ(receiver.requests().at(0).header("x-trellis-event"), "safety");
  stop();  // stops the webhook's worker within shutdown_grace
}

}  // namespace
}  // namespace trellis::server
