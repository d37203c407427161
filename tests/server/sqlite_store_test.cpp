#include "sqlite_store.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <future>
#include <iostream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "shipped_schemas.hpp"

namespace trellis::server {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

const Clock::time_point kT0 = Clock::time_point{} + 1'700'000'000'000ms;

// A fresh folder per test, removed afterwards.
class TempFolder {
 public:
  TempFolder() {
    std::string pattern = (fs::temp_directory_path() / "trellis-store-XXXXXX").string();
    if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempFolder() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  fs::path file() const { return path_ / "data" / "sessions.db"; }  // "data" does not exist yet

 private:
  fs::path path_;
};

// Calls `call` with a callback and waits for the store thread to run it.
template <typename T, typename Call>
StoreResult<T> await(Call call) {
  auto promise = std::make_shared<std::promise<StoreResult<T>>>();
  auto result = promise->get_future();
  call([promise](StoreResult<T> r) { promise->set_value(std::move(r)); });
  return result.get();
}

std::unique_ptr<SqliteStore> open_store(const fs::path& file, SqliteStore::Options options = {}) {
  auto store = SqliteStore::open(file, std::move(options));
  if (!store) throw std::runtime_error(store.error().message);
  return std::move(*store);
}

StoredSession create(SessionStore& store, const std::string& hash, Clock::time_point now = kT0) {
  auto session = await<StoredSession>([&](auto done) { store.create_session(hash, now, done); });
  if (!session) throw std::runtime_error(session.error().message);
  return *session;
}

std::optional<StoredSession> load(SessionStore& store, const std::string& hash) {
  auto session = await<std::optional<StoredSession>>([&](auto done) { store.load_session(hash, done); });
  if (!session) throw std::runtime_error(session.error().message);
  return *session;
}

std::vector<StoredOutput> outputs_after(SessionStore& store, std::int64_t session_id, std::int64_t after_id) {
  auto outputs =
      await<std::vector<StoredOutput>>([&](auto done) { store.outputs_after(session_id, after_id, done); });
  if (!outputs) throw std::runtime_error(outputs.error().message);
  return *outputs;
}

std::vector<StoredOutput> outputs_of_seq(SessionStore& store, std::int64_t session_id, std::int64_t seq) {
  auto outputs = await<std::vector<StoredOutput>>([&](auto done) { store.outputs_of_seq(session_id, seq, done); });
  if (!outputs) throw std::runtime_error(outputs.error().message);
  return *outputs;
}

std::string state_after(std::int64_t seq) { return R"({"turn":)" + std::to_string(seq) + "}"; }

// Turn `seq` of a session whose outputs so far end at `last_output_id`.
TurnRecord make_turn(std::int64_t session_id, std::int64_t seq, std::int64_t last_output_id, int output_count,
                     Clock::time_point at = kT0) {
  TurnRecord turn{session_id, seq, state_after(seq), {}, "trust", at};
  for (int i = 1; i <= output_count; ++i) {
    const std::int64_t id = last_output_id + i;
    turn.outputs.push_back(StoredOutput{id, seq, R"({"type":"say","id":)" + std::to_string(id) + "}"});
  }
  return turn;
}

StoreResult<void> commit(SessionStore& store, TurnRecord turn) {
  auto committed = await<TurnRecord>([&](auto done) { store.commit_turn(std::move(turn), done); });
  if (!committed) return tl::unexpected(committed.error());
  return {};
}

std::vector<std::int64_t> ids_of(const std::vector<StoredOutput>& outputs) {
  std::vector<std::int64_t> ids;
  for (const auto& output : outputs) ids.push_back(output.id);
  return ids;
}

// Holds the store's thread inside a callback until release(), so that jobs
// submitted meanwhile are taken as one batch.
class WriterHold {
 public:
  explicit WriterHold(SessionStore& store) {
    auto entered = std::make_shared<std::promise<void>>();
    auto entered_future = entered->get_future();
    store.load_session("hold", [entered, released = released_.get_future().share()](auto) {
      entered->set_value();
      released.wait();
    });
    entered_future.wait();
  }
  void release() { released_.set_value(); }

 private:
  std::promise<void> released_;
};

// A second, independent connection to the file, as an operator would use.
std::int64_t count_rows(const fs::path& file, const std::string& sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  EXPECT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  const std::int64_t count = sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return count;
}

bool file_contains(const fs::path& file, const std::string& needle) {
  std::ifstream in(file, std::ios::binary);
  const std::string bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  return bytes.find(needle) != std::string::npos;
}

TEST(SqliteStore, CreatesTheFolderAndLoadsSessionsByTokenHash) {
  TempFolder folder;
  auto store = open_store(folder.file());
  EXPECT_TRUE(fs::exists(folder.file()));

  const StoredSession a = create(*store, "hash-a");
  const StoredSession b = create(*store, "hash-b");
  EXPECT_NE(a.id, b.id);

  const auto loaded = load(*store, "hash-a");
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->id, a.id);
  EXPECT_EQ(loaded->state_json, "");
  EXPECT_EQ(loaded->last_seq, 0);
  EXPECT_EQ(loaded->last_output_id, 0);
  EXPECT_FALSE(load(*store, "hash-unknown"));
  EXPECT_EQ(store->stats().sessions, 2u);

  auto duplicate = await<StoredSession>([&](auto done) { store->create_session("hash-a", kT0, done); });
  ASSERT_FALSE(duplicate);
  EXPECT_EQ(duplicate.error().message.find("hash-a"), std::string::npos) << "no token hash in errors";
  EXPECT_EQ(store->stats().sessions, 2u);
}

TEST(SqliteStore, CommitsATurnAndReloadsItsStateAndOutputs) {
  TempFolder folder;
  auto store = open_store(folder.file());
  const StoredSession session = create(*store, "hash-a");

  ASSERT_TRUE(commit(*store, make_turn(session.id, 1, 0, 2)));
  ASSERT_TRUE(commit(*store, make_turn(session.id, 2, 2, 1)));

  const auto loaded = load(*store, "hash-a");
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->state_json, state_after(2));
  EXPECT_EQ(loaded->last_seq, 2);
  EXPECT_EQ(loaded->last_output_id, 3);
  const auto outputs = outputs_after(*store, session.id, 0);
  ASSERT_EQ(outputs.size(), 3u);
  EXPECT_EQ(outputs[0].frame, R"({"type":"say","id":1})");
  EXPECT_EQ(outputs[2].seq, 2);
  EXPECT_EQ(store->stats().commits, 2u);
}

// The caller sends the frames it gets back, so they must be the turn's own, whole.
TEST(SqliteStore, ACommittedTurnIsHandedBackWithItsFrames) {
  TempFolder folder;
  auto store = open_store(folder.file());
  const StoredSession session = create(*store, "hash-a");
  const TurnRecord turn = make_turn(session.id, 1, 0, 3);
  auto committed = await<TurnRecord>([&](auto done) { store->commit_turn(turn, done); });
  ASSERT_TRUE(committed) << committed.error().message;
  EXPECT_EQ(committed->seq, 1);
  EXPECT_EQ(committed->state_json, turn.state_json);
  ASSERT_EQ(committed->outputs.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(committed->outputs[i].id, turn.outputs[i].id);
    EXPECT_EQ(committed->outputs[i].frame, turn.outputs[i].frame);
  }
  auto refused = await<TurnRecord>([&](auto done) { store->commit_turn(turn, done); });
  EXPECT_FALSE(refused) << "the same seq twice";
}

TEST(SqliteStore, OutputsAfterAndOutputsOfSeqAreInIdOrder) {
  TempFolder folder;
  auto store = open_store(folder.file());
  const StoredSession a = create(*store, "hash-a");
  const StoredSession b = create(*store, "hash-b");
  ASSERT_TRUE(commit(*store, make_turn(a.id, 1, 0, 3)));   // ids 1-3
  ASSERT_TRUE(commit(*store, make_turn(b.id, 1, 0, 2)));   // another session's ids 1-2
  ASSERT_TRUE(commit(*store, make_turn(a.id, 2, 3, 0)));   // a turn with no output
  ASSERT_TRUE(commit(*store, make_turn(a.id, 3, 3, 12)));  // ids 4-15: 10 sorts before 9 as text

  EXPECT_EQ(ids_of(outputs_after(*store, a.id, 2)),
            (std::vector<std::int64_t>{3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}));
  EXPECT_EQ(ids_of(outputs_after(*store, a.id, 15)), std::vector<std::int64_t>{});
  EXPECT_EQ(ids_of(outputs_of_seq(*store, a.id, 1)), (std::vector<std::int64_t>{1, 2, 3}));
  EXPECT_EQ(ids_of(outputs_of_seq(*store, a.id, 2)), std::vector<std::int64_t>{});
  EXPECT_EQ(outputs_of_seq(*store, a.id, 3).size(), 12u);
  EXPECT_EQ(ids_of(outputs_after(*store, b.id, 0)), (std::vector<std::int64_t>{1, 2}));
}

// turn_log holds every session's turns in commit order, each linked to its
// session's previous turn: interleaved sessions must each find only their own.
TEST(SqliteStore, InterleavedSessionsEachWalkOnlyTheirOwnTurns) {
  TempFolder folder;
  auto store = open_store(folder.file());
  std::vector<StoredSession> sessions;
  for (const char* hash : {"hash-a", "hash-b", "hash-c"}) sessions.push_back(create(*store, hash));
  for (std::int64_t seq = 1; seq <= 5; ++seq) {
    for (std::size_t i = 0; i < sessions.size(); ++i) {
      const int frames = static_cast<int>(i) + 1;  // a: 1 frame a turn, b: 2, c: 3
      ASSERT_TRUE(commit(*store, make_turn(sessions[i].id, seq, (seq - 1) * frames, frames)));
    }
  }
  EXPECT_EQ(count_rows(folder.file(), "SELECT count(*) FROM turn_log"), 15);
  for (std::size_t i = 0; i < sessions.size(); ++i) {
    const std::int64_t frames = static_cast<std::int64_t>(i) + 1;
    const auto all = outputs_after(*store, sessions[i].id, 0);
    ASSERT_EQ(all.size(), static_cast<std::size_t>(5 * frames)) << "session " << i;
    for (std::size_t k = 0; k < all.size(); ++k) {
      EXPECT_EQ(all[k].id, static_cast<std::int64_t>(k) + 1);
      EXPECT_EQ(all[k].seq, static_cast<std::int64_t>(k) / frames + 1);
    }
    EXPECT_EQ(outputs_of_seq(*store, sessions[i].id, 1).size(), static_cast<std::size_t>(frames)) << "the oldest";
    EXPECT_EQ(outputs_of_seq(*store, sessions[i].id, 4).front().id, 3 * frames + 1);
    EXPECT_TRUE(outputs_of_seq(*store, sessions[i].id, 6).empty()) << "not yet played";
  }
  // Deleting the middle session unlinks none of the others' turns.
  ASSERT_TRUE(await<void>([&](auto done) { store->delete_session(sessions[1].id, done); }));
  EXPECT_EQ(count_rows(folder.file(), "SELECT count(*) FROM turn_log"), 10);
  EXPECT_EQ(outputs_after(*store, sessions[0].id, 0).size(), 5u);
  EXPECT_EQ(outputs_after(*store, sessions[2].id, 0).size(), 15u);
  EXPECT_TRUE(outputs_after(*store, sessions[1].id, 0).empty());
}

TEST(SqliteStore, OutputsAfterAnIdInsideATurnGivesOnlyTheLaterFramesOfThatTurn) {
  TempFolder folder;
  auto store = open_store(folder.file());
  const StoredSession a = create(*store, "hash-a");
  ASSERT_TRUE(commit(*store, make_turn(a.id, 1, 0, 3)));  // ids 1-3
  ASSERT_TRUE(commit(*store, make_turn(a.id, 2, 3, 4)));  // ids 4-7
  const auto after_5 = outputs_after(*store, a.id, 5);
  EXPECT_EQ(ids_of(after_5), (std::vector<std::int64_t>{6, 7}));
  ASSERT_EQ(after_5.size(), 2u);
  EXPECT_EQ(after_5[0].seq, 2);
  EXPECT_EQ(after_5[0].frame, R"({"type":"say","id":6})");
  EXPECT_EQ(ids_of(outputs_after(*store, a.id, 1)), (std::vector<std::int64_t>{2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(ids_of(outputs_after(*store, a.id, 3)), (std::vector<std::int64_t>{4, 5, 6, 7}));
}

TEST(SqliteStore, FramesKeepEveryByteIncludingNewlinesColonsAndEmptyFrames) {
  TempFolder folder;
  auto store = open_store(folder.file());
  const StoredSession a = create(*store, "hash-a");
  TurnRecord turn = make_turn(a.id, 1, 0, 4);
  turn.outputs[0].frame = "line 1\nline 2\r\n12:34";
  turn.outputs[1].frame = "";
  turn.outputs[2].frame = std::string("nul\0inside", 10);
  turn.outputs[3].frame = std::string(70000, 'x');
  ASSERT_TRUE(commit(*store, turn));
  const auto back = outputs_of_seq(*store, a.id, 1);
  ASSERT_EQ(back.size(), 4u);
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(back[i].frame, turn.outputs[i].frame) << i;
    EXPECT_EQ(back[i].id, turn.outputs[i].id) << i;
    EXPECT_EQ(back[i].seq, 1) << i;
  }
}

TEST(SqliteStore, AVersion2FileKeepsItsOutputsWhenMigratedToOneRowPerTurn) {
  TempFolder folder;
  fs::create_directories(folder.file().parent_path());
  {
    // The schema as versions 1 and 2 shipped it, with outputs of two sessions.
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(folder.file().c_str(), &db), SQLITE_OK);
    const std::string v2 = std::string(testing::kSchemaVersion1) + testing::kSchemaVersion2Additions + R"sql(
      INSERT INTO sessions(token_hash, created_at, updated_at, state_json, last_seq, last_output_id)
        VALUES('hash-a', 1, 1, '{"turn":3}', 3, 15), ('hash-b', 1, 1, '{"turn":1}', 1, 2);
      INSERT INTO outputs(session_id, id, seq, frame) VALUES
        (1, 3, 1, 'a3'), (1, 1, 1, 'a1'), (1, 2, 1, 'a2:with colon'),
        (2, 1, 1, 'b1'), (2, 2, 1, 'b2'),
        (1, 10, 3, 'a10'), (1, 4, 3, 'a4'), (1, 5, 3, 'a5'), (1, 6, 3, 'a6'), (1, 7, 3, 'a7'), (1, 8, 3, 'a8'),
        (1, 9, 3, 'a9'), (1, 11, 3, 'a11'), (1, 12, 3, 'a12'), (1, 13, 3, 'a13'), (1, 14, 3, 'a14'),
        (1, 15, 3, 'a15');
      PRAGMA user_version = 2;)sql";
    ASSERT_EQ(sqlite3_exec(db, v2.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    sqlite3_close(db);
  }
  auto store = open_store(folder.file());
  EXPECT_EQ(count_rows(folder.file(), "PRAGMA user_version"), SqliteStore::kSchemaVersion);
  EXPECT_EQ(count_rows(folder.file(), "SELECT count(*) FROM sqlite_schema WHERE name = 'outputs'"), 0);
  EXPECT_EQ(count_rows(folder.file(), "SELECT count(*) FROM turn_log"), 3) << "a: seq 1 and 3; b: seq 1";
  const auto a = load(*store, "hash-a");
  ASSERT_TRUE(a);
  const auto all = outputs_after(*store, a->id, 0);
  ASSERT_EQ(all.size(), 15u);
  for (std::size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].id, static_cast<std::int64_t>(i + 1));
    EXPECT_EQ(all[i].seq, i < 3 ? 1 : 3);
  }
  EXPECT_EQ(all[1].frame, "a2:with colon");
  EXPECT_EQ(all[9].frame, "a10");
  EXPECT_EQ(ids_of(outputs_after(*store, a->id, 2)),
            (std::vector<std::int64_t>{3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}));
  EXPECT_EQ(ids_of(outputs_of_seq(*store, a->id, 1)), (std::vector<std::int64_t>{1, 2, 3}));
  EXPECT_EQ(ids_of(outputs_of_seq(*store, a->id, 2)), std::vector<std::int64_t>{});
  EXPECT_EQ(outputs_of_seq(*store, a->id, 3).size(), 12u);
  const auto b = load(*store, "hash-b");
  ASSERT_TRUE(b);
  EXPECT_EQ(ids_of(outputs_after(*store, b->id, 0)), (std::vector<std::int64_t>{1, 2}));
  // The migrated session goes on where it was.
  ASSERT_TRUE(commit(*store, make_turn(a->id, 4, 15, 2)));
  EXPECT_EQ(ids_of(outputs_after(*store, a->id, 14)), (std::vector<std::int64_t>{15, 16, 17}));
}

TEST(SqliteStore, RefusesATurnThatIsNotTheNextOneAndChangesNothing) {
  TempFolder folder;
  auto store = open_store(folder.file());
  const StoredSession session = create(*store, "hash-a");
  ASSERT_TRUE(commit(*store, make_turn(session.id, 1, 0, 2)));

  struct Case {
    const char* name;
    TurnRecord turn;
  };
  TurnRecord wrong_output_seq = make_turn(session.id, 2, 2, 1);
  wrong_output_seq.outputs[0].seq = 1;
  const std::vector<Case> cases = {
      {"the same turn again", make_turn(session.id, 1, 0, 2)},
      {"a seq that skips one", make_turn(session.id, 3, 2, 1)},
      {"an output id that reuses one", make_turn(session.id, 2, 1, 1)},
      {"an output id that skips one", make_turn(session.id, 2, 3, 1)},
      {"an output with another seq", wrong_output_seq},
      {"a session that does not exist", make_turn(session.id + 100, 1, 0, 1)},
  };
  for (const auto& c : cases) {
    auto result = commit(*store, c.turn);
    ASSERT_FALSE(result) << c.name;
    EXPECT_EQ(result.error().message.find("turn\":"), std::string::npos) << "no state in errors: " << c.name;
    EXPECT_EQ(result.error().message.find("say"), std::string::npos) << "no frame in errors: " << c.name;
  }
  const auto loaded = load(*store, "hash-a");
  EXPECT_EQ(loaded->state_json, state_after(1));
  EXPECT_EQ(loaded->last_seq, 1);
  EXPECT_EQ(loaded->last_output_id, 2);
  EXPECT_EQ(ids_of(outputs_after(*store, session.id, 0)), (std::vector<std::int64_t>{1, 2}));
  EXPECT_EQ(store->stats().commits, 1u);
}

TEST(SqliteStore, OneRefusedTurnDoesNotRollBackTheOthersInItsBatch) {
  TempFolder folder;
  auto store = open_store(folder.file());
  const StoredSession a = create(*store, "hash-a");
  const StoredSession b = create(*store, "hash-b");
  const auto transactions_before = store->stats().transactions;

  WriterHold hold(*store);
  std::promise<bool> ra, rduplicate, rb;
  store->commit_turn(make_turn(a.id, 1, 0, 1), [&](auto r) { ra.set_value(r.has_value()); });
  store->commit_turn(make_turn(a.id, 1, 0, 1), [&](auto r) { rduplicate.set_value(r.has_value()); });
  store->commit_turn(make_turn(b.id, 1, 0, 2), [&](auto r) { rb.set_value(r.has_value()); });
  hold.release();

  EXPECT_TRUE(ra.get_future().get());
  EXPECT_FALSE(rduplicate.get_future().get());
  EXPECT_TRUE(rb.get_future().get());
  EXPECT_EQ(store->stats().transactions, transactions_before + 1);
  EXPECT_EQ(load(*store, "hash-a")->last_output_id, 1);
  EXPECT_EQ(load(*store, "hash-b")->last_output_id, 2);
}

TEST(SqliteStore, GroupCommitBatchesTurnsFromManyThreads) {
  TempFolder folder;
  auto store = open_store(folder.file());
  constexpr int kThreads = 8;
  constexpr int kTurnsPerThread = 25;
  std::vector<StoredSession> sessions;
  for (int t = 0; t < kThreads; ++t) sessions.push_back(create(*store, "hash-" + std::to_string(t)));
  const auto before = store->stats();

  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      // Submit every turn at once: the queue keeps one session's turns in order.
      std::vector<std::future<bool>> results;
      for (int seq = 1; seq <= kTurnsPerThread; ++seq) {
        auto promise = std::make_shared<std::promise<bool>>();
        results.push_back(promise->get_future());
        store->commit_turn(make_turn(sessions[t].id, seq, seq - 1, 1),
                           [promise](StoreResult<TurnRecord> r) { promise->set_value(r.has_value()); });
      }
      for (auto& result : results) failures += result.get() ? 0 : 1;
    });
  }
  for (auto& thread : threads) thread.join();

  EXPECT_EQ(failures, 0);
  const auto after = store->stats();
  const auto commits = after.commits - before.commits;
  const auto transactions = after.transactions - before.transactions;
  EXPECT_EQ(commits, 200u);
  EXPECT_LT(transactions, commits);
  std::cout << "[ measured ] 200 turns from 8 threads in " << transactions << " transactions\n";
  for (const auto& session : sessions) {
    EXPECT_EQ(outputs_after(*store, session.id, 0).size(), static_cast<std::size_t>(kTurnsPerThread));
  }
  EXPECT_EQ(count_rows(folder.file(), "SELECT count(*) FROM turn_log"), 200) << "one output per turn, one row per turn";
}

TEST(SqliteStore, DeleteSessionRemovesItsOutputsFromTheFile) {
  TempFolder folder;
  auto store = open_store(folder.file());
  const StoredSession doomed = create(*store, "hash-doomed");
  const StoredSession kept = create(*store, "hash-kept");
  TurnRecord secret = make_turn(doomed.id, 1, 0, 2);
  secret.outputs[0].frame = R"({"type":"say","text":"my secret 7f3a9c"})";
  secret.state_json = R"({"answers":{"feeling":"secret 7f3a9c"}})";
  ASSERT_TRUE(commit(*store, secret));
  ASSERT_TRUE(commit(*store, make_turn(kept.id, 1, 0, 1)));

  ASSERT_TRUE(await<void>([&](auto done) { store->delete_session(doomed.id, done); }));
  EXPECT_FALSE(load(*store, "hash-doomed"));
  EXPECT_TRUE(load(*store, "hash-kept"));
  EXPECT_EQ(count_rows(folder.file(), "SELECT count(*) FROM turn_log WHERE session_id = " + std::to_string(doomed.id)),
            0);
  EXPECT_EQ(count_rows(folder.file(), "SELECT count(*) FROM sessions WHERE id = " + std::to_string(doomed.id)), 0);
  EXPECT_EQ(count_rows(folder.file(), "SELECT count(*) FROM turn_log"), 1);
  EXPECT_EQ(store->stats().sessions, 1u);
  // secure_delete and the WAL truncation: the text is in no byte of either file.
  fs::path wal = folder.file();
  wal += "-wal";
  EXPECT_FALSE(file_contains(folder.file(), "7f3a9c"));
  EXPECT_FALSE(file_contains(wal, "7f3a9c"));

  ASSERT_TRUE(await<void>([&](auto done) { store->delete_session(doomed.id, done); })) << "deleting twice is fine";
  EXPECT_FALSE(commit(*store, make_turn(doomed.id, 2, 2, 1))) << "a deleted session takes no more turns";
}

// updated_at has an index, so it moves only when a turn comes a minute or more
// after it: idle is measured to the minute, and most turns leave the index alone.
TEST(SqliteStore, ActivityIsKeptToTheMinute) {
  TempFolder folder;
  auto store = open_store(folder.file());
  const StoredSession within = create(*store, "hash-within", kT0);
  const StoredSession later = create(*store, "hash-later", kT0);
  ASSERT_TRUE(commit(*store, make_turn(within.id, 1, 0, 1, kT0 + 30s)));
  ASSERT_TRUE(commit(*store, make_turn(later.id, 1, 0, 1, kT0 + 30s)));
  ASSERT_TRUE(commit(*store, make_turn(later.id, 2, 1, 1, kT0 + 61s)));

  auto purged = await<int>([&](auto done) { store->purge_idle(kT0 + 1s, done); });
  ASSERT_TRUE(purged);
  EXPECT_EQ(*purged, 1) << "a turn 30 s after the last recorded activity does not move it";
  EXPECT_FALSE(load(*store, "hash-within"));
  ASSERT_TRUE(load(*store, "hash-later")) << "61 s after it does";
  EXPECT_EQ(load(*store, "hash-later")->last_seq, 2);
  purged = await<int>([&](auto done) { store->purge_idle(kT0 + 61s, done); });
  ASSERT_TRUE(purged);
  EXPECT_EQ(*purged, 0);
  purged = await<int>([&](auto done) { store->purge_idle(kT0 + 62s, done); });
  ASSERT_TRUE(purged);
  EXPECT_EQ(*purged, 1);
}

TEST(SqliteStore, PurgeIdleRemovesOnlyIdleSessions) {
  TempFolder folder;
  auto store = open_store(folder.file());
  const StoredSession idle = create(*store, "hash-idle", kT0);
  const StoredSession active = create(*store, "hash-active", kT0);
  const StoredSession fresh = create(*store, "hash-fresh", kT0 + 2h);
  ASSERT_TRUE(commit(*store, make_turn(idle.id, 1, 0, 1, kT0 + 10min)));
  ASSERT_TRUE(commit(*store, make_turn(active.id, 1, 0, 1, kT0 + 90min)));

  auto purged = await<int>([&](auto done) { store->purge_idle(kT0 + 1h, done); });
  ASSERT_TRUE(purged);
  EXPECT_EQ(*purged, 1);
  EXPECT_FALSE(load(*store, "hash-idle"));
  EXPECT_TRUE(load(*store, "hash-active"));
  EXPECT_TRUE(load(*store, "hash-fresh"));
  EXPECT_EQ(count_rows(folder.file(), "SELECT count(*) FROM turn_log WHERE session_id = " + std::to_string(idle.id)),
            0);
  EXPECT_EQ(store->stats().sessions, 2u);
  (void)fresh;
}

TEST(SqliteStore, SavesAndLoadsFlowVersions) {
  TempFolder folder;
  auto store = open_store(folder.file());
  auto save = [&](std::string flow, int version, std::string text) {
    return await<void>([&](auto done) { store->save_flow_version(flow, version, text, done); });
  };
  auto load_version = [&](std::string flow, int version) {
    return await<std::optional<std::string>>([&](auto done) { store->load_flow_version(flow, version, done); });
  };
  ASSERT_TRUE(save("trust", 1, "text v1"));
  ASSERT_TRUE(save("trust", 2, "text v2"));
  ASSERT_TRUE(save("trust", 1, "text v1")) << "saving the same text again is fine";
  EXPECT_FALSE(save("trust", 1, "changed")) << "a stored version never changes";
  EXPECT_EQ(*load_version("trust", 1), std::optional<std::string>("text v1"));
  EXPECT_EQ(*load_version("trust", 2), std::optional<std::string>("text v2"));
  EXPECT_EQ(*load_version("trust", 3), std::nullopt);
  EXPECT_EQ(*load_version("grief", 1), std::nullopt);
}

TEST(SqliteStore, ReopeningTheFileKeepsEverything) {
  TempFolder folder;
  std::int64_t id = 0;
  {
    auto store = open_store(folder.file());
    id = create(*store, "hash-a").id;
    ASSERT_TRUE(commit(*store, make_turn(id, 1, 0, 2)));
    ASSERT_TRUE(await<void>([&](auto done) { store->save_flow_version("trust", 1, "text", done); }));
    store->close();
    store->close();  // idempotent
  }
  auto store = open_store(folder.file());
  EXPECT_EQ(store->stats().sessions, 1u);
  const auto loaded = load(*store, "hash-a");
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->id, id);
  EXPECT_EQ(loaded->state_json, state_after(1));
  EXPECT_EQ(ids_of(outputs_after(*store, id, 0)), (std::vector<std::int64_t>{1, 2}));
  EXPECT_TRUE(commit(*store, make_turn(id, 2, 2, 1)));
  EXPECT_NE(create(*store, "hash-b").id, id);
}

TEST(SqliteStore, ASecondStoreOpensTheFileAfterTheFirstClosed) {
  TempFolder folder;
  auto first = open_store(folder.file());
  const StoredSession session = create(*first, "hash-a");
  ASSERT_TRUE(commit(*first, make_turn(session.id, 1, 0, 1)));
  first->close();
  auto second = open_store(folder.file());
  EXPECT_EQ(load(*second, "hash-a")->last_seq, 1);
  EXPECT_TRUE(commit(*second, make_turn(session.id, 2, 1, 1)));
  first.reset();  // destroying a closed store touches nothing
  EXPECT_EQ(load(*second, "hash-a")->last_seq, 2);
}

// kill -9 while turns are being committed: every turn acknowledged before the
// kill is in the file, and the file holds whole turns only.
// A child process commits turns and reports each acknowledged seq through a
// pipe; it is killed with SIGKILL once `kill_at` has been acknowledged. The file
// must then hold every acknowledged turn, whole, and take the next one.
void kill_nine_while_committing(const SqliteStore::Options& options, std::int64_t kill_at) {
  TempFolder folder;
  int acks[2];
  ASSERT_EQ(pipe(acks), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(acks[0]);
    auto store = SqliteStore::open(folder.file(), options);
    if (!store) _exit(2);
    auto session = await<StoredSession>([&](auto done) { (*store)->create_session("hash-a", kT0, done); });
    if (!session) _exit(3);
    for (std::int64_t seq = 1;; ++seq) {
      if (!commit(**store, make_turn(session->id, seq, 2 * (seq - 1), 2))) _exit(4);
      if (write(acks[1], &seq, sizeof seq) != sizeof seq) _exit(5);
    }
  }
  close(acks[1]);
  std::int64_t last_acked = 0;
  std::int64_t seq = 0;
  while (read(acks[0], &seq, sizeof seq) == sizeof seq) {
    last_acked = seq;
    if (seq == kill_at) kill(child, SIGKILL);  // acks already in the pipe are still read
  }
  int status = 0;
  waitpid(child, &status, 0);
  close(acks[0]);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the child stopped on its own with " << WEXITSTATUS(status);
  ASSERT_GE(last_acked, kill_at);

  auto store = open_store(folder.file());
  const auto loaded = load(*store, "hash-a");
  ASSERT_TRUE(loaded);
  EXPECT_GE(loaded->last_seq, last_acked);
  EXPECT_EQ(loaded->state_json, state_after(loaded->last_seq));
  EXPECT_EQ(loaded->last_output_id, 2 * loaded->last_seq);
  EXPECT_EQ(outputs_after(*store, loaded->id, 0).size(), static_cast<std::size_t>(2 * loaded->last_seq));
  EXPECT_TRUE(commit(*store, make_turn(loaded->id, loaded->last_seq + 1, 2 * loaded->last_seq, 1)));
}

TEST(SqliteStore, KillMinus9LosesNoAcknowledgedTurn) { kill_nine_while_committing({}, 20); }

// A WAL limit of 4 pages: checkpoints (the background thread's and the writer's)
// run every few turns, so the kill lands among them.
TEST(SqliteStore, KillMinus9DuringCheckpointsLosesNoAcknowledgedTurn) {
  SqliteStore::Options options;
  options.checkpoint_pages = 4;
  kill_nine_while_committing(options, 300);
}

// Fails the n-th write for n = 0, 1, 2, ... until the operation succeeds: two
// sessions' turns in one batch. After each failure the file holds each turn
// whole or not at all, the failed turn's callback got an error, and the failed
// turn can be committed again.
TEST(SqliteStore, AFailedWriteLeavesEveryTurnWholeOrAbsent) {
  bool saw_one_fail_and_one_commit = false;
  for (int n = 0;; ++n) {
    ASSERT_LT(n, 50) << "the operation never succeeded";
    SCOPED_TRACE("failing write " + std::to_string(n));
    TempFolder folder;
    std::atomic<bool> armed{false};
    std::atomic<int> writes_seen{0};
    SqliteStore::Options options;
    options.fail_write = [&](int) { return armed && writes_seen++ == n; };
    auto store = open_store(folder.file(), options);
    const StoredSession a = create(*store, "hash-a");
    const StoredSession b = create(*store, "hash-b");
    ASSERT_TRUE(commit(*store, make_turn(a.id, 1, 0, 2)));
    ASSERT_TRUE(commit(*store, make_turn(b.id, 1, 0, 1)));

    armed = true;
    const TurnRecord turn_a = make_turn(a.id, 2, 2, 3);
    const TurnRecord turn_b = make_turn(b.id, 2, 1, 1);
    WriterHold hold(*store);
    std::promise<bool> promise_a, promise_b;
    store->commit_turn(turn_a, [&](auto r) { promise_a.set_value(r.has_value()); });
    store->commit_turn(turn_b, [&](auto r) { promise_b.set_value(r.has_value()); });
    hold.release();
    const bool committed_a = promise_a.get_future().get();
    const bool committed_b = promise_b.get_future().get();
    armed = false;
    saw_one_fail_and_one_commit |= committed_a != committed_b;
    store->close();

    // Read back from disk, with a fresh store and no failures.
    store = open_store(folder.file());
    auto check = [&](const std::string& hash, bool committed, std::int64_t outputs_before_turn_2,
                     const TurnRecord& turn_2) {
      const auto loaded = load(*store, hash);
      ASSERT_TRUE(loaded) << hash << " was lost";
      const std::int64_t seq = committed ? 2 : 1;
      const std::int64_t last_output_id =
          outputs_before_turn_2 + (committed ? static_cast<std::int64_t>(turn_2.outputs.size()) : 0);
      EXPECT_EQ(loaded->last_seq, seq) << hash;
      EXPECT_EQ(loaded->state_json, state_after(seq)) << hash;
      EXPECT_EQ(loaded->last_output_id, last_output_id) << hash;
      EXPECT_EQ(outputs_after(*store, loaded->id, 0).size(), static_cast<std::size_t>(last_output_id)) << hash;
      EXPECT_EQ(outputs_of_seq(*store, loaded->id, 2).size(), committed ? turn_2.outputs.size() : 0u) << hash;
      if (!committed) {
        EXPECT_TRUE(commit(*store, turn_2)) << hash << " cannot be committed again";
      }
    };
    check("hash-a", committed_a, 2, turn_a);
    check("hash-b", committed_b, 1, turn_b);

    if (committed_a && committed_b) {
      EXPECT_LE(writes_seen, n) << "write " << n << " failed, yet both turns report success";
      EXPECT_GE(n, 5) << "1 + 1 writes for a, 1 + 1 for b, 1 COMMIT: each can fail";
      break;
    }
  }
  EXPECT_TRUE(saw_one_fail_and_one_commit) << "a failed turn took its batch down with it";
}

TEST(SqliteStore, RunsWithWalFullSyncForeignKeysAndSecureDelete) {
  TempFolder folder;
  auto store = open_store(folder.file());
  auto settings = await<SqliteStore::Settings>([&](auto done) { store->read_settings(done); });
  ASSERT_TRUE(settings) << settings.error().message;
  EXPECT_EQ(settings->journal_mode, "wal");
  EXPECT_EQ(settings->synchronous, 2) << "2 is FULL";
  EXPECT_TRUE(settings->foreign_keys);
  EXPECT_TRUE(settings->secure_delete);
  EXPECT_EQ(settings->schema_version, SqliteStore::kSchemaVersion);
  EXPECT_EQ(settings->wal_autocheckpoint_pages, 0) << "SQLite's own checkpoints, inside a commit, are off";
  EXPECT_EQ(settings->checkpoint_pages, 10000) << "SQLite's default WAL is 1000 pages";
  EXPECT_EQ(settings->cache_kib, 32768) << "SQLite's default is 2000";
  EXPECT_EQ(count_rows(folder.file(), "PRAGMA user_version"), SqliteStore::kSchemaVersion);
}

// SQLite's automatic checkpoints are off (they ran inside a commit and held up
// every turn queued behind it); the background checkpointer and the writer's
// short follow-up keep the WAL near checkpoint_pages. Without them it would
// grow by at least a page per turn for ever.
TEST(SqliteStore, KeepsTheWalWithinItsCheckpointLimit) {
  TempFolder folder;
  SqliteStore::Options options;
  options.checkpoint_pages = 16;
  auto store = open_store(folder.file(), options);
  const auto session = create(*store, "hash-a");
  std::int64_t last_output_id = 0;
  const fs::path wal = folder.file().string() + "-wal";
  std::uintmax_t largest_wal = 0;
  constexpr int kTurns = 300;
  for (int seq = 1; seq <= kTurns; ++seq) {
    TurnRecord turn = make_turn(session.id, seq, last_output_id, 2);
    for (auto& output : turn.outputs) output.frame += std::string(3000, ' ');  // a page per turn at least
    last_output_id += 2;
    ASSERT_TRUE(commit(*store, std::move(turn))) << seq;
    largest_wal = std::max(largest_wal, fs::file_size(wal));
  }
  constexpr std::uintmax_t kFrame = 24 + 4096;  // a WAL frame: header and page
  // Without checkpoints the WAL would hold every turn's pages: 300 frames and more.
  // With them it stays near 16 pages; four times that is where the writer
  // checkpoints by itself, and a background pass still running then (on a busy
  // machine it can take a while) lets it grow by what is committed meanwhile.
  EXPECT_LE(largest_wal, 32 + 150 * kFrame);
  EXPECT_GT(fs::file_size(folder.file()), kTurns * 4096u) << "the turns were copied into the database file";

  const auto outputs = outputs_after(*store, session.id, 0);
  ASSERT_EQ(outputs.size(), 2u * kTurns);
  EXPECT_EQ(outputs.back().id, 2 * kTurns);
  store->close();
  EXPECT_FALSE(fs::exists(wal)) << "closing checkpoints the rest and removes the WAL";
}

TEST(SqliteStore, RefusesAFileFromANewerSchema) {
  TempFolder folder;
  open_store(folder.file())->close();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(folder.file().c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version = 99", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  auto store = SqliteStore::open(folder.file());
  ASSERT_FALSE(store);
  EXPECT_NE(store.error().message.find("newer"), std::string::npos) << store.error().message;
}

TEST(SqliteStore, IsReachableUntilClosedAndRefusesWorkAfterwards) {
  TempFolder folder;
  auto store = open_store(folder.file());
  EXPECT_TRUE(store->is_reachable());
  store->close();
  EXPECT_FALSE(store->is_reachable());
  auto late = await<StoredSession>([&](auto done) { store->create_session("hash-late", kT0, done); });
  EXPECT_FALSE(late);
}

// Not an assertion: a rough number for the report, on whatever disk /tmp is.
TEST(SqliteStore, MeasuresCommitsPerSecond) {
  for (const int thread_count : {1, 8}) {
    TempFolder folder;
    auto store = open_store(folder.file());
    constexpr int kTurnsPerThread = 100;
    std::vector<StoredSession> sessions;
    for (int t = 0; t < thread_count; ++t) sessions.push_back(create(*store, "hash-" + std::to_string(t)));
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> threads;
    for (int t = 0; t < thread_count; ++t) {
      threads.emplace_back([&, t] {
        // Each turn waits for the one before, as a conversation does.
        for (int seq = 1; seq <= kTurnsPerThread; ++seq) (void)commit(*store, make_turn(sessions[t].id, seq, seq - 1, 1));
      });
    }
    for (auto& thread : threads) thread.join();
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
    const auto stats = store->stats();
    std::cout << "[ measured ] " << thread_count << " thread(s): " << stats.commits << " commits in "
              << stats.transactions - thread_count << " transactions, "
              << static_cast<int>(stats.commits / elapsed.count()) << " commits/s\n";
  }
}

}  // namespace
}  // namespace trellis::server
