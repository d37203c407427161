#include "metrics.hpp"

#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace trellis::server {
namespace {

// One parsed exposition: TYPE per family and the value of every sample line,
// keyed by the sample's full text before the value ("name{labels}").
struct Exposition {
  std::map<std::string, std::string> types;
  std::map<std::string, int> helps;
  std::vector<std::pair<std::string, std::string>> samples;  // in order
  std::vector<std::string> problems;

  std::string value(const std::string& series) const {
    for (const auto& [name, value] : samples) {
      if (name == series) return value;
    }
    return "<missing " + series + ">";
  }
};

std::string family_of(const std::string& series, const std::map<std::string, std::string>& types) {
  std::string name = series.substr(0, series.find('{'));
  if (types.count(name)) return name;
  for (const char* suffix : {"_bucket", "_sum", "_count"}) {
    const std::string s = suffix;
    if (name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0) {
      const std::string base = name.substr(0, name.size() - s.size());
      if (types.count(base) && types.at(base) == "histogram") return base;
    }
  }
  return name;
}

Exposition parse(const std::string& text) {
  Exposition result;
  std::istringstream lines(text);
  std::string line;
  if (text.empty() || text.back() != '\n') result.problems.push_back("does not end with a newline");
  while (std::getline(lines, line)) {
    if (line.empty()) {
      result.problems.push_back("empty line");
    } else if (line.rfind("# HELP ", 0) == 0) {
      const std::string rest = line.substr(7);
      result.helps[rest.substr(0, rest.find(' '))]++;
    } else if (line.rfind("# TYPE ", 0) == 0) {
      std::istringstream words(line.substr(7));
      std::string name, type;
      words >> name >> type;
      if (result.types.count(name)) result.problems.push_back("second TYPE for " + name);
      if (!result.helps.count(name)) result.problems.push_back("TYPE before HELP for " + name);
      result.types[name] = type;
    } else if (line[0] == '#') {
      result.problems.push_back("stray comment: " + line);
    } else {
      // The value follows the last space; a label value may itself hold spaces.
      const auto space = line.rfind(' ');
      if (space == std::string::npos) {
        result.problems.push_back("no value: " + line);
        continue;
      }
      const std::string series = line.substr(0, space);
      if (!result.types.count(family_of(series, result.types))) {
        result.problems.push_back("sample before its TYPE: " + line);
      }
      result.samples.emplace_back(series, line.substr(space + 1));
    }
  }
  return result;
}

TEST(Metrics, EveryFamilyHasHelpAndTheRightType) {
  Metrics metrics;
  const Exposition exposition = parse(metrics.render_prometheus(7));
  EXPECT_TRUE(exposition.problems.empty()) << ::testing::PrintToString(exposition.problems);
  const std::map<std::string, std::string> expected = {
      {"trellis_open_connections", "gauge"},
      {"trellis_live_sessions", "gauge"},
      {"trellis_stored_sessions", "gauge"},
      {"trellis_sessions_created_total", "counter"},
      {"trellis_sessions_resumed_total", "counter"},
      {"trellis_sessions_forgotten_total", "counter"},
      {"trellis_sessions_purged_total", "counter"},
      {"trellis_commits_total", "counter"},
      {"trellis_turns_total", "counter"},
      {"trellis_errors_total", "counter"},
      {"trellis_safety_events_total", "counter"},
      {"trellis_safety_detections_total", "counter"},
      {"trellis_alerts_sent_total", "counter"},
      {"trellis_alerts_failed_total", "counter"},
      {"trellis_alerts_dropped_total", "counter"},
      {"trellis_turn_duration_seconds", "histogram"},
      {"trellis_commit_duration_seconds", "histogram"},
  };
  EXPECT_EQ(exposition.types, expected);
  for (const auto& [name, type] : expected) EXPECT_EQ(exposition.helps.at(name), 1) << name;
  EXPECT_EQ(exposition.value("trellis_stored_sessions"), "7");
  EXPECT_EQ(exposition.value("trellis_open_connections"), "0");
}

TEST(Metrics, GaugesAndCountersShowTheirValues) {
  Metrics metrics;
  metrics.open_connections = 3;
  metrics.live_sessions = 2;
  metrics.sessions_created = 10;
  metrics.sessions_resumed = 4;
  metrics.sessions_forgotten = 1;
  metrics.sessions_purged = 5;
  metrics.commits = 99;
  metrics.turns_by_flow.add("trust", 3);
  metrics.turns_by_flow.add("grief");
  metrics.errors_by_code.add("rate_limited", 2);
  metrics.safety_events_by_category.add("self_harm");
  metrics.safety_events_by_detector.add("classifier");
  metrics.alerts_sent = 6;
  metrics.alerts_failed = 2;
  metrics.alerts_dropped = 1;
  const Exposition exposition = parse(metrics.render_prometheus(-1));
  EXPECT_TRUE(exposition.problems.empty()) << ::testing::PrintToString(exposition.problems);
  EXPECT_EQ(exposition.value("trellis_open_connections"), "3");
  EXPECT_EQ(exposition.value("trellis_live_sessions"), "2");
  EXPECT_EQ(exposition.value("trellis_stored_sessions"), "-1");
  EXPECT_EQ(exposition.value("trellis_sessions_created_total"), "10");
  EXPECT_EQ(exposition.value("trellis_sessions_resumed_total"), "4");
  EXPECT_EQ(exposition.value("trellis_sessions_forgotten_total"), "1");
  EXPECT_EQ(exposition.value("trellis_sessions_purged_total"), "5");
  EXPECT_EQ(exposition.value("trellis_commits_total"), "99");
  EXPECT_EQ(exposition.value("trellis_turns_total{flow=\"trust\"}"), "3");
  EXPECT_EQ(exposition.value("trellis_turns_total{flow=\"grief\"}"), "1");
  EXPECT_EQ(exposition.value("trellis_errors_total{code=\"rate_limited\"}"), "2");
  EXPECT_EQ(exposition.value("trellis_safety_events_total{category=\"self_harm\"}"), "1");
  EXPECT_EQ(exposition.value("trellis_safety_detections_total{detector=\"classifier\"}"), "1");
  EXPECT_EQ(exposition.value("trellis_alerts_sent_total"), "6");
  EXPECT_EQ(exposition.value("trellis_alerts_failed_total"), "2");
  EXPECT_EQ(exposition.value("trellis_alerts_dropped_total"), "1");
}

TEST(Histogram, BucketsAreCumulativeAndSumIsInSeconds) {
  Metrics metrics;
  for (double seconds : {0.0001, 0.0005, 0.003, 0.003, 0.2, 5.0}) metrics.turn_seconds.observe(seconds);
  const Exposition exposition = parse(metrics.render_prometheus(0));
  EXPECT_TRUE(exposition.problems.empty()) << ::testing::PrintToString(exposition.problems);
  const std::vector<std::pair<std::string, std::string>> expected_buckets = {
      {"0.0005", "2"}, {"0.001", "2"}, {"0.002", "2"}, {"0.005", "4"}, {"0.01", "4"}, {"0.025", "4"},
      {"0.05", "4"},   {"0.1", "4"},   {"0.25", "5"},  {"0.5", "5"},   {"1", "5"},    {"+Inf", "6"},
  };
  std::vector<std::pair<std::string, std::string>> buckets;
  const std::string prefix = "trellis_turn_duration_seconds_bucket{le=\"";
  for (const auto& [series, value] : exposition.samples) {
    if (series.rfind(prefix, 0) == 0) buckets.emplace_back(series.substr(prefix.size(), series.size() - prefix.size() - 2), value);
  }
  EXPECT_EQ(buckets, expected_buckets);
  EXPECT_EQ(exposition.value("trellis_turn_duration_seconds_count"), "6");
  EXPECT_NEAR(std::stod(exposition.value("trellis_turn_duration_seconds_sum")), 5.2066, 1e-6);
  EXPECT_EQ(exposition.value("trellis_commit_duration_seconds_count"), "0");
  EXPECT_EQ(exposition.value("trellis_commit_duration_seconds_bucket{le=\"+Inf\"}"), "0");
}

TEST(Histogram, WritesLabelsBeforeLe) {
  Histogram histogram({0.1, 1});
  histogram.observe(0.1);  // "le" is inclusive
  std::string out;
  histogram.write(out, "h", "flow=\"trust\"");
  EXPECT_EQ(out,
            "h_bucket{flow=\"trust\",le=\"0.1\"} 1\n"
            "h_bucket{flow=\"trust\",le=\"1\"} 1\n"
            "h_bucket{flow=\"trust\",le=\"+Inf\"} 1\n"
            "h_sum{flow=\"trust\"} 0.1\n"
            "h_count{flow=\"trust\"} 1\n");
}

TEST(LabelledCounter, EscapesBackslashQuoteAndNewline) {
  LabelledCounter counter;
  counter.add("a\\b\"c\nd", 2);
  counter.add("plain");
  std::string out;
  counter.write(out, "x_total", "code");
  EXPECT_EQ(out, "x_total{code=\"a\\\\b\\\"c\\nd\"} 2\nx_total{code=\"plain\"} 1\n");
  EXPECT_EQ(counter.get("a\\b\"c\nd"), 2u);
  EXPECT_EQ(counter.get("absent"), 0u);

  Metrics metrics;
  metrics.errors_by_code.add("bad\"code\n");
  const Exposition exposition = parse(metrics.render_prometheus(0));
  EXPECT_TRUE(exposition.problems.empty()) << ::testing::PrintToString(exposition.problems);
  EXPECT_EQ(exposition.value("trellis_errors_total{code=\"bad\\\"code\\n\"}"), "1");
}

TEST(Metrics, ConcurrentObservationsAllCount) {
  Metrics metrics;
  constexpr int kThreads = 4, kPerThread = 10000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&metrics, t] {
      for (int i = 0; i < kPerThread; ++i) {
        metrics.turn_seconds.observe(0.001 * (t + 1));  // 1 ms .. 4 ms
        metrics.turns_by_flow.add(t % 2 ? "odd" : "even");
        metrics.commits.fetch_add(1);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  const Exposition exposition = parse(metrics.render_prometheus(0));
  EXPECT_EQ(exposition.value("trellis_turn_duration_seconds_count"), std::to_string(kThreads * kPerThread));
  EXPECT_EQ(exposition.value("trellis_turn_duration_seconds_bucket{le=\"0.001\"}"), std::to_string(kPerThread));
  EXPECT_EQ(exposition.value("trellis_turn_duration_seconds_bucket{le=\"0.002\"}"), std::to_string(2 * kPerThread));
  EXPECT_EQ(exposition.value("trellis_turn_duration_seconds_bucket{le=\"0.005\"}"), std::to_string(4 * kPerThread));
  // 10000 × (1 + 2 + 3 + 4) ms, summed in whole microseconds: exact.
  EXPECT_DOUBLE_EQ(std::stod(exposition.value("trellis_turn_duration_seconds_sum")), 100.0);
  EXPECT_EQ(exposition.value("trellis_turns_total{flow=\"even\"}"), std::to_string(2 * kPerThread));
  EXPECT_EQ(exposition.value("trellis_turns_total{flow=\"odd\"}"), std::to_string(2 * kPerThread));
  EXPECT_EQ(exposition.value("trellis_commits_total"), std::to_string(kThreads * kPerThread));
}

// docs/operations.md lists every metric; this keeps the list complete.
TEST(Metrics, EveryFamilyIsDocumented) {
  std::ifstream file(std::string(TRELLIS_SOURCE_DIR) + "/docs/operations.md");
  ASSERT_TRUE(file) << "docs/operations.md is missing";
  const std::string docs((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  Metrics metrics;
  for (const auto& [name, type] : parse(metrics.render_prometheus(0)).types) {
    EXPECT_NE(docs.find("`" + name), std::string::npos) << name << " is missing from docs/operations.md";
  }
}

}  // namespace
}  // namespace trellis::server
