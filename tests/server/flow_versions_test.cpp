// A conversation continues on the flow version it started with, even after the
// file changes and the server restarts; new conversations get the new version;
// and a changed file without a version bump is refused at start-up.
#include "server.hpp"

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include <gtest/gtest.h>

#include "test_client.hpp"

namespace trellis::server {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::string kOldQuestion = "What's the situation or decision you've been doubting? A sentence or two is plenty.";
const std::string kNewQuestion = "What decision are you turning over in your mind?";

std::string read(const fs::path& file) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void replace_in(const fs::path& file, const std::string& from, const std::string& to) {
  auto text = read(file);
  auto at = text.find(from);
  ASSERT_NE(at, std::string::npos) << from;
  text.replace(at, from.size(), to);
  std::ofstream(file) << text;
}

class FlowVersionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    folder_ = fs::temp_directory_path() / ("trellis-versions-" + std::to_string(std::random_device{}()));
    fs::create_directories(folder_ / "web");
    fs::copy(fs::path(TRELLIS_SOURCE_DIR) / "dialogs", folder_ / "dialogs", fs::copy_options::recursive);
  }
  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(folder_, ignored);
  }
  ServerConfig config() const {
    ServerConfig config;
    config.port = 0;
    config.io_threads = 1;
    config.dialogs = folder_ / "dialogs";
    config.web_root = folder_ / "web";
    config.database = folder_ / "trellis.db";
    return config;
  }
  static std::vector<std::string> messages(const std::vector<json>& frames) {
    std::vector<std::string> texts;
    for (const auto& frame : frames) {
      if (frame["type"] == "message") texts.push_back(frame["text"]);
    }
    return texts;
  }
  fs::path folder_;
};

TEST_F(FlowVersionsTest, SessionsKeepTheVersionTheyStartedOn) {
  std::string token;
  std::int64_t last_id = 0;
  {
    auto server = Server::create(config());
    ASSERT_TRUE(server) << server.error();
    ASSERT_TRUE((*server)->start());
    {
      testing::TestClient client((*server)->port());
      client.send({{"type", "hello"}});
      token = client.read_until("welcome")["session"];
      client.send({{"type", "start"}, {"seq", 1}, {"flow", "trust"}});
      auto turn = client.read_turn();
      last_id = turn.back()["id"];
      client.close();
    }
    (*server)->begin_stop();
    (*server)->wait();
  }
  // The counselor rewrites the first question and bumps the version.
  auto flow_file = folder_ / "dialogs" / "trust" / "flow.json";
  replace_in(flow_file, kOldQuestion, kNewQuestion);
  replace_in(flow_file, "\"version\": 1,", "\"version\": 2,");

  auto server = Server::create(config());
  ASSERT_TRUE(server) << server.error();
  ASSERT_TRUE((*server)->start());
  {
    // The running conversation carries on in version 1: "restart" replays version 1's opening.
    testing::TestClient client((*server)->port());
    client.send({{"type", "hello"}, {"session", token}, {"last_seen", last_id}});
    client.read_until("welcome");
    client.send({{"type", "command"}, {"seq", 2}, {"name", "restart"}});
    auto texts = messages(client.read_turn());
    EXPECT_NE(std::find(texts.begin(), texts.end(), kOldQuestion), texts.end());
    EXPECT_EQ(std::find(texts.begin(), texts.end(), kNewQuestion), texts.end());
  }
  {
    // A new conversation starts on version 2.
    testing::TestClient client((*server)->port());
    client.send({{"type", "hello"}});
    client.read_until("welcome");
    client.send({{"type", "start"}, {"seq", 1}, {"flow", "trust"}});
    auto texts = messages(client.read_turn());
    EXPECT_NE(std::find(texts.begin(), texts.end(), kNewQuestion), texts.end());
  }
  (*server)->begin_stop();
  (*server)->wait();
}

TEST_F(FlowVersionsTest, ChangedTextWithoutAVersionBumpIsRefused) {
  {
    auto server = Server::create(config());
    ASSERT_TRUE(server) << server.error();
  }
  replace_in(folder_ / "dialogs" / "trust" / "flow.json", kOldQuestion, kNewQuestion);
  auto refused = Server::create(config());
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().find("different text"), std::string::npos) << refused.error();
}

}  // namespace
}  // namespace trellis::server
