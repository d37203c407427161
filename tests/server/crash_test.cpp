// The durability promise, tested from outside: the real `trellis serve` runs as a
// child process, sixteen conversations talk to it at once, and the server is
// killed with SIGKILL at random moments and started again on the same database.
// Afterwards every session's stored history is compared with what its client saw.
//
// Rules checked (docs/protocol.md, "Durability" and "seq, ids and resuming"):
//  1. Every output a client received is in the stored history with the same text.
//  2. Stored ids are 1, 2, 3, ... with no gap and no repeat.
//  3. Stored outputs come in seq blocks 1, 2, 3, ..., each block once: no input
//     was applied twice and none was skipped.
//  4. welcome.last_seq at the end is S or S + 1, where S is the highest seq the
//     client received outputs for; S + 1 only when the client sent S + 1 and never
//     saw its outputs (that turn may or may not have committed: both are fine).
//  5. A client never receives an id it already has, with one exception it asks
//     for on purpose: it sometimes sends an applied input again (after a resume
//     whose welcome says its in-flight input was applied, or after a turn's
//     outputs arrived); the answer must be exactly that turn's stored outputs,
//     each once, identical to what it received.
//     Every other output must carry id last_seen + 1, including the outputs the
//     server re-sends after hello{last_seen}.
//
// The seed is printed; TRELLIS_CRASH_SEED=<n> replays the same kill schedule and
// conversation choices (the exact interleaving still depends on timing).
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "server_process.hpp"
#include "test_client.hpp"

namespace trellis::server {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::steady_clock;
using test_support::ServerProcess;
using testing::TestClient;

constexpr int kConversations = 16;
constexpr int kKills = 5;
constexpr milliseconds kReadTimeout{8000};       // a live server answers a turn far sooner
constexpr milliseconds kStopTimeout{15000};      // SIGTERM to exit
constexpr milliseconds kTrafficAfterLastKill{2000};

// An answer any prompt accepts (as in server_test.cpp), sometimes typed instead of pressed.
json answer_for(const json& prompt, std::int64_t seq, std::mt19937_64& random) {
  const std::string input = prompt["input"];
  const bool typed = random() % 4 == 0;
  if (input == "text") return {{"type", "input"}, {"seq", seq}, {"text", "a few honest words"}};
  if (input == "number") return {{"type", "input"}, {"seq", seq}, {"text", std::to_string(prompt["min"].get<int>())}};
  if (input == "scale") return {{"type", "input"}, {"seq", seq}, {typed ? "text" : "choice", "7"}};
  if (input == "yesno") return {{"type", "input"}, {"seq", seq}, {typed ? "text" : "choice", "yes"}};
  return {{"type", "input"}, {"seq", seq}, {"choice", prompt["choices"][0]["id"]}};
}

// One person's client: loops through flows, and when the server goes away it
// reconnects, resumes with hello{session, last_seen} and finishes its turn.
class Conversation {
 public:
  Conversation(int index, std::uint16_t port, std::uint64_t seed, const std::atomic<bool>& stop)
      : index_(index), port_(port), random_(seed), stop_(stop) {}

  void run() {
    int backoff_ms = 10;
    while (!stop_ && !failed_) {
      auto client = TestClient::connect_within(port_, milliseconds(2000));
      if (!client) {
        std::this_thread::sleep_for(milliseconds(backoff_ms));
        backoff_ms = std::min(backoff_ms * 2, 200);
        continue;
      }
      backoff_ms = 10;
      ++connections_;
      try {
        talk(*client);
      } catch (const beast::system_error&) {
        // A send failed: the server is gone. Reconnect.
      } catch (const std::exception& error) {
        problem(std::string("unexpected exception: ") + error.what());
      }
    }
  }

  const std::string& token() const { return token_; }
  const std::map<std::int64_t, std::string>& seen() const { return seen_; }
  std::int64_t last_seen() const { return last_seen_; }
  std::int64_t max_seq_sent() const { return max_seq_sent_; }
  std::int64_t max_seq_seen() const { return max_seq_seen_; }
  const std::vector<std::string>& problems() const { return problems_; }
  int connections() const { return connections_; }
  int applied_while_away() const { return applied_while_away_; }
  int sent_again() const { return sent_again_; }
  int asked_again() const { return asked_again_; }
  int repeats_received() const { return repeats_received_; }
  int flows_completed() const { return flows_completed_; }

 private:
  void problem(std::string what) {
    problems_.push_back("conversation " + std::to_string(index_) + ": " + std::move(what));
    failed_ = true;  // stop here: later frames would only repeat the symptom
  }

  // One connection, from hello until it drops, the test stops, or a rule is broken.
  void talk(TestClient& client) {
    json hello{{"type", "hello"}, {"client", "crash-test/1"}};
    if (!token_.empty()) {
      hello["session"] = token_;
      hello["last_seen"] = last_seen_;
    }
    client.send(hello);
    auto reply = client.read_text(kReadTimeout);
    if (!reply) return dropped_or_stalled(client, "welcome");
    auto welcome = json::parse(*reply);
    if (welcome["type"] != "welcome") return problem("hello was answered with " + *reply);
    const std::int64_t last_seq = welcome["last_seq"];
    if (token_.empty()) {
      token_ = welcome["session"];
      if (welcome["resumed"] != false || last_seq != 0) return problem("a new session: " + *reply);
    } else if (welcome["resumed"] != true) {
      return problem("resuming was answered with a new session");
    }
    // The server must remember every turn whose outputs this client saw, and
    // cannot have applied an input this client never sent.
    if (last_seq < max_seq_seen_ || last_seq > max_seq_sent_) {
      return problem("welcome says last_seq " + std::to_string(last_seq) + ", but this client saw outputs of seq " +
                     std::to_string(max_seq_seen_) + " and sent up to seq " + std::to_string(max_seq_sent_));
    }

    if (pending_) {
      const std::int64_t seq = (*pending_)["seq"];
      if (last_seq == seq) {
        // Applied while we were away: its outputs follow in the resume replay.
        ++applied_while_away_;
        const bool ask_again = random_() % 2 == 0;
        if (ask_again) {
          // Sending an applied seq again must only repeat its outputs (rule 5).
          ++asked_again_;
          client.send(*pending_);
        }
        if (!finish_turn(client)) return;
        if (ask_again && !read_repeat(client, seq)) return;
      } else {
        // Not applied (it never reached a commit): the same seq again.
        ++sent_again_;
        client.send(*pending_);
        if (!finish_turn(client)) return;
      }
    }
    while (!stop_) {
      const std::int64_t seq = max_seq_sent_ + 1;
      json frame;
      if (!last_output_ || (*last_output_)["type"] == "end") {
        if (last_output_) ++flows_completed_;
        static const char* const kFlows[] = {"braving", "trust", "self-compassion"};
        frame = {{"type", "start"}, {"seq", seq}, {"flow", kFlows[(index_ + flows_completed_) % 3]}};
      } else {
        frame = answer_for(*last_output_, seq, random_);
      }
      pending_ = frame;
      max_seq_sent_ = seq;
      client.send(frame);
      if (!finish_turn(client)) return;
      if (random_() % 20 == 0) {
        // The same seq once more on a live connection, as a client does after a
        // lost acknowledgement: only a repeat of its outputs (rule 5).
        ++asked_again_;
        client.send(frame);
        if (!read_repeat(client, seq)) return;
      }
    }
  }

  // Reads the outputs of the input in flight up to its prompt or end. False when
  // the connection dropped, the test is stopping, or a rule was broken.
  bool finish_turn(TestClient& client) {
    const std::int64_t seq = (*pending_)["seq"];
    for (int frames = 0; frames < 200; ++frames) {
      if (stop_) return false;  // leave the turn unfinished: rule 4's "+1" case
      auto text = client.read_text(kReadTimeout);
      if (!text) {
        dropped_or_stalled(client, "the outputs of seq " + std::to_string(seq));
        return false;
      }
      auto frame = json::parse(*text);
      if (frame["type"] == "error") {
        const std::string code = frame["code"];
        if (code == "rate_limited" || code == "internal") {
          // Nothing was applied; the same seq may be sent again.
          std::this_thread::sleep_for(milliseconds(50));
          client.send(*pending_);
          continue;
        }
        problem("seq " + std::to_string(seq) + " was refused: " + *text);
        return false;
      }
      if (!frame.contains("id")) {
        problem("expected an output of seq " + std::to_string(seq) + ", got " + *text);
        return false;
      }
      const std::int64_t id = frame["id"];
      if (id != last_seen_ + 1) {
        problem((id <= last_seen_ ? "received id " + std::to_string(id) + " again"
                                  : "id jumped from " + std::to_string(last_seen_) + " to " + std::to_string(id)) +
                " while waiting for seq " + std::to_string(seq) + ": " + *text);
        return false;
      }
      if (frame["seq"] != seq) {
        problem("id " + std::to_string(id) + " has seq " + frame["seq"].dump() + ", expected " + std::to_string(seq));
        return false;
      }
      seen_[id] = *text;
      seq_of_id_[id] = seq;
      last_seen_ = id;
      max_seq_seen_ = seq;
      if (frame["type"] == "prompt" || frame["type"] == "end") {
        last_output_ = frame;
        pending_.reset();
        return true;
      }
    }
    problem("seq " + std::to_string(seq) + " produced more than 200 outputs");
    return false;
  }

  // After sending an applied `seq` again: exactly its outputs, in order, as first received.
  bool read_repeat(TestClient& client, std::int64_t seq) {
    for (const auto& [id, id_seq] : seq_of_id_) {
      if (id_seq != seq) continue;
      auto text = client.read_text(kReadTimeout);
      if (!text) {
        dropped_or_stalled(client, "the repeated outputs of seq " + std::to_string(seq));
        return false;
      }
      if (*text != seen_.at(id)) {
        problem("sending applied seq " + std::to_string(seq) + " again should repeat id " + std::to_string(id) +
                " as " + seen_.at(id) + ", got " + *text);
        return false;
      }
      ++repeats_received_;
    }
    return true;
  }

  void dropped_or_stalled(TestClient& client, const std::string& waiting_for) {
    if (client.close_code()) return;  // the server went away: reconnect and resume
    problem("no frame within " + std::to_string(kReadTimeout.count()) + " ms while waiting for " + waiting_for);
  }

  const int index_;
  const std::uint16_t port_;
  std::mt19937_64 random_;
  const std::atomic<bool>& stop_;

  std::string token_;
  std::map<std::int64_t, std::string> seen_;  // id -> the exact frame text received
  std::map<std::int64_t, std::int64_t> seq_of_id_;
  std::int64_t last_seen_ = 0;
  std::int64_t max_seq_sent_ = 0;
  std::int64_t max_seq_seen_ = 0;
  std::optional<json> pending_;      // the input in flight, until its prompt or end arrives
  std::optional<json> last_output_;  // the last prompt or end
  std::vector<std::string> problems_;
  bool failed_ = false;

  int connections_ = 0;
  int applied_while_away_ = 0;  // in flight at a drop, found applied on resume
  int sent_again_ = 0;          // in flight at a drop, not applied: sent again with the same seq
  int asked_again_ = 0;         // applied, and sent again on purpose (rule 5), after a resume or not
  int repeats_received_ = 0;
  int flows_completed_ = 0;
};

// What the server has stored for one session, fetched with hello{last_seen: 0}.
struct StoredHistory {
  std::int64_t last_seq = 0;
  std::vector<std::string> frames;
};

std::optional<StoredHistory> fetch_history(std::uint16_t port, const std::string& token, std::string* error) {
  auto client = TestClient::connect_within(port, milliseconds(5000));
  if (!client) {
    *error = "cannot connect";
    return std::nullopt;
  }
  client->send({{"type", "hello"}, {"session", token}, {"last_seen", 0}, {"client", "crash-test/1"}});
  auto reply = client->read_text(kReadTimeout);
  if (!reply) {
    *error = "no welcome";
    return std::nullopt;
  }
  auto welcome = json::parse(*reply);
  if (welcome["type"] != "welcome" || welcome["resumed"] != true) {
    *error = "hello was answered with " + *reply;
    return std::nullopt;
  }
  StoredHistory history;
  history.last_seq = welcome["last_seq"];
  // The replay has no end marker. A seq two ahead is refused with seq_out_of_order
  // and applies nothing; the server reads it only after the whole replay is sent.
  client->send({{"type", "input"}, {"seq", history.last_seq + 2}, {"text", "end of history"}});
  for (;;) {
    auto text = client->read_text(kReadTimeout);
    if (!text) {
      *error = "the replay stopped after " + std::to_string(history.frames.size()) + " frames";
      return std::nullopt;
    }
    auto frame = json::parse(*text);
    if (frame["type"] == "error") {
      if (frame["code"] != "seq_out_of_order") {
        *error = "the end marker was answered with " + *text;
        return std::nullopt;
      }
      return history;
    }
    history.frames.push_back(*text);
  }
}

// Rules 1 to 4 for one conversation; returns what is wrong, empty when all hold.
std::vector<std::string> check_history(int index, const Conversation& conversation, const StoredHistory& history) {
  std::vector<std::string> wrong;
  auto say = [&](std::string what) { wrong.push_back("session " + std::to_string(index) + ": " + std::move(what)); };

  // 2 and 3: ids 1, 2, 3, ...; seqs in blocks 1, 2, 3, ... ending at last_seq.
  std::int64_t block_seq = 0;
  for (std::size_t i = 0; i < history.frames.size(); ++i) {
    auto frame = json::parse(history.frames[i]);
    const auto expected_id = static_cast<std::int64_t>(i + 1);
    if (frame["id"] != expected_id) {
      say("stored output " + std::to_string(i) + " has id " + frame["id"].dump() + ", expected " +
          std::to_string(expected_id));
      break;
    }
    const std::int64_t seq = frame["seq"];
    if (seq != block_seq && seq != block_seq + 1) {
      say("id " + std::to_string(expected_id) + " has seq " + std::to_string(seq) + " after a block of seq " +
          std::to_string(block_seq) + (seq <= block_seq ? ": a seq stored twice" : ": a seq is missing"));
      break;
    }
    block_seq = seq;
  }
  if (block_seq != history.last_seq) {
    say("the last stored output has seq " + std::to_string(block_seq) + " but last_seq is " +
        std::to_string(history.last_seq));
  }

  // 1: everything the client received is stored, byte for byte; it saw ids 1..last_seen.
  std::int64_t expected_id = 1;
  for (const auto& [id, text] : conversation.seen()) {
    if (id != expected_id++) {
      say("the client's ids are not 1.." + std::to_string(conversation.last_seen()));
      break;
    }
    if (id > static_cast<std::int64_t>(history.frames.size())) {
      say("the client received id " + std::to_string(id) + " but only " + std::to_string(history.frames.size()) +
          " outputs are stored: a turn it saw was lost");
      break;
    }
    if (history.frames[static_cast<std::size_t>(id - 1)] != text) {
      say("id " + std::to_string(id) + " was received as " + text + " but is stored as " +
          history.frames[static_cast<std::size_t>(id - 1)]);
      break;
    }
  }

  // 4: last_seq is the last seq seen, or one more if that input's outputs were never seen.
  const std::int64_t seen = conversation.max_seq_seen();
  const std::int64_t sent = conversation.max_seq_sent();
  const bool last_unseen = sent == seen + 1;
  if (!(history.last_seq == seen || (last_unseen && history.last_seq == seen + 1))) {
    say("last_seq is " + std::to_string(history.last_seq) + "; the client saw outputs up to seq " +
        std::to_string(seen) + " and sent up to seq " + std::to_string(sent));
  }
  return wrong;
}

class CrashTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::mt19937_64 names{std::random_device{}()};
    folder_ = fs::temp_directory_path() / ("trellis-crash-" + std::to_string(names()));
    fs::create_directories(folder_ / "web");
    std::ofstream(folder_ / "web" / "index.html") << "<!doctype html><title>Trellis</title>";
    server_ = std::make_unique<ServerProcess>(test_support::ServerProcessOptions{
        TRELLIS_BINARY, fs::path(TRELLIS_SOURCE_DIR) / "dialogs", folder_, {}});
  }
  void TearDown() override {
    stop_ = true;
    for (auto& thread : threads_) {
      if (thread.joinable()) thread.join();
    }
    server_.reset();  // kills the child if it still runs
    std::error_code ignored;
    if (HasFailure()) {
      std::cout << "crash test: kept " << folder_ << " (server log: server.log)" << std::endl;
    } else {
      fs::remove_all(folder_, ignored);
    }
  }

  fs::path folder_;
  std::unique_ptr<ServerProcess> server_;
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
};

TEST_F(CrashTest, KillNineLosesNothingAndAppliesNothingTwice) {
  std::uint64_t seed = std::random_device{}();
  if (const char* given = std::getenv("TRELLIS_CRASH_SEED")) seed = std::strtoull(given, nullptr, 10);
  std::cout << "crash test: seed " << seed << " (TRELLIS_CRASH_SEED=" << seed << " to replay)" << std::endl;
  std::mt19937_64 random(seed);
  const auto began = steady_clock::now();

  ASSERT_TRUE(server_->start_anywhere()) << "the server did not start; see " << server_->log_file();

  std::vector<std::unique_ptr<Conversation>> conversations;
  for (int i = 0; i < kConversations; ++i) {
    conversations.push_back(std::make_unique<Conversation>(i, server_->port(), random(), stop_));
  }
  for (auto& conversation : conversations) {
    threads_.emplace_back([&conversation] { conversation->run(); });
  }

  // Kills alternate between steady traffic (clients deep in their flows) and any
  // moment soon after a restart (clients reconnecting, resuming, re-sending).
  for (int kill = 0; kill < kKills; ++kill) {
    const int wait_ms = kill % 2 == 0 ? 1000 + static_cast<int>(random() % 2000) : static_cast<int>(random() % 600);
    std::this_thread::sleep_for(milliseconds(wait_ms));
    server_->kill_now();
    std::cout << "crash test: kill -9 #" << kill + 1 << " after " << wait_ms << " ms of uptime" << std::endl;
    ASSERT_TRUE(server_->restart()) << "the server did not come back on port " << server_->port();
  }
  std::this_thread::sleep_for(kTrafficAfterLastKill);
  // A graceful stop under full traffic: turns in flight finish, connections close
  // with 1001, and the clients keep trying to reconnect until told to stop.
  auto exit_code = server_->terminate(kStopTimeout);
  stop_ = true;
  for (auto& thread : threads_) thread.join();
  threads_.clear();
  ASSERT_TRUE(exit_code) << "SIGTERM did not stop the server within " << kStopTimeout.count() << " ms";
  EXPECT_EQ(*exit_code, 0) << "graceful stop";
  ASSERT_TRUE(server_->restart()) << "the server did not start after the graceful stop";

  int turns = 0, connections = 0, applied_while_away = 0, sent_again = 0, asked_again = 0, repeats = 0, flows = 0;
  for (int i = 0; i < kConversations; ++i) {
    const auto& conversation = *conversations[static_cast<std::size_t>(i)];
    for (const auto& problem : conversation.problems()) ADD_FAILURE() << problem;
    turns += static_cast<int>(conversation.max_seq_seen());
    connections += conversation.connections();
    applied_while_away += conversation.applied_while_away();
    sent_again += conversation.sent_again();
    asked_again += conversation.asked_again();
    repeats += conversation.repeats_received();
    flows += conversation.flows_completed();
    if (conversation.token().empty()) {
      ADD_FAILURE() << "conversation " << i << " never got a welcome";
      continue;
    }
    std::string error;
    auto history = fetch_history(server_->port(), conversation.token(), &error);
    if (!history) {
      ADD_FAILURE() << "session " << i << ": cannot read the stored history: " << error;
      continue;
    }
    for (const auto& wrong : check_history(i, conversation, *history)) ADD_FAILURE() << wrong;
    EXPECT_GE(conversation.max_seq_seen(), 3) << "conversation " << i << " hardly ran; the test proves little";
  }
  EXPECT_EQ(server_->terminate(kStopTimeout), std::optional<int>(0));

  const double seconds = std::chrono::duration<double>(steady_clock::now() - began).count();
  std::cout << "crash test: " << kConversations << " conversations, " << turns << " turns seen, " << flows
            << " flows completed, " << connections << " connections, " << server_->starts() << " server starts; "
            << "in flight at a kill: " << applied_while_away << " applied, " << sent_again
            << " not applied (sent again); " << asked_again << " applied turns asked for again (" << repeats
            << " repeated outputs); " << seconds << " s" << std::endl;
}

}  // namespace
}  // namespace trellis::server
