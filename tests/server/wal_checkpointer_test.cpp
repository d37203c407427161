#include "wal_checkpointer.hpp"

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include <sqlite3.h>
#include <unistd.h>

#include <gtest/gtest.h>

namespace trellis::server {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class TempFile {
 public:
  TempFile() {
    std::string pattern = (fs::temp_directory_path() / "trellis-ckpt-XXXXXX").string();
    if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    folder_ = pattern;
  }
  ~TempFile() {
    std::error_code ec;
    fs::remove_all(folder_, ec);
  }
  fs::path path() const { return folder_ / "t.db"; }

 private:
  fs::path folder_;
};

// A writer connection in WAL mode with SQLite's own checkpoints off, holding
// `rows` rows of 1 KiB, all of them still only in the WAL.
sqlite3* open_writer_with_rows(const fs::path& file, int rows) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
  EXPECT_EQ(sqlite3_exec(db,
                         "PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0;"
                         "CREATE TABLE t(x BLOB); BEGIN;",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  for (int i = 0; i < rows; ++i) {
    EXPECT_EQ(sqlite3_exec(db, "INSERT INTO t VALUES(zeroblob(1024))", nullptr, nullptr, nullptr), SQLITE_OK);
  }
  EXPECT_EQ(sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
  return db;
}

bool wait_for_passes(const WalCheckpointer& checkpointer, std::uint64_t passes) {
  for (auto waited = 0ms; waited < 10s; waited += 5ms) {
    if (checkpointer.passes() >= passes) return true;
    std::this_thread::sleep_for(5ms);
  }
  return false;
}

TEST(WalCheckpointer, CopiesTheWalIntoTheDatabaseFileWhenAsked) {
  TempFile file;
  sqlite3* writer = open_writer_with_rows(file.path(), 200);
  const auto before = fs::file_size(file.path());
  EXPECT_LT(before, 100u * 1024) << "the rows should still be in the WAL only";

  WalCheckpointer checkpointer(file.path(), 1000);
  EXPECT_EQ(checkpointer.passes(), 0u) << "nothing runs until asked";
  checkpointer.request();
  ASSERT_TRUE(wait_for_passes(checkpointer, 1));
  EXPECT_GE(fs::file_size(file.path()), 200u * 1024) << "the 200 KiB of rows were copied into the file";

  // The writer's data is intact and it can go on writing.
  EXPECT_EQ(sqlite3_exec(writer, "INSERT INTO t VALUES(zeroblob(10))", nullptr, nullptr, nullptr), SQLITE_OK);
  checkpointer.stop();
  sqlite3_close(writer);
  sqlite3* reader = nullptr;
  ASSERT_EQ(sqlite3_open(file.path().c_str(), &reader), SQLITE_OK);
  sqlite3_stmt* count = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(reader, "SELECT count(*) FROM t", -1, &count, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(count), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(count, 0), 201);
  sqlite3_finalize(count);
  sqlite3_close(reader);
}

TEST(WalCheckpointer, RunsOnePassPerRequestAndNoneAfterStop) {
  TempFile file;
  sqlite3* writer = open_writer_with_rows(file.path(), 10);
  WalCheckpointer checkpointer(file.path(), 1000);
  checkpointer.request();
  ASSERT_TRUE(wait_for_passes(checkpointer, 1));
  checkpointer.request();
  ASSERT_TRUE(wait_for_passes(checkpointer, 2));
  checkpointer.stop();
  checkpointer.request();
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(checkpointer.passes(), 2u);
  sqlite3_close(writer);
}

TEST(WalCheckpointer, AFileItCannotOpenLeavesPassesAtZero) {
  TempFile file;  // the folder exists, the file does not, and the checkpointer never creates it
  WalCheckpointer checkpointer(file.path(), 1000);
  checkpointer.request();
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(checkpointer.passes(), 0u);
  EXPECT_FALSE(fs::exists(file.path()));
}

}  // namespace
}  // namespace trellis::server
