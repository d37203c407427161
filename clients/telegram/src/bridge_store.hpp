#pragma once
// The bridge's own small SQLite file: per private chat, the Trellis session
// token and how far the chat has got; the getUpdates offset; and the webhook
// secret the bridge made for itself. A restarted
// bridge reads it back and resumes every conversation. Thread-safe (one mutex:
// the writes are tiny).
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <tl/expected.hpp>

struct sqlite3;

namespace trellis::telegram {

struct ChatRecord {
  std::int64_t chat_id = 0;
  std::string token;                 // empty: no Trellis session yet
  std::int64_t last_seen = 0;        // the highest output id delivered to Telegram
  std::int64_t last_update_id = 0;   // the latest update handed to the server (or answered)
  std::string pending_frame;         // the turn sent but not yet answered (JSON), resent after a crash
  std::string question_key;          // the open question's key ("" when none)
  std::string question_choices;      // its choice ids, a JSON array
  std::int64_t keyboard_message_id = 0;  // the message whose keyboard is still showing
  bool blocked = false;              // the person blocked the bot
  friend bool operator==(const ChatRecord&, const ChatRecord&) = default;
};

class BridgeStore {
 public:
  static tl::expected<std::unique_ptr<BridgeStore>, std::string> open(const std::filesystem::path& file);
  ~BridgeStore();

  std::optional<ChatRecord> load(std::int64_t chat_id);
  void save(const ChatRecord& record);
  void erase(std::int64_t chat_id);
  std::vector<ChatRecord> chats_with_pending_turns();
  std::int64_t offset();
  void set_offset(std::int64_t offset);
  // The stored webhook secret; `fresh` is stored (and returned) when there is none yet.
  std::string webhook_secret_or(const std::string& fresh);

 private:
  explicit BridgeStore(sqlite3* db) : db_(db) {}
  void exec(const char* sql);
  sqlite3* db_;
  std::mutex mutex_;
};

}  // namespace trellis::telegram
