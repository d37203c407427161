#pragma once
// Where sessions live between turns and across restarts. The SQLite store is the
// embedded default; a PostgreSQL store for several instances implements the same
// interface. Every call is asynchronous: work happens on the store's own thread(s)
// and the callback runs there, so callers post back to their own executor. Disk
// never blocks a network thread.
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <tl/expected.hpp>

namespace trellis::server {

using Clock = std::chrono::system_clock;

struct StoreError {
  std::string message;  // for logs: never contains user text
};

template <typename T>
using StoreResult = tl::expected<T, StoreError>;

template <typename T>
using StoreCallback = std::function<void(StoreResult<T>)>;

struct StoredSession {
  std::int64_t id = 0;
  std::string state_json;        // the engine's SessionState as JSON; "" before any flow started
  std::int64_t last_seq = 0;     // the last input applied
  std::int64_t last_output_id = 0;
};

struct StoredOutput {
  std::int64_t id = 0;
  std::int64_t seq = 0;
  std::string frame;  // the exact text frame that was (or will be) sent
};

// One turn: the new state and every frame it produced, committed together.
struct TurnRecord {
  std::int64_t session_id = 0;
  std::int64_t seq = 0;
  std::string state_json;
  std::vector<StoredOutput> outputs;
  std::string flow_id;  // for metrics and counselor analytics; never user text
  Clock::time_point at;
};

// The safety layer sent a person to a safety route (docs/safety-alerts.md). Kept
// for counselors; deleted together with its session (forget and purge).
struct SafetyEvent {
  std::int64_t session_id = 0;
  std::string category;             // "self_harm", ...: a code, never user text
  std::string flow_id;              // the flow and node the person was at
  std::string node;
  std::optional<std::string> text;  // what the person wrote; only when safety_store_text is on
  Clock::time_point at;
};

struct StoredSafetyEvent {
  std::int64_t id = 0;  // increasing in the order the events were recorded
  SafetyEvent event;
};

class SessionStore {
 public:
  virtual ~SessionStore() = default;

  // A new, empty session under the hash of its token.
  virtual void create_session(std::string token_hash, Clock::time_point now,
                              StoreCallback<StoredSession> done) = 0;
  // nullopt when no session has this token hash (never existed, forgotten or expired).
  virtual void load_session(std::string token_hash, StoreCallback<std::optional<StoredSession>> done) = 0;
  // Durable when `done` runs with a value: the turn survives a crash or power loss.
  // Commits from many sessions are batched into one transaction (group commit).
  // The value is the turn itself, handed back: its frames are on disk and can be
  // sent as they are, and it is freed on the caller's thread, not the store's.
  virtual void commit_turn(TurnRecord turn, StoreCallback<TurnRecord> done) = 0;
  // Frames with id > after_id, in id order.
  virtual void outputs_after(std::int64_t session_id, std::int64_t after_id,
                             StoreCallback<std::vector<StoredOutput>> done) = 0;
  // Frames produced by input `seq`, in id order (for an input sent twice).
  virtual void outputs_of_seq(std::int64_t session_id, std::int64_t seq,
                              StoreCallback<std::vector<StoredOutput>> done) = 0;
  // Deletes the session and everything stored for it.
  virtual void delete_session(std::int64_t session_id, StoreCallback<void> done) = 0;
  // Deletes sessions with no activity since `idle_since`; returns how many.
  virtual void purge_idle(Clock::time_point idle_since, StoreCallback<int> done) = 0;
  // Keeps the text of every flow version a session may run, so that a session
  // continues on the version it started with even after the file changes.
  virtual void save_flow_version(std::string flow_id, int version, std::string text,
                                 StoreCallback<void> done) = 0;
  virtual void load_flow_version(std::string flow_id, int version,
                                 StoreCallback<std::optional<std::string>> done) = 0;

  // Stores one safety event and returns its id. Fails when the session does not
  // exist (any more). Stores `event.text` as given: the caller decides whether
  // the deployment keeps the person's words.
  virtual void record_safety_event(SafetyEvent event, StoreCallback<std::int64_t> done) = 0;
  // Events with `at >= since`, oldest first, at most `limit` of them.
  virtual void list_safety_events(Clock::time_point since, std::size_t limit,
                                  StoreCallback<std::vector<StoredSafetyEvent>> done) = 0;

  // Synchronous health check for /readyz (cheap; may block briefly).
  virtual bool is_reachable() = 0;
  // Finishes queued work, then stops the store's thread. Idempotent.
  virtual void close() = 0;

  struct Stats {
    std::uint64_t commits = 0;        // turns committed
    std::uint64_t transactions = 0;   // group commits
    std::uint64_t sessions = 0;       // sessions stored now
  };
  virtual Stats stats() = 0;
};

}  // namespace trellis::server
