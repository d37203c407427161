#pragma once
// The web client's files (clients/web/), read into memory once at start-up and
// then shared read-only by every I/O thread, so serving one never touches the disk.
//
// Loading walks the web root recursively. It leaves out dot-files and
// dot-directories (".git", ".env"), names no request could reach (with "\", ":"
// or control characters), symlinks that resolve outside the root, and anything
// that is not a regular file or a directory (FIFOs, sockets, devices). A symlink
// that stays inside the root is served under its own name too, sharing the bytes.
// Changes on disk after loading are not seen until the server restarts.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include <tl/expected.hpp>

namespace trellis::server {

struct StaticFile {
  std::string path;                          // relative to the web root, "/"-separated: "docs/index.html"
  std::shared_ptr<const std::string> bytes;  // the whole file, shared with every response that sends it
  std::string content_type;                  // "text/html; charset=utf-8", ...
  std::string cache_control;                 // "no-cache" for html, "public, max-age=3600" otherwise
  std::string etag;                          // strong: "\"<hex SHA-256 of bytes>\"", quotes included
};

// What start-up refuses, so a web root pointed at the wrong folder (a home
// directory, a build tree) fails loudly instead of filling the server's memory.
struct StaticSiteLimits {
  std::uintmax_t max_file_bytes = std::uintmax_t{8} << 20;    // 8 MiB: widget.js and images are far below
  std::uintmax_t max_total_bytes = std::uintmax_t{64} << 20;  // 64 MiB, each distinct file counted once
  std::size_t max_files = 10'000;                             // names, symlinked aliases included
  int max_depth = 32;                                         // directories below the root
};

class StaticSite {
 public:
  // An empty site: every target is not found.
  StaticSite() = default;

  // Reads every servable file under `web_root`. A missing web root (or one that
  // is not a directory) gives an empty site, as serving without the web client
  // is allowed. The error names the file or folder and says what is wrong: a
  // limit exceeded, a file or folder that cannot be read.
  static tl::expected<StaticSite, std::string> load(const std::filesystem::path& web_root,
                                                    const StaticSiteLimits& limits = {});

  // `target` is the request target ("/widget.js?v=2"). "/" and "/dir/" serve the
  // folder's index.html, and so does "/dir"; "/file/" is not found. Hostile
  // targets (.., encoded dots, backslashes, NUL, control characters, dot-files)
  // are refused before the lookup. nullptr: not found or not allowed (the
  // caller answers 404 either way). No filesystem call: a map lookup only.
  const StaticFile* find(std::string_view target) const;

  // Every file by the path a request names, in order: what was loaded, for tests and logs.
  const std::map<std::string, StaticFile, std::less<>>& files() const { return files_; }
  std::size_t file_count() const { return files_.size(); }
  std::uintmax_t total_bytes() const { return total_bytes_; }  // distinct files, counted once

 private:
  friend class StaticSiteLoader;
  std::map<std::string, StaticFile, std::less<>> files_;  // by StaticFile::path
  std::uintmax_t total_bytes_ = 0;
};

std::string content_type_for(const std::filesystem::path& path);

// Whether an If-None-Match header value matches `etag` ("*" or a list of
// entity tags; the comparison is weak, as RFC 9110 asks for this header).
bool matches_if_none_match(std::string_view if_none_match, std::string_view etag);

}  // namespace trellis::server
