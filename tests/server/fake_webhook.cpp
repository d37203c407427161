#include "fake_webhook.hpp"

#include <cctype>

namespace trellis::server::testing {

FakeWebhook::FakeWebhook(std::vector<unsigned> script, unsigned then)
    : script_(std::move(script)), then_(then), server_([this](const auto& request) { return answer(request); }) {}

std::string FakeWebhook::url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(port()) + path;
}

std::vector<ReceivedRequest> FakeWebhook::requests() const {
  std::lock_guard lock(mutex_);
  return requests_;
}

bool FakeWebhook::wait_for(std::size_t count, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return arrived_.wait_for(lock, timeout, [&] { return requests_.size() >= count; });
}

std::optional<test_support::FakeHttpServer::Response> FakeWebhook::answer(
    const test_support::FakeHttpServer::Request& request) {
  ReceivedRequest received;
  received.method = std::string(request.method_string());
  received.target = std::string(request.target());
  for (const auto& field : request) {
    std::string name(field.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    received.headers[name] = std::string(field.value());
  }
  received.body = request.body();
  received.at = std::chrono::steady_clock::now();
  unsigned status = then_;
  {
    std::lock_guard lock(mutex_);
    if (requests_.size() < script_.size()) status = script_[requests_.size()];
    requests_.push_back(std::move(received));
  }
  arrived_.notify_all();
  if (status == 0) return std::nullopt;
  test_support::FakeHttpServer::Response response{static_cast<http::status>(status), 11};
  response.body() = "ok";
  return response;
}

}  // namespace trellis::server::testing
