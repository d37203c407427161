#include "static_site.hpp"

#include <sys/stat.h>

#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "session_token.hpp"

namespace trellis::server {
namespace {
namespace fs = std::filesystem;

void write_file(const fs::path& path, std::string_view text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

// A web root with a few files, a sibling directory holding a "secret", and
// symlinks that try to reach it.
class StaticFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device random;
    base_ = fs::temp_directory_path() / ("trellis-static-" + std::to_string(random()));
    root_ = base_ / "web";
    write_file(root_ / "index.html", "<h1>home</h1>");
    write_file(root_ / "widget.js", "//js");
    write_file(root_ / "docs" / "index.html", "docs");
    write_file(root_ / "docs" / "guide.txt", "guide");
    write_file(root_ / "with space.css", "body{}");
    write_file(root_ / ".env", "SECRET=1");
    write_file(base_ / "secret.txt", "secret");
    write_file(base_ / "web2" / "other.txt", "sibling with a common prefix");
    write_file(base_ / "outside" / "index.html", "outside");
    fs::create_symlink(base_ / "secret.txt", root_ / "link-out.txt");
    fs::create_directory_symlink(base_ / "outside", root_ / "dir-out");
    fs::create_symlink(root_ / "widget.js", root_ / "link-in.js");
    fs::create_directory_symlink(base_ / "web2", root_ / "sibling");
  }
  void TearDown() override { fs::remove_all(base_); }

  StaticSite load(const StaticSiteLimits& limits = {}) {
    auto site = StaticSite::load(root_, limits);
    EXPECT_TRUE(site) << site.error();
    return site ? std::move(*site) : StaticSite{};
  }
  static std::vector<std::string> paths(const StaticSite& site) {
    std::vector<std::string> out;
    for (const auto& [path, file] : site.files()) out.push_back(path);
    return out;
  }

  fs::path base_, root_;
};

TEST_F(StaticFiles, ServesFilesInsideTheRoot) {
  struct Row {
    const char* target;
    const char* path;   // the name it is served under
    const char* bytes;
  };
  const Row rows[] = {
      {"/", "index.html", "<h1>home</h1>"},
      {"/index.html", "index.html", "<h1>home</h1>"},
      {"/widget.js", "widget.js", "//js"},
      {"/widget.js?v=2", "widget.js", "//js"},
      {"/widget.js#top", "widget.js", "//js"},
      {"/widget.js?next=/../../etc/passwd", "widget.js", "//js"},
      {"/docs", "docs/index.html", "docs"},
      {"/docs/", "docs/index.html", "docs"},
      {"/docs/guide.txt", "docs/guide.txt", "guide"},
      {"/with%20space.css", "with space.css", "body{}"},
      {"/%77idget.js", "widget.js", "//js"},
      {"/link-in.js", "link-in.js", "//js"},  // a symlink that stays inside is fine
  };
  const StaticSite site = load();
  for (const auto& row : rows) {
    const StaticFile* file = site.find(row.target);
    ASSERT_NE(file, nullptr) << row.target;
    EXPECT_EQ(file->path, row.path) << row.target;
    EXPECT_EQ(*file->bytes, row.bytes) << row.target;
  }
}

TEST_F(StaticFiles, RefusesEveryEscapeAttempt) {
  const std::string rows[] = {
      "/../etc/passwd",
      "/%2e%2e/etc/passwd",
      "/%2E%2E/etc/passwd",
      "/..%2fetc",
      "/..%2f..%2fsecret.txt",
      "/a/../../x",
      "/docs/../../secret.txt",
      "/docs/..",
      "/..",
      "/.",
      "/./index.html",
      "//etc/passwd",
      "/docs//guide.txt",
      "/\\..\\x",
      "/%5c..%5csecret.txt",
      "/%00",
      "/index.html%00.txt",
      "/link-out.txt",       // symlink to a file outside the root
      "/dir-out/",           // symlink to a directory outside the root
      "/dir-out/index.html",
      "/../web2/other.txt",
      "/sibling/other.txt",  // symlink into ../web2, whose name shares the root's prefix
      "/.env",
      "etc/passwd",          // not origin-form
      "",
      "/%",
      "/%2",
      "/%zz",
      "/missing.html",
      "/widget.js/",
      "/C:/Windows/win.ini",
      "/%252e%252e/secret.txt",  // decoded once: the literal name "%2e%2e", which does not exist
  };
  const StaticSite site = load();
  for (const auto& target : rows) {
    EXPECT_EQ(site.find(target), nullptr) << '"' << target << '"';
  }
}

TEST_F(StaticFiles, LoadsOnlyWhatARequestMayReach) {
  // Not the dot-file, nor the symlinks out of the root (link-out.txt, dir-out/,
  // sibling/): their bytes are never read into memory.
  const std::vector<std::string> expected = {"docs/guide.txt", "docs/index.html", "index.html",
                                             "link-in.js",     "widget.js",       "with space.css"};
  const StaticSite site = load();
  EXPECT_EQ(paths(site), expected);
  for (const auto& [path, file] : site.files()) {
    EXPECT_EQ(file.bytes->find("secret"), std::string::npos) << path;
    EXPECT_EQ(file.bytes->find("outside"), std::string::npos) << path;
    EXPECT_EQ(file.bytes->find("sibling"), std::string::npos) << path;
  }
}

TEST_F(StaticFiles, LeavesOutDotFilesAndDotFolders) {
  write_file(root_ / ".git" / "config", "[remote]");
  write_file(root_ / "docs" / ".draft.html", "draft");
  write_file(root_ / ".well-known" / "security.txt", "contact");
  fs::create_directory_symlink(root_ / "docs", root_ / ".docs-link");
  const StaticSite site = load();
  for (const auto& path : paths(site)) EXPECT_EQ(path.find('.'), path.rfind('.')) << path;  // one dot: the extension
  EXPECT_EQ(site.file_count(), 6u);
  EXPECT_EQ(site.find("/.git/config"), nullptr);
  EXPECT_EQ(site.find("/docs/.draft.html"), nullptr);
}

TEST_F(StaticFiles, ServesTheBytesReadAtLoadNotTheDisk) {
  const StaticSite site = load();
  write_file(root_ / "widget.js", "//changed on disk");
  fs::remove(root_ / "docs" / "guide.txt");
  write_file(root_ / "new.txt", "added after loading");
  ASSERT_NE(site.find("/widget.js"), nullptr);
  EXPECT_EQ(*site.find("/widget.js")->bytes, "//js");
  ASSERT_NE(site.find("/docs/guide.txt"), nullptr);
  EXPECT_EQ(*site.find("/docs/guide.txt")->bytes, "guide");
  EXPECT_EQ(site.find("/new.txt"), nullptr);
}

TEST_F(StaticFiles, SymlinkedNamesShareOneCopy) {
  const StaticSite site = load();
  EXPECT_EQ(site.find("/link-in.js")->bytes, site.find("/widget.js")->bytes);
  std::uintmax_t distinct = 0;
  for (const auto& [path, file] : site.files()) distinct += path == "link-in.js" ? 0 : file.bytes->size();
  EXPECT_EQ(site.total_bytes(), distinct);
}

TEST_F(StaticFiles, SymlinkLoopsEndTheWalk) {
  fs::create_directory_symlink(root_, root_ / "docs" / "up");
  write_file(root_ / "a" / "b" / "page.txt", "page");
  fs::create_directory_symlink(root_ / "a", root_ / "a" / "b" / "back");
  fs::create_directory_symlink(root_ / "c", root_ / "a" / "to-c");
  fs::create_directory(root_ / "c");
  fs::create_directory_symlink(root_ / "a", root_ / "c" / "to-a");
  const StaticSite site = load();
  EXPECT_NE(site.find("/a/b/page.txt"), nullptr);
  EXPECT_NE(site.find("/c/to-a/b/page.txt"), nullptr);  // another name for a folder inside the root
  EXPECT_LT(site.file_count(), 20u);
}

TEST_F(StaticFiles, LeavesOutFifos) {
  // Opening a FIFO would block start-up until something writes to it.
  ASSERT_EQ(::mkfifo((root_ / "pipe.txt").c_str(), 0600), 0);
  const StaticSite site = load();
  EXPECT_EQ(site.find("/pipe.txt"), nullptr);
}

TEST_F(StaticFiles, RefusesAFileOverThePerFileLimit) {
  write_file(root_ / "docs" / "big.png", std::string(101, 'x'));
  StaticSiteLimits limits;
  limits.max_file_bytes = 100;
  const auto site = StaticSite::load(root_, limits);
  ASSERT_FALSE(site);
  EXPECT_NE(site.error().find((root_ / "docs" / "big.png").string()), std::string::npos) << site.error();
  EXPECT_NE(site.error().find("101 bytes, over the limit of 100 bytes for one static file"), std::string::npos)
      << site.error();
  limits.max_file_bytes = 101;
  EXPECT_TRUE(StaticSite::load(root_, limits));
}

TEST_F(StaticFiles, RefusesAWebRootOverTheTotalLimit) {
  StaticSiteLimits limits;
  limits.max_total_bytes = load().total_bytes();
  EXPECT_TRUE(StaticSite::load(root_, limits));  // at the limit is fine
  write_file(root_ / "zz.txt", "one byte too many");
  const auto site = StaticSite::load(root_, limits);
  ASSERT_FALSE(site);
  EXPECT_NE(site.error().find((root_ / "zz.txt").string()), std::string::npos) << site.error();
  EXPECT_NE(site.error().find("for all static files together"), std::string::npos) << site.error();
}

TEST_F(StaticFiles, RefusesTooManyFiles) {
  StaticSiteLimits limits;
  limits.max_files = 5;
  const auto site = StaticSite::load(root_, limits);
  ASSERT_FALSE(site);
  EXPECT_NE(site.error().find("more than 5 files"), std::string::npos) << site.error();
}

TEST_F(StaticFiles, MissingRootServesNothing) {
  const auto site = StaticSite::load(base_ / "nope");
  ASSERT_TRUE(site) << site.error();
  EXPECT_EQ(site->file_count(), 0u);
  EXPECT_EQ(site->find("/"), nullptr);
  const auto not_a_folder = StaticSite::load(base_ / "secret.txt");
  ASSERT_TRUE(not_a_folder) << not_a_folder.error();
  EXPECT_EQ(not_a_folder->find("/"), nullptr);
}

TEST_F(StaticFiles, CacheControlIsNoCacheForHtmlOnly) {
  const StaticSite site = load();
  EXPECT_EQ(site.find("/")->cache_control, "no-cache");
  EXPECT_EQ(site.find("/docs/")->cache_control, "no-cache");
  EXPECT_EQ(site.find("/widget.js")->cache_control, "public, max-age=3600");
  EXPECT_EQ(site.find("/docs/guide.txt")->cache_control, "public, max-age=3600");
  EXPECT_EQ(site.find("/widget.js")->content_type, "text/javascript; charset=utf-8");
}

TEST_F(StaticFiles, EtagIsAStrongHashOfTheBytes) {
  const StaticSite first = load();
  const StaticSite second = load();  // another load, as after a restart
  EXPECT_EQ(first.find("/widget.js")->etag, "\"" + sha256_hex("//js") + "\"");
  EXPECT_EQ(first.find("/widget.js")->etag, second.find("/widget.js")->etag);
  EXPECT_NE(first.find("/widget.js")->etag, first.find("/")->etag);
  write_file(root_ / "widget.js", "//js v2");
  EXPECT_NE(load().find("/widget.js")->etag, first.find("/widget.js")->etag);
}

TEST(IfNoneMatch, ComparesEntityTagsWeakly) {
  const std::string etag = "\"abc\"";
  struct Row {
    const char* header;
    bool matches;
  };
  const Row rows[] = {
      {"\"abc\"", true},
      {"W/\"abc\"", true},
      {"*", true},
      {" * ", true},
      {"\"x\", \"abc\"", true},
      {"\"x\",W/\"abc\"  ", true},
      {"", false},
      {"\"abd\"", false},
      {"abc", false},
      {"\"abc", false},
      {"\"x\", \"y\"", false},
      {",", false},
  };
  for (const auto& row : rows) EXPECT_EQ(matches_if_none_match(row.header, etag), row.matches) << row.header;
}

TEST(ContentType, ByExtension) {
  const std::pair<const char*, const char*> rows[] = {
      {"a.html", "text/html; charset=utf-8"},
      {"a.HTML", "text/html; charset=utf-8"},
      {"a.js", "text/javascript; charset=utf-8"},
      {"a.mjs", "text/javascript; charset=utf-8"},
      {"a.css", "text/css; charset=utf-8"},
      {"a.json", "application/json; charset=utf-8"},
      {"a.js.map", "application/json; charset=utf-8"},
      {"a.svg", "image/svg+xml; charset=utf-8"},
      {"a.txt", "text/plain; charset=utf-8"},
      {"a.png", "image/png"},
      {"a.jpg", "image/jpeg"},
      {"a.ico", "image/x-icon"},
      {"a.woff2", "font/woff2"},
      {"a.bin", "application/octet-stream"},
      {"Makefile", "application/octet-stream"},
  };
  for (const auto& [name, type] : rows) EXPECT_EQ(content_type_for(name), type) << name;
}

}  // namespace
}  // namespace trellis::server
