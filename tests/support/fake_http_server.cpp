#include "fake_http_server.hpp"

namespace trellis::test_support {

namespace asio = server::asio;
namespace beast = server::beast;
namespace http = server::http;
using server::tcp;

FakeHttpServer::FakeHttpServer(Handler handler)
    : handler_(std::move(handler)), acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
  port_ = acceptor_.local_endpoint().port();
  acceptor_thread_ = std::thread([this] { accept_loop(); });
}

void FakeHttpServer::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  // A blocking accept() only returns for a connection: make one.
  beast::error_code ignored;
  tcp::socket wake(io_);
  wake.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_), ignored);
  acceptor_thread_.join();
  acceptor_.close(ignored);
  for (auto& connection : connections_) connection.join();
  held_.clear();
}

void FakeHttpServer::accept_loop() {
  for (;;) {
    beast::error_code ec;
    tcp::socket socket(io_);
    acceptor_.accept(socket, ec);
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    if (ec) continue;
    connections_.emplace_back([this, s = std::move(socket)]() mutable { serve(std::move(s)); });
  }
}

void FakeHttpServer::serve(tcp::socket socket) {
  beast::error_code ec;
  beast::flat_buffer buffer;
  Request request;
  http::read(socket, buffer, request, ec);
  if (ec) return;
  auto response = handler_(request);
  if (!response) {
    std::lock_guard lock(mutex_);
    held_.push_back(std::move(socket));
    return;
  }
  response->keep_alive(false);
  response->prepare_payload();
  http::write(socket, *response, ec);
  socket.shutdown(tcp::socket::shutdown_both, ec);
}

}  // namespace trellis::test_support
