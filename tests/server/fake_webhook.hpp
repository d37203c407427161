#pragma once
// A tiny HTTP receiver on 127.0.0.1 for alert tests: it records every request
// and answers each with the next status of its script. Status 0 means "never
// answer": the connection is held open until the receiver is destroyed.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "fake_http_server.hpp"

namespace trellis::server::testing {

struct ReceivedRequest {
  std::string method;
  std::string target;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
  std::chrono::steady_clock::time_point at;

  std::string header(const std::string& lower_name) const {
    auto found = headers.find(lower_name);
    return found == headers.end() ? "<missing " + lower_name + ">" : found->second;
  }
};

class FakeWebhook {
 public:
  // The n-th request gets script[n]; requests after the script get `then`.
  explicit FakeWebhook(std::vector<unsigned> script = {}, unsigned then = 200);

  std::uint16_t port() const { return server_.port(); }
  std::string url(const std::string& path = "/alerts") const;
  std::vector<ReceivedRequest> requests() const;
  // Waits until at least `count` requests have arrived; false after `timeout`.
  bool wait_for(std::size_t count, std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;

 private:
  std::optional<test_support::FakeHttpServer::Response> answer(const test_support::FakeHttpServer::Request& request);

  std::vector<unsigned> script_;
  unsigned then_;
  mutable std::mutex mutex_;
  mutable std::condition_variable arrived_;
  std::vector<ReceivedRequest> requests_;  // guarded by mutex_
  // Last: it calls answer() from its first connection until it is destroyed.
  test_support::FakeHttpServer server_;
};

}  // namespace trellis::server::testing
