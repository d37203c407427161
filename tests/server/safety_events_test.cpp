#include "safety_events.hpp"

#include <chrono>
#include <fstream>
#include <future>
#include <iterator>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include <gtest/gtest.h>

#include "alert_webhook.hpp"
#include "fake_webhook.hpp"
#include "sqlite_store.hpp"
#include "shipped_schemas.hpp"

namespace trellis::server {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::FakeWebhook;

const Clock::time_point kT0 = Clock::time_point{} + 1'700'000'000'000ms;

class TempFolder {
 public:
  TempFolder() {
    std::string pattern = (fs::temp_directory_path() / "trellis-safety-XXXXXX").string();
    if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempFolder() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  fs::path file() const { return path_ / "data" / "sessions.db"; }

 private:
  fs::path path_;
};

template <typename T, typename Call>
StoreResult<T> await(Call call) {
  auto promise = std::make_shared<std::promise<StoreResult<T>>>();
  auto result = promise->get_future();
  call([promise](StoreResult<T> r) { promise->set_value(std::move(r)); });
  return result.get();
}

std::unique_ptr<SqliteStore> open_store(const fs::path& file) {
  auto store = SqliteStore::open(file);
  if (!store) throw std::runtime_error(store.error().message);
  return std::move(*store);
}

std::int64_t create(SessionStore& store, const std::string& hash, Clock::time_point now = kT0) {
  auto session = await<StoredSession>([&](auto done) { store.create_session(hash, now, done); });
  if (!session) throw std::runtime_error(session.error().message);
  return session->id;
}

SafetyEvent event_of(std::int64_t session_id, Clock::time_point at, std::optional<std::string> text = {}) {
  return SafetyEvent{session_id, "self_harm", "trust", "ask_feeling", std::move(text), at};
}

StoreResult<std::int64_t> record(SessionStore& store, SafetyEvent event) {
  return await<std::int64_t>([&](auto done) { store.record_safety_event(std::move(event), done); });
}

std::vector<StoredSafetyEvent> list(SessionStore& store, Clock::time_point since, std::size_t limit = 100) {
  auto events = await<std::vector<StoredSafetyEvent>>([&](auto done) { store.list_safety_events(since, limit, done); });
  if (!events) throw std::runtime_error(events.error().message);
  return *events;
}

bool file_contains(const fs::path& file, const std::string& needle) {
  std::ifstream in(file, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return bytes.find(needle) != std::string::npos;
}

TEST(SafetyEvents, AreStoredAndListedOldestFirst) {
  TempFolder folder;
  auto store = open_store(folder.file());
  const auto session = create(*store, "hash-a");
  const auto first = record(*store, event_of(session, kT0 + 1s));
  const auto second = record(*store, event_of(session, kT0 + 2s, "I want it to stop"));
  ASSERT_TRUE(first) << first.error().message;
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_LT(*first, *second);

  const auto events = list(*store, kT0);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].id, *first);
  EXPECT_EQ(events[0].event.session_id, session);
  EXPECT_EQ(events[0].event.category, "self_harm");
  EXPECT_EQ(events[0].event.flow_id, "trust");
  EXPECT_EQ(events[0].event.node, "ask_feeling");
  EXPECT_FALSE(events[0].event.text.has_value()) << "no text is stored as NULL, not as \"\"";
  EXPECT_EQ(events[0].event.at, kT0 + 1s);
  EXPECT_EQ(events[1].event.text, "I want it to stop");

  EXPECT_EQ(list(*store, kT0 + 2s).size(), 1u) << "since is inclusive";
  EXPECT_EQ(list(*store, kT0 + 3s).size(), 0u);
  ASSERT_EQ(list(*store, kT0, 1).size(), 1u);
  EXPECT_EQ(list(*store, kT0, 1)[0].id, *first);
}

TEST(SafetyEvents, NeedAnExistingSession) {
  TempFolder folder;
  auto store = open_store(folder.file());
  EXPECT_FALSE(record(*store, event_of(42, kT0)));
  EXPECT_TRUE(list(*store, Clock::time_point{}).empty());
}

TEST(SafetyEvents, ForgettingASessionDeletesItsEventsFromTheFile) {
  TempFolder folder;
  auto store = open_store(folder.file());
  const auto doomed = create(*store, "hash-doomed");
  const auto kept = create(*store, "hash-kept");
  ASSERT_TRUE(record(*store, event_of(doomed, kT0, "words 5e1d7b")));
  ASSERT_TRUE(record(*store, event_of(kept, kT0)));

  ASSERT_TRUE(await<void>([&](auto done) { store->delete_session(doomed, done); }));
  const auto events = list(*store, Clock::time_point{});
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].event.session_id, kept);
  fs::path wal = folder.file();
  wal += "-wal";
  EXPECT_FALSE(file_contains(folder.file(), "5e1d7b"));
  EXPECT_FALSE(file_contains(wal, "5e1d7b"));
}

TEST(SafetyEvents, PurgingIdleSessionsDeletesTheirEvents) {
  TempFolder folder;
  auto store = open_store(folder.file());
  const auto idle = create(*store, "hash-idle", kT0);
  const auto fresh = create(*store, "hash-fresh", kT0 + 2h);
  ASSERT_TRUE(record(*store, event_of(idle, kT0)));
  ASSERT_TRUE(record(*store, event_of(fresh, kT0 + 2h)));
  ASSERT_TRUE(await<int>([&](auto done) { store->purge_idle(kT0 + 1h, done); }));
  const auto events = list(*store, Clock::time_point{});
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].event.session_id, fresh);
}

TEST(SafetyEvents, AVersion1FileIsMigrated) {
  TempFolder folder;
  fs::create_directories(folder.file().parent_path());
  {
    // The schema as version 1 shipped it, with one session in it.
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(folder.file().c_str(), &db), SQLITE_OK);
    const std::string v1 = std::string(testing::kSchemaVersion1) + R"sql(
      INSERT INTO sessions(token_hash, created_at, updated_at) VALUES('hash-old', 1, 1);
      PRAGMA user_version = 1;)sql";
    ASSERT_EQ(sqlite3_exec(db, v1.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    sqlite3_close(db);
  }
  auto store = open_store(folder.file());
  auto settings = await<SqliteStore::Settings>([&](auto done) { store->read_settings(done); });
  ASSERT_TRUE(settings);
  EXPECT_EQ(settings->schema_version, SqliteStore::kSchemaVersion);
  auto old = await<std::optional<StoredSession>>([&](auto done) { store->load_session("hash-old", done); });
  ASSERT_TRUE(old && *old);
  EXPECT_TRUE(record(*store, event_of((*old)->id, kT0)));
  EXPECT_TRUE(store->is_reachable());
}

// report_safety_event with a real store and a fake receiver.
class ReportSafetyEvent : public ::testing::Test {
 protected:
  void start(bool store_text, std::vector<unsigned> script = {}) {
    receiver_ = std::make_unique<FakeWebhook>(std::move(script));
    store_ = open_store(folder_.file());
    ServerConfig config;
    config.safety_store_text = store_text;
    config.safety_region = "uk";
    context_ = std::make_unique<ServerContext>(config, flows_, *store_);
    AlertWebhook::Options options;
    options.url = receiver_->url();
    options.secret = "s3cret";
    options.backoff_base = 1ms;
    auto alerts = AlertWebhook::create(options, context_->metrics);
    ASSERT_TRUE(alerts) << alerts.error();
    alerts_ = std::move(*alerts);
    context_->alerts = alerts_.get();
  }

  TempFolder folder_;
  FlowCatalog flows_{{}};
  std::unique_ptr<FakeWebhook> receiver_;
  std::unique_ptr<SqliteStore> store_;
  std::unique_ptr<ServerContext> context_;
  std::unique_ptr<AlertWebhook> alerts_;  // last: stops before the context's metrics go
};

TEST_F(ReportSafetyEvent, WithoutTextStoresCountsAndAlertsTheCategoryOnly) {
  start(/*store_text=*/false);
  const auto session = create(*store_, "hash-r");
  const std::string text = "words 9c2e";
  const auto before = std::chrono::steady_clock::now();
  report_safety_event(*context_, session, "self_harm", "trust", "ask_feeling", &text);
  EXPECT_LT(std::chrono::steady_clock::now() - before, 50ms);
  EXPECT_EQ(context_->metrics.safety_events_by_category.get("self_harm"), 1u);

  ASSERT_TRUE(receiver_->wait_for(1));
  const auto request = receiver_->requests().at(0);
  const auto body = nlohmann::json::parse(request.body);
  EXPECT_EQ(body["event"], "safety");
  EXPECT_EQ(body["category"], "self_harm");
  EXPECT_EQ(body["region"], "uk");
  EXPECT_EQ(body["session"], session);
  EXPECT_EQ(body["flow"], "trust");
  EXPECT_EQ(body["node"], "ask_feeling");
  EXPECT_EQ(body["delivery"], request.header("x-trellis-delivery"));
  EXPECT_TRUE(body["at"].get<std::string>().ends_with("Z")) << body["at"];
  EXPECT_FALSE(body.contains("text"));
  EXPECT_EQ(request.header("x-trellis-signature"),
            sign_alert("s3cret", request.header("x-trellis-timestamp"), request.body));

  // The store runs jobs in queue order: the event was queued before this read.
  const auto events = list(*store_, Clock::time_point{});
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].event.category, "self_harm");
  EXPECT_FALSE(events[0].event.text.has_value());
  EXPECT_FALSE(file_contains(folder_.file(), "9c2e"));
}

TEST_F(ReportSafetyEvent, WithTextOnKeepsAndSendsTheWords) {
  start(/*store_text=*/true);
  const auto session = create(*store_, "hash-t");
  const std::string text = "I can't go on";
  report_safety_event(*context_, session, "self_harm", "trust", "ask_feeling", &text);
  ASSERT_TRUE(receiver_->wait_for(1));
  EXPECT_EQ(nlohmann::json::parse(receiver_->requests().at(0).body)["text"], text);
  const auto events = list(*store_, Clock::time_point{});
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].event.text, text);

  report_safety_event(*context_, session, "abuse", "trust", "ask_feeling", nullptr);
  ASSERT_TRUE(receiver_->wait_for(2));
  EXPECT_FALSE(nlohmann::json::parse(receiver_->requests().at(1).body).contains("text"));
}

TEST_F(ReportSafetyEvent, AlertsEvenWhenTheStoreRefuses) {
  start(/*store_text=*/false);
  report_safety_event(*context_, 999, "self_harm", "trust", "ask_feeling", nullptr);  // no such session
  ASSERT_TRUE(receiver_->wait_for(1));
  EXPECT_EQ(context_->metrics.safety_events_by_category.get("self_harm"), 1u);
  store_->close();
  report_safety_event(*context_, 999, "self_harm", "trust", "ask_feeling", nullptr);  // store closed
  ASSERT_TRUE(receiver_->wait_for(2));
  EXPECT_EQ(context_->metrics.safety_events_by_category.get("self_harm"), 2u);
}

TEST(SafetyAlertBody, HoldsTheDocumentedFields) {
  SafetyEvent event{7, "self_harm", "trust", "ask_feeling", std::nullopt, kT0 + 123ms};
  EXPECT_EQ(safety_alert_body(event, "default", "abc"),
            R"({"at":"2023-11-14T22:13:20.123Z","category":"self_harm","delivery":"abc","event":"safety",)"
            R"("flow":"trust","node":"ask_feeling","region":"default","session":7})");
  event.text = "bad \xff byte";
  EXPECT_EQ(nlohmann::json::parse(safety_alert_body(event, "default", "abc"))["text"], "bad \xef\xbf\xbd byte");
}

}  // namespace
}  // namespace trellis::server
