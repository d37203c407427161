#include "fake_webhook.hpp"

#include <cctype>

namespace trellis::server::testing {

FakeWebhook::FakeWebhook(std::vector<unsigned> script, unsigned then)
    : script_(std::move(script)), then_(then), acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
  port_ = acceptor_.local_endpoint().port();
  thread_ = std::thread([this] { run(); });
}

FakeWebhook::~FakeWebhook() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  // A blocking accept() only returns for a connection: make one.
  beast::error_code ignored;
  tcp::socket wake(io_);
  wake.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_), ignored);
  thread_.join();
}

std::string FakeWebhook::url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + path;
}

std::vector<ReceivedRequest> FakeWebhook::requests() const {
  std::lock_guard lock(mutex_);
  return requests_;
}

bool FakeWebhook::wait_for(std::size_t count, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return arrived_.wait_for(lock, timeout, [&] { return requests_.size() >= count; });
}

void FakeWebhook::run() {
  for (;;) {
    beast::error_code ec;
    tcp::socket socket(io_);
    acceptor_.accept(socket, ec);
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
    }
    if (ec) continue;
    beast::flat_buffer buffer;
    http::request<http::string_body> request;
    http::read(socket, buffer, request, ec);
    if (ec) continue;
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
    if (status == 0) {
      held_.push_back(std::move(socket));
      continue;
    }
    http::response<http::string_body> response{static_cast<http::status>(status), 11};
    response.body() = "ok";
    response.keep_alive(false);
    response.prepare_payload();
    http::write(socket, response, ec);
    socket.shutdown(tcp::socket::shutdown_both, ec);
  }
}

}  // namespace trellis::server::testing
