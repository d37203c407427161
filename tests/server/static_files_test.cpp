#include "static_files.hpp"

#include <fstream>
#include <random>
#include <string>

#include <gtest/gtest.h>

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

  fs::path base_, root_;
};

TEST_F(StaticFiles, ServesFilesInsideTheRoot) {
  struct Row {
    const char* target;
    fs::path expected;
  };
  const Row rows[] = {
      {"/", "index.html"},
      {"/index.html", "index.html"},
      {"/widget.js", "widget.js"},
      {"/widget.js?v=2", "widget.js"},
      {"/widget.js#top", "widget.js"},
      {"/widget.js?next=/../../etc/passwd", "widget.js"},
      {"/docs", "docs/index.html"},
      {"/docs/", "docs/index.html"},
      {"/docs/guide.txt", "docs/guide.txt"},
      {"/with%20space.css", "with space.css"},
      {"/%77idget.js", "widget.js"},
      {"/link-in.js", "widget.js"},  // a symlink that stays inside is fine
  };
  const fs::path root = fs::canonical(root_);
  for (const auto& row : rows) {
    const auto file = resolve_static_file(root_, row.target);
    ASSERT_TRUE(file.has_value()) << row.target;
    EXPECT_EQ(file->path, root / row.expected) << row.target;
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
  for (const auto& target : rows) {
    EXPECT_FALSE(resolve_static_file(root_, target).has_value()) << '"' << target << '"';
  }
}

TEST_F(StaticFiles, MissingRootServesNothing) {
  EXPECT_FALSE(resolve_static_file(base_ / "nope", "/").has_value());
}

TEST_F(StaticFiles, CacheControlIsNoCacheForHtmlOnly) {
  EXPECT_EQ(resolve_static_file(root_, "/")->cache_control, "no-cache");
  EXPECT_EQ(resolve_static_file(root_, "/docs/")->cache_control, "no-cache");
  EXPECT_EQ(resolve_static_file(root_, "/widget.js")->cache_control, "public, max-age=3600");
  EXPECT_EQ(resolve_static_file(root_, "/docs/guide.txt")->cache_control, "public, max-age=3600");
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
