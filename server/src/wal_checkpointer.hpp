#pragma once
// Copies the WAL of a SQLite file back into the database file on a thread and a
// connection of its own, so that the store's writer thread never waits behind a
// checkpoint (docs/storage.md, "Checkpoints").
//
// Why: with SQLite's automatic checkpoints, the commit that crosses the WAL limit
// copies thousands of pages and syncs the file before it returns, and every turn
// queued behind it waits; under load that was the whole p99 (docs/performance.md).
// A PASSIVE checkpoint from another connection runs alongside the writer's commits.
// It can copy only frames committed before it started, and the WAL starts over only
// when every frame has been copied when a write begins, so the writer finishes the
// job itself after each background pass: a short checkpoint of what was committed
// meanwhile (see SqliteStore::after_batch). Each pass syncs the database file, so
// that the writer's checkpoint has only its own pages to sync.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <thread>

namespace trellis::server {

class WalCheckpointer {
 public:
  // Starts the thread; it opens its own connection to `file` (already created, in
  // WAL mode). If that fails, passes() stays 0 and the writer, seeing the WAL
  // grow past four times its limit, checkpoints alone.
  WalCheckpointer(std::filesystem::path file, int busy_timeout_ms);
  ~WalCheckpointer();  // stop()

  WalCheckpointer(const WalCheckpointer&) = delete;
  WalCheckpointer& operator=(const WalCheckpointer&) = delete;

  // Asks for a pass; returns at once. Requests made during a pass run one more.
  void request();
  // Background passes ended so far (whether or not SQLite copied everything).
  std::uint64_t passes() const { return passes_.load(std::memory_order_acquire); }
  // Ends the pass in progress (if any) and the thread; later requests do nothing.
  void stop();

 private:
  void run();

  const std::filesystem::path file_;
  const int busy_timeout_ms_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool requested_ = false;  // guarded by mutex_
  bool stopping_ = false;   // guarded by mutex_
  std::atomic<std::uint64_t> passes_{0};
  std::thread thread_;  // last: starts after everything above is built
};

}  // namespace trellis::server
