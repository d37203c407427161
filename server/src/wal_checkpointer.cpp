#include "wal_checkpointer.hpp"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <sqlite3.h>

namespace trellis::server {

WalCheckpointer::WalCheckpointer(std::filesystem::path file, int busy_timeout_ms)
    : file_(std::move(file)), busy_timeout_ms_(busy_timeout_ms) {
  thread_ = std::thread([this] { run(); });
}

WalCheckpointer::~WalCheckpointer() { stop(); }

void WalCheckpointer::request() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    requested_ = true;
  }
  wake_.notify_one();
}

void WalCheckpointer::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

namespace {

void sync_database_file(sqlite3* handle) {
  sqlite3_file* file = nullptr;
  if (sqlite3_file_control(handle, "main", SQLITE_FCNTL_FILE_POINTER, &file) != SQLITE_OK || file == nullptr ||
      file->pMethods == nullptr) {
    return;
  }
  (void)file->pMethods->xSync(file, SQLITE_SYNC_NORMAL);
}

}  // namespace

void WalCheckpointer::run() {
  // Copying pages is background work: when it shares a core with the I/O
  // threads, they go first. Best effort; Linux gives each thread its own nice.
  (void)setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), 10);

  sqlite3* handle = nullptr;
  if (sqlite3_open_v2(file_.c_str(), &handle, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
    sqlite3_close_v2(handle);
    return;
  }
  sqlite3_busy_timeout(handle, busy_timeout_ms_);
  // A connection learns that the file is in WAL mode when it first reads it;
  // until then a checkpoint request on it does nothing.
  if (sqlite3_exec(handle, "PRAGMA journal_mode", nullptr, nullptr, nullptr) != SQLITE_OK) {
    sqlite3_close_v2(handle);
    return;
  }
  // Closing this connection must not checkpoint or delete the WAL on its own:
  // the writer's connection owns the file's lifecycle.
  (void)sqlite3_db_config(handle, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);

  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return stopping_ || requested_; });
    if (stopping_) break;
    requested_ = false;
    lock.unlock();
    // PASSIVE never blocks the writer; it copies what it can and returns. A pass
    // that failed (SQLITE_BUSY while the writer checkpoints) still ends: the
    // writer's own checkpoint, which follows every pass, copies the rest.
    int copied = 0;
    (void)sqlite3_wal_checkpoint_v2(handle, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, &copied);
    // SQLite syncs the database file only at the end of a checkpoint that reached
    // the end of the WAL, which a pass running beside the writer never does: the
    // pages it copied would all be synced by the writer's finishing checkpoint,
    // with every turn waiting behind it (5-7 ms). Synced here, they leave that
    // checkpoint only its own few pages to sync.
    if (copied > 0) sync_database_file(handle);
    passes_.fetch_add(1, std::memory_order_release);
    lock.lock();
  }
  lock.unlock();
  sqlite3_close_v2(handle);
}

}  // namespace trellis::server
