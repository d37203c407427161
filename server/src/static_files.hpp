#pragma once
// Maps a request target to a file under the web root, refusing anything that
// would escape it (.., encoded dots, backslashes, NUL, symlinks out of the root).
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace trellis::server {

struct StaticFile {
  std::filesystem::path path;
  std::string content_type;   // "text/html; charset=utf-8", ...
  std::string cache_control;  // "no-cache" for html, "public, max-age=3600" otherwise
};

// `target` is the request target ("/widget.js?v=2"). "/" serves index.html.
// nullopt: not found or not allowed (the caller answers 404 either way).
std::optional<StaticFile> resolve_static_file(const std::filesystem::path& web_root, std::string_view target);

std::string content_type_for(const std::filesystem::path& path);

}  // namespace trellis::server
