#include "session_hub.hpp"

#include "chat_connection.hpp"

namespace trellis::server {

void SessionHub::take_over(const std::string& token_hash, const std::shared_ptr<ChatConnection>& newcomer,
                           std::function<void()> released) {
  std::shared_ptr<ChatConnection> previous;
  {
    std::lock_guard lock(mutex_);
    auto& holder = holders_[token_hash];
    previous = holder.lock();
    holder = newcomer;
  }
  if (previous && previous.get() != newcomer.get()) {
    previous->supersede(std::move(released));
  } else {
    released();
  }
}

void SessionHub::release(const std::string& token_hash, const ChatConnection* connection) {
  std::lock_guard lock(mutex_);
  auto found = holders_.find(token_hash);
  if (found == holders_.end()) return;
  auto holder = found->second.lock();
  if (!holder || holder.get() == connection) holders_.erase(found);
}

void SessionHub::add(const std::shared_ptr<ChatConnection>& connection) {
  std::lock_guard lock(mutex_);
  all_[connection.get()] = connection;
}

void SessionHub::remove(const ChatConnection* connection) {
  std::lock_guard lock(mutex_);
  all_.erase(connection);
}

std::vector<std::shared_ptr<ChatConnection>> SessionHub::connections() const {
  std::lock_guard lock(mutex_);
  std::vector<std::shared_ptr<ChatConnection>> live;
  for (const auto& [key, weak] : all_) {
    if (auto connection = weak.lock()) live.push_back(std::move(connection));
  }
  return live;
}

std::size_t SessionHub::connection_count() const {
  std::lock_guard lock(mutex_);
  return all_.size();
}

bool ConnectionLimiter::try_acquire(const std::string& ip) {
  std::lock_guard lock(mutex_);
  auto& mine = per_ip_[ip];
  if (total_ >= max_total_ || mine >= max_per_ip_) {
    if (mine == 0) per_ip_.erase(ip);
    return false;
  }
  ++total_;
  ++mine;
  return true;
}

void ConnectionLimiter::release(const std::string& ip) {
  std::lock_guard lock(mutex_);
  auto found = per_ip_.find(ip);
  if (found == per_ip_.end()) return;
  --total_;
  if (--found->second == 0) per_ip_.erase(found);
}

}  // namespace trellis::server
