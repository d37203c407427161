#include "bridge_store.hpp"

#include <stdexcept>

#include <sqlite3.h>

namespace trellis::telegram {
namespace {

constexpr const char* kSchema = R"sql(
  CREATE TABLE IF NOT EXISTS chats(
    chat_id INTEGER PRIMARY KEY,
    token TEXT NOT NULL DEFAULT '',
    last_seen INTEGER NOT NULL DEFAULT 0,
    last_update_id INTEGER NOT NULL DEFAULT 0,
    pending_frame TEXT NOT NULL DEFAULT '',
    question_key TEXT NOT NULL DEFAULT '',
    question_choices TEXT NOT NULL DEFAULT '[]',
    keyboard_message_id INTEGER NOT NULL DEFAULT 0,
    blocked INTEGER NOT NULL DEFAULT 0);
  CREATE TABLE IF NOT EXISTS meta(name TEXT PRIMARY KEY, value INTEGER NOT NULL);
  CREATE TABLE IF NOT EXISTS secrets(name TEXT PRIMARY KEY, value TEXT NOT NULL);
)sql";

// A prepared statement for one use; finalized when it goes out of scope.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) {
    if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK) {
      throw std::runtime_error(std::string("bridge store: ") + sqlite3_errmsg(db));
    }
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  void bind(int index, std::int64_t value) { sqlite3_bind_int64(stmt_, index, value); }
  void bind(int index, const std::string& value) {
    sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
  }
  bool step() {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw std::runtime_error(std::string("bridge store: ") + sqlite3_errmsg(sqlite3_db_handle(stmt_)));
  }
  std::int64_t integer(int column) { return sqlite3_column_int64(stmt_, column); }
  std::string text(int column) {
    auto* bytes = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
    return bytes ? std::string(bytes, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column))) : std::string();
  }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

constexpr const char* kColumns =
    "chat_id, token, last_seen, last_update_id, pending_frame, question_key, question_choices, "
    "keyboard_message_id, blocked";

ChatRecord record_from(Statement& row) {
  ChatRecord record;
  record.chat_id = row.integer(0);
  record.token = row.text(1);
  record.last_seen = row.integer(2);
  record.last_update_id = row.integer(3);
  record.pending_frame = row.text(4);
  record.question_key = row.text(5);
  record.question_choices = row.text(6);
  record.keyboard_message_id = row.integer(7);
  record.blocked = row.integer(8) != 0;
  return record;
}

}  // namespace

tl::expected<std::unique_ptr<BridgeStore>, std::string> BridgeStore::open(const std::filesystem::path& file) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr) !=
      SQLITE_OK) {
    std::string message = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return tl::unexpected("cannot open " + file.string() + ": " + message);
  }
  sqlite3_busy_timeout(db, 5000);
  std::unique_ptr<BridgeStore> store(new BridgeStore(db));
  try {
    // WAL + synchronous=FULL: a saved record survives a crash or power loss.
    store->exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;");
    store->exec(kSchema);
  } catch (const std::exception& error) {
    return tl::unexpected(std::string(error.what()));
  }
  return store;
}

BridgeStore::~BridgeStore() { sqlite3_close(db_); }

void BridgeStore::exec(const char* sql) {
  char* message = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &message) != SQLITE_OK) {
    std::string text = message ? message : "unknown error";
    sqlite3_free(message);
    throw std::runtime_error("bridge store: " + text);
  }
}

std::optional<ChatRecord> BridgeStore::load(std::int64_t chat_id) {
  std::lock_guard lock(mutex_);
  Statement row(db_, (std::string("SELECT ") + kColumns + " FROM chats WHERE chat_id = ?").c_str());
  row.bind(1, chat_id);
  if (!row.step()) return std::nullopt;
  return record_from(row);
}

void BridgeStore::save(const ChatRecord& record) {
  std::lock_guard lock(mutex_);
  Statement insert(db_, (std::string("INSERT OR REPLACE INTO chats(") + kColumns +
                         ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)").c_str());
  insert.bind(1, record.chat_id);
  insert.bind(2, record.token);
  insert.bind(3, record.last_seen);
  insert.bind(4, record.last_update_id);
  insert.bind(5, record.pending_frame);
  insert.bind(6, record.question_key);
  insert.bind(7, record.question_choices);
  insert.bind(8, record.keyboard_message_id);
  insert.bind(9, std::int64_t{record.blocked ? 1 : 0});
  insert.step();
}

void BridgeStore::erase(std::int64_t chat_id) {
  std::lock_guard lock(mutex_);
  Statement remove(db_, "DELETE FROM chats WHERE chat_id = ?");
  remove.bind(1, chat_id);
  remove.step();
}

std::vector<ChatRecord> BridgeStore::chats_with_pending_turns() {
  std::lock_guard lock(mutex_);
  Statement rows(db_, (std::string("SELECT ") + kColumns + " FROM chats WHERE pending_frame != '' AND blocked = 0").c_str());
  std::vector<ChatRecord> records;
  while (rows.step()) records.push_back(record_from(rows));
  return records;
}

std::int64_t BridgeStore::offset() {
  std::lock_guard lock(mutex_);
  Statement row(db_, "SELECT value FROM meta WHERE name = 'offset'");
  return row.step() ? row.integer(0) : 0;
}

void BridgeStore::set_offset(std::int64_t offset) {
  std::lock_guard lock(mutex_);
  Statement upsert(db_, "INSERT OR REPLACE INTO meta(name, value) VALUES ('offset', ?)");
  upsert.bind(1, offset);
  upsert.step();
}

std::string BridgeStore::webhook_secret_or(const std::string& fresh) {
  std::lock_guard lock(mutex_);
  // A TEXT column: in meta's INTEGER one, a secret of digits would lose its leading zeros.
  Statement insert(db_, "INSERT OR IGNORE INTO secrets(name, value) VALUES ('webhook_secret', ?)");
  insert.bind(1, fresh);
  insert.step();
  Statement row(db_, "SELECT value FROM secrets WHERE name = 'webhook_secret'");
  return row.step() ? row.text(0) : fresh;
}

}  // namespace trellis::telegram
