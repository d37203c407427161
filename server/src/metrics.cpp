#include "metrics.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace trellis::server {
namespace {

// Shortest round-trip form without an exponent in the usual range: 0.0005, 1,
// 2.5 (as Prometheus clients print bucket bounds, and easier to read than 5e-04).
std::string format_number(double value) {
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  const double magnitude = std::fabs(value);
  const auto format = (magnitude == 0 || (magnitude >= 1e-6 && magnitude < 1e15)) ? std::chars_format::fixed
                                                                                  : std::chars_format::general;
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value, format);
  return std::string(buffer, result.ptr);
}

// Label values are escaped as the text exposition format requires: backslash,
// double quote and line feed; everything else (UTF-8 included) passes through.
std::string escape_label_value(const std::string& value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '\n': out += "\\n"; break;
      default: out += c;
    }
  }
  return out;
}

void write_header(std::string& out, const char* name, const char* type, const char* help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

template <typename Number>
void write_sample(std::string& out, const char* name, Number value) {
  out += name;
  out += ' ';
  out += std::to_string(value);
  out += '\n';
}

}  // namespace

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)), counts_(bounds_.size() + 1) {
  std::sort(bounds_.begin(), bounds_.end());
}

void Histogram::observe(double value) {
  if (std::isnan(value)) return;
  // Buckets are stored per interval and summed on output; "le" is inclusive.
  const auto bucket = static_cast<std::size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin());
  counts_[bucket].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  // Durations are never negative; a clock step that makes one so adds nothing to the sum.
  const double micros = std::max(0.0, value) * 1e6;
  sum_micros_.fetch_add(static_cast<std::uint64_t>(std::llround(micros)), std::memory_order_relaxed);
}

void Histogram::write(std::string& out, const std::string& name, const std::string& labels) const {
  const std::string prefix = labels.empty() ? "" : labels + ",";
  // +Inf and _count both come from the one pass over the buckets, so a scrape
  // taken during an observe() is still self-consistent (+Inf == _count).
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    cumulative += counts_[i].load(std::memory_order_relaxed);
    const std::string le = i < bounds_.size() ? format_number(bounds_[i]) : "+Inf";
    out += name + "_bucket{" + prefix + "le=\"" + le + "\"} " + std::to_string(cumulative) + "\n";
  }
  const std::string braces = labels.empty() ? "" : "{" + labels + "}";
  const double sum_seconds = static_cast<double>(sum_micros_.load(std::memory_order_relaxed)) / 1e6;
  out += name + "_sum" + braces + " " + format_number(sum_seconds) + "\n";
  out += name + "_count" + braces + " " + std::to_string(cumulative) + "\n";
}

void LabelledCounter::add(const std::string& label_value, std::uint64_t n) {
  std::lock_guard lock(mutex_);
  values_[label_value] += n;
}

std::uint64_t LabelledCounter::get(const std::string& label_value) const {
  std::lock_guard lock(mutex_);
  auto found = values_.find(label_value);
  return found == values_.end() ? 0 : found->second;
}

void LabelledCounter::write(std::string& out, const std::string& name, const std::string& label_name) const {
  std::map<std::string, std::uint64_t> snapshot;
  {
    // Copy under the lock and format outside it: a scrape must not hold up turns.
    std::lock_guard lock(mutex_);
    snapshot = values_;
  }
  for (const auto& [label_value, count] : snapshot) {
    out += name + "{" + label_name + "=\"" + escape_label_value(label_value) + "\"} " + std::to_string(count) + "\n";
  }
}

std::string Metrics::render_prometheus(std::int64_t stored_sessions) const {
  std::string out;
  out.reserve(4096);
  const auto load = [](const auto& atomic) { return atomic.load(std::memory_order_relaxed); };

  write_header(out, "trellis_open_connections", "gauge", "WebSocket connections open now.");
  write_sample(out, "trellis_open_connections", load(open_connections));
  write_header(out, "trellis_live_sessions", "gauge", "Sessions with a connection attached now.");
  write_sample(out, "trellis_live_sessions", load(live_sessions));
  write_header(out, "trellis_stored_sessions", "gauge", "Sessions held in the store, live or not.");
  write_sample(out, "trellis_stored_sessions", stored_sessions);

  write_header(out, "trellis_sessions_created_total", "counter", "Sessions started.");
  write_sample(out, "trellis_sessions_created_total", load(sessions_created));
  write_header(out, "trellis_sessions_resumed_total", "counter", "Sessions resumed with a token.");
  write_sample(out, "trellis_sessions_resumed_total", load(sessions_resumed));
  write_header(out, "trellis_sessions_forgotten_total", "counter", "Sessions deleted at the person's request.");
  write_sample(out, "trellis_sessions_forgotten_total", load(sessions_forgotten));
  write_header(out, "trellis_sessions_purged_total", "counter", "Idle sessions deleted after session_ttl.");
  write_sample(out, "trellis_sessions_purged_total", load(sessions_purged));
  write_header(out, "trellis_commits_total", "counter", "Store transactions committed.");
  write_sample(out, "trellis_commits_total", load(commits));

  write_header(out, "trellis_turns_total", "counter", "Turns taken, by flow.");
  turns_by_flow.write(out, "trellis_turns_total", "flow");
  write_header(out, "trellis_errors_total", "counter", "Error frames sent, by protocol error code.");
  errors_by_code.write(out, "trellis_errors_total", "code");
  write_header(out, "trellis_safety_events_total", "counter", "Safety routes taken, by category.");
  safety_events_by_category.write(out, "trellis_safety_events_total", "category");
  write_header(out, "trellis_safety_detections_total", "counter",
               "Safety routes taken, by the detector that found the crisis language.");
  safety_events_by_detector.write(out, "trellis_safety_detections_total", "detector");
  write_header(out, "trellis_alerts_sent_total", "counter", "Safety alerts the webhook accepted.");
  write_sample(out, "trellis_alerts_sent_total", load(alerts_sent));
  write_header(out, "trellis_alerts_failed_total", "counter",
               "Safety alerts given up after every attempt failed or the webhook refused them.");
  write_sample(out, "trellis_alerts_failed_total", load(alerts_failed));
  write_header(out, "trellis_alerts_dropped_total", "counter",
               "Safety alerts dropped undelivered: the queue was full, or the server stopped.");
  write_sample(out, "trellis_alerts_dropped_total", load(alerts_dropped));

  write_header(out, "trellis_turn_duration_seconds", "histogram",
               "Time to handle one turn, from the frame arriving to the answer being sent.");
  turn_seconds.write(out, "trellis_turn_duration_seconds");
  write_header(out, "trellis_commit_duration_seconds", "histogram", "Time from a turn handed to the store until its batch is committed.");
  commit_seconds.write(out, "trellis_commit_duration_seconds");
  return out;
}

}  // namespace trellis::server
