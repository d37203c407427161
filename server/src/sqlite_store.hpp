#pragma once
// The embedded SessionStore: one SQLite file in WAL mode with synchronous=FULL,
// so a turn whose callback reported success survives kill -9 and power loss.
//
// Threads. One writer thread owns the connection. Every call queues a job and
// returns at once; the thread takes all queued jobs together, runs the writes
// among them (create, commit_turn, delete, purge, save_flow_version,
// record_safety_event) inside ONE
// transaction (group commit: one fsync for many sessions' turns), each write in
// its own SAVEPOINT so that one refused turn does not roll back the others, and
// only after COMMIT runs the callbacks, in submission order, on that thread.
// Reads (load_session, outputs_after, outputs_of_seq, load_flow_version,
// list_safety_events) run on
// the same thread, in queue order, so a read always sees every write queued
// before it. If the batch's transaction cannot commit, every callback of the
// batch gets an error and nothing of the batch is stored.
//
// Callbacks must be quick, must not throw, and must not call close() or destroy
// the store (post the result to your own executor instead). A call made after
// close() gets its error at once, on the calling thread.
//
// commit_turn is strict: the session must exist, turn.seq must be last_seq + 1,
// output ids must continue last_output_id without gaps (last_output_id + 1, + 2,
// ...), and every output's seq must equal turn.seq. Anything else is refused with
// a StoreError and changes nothing. Error messages hold ids, numbers and SQLite's
// own messages, never a state, a frame or a token hash.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include <tl/expected.hpp>

#include "session_store.hpp"
#include "wal_checkpointer.hpp"

namespace trellis::server {

namespace sqlite_detail {
class Database;
}

struct SqliteStoreOptions {
  // How long a statement waits for a lock held by another connection (another
  // process, or is_reachable()) before it fails with SQLITE_BUSY.
  std::chrono::milliseconds busy_timeout{5000};
  // After a job arrives, wait this long for more before committing. 0 (the
  // default) commits at once: batches still form from whatever queues while the
  // previous batch is being synced, which is where most of the gain is.
  std::chrono::microseconds group_commit_window{0};
  // PRAGMA secure_delete=ON: deleted rows are overwritten with zeros instead of
  // lingering in free pages. See docs/storage.md.
  bool secure_delete = true;
  // After a batch that deleted a session, checkpoint and truncate the WAL so the
  // old page images that held the session's text are gone from it too.
  bool truncate_wal_after_delete = true;
  // When the WAL holds this many pages (4 KiB each), a background thread copies it
  // into the database file (WalCheckpointer), and the writer finishes the copy
  // with a short checkpoint of its own; SQLite's automatic checkpoints, which run
  // inside a commit, are off. Larger: fewer copies of hot pages, a bigger WAL.
  int checkpoint_pages = 10000;
  // Test hook for failure injection: called before every write statement
  // (INSERT, UPDATE, DELETE, COMMIT), on the store's thread, with a running
  // index from 0 (the first write after open() is 0); returning true
  // makes that write fail as if the disk had refused it. Empty in production.
  std::function<bool(int write_index)> fail_write;
};

class SqliteStore final : public SessionStore {
 public:
  using Options = SqliteStoreOptions;

  // Opens `file`, creating its parent folders and the schema on first run and
  // migrating an older schema (PRAGMA user_version). Fails on a file written by
  // a newer Trellis, on a file that is not a database, or when WAL cannot be set.
  static tl::expected<std::unique_ptr<SqliteStore>, StoreError> open(const std::filesystem::path& file,
                                                                    Options options = {});
  ~SqliteStore() override;  // calls close()

  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  void create_session(std::string token_hash, Clock::time_point now, StoreCallback<StoredSession> done) override;
  // Reading a session does not count as activity; only commit_turn moves updated_at.
  void load_session(std::string token_hash, StoreCallback<std::optional<StoredSession>> done) override;
  void commit_turn(TurnRecord turn, StoreCallback<TurnRecord> done) override;
  void outputs_after(std::int64_t session_id, std::int64_t after_id,
                     StoreCallback<std::vector<StoredOutput>> done) override;
  void outputs_of_seq(std::int64_t session_id, std::int64_t seq,
                      StoreCallback<std::vector<StoredOutput>> done) override;
  // Succeeds also when the session is already gone.
  void delete_session(std::int64_t session_id, StoreCallback<void> done) override;
  // Idle means updated_at < idle_since. updated_at is the last committed turn's
  // time, kept to the minute: it moves only when a turn comes 60 s or more after it.
  void purge_idle(Clock::time_point idle_since, StoreCallback<int> done) override;
  // Saving the same text twice is fine; different text under a stored
  // (flow_id, version) is refused, because running sessions depend on it.
  void save_flow_version(std::string flow_id, int version, std::string text, StoreCallback<void> done) override;
  void load_flow_version(std::string flow_id, int version, StoreCallback<std::optional<std::string>> done) override;
  // A write like a turn: batched, durable when `done` runs with a value.
  void record_safety_event(SafetyEvent event, StoreCallback<std::int64_t> done) override;
  void list_safety_events(Clock::time_point since, std::size_t limit,
                          StoreCallback<std::vector<StoredSafetyEvent>> done) override;

  // Opens a short-lived read-only connection and reads the schema version; false
  // after close(). Does not wait behind the job queue.
  bool is_reachable() override;
  void close() override;
  Stats stats() override;

  // What the connection really runs with, read back with PRAGMA queries on the
  // writer's own connection (synchronous and foreign_keys are per connection).
  // For tests and the startup log.
  struct Settings {
    std::string journal_mode;  // "wal"
    int synchronous = 0;       // 2 is FULL
    bool foreign_keys = false;
    bool secure_delete = false;
    int schema_version = 0;
    int wal_autocheckpoint_pages = -1;  // SQLite's own; 0: off (the checkpointer does it)
    int checkpoint_pages = 0;           // the option in force
    int cache_kib = 0;
  };
  void read_settings(StoreCallback<Settings> done);

  static constexpr int kSchemaVersion = 4;

 private:
  // What to tell a caller once its batch's transaction has ended; `batch_error`
  // is set when the whole batch failed and overrides the job's own result.
  using Reply = std::function<void(const StoreError* batch_error)>;
  struct Job {
    bool writes = false;
    std::function<Reply(sqlite_detail::Database&)> run;  // does the work, then returns the reply
    std::function<void(const StoreError&)> fail;          // when the batch fails before `run`
  };

  SqliteStore(std::unique_ptr<sqlite_detail::Database> db, std::filesystem::path file, Options options,
              std::uint64_t sessions);

  template <typename T, typename Work>
  void submit(bool writes, StoreCallback<T> done, Work work);
  void run_writer();
  void run_batch(std::deque<Job>& batch);
  void checkpoint_if_due();

  std::unique_ptr<sqlite_detail::Database> db_;  // touched only by writer_ after open()
  const std::filesystem::path file_;
  const Options options_;

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Job> queue_;
  bool closing_ = false;  // guarded by mutex_
  std::mutex close_mutex_;
  bool closed_ = false;  // guarded by close_mutex_

  // Writer thread only: WAL pages after the last commit (SQLite's WAL hook), and
  // where the background checkpointer stood when the writer last looked.
  int wal_pages_ = 0;
  std::uint64_t checkpoint_passes_seen_ = 0;
  bool checkpoint_requested_ = false;
  std::unique_ptr<WalCheckpointer> checkpointer_;

  std::atomic<std::uint64_t> commits_{0};
  std::atomic<std::uint64_t> transactions_{0};
  std::atomic<std::uint64_t> sessions_{0};

  std::thread writer_;  // last: starts after everything above is built
};

}  // namespace trellis::server
