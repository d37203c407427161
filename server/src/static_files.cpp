#include "static_files.hpp"

#include <algorithm>
#include <system_error>
#include <vector>

namespace trellis::server {
namespace fs = std::filesystem;
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes %XX exactly once, so "%252e" stays the literal name "%2e" rather than
// becoming "." on a second pass. A malformed escape refuses the whole target.
std::optional<std::string> percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;
    const int high = hex_value(text[i + 1]), low = hex_value(text[i + 2]);
    if (high < 0 || low < 0) return std::nullopt;
    out += static_cast<char>(high * 16 + low);
    i += 2;
  }
  return out;
}

// Splits "/a/b/" into {"a", "b"} and reports whether it named a directory.
// Every segment must be a plain file name: no "", ".", ".." and no dot-files
// (".git", ".env" left in a web root are not for the public).
std::optional<std::vector<std::string>> plain_segments(std::string_view path, bool& names_directory) {
  std::vector<std::string> segments;
  names_directory = path.empty() || path.back() == '/';
  std::size_t start = 1;  // path[0] is '/'
  while (start < path.size()) {
    const std::size_t end = std::min(path.find('/', start), path.size());
    const std::string_view segment = path.substr(start, end - start);
    if (segment.empty() || segment.front() == '.') return std::nullopt;
    for (char c : segment) {
      if (c == '\\' || c == ':' || static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return std::nullopt;
    }
    segments.emplace_back(segment);
    start = end + 1;
  }
  return segments;
}

// True when `path` is `root` or lies beneath it, compared by whole components
// ("/srv/web2" is not inside "/srv/web"). Both are canonical: no trailing "/".
bool is_within(const fs::path& root, const fs::path& path) {
  return std::mismatch(root.begin(), root.end(), path.begin(), path.end()).first == root.end();
}

std::string lower_extension(const fs::path& path) {
  std::string extension = path.extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c); });
  return extension;
}

}  // namespace

std::optional<StaticFile> resolve_static_file(const fs::path& web_root, std::string_view target) {
  target = target.substr(0, target.find_first_of("?#"));
  // The raw target is checked as well as the decoded one: a backslash is never
  // a path separator we accept, escaped or not.
  if (target.empty() || target.front() != '/' || target.find('\\') != std::string_view::npos) return std::nullopt;
  const auto decoded = percent_decode(target);
  if (!decoded || decoded->find('\0') != std::string::npos || decoded->find('\\') != std::string::npos) {
    return std::nullopt;
  }
  bool names_directory = false;
  const auto segments = plain_segments(*decoded, names_directory);
  if (!segments) return std::nullopt;

  std::error_code ec;
  const fs::path root = fs::canonical(web_root, ec);
  if (ec || !fs::is_directory(root, ec)) return std::nullopt;
  fs::path candidate = root;
  for (const auto& segment : *segments) candidate /= segment;
  if (fs::is_directory(candidate, ec)) {
    candidate /= "index.html";
  } else if (names_directory) {
    return std::nullopt;  // "/app.js/" is not a file
  }

  // Resolves symlinks: a link inside the root that points outside it is refused.
  const fs::path resolved = fs::weakly_canonical(candidate, ec);
  if (ec || !is_within(root, resolved)) return std::nullopt;
  if (!fs::is_regular_file(resolved, ec)) return std::nullopt;

  StaticFile file;
  file.path = resolved;
  file.content_type = content_type_for(resolved);
  const std::string extension = lower_extension(resolved);
  file.cache_control = (extension == ".html" || extension == ".htm") ? "no-cache" : "public, max-age=3600";
  return file;
}

std::string content_type_for(const fs::path& path) {
  static const std::pair<const char*, const char*> kTypes[] = {
      {".html", "text/html; charset=utf-8"},
      {".htm", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json; charset=utf-8"},
      {".map", "application/json; charset=utf-8"},
      {".svg", "image/svg+xml; charset=utf-8"},
      {".txt", "text/plain; charset=utf-8"},
      {".png", "image/png"},
      {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"},
      {".ico", "image/x-icon"},
      {".woff2", "font/woff2"},
  };
  const std::string extension = lower_extension(path);
  for (const auto& [known, type] : kTypes) {
    if (extension == known) return type;
  }
  return "application/octet-stream";
}

}  // namespace trellis::server
