#pragma once
// Counters, gauges and histograms, written out in the Prometheus text format for
// GET /metrics. Thread-safe; cheap on the hot path (atomics, or a short lock for
// labelled series). Labels carry ids and codes only, never user text.
#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace trellis::server {

class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);  // seconds, ascending
  void observe(double value);
  // Lines for one series: name_bucket{le=...}, name_sum, name_count.
  void write(std::string& out, const std::string& name, const std::string& labels = "") const;

 private:
  std::vector<double> bounds_;
  std::vector<std::atomic<std::uint64_t>> counts_;  // one per bound, plus +Inf
  std::atomic<std::uint64_t> count_{0};
  std::atomic<std::uint64_t> sum_micros_{0};
};

class LabelledCounter {
 public:
  void add(const std::string& label_value, std::uint64_t n = 1);
  std::uint64_t get(const std::string& label_value) const;
  void write(std::string& out, const std::string& name, const std::string& label_name) const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::uint64_t> values_;
};

struct Metrics {
  std::atomic<std::int64_t> open_connections{0};
  std::atomic<std::int64_t> live_sessions{0};         // sessions with a connection now
  std::atomic<std::uint64_t> sessions_created{0};
  std::atomic<std::uint64_t> sessions_resumed{0};
  std::atomic<std::uint64_t> sessions_forgotten{0};
  std::atomic<std::uint64_t> sessions_purged{0};
  std::atomic<std::uint64_t> commits{0};
  LabelledCounter turns_by_flow;                      // label: flow
  LabelledCounter errors_by_code;                     // label: code
  LabelledCounter safety_events_by_category;          // label: category
  LabelledCounter safety_events_by_detector;          // label: detector ("rules", "classifier")
  std::atomic<std::uint64_t> alerts_sent{0};          // webhook answered 2xx
  std::atomic<std::uint64_t> alerts_failed{0};        // given up: attempts used up, or refused with a 4xx
  std::atomic<std::uint64_t> alerts_dropped{0};       // pushed out of a full queue, or still queued at shutdown
  Histogram turn_seconds{{0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1}};
  Histogram commit_seconds{{0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1}};

  // The whole exposition, with # HELP and # TYPE lines.
  std::string render_prometheus(std::int64_t stored_sessions) const;
};

}  // namespace trellis::server
