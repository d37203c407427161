#include "connect_command.hpp"

#include <filesystem>
#include <fstream>
#include <random>
#include <regex>
#include <sstream>
#include <streambuf>

#include <gtest/gtest.h>

#include "connect_view.hpp"
#include "server.hpp"
#include "ws_session.hpp"

namespace trellis::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// --- typed lines → frames ----------------------------------------------------

engine::PromptOutput prompt_of(const char* frame) { return std::get<engine::PromptOutput>(*output_from_frame(json::parse(frame))); }

const char* kScale = R"({"type":"prompt","id":4,"seq":1,"input":"scale","choices":[{"id":"1","label":"1"},{"id":"2","label":"2"},{"id":"3","label":"3"}],"min":1,"max":3,"commands":["help","skip","stop"]})";
const char* kYesNo = R"({"type":"prompt","id":4,"seq":1,"input":"yesno","choices":[{"id":"yes","label":"Yes"},{"id":"no","label":"No"}],"commands":[]})";
const char* kText = R"({"type":"prompt","id":12,"seq":5,"input":"text","choices":[],"commands":["help","stop"]})";

TEST(ConnectView, TypedLinesBecomeFrames) {
  auto scale = prompt_of(kScale);
  auto yesno = prompt_of(kYesNo);
  auto text = prompt_of(kText);
  struct Row {
    const char* line;
    const engine::PromptOutput* prompt;
    json expected;
  } rows[] = {
      {"2", &scale, {{"type", "input"}, {"seq", 7}, {"choice", "2"}}},
      {" 3 ", &scale, {{"type", "input"}, {"seq", 7}, {"choice", "3"}}},
      {"4", &scale, {{"type", "input"}, {"seq", 7}, {"text", "4"}}},  // not offered: the flow re-asks
      {"seven", &scale, {{"type", "input"}, {"seq", 7}, {"text", "seven"}}},
      {"1", &yesno, {{"type", "input"}, {"seq", 7}, {"choice", "yes"}}},
      {"2", &yesno, {{"type", "input"}, {"seq", 7}, {"choice", "no"}}},
      {"3", &yesno, {{"type", "input"}, {"seq", 7}, {"text", "3"}}},
      {"yes", &yesno, {{"type", "input"}, {"seq", 7}, {"text", "yes"}}},
      {"1", &text, {{"type", "input"}, {"seq", 7}, {"text", "1"}}},
      {"1", nullptr, {{"type", "input"}, {"seq", 7}, {"text", "1"}}},
      {"", &text, {{"type", "input"}, {"seq", 7}, {"text", ""}}},
      {"I kept my word", &text, {{"type", "input"}, {"seq", 7}, {"text", "I kept my word"}}},
      {"stop", &scale, {{"type", "command"}, {"seq", 7}, {"name", "stop"}}},
      {"/help", &text, {{"type", "command"}, {"seq", 7}, {"name", "help"}}},
      {" Pause ", nullptr, {{"type", "command"}, {"seq", 7}, {"name", "pause"}}},
      {"RESUME", &text, {{"type", "command"}, {"seq", 7}, {"name", "resume"}}},
      {"restart", &text, {{"type", "command"}, {"seq", 7}, {"name", "restart"}}},
      {"/skip", &scale, {{"type", "command"}, {"seq", 7}, {"name", "skip"}}},
      {"stop now", &text, {{"type", "input"}, {"seq", 7}, {"text", "stop now"}}},
      {"//stop", &text, {{"type", "input"}, {"seq", 7}, {"text", "//stop"}}},
  };
  for (const auto& row : rows) EXPECT_EQ(frame_for_line(row.line, row.prompt, 7), row.expected) << row.line;
}

TEST(ConnectView, FramesBecomeText) {
  EXPECT_EQ(render_frame(json::parse(R"({"type":"message","id":1,"seq":1,"text":"Hello.\nLet's begin."})")),
            "Hello.\nLet's begin.\n");
  EXPECT_EQ(render_frame(json::parse(kScale)), "  1\u20133\n  (type help, skip, stop)\n");
  EXPECT_EQ(render_frame(json::parse(kYesNo)), "  1) Yes\n  2) No\n");
  EXPECT_EQ(render_frame(json::parse(kText)), "  (type help, stop)\n");
  EXPECT_EQ(render_frame(json::parse(R"({"type":"pause","id":2,"seq":1,"ms":1200})")), "");
  EXPECT_EQ(render_frame(json::parse(
                R"({"type":"end","id":10,"seq":4,"flow":"braving","reason":"stopped","summary":{"boundaries":7,"note":"kind"}})")),
            "(end: stopped)\n  boundaries: 7\n  note: kind\n");
  EXPECT_EQ(render_frame(json::parse(
                R"({"type":"error","code":"seq_out_of_order","message":"expected seq 4, the last applied seq plus one","seq":5})")),
            "(error seq_out_of_order: expected seq 4, the last applied seq plus one)\n");
  EXPECT_EQ(render_frame(json::parse(R"({"type":"welcome","session":"s","resumed":false,"last_seq":0,"flows":[]})")), "");
  EXPECT_EQ(render_frame(json::parse(R"({"type":"dance","id":3,"seq":1})")), "") << "unknown types are ignored";
  EXPECT_EQ(render_frame(json::parse(R"({"type":"prompt","id":3,"seq":1,"input":"dance"})")), "");
  EXPECT_EQ(render_frame(json::parse("[1,2]")), "");
}

TEST(ConnectView, SafetyFramesShowResourcesAndChoices) {
  auto text = render_frame(json::parse(R"({"type":"safety","id":3,"seq":2,"category":"self_harm",
      "text":"Thank you for telling me.","resources":[{"name":"988 Lifeline","phone":"988","sms":"988","hours":"24/7"}],
      "choices":[{"id":"safety_talk","label":"Talk to someone now"},{"id":"safety_stop","label":"Stop for now"}]})"));
  EXPECT_NE(text.find("Thank you for telling me."), std::string::npos) << text;
  EXPECT_NE(text.find("988 Lifeline"), std::string::npos) << text;
  EXPECT_NE(text.find("988"), std::string::npos) << text;
  EXPECT_NE(text.find("1) Talk to someone now"), std::string::npos) << text;
  EXPECT_NE(text.find("2) Stop for now"), std::string::npos) << text;
  // A frame sent without an id (the store was down) renders the same.
  EXPECT_EQ(render_frame(json::parse(R"({"type":"safety","seq":2,"category":"self_harm","text":"T","resources":[],"choices":[]})")).find("T") != std::string::npos, true);
}

TEST(ConnectView, FlowMenu) {
  auto flows = json::parse(R"([{"id":"braving","title":"BRAVING check-in","description":"Seven quick ratings.","minutes":10},
                               {"id":"hello","title":"Hello","description":"","minutes":1}])");
  EXPECT_EQ(render_flow_menu(flows),
            "  1) BRAVING check-in (about 10 minutes)\n     Seven quick ratings.\n  2) Hello (about 1 minute)\n");
  EXPECT_EQ(pick_flow("1", flows), "braving");
  EXPECT_EQ(pick_flow(" 2\n", flows), "hello");
  EXPECT_EQ(pick_flow("hello", flows), "hello");
  EXPECT_EQ(pick_flow("3", flows), std::nullopt);
  EXPECT_EQ(pick_flow("0", flows), std::nullopt);
  EXPECT_EQ(pick_flow("", flows), std::nullopt);
  EXPECT_EQ(pick_flow("trust", flows), std::nullopt);
}

// --- URL, backoff, cursor ----------------------------------------------------

TEST(WsSession, ParsesWsUrls) {
  auto url = parse_ws_url("ws://127.0.0.1:8080/ws");
  ASSERT_TRUE(url) << url.error();
  EXPECT_EQ(url->host, "127.0.0.1");
  EXPECT_EQ(url->port, "8080");
  EXPECT_EQ(url->target, "/ws");
  auto bare = parse_ws_url("ws://example.org");
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->port, "80");
  EXPECT_EQ(bare->target, "/");
  auto v6 = parse_ws_url("ws://[::1]:9000/ws");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, "9000");
  for (const char* bad : {"http://127.0.0.1:8080/ws", "wss://example.org/ws", "ws://", "ws://:80/ws",
                          "ws://host:port/ws", "ws://host:/ws", "127.0.0.1:8080"}) {
    EXPECT_FALSE(parse_ws_url(bad)) << bad;
  }
}

TEST(WsSession, BackoffDoublesWithJitterAndGivesUp) {
  Backoff backoff(Milliseconds(200), Milliseconds(5000), Milliseconds(60000));
  EXPECT_EQ(backoff.next(1.0), Milliseconds(200));
  EXPECT_EQ(backoff.next(1.0), Milliseconds(400));
  EXPECT_EQ(backoff.next(0.0), Milliseconds(400));  // half of 800
  EXPECT_EQ(backoff.next(1.0), Milliseconds(1600));
  EXPECT_EQ(backoff.next(1.0), Milliseconds(3200));
  EXPECT_EQ(backoff.next(1.0), Milliseconds(5000));
  EXPECT_EQ(backoff.next(1.0), Milliseconds(5000));
  Milliseconds total(0);
  int tries = 0;
  Backoff full;
  while (auto wait = full.next(1.0)) {
    total += *wait;
    ++tries;
  }
  EXPECT_GE(total, Milliseconds(60000));
  EXPECT_LT(total, Milliseconds(66000));
  EXPECT_EQ(tries, 16);  // 200, 400, 800, 1600, 3200, then eleven of 5000
  full.reset();
  EXPECT_EQ(full.next(1.0), Milliseconds(200));
}

TEST(WsSession, CursorShowsEachOutputOnce) {
  SessionCursor cursor;
  EXPECT_FALSE(cursor.on_welcome(json::parse(R"({"type":"welcome","session":"s_1","resumed":false,"last_seq":0,"flows":[]})")));
  EXPECT_EQ(cursor.token(), "s_1");
  EXPECT_EQ(cursor.next_seq(), 1);
  cursor.on_send({{"type", "start"}, {"seq", 1}, {"flow", "braving"}});
  using V = SessionCursor::Verdict;
  EXPECT_EQ(cursor.accept(json::parse(R"({"type":"message","id":1,"seq":1,"text":"Hi."})")), V::Show);
  EXPECT_TRUE(cursor.has_turn_in_flight());
  EXPECT_EQ(cursor.accept(json::parse(R"({"type":"message","id":1,"seq":1,"text":"Hi."})")), V::Duplicate);
  EXPECT_EQ(cursor.accept(json::parse(kScale)), V::Show);  // id 4
  EXPECT_FALSE(cursor.has_turn_in_flight());
  EXPECT_EQ(cursor.last_seen(), 4);
  EXPECT_EQ(cursor.next_seq(), 2);

  // Seq 2 goes out, the connection drops, and the server never got it: resend.
  cursor.on_send({{"type", "input"}, {"seq", 2}, {"choice", "2"}});
  EXPECT_TRUE(cursor.on_welcome(json::parse(R"({"type":"welcome","session":"s_1","resumed":true,"last_seq":1,"flows":[]})")));
  // Or it did: no resend, and the outputs come again only where unseen.
  EXPECT_FALSE(cursor.on_welcome(json::parse(R"({"type":"welcome","session":"s_1","resumed":true,"last_seq":2,"flows":[]})")));
  EXPECT_EQ(cursor.accept(json::parse(kScale)), V::Duplicate);
  EXPECT_EQ(cursor.accept(json::parse(R"({"type":"prompt","id":5,"seq":2,"input":"text","choices":[],"commands":[]})")), V::Show);
  EXPECT_FALSE(cursor.has_turn_in_flight());

  // An error gives the seq back.
  cursor.on_send({{"type", "input"}, {"seq", 3}, {"text", "x"}});
  EXPECT_EQ(cursor.accept(json::parse(R"({"type":"error","code":"too_long","message":"shorter","seq":3})")), V::Show);
  EXPECT_FALSE(cursor.has_turn_in_flight());
  EXPECT_EQ(cursor.next_seq(), 3);
  EXPECT_EQ(cursor.accept(json::parse(R"({"type":"welcome","session":"s_1"})")), V::Ignore);
  // A safety frame is an output like the others; one the store could not keep has no id
  // and is shown without counting towards last_seen.
  EXPECT_EQ(cursor.accept(json::parse(R"({"type":"safety","id":9,"seq":3})")), V::Show);
  EXPECT_EQ(cursor.last_seen(), 9);
  EXPECT_EQ(cursor.accept(json::parse(R"({"type":"safety","seq":4})")), V::Show);
  EXPECT_EQ(cursor.last_seen(), 9);
  EXPECT_EQ(cursor.accept(json::parse(R"({"type":"surprise","id":10,"seq":4})")), V::Ignore);
}

// --- against a real server ---------------------------------------------------

// Lines for std::getline, one at a time; runs `hook` just before handing out line `hook_at`
// (the client is then waiting for the person, between turns).
class ScriptedInput : public std::streambuf {
 public:
  ScriptedInput(std::vector<std::string> lines, std::size_t hook_at = 0, std::function<void()> hook = {})
      : lines_(std::move(lines)), hook_at_(hook_at), hook_(std::move(hook)) {}

 protected:
  int_type underflow() override {
    if (gptr() != nullptr && gptr() < egptr()) return traits_type::to_int_type(*gptr());
    if (next_ >= lines_.size()) return traits_type::eof();
    if (next_ == hook_at_ && hook_) std::exchange(hook_, nullptr)();
    current_ = lines_[next_++] + "\n";
    setg(current_.data(), current_.data(), current_.data() + current_.size());
    return traits_type::to_int_type(current_[0]);
  }

 private:
  std::vector<std::string> lines_;
  std::size_t next_ = 0, hook_at_;
  std::function<void()> hook_;
  std::string current_;
};

// A BRAVING check-in: ready (yes/no, "1" = Yes), seven ratings, the element to
// look at (a choice, "7" = Generosity), a reflection.
const std::vector<std::string> kBravingAnswers = {"1", "5", "5", "5", "5", "5", "5", "5", "7",
                                                  "Remember that I was tired, not lazy"};

std::size_t count(const std::string& text, const std::string& piece) {
  std::size_t n = 0;
  for (auto at = text.find(piece); at != std::string::npos; at = text.find(piece, at + 1)) ++n;
  return n;
}

class ConnectTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::mt19937_64 random{std::random_device{}()};
    folder_ = fs::temp_directory_path() / ("trellis-connect-" + std::to_string(random()));
    fs::create_directories(folder_ / "web");
    std::ofstream(folder_ / "web" / "index.html") << "<!doctype html><title>Trellis</title>";
    start(0);
  }
  void TearDown() override {
    stop();
    std::error_code ignored;
    fs::remove_all(folder_, ignored);
  }
  void start(std::uint16_t port) {
    server::ServerConfig config;
    config.port = port;
    config.io_threads = 2;
    config.dialogs = fs::path(TRELLIS_SOURCE_DIR) / "dialogs";
    config.web_root = folder_ / "web";
    config.database = folder_ / "trellis.db";
    config.shutdown_grace = std::chrono::seconds(1);  // a stop waits this long for clients that are not reading
    auto created = server::Server::create(std::move(config));
    ASSERT_TRUE(created) << created.error();
    server_ = std::move(*created);
    auto started = server_->start();
    ASSERT_TRUE(started) << started.error();
  }
  void stop() {
    if (!server_) return;
    server_->begin_stop();
    server_->wait();
    server_.reset();
  }
  std::string url() const { return "ws://127.0.0.1:" + std::to_string(server_->port()) + "/ws"; }
  ConnectOptions options() const {
    ConnectOptions options;
    options.url = url();
    options.backoff = [] { return Backoff(Milliseconds(10), Milliseconds(200), Milliseconds(10000)); };
    return options;
  }

  fs::path folder_;
  std::unique_ptr<server::Server> server_;
};

TEST_F(ConnectTest, CompletesABravingCheckIn) {
  auto options = this->options();
  options.flow = "braving";
  std::istringstream in([] {
    std::string text;
    for (const auto& line : kBravingAnswers) text += line + "\n";
    return text;
  }());
  std::ostringstream out, err;
  EXPECT_EQ(run_connect(options, in, out, err), 0) << err.str();
  auto text = out.str();
  EXPECT_EQ(err.str(), "");
  EXPECT_EQ(text.rfind("(new session; to continue later: trellis connect " + url() + " --session ", 0), 0u) << text;
  EXPECT_NE(text.find("Welcome to your BRAVING check-in"), std::string::npos) << text;
  EXPECT_NE(text.find("Boundaries 5 \u00b7 Reliability 5"), std::string::npos) << text;
  EXPECT_EQ(count(text, "  1\u201310\n"), 7u) << text;
  EXPECT_NE(text.find("(end: completed)\n"), std::string::npos) << text;
  EXPECT_NE(text.find("  total: 35\n"), std::string::npos) << text;
  EXPECT_NE(text.find("  reflection: Remember that I was tired, not lazy\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("(error"), std::string::npos) << text;
}

TEST_F(ConnectTest, AsksForAFlowAndLeavesAtEndOfInput) {
  std::istringstream in("9\nbraving\n");
  std::ostringstream out, err;
  EXPECT_EQ(run_connect(options(), in, out, err), 0) << err.str();
  auto text = out.str();
  EXPECT_NE(text.find("Which flow?\n  1) A self-compassion break"), std::string::npos) << text;
  EXPECT_NE(text.find("Type a number from 1 to 3, or a flow's id.\n"), std::string::npos) << text;
  EXPECT_NE(text.find("Welcome to your BRAVING check-in"), std::string::npos) << text;
}

TEST_F(ConnectTest, ResumesAcrossAServerRestartAndShowsNothingTwice) {
  auto port = server_->port();
  // After the third rating is typed, the server stops; a new one starts on the same database and port.
  ScriptedInput script(kBravingAnswers, 4, [&] {
    stop();
    start(port);
  });
  std::istream in(&script);
  auto options = this->options();
  options.flow = "braving";
  std::ostringstream out, err;
  EXPECT_EQ(run_connect(options, in, out, err), 0) << err.str();
  auto text = out.str();
  EXPECT_EQ(count(text, "(reconnecting\u2026)\n"), 1u) << text;
  EXPECT_EQ(count(text, "(reconnected)\n"), 1u) << text;
  EXPECT_EQ(count(text, "Welcome to your BRAVING check-in"), 1u) << text;
  EXPECT_EQ(count(text, "  1\u201310\n"), 7u) << "each rating asked once:\n" << text;
  EXPECT_NE(text.find("  total: 35\n"), std::string::npos) << "the answer sent during the outage counted:\n" << text;
  EXPECT_NE(text.find("(end: completed)\n"), std::string::npos) << text;
}

TEST_F(ConnectTest, ResumesASessionByToken) {
  std::string token;
  {
    auto options = this->options();
    options.flow = "braving";
    std::istringstream in("1\n5\n");
    std::ostringstream out, err;
    ASSERT_EQ(run_connect(options, in, out, err), 0) << err.str();
    std::smatch match;
    auto text = out.str();
    ASSERT_TRUE(std::regex_search(text, match, std::regex("--session (\\S+)\\)")));
    token = match[1];
  }
  auto options = this->options();
  options.session = token;
  std::istringstream in("5\n5\n5\n5\n5\n5\n7\nkinder\n");
  std::ostringstream out, err;
  EXPECT_EQ(run_connect(options, in, out, err), 0) << err.str();
  auto text = out.str();
  EXPECT_EQ(text.rfind("(resumed session; to continue later: trellis connect " + url() + " --session " + token + ")", 0), 0u)
      << text;
  // last_seen 0: everything so far is shown again, then the rest of the check-in.
  EXPECT_EQ(count(text, "Welcome to your BRAVING check-in"), 1u) << text;
  EXPECT_EQ(count(text, "  1\u201310\n"), 7u) << text;
  EXPECT_NE(text.find("(end: completed)\n"), std::string::npos) << text;

  std::istringstream none("");
  std::ostringstream out2, err2;
  auto unknown = this->options();
  unknown.session = "s_not_a_session";
  EXPECT_EQ(run_connect(unknown, none, out2, err2), 1);
  EXPECT_NE(err2.str().find("session_not_found"), std::string::npos) << err2.str();
}

TEST_F(ConnectTest, StopsWhenAnotherConnectionTakesTheSession) {
  std::ostringstream out, err;
  std::unique_ptr<WsConnection> other;
  ScriptedInput script(kBravingAnswers, 2, [&] {
    std::smatch match;
    auto text = out.str();
    ASSERT_TRUE(std::regex_search(text, match, std::regex("--session (\\S+)\\)")));
    auto url = parse_ws_url(this->url());
    auto opened = WsConnection::open(*url, Milliseconds(5000));
    ASSERT_TRUE(opened) << opened.error();
    other = std::move(*opened);
    ASSERT_TRUE(other->send(json{{"type", "hello"}, {"session", match[1].str()}, {"last_seen", 0}}.dump()));
    std::string welcome;
    ASSERT_EQ(other->read(welcome, Milliseconds(5000)), WsConnection::ReadStatus::Frame);
    EXPECT_EQ(json::parse(welcome)["resumed"], true);
  });
  std::istream in(&script);
  auto options = this->options();
  options.flow = "braving";
  EXPECT_EQ(run_connect(options, in, out, err), 1);
  EXPECT_NE(err.str().find("taken over by another connection (superseded)"), std::string::npos) << err.str();
  EXPECT_NE(err.str().find("To continue it here instead: trellis connect " + url() + " --session "), std::string::npos);
  EXPECT_EQ(out.str().find("(reconnecting"), std::string::npos) << "no automatic reconnect:\n" << out.str();
}

TEST_F(ConnectTest, GivesUpWhenTheServerStaysAway) {
  ScriptedInput script(kBravingAnswers, 2, [&] { stop(); });
  std::istream in(&script);
  auto options = this->options();
  options.flow = "braving";
  options.backoff = [] { return Backoff(Milliseconds(5), Milliseconds(20), Milliseconds(100)); };
  std::ostringstream out, err;
  EXPECT_EQ(run_connect(options, in, out, err), 1);
  EXPECT_NE(out.str().find("(reconnecting\u2026)"), std::string::npos) << out.str();
  EXPECT_NE(err.str().find("gave up reconnecting"), std::string::npos) << err.str();
  EXPECT_NE(err.str().find("To continue later: trellis connect "), std::string::npos) << err.str();
  EXPECT_NE(err.str().find(" --last-seen "), std::string::npos) << err.str();
}

TEST_F(ConnectTest, RefusesABadUrlOrFlow) {
  std::istringstream in("");
  std::ostringstream out, err;
  auto options = this->options();
  options.url = "http://127.0.0.1:1/ws";
  EXPECT_EQ(run_connect(options, in, out, err), 2);
  EXPECT_EQ(err.str(), "trellis connect: the URL must start with ws:// (like ws://127.0.0.1:8080/ws)\n");
  std::ostringstream out2, err2;
  auto unknown = this->options();
  unknown.flow = "braveing";
  EXPECT_EQ(run_connect(unknown, in, out2, err2), 1);
  EXPECT_NE(err2.str().find("this server has no flow 'braveing'; it offers:\n  1) A self-compassion break"), std::string::npos)
      << err2.str();
}

}  // namespace
}  // namespace trellis::cli
