#include "static_site.hpp"

#include <algorithm>
#include <fstream>
#include <optional>
#include <system_error>
#include <vector>

#include "session_token.hpp"

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

// A plain file name: not "", "." or "..", no dot-files (".git", ".env" left in
// a web root are not for the public), and nothing a request could not name.
bool is_servable_name(std::string_view name) {
  if (name.empty() || name.front() == '.') return false;
  for (char c : name) {
    if (c == '/' || c == '\\' || c == ':' || static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
  }
  return true;
}

// Splits "/a/b/" into {"a", "b"} and reports whether it named a directory.
std::optional<std::vector<std::string_view>> plain_segments(std::string_view path, bool& names_directory) {
  std::vector<std::string_view> segments;
  names_directory = path.empty() || path.back() == '/';
  std::size_t start = 1;  // path[0] is '/'
  while (start < path.size()) {
    const std::size_t end = std::min(path.find('/', start), path.size());
    const std::string_view segment = path.substr(start, end - start);
    if (!is_servable_name(segment)) return std::nullopt;
    segments.push_back(segment);
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

std::string mebibytes(std::uintmax_t bytes) {
  return bytes % (1 << 20) == 0 ? std::to_string(bytes >> 20) + " MiB" : std::to_string(bytes) + " bytes";
}

std::string_view trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

}  // namespace

// Walks the real folders under the root, naming files by the path a request
// uses. Every file is read once, however many names (symlinks) reach it.
class StaticSiteLoader {
 public:
  StaticSiteLoader(fs::path shown_root, fs::path root, const StaticSiteLimits& limits)
      : shown_root_(std::move(shown_root)), root_(std::move(root)), limits_(limits) {
    walking_.push_back(root_);
  }

  tl::expected<void, std::string> walk(const fs::path& folder, const std::string& prefix, int depth) {
    std::error_code ec;
    std::vector<std::string> names;
    for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
      names.push_back(it->path().filename().string());
    }
    if (ec) return tl::make_unexpected("cannot read the folder " + shown(prefix) + ": " + ec.message());
    // Sorted, so that which file trips a limit does not depend on the directory's order.
    std::sort(names.begin(), names.end());
    for (const auto& name : names) {
      if (!is_servable_name(name)) continue;
      // Resolves symlinks; a dangling one, or one that leads out of the root, is left out.
      const fs::path real = fs::canonical(folder / name, ec);
      if (ec || !is_within(root_, real)) continue;
      const auto status = fs::status(real, ec);
      if (ec) continue;
      const std::string path = prefix + name;
      if (fs::is_directory(status)) {
        // A symlink to a folder above this one, or to one being walked, would loop forever.
        if (is_within(real, folder) || std::find(walking_.begin(), walking_.end(), real) != walking_.end()) continue;
        if (depth >= limits_.max_depth) {
          return tl::make_unexpected("the folder " + shown(path) + " is more than " + std::to_string(limits_.max_depth) +
                                     " folders deep in the web root; static files are limited to that depth");
        }
        walking_.push_back(real);
        auto walked = walk(real, path + "/", depth + 1);
        walking_.pop_back();
        if (!walked) return walked;
      } else if (fs::is_regular_file(status)) {
        if (auto added = add(path, real); !added) return added;
      }
      // FIFOs, sockets and devices are left out: reading a FIFO could block start-up.
    }
    return {};
  }

  StaticSite site;

 private:
  std::string shown(const std::string& path) const { return (shown_root_ / path).string(); }

  tl::expected<void, std::string> add(const std::string& path, const fs::path& real) {
    if (site.files_.size() >= limits_.max_files) {
      return tl::make_unexpected("the web root " + shown_root_.string() + " holds more than " +
                                 std::to_string(limits_.max_files) + " files (at " + shown(path) +
                                 "); static files are limited to that many");
    }
    auto& content = by_real_path_[real];
    if (!content.bytes) {
      auto read = read_file(path, real);
      if (!read) return tl::make_unexpected(read.error());
      site.total_bytes_ += read->size();
      if (site.total_bytes_ > limits_.max_total_bytes) {
        return tl::make_unexpected("the static file " + shown(path) + " brings the web root to " +
                                   std::to_string(site.total_bytes_) + " bytes, over the limit of " +
                                   mebibytes(limits_.max_total_bytes) + " for all static files together");
      }
      content.etag = '"';
      content.etag += sha256_hex(*read);
      content.etag += '"';
      content.bytes = std::make_shared<const std::string>(std::move(*read));
    }
    StaticFile file;
    file.path = path;
    file.bytes = content.bytes;
    // Typed by the file a symlink resolves to, as when files were read per request.
    file.content_type = content_type_for(real);
    const std::string extension = lower_extension(real);
    file.cache_control = (extension == ".html" || extension == ".htm") ? "no-cache" : "public, max-age=3600";
    file.etag = content.etag;
    site.files_.emplace(path, std::move(file));
    return {};
  }

  tl::expected<std::string, std::string> read_file(const std::string& path, const fs::path& real) const {
    std::error_code ec;
    const auto size = fs::file_size(real, ec);
    if (ec) return tl::make_unexpected("cannot read the static file " + shown(path) + ": " + ec.message());
    const auto too_big = [&](std::uintmax_t bytes) {
      return "the static file " + shown(path) + " is " + std::to_string(bytes) + " bytes, over the limit of " +
             mebibytes(limits_.max_file_bytes) + " for one static file";
    };
    if (size > limits_.max_file_bytes) return tl::make_unexpected(too_big(size));
    std::ifstream in(real, std::ios::binary);
    if (!in) return tl::make_unexpected("cannot open the static file " + shown(path));
    // Read in chunks against the limit, not trusting file_size(): the file may have grown since.
    std::string bytes;
    bytes.reserve(static_cast<std::size_t>(size));
    std::vector<char> chunk(64 * 1024);
    while (in.read(chunk.data(), static_cast<std::streamsize>(chunk.size())) || in.gcount() > 0) {
      bytes.append(chunk.data(), static_cast<std::size_t>(in.gcount()));
      if (bytes.size() > limits_.max_file_bytes) return tl::make_unexpected(too_big(bytes.size()));
    }
    if (in.bad()) return tl::make_unexpected("cannot read the static file " + shown(path));
    return bytes;
  }

  struct Content {
    std::shared_ptr<const std::string> bytes;
    std::string etag;
  };
  fs::path shown_root_, root_;
  StaticSiteLimits limits_;
  std::map<fs::path, Content> by_real_path_;
  std::vector<fs::path> walking_;  // the real folders from the root down to the one being walked
};

tl::expected<StaticSite, std::string> StaticSite::load(const fs::path& web_root, const StaticSiteLimits& limits) {
  std::error_code ec;
  // As before: no web root (or not a folder) means a server without the web client.
  if (!fs::is_directory(web_root, ec)) return StaticSite{};
  const fs::path root = fs::canonical(web_root, ec);
  if (ec) return tl::make_unexpected("cannot read the web root " + web_root.string() + ": " + ec.message());
  StaticSiteLoader loader(web_root, root, limits);
  if (auto walked = loader.walk(root, "", 0); !walked) return tl::make_unexpected(walked.error());
  return std::move(loader.site);
}

const StaticFile* StaticSite::find(std::string_view target) const {
  target = target.substr(0, target.find_first_of("?#"));
  // The raw target is checked as well as the decoded one: a backslash is never
  // a path separator we accept, escaped or not.
  if (target.empty() || target.front() != '/' || target.find('\\') != std::string_view::npos) return nullptr;
  const auto decoded = percent_decode(target);
  if (!decoded || decoded->find('\0') != std::string::npos || decoded->find('\\') != std::string::npos) {
    return nullptr;
  }
  bool names_directory = false;
  const auto segments = plain_segments(*decoded, names_directory);
  if (!segments) return nullptr;

  std::string path;
  for (const auto segment : *segments) {
    if (!path.empty()) path += '/';
    path += segment;
  }
  if (!names_directory) {
    if (auto found = files_.find(path); found != files_.end()) return &found->second;
  }
  // "/", "/docs/" and "/docs" serve the folder's index.html; "/app.js/" finds nothing.
  path += path.empty() ? "index.html" : "/index.html";
  auto found = files_.find(path);
  return found == files_.end() ? nullptr : &found->second;
}

bool matches_if_none_match(std::string_view if_none_match, std::string_view etag) {
  const auto opaque = [](std::string_view tag) { return tag.substr(0, 2) == "W/" ? tag.substr(2) : tag; };
  if (trim(if_none_match) == "*") return true;
  while (!if_none_match.empty()) {
    const std::size_t comma = std::min(if_none_match.find(','), if_none_match.size());
    if (const auto tag = trim(if_none_match.substr(0, comma)); !tag.empty() && opaque(tag) == opaque(etag)) return true;
    if_none_match.remove_prefix(std::min(comma + 1, if_none_match.size()));
  }
  return false;
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
