#pragma once
// Which connection holds which session, so that a second hello for a session takes
// it over (the old connection is closed with 4001 "superseded"), and so shutdown
// can reach every connection. Thread-safe.
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace trellis::server {

class ChatConnection;

class SessionHub {
 public:
  // `newcomer` now holds the session `token_hash`. If another connection held it,
  // that one is told to let go, and `released` runs once it has finished any turn
  // in flight (so the newcomer then loads the latest committed state).
  void take_over(const std::string& token_hash, const std::shared_ptr<ChatConnection>& newcomer,
                 std::function<void()> released);
  // Forgets `connection` as holder of `token_hash`, unless another has taken over.
  void release(const std::string& token_hash, const ChatConnection* connection);

  void add(const std::shared_ptr<ChatConnection>& connection);
  void remove(const ChatConnection* connection);
  std::vector<std::shared_ptr<ChatConnection>> connections() const;
  std::size_t connection_count() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::weak_ptr<ChatConnection>> holders_;
  std::map<const ChatConnection*, std::weak_ptr<ChatConnection>> all_;
};

// Open connections in all and per client address, against the configured caps.
class ConnectionLimiter {
 public:
  ConnectionLimiter(std::size_t max_total, std::size_t max_per_ip) : max_total_(max_total), max_per_ip_(max_per_ip) {}
  bool try_acquire(const std::string& ip);
  void release(const std::string& ip);

 private:
  std::mutex mutex_;
  std::size_t max_total_, max_per_ip_, total_ = 0;
  std::map<std::string, std::size_t> per_ip_;
};

}  // namespace trellis::server
