#include "server_process.hpp"

#include <thread>

#include "beast.hpp"

namespace trellis::test_support {

namespace asio = server::asio;
namespace beast = server::beast;
namespace http = server::http;
using server::tcp;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

constexpr milliseconds kStartTimeout{10000};  // from spawn to /healthz answering

bool answers_healthz(std::uint16_t port, milliseconds timeout) {
  asio::io_context io;
  beast::tcp_stream stream(io);
  http::request<http::empty_body> request{http::verb::get, "/healthz", 11};
  request.set(http::field::host, "127.0.0.1");
  beast::flat_buffer buffer;
  http::response<http::string_body> response;
  bool healthy = false;
  stream.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), [&](beast::error_code ec) {
    if (ec) return;
    http::async_write(stream, request, [&](beast::error_code write_ec, std::size_t) {
      if (write_ec) return;
      http::async_read(stream, buffer, response, [&](beast::error_code read_ec, std::size_t) {
        healthy = !read_ec && response.result() == http::status::ok;
      });
    });
  });
  io.run_for(timeout);
  return healthy;
}

bool ServerProcess::start(std::uint16_t port) {
  port_ = port;
  std::filesystem::create_directories(options_.folder / "web");
  std::vector<std::string> args{options_.binary.string(),
                                "serve",
                                "--port", std::to_string(port),
                                "--dialogs", options_.dialogs.string(),
                                "--database", (options_.folder / "trellis.db").string(),
                                "--web-root", (options_.folder / "web").string(),
                                "--threads", "2"};
  auto environment = environment_without_trellis();
  // The rate limit is for people; test clients answer as fast as the server commits.
  environment.emplace_back("TRELLIS_INPUTS_PER_SECOND=1000");
  environment.emplace_back("TRELLIS_INPUT_BURST=10000");
  environment.emplace_back("TRELLIS_SHUTDOWN_GRACE_SECONDS=5");
  for (const auto& variable : options_.environment) environment.push_back(variable);
  if (!process_.spawn(args, environment, log_file())) return false;
  ++starts_;
  const auto deadline = steady_clock::now() + kStartTimeout;
  while (steady_clock::now() < deadline) {
    if (process_.has_exited()) return false;
    if (answers_healthz(port, milliseconds(500))) return true;
    std::this_thread::sleep_for(milliseconds(20));
  }
  process_.kill_now();
  return false;
}

bool ServerProcess::start_anywhere() {
  for (int attempt = 0; attempt < 5; ++attempt) {
    if (start(free_port())) return true;
  }
  return false;
}

bool ServerProcess::restart() {
  for (int attempt = 0; attempt < 5; ++attempt) {
    if (start(port_)) return true;
    std::this_thread::sleep_for(milliseconds(100));
  }
  return false;
}

}  // namespace trellis::test_support
