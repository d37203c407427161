#include "sqlite_store.hpp"

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <optional>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <utility>

#include <sqlite3.h>

namespace trellis::server {
namespace {

std::int64_t unix_ms(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

StoreError error_of(std::string_view what, std::string_view detail) {
  return StoreError{std::string(what) + ": " + std::string(detail)};
}

// Each entry takes the schema from version i to i + 1; it runs inside its own
// transaction together with the PRAGMA user_version that records it. Append;
// never edit an entry that has shipped.
constexpr const char* kMigrations[] = {
    R"sql(
      CREATE TABLE sessions(
        id INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: a stale id cannot reach a new session
        token_hash TEXT UNIQUE NOT NULL,
        created_at INTEGER NOT NULL,           -- unix milliseconds
        updated_at INTEGER NOT NULL,           -- unix milliseconds; the last committed turn
        state_json TEXT NOT NULL DEFAULT '',
        last_seq INTEGER NOT NULL DEFAULT 0,
        last_output_id INTEGER NOT NULL DEFAULT 0);
      CREATE INDEX sessions_by_updated_at ON sessions(updated_at);
      CREATE TABLE outputs(
        session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        id INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        frame TEXT NOT NULL,
        PRIMARY KEY(session_id, id));
      CREATE INDEX outputs_by_seq ON outputs(session_id, seq);
      CREATE TABLE flow_versions(
        flow_id TEXT NOT NULL,
        version INTEGER NOT NULL,
        text TEXT NOT NULL,
        PRIMARY KEY(flow_id, version));
      PRAGMA user_version = 1;
    )sql",
    // Safety events die with their session: forgetting a person forgets that a
    // safety route was taken too. The webhook has already told the counselors.
    R"sql(
      CREATE TABLE safety_events(
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        category TEXT NOT NULL,
        flow_id TEXT NOT NULL,
        node TEXT NOT NULL,
        text TEXT,                             -- NULL unless the deployment keeps the person's words
        at INTEGER NOT NULL);                  -- unix milliseconds
      CREATE INDEX safety_events_by_at ON safety_events(at);
      CREATE INDEX safety_events_by_session ON safety_events(session_id);  -- for the cascade
      PRAGMA user_version = 2;
    )sql",
    // One row per turn instead of one per frame: a turn's frames are written
    // together and read together, and each output row cost a write to the table
    // and its two indexes. `frames` holds the turn's frames in id order, each as
    // its length in bytes, ':', and its text (see encode_frames). Turns without
    // frames have no row. The rows of `outputs` are copied over by
    // copy_outputs_into_turns, which also drops that table and sets the version.
    R"sql(
      CREATE TABLE turns(
        session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        first_output_id INTEGER NOT NULL,      -- the frames' ids are first_output_id, first_output_id + 1, ...
        last_output_id INTEGER NOT NULL,
        frames TEXT NOT NULL,
        PRIMARY KEY(session_id, seq)) WITHOUT ROWID;
    )sql",
    // Turns in the order they were committed, each linked to its session's
    // previous turn. Keyed by (session_id, seq), every turn of a batch landed in
    // a different leaf of the B-tree and split it every few turns: ~2.7 pages
    // written per turn. Appended in commit order, a batch's turns share the last
    // leaf. No index on session_id (it would scatter the same way) and so no
    // foreign key either (SQLite would scan this table on every session delete):
    // a session's turns are found by walking previous_id from sessions.last_turn_id,
    // and deleted the same way, in the transaction that deletes the session.
    R"sql(
      CREATE TABLE turn_log(
        id INTEGER PRIMARY KEY,
        session_id INTEGER NOT NULL,
        previous_id INTEGER,                   -- this session's turn before this one; NULL for its first
        seq INTEGER NOT NULL,
        first_output_id INTEGER NOT NULL,
        last_output_id INTEGER NOT NULL,
        frames TEXT NOT NULL);
      ALTER TABLE sessions ADD COLUMN last_turn_id INTEGER;  -- the newest turn_log row of the session
      INSERT INTO turn_log(id, session_id, previous_id, seq, first_output_id, last_output_id, frames)
        SELECT row_number() OVER w, session_id,
               CASE WHEN lag(session_id) OVER w = session_id THEN row_number() OVER w - 1 END,
               seq, first_output_id, last_output_id, frames
        FROM turns WINDOW w AS (ORDER BY session_id, seq);
      UPDATE sessions SET last_turn_id = newest.id
        FROM (SELECT session_id, max(id) AS id FROM turn_log GROUP BY session_id) AS newest
        WHERE newest.session_id = sessions.id;
      DROP TABLE turns;
      PRAGMA user_version = 4;
    )sql",
};
static_assert(std::size(kMigrations) == SqliteStore::kSchemaVersion);

// A turn's frames as one text: for each frame, its size in bytes in decimal,
// ':', then the frame itself. Any bytes can be in a frame; nothing is escaped.
std::string encode_frames(const std::vector<StoredOutput>& outputs) {
  std::size_t size = 0;
  for (const auto& output : outputs) size += output.frame.size() + 8;
  std::string out;
  out.reserve(size);
  for (const auto& output : outputs) {
    out += std::to_string(output.frame.size());
    out += ':';
    out += output.frame;
  }
  return out;
}

// Appends the frames of `encoded` with id > after_id; false when the text is not
// what encode_frames writes.
bool decode_frames(std::string_view encoded, std::int64_t seq, std::int64_t first_id, std::int64_t after_id,
                   std::vector<StoredOutput>& out) {
  std::int64_t id = first_id;
  while (!encoded.empty()) {
    const std::size_t colon = encoded.find(':');
    if (colon == std::string_view::npos || colon == 0 || colon > 12) return false;
    std::size_t size = 0;
    for (char c : encoded.substr(0, colon)) {
      if (c < '0' || c > '9') return false;
      size = size * 10 + static_cast<std::size_t>(c - '0');
    }
    encoded.remove_prefix(colon + 1);
    if (size > encoded.size()) return false;
    if (id > after_id) out.push_back(StoredOutput{id, seq, std::string(encoded.substr(0, size))});
    encoded.remove_prefix(size);
    ++id;
  }
  return true;
}

}  // namespace

namespace sqlite_detail {

// A cached prepared statement, borrowed for one use: reset and unbound when
// this goes out of scope, so the next user starts clean.
class Statement {
 public:
  explicit Statement(sqlite3_stmt* stmt) : stmt_(stmt) {}
  Statement(Statement&& other) noexcept : stmt_(std::exchange(other.stmt_, nullptr)) {}
  Statement& operator=(Statement&&) = delete;
  ~Statement() {
    if (stmt_) {
      sqlite3_reset(stmt_);
      sqlite3_clear_bindings(stmt_);
    }
  }

  // The bound text must outlive the step: it is not copied.
  Statement& bind(int index, std::string_view text) {
    sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
    return *this;
  }
  Statement& bind(int index, std::int64_t value) {
    sqlite3_bind_int64(stmt_, index, value);
    return *this;
  }
  // NULL when `text` is empty.
  Statement& bind_optional(int index, const std::optional<std::string>& text) {
    if (!text) {
      sqlite3_bind_null(stmt_, index);
      return *this;
    }
    return bind(index, std::string_view(*text));
  }
  bool is_null_at(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }
  std::int64_t int64_at(int column) const { return sqlite3_column_int64(stmt_, column); }
  std::string text_at(int column) const {
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
    return text ? std::string(text, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column))) : std::string();
  }
  sqlite3_stmt* get() const { return stmt_; }
  // Forgets the statement without resetting it (its owner finalizes it).
  sqlite3_stmt* release() { return std::exchange(stmt_, nullptr); }

 private:
  sqlite3_stmt* stmt_;
};

class Database {
 public:
  Database(sqlite3* handle, std::function<bool(int)> fail_write)
      : handle_(handle), fail_write_(std::move(fail_write)) {}
  ~Database() {
    for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
    // The last connection to close checkpoints the WAL into the file and deletes it.
    sqlite3_close_v2(handle_);
  }
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  sqlite3* handle() const { return handle_; }
  bool in_transaction() const { return sqlite3_get_autocommit(handle_) == 0; }

  StoreError error(std::string_view what) const { return error_of(what, sqlite3_errmsg(handle_)); }

  // For PRAGMAs, BEGIN, SAVEPOINT and the schema: not counted as writes.
  StoreResult<void> exec(const char* sql) {
    if (sqlite3_exec(handle_, sql, nullptr, nullptr, nullptr) != SQLITE_OK) return tl::unexpected(error(sql));
    return {};
  }

  // Like exec(), for a statement run for every job (SAVEPOINT, RELEASE): kept
  // prepared, since parsing it each time cost more than running it.
  StoreResult<void> exec_cached(const char* sql) {
    auto stmt = statement(sql);
    if (!stmt) return tl::unexpected(stmt.error());
    if (sqlite3_step(stmt->get()) != SQLITE_DONE) return tl::unexpected(error(sql));
    return {};
  }

  // The single integer or text a PRAGMA or count(*) answers.
  StoreResult<std::string> query_text(const char* sql) {
    auto stmt = statement(sql);
    if (!stmt) return tl::unexpected(stmt.error());
    if (sqlite3_step(stmt->get()) != SQLITE_ROW) return tl::unexpected(error(sql));
    return stmt->text_at(0);
  }

  StoreResult<Statement> statement(const char* sql) {
    auto found = statements_.find(std::string_view(sql));
    if (found != statements_.end()) return Statement(found->second);
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v3(handle_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) != SQLITE_OK) {
      return tl::unexpected(error("prepare"));
    }
    statements_.emplace(sql, stmt);
    return Statement(stmt);
  }

  // Steps a statement that changes the file (or COMMIT), giving the failure
  // injection hook its chance first.
  StoreResult<void> write(sqlite3_stmt* stmt, std::string_view what) {
    if (fail_write_ && fail_write_(write_index_++)) return tl::unexpected(error_of(what, "injected write failure"));
    if (sqlite3_step(stmt) != SQLITE_DONE) return tl::unexpected(error(what));
    return {};
  }
  StoreResult<void> write(Statement& stmt, std::string_view what) { return write(stmt.get(), what); }
  StoreResult<void> commit() {
    if (fail_write_ && fail_write_(write_index_++)) return tl::unexpected(error_of("commit", "injected write failure"));
    return exec("COMMIT");
  }

  // What the jobs of the running batch changed; counted into stats() only if it commits.
  std::int64_t batch_commits = 0;
  std::int64_t batch_sessions_added = 0;
  std::int64_t batch_sessions_removed = 0;

 private:
  sqlite3* handle_;
  std::function<bool(int)> fail_write_;
  int write_index_ = 0;
  // Looked up by the SQL text without building a std::string: a turn looks up
  // several statements.
  struct SqlHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view sql) const { return std::hash<std::string_view>{}(sql); }
  };
  std::unordered_map<std::string, sqlite3_stmt*, SqlHash, std::equal_to<>> statements_;
};

}  // namespace sqlite_detail

using sqlite_detail::Database;
using sqlite_detail::Statement;

namespace {

#define TRY(var, expr)                                           \
  auto var = (expr);                                             \
  if (!var) return tl::unexpected(std::move(var).error())

// Schema 2 -> 3: one `turns` row per (session, seq) from the `outputs` rows.
StoreResult<void> copy_outputs_into_turns(Database& db) {
  sqlite3_stmt* select = nullptr;
  if (sqlite3_prepare_v2(db.handle(), "SELECT session_id, seq, id, frame FROM outputs ORDER BY session_id, seq, id",
                         -1, &select, nullptr) != SQLITE_OK) {
    return tl::unexpected(db.error("reading outputs"));
  }
  Statement rows(select);  // resets; finalized below
  struct Pending {
    std::int64_t session_id = 0, seq = 0;
    std::vector<StoredOutput> outputs;
  } turn;
  auto flush = [&]() -> StoreResult<void> {
    if (turn.outputs.empty()) return {};
    TRY(insert, db.statement(
                    "INSERT INTO turns(session_id, seq, first_output_id, last_output_id, frames) "
                    "VALUES(?1, ?2, ?3, ?4, ?5)"));
    const std::string frames = encode_frames(turn.outputs);
    insert->bind(1, turn.session_id).bind(2, turn.seq).bind(3, turn.outputs.front().id);
    insert->bind(4, turn.outputs.back().id).bind(5, frames);
    if (sqlite3_step(insert->get()) != SQLITE_DONE) return tl::unexpected(db.error("copying outputs"));
    turn.outputs.clear();
    return {};
  };
  StoreResult<void> result;
  for (;;) {
    const int rc = sqlite3_step(select);
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) {
      result = tl::unexpected(db.error("reading outputs"));
      break;
    }
    const std::int64_t session_id = rows.int64_at(0), seq = rows.int64_at(1), id = rows.int64_at(2);
    if (!turn.outputs.empty() && (session_id != turn.session_id || seq != turn.seq)) {
      if (result = flush(); !result) break;
    }
    if (!turn.outputs.empty() && id != turn.outputs.back().id + 1) {
      result = tl::unexpected(StoreError{"session " + std::to_string(session_id) + " seq " + std::to_string(seq) +
                                         ": its output ids are not consecutive"});
      break;
    }
    turn.session_id = session_id;
    turn.seq = seq;
    turn.outputs.push_back(StoredOutput{id, seq, rows.text_at(3)});
  }
  if (result) result = flush();
  sqlite3_reset(select);
  sqlite3_finalize(select);
  (void)rows.release();
  if (!result) return result;
  return db.exec("DROP TABLE outputs; PRAGMA user_version = 3;");
}

StoreResult<void> migrate(Database& db) {
  TRY(version_text, db.query_text("PRAGMA user_version"));
  const int version = std::stoi(*version_text);
  if (version > SqliteStore::kSchemaVersion) {
    return tl::unexpected(StoreError{"the session file has schema version " + std::to_string(version) +
                                     " from a newer Trellis; this build reads up to " +
                                     std::to_string(SqliteStore::kSchemaVersion)});
  }
  for (int from = version; from < SqliteStore::kSchemaVersion; ++from) {
    TRY(begun, db.exec("BEGIN IMMEDIATE"));
    auto migrated = db.exec(kMigrations[from]);
    if (migrated && from == 2) migrated = copy_outputs_into_turns(db);
    if (!migrated) {
      (void)db.exec("ROLLBACK");
      return tl::unexpected(error_of("migrating the session file to schema " + std::to_string(from + 1),
                                     migrated.error().message));
    }
    TRY(committed, db.exec("COMMIT"));
  }
  return {};
}

StoreResult<std::unique_ptr<Database>> open_database(const std::filesystem::path& file,
                                                     const SqliteStoreOptions& options) {
  if (file.has_parent_path()) {
    std::error_code ec;
    std::filesystem::create_directories(file.parent_path(), ec);
    if (ec) return tl::unexpected(error_of("creating the folder for the session file", ec.message()));
  }
  sqlite3* handle = nullptr;
  const int rc = sqlite3_open_v2(file.c_str(), &handle,
                                 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  auto db = std::make_unique<Database>(handle, options.fail_write);  // owns the handle even on failure
  if (rc != SQLITE_OK) return tl::unexpected(db->error("opening the session file"));
  sqlite3_extended_result_codes(handle, 1);
  sqlite3_busy_timeout(handle, static_cast<int>(options.busy_timeout.count()));

  TRY(mode, db->query_text("PRAGMA journal_mode = WAL"));
  if (*mode != "wal") return tl::unexpected(StoreError{"the session file refused WAL mode (got " + *mode + ")"});
  TRY(synchronous, db->exec("PRAGMA synchronous = FULL"));
  TRY(foreign_keys, db->exec("PRAGMA foreign_keys = ON"));
  TRY(secure_delete, db->exec(options.secure_delete ? "PRAGMA secure_delete = ON" : "PRAGMA secure_delete = OFF"));
  // Measured under load (docs/performance.md): with SQLite's defaults (a 2 MiB
  // cache, a 1,000-page WAL) the writer re-read pages it had just written and
  // copied the same hot session pages into the file at every checkpoint. The WAL's
  // size is options.checkpoint_pages, checkpointed off the writer's thread.
  TRY(cache, db->exec("PRAGMA cache_size = -32768"));  // KiB: 32 MiB
  TRY(migrated, migrate(*db));
  return db;
}

// Runs a write job inside a savepoint, so that when it fails, it leaves no
// trace while the batch's other jobs stay.
template <typename T, typename Work>
StoreResult<T> in_savepoint(Database& db, Work& work) {
  TRY(begun, db.exec_cached("SAVEPOINT job"));
  StoreResult<T> result = work(db);
  // An I/O error can make SQLite roll back the whole transaction on its own;
  // then there is no savepoint left, and run_batch fails the batch.
  if (!result && db.in_transaction() && !db.exec("ROLLBACK TO job")) {
    // Releasing now would keep half of this job: drop the whole batch instead.
    (void)db.exec("ROLLBACK");
  }
  if (db.in_transaction()) (void)db.exec_cached("RELEASE job");
  return result;
}

// The turns of session ?1, newest first, as the rows `chain` of a recursive
// query; the caller ends the recursive step's WHERE clause (when to stop walking
// back) and closes it with ')'. previous_id < id always, so the walk ends even
// on a damaged file.
constexpr const char* kTurnChain =
    "WITH RECURSIVE chain(id, previous_id, seq, first_output_id, last_output_id, frames) AS ("
    "SELECT t.id, t.previous_id, t.seq, t.first_output_id, t.last_output_id, t.frames "
    "FROM sessions s JOIN turn_log t ON t.id = s.last_turn_id WHERE s.id = ?1 "
    "UNION ALL "
    "SELECT t.id, t.previous_id, t.seq, t.first_output_id, t.last_output_id, t.frames "
    "FROM chain c JOIN turn_log t ON t.id = c.previous_id AND t.id < c.id ";

// A statement deleting every turn of the sessions matching `where` (a condition on sessions).
std::string turns_of_sessions_where(std::string_view where) {
  return "DELETE FROM turn_log WHERE id IN (WITH RECURSIVE chain(id) AS ("
         "SELECT last_turn_id FROM sessions WHERE last_turn_id IS NOT NULL AND " + std::string(where) +
         " UNION ALL "
         "SELECT t.previous_id FROM chain c JOIN turn_log t ON t.id = c.id "
         "WHERE t.previous_id IS NOT NULL AND t.previous_id < t.id) "
         "SELECT id FROM chain)";
}

// updated_at is what purge_idle compares against, and it has an index: moving it
// at every turn rewrote two index pages per turn, about a third of a turn's WAL
// writes when batches are small. Idle times are minutes to days, so it moves only
// when it is this far behind.
constexpr std::int64_t kActivityResolutionMs = 60'000;

StoreResult<void> apply_turn(Database& db, const TurnRecord& turn) {
  // Only for error messages; built when one is needed.
  const auto who = [&turn] {
    return "session " + std::to_string(turn.session_id) + " turn " + std::to_string(turn.seq);
  };
  std::int64_t last_seq = 0;
  std::int64_t last_output_id = 0;
  std::int64_t last_turn_id = 0;  // 0: none (row ids start at 1)
  std::int64_t updated_at = 0;
  {
    TRY(select,
        db.statement("SELECT last_seq, last_output_id, last_turn_id, updated_at FROM sessions WHERE id = ?1"));
    select->bind(1, turn.session_id);
    const int rc = sqlite3_step(select->get());
    if (rc == SQLITE_DONE) return tl::unexpected(StoreError{who() + ": the session does not exist"});
    if (rc != SQLITE_ROW) return tl::unexpected(db.error(who()));
    last_seq = select->int64_at(0);
    last_output_id = select->int64_at(1);
    if (!select->is_null_at(2)) last_turn_id = select->int64_at(2);
    updated_at = select->int64_at(3);
  }
  if (turn.seq != last_seq + 1) {
    return tl::unexpected(StoreError{who() + ": refused, the next seq is " + std::to_string(last_seq + 1)});
  }
  std::int64_t next_id = last_output_id + 1;
  for (const auto& output : turn.outputs) {
    if (output.id != next_id) {
      return tl::unexpected(StoreError{who() + ": refused, output id " + std::to_string(output.id) +
                                       " where " + std::to_string(next_id) + " was next"});
    }
    if (output.seq != turn.seq) {
      return tl::unexpected(StoreError{who() + ": refused, output " + std::to_string(output.id) + " has seq " +
                                       std::to_string(output.seq)});
    }
    ++next_id;
  }

  if (!turn.outputs.empty()) {
    TRY(insert, db.statement(
                    "INSERT INTO turn_log(session_id, previous_id, seq, first_output_id, last_output_id, frames) "
                    "VALUES(?1, NULLIF(?2, 0), ?3, ?4, ?5, ?6)"));
    const std::string frames = encode_frames(turn.outputs);
    insert->bind(1, turn.session_id).bind(2, last_turn_id).bind(3, turn.seq).bind(4, turn.outputs.front().id);
    insert->bind(5, next_id - 1).bind(6, frames);
    TRY(inserted, db.write(*insert, "storing a turn"));
    last_turn_id = sqlite3_last_insert_rowid(db.handle());
  }
  const std::int64_t at = unix_ms(turn.at);
  const bool moves_updated_at = at - updated_at >= kActivityResolutionMs;
  TRY(update, db.statement(moves_updated_at ? "UPDATE sessions SET state_json = ?2, last_seq = ?3, last_output_id = ?4, "
                                              "last_turn_id = NULLIF(?5, 0), updated_at = ?6 WHERE id = ?1"
                                            : "UPDATE sessions SET state_json = ?2, last_seq = ?3, last_output_id = ?4, "
                                              "last_turn_id = NULLIF(?5, 0) WHERE id = ?1"));
  update->bind(1, turn.session_id).bind(2, turn.state_json).bind(3, turn.seq).bind(4, next_id - 1);
  update->bind(5, last_turn_id);
  if (moves_updated_at) update->bind(6, at);
  TRY(updated, db.write(*update, "storing a turn"));
  ++db.batch_commits;
  return {};
}

// Rows of (seq, first_output_id, frames), in seq order: their frames with id > after_id.
StoreResult<std::vector<StoredOutput>> read_outputs(Statement& select, Database& db, std::string_view who,
                                                    std::int64_t after_id) {
  std::vector<StoredOutput> outputs;
  for (;;) {
    const int rc = sqlite3_step(select.get());
    if (rc == SQLITE_DONE) return outputs;
    if (rc != SQLITE_ROW) return tl::unexpected(db.error(who));
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(select.get(), 2));
    const std::string_view frames(text ? text : "", static_cast<std::size_t>(sqlite3_column_bytes(select.get(), 2)));
    if (!decode_frames(frames, select.int64_at(0), select.int64_at(1), after_id, outputs)) {
      return tl::unexpected(StoreError{std::string(who) + ": a stored turn's frames are damaged"});
    }
  }
}

}  // namespace

tl::expected<std::unique_ptr<SqliteStore>, StoreError> SqliteStore::open(const std::filesystem::path& file,
                                                                         Options options) {
  TRY(db, open_database(file, options));
  TRY(count, (*db)->query_text("SELECT count(*) FROM sessions"));
  const auto sessions = static_cast<std::uint64_t>(std::stoll(*count));
  return std::unique_ptr<SqliteStore>(new SqliteStore(std::move(*db), file, std::move(options), sessions));
}

SqliteStore::SqliteStore(std::unique_ptr<Database> db, std::filesystem::path file, Options options,
                         std::uint64_t sessions)
    : db_(std::move(db)), file_(std::move(file)), options_(std::move(options)), sessions_(sessions) {
  // Replaces SQLite's automatic checkpoints (they are a WAL hook too).
  sqlite3_wal_hook(
      db_->handle(),
      [](void* store, sqlite3*, const char*, int pages) {
        static_cast<SqliteStore*>(store)->wal_pages_ = pages;
        return SQLITE_OK;
      },
      this);
  checkpointer_ = std::make_unique<WalCheckpointer>(file_, static_cast<int>(options_.busy_timeout.count()));
  writer_ = std::thread([this] { run_writer(); });
}

SqliteStore::~SqliteStore() { close(); }

void SqliteStore::close() {
  std::lock_guard close_lock(close_mutex_);
  if (closed_) return;
  {
    std::lock_guard lock(mutex_);
    closing_ = true;
  }
  wake_.notify_all();
  if (writer_.joinable()) writer_.join();
  if (checkpointer_) checkpointer_->stop();
  db_.reset();  // the last connection: checkpoints everything and removes the WAL
  closed_ = true;
}

SessionStore::Stats SqliteStore::stats() {
  return Stats{commits_.load(), transactions_.load(), sessions_.load()};
}

bool SqliteStore::is_reachable() {
  {
    std::lock_guard close_lock(close_mutex_);
    if (closed_) return false;
  }
  sqlite3* handle = nullptr;
  bool reachable = sqlite3_open_v2(file_.c_str(), &handle, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr) ==
                   SQLITE_OK;
  if (reachable) {
    sqlite3_busy_timeout(handle, 1000);
    sqlite3_stmt* stmt = nullptr;
    reachable = sqlite3_prepare_v2(handle, "PRAGMA user_version", -1, &stmt, nullptr) == SQLITE_OK &&
                sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_int(stmt, 0) == kSchemaVersion;
    sqlite3_finalize(stmt);
  }
  sqlite3_close_v2(handle);
  return reachable;
}

template <typename T, typename Work>
void SqliteStore::submit(bool writes, StoreCallback<T> done, Work work) {
  // One callback shared by the reply and the failure path: copying it would copy
  // everything it captured (for a turn: the connection, its state and frames).
  auto shared_done = std::make_shared<StoreCallback<T>>(std::move(done));
  Job job;
  job.writes = writes;
  job.run = [writes, work = std::move(work), shared_done](Database& db) mutable -> Reply {
    StoreResult<T> result = writes ? in_savepoint<T>(db, work) : work(db);
    return [result = std::move(result), shared_done = std::move(shared_done)](const StoreError* batch_error) mutable {
      if (batch_error) return (*shared_done)(tl::unexpected(*batch_error));
      (*shared_done)(std::move(result));
    };
  };
  job.fail = [shared_done](const StoreError& error) { (*shared_done)(tl::unexpected(error)); };
  {
    std::lock_guard lock(mutex_);
    if (!closing_) {
      queue_.push_back(std::move(job));
      wake_.notify_one();
      return;
    }
  }
  (*shared_done)(tl::unexpected(StoreError{"the session store is closed"}));
}

void SqliteStore::run_writer() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return closing_ || !queue_.empty(); });
    if (queue_.empty()) return;  // closing, and everything queued is done
    if (options_.group_commit_window.count() > 0 && !closing_) {
      const auto deadline = std::chrono::steady_clock::now() + options_.group_commit_window;
      wake_.wait_until(lock, deadline, [this] { return closing_; });
    }
    std::deque<Job> batch = std::exchange(queue_, {});
    lock.unlock();
    run_batch(batch);
    checkpoint_if_due();
    lock.lock();
  }
}

// Between batches, so no transaction is open and every reply of the batch has
// been handed out already.
void SqliteStore::checkpoint_if_due() {
  if (wal_pages_ < options_.checkpoint_pages) return;
  const std::uint64_t passes = checkpointer_->passes();
  const bool background_pass_ended = passes != checkpoint_passes_seen_;
  if (background_pass_ended || wal_pages_ >= 4 * options_.checkpoint_pages) {
    // The frames committed while the background pass ran (or, if that thread is
    // stuck or has no connection, all of them): once every frame is in the file,
    // the next commit starts the WAL over from its beginning.
    checkpoint_passes_seen_ = passes;
    checkpoint_requested_ = false;
    (void)sqlite3_wal_checkpoint_v2(db_->handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    return;
  }
  if (!checkpoint_requested_) {
    checkpointer_->request();
    checkpoint_requested_ = true;
  }
}

void SqliteStore::run_batch(std::deque<Job>& batch) {
  Database& db = *db_;
  const bool writes = std::any_of(batch.begin(), batch.end(), [](const Job& job) { return job.writes; });
  db.batch_commits = db.batch_sessions_added = db.batch_sessions_removed = 0;

  std::optional<StoreError> batch_error;
  std::vector<Reply> replies;
  replies.reserve(batch.size());
  if (writes) {
    if (auto begun = db.exec("BEGIN IMMEDIATE"); !begun) batch_error = begun.error();
  }
  for (auto& job : batch) {
    if (batch_error) break;
    replies.push_back(job.run(db));
    if (writes && !db.in_transaction()) {
      batch_error = StoreError{"SQLite rolled back the transaction after an error; nothing of this batch was stored"};
    }
  }
  if (writes && !batch_error) {
    if (auto committed = db.commit(); !committed) batch_error = committed.error();
  }
  if (writes && batch_error && db.in_transaction()) (void)db.exec("ROLLBACK");

  if (writes && !batch_error) {
    ++transactions_;
    commits_ += static_cast<std::uint64_t>(db.batch_commits);
    sessions_ += static_cast<std::uint64_t>(db.batch_sessions_added);
    sessions_ -= static_cast<std::uint64_t>(db.batch_sessions_removed);
    // secure_delete zeroes the freed pages in the database file, but the WAL
    // still holds the old images of those pages until it is overwritten.
    // Best effort: it cannot truncate while is_reachable() reads, and the next
    // delete tries again.
    if (db.batch_sessions_removed > 0 && options_.truncate_wal_after_delete) {
      (void)db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    }
  }

  const StoreError* error = batch_error ? &*batch_error : nullptr;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (i < replies.size()) {
      replies[i](error);
    } else {
      batch[i].fail(*batch_error);
    }
  }
}

void SqliteStore::create_session(std::string token_hash, Clock::time_point now, StoreCallback<StoredSession> done) {
  submit<StoredSession>(true, std::move(done), [token_hash = std::move(token_hash), now](Database& db)
                                                   -> StoreResult<StoredSession> {
    TRY(insert, db.statement("INSERT INTO sessions(token_hash, created_at, updated_at) VALUES(?1, ?2, ?2)"));
    insert->bind(1, token_hash).bind(2, unix_ms(now));
    // The UNIQUE message names the column, never the value.
    TRY(inserted, db.write(*insert, "creating a session"));
    ++db.batch_sessions_added;
    return StoredSession{sqlite3_last_insert_rowid(db.handle()), "", 0, 0};
  });
}

void SqliteStore::load_session(std::string token_hash, StoreCallback<std::optional<StoredSession>> done) {
  submit<std::optional<StoredSession>>(
      false, std::move(done),
      [token_hash = std::move(token_hash)](Database& db) -> StoreResult<std::optional<StoredSession>> {
        TRY(select, db.statement(
                        "SELECT id, state_json, last_seq, last_output_id FROM sessions WHERE token_hash = ?1"));
        select->bind(1, token_hash);
        const int rc = sqlite3_step(select->get());
        if (rc == SQLITE_DONE) return std::nullopt;
        if (rc != SQLITE_ROW) return tl::unexpected(db.error("loading a session"));
        return StoredSession{select->int64_at(0), select->text_at(1), select->int64_at(2), select->int64_at(3)};
      });
}

void SqliteStore::commit_turn(TurnRecord turn, StoreCallback<TurnRecord> done) {
  submit<TurnRecord>(true, std::move(done), [turn = std::move(turn)](Database& db) mutable -> StoreResult<TurnRecord> {
    TRY(applied, apply_turn(db, turn));
    return std::move(turn);
  });
}

void SqliteStore::outputs_after(std::int64_t session_id, std::int64_t after_id,
                                StoreCallback<std::vector<StoredOutput>> done) {
  submit<std::vector<StoredOutput>>(
      false, std::move(done), [session_id, after_id](Database& db) -> StoreResult<std::vector<StoredOutput>> {
        // Ids grow with seq, so seq order is id order. A turn whose ids straddle
        // after_id gives only its frames past it.
        // Walks back from the newest turn while it still has frames past after_id.
        static const std::string sql = std::string(kTurnChain) + "WHERE c.last_output_id > ?2) " +
                                       "SELECT seq, first_output_id, frames FROM chain WHERE last_output_id > ?2 "
                                       "ORDER BY seq";
        TRY(select, db.statement(sql.c_str()));
        select->bind(1, session_id).bind(2, after_id);
        return read_outputs(*select, db, "reading outputs", after_id);
      });
}

void SqliteStore::outputs_of_seq(std::int64_t session_id, std::int64_t seq,
                                 StoreCallback<std::vector<StoredOutput>> done) {
  submit<std::vector<StoredOutput>>(
      false, std::move(done), [session_id, seq](Database& db) -> StoreResult<std::vector<StoredOutput>> {
        static const std::string sql =
            std::string(kTurnChain) + "WHERE c.seq > ?2) SELECT seq, first_output_id, frames FROM chain WHERE seq = ?2";
        TRY(select, db.statement(sql.c_str()));
        select->bind(1, session_id).bind(2, seq);
        return read_outputs(*select, db, "reading outputs", 0);
      });
}

void SqliteStore::delete_session(std::int64_t session_id, StoreCallback<void> done) {
  submit<void>(true, std::move(done), [session_id](Database& db) -> StoreResult<void> {
    static const std::string remove_turns_sql = turns_of_sessions_where("id = ?1");
    TRY(remove_turns, db.statement(remove_turns_sql.c_str()));
    remove_turns->bind(1, session_id);
    TRY(turns_removed, db.write(*remove_turns, "deleting the turns of session " + std::to_string(session_id)));
    TRY(remove, db.statement("DELETE FROM sessions WHERE id = ?1"));
    remove->bind(1, session_id);
    TRY(removed, db.write(*remove, "deleting session " + std::to_string(session_id)));
    db.batch_sessions_removed += sqlite3_changes(db.handle());
    return {};
  });
}

void SqliteStore::purge_idle(Clock::time_point idle_since, StoreCallback<int> done) {
  submit<int>(true, std::move(done), [idle_since](Database& db) -> StoreResult<int> {
    static const std::string remove_turns_sql = turns_of_sessions_where("updated_at < ?1");
    TRY(remove_turns, db.statement(remove_turns_sql.c_str()));
    remove_turns->bind(1, unix_ms(idle_since));
    TRY(turns_removed, db.write(*remove_turns, "purging the turns of idle sessions"));
    TRY(remove, db.statement("DELETE FROM sessions WHERE updated_at < ?1"));
    remove->bind(1, unix_ms(idle_since));
    TRY(removed, db.write(*remove, "purging idle sessions"));
    // changes() counts the sessions only, not the cascade's safety events.
    const int count = sqlite3_changes(db.handle());
    db.batch_sessions_removed += count;
    return count;
  });
}

void SqliteStore::save_flow_version(std::string flow_id, int version, std::string text, StoreCallback<void> done) {
  submit<void>(true, std::move(done),
               [flow_id = std::move(flow_id), version, text = std::move(text)](Database& db) -> StoreResult<void> {
                 const std::string who = "flow " + flow_id + " version " + std::to_string(version);
                 TRY(insert, db.statement(
                                 "INSERT INTO flow_versions(flow_id, version, text) VALUES(?1, ?2, ?3) "
                                 "ON CONFLICT(flow_id, version) DO NOTHING"));
                 insert->bind(1, flow_id).bind(2, version).bind(3, text);
                 TRY(inserted, db.write(*insert, "storing a turn"));
                 if (sqlite3_changes(db.handle()) == 1) return {};
                 TRY(select, db.statement("SELECT text FROM flow_versions WHERE flow_id = ?1 AND version = ?2"));
                 select->bind(1, flow_id).bind(2, version);
                 if (sqlite3_step(select->get()) != SQLITE_ROW) return tl::unexpected(db.error(who));
                 if (select->text_at(0) != text) {
                   return tl::unexpected(StoreError{who + " is already stored with different text"});
                 }
                 return {};
               });
}

void SqliteStore::load_flow_version(std::string flow_id, int version,
                                    StoreCallback<std::optional<std::string>> done) {
  submit<std::optional<std::string>>(
      false, std::move(done),
      [flow_id = std::move(flow_id), version](Database& db) -> StoreResult<std::optional<std::string>> {
        TRY(select, db.statement("SELECT text FROM flow_versions WHERE flow_id = ?1 AND version = ?2"));
        select->bind(1, flow_id).bind(2, version);
        const int rc = sqlite3_step(select->get());
        if (rc == SQLITE_DONE) return std::nullopt;
        if (rc != SQLITE_ROW) return tl::unexpected(db.error("loading a flow version"));
        return select->text_at(0);
      });
}

void SqliteStore::record_safety_event(SafetyEvent event, StoreCallback<std::int64_t> done) {
  submit<std::int64_t>(true, std::move(done), [event = std::move(event)](Database& db) -> StoreResult<std::int64_t> {
    const std::string who = "safety event of session " + std::to_string(event.session_id);
    TRY(insert, db.statement(
                    "INSERT INTO safety_events(session_id, category, flow_id, node, text, at) "
                    "VALUES(?1, ?2, ?3, ?4, ?5, ?6)"));
    insert->bind(1, event.session_id).bind(2, event.category).bind(3, event.flow_id).bind(4, event.node);
    insert->bind_optional(5, event.text).bind(6, unix_ms(event.at));
    // A missing session fails the foreign key; the message names the constraint, never a value.
    TRY(inserted, db.write(*insert, "storing a turn"));
    return sqlite3_last_insert_rowid(db.handle());
  });
}

void SqliteStore::list_safety_events(Clock::time_point since, std::size_t limit,
                                     StoreCallback<std::vector<StoredSafetyEvent>> done) {
  submit<std::vector<StoredSafetyEvent>>(
      false, std::move(done), [since, limit](Database& db) -> StoreResult<std::vector<StoredSafetyEvent>> {
        TRY(select, db.statement(
                        "SELECT id, session_id, category, flow_id, node, text, at FROM safety_events "
                        "WHERE at >= ?1 ORDER BY id LIMIT ?2"));
        const auto capped = static_cast<std::int64_t>(std::min<std::size_t>(limit, INT64_MAX));
        select->bind(1, unix_ms(since)).bind(2, capped);
        std::vector<StoredSafetyEvent> events;
        for (;;) {
          const int rc = sqlite3_step(select->get());
          if (rc == SQLITE_DONE) return events;
          if (rc != SQLITE_ROW) return tl::unexpected(db.error("listing safety events"));
          StoredSafetyEvent stored;
          stored.id = select->int64_at(0);
          stored.event.session_id = select->int64_at(1);
          stored.event.category = select->text_at(2);
          stored.event.flow_id = select->text_at(3);
          stored.event.node = select->text_at(4);
          if (!select->is_null_at(5)) stored.event.text = select->text_at(5);
          stored.event.at = Clock::time_point{} + std::chrono::milliseconds(select->int64_at(6));
          events.push_back(std::move(stored));
        }
      });
}

void SqliteStore::read_settings(StoreCallback<Settings> done) {
  submit<Settings>(false, std::move(done), [this](Database& db) -> StoreResult<Settings> {
    Settings settings;
    TRY(journal_mode, db.query_text("PRAGMA journal_mode"));
    TRY(synchronous, db.query_text("PRAGMA synchronous"));
    TRY(foreign_keys, db.query_text("PRAGMA foreign_keys"));
    TRY(secure_delete, db.query_text("PRAGMA secure_delete"));
    TRY(schema_version, db.query_text("PRAGMA user_version"));
    TRY(autocheckpoint, db.query_text("PRAGMA wal_autocheckpoint"));
    TRY(cache_size, db.query_text("PRAGMA cache_size"));
    settings.journal_mode = *journal_mode;
    settings.synchronous = std::stoi(*synchronous);
    settings.foreign_keys = *foreign_keys == "1";
    settings.secure_delete = *secure_delete == "1";
    settings.schema_version = std::stoi(*schema_version);
    settings.wal_autocheckpoint_pages = std::stoi(*autocheckpoint);
    settings.checkpoint_pages = options_.checkpoint_pages;
    settings.cache_kib = -std::stoi(*cache_size);  // negative: KiB, not pages
    return settings;
  });
}

#undef TRY

}  // namespace trellis::server
