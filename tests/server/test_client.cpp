#include "test_client.hpp"

#include <stdexcept>

namespace trellis::server::testing {

TestClient::TestClient(std::uint16_t port, std::string origin) : ws_(io_) {
  tcp::resolver resolver(io_);
  auto endpoints = resolver.resolve("127.0.0.1", std::to_string(port));
  beast::get_lowest_layer(ws_).connect(endpoints);
  ws_.set_option(websocket::stream_base::decorator([origin](websocket::request_type& request) {
    if (!origin.empty()) request.set(http::field::origin, origin);
  }));
  ws_.handshake("127.0.0.1:" + std::to_string(port), "/ws");
}

TestClient::TestClient(Unconnected) : ws_(io_) {}

std::unique_ptr<TestClient> TestClient::connect_within(std::uint16_t port, std::chrono::milliseconds timeout) {
  std::unique_ptr<TestClient> client(new TestClient(Unconnected{}));
  auto& ws = client->ws_;
  tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), port);
  std::optional<beast::error_code> result;
  beast::get_lowest_layer(ws).async_connect(endpoint, [&](beast::error_code ec) {
    if (ec) {
      result = ec;
      return;
    }
    ws.async_handshake("127.0.0.1:" + std::to_string(port), "/ws", [&](beast::error_code handshake_ec) {
      result = handshake_ec;
    });
  });
  client->io_.run_for(timeout);
  if (!result || *result) return nullptr;  // the destructor closes the socket, cancelling what is pending
  return client;
}

TestClient::~TestClient() {
  beast::error_code ignored;
  beast::get_lowest_layer(ws_).socket().close(ignored);
}

void TestClient::send(const nlohmann::json& frame) { send_text(frame.dump()); }

void TestClient::send_text(const std::string& text) {
  ws_.text(true);
  ws_.write(asio::buffer(text));
}

std::optional<nlohmann::json> TestClient::read(std::chrono::milliseconds timeout) {
  auto text = read_text(timeout);
  if (!text) return std::nullopt;
  return nlohmann::json::parse(*text);
}

std::optional<std::string> TestClient::read_text(std::chrono::milliseconds timeout) {
  if (close_code_) return std::nullopt;
  if (!read_pending_) {
    read_pending_ = true;
    ws_.async_read(buffer_, [this](beast::error_code ec, std::size_t) {
      read_result_ = ec;
      read_pending_ = false;
    });
  }
  io_.restart();
  io_.run_for(timeout);
  if (read_pending_) return std::nullopt;  // still waiting; the next read() carries on
  if (read_result_) {
    last_error = read_result_;
    // The server's close frame may arrive even when answering it fails (the server
    // may tear the connection down right after an abusive frame).
    if (read_result_ == websocket::error::closed || ws_.reason().code != 0) close_code_ = ws_.reason().code;
    else close_code_ = 1006;
    return std::nullopt;
  }
  auto text = beast::buffers_to_string(buffer_.data());
  buffer_.consume(buffer_.size());
  return text;
}

nlohmann::json TestClient::read_until(const std::string& type, std::vector<nlohmann::json>* skipped) {
  for (int i = 0; i < 200; ++i) {
    auto frame = read();
    if (!frame) throw std::runtime_error("no '" + type + "' frame arrived");
    if ((*frame)["type"] == type) return *frame;
    if (skipped) skipped->push_back(*frame);
  }
  throw std::runtime_error("too many frames before '" + type + "'");
}

std::vector<nlohmann::json> TestClient::read_turn() {
  std::vector<nlohmann::json> frames;
  for (int i = 0; i < 200; ++i) {
    auto frame = read();
    if (!frame) break;
    frames.push_back(*frame);
    auto type = (*frame)["type"];
    if (type == "prompt" || type == "end" || type == "error") break;
  }
  return frames;
}

bool TestClient::is_open() const { return ws_.is_open() && !close_code_; }

void TestClient::close() {
  beast::error_code ignored;
  ws_.close(websocket::close_code::normal, ignored);
}

HttpReply http_get(std::uint16_t port, const std::string& target) { return http_request(port, http::verb::get, target); }

HttpReply http_request(std::uint16_t port, http::verb method, const std::string& target, const std::string& if_none_match) {
  asio::io_context io;
  beast::tcp_stream stream(io);
  tcp::resolver resolver(io);
  stream.connect(resolver.resolve("127.0.0.1", std::to_string(port)));
  http::request<http::empty_body> request{method, target, 11};
  request.set(http::field::host, "127.0.0.1");
  if (!if_none_match.empty()) request.set(http::field::if_none_match, if_none_match);
  http::write(stream, request);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);
  parser.skip(method == http::verb::head);  // a HEAD answer announces a body it does not send
  http::read(stream, buffer, parser);
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  const auto& response = parser.get();
  return {static_cast<int>(response.result_int()), response.body(), std::string(response[http::field::content_type]),
          std::string(response[http::field::cache_control]), std::string(response[http::field::etag]),
          std::string(response[http::field::content_length])};
}

}  // namespace trellis::server::testing
